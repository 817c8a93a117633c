import FaceFind
import FaceFindPostgres
import Foundation
import PostgresNIO

/// `facefind bench --synthetic N --store postgres://…`: loads a `SyntheticGallery` into a PostgreSQL store
/// (one synthetic image per face, ids = synthetic index + 1), builds its HNSW index, and measures queries per
/// second and recall@10 against the exact float32 top 10 computed by the caller.
///
/// The gallery goes into its own schema (`bench_<N>_<D>` in the URL's database), left in place so that
/// a re-run with other search settings (`ef_search`, batch size) reuses it when the gallery and index
/// parameters are unchanged; `reuse: false` rebuilds.
public enum PostgresSyntheticBench {
    public struct Options: Sendable {
        /// Queries per statement in the batched measurement.
        public var batchSize = 32
        /// Concurrent connections in the batched measurement (each sending batches).
        public var connections = ProcessInfo.processInfo.activeProcessorCount
        /// Search-time candidate list (`hnsw.ef_search`).
        public var efSearch = 100
        public var metric: HNSWMetric = .cosine
        /// HNSW build parameters.
        public var m = 16
        public var efConstruction = 64
        /// Store vectors as `halfvec` (float16) instead of `vector`.
        public var halfPrecision = false
        /// `maintenance_work_mem` for the build: the graph of 1M 512-d vectors needs about 4 GB to be built in
        /// memory.
        public var maintenanceWorkMem = "6GB"
        /// Parallel workers for the build (besides the leader).
        public var parallelWorkers = 1
        /// Rows per INSERT while loading.
        public var insertRows = 1000
        /// Reuse a loaded and indexed gallery with the same parameters.
        public var reuse = true
        /// Queries timed one by one (the first n; all when nil).
        public var singleQueries: Int?
        /// Queries timed with the index disabled (exact scan in the server), for reference.
        public var exactQueries = 3
        /// Faces stored as whole-image stand-ins (the search benches: every row is a photo of its own); false for
        /// the people bench, since clustering leaves stand-ins out. The two live in different schemas.
        public var wholeImageFaces = true
        /// Untimed queries (other than the measured ones) run first to warm the caches.
        public var warmUpQueries = 512
        /// Further ef_search values measured (single and batched, recall), reported in the notes.
        public var efSearchSweep: [Int] = []

        public init() {}

        /// The defaults, with the index settings the URL gives (`hnsw`, `m`, `ef_construction`, `ef_search`,
        /// `type`, `maintenance_work_mem`).
        public init(url: String) throws {
            let given = try PostgresLocation(url: url).options
            let defaults = PostgresStoreOptions()
            if let metric = given.hnsw { self.metric = metric }
            m = given.m
            efConstruction = given.efConstruction
            efSearch = given.efSearch
            halfPrecision = given.halfPrecision
            if given.maintenanceWorkMem != defaults.maintenanceWorkMem { maintenanceWorkMem = given.maintenanceWorkMem }
        }
    }

    /// The figures for `gallery`: `truth` holds, per query, the synthetic indices of its exact float32 top 10.
    /// Index settings come from the URL's parameters (`?m=16&ef_construction=64&ef_search=100&type=halfvec`),
    /// `efSearch` (when given) overrides its `ef_search`. `log` receives progress lines (loading and building
    /// 1M vectors takes many minutes).
    public static func run(url: String, gallery: SyntheticGallery, queries: [[Float]], truth: [[Int]],
                           batchSize: Int = 32, efSearch: Int? = nil,
                           log: @escaping @Sendable (String) -> Void = { _ in }) throws -> SearchBenchResult {
        var options = try Options(url: url)
        options.batchSize = batchSize
        if let efSearch { options.efSearch = efSearch }
        return try run(url: url, gallery: gallery, queries: queries, truth: truth, options: options, log: log)
    }

    /// The schema a synthetic gallery is loaded into.
    static func schemaName(_ gallery: SyntheticGallery, options: Options) -> String {
        "bench_\(gallery.count)_\(gallery.dimension)" + (options.wholeImageFaces ? "" : "_faces")
    }

