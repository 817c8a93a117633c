import Foundation

/// A fixed set of threads running synchronous, CPU- or disk-bound jobs (ONNX inference, decoding, SQLite) off
/// the event loops and Swift's cooperative pool, with a hard bound on admitted work.
///
/// A request is first *admitted* (once its body has arrived, so that a slow client never holds a place), then
/// *runs* its job. Admission fails at once when `workers + capacity` jobs are already admitted, so an
/// overloaded server answers 503 in microseconds instead of queueing work until clients time out: memory for
/// queued work is bounded by `(workers + capacity) * maxBodyBytes`.
///
/// Jobs that may embed many faces of one photo (`/v1/embed`, `face=all`) go in the `.bulk` lane: they run on at
/// most `bulkWorkers` threads (half the workers, at least one) and hold at most half of the waiting places, and
/// a free thread takes a waiting normal job (a search of one face) before any bulk one. With 2 workers one thread
/// is thus always left to searches, however many group photos are being embedded.
final class WorkQueue: @unchecked Sendable {
    enum Lane: Sendable { case normal, bulk }

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
    /// Threads that may run bulk jobs at once.
    let bulkWorkers: Int
    /// Bulk jobs admitted at once (running or waiting).
    let bulkAdmissions: Int
    private let metrics: ServerMetrics?
    private let retryAfter: Int

    // All mutable state below is guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [(lane: Lane, run: () -> Void)] = []
    private var admitted = 0
    private var running = 0
    private var bulkAdmitted = 0
    private var bulkRunning = 0
    private var closed = false
    private var liveThreads = 0

    init(name: String, workers: Int, capacity: Int, retryAfter: Int = 1, metrics: ServerMetrics? = nil) {
        self.name = name
        self.workers = max(1, workers)
        self.capacity = max(0, capacity)
        bulkWorkers = max(1, self.workers / 2)
        bulkAdmissions = bulkWorkers + self.capacity / 2
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

    /// Reserves a place for one job in `lane`, or throws 503 (queue full, or the bulk lane's share of it) or
    /// 503 (shutting down).
    func admit(_ lane: Lane = .normal) throws -> Admission {
        condition.lock()
        if closed {
            condition.unlock()
            throw APIError.shuttingDown()
        }
        guard admitted < workers + capacity, lane == .normal || bulkAdmitted < bulkAdmissions else {
            condition.unlock()
            metrics?.rejected(queue: name)
            throw APIError.overloaded(retryAfter: retryAfter, what: name)
        }
        admitted += 1
        if lane == .bulk { bulkAdmitted += 1 }
        let (r, w) = (running, admitted - running)
        condition.unlock()
        metrics?.admitted(queue: name)
        metrics?.queue(name, running: r, waiting: w)
        return Admission(queue: self, lane: lane)
    }

    /// Admits and runs `body` in one step, for callers with nothing to do between the two.
    func run<T: Sendable>(_ lane: Lane = .normal,
                          _ body: @escaping @Sendable (_ waited: Double) throws -> T) async throws -> T {
        try await admit(lane).run(body)
    }

    /// Stops admitting, lets the threads finish every job already queued, and waits for them to exit.
    func shutdown() {
        condition.lock()
        closed = true
        condition.broadcast()
        while liveThreads > 0 { condition.wait() }
        condition.unlock()
    }

    fileprivate func enqueue(_ job: @escaping () -> Void, lane: Lane) {
        condition.lock()
        guard liveThreads > 0 else {
            // Only after shutdown (no handler should get here then): run it here rather than never.
            condition.unlock()
            job()
            release(lane)
            return
        }
        jobs.append((lane, job))
        // Broadcast: the thread woken must be one free to take this job's lane.
        condition.broadcast()
        condition.unlock()
    }

    fileprivate func recordWait(_ seconds: Double) {
        metrics?.stage("queue_wait_\(name)", seconds: seconds)
    }

    /// Gives back an admission whose job never ran (the body could not be read, the request was invalid).
    fileprivate func release(_ lane: Lane) {
        condition.lock()
        admitted -= 1
        if lane == .bulk { bulkAdmitted -= 1 }
        let (r, w) = (running, admitted - running)
        condition.unlock()
        metrics?.queue(name, running: r, waiting: w)
    }

    /// The job a free thread takes: the first normal one, else the first bulk one while fewer than
    /// `bulkWorkers` run. Called with `condition` locked.
    private func nextJob() -> Int? {
        if let normal = jobs.firstIndex(where: { $0.lane == .normal }) { return normal }
        return bulkRunning < bulkWorkers && !jobs.isEmpty ? 0 : nil
    }

    private func work() {
        while true {
            condition.lock()
            var next = nextJob()
            // A bulk job waiting for its lane is still work to drain at shutdown.
            while next == nil && !(closed && jobs.isEmpty) {
                condition.wait()
                next = nextJob()
            }
            guard let next else {  // closed and drained
                liveThreads -= 1
                condition.broadcast()
                condition.unlock()
                return
            }
            // remove(at:) is O(n), but n is bounded by workers + capacity.
            let job = jobs.remove(at: next)
            running += 1
            if job.lane == .bulk { bulkRunning += 1 }
            var (r, w) = (running, admitted - running)
            condition.unlock()
            metrics?.queue(name, running: r, waiting: w)

            job.run()

            condition.lock()
            running -= 1
            admitted -= 1
            if job.lane == .bulk {
                bulkRunning -= 1
                bulkAdmitted -= 1
                // A thread may be waiting for this lane to have room.
                condition.broadcast()
            }
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
    private let lane: WorkQueue.Lane
    private let lock = NSLock()
    private var used = false

    fileprivate init(queue: WorkQueue, lane: WorkQueue.Lane) {
        self.queue = queue
        self.lane = lane
    }

    deinit {
        if !lock.withLock({ used }) { queue.release(lane) }
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
        let (queue, lane) = (self.queue, self.lane)
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            queue.enqueue({
                let waited = (ContinuousClock.now - queued).seconds
                queue.recordWait(waited)
                continuation.resume(with: Result { try body(waited) })
            }, lane: lane)
        }
    }
}
