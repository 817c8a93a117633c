import Foundation

/// A fixed set of threads running synchronous, CPU- or disk-bound jobs (ONNX inference, decoding, SQLite) off
/// the event loops and Swift's cooperative pool, with a hard bound on admitted work.
///
/// A request is first *admitted* (once its body has arrived, so that a slow client never holds a place), then
/// *runs* its job. Admission fails at once when `workers + capacity` jobs are already admitted, so an
/// overloaded server answers 503 in microseconds instead of queueing work until clients time out: memory for
/// queued work is bounded by `(workers + capacity) * maxBodyBytes`.
final class WorkQueue: @unchecked Sendable {
    struct Stats: Sendable, Codable, Equatable {
        var workers: Int
        var capacity: Int
        var running: Int
        var waiting: Int
    }

    let name: String
    let workers: Int
    /// Jobs allowed to wait beyond those running.
    let capacity: Int
    private let metrics: ServerMetrics?
    private let retryAfter: Int

    // All mutable state below is guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var admitted = 0
    private var running = 0
    private var closed = false
    private var liveThreads = 0

    init(name: String, workers: Int, capacity: Int, retryAfter: Int = 1, metrics: ServerMetrics? = nil) {
        self.name = name
        self.workers = max(1, workers)
        self.capacity = max(0, capacity)
        self.retryAfter = retryAfter
        self.metrics = metrics
        liveThreads = self.workers
        for index in 0..<self.workers {
            let thread = Thread { [self] in work() }
            thread.name = "facefind-\(name)-\(index)"
            thread.start()
        }
        metrics?.queue(name, running: 0, waiting: 0)
    }

    var stats: Stats {
        condition.lock()
        defer { condition.unlock() }
        return Stats(workers: workers, capacity: capacity, running: running, waiting: admitted - running)
    }

    /// Reserves a place for one job, or throws 503 (queue full) or 503 (shutting down).
    func admit() throws -> Admission {
        condition.lock()
        if closed {
            condition.unlock()
            throw APIError.shuttingDown()
        }
        guard admitted < workers + capacity else {
            condition.unlock()
            metrics?.rejected(queue: name)
            throw APIError.overloaded(retryAfter: retryAfter, what: name)
        }
        admitted += 1
        let (r, w) = (running, admitted - running)
        condition.unlock()
        metrics?.admitted(queue: name)
        metrics?.queue(name, running: r, waiting: w)
        return Admission(queue: self)
    }

    /// Admits and runs `body` in one step, for callers with nothing to do between the two.
    func run<T: Sendable>(_ body: @escaping @Sendable (_ waited: Double) throws -> T) async throws -> T {
        try await admit().run(body)
    }

    /// Stops admitting, lets the threads finish every job already queued, and waits for them to exit.
    func shutdown() {
        condition.lock()
        closed = true
        condition.broadcast()
        while liveThreads > 0 { condition.wait() }
        condition.unlock()
    }

    fileprivate func enqueue(_ job: @escaping () -> Void) {
        condition.lock()
        guard liveThreads > 0 else {
            // Only after shutdown (no handler should get here then): run it here rather than never.
            condition.unlock()
            job()
            release()
            return
        }
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    fileprivate func recordWait(_ seconds: Double) {
        metrics?.stage("queue_wait_\(name)", seconds: seconds)
    }

    /// Gives back an admission whose job never ran (the body could not be read, the request was invalid).
    fileprivate func release() {
        condition.lock()
        admitted -= 1
        let (r, w) = (running, admitted - running)
        condition.unlock()
        metrics?.queue(name, running: r, waiting: w)
    }

    private func work() {
        while true {
            condition.lock()
            while jobs.isEmpty && !closed { condition.wait() }
            if jobs.isEmpty {  // closed and drained
                liveThreads -= 1
                condition.broadcast()
                condition.unlock()
                return
            }
            // removeFirst is O(n), but n is bounded by workers + capacity.
            let job = jobs.removeFirst()
            running += 1
            var (r, w) = (running, admitted - running)
            condition.unlock()
            metrics?.queue(name, running: r, waiting: w)

            job()

            condition.lock()
            running -= 1
            admitted -= 1
            (r, w) = (running, admitted - running)
            condition.unlock()
            metrics?.queue(name, running: r, waiting: w)
        }
    }
}

/// A place in a `WorkQueue`, used once by `run`. Dropping it unused gives the place back, so an early
/// return or a thrown error cannot leak capacity.
final class Admission: @unchecked Sendable {
    private let queue: WorkQueue
    private let lock = NSLock()
    private var used = false

    fileprivate init(queue: WorkQueue) { self.queue = queue }

    deinit {
        if !lock.withLock({ used }) { queue.release() }
    }

    /// Runs `body` on one of the queue's threads and returns its result; `body` gets the seconds the job
    /// waited for a thread. The job is never abandoned once queued (an ONNX call cannot be interrupted); a
    /// client that goes away just doesn't read the answer.
    func run<T: Sendable>(_ body: @escaping @Sendable (_ waited: Double) throws -> T) async throws -> T {
        let alreadyUsed = lock.withLock {
            defer { used = true }
            return used
        }
        precondition(!alreadyUsed, "an admission runs one job")
        let queued = ContinuousClock.now
        let queue = self.queue
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            queue.enqueue {
                let waited = (ContinuousClock.now - queued).seconds
                queue.recordWait(waited)
                continuation.resume(with: Result { try body(waited) })
            }
        }
    }
}