    /// The store options of `gallery`'s schema under `options`.
    static func storeConfiguration(_ gallery: SyntheticGallery, options: Options) -> @Sendable (inout PostgresStoreOptions) -> Void {
        let schema = schemaName(gallery, options: options)
        return { store in
            store.schema = schema
            store.hnsw = options.metric
            store.m = options.m
            store.efConstruction = options.efConstruction
            store.efSearch = options.efSearch
            store.halfPrecision = options.halfPrecision
            store.deferIndexBuild = true
            store.maintenanceWorkMem = options.maintenanceWorkMem
        }
    }

    /// The store of `gallery` with its HNSW index, as `run` measures it: the schema `bench_<N>_<D>` reused when it
    /// was built with the same parameters, else loaded and indexed afresh; with the load and build times, and notes.
    public static func prepared(url: String, gallery: SyntheticGallery, options: Options,
                                log: @escaping @Sendable (String) -> Void = { _ in })
        throws -> (store: PostgresGalleryStore, loadSeconds: Double, buildSeconds: Double, notes: [String]) {
        let schema = schemaName(gallery, options: options)
        let configure = storeConfiguration(gallery, options: options)
        var store = try PostgresGalleryStore(url: url, configure: configure)
        let settings = IndexSettings(
            detector: "synthetic", detectorSHA256: "", embedder: "synthetic",
            embedderSHA256: "seed=\(gallery.seed) identities=\(gallery.identities) cos=\(gallery.sameIdentityCosine) effective-dimension=\(gallery.effectiveDimension.map(String.init) ?? "isotropic")",
            crop: "none", normalization: "unit", dimension: gallery.dimension, maxSide: 0, minSide: 0)
        let wanted = [
            "count": String(gallery.count), "type": store.options.vectorType, "metric": options.metric.rawValue,
            "m": String(options.m), "ef_construction": String(options.efConstruction),
        ]
        var notes: [String] = []
        var loadSeconds = 0.0, buildSeconds = 0.0
        let recorded = try readBenchInfo(store)
        if options.reuse, let recorded, wanted.allSatisfy({ recorded[$0.key] == $0.value }),
           (try? store.bind(settings)) != nil, let layout = try store.layout(), layout.hnsw != nil {
            loadSeconds = Double(recorded["load_seconds"] ?? "") ?? 0
            buildSeconds = Double(recorded["build_seconds"] ?? "") ?? 0
            notes.append("gallery and index reused from schema \(schema) (built earlier with the same parameters)")
            log("reusing \(schema): \(gallery.count) vectors, HNSW built in \(String(format: "%.0f", buildSeconds)) s")
        } else {
            try store.destroy()
            store.close()
            store = try PostgresGalleryStore(url: url, configure: configure)
            try store.bind(settings)
            loadSeconds = try load(gallery, into: store, rowsPerStatement: options.insertRows,
                                   wholeImage: options.wholeImageFaces, log: log)
            log(String(format: "loaded %d vectors in %.1f s; building HNSW (m=%d, ef_construction=%d, %@)…",
                       gallery.count, loadSeconds, options.m, options.efConstruction, options.metric.rawValue))
            let backend = try store.session.run { db in try db.query("SELECT pg_backend_pid()").first!.decode(Int32.self) }
            buildSeconds = try store.session.run { db in
                try db.set("max_parallel_maintenance_workers", String(options.parallelWorkers))
                try db.set("maintenance_work_mem", "'\(options.maintenanceWorkMem)'")
                let start = Date()
                try db.query(PostgresQuery(unsafeSQL: PostgresGalleryStore.indexSQL(
                    schema: PostgresGalleryStore.quoted(schema), layout: try store.layout()!, metric: options.metric,
                    options: store.options)))
                return Date().timeIntervalSince(start)
            }
            store.forgetLayoutCache()
            if let hwm = peakRSS(ofProcess: Int(backend)) {
                notes.append("server backend that built the index: peak RSS \(hwm / 1_048_576) MiB")
            }
            try writeBenchInfo(store, wanted.merging([
                "load_seconds": String(format: "%.3f", loadSeconds), "build_seconds": String(format: "%.3f", buildSeconds),
            ]) { $1 })
            log(String(format: "HNSW built in %.1f s", buildSeconds))
        }
        return (store, loadSeconds, buildSeconds, notes)
    }

