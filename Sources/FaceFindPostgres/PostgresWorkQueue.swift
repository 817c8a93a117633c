import FaceFind
import Foundation
import PostgresNIO

/// Indexing one folder with several processes, on one machine or many, through the database itself
/// (`facefind index DIR --store postgres://… --workers-shared`): no coordinator of our own.
///
/// Two tables beside the gallery's:
/// - `index_runs(root PRIMARY KEY, started_at, finished_at, started_by)`: one run per folder at a time;
/// - `index_queue(root, path, state pending|claimed|done, worker, lease_until, finished_at)`: the run's files.
///
/// The first worker of a run lists the folder and enqueues the files that are new or changed since the gallery
/// last saw them (the others wait on the run's row lock, then join). Every worker then claims a few files at a
/// time with `FOR UPDATE SKIP LOCKED` (never the same file as another), for a lease; a file whose lease ran out
/// (its worker was killed) is claimed again by whoever asks next. A photo is stored once whatever happens: the
/// gallery replaces by path, so a file indexed twice after a lease ran out still has one row.
extension PostgresGalleryStore {
    /// One file list's state in a shared run, for `facefind status`.
    public struct SharedRun: Sendable, Codable, Equatable {
        public struct Worker: Sendable, Codable, Equatable {
            public var worker: String
            /// Files it holds now under a lease that has not run out.
            public var claimed: Int
            public var done: Int
            public var lastDone: Date?
        }

        public var root: String
        public var startedAt: Date?
        public var finishedAt: Date?
        public var startedBy: String?
        public var pending: Int
        /// Files claimed under a lease that has not run out, and those whose lease ran out (to be claimed again).
        public var claimed: Int
        public var expired: Int
        public var done: Int
        public var workers: [Worker]
    }

    private var runs: String { "\(Self.quoted(options.schema)).index_runs" }
    private var queue: String { "\(Self.quoted(options.schema)).index_queue" }

    private func createQueueTables(_ db: PostgresSession.Handle) throws {
        try db.query("SELECT pg_advisory_xact_lock(hashtext(\("facefind.queue." + options.schema)))")
        try db.query(PostgresQuery(unsafeSQL: """
            CREATE TABLE IF NOT EXISTS \(runs) (
                root text PRIMARY KEY, started_at timestamptz, finished_at timestamptz, started_by text)
            """))
        try db.query(PostgresQuery(unsafeSQL: """
            CREATE TABLE IF NOT EXISTS \(queue) (
                root text NOT NULL, path text NOT NULL,
                state text NOT NULL CHECK (state IN ('pending', 'claimed', 'done')),
                worker text, lease_until timestamptz, finished_at timestamptz,
                PRIMARY KEY (root, path))
            """))
    }

    /// Joins the shared run of the folder `root`, starting one when none is in progress. Only the worker that
    /// starts it calls `plan`, which returns the files to enqueue (new or changed ones); the others wait for it
    /// to finish planning. Returns whether this worker started the run.
    public func joinSharedRun(root: String, worker: String, plan: () throws -> [String]) throws -> Bool {
        try session.run(transaction: true) { db in try createQueueTables(db) }
        return try session.run(transaction: true) { db in
            try db.query("INSERT INTO \(unescaped: runs) (root) VALUES (\(root)) ON CONFLICT DO NOTHING")
            // The row lock makes workers arriving together wait here until the first has planned the run.
            let row = try db.query("""
                SELECT started_at IS NOT NULL AND finished_at IS NULL FROM \(unescaped: runs) WHERE root = \(root) FOR UPDATE
                """).first
            if try row?.decode(Bool.self) == true { return false }
            // The files of earlier runs stay listed as done (status shows the folder's whole progress); those
            // planned now are pending again.
            let files = try plan()
            for start in stride(from: 0, to: files.count, by: 10_000) {
                let chunk = Array(files[start..<min(start + 10_000, files.count)])
                try db.query("""
                    INSERT INTO \(unescaped: queue) (root, path, state) SELECT \(root), p, 'pending' FROM unnest(\(chunk)::text[]) AS p
                    ON CONFLICT (root, path) DO UPDATE SET state = 'pending', worker = NULL, lease_until = NULL, finished_at = NULL
                    """)
            }
            try db.query("""
                UPDATE \(unescaped: runs) SET started_at = now(), finished_at = NULL, started_by = \(worker) WHERE root = \(root)
                """)
            return true
        }
    }

