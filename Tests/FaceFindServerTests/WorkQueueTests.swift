import Foundation
import Testing

@testable import FaceFindServer

/// The bounded worker pool behind inference and storage.
@Suite struct WorkQueueTests {
    @Test func admitsAtMostWorkersPlusCapacity() throws {
        let queue = WorkQueue(name: "test", workers: 2, capacity: 3)
        defer { queue.shutdown() }
        var held: [Admission] = []
        for _ in 0..<5 { held.append(try queue.admit()) }
        #expect(queue.stats.waiting == 5)
        #expect(throws: APIError.self) { try queue.admit() }
        held.removeLast()  // dropped unused: its place comes back
        #expect(queue.stats.waiting == 4)
        held.append(try queue.admit())
        #expect(throws: APIError.self) { try queue.admit() }
        held.removeAll()
        #expect(queue.stats == WorkQueue.Stats(workers: 2, capacity: 3, running: 0, waiting: 0))
    }

    @Test func runsJobsOnAtMostItsWorkers() async throws {
        let queue = WorkQueue(name: "test", workers: 2, capacity: 16)
        defer { queue.shutdown() }
        let counter = Concurrency()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<10 {
                let admission = try queue.admit()
                group.addTask {
                    try await admission.run { _ in
                        counter.enter()
                        Thread.sleep(forTimeInterval: 0.01)
                        counter.leave()
                        return i
                    }
                }
            }
            var results: [Int] = []
            for try await value in group { results.append(value) }
            #expect(results.sorted() == Array(0..<10))
        }
        #expect(counter.maximum == 2)
        #expect(queue.stats.running == 0 && queue.stats.waiting == 0)
    }

    @Test func passesErrorsBack() async throws {
        let queue = WorkQueue(name: "test", workers: 1, capacity: 1)
        defer { queue.shutdown() }
        await #expect(throws: APIError.self) {
            try await queue.run { _ -> Int in throw APIError.badRequest("no") }
        }
        #expect(try await queue.run { _ in 42 } == 42)
    }

    @Test func shutdownFinishesAdmittedJobsThenRefuses() async throws {
        let queue = WorkQueue(name: "test", workers: 1, capacity: 8)
        let done = Concurrency()
        let admissions = try (0..<4).map { _ in try queue.admit() }
        let tasks = admissions.map { admission in
            Task {
                try await admission.run { _ in
                    Thread.sleep(forTimeInterval: 0.02)
                    done.enter()
                }
            }
        }
        // Shut down while the jobs are queued or running, from a thread of its own (shutdown blocks until
        // the jobs are done, which must not hold a thread of Swift's small cooperative pool).
        await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
            Thread { queue.shutdown(); finished.resume() }.start()
        }
        for task in tasks { try await task.value }
        #expect(done.entered == 4, "every admitted job ran")
        let refused = #expect(throws: APIError.self) { try queue.admit() }
        #expect(refused?.code == "shutting_down")
    }
}

/// Counts how many callers are inside at once.
/// The bulk lane (issue 25, item 7): many-face jobs never take every worker, and a normal job runs first.
@Suite struct WorkQueueLaneTests {
    /// Two workers, three bulk jobs held open: one runs, two wait, and a normal job admitted after them runs
    /// on the other worker and finishes while they are still held. Before the lanes it waited behind them.
    @Test func bulkJobsLeaveAWorkerToNormalOnes() async throws {
        let queue = WorkQueue(name: "test", workers: 2, capacity: 8)
        defer { queue.shutdown() }
        #expect(queue.bulkWorkers == 1 && queue.bulkAdmissions == 1 + 4)
        let release = DispatchSemaphore(value: 0)
        let bulk = Concurrency()
        let held = try (0..<3).map { _ in try queue.admit(.bulk) }
        let tasks = held.map { admission in
            Task {
                try await admission.run { _ in
                    bulk.enter()
                    release.wait()
                    bulk.leave()
                }
            }
        }
        // Wait (at most 10 s) until the first bulk job holds its worker.
        for _ in 0..<1000 where bulk.entered == 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(bulk.entered == 1)
        let answer = try await queue.run(.normal) { _ in bulk.entered }
        #expect(answer == 1, "the normal job ran while only one bulk job had started")
        for _ in 0..<3 { release.signal() }
        for task in tasks { try await task.value }
        #expect(bulk.maximum == 1 && bulk.entered == 3)
    }

    /// Bulk jobs hold at most their share of the waiting places: beyond it they get 503 while normal jobs are
    /// still admitted.
    @Test func bulkJobsHoldHalfTheWaitingPlaces() throws {
        let queue = WorkQueue(name: "test", workers: 2, capacity: 4)
        defer { queue.shutdown() }
        var held: [Admission] = []
        for _ in 0..<queue.bulkAdmissions { held.append(try queue.admit(.bulk)) }
        #expect(held.count == 3)
        #expect(throws: APIError.self) { try queue.admit(.bulk) }
        for _ in 0..<3 { held.append(try queue.admit(.normal)) }
        #expect(throws: APIError.self) { try queue.admit(.normal) }
        held.removeAll()
        #expect(queue.stats.waiting == 0)
        _ = try queue.admit(.bulk)  // places given back
    }
}

final class Concurrency: @unchecked Sendable {
    private let lock = NSLock()
    private var inside = 0
    private(set) var maximum = 0
    private(set) var entered = 0

    func enter() {
        lock.withLock {
            inside += 1
            entered += 1
            maximum = max(maximum, inside)
        }
    }

    func leave() { lock.withLock { inside -= 1 } }
}