    public static func run(url: String, gallery: SyntheticGallery, queries: [[Float]], truth: [[Int]],
                           options: Options, log: @escaping @Sendable (String) -> Void = { _ in }) throws -> SearchBenchResult {
        precondition(queries.count == truth.count, "one truth list per query")
        let ready = try prepared(url: url, gallery: gallery, options: options, log: log)
        let (store, loadSeconds, buildSeconds) = (ready.store, ready.loadSeconds, ready.buildSeconds)
        var notes = ready.notes
        let configure = storeConfiguration(gallery, options: options)
        let sizes = try store.sizes()
        notes.append(String(format: "load %.1f s (%.0f rows/s, multi-row INSERT of %d rows), HNSW build %.1f s (m=%d, ef_construction=%d, %@_%@, maintenance_work_mem=%@, %d parallel worker(s))",
                            loadSeconds, Double(gallery.count) / max(loadSeconds, 1e-9), options.insertRows, buildSeconds,
                            options.m, options.efConstruction, store.options.vectorType, options.metric.operatorClass,
                            options.maintenanceWorkMem, options.parallelWorkers))
        notes.append("HNSW index \(sizes.hnswIndex / 1_048_576) MiB; faces table with indexes \(sizes.facesTotal / 1_048_576) MiB; images table \(sizes.imagesTotal / 1_048_576) MiB")

        let metric: DistanceMetric = options.metric == .cosine ? .cosine : .euclidean
        // Warm-up, untimed: other queries of the same gallery bring the index's pages into the caches (a
        // freshly built index was written around shared buffers).
        let warmUp = gallery.queries(options.warmUpQueries, seed: 0x5EED)
        for first in stride(from: 0, to: warmUp.count, by: 64) {
            _ = try store.nearestFaces(Array(warmUp[first..<min(first + 64, warmUp.count)]), limit: 10, metric: metric,
                                       efSearch: options.efSearch)
        }

        let singleCount = min(options.singleQueries ?? queries.count, queries.count)
        let singleTruth = Array(truth.prefix(singleCount))
        /// One query per round trip, through the store's image search: queries/s and recall@10.
        func single(efSearch: Int) throws -> (Double, Double) {
            var found: [[Int]] = []
            found.reserveCapacity(singleCount)
            let start = Date()
            for q in queries.prefix(singleCount) {
                found.append(try store.search(Embedding(q), k: 10, metric: metric, efSearch: efSearch).map { Int($0.imageID) - 1 })
            }
            return (Double(singleCount) / Date().timeIntervalSince(start), recall(found: found, truth: singleTruth))
        }
        let (singleQPS, recallAt10) = try single(efSearch: options.efSearch)
        let searchBackend = try store.session.run { db in try db.query("SELECT pg_backend_pid()").first!.decode(Int32.self) }
        if let hwm = peakRSS(ofProcess: Int(searchBackend)) {
            notes.append("server backend that answered the single queries: peak RSS \(hwm / 1_048_576) MiB (counts the shared buffers it touched)")
        }
        log(String(format: "single: %.0f queries/s, recall@10 %.4f (ef_search %d)", singleQPS, recallAt10, options.efSearch))

        // Batches of queries per statement, over several connections at once.
        let batches = stride(from: 0, to: queries.count, by: max(1, options.batchSize)).map {
            Array(queries[$0..<min($0 + options.batchSize, queries.count)])
        }
        let connections = max(1, min(options.connections, batches.count))
        let stores = try (0..<connections).map { _ in try PostgresGalleryStore(url: url, configure: configure) }
        defer { stores.forEach { $0.close() } }
        func batched(efSearch: Int) throws -> (Double, Double) {
            let results = BatchResults(count: batches.count)
            for s in stores { _ = try s.nearestFaces(Array(queries.prefix(2)), limit: 10, metric: metric, efSearch: efSearch) }
            let start = Date()
            DispatchQueue.concurrentPerform(iterations: connections) { c in
                var b = c
                while b < batches.count {
                    results.set(b, Result { try stores[c].nearestFaces(batches[b], limit: 10, metric: metric, efSearch: efSearch) })
                    b += connections
                }
            }
            let seconds = Date().timeIntervalSince(start)
            let found = try results.all().flatMap { $0 }.map { $0.map { Int($0) - 1 } }
            return (Double(queries.count) / seconds, recall(found: found, truth: truth))
        }
        let (batchQPS, batchRecall) = try batched(efSearch: options.efSearch)
        notes.append(String(format: "single: %d queries one at a time through PostgresGalleryStore.search (k=10, ef_search=%d): %.2f ms/query",
                            singleCount, options.efSearch, 1000 / singleQPS))
        notes.append(String(format: "batched: %d queries, %d per statement (LATERAL join, one index scan each), %d connections: recall@10 %.4f",
                            queries.count, options.batchSize, connections, batchRecall))
        log(String(format: "batched: %.0f queries/s", batchQPS))
        for ef in options.efSearchSweep where ef != options.efSearch {
            let (s, r) = try single(efSearch: ef)
            let (b, rb) = try batched(efSearch: ef)
            notes.append(String(format: "ef_search %d: single %.1f q/s recall@10 %.4f; batched %.1f q/s recall@10 %.4f", ef, s, r, b, rb))
            log(notes.last!)
        }

        // The server's exact search (index disabled), for reference.
        if options.exactQueries > 0 {
            let n = min(options.exactQueries, queries.count)
            let start = Date()
            let exact = try queries.prefix(n).map { q in
                try store.search(Embedding(q), k: 10, metric: metric, exact: true).map { Int($0.imageID) - 1 }
            }
            let seconds = Date().timeIntervalSince(start)
            notes.append(String(format: "exact search in the server (sequential scan, index disabled): %.0f ms/query over %d queries, recall@10 %.4f against the float32 truth",
                                1000 * seconds / Double(n), n, recall(found: exact, truth: Array(truth.prefix(n)))))
        }
        store.close()
        return SearchBenchResult(
            store: "postgres+pgvector \(store.name) (HNSW m=\(options.m) ef_construction=\(options.efConstruction) ef_search=\(options.efSearch))",
            count: gallery.count, dimension: gallery.dimension, precision: store.options.vectorType,
            buildSeconds: loadSeconds + buildSeconds, indexBytes: sizes.hnswIndex,
            singleQueriesPerSecond: singleQPS, batchQueriesPerSecond: batchQPS, batchSize: options.batchSize,
            recallAt10: recallAt10, peakRSSBytes: residentBytesOfThisProcess(), notes: notes)
    }