    /// Claims up to `limit` files of the run of `root` for `lease` seconds: pending ones first, then those whose
    /// lease ran out. Empty when nothing is claimable now (see `sharedRunHasClaims`).
    public func claim(root: String, worker: String, limit: Int, lease: Double) throws -> [String] {
        try session.run(transaction: true) { db in
            try db.query("""
                UPDATE \(unescaped: queue) q SET state = 'claimed', worker = \(worker),
                    lease_until = now() + make_interval(secs => \(lease))
                FROM (SELECT root, path FROM \(unescaped: queue)
                      WHERE root = \(root) AND (state = 'pending' OR (state = 'claimed' AND lease_until < now()))
                      ORDER BY state DESC, path LIMIT \(limit) FOR UPDATE SKIP LOCKED) c
                WHERE q.root = c.root AND q.path = c.path
                RETURNING q.path
                """).map { try $0.decode(String.self) }
        }
    }

    /// Marks files of this worker's claim done. A file whose lease ran out and was claimed by another worker
    /// meanwhile stays that worker's to finish.
    public func finish(root: String, worker: String, paths: [String]) throws {
        guard !paths.isEmpty else { return }
        try session.run(transaction: true) { db in
            try db.query("""
                UPDATE \(unescaped: queue) SET state = 'done', finished_at = now()
                WHERE root = \(root) AND path = ANY(\(paths)) AND worker = \(worker) AND state = 'claimed'
                """)
        }
    }

    /// Whether files of the run of `root` are still claimed by some worker (their leases may yet run out, so a
    /// worker that found nothing to claim waits for them); when none are, and none pending, the run is marked
    /// finished.
    public func sharedRunHasClaims(root: String) throws -> Bool {
        try session.run(transaction: true) { db in
            let open = try db.query("""
                SELECT count(*) FROM \(unescaped: queue) WHERE root = \(root) AND state <> 'done'
                """).first!.decode(Int.self)
            if open == 0 {
                try db.query("UPDATE \(unescaped: runs) SET finished_at = now() WHERE root = \(root) AND finished_at IS NULL")
            }
            return open > 0
        }
    }

    /// Every shared run in this store, with its workers.
    public func sharedRuns() throws -> [SharedRun] {
        try session.run { db in
            guard try db.query("SELECT to_regclass(\(options.schema + ".index_runs")) IS NOT NULL").first!.decode(Bool.self) else {
                return []
            }
            var result: [SharedRun] = []
            for row in try db.query(PostgresQuery(unsafeSQL: """
                SELECT r.root, r.started_at, r.finished_at, r.started_by,
                       count(*) FILTER (WHERE q.state = 'pending'),
                       count(*) FILTER (WHERE q.state = 'claimed' AND q.lease_until >= now()),
                       count(*) FILTER (WHERE q.state = 'claimed' AND q.lease_until < now()),
                       count(*) FILTER (WHERE q.state = 'done')
                FROM \(runs) r LEFT JOIN \(queue) q ON q.root = r.root
                GROUP BY r.root ORDER BY r.root
                """)) {
                let (root, started, finished, startedBy, pending, claimed, expired, done) =
                    try row.decode((String, Date?, Date?, String?, Int, Int, Int, Int).self)
                result.append(SharedRun(root: root, startedAt: started, finishedAt: finished, startedBy: startedBy,
                                        pending: pending, claimed: claimed, expired: expired, done: done, workers: []))
            }
            for row in try db.query(PostgresQuery(unsafeSQL: """
                SELECT root, worker, count(*) FILTER (WHERE state = 'claimed' AND lease_until >= now()),
                       count(*) FILTER (WHERE state = 'done'), max(finished_at)
                FROM \(queue) WHERE worker IS NOT NULL GROUP BY root, worker ORDER BY root, worker
                """)) {
                let (root, worker, claimed, done, last) = try row.decode((String, String, Int, Int, Date?).self)
                if let i = result.firstIndex(where: { $0.root == root }) {
                    result[i].workers.append(.init(worker: worker, claimed: claimed, done: done, lastDone: last))
                }
            }
            return result
        }
    }
}
