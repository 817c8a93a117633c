import FaceFind
import Foundation
import Logging
import PostgresNIO

/// A gallery in PostgreSQL with pgvector: the same semantics as `SQLiteGalleryStore` (settings bound once and
/// checked, content states for incremental runs, one transaction per `write`), plus nearest-neighbour search on
/// the server through an HNSW index.
///
/// Schema (in `options.schema`, default `facefind`; see docs/Postgres.md):
/// - `settings(key, value)`: the `IndexSettings` that made the vectors;
/// - `images(id, path UNIQUE, sha256, bytes, modified, width, height, status, error, indexed_at)`;
/// - `faces(id, image_id → images ON DELETE CASCADE, x, y, w, h, score, landmarks real[], whole_image,
///   embedding vector(D), time_start, time_end, frame_time)` (the times of a video's face, NULL in photos),
///   created when the settings are bound (D is their dimension), with
///   `faces_embedding_hnsw USING hnsw (embedding vector_cosine_ops | vector_l2_ops)`.
///
/// When the server goes away mid-operation the store reconnects with backoff and repeats the interrupted
/// operation (see `PostgresSession`), so an indexing run survives a server restart.
public final class PostgresGalleryStore: GalleryStore, @unchecked Sendable {
    public let name: String
    /// The options from the URL. For an existing store, its table and index decide the vector type and the
    /// HNSW distance (`layout`), whatever the URL says.
    public let options: PostgresStoreOptions
    /// `package`: the bench harness (`FaceFindBench`) runs its own statements on it.
    package let session: PostgresSession
    /// The schema's name, quoted for SQL.
    let schema: String
    private let layoutLock = NSLock()
    private var cachedLayout: Layout?

    /// The shape of an existing `faces` table.
    public struct Layout: Sendable, Equatable {
        public var dimension: Int
        /// "vector" or "halfvec".
        public var vectorType: String
        /// The HNSW index's distance, nil while there is no index.
        public var hnsw: HNSWMetric?
    }

    /// Connects to `url` (`postgres://user:password@host:port/database?schema=…`), creating the schema and
    /// tables when missing and the `vector` extension when it is not installed yet (which needs the right to).
    /// With `create: false` a missing store is an error instead (for searching: a mistyped schema must not
    /// leave an empty store behind).
    public convenience init(url: String, create: Bool = true, logger: Logger = Logger(label: "facefind.postgres")) throws {
        try self.init(location: try PostgresLocation(url: url), create: create, logger: logger)
    }

    /// Connects with the URL's options changed by `configure` (the synthetic bench's own schema and index).
    public convenience init(url: String, logger: Logger = Logger(label: "facefind.postgres"),
                            configure: (inout PostgresStoreOptions) -> Void) throws {
        var location = try PostgresLocation(url: url)
        configure(&location.options)
        try self.init(location: location, create: true, logger: logger)
    }

    private init(location: PostgresLocation, create: Bool, logger: Logger) throws {
        name = location.displayName
        options = location.options
        schema = Self.quoted(location.options.schema)
        session = try PostgresSession(location: location, logger: logger)
        try open(create: create)
    }

    /// The number of times the connection was re-established after the server went away.
    public var reconnects: Int { session.reconnects }

    public func close() { session.close() }

