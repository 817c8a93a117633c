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

    /// A client that sends a search's headers and then one body byte every `interval` seconds, until the server
    /// closes the connection or `limit` seconds pass. Returns the status line it got and when it was closed.
    /// Blocking, on a thread of its own: with the whole suite running, the shared pool's few threads can be busy
    /// for minutes, and a client that waits for one measures the test process, not the server.
    static func trickle(port: Int, interval: Double, limit: Double) -> (status: String?, closedAfter: Double?) {
        guard let connection = try? RawConnection(port: port) else { return (nil, nil) }
        let start = Date()
        guard connection.send("POST /v1/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n"
                              + "Content-Length: 100000\r\n\r\n") else { return (nil, 0) }
        while Date().timeIntervalSince(start) < limit {
            guard connection.send([0xFF]) else { return (connection.statusLine, Date().timeIntervalSince(start)) }
            let until = Date().addingTimeInterval(interval)
            while Date() < until {
                if connection.receive(waiting: 0.1) { return (connection.statusLine, Date().timeIntervalSince(start)) }
            }
        }
        return (connection.statusLine, nil)
    }

    /// `count` trickling clients, each on its own thread.
    static func trickles(_ count: Int, port: Int, interval: Double, limit: Double) async -> [(String?, Double?)] {
        await withCheckedContinuation { continuation in
            let results = LockedResults()
            let group = DispatchGroup()
            for _ in 0..<count {
                group.enter()
                Thread {
                    results.append(trickle(port: port, interval: interval, limit: limit))
                    group.leave()
                }.start()
            }
            group.notify(queue: .global()) { continuation.resume(returning: results.all) }
        }
    }

    @Test func tricklingClientsGet408AndNeverStallSearches() async throws {
        // The defaults: a body must average 4 KiB/s after 5 s, and arrive within 60 s.
        let server = try LiveServer()
        defer { server.stop() }
        let port = server.port
        // 70 clients each announcing a 100 kB search and sending one byte every 5 s: before the fix each took
        // a queue place (2 workers + 64 waiting) and every real search got 503.
        let trickles = Task { await Self.trickles(70, port: port, interval: 5, limit: 30) }
        try await Task.sleep(for: .seconds(1))
        let photo = Fixture.photo("Tiger_Woods", 1)
        var statuses: [Int] = []
        for _ in 0..<20 { statuses.append(try await server.search(photo).status) }
        let answered = statuses.filter { $0 == 200 }.count
        #expect(answered >= 18, "at least 90% of searches answered while 70 clients trickle: \(statuses)")

        let results = await trickles.value
        #expect(results.allSatisfy { $0.0 == "HTTP/1.1 408 Request Timeout" }, "\(Set(results.map { $0.0 ?? "none" }))")
        let latest = results.compactMap(\.1).max() ?? .infinity
        #expect(results.allSatisfy { $0.1 != nil } && latest < 15,
                "closed within the rate check's 5 s grace (plus a byte interval), latest \(latest) s")
        let metrics = String(decoding: try await server.request("/metrics").body, as: UTF8.self)
        #expect(metrics.contains("facefind_http_slow_clients_total 70"))
        #expect(metrics.contains(#"facefind_http_requests_total{method="POST",route="/v1/search",status="408"} 70"#))
    }

    @Test func sigtermWithATricklingClientExitsWithinTheGracePeriod() async throws {
        let server = try LiveServer(arguments: ["--shutdown-grace", "2"])
        let connection = try RawConnection(port: server.port)
        // Fast enough to pass the minimum rate, far too long to finish: 10 MB at 16 kB/s.
        #expect(connection.send("POST /v1/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n"
                                + "Content-Length: 10000000\r\n\r\n"))
        let idle = try RawConnection(port: server.port)  // an idle keep-alive connection too
        for _ in 0..<8 {
            connection.send([UInt8](repeating: 0, count: 8192))
            try await Task.sleep(for: .milliseconds(500))
        }
        let start = Date()
        kill(server.process.processIdentifier, SIGTERM)
        while server.process.isRunning, Date().timeIntervalSince(start) < 30 {
            connection.send([UInt8](repeating: 0, count: 8192))
            try await Task.sleep(for: .milliseconds(250))
        }
        let elapsed = Date().timeIntervalSince(start)
        #expect(!server.process.isRunning && elapsed < 2 + 3, "exits after the 2 s grace period, took \(elapsed) s")
        #expect(server.stop() == 0)
        _ = idle
    }
}

/// Results gathered from several threads.
private final class LockedResults: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [(String?, Double?)] = []
    func append(_ result: (String?, Double?)) { lock.withLock { results.append(result) } }
    var all: [(String?, Double?)] { lock.withLock { results } }
}
