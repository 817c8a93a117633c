import FaceFind
import Foundation
import Testing

@testable import FaceFindServer

/// `facefind serve` as a process: graceful shutdown on SIGTERM, and 503 (not time-outs) beyond the queue.
/// Serialized: each test loads the models in its own server process, and two at once on two cores would
/// mostly measure each other.
@Suite(.serialized) struct LiveServerTests {
    @Test func sigtermFinishesInFlightRequestsAndKeepsTheStore() async throws {
        // One worker, so the requests queue up behind each other and are still in flight at SIGTERM.
        let server = try LiveServer(arguments: ["--threads", "1", "--queue", "16"])
        let photo = Fixture.photo("Tiger_Woods", 1)
        let addition = try Fixture.bytes(Fixture.photo("Jennifer_Aniston", 2))
        let admittedBefore = try await server.admittedJobs()
        async let searches: [Int] = withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<6 {
                group.addTask { try await server.search(photo).status }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        async let added = server.request("/v1/gallery?name=Late", method: "POST", body: addition, type: "image/jpeg",
                                         key: Fixture.apiKey)
        // Wait until the server has admitted all seven requests, then ask it to stop. A request still on its
        // way at SIGTERM would rightly be refused, so the test must not stop the server before the slowest one
        // arrives (on a loaded machine that takes a while). The server's own count of admissions is exact;
        // inferring it from queue depths and answers seen by the client races with the worker threads.
        let deadline = Date().addingTimeInterval(60)
        while try await server.admittedJobs() < admittedBefore + 7 {
            guard Date() < deadline else {
                Issue.record("the server admitted only \(try await server.admittedJobs() - admittedBefore) of 7 requests in 60 s")
                break
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        kill(server.process.processIdentifier, SIGTERM)

        let statuses = try await searches
        let addStatus = try await added.status
        #expect(statuses == Array(repeating: 200, count: 6), "every search in flight at SIGTERM is answered")
        #expect(addStatus == 201, "the gallery addition in flight at SIGTERM completes")
        #expect(server.stop() == 0, "exits by itself with status 0")

        // The store is whole: the 12 photos plus the one added during shutdown, each with its faces.
        let store = try SQLiteGalleryStore(path: server.database)
        let counts = try store.counts()
        #expect(counts.images == 13 && counts.failed == 0)
        #expect(try store.loadFaceMatrix().images.count == 13)
    }

    @Test func burstBeyondTheQueueGets503NotTimeouts() async throws {
        // Room for 1 running + 2 waiting; 16 clients at once.
        let server = try LiveServer(arguments: ["--threads", "1", "--queue", "2"])
        defer { server.stop() }
        let photo = Fixture.photo("Tiger_Woods", 1)
        let start = Date()
        let answers = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for _ in 0..<16 {
                group.addTask {
                    let response = try await server.search(photo)
                    return (response.status, response.headers["retry-after"])
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let elapsed = Date().timeIntervalSince(start)
        let ok = answers.filter { $0.0 == 200 }.count
        let busy = answers.filter { $0.0 == 503 }
        #expect(ok + busy.count == 16, "only 200 or 503: \(answers.map(\.0))")
        #expect(ok >= 3, "the queue's places are served")
        #expect(busy.count >= 1, "beyond the queue: 503")
        #expect(busy.allSatisfy { $0.1 == "1" }, "503 carries Retry-After")
        #expect(elapsed < 20, "answered promptly, nothing waits for a time-out (\(elapsed) s)")
        #expect(try await server.search(photo).status == 200, "serves again once the burst is over")
    }
}