    /// Inserts the gallery: image and face rows with explicit ids (index + 1), vectors sent as one float4[]
    /// per statement and sliced in the server. The next block is generated while the server inserts the
    /// previous one. Returns the seconds taken.
    static func load(_ gallery: SyntheticGallery, into store: PostgresGalleryStore, rowsPerStatement: Int,
                     wholeImage: Bool = true, log: @Sendable (String) -> Void) throws -> Double {
        let layout = try store.layout()!
        let schema = PostgresGalleryStore.quoted(store.options.schema)
        let d = gallery.dimension
        let rows = max(1, min(rowsPerStatement, 60_000))
        let imagesSQL = """
            INSERT INTO \(schema).images (id, path, sha256, bytes, modified, width, height, status)
            SELECT g, 'synthetic/' || g, '', 0, 0, 0, 0, 'ok' FROM generate_series($1::int8, $2::int8) g
            ON CONFLICT DO NOTHING
            """
        // One parameter per vector: slicing one big array parameter in the server costs about 0.4 ms a row.
        func facesSQL(_ count: Int) -> String {
            let values = (0..<count).map { "(\($0), $\($0 + 2)::real[])" }.joined(separator: ", ")
            return """
                INSERT INTO \(schema).faces (id, image_id, x, y, w, h, score, whole_image, embedding)
                SELECT $1::int8 + v.n, $1::int8 + v.n, 0, 0, 1, 1, 1, \(wholeImage), v.e::\(layout.vectorType)
                FROM (VALUES \(values)) AS v(n, e)
                ON CONFLICT DO NOTHING
                """
        }
        func block(_ start: Int) -> [Float] {
            let range = start..<min(start + rows, gallery.count)
            var values = [Float](repeating: 0, count: range.count * d)
            values.withUnsafeMutableBufferPointer { gallery.fill(range, into: $0) }
            return values
        }
        let begin = Date()
        var lastLog = begin
        var next = block(0)
        var nextStart = 0
        var start = 0
        while start < gallery.count {
            let count = min(rows, gallery.count - start)
            let values = next
            try store.session.run { db in
                var imageBinds = PostgresBindings(capacity: 2)
                imageBinds.append(Int64(start + 1)); imageBinds.append(Int64(start + count))
                var faceBinds = PostgresBindings(capacity: count + 1)
                faceBinds.append(Int64(start + 1))
                for row in 0..<count { faceBinds.append(Float4Array(values[(row * d)..<((row + 1) * d)])) }
                // Both statements queue on the connection; the next block is generated meanwhile.
                let images = db.send(PostgresQuery(unsafeSQL: imagesSQL, binds: imageBinds))
                let faces = db.send(PostgresQuery(unsafeSQL: facesSQL(count), binds: faceBinds))
                if start + count < gallery.count, nextStart != start + count {
                    next = block(start + count)
                    nextStart = start + count
                }
                _ = try images.wait()
                _ = try faces.wait()
            }
            start += count
            if Date().timeIntervalSince(lastLog) > 10 {
                lastLog = Date()
                log(String(format: "loaded %d / %d (%.0f s)", start, gallery.count, lastLog.timeIntervalSince(begin)))
            }
        }
        try store.session.run { db in
            try db.query(PostgresQuery(unsafeSQL: "SELECT setval(pg_get_serial_sequence('\(schema).images', 'id'), \(gallery.count)), setval(pg_get_serial_sequence('\(schema).faces', 'id'), \(gallery.count))"))
            try db.query(PostgresQuery(unsafeSQL: "ANALYZE \(schema).images"))
            try db.query(PostgresQuery(unsafeSQL: "ANALYZE \(schema).faces"))
        }
        return Date().timeIntervalSince(begin)
    }