    package static func quoted(_ identifier: String) -> String { "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    private var facesTable: String { "\(schema).faces" }

    // MARK: - Schema

    private func open(create: Bool) throws {
        // One transaction under a lock of this schema's own: `CREATE … IF NOT EXISTS` is not safe against itself
        // (two processes creating the same table at once: one fails on pg_type's unique index), and several
        // `index --workers-shared` processes or servers may open a new store together.
        try session.run(transaction: true) { db in
            try db.query("SELECT pg_advisory_xact_lock(hashtext(\("facefind.schema." + options.schema)))")
            if !create {
                let exists = try db.query("SELECT to_regclass(\(options.schema + ".images")) IS NOT NULL").first!.decode(Bool.self)
                guard exists else {
                    throw GalleryError.notFound("\(name) holds no FaceFind index (no schema \(options.schema) with its tables); run `facefind index FOLDER --store URL` first")
                }
            }
            let installed = try db.query("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'vector'")
            var extensionSchema = try installed.first?.decode(String.self)
            if extensionSchema == nil {
                do {
                    try db.query("CREATE EXTENSION IF NOT EXISTS vector")
                } catch {
                    throw GalleryError.storage(store: name, message: "the pgvector extension is not installed in database \(session.location.database) and could not be created (\(PostgresSession.message(error))): run `CREATE EXTENSION vector;` there as a superuser (scripts/postgres/start.sh does)")
                }
                extensionSchema = try db.query("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'vector'")
                    .first?.decode(String.self)
            }
            let searchPath = [options.schema, extensionSchema ?? "public"].map(Self.quoted).joined(separator: ", ")
            try db.setSearchPath(searchPath)
            try db.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(schema)"))
            try db.query(PostgresQuery(unsafeSQL: "CREATE TABLE IF NOT EXISTS \(schema).settings (key text PRIMARY KEY, value text NOT NULL)"))
            try db.query(PostgresQuery(unsafeSQL: """
                CREATE TABLE IF NOT EXISTS \(schema).images (
                    id bigserial PRIMARY KEY,
                    path text NOT NULL UNIQUE,
                    sha256 text NOT NULL,
                    bytes bigint NOT NULL,
                    modified double precision NOT NULL,
                    width integer NOT NULL,
                    height integer NOT NULL,
                    status text NOT NULL CHECK (status IN ('ok', 'error')),
                    error text,
                    indexed_at timestamptz NOT NULL DEFAULT now()
                )
                """))
            // Photos kept although the last indexing run could not read them (see setUnavailable); added to
            // stores made before the column existed.
            try db.query(PostgresQuery(unsafeSQL: "ALTER TABLE \(schema).images ADD COLUMN IF NOT EXISTS unavailable text"))
            // Persons, added to stores made before they existed.
            if try db.query("SELECT to_regclass(\(options.schema + ".faces")) IS NOT NULL").first!.decode(Bool.self) {
                try Self.createPeopleTables(db, schema: schema)
                try Self.addVideoTimes(db, schema: schema)
            }
        }
    }

    /// The times of a video's faces (`FaceTime`), added to stores made before videos were indexed.
    static func addVideoTimes(_ db: PostgresSession.Handle, schema: String) throws {
        try db.query(PostgresQuery(unsafeSQL: """
            ALTER TABLE \(schema).faces ADD COLUMN IF NOT EXISTS time_start double precision,
                ADD COLUMN IF NOT EXISTS time_end double precision, ADD COLUMN IF NOT EXISTS frame_time double precision
            """))
    }

    /// The `faces` table's vector type, dimension and HNSW index, nil before the settings are bound.
    public func layout() throws -> Layout? {
        if let cached = layoutLock.withLock({ cachedLayout }) { return cached }
        let found = try session.run { db in try readLayout(db) }
        layoutLock.withLock { cachedLayout = found }
        return found
    }

    private func forgetLayout() { layoutLock.withLock { cachedLayout = nil } }

    package func forgetLayoutCache() { forgetLayout() }

    private func readLayout(_ db: PostgresSession.Handle) throws -> Layout? {
        let column = try db.query("""
            SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
            WHERE a.attrelid = to_regclass(\(facesTable)) AND a.attname = 'embedding' AND NOT a.attisdropped
            """)
        guard let type = try column.first?.decode(String.self) else { return nil }
        // "vector(512)", "halfvec(512)", possibly schema-qualified.
        let bare = type.split(separator: ".").last.map(String.init) ?? type
        let parts = bare.split(whereSeparator: { $0 == "(" || $0 == ")" })
        guard parts.count == 2, let dimension = Int(parts[1]) else {
            throw GalleryError.storage(store: name, message: "faces.embedding has type \(type); expected vector(D) or halfvec(D)")
        }
        let definitions = try db.query("""
            SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = to_regclass(\(facesTable))
            """).map { try $0.decode(String.self) }
        let hnsw = definitions.first { $0.contains("USING hnsw") }.map { $0.contains("cosine_ops") ? HNSWMetric.cosine : .l2 }
        return Layout(dimension: dimension, vectorType: String(parts[0]), hnsw: hnsw)
    }

    private func requireLayout() throws -> Layout {
        guard let layout = try layout() else {
            throw GalleryError.storage(store: name, message: "holds no index yet (no settings bound)")
        }
        return layout
    }

    /// Creates the HNSW index unless it exists (after a bulk load into a store made with `build=deferred`, or
    /// to add one to a store made with `hnsw=none`), with `options`' distance, `m` and `ef_construction`.
    /// Returns the seconds it took (0 when it existed).
    @discardableResult
    public func buildIndex(metric: HNSWMetric? = nil) throws -> Double {
        let layout = try requireLayout()
        guard layout.hnsw == nil, let metric = metric ?? options.hnsw else { return 0 }
        let start = Date()
        try session.run { db in
            try db.set("maintenance_work_mem", "'\(options.maintenanceWorkMem)'")
            try db.query(PostgresQuery(unsafeSQL: Self.indexSQL(schema: schema, layout: layout, metric: metric, options: options)))
        }
        forgetLayout()
        return Date().timeIntervalSince(start)
    }

    package static func indexSQL(schema: String, layout: Layout, metric: HNSWMetric, options: PostgresStoreOptions) -> String {
        """
        CREATE INDEX IF NOT EXISTS faces_embedding_hnsw ON \(schema).faces
        USING hnsw (embedding \(layout.vectorType)_\(metric.operatorClass))
        WITH (m = \(options.m), ef_construction = \(options.efConstruction))
        """
    }

    /// Sizes on disk: the HNSW index alone, and the faces table with all its indexes and TOAST.
    public func sizes() throws -> (hnswIndex: Int64, facesTotal: Int64, imagesTotal: Int64) {
        try session.run { db in
            let row = try db.query("""
                SELECT COALESCE(pg_relation_size(to_regclass(\(schema + ".faces_embedding_hnsw"))), 0)::int8,
                       COALESCE(pg_total_relation_size(to_regclass(\(facesTable))), 0)::int8,
                       COALESCE(pg_total_relation_size(to_regclass(\(schema + ".images"))), 0)::int8
                """).first!
            let (index, faces, images) = try row.decode((Int64, Int64, Int64).self)
            return (index, faces, images)
        }
    }

    /// Drops the store's schema with everything in it.
    public func destroy() throws {
        try session.run { db in try db.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \(schema) CASCADE")) }
        forgetLayout()
    }

    // MARK: - Settings

    public func settings() throws -> IndexSettings? {
        try session.run { db in try readSettings(db) }
    }

    private func readSettings(_ db: PostgresSession.Handle) throws -> IndexSettings? {
        let rows = try db.query(PostgresQuery(unsafeSQL: "SELECT key, value FROM \(schema).settings"))
        var fields: [String: String] = [:]
        for row in rows {
            let (key, value) = try row.decode((String, String).self)
            fields[key] = value
        }
        guard !fields.isEmpty else { return nil }
        guard let settings = IndexSettings(fields: fields) else {
            throw GalleryError.storage(store: name, message: "settings table is damaged")
        }
        return settings
    }

    public func bind(_ settings: IndexSettings) throws {
        let recorded: IndexSettings = try session.run(transaction: true) { db in
            try db.query(PostgresQuery(unsafeSQL: "LOCK TABLE \(schema).settings IN EXCLUSIVE MODE"))
            if let existing = try readSettings(db) { return existing }
            for (key, value) in settings.fields {
                try db.query("INSERT INTO \(unescaped: schema).settings (key, value) VALUES (\(key), \(value))")
            }
            if try readLayout(db) == nil {
                let layout = Layout(dimension: settings.dimension, vectorType: options.vectorType, hnsw: nil)
                try db.query(PostgresQuery(unsafeSQL: """
                    CREATE TABLE \(schema).faces (
                        id bigserial PRIMARY KEY,
                        image_id bigint NOT NULL REFERENCES \(schema).images(id) ON DELETE CASCADE,
                        x real NOT NULL, y real NOT NULL, w real NOT NULL, h real NOT NULL,
                        score real NOT NULL,
                        landmarks real[],
                        whole_image boolean NOT NULL,
                        embedding \(layout.vectorType)(\(layout.dimension)) NOT NULL
                    )
                    """))
                // Keep vectors in the row: with the type's default (external) storage a 512-d vector (2 KiB) is
                // moved to the TOAST table, and every distance a scan computes first fetches it from there.
                if layout.dimension * (layout.vectorType == "halfvec" ? 2 : 4) <= 6000 {
                    try db.query(PostgresQuery(unsafeSQL: "ALTER TABLE \(schema).faces ALTER COLUMN embedding SET STORAGE PLAIN"))
                }
                try db.query(PostgresQuery(unsafeSQL: "CREATE INDEX faces_image ON \(schema).faces (image_id)"))
                try Self.createPeopleTables(db, schema: schema)
                try Self.addVideoTimes(db, schema: schema)
                if let metric = options.hnsw, !options.deferIndexBuild {
                    try db.query(PostgresQuery(unsafeSQL: Self.indexSQL(schema: schema, layout: layout, metric: metric, options: options)))
                }
            }
            return settings
        }
        forgetLayout()
        let differences = settings.differences(from: recorded)
        if !differences.isEmpty { throw GalleryError.settingsMismatch(store: name, differences: differences) }
    }

    // MARK: - Incremental indexing

    public func fileStates() throws -> [String: FileState] {
        try session.run { db in
            var states: [String: FileState] = [:]
            for row in try db.query(PostgresQuery(unsafeSQL: "SELECT path, sha256, bytes, modified FROM \(schema).images")) {
                let (path, sha256, bytes, modified) = try row.decode((String, String, Int, Double).self)
                states[path] = FileState(sha256: sha256, bytes: bytes, modified: modified)
            }
            return states
        }
    }

    /// Rows per multi-row INSERT of faces (9 parameters each; the protocol allows 65,535).
    static let faceRowsPerStatement = 1000

    public func write(_ images: [IndexedImage]) throws {
        guard !images.isEmpty else { return }
        // The last entry for a path wins, as with repeated replaces.
        var latest: [String: Int] = [:]
        for (i, image) in images.enumerated() { latest[image.path] = i }
        let batch = images.enumerated().filter { latest[$0.element.path] == $0.offset }.map(\.element)
        let hasFaces = batch.contains { !$0.faces.isEmpty }
        let layout = hasFaces ? try requireLayout() : nil
        try session.run(transaction: true) { db in
            let paths = batch.map(\.path)
            try db.query("DELETE FROM \(unescaped: schema).images WHERE path = ANY(\(paths))")
            let inserted = try db.query("""
                INSERT INTO \(unescaped: schema).images (path, sha256, bytes, modified, width, height, status, error)
                SELECT p, s, b, m, w, h, CASE WHEN ok THEN 'ok' ELSE 'error' END, CASE WHEN ok THEN NULL ELSE e END
                FROM unnest(\(paths)::text[], \(batch.map(\.state.sha256))::text[], \(batch.map { Int64($0.state.bytes) })::int8[],
                            \(batch.map(\.state.modified))::float8[], \(batch.map { Int32($0.width) })::int4[],
                            \(batch.map { Int32($0.height) })::int4[], \(batch.map { $0.error == nil })::bool[],
                            \(batch.map { $0.error ?? "" })::text[]) AS u(p, s, b, m, w, h, ok, e)
                RETURNING id, path
                """)
            var ids: [String: Int64] = [:]
            for row in inserted {
                let (id, path) = try row.decode((Int64, String).self)
                ids[path] = id
            }
            guard let layout else { return }
            var rows: [(Int64, StoredFace)] = []
            for image in batch { for face in image.faces { rows.append((ids[image.path]!, face)) } }
            var start = 0
            while start < rows.count {
                let chunk = rows[start..<min(start + Self.faceRowsPerStatement, rows.count)]
                var bindings = PostgresBindings(capacity: chunk.count * 12)
                var values: [String] = []
                values.reserveCapacity(chunk.count)
                for (n, (imageID, stored)) in chunk.enumerated() {
                    let f = stored.face
                    guard stored.embedding.vector.count == layout.dimension else {
                        throw GalleryError.storage(store: name, message: "embedding of \(stored.embedding.vector.count) dimensions for a store of \(layout.dimension)")
                    }
                    bindings.append(imageID)
                    bindings.append(f.box.x); bindings.append(f.box.y)
                    bindings.append(f.box.width); bindings.append(f.box.height)
                    bindings.append(f.score)
                    bindings.append(f.landmarks.map { $0.points.flatMap { [$0.x, $0.y] } })
                    bindings.append(f.isWholeImage)
                    bindings.append(Float4Array(stored.embedding.vector))
                    bindings.append(f.time?.start); bindings.append(f.time?.end); bindings.append(f.time?.frame)
                    let p = n * 12
                    values.append("($\(p + 1), $\(p + 2), $\(p + 3), $\(p + 4), $\(p + 5), $\(p + 6), $\(p + 7)::real[], $\(p + 8), $\(p + 9)::real[]::\(layout.vectorType), $\(p + 10)::float8, $\(p + 11)::float8, $\(p + 12)::float8)")
                }
                try db.query(PostgresQuery(unsafeSQL: """
                    INSERT INTO \(schema).faces (image_id, x, y, w, h, score, landmarks, whole_image, embedding, time_start,
                                                 time_end, frame_time)
                    VALUES \(values.joined(separator: ", "))
                    """, binds: bindings))
                start += chunk.count
            }
        }
    }

    public func touch(_ states: [String: FileState]) throws {
        guard !states.isEmpty else { return }
        let entries = states.sorted { $0.key < $1.key }
        try session.run(transaction: true) { db in
            try db.query("""
                UPDATE \(unescaped: schema).images AS i SET modified = u.m
                FROM unnest(\(entries.map(\.key))::text[], \(entries.map(\.value.sha256))::text[],
                            \(entries.map(\.value.modified))::float8[]) AS u(p, s, m)
                WHERE i.path = u.p AND i.sha256 = u.s
                """)
        }
    }

    public func remove(paths: [String]) throws {
        guard !paths.isEmpty else { return }
        try session.run(transaction: true) { db in
            try db.query("DELETE FROM \(unescaped: schema).images WHERE path = ANY(\(paths))")
        }
    }

    public func setUnavailable(_ reasons: [String: String], under folder: String) throws {
        let prefix = folder.hasSuffix("/") ? folder : folder + "/"
        let entries = reasons.sorted { $0.key < $1.key }
        try session.run(transaction: true) { db in
            try db.query("""
                UPDATE \(unescaped: schema).images SET unavailable = NULL
                WHERE unavailable IS NOT NULL AND (path = \(folder) OR left(path, \(prefix.unicodeScalars.count)::int) = \(prefix))
                """)
            guard !entries.isEmpty else { return }
            try db.query("""
                UPDATE \(unescaped: schema).images AS i SET unavailable = u.r
                FROM unnest(\(entries.map(\.key))::text[], \(entries.map(\.value))::text[]) AS u(p, r)
                WHERE i.path = u.p
                """)
        }
    }

    public func unavailableImages() throws -> [String: String] {
        try session.run { db in
            var result: [String: String] = [:]
            for row in try db.query("SELECT path, unavailable FROM \(unescaped: schema).images WHERE unavailable IS NOT NULL") {
                let (path, reason) = try row.decode((String, String).self)
                result[path] = reason
            }
            return result
        }
    }

    @discardableResult
    public func remove(ids: [Int64]) throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try session.run(transaction: true) { db in
            try db.query("DELETE FROM \(unescaped: schema).images WHERE id = ANY(\(ids))").metadata.rows ?? 0
        }
    }

    // MARK: - Listing

    private func recordSQL(_ layout: Layout?) -> String {
        let faces = layout == nil ? "0::int8" : "(SELECT count(*) FROM \(schema).faces f WHERE f.image_id = i.id)"
        return "SELECT i.id, i.path, i.sha256, i.bytes, i.width, i.height, i.error, \(faces) FROM \(schema).images i"
    }

    private static func record(_ row: PostgresRow) throws -> ImageRecord {
        let (id, path, sha256, bytes, width, height, error, faces) =
            try row.decode((Int64, String, String, Int, Int, Int, String?, Int).self)
        return ImageRecord(id: id, path: path, sha256: sha256, bytes: bytes, width: width, height: height,
                           faceCount: faces, error: error)
    }

    public func pathBounds(excludingPrefix prefix: String) throws -> (first: String, last: String)? {
        try session.run { db in
            // COLLATE "C": byte order, whatever the database's collation.
            let row = try db.query("""
                SELECT min(path COLLATE "C"), max(path COLLATE "C") FROM \(unescaped: schema).images
                WHERE \(prefix) = '' OR NOT starts_with(path, \(prefix))
                """).first
            guard let (first, last) = try row?.decode((String?, String?).self), let first, let last else { return nil }
            return (first, last)
        }
    }

    public func images(offset: Int, limit: Int) throws -> [ImageRecord] {
        let sql = recordSQL(try layout())
        return try session.run { db in
            try db.query("\(unescaped: sql) ORDER BY i.id LIMIT \(limit) OFFSET \(offset)").map(Self.record)
        }
    }

    public func image(id: Int64) throws -> ImageRecord? {
        let sql = recordSQL(try layout())
        return try session.run { db in try db.query("\(unescaped: sql) WHERE i.id = \(id)").first.map(Self.record) }
    }

    public func failedImages() throws -> [ImageRecord] {
        let sql = recordSQL(try layout())
        return try session.run { db in
            try db.query("\(unescaped: sql) WHERE i.status = 'error' ORDER BY i.path").map(Self.record)
        }
    }

    public func counts() throws -> (images: Int, faces: Int, failed: Int) {
        let faces = try layout() == nil ? "0::int8" : "(SELECT count(*) FROM \(schema).faces)"
        return try session.run { db in
            let row = try db.query("""
                SELECT (SELECT count(*) FROM \(unescaped: schema).images WHERE status = 'ok'), \(unescaped: faces),
                       (SELECT count(*) FROM \(unescaped: schema).images WHERE status = 'error')
                """).first!
            let (images, faceCount, failed) = try row.decode((Int, Int, Int).self)
            return (images, faceCount, failed)
        }
    }

    public func faces(ofImage id: Int64) throws -> [DetectedFace] {
        guard try layout() != nil else { return [] }
        return try session.run { db in
            try db.query("""
                SELECT x, y, w, h, score, landmarks, whole_image, time_start, time_end, frame_time
                FROM \(unescaped: schema).faces WHERE image_id = \(id) ORDER BY id
                """).map { row in
                let (x, y, w, h, score, landmarks, whole, start, end, frame) = try row.decode(
                    (Float, Float, Float, Float, Float, [Float]?, Bool, Double?, Double?, Double?).self)
                return DetectedFace(box: Box(x: x, y: y, width: w, height: h), score: score,
                                    landmarks: landmarks.flatMap { $0.count == 10 ? Landmarks5(flat: $0) : nil },
                                    isWholeImage: whole, time: FaceTime(columns: start, end, frame))
            }
        }
    }

    public func loadFaceMatrix() throws -> FaceMatrix {
        try loadFaceMatrix(paths: nil)
    }

    public func loadFaceMatrix(paths: [String]) throws -> FaceMatrix {
        try loadFaceMatrix(paths: Optional(paths))
    }

    /// The faces of the images at `paths`, or of every image when nil.
    private func loadFaceMatrix(paths: [String]?) throws -> FaceMatrix {
        guard let layout = try layout() else { return FaceMatrix(dimension: try settings()?.dimension ?? 0) }
        return try session.run { db in
            var matrix = FaceMatrix(dimension: layout.dimension)
            var lastImage: Int64 = -1
            // Pages in (image, face) order, so that memory holds one page of rows besides the matrix.
            var after: (Int64, Int64) = (0, 0)
            while true {
                let rows = try db.query("""
                    SELECT i.id, i.path, f.id, f.x, f.y, f.w, f.h, f.whole_image, f.embedding::real[]
                    FROM \(unescaped: schema).images i JOIN \(unescaped: schema).faces f ON f.image_id = i.id
                    WHERE (i.id, f.id) > (\(after.0), \(after.1)) AND (\(paths == nil) OR i.path = ANY(\(paths ?? [])))
                    ORDER BY i.id, f.id LIMIT 20000
                    """)
                var count = 0
                for row in rows {
                    let (imageID, path, faceID, x, y, w, h, whole, vector) =
                        try row.decode((Int64, String, Int64, Float, Float, Float, Float, Bool, [Float]).self)
                    if imageID != lastImage {
                        matrix.appendImage(id: imageID, path: path)
                        lastImage = imageID
                    }
                    matrix.appendFace(id: faceID, box: Box(x: x, y: y, width: w, height: h), isWholeImage: whole, vector: vector)
                    after = (imageID, faceID)
                    count += 1
                }
                if count < 20000 { break }
            }
            return matrix
        }
    }
}