    private static func readBenchInfo(_ store: PostgresGalleryStore) throws -> [String: String]? {
        let schema = PostgresGalleryStore.quoted(store.options.schema)
        return try store.session.run { db in
            let exists = try db.query("SELECT to_regclass(\(store.options.schema + ".bench")) IS NOT NULL").first!.decode(Bool.self)
            guard exists else { return nil }
            var info: [String: String] = [:]
            for row in try db.query(PostgresQuery(unsafeSQL: "SELECT key, value FROM \(schema).bench")) {
                let (key, value) = try row.decode((String, String).self)
                info[key] = value
            }
            return info
        }
    }

    private static func writeBenchInfo(_ store: PostgresGalleryStore, _ info: [String: String]) throws {
        let schema = PostgresGalleryStore.quoted(store.options.schema)
        try store.session.run(transaction: true) { db in
            try db.query(PostgresQuery(unsafeSQL: "CREATE TABLE IF NOT EXISTS \(schema).bench (key text PRIMARY KEY, value text NOT NULL)"))
            try db.query(PostgresQuery(unsafeSQL: "DELETE FROM \(schema).bench"))
            for (key, value) in info {
                try db.query("INSERT INTO \(unescaped: schema).bench (key, value) VALUES (\(key), \(value))")
            }
        }
    }

    /// VmHWM of a local process (the server backend), when /proc lets us read it.
    static func peakRSS(ofProcess pid: Int) -> Int64? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kB = line.split(separator: " ").compactMap { Int64($0) }.first
            return kB.map { $0 * 1024 }
        }
        return nil
    }

    /// This process's resident memory now (VmRSS): its own high-water mark would include whatever the caller
    /// measured before (such as an in-memory index of the same gallery). The server's memory is in the notes.
    static func residentBytesOfThisProcess() -> Int64 {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return (line.split(separator: " ").compactMap { Int64($0) }.first ?? 0) * 1024
        }
        return 0
    }
}

/// Results of the batched queries, filled from several threads.
private final class BatchResults: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<[[Int64]], any Error>?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ result: Result<[[Int64]], any Error>) { lock.withLock { results[i] = result } }

    func all() throws -> [[[Int64]]] { try lock.withLock { try results.map { try $0!.get() } } }
}
