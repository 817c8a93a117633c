import Foundation
import GRDB

/// The embedded default store: one SQLite file (WAL mode) holding images, faces, embeddings and the settings
/// that made them. Each `write` is one transaction, so a killed indexing run keeps every batch it finished.
public final class SQLiteGalleryStore: GalleryStore {
    public let name: String
    let pool: DatabasePool

    /// SQLite's `application_id` header field of FaceFind's index files ("FcFd"), so that FaceFind recognises
    /// its own files and refuses everyone else's.
    public static let applicationID: Int32 = 0x4663_4664
    /// The schema version, in `user_version`: 1 the first schema, 2 adds `images.unavailable`, 3 the persons
    /// (`persons`, `face_persons`), 4 the change counter a vector file is checked against (`face_changes`).
    public static let schemaVersion: Int32 = 5

    /// Opens the index at `path`, creating it when there is no file (or an empty one) unless `create` is false
    /// (for readers such as `search`, so that a mistyped path is an error, not a new empty index). Any other file
    /// is first checked without writing a byte (see `checkOwnership`): a directory, a file that is not SQLite,
    /// another program's database, or an index of a newer FaceFind is refused as it is.
    public init(path: String, create: Bool = true) throws {
        self.name = path
        if !create, !FileManager.default.fileExists(atPath: path) {
            throw GalleryError.notFound("\(path): no such index file; run `facefind index FOLDER --db \(path)` first")
        }
        try Self.checkOwnership(path)
        do {
            let parent = (path as NSString).deletingLastPathComponent
            if !parent.isEmpty { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) }
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            let pool = try Self.retryingConcurrentCreation { try DatabasePool(path: path, configuration: configuration) }
            self.pool = pool
            try Self.retryingConcurrentCreation { try Self.migrator.migrate(pool) }
            try Self.retryingConcurrentCreation { try pool.write { db in
                if try Int32.fetchOne(db, sql: "PRAGMA application_id") != Self.applicationID {
                    try db.execute(sql: "PRAGMA application_id = \(Self.applicationID)")
                }
                if try Int32.fetchOne(db, sql: "PRAGMA user_version") != Self.schemaVersion {
                    try db.execute(sql: "PRAGMA user_version = \(Self.schemaVersion)")
                }
            } }
        } catch let error as DatabaseError {
            throw GalleryError.storage(store: path, message: "cannot open as a FaceFind index: \(error.message ?? "\(error)")")
        }
    }

    /// The tables of a FaceFind index of schema 1, made before index files carried `application_id`.
    static let legacyTables: Set<String> = ["settings", "images", "faces", "embeddings", "grdb_migrations"]

    /// The tables of a FaceFind index of this schema: seen unmarked only while another process creates the index
    /// (its migrator commits the tables, then the header is marked).
    static let currentTables = legacyTables.union(["persons", "face_persons", "face_changes"])

    /// Throws unless `path` is absent, empty, or a FaceFind index this version can open, reading only. The
    /// header's `application_id` says whose file it is; a file without one is taken only when it holds no
    /// schema at all, or exactly the tables of a FaceFind index made before the marking existed.
    static func checkOwnership(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw GalleryError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        if Int(info.st_mode) & Int(S_IFMT) == Int(S_IFDIR) {
            throw GalleryError.notAnIndex(path: path, reason: "it is a directory; name an index file, such as "
                                          + "\((path as NSString).appendingPathComponent("facefind.sqlite"))")
        }
        guard info.st_size > 0 else { return }  // an empty file is an empty database
        let header: [UInt8]
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            header = [UInt8](try handle.read(upToCount: 100) ?? Data())
        } catch {
            throw GalleryError.unreadable(path: path, reason: "cannot read it (\(error.localizedDescription))")
        }
        guard header.count == 100, header.starts(with: Array("SQLite format 3\0".utf8)) else {
            throw GalleryError.notAnIndex(path: path, reason: "it is not an SQLite database")
        }
        func field(_ offset: Int) -> Int32 {
            Int32(bitPattern: header[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) })
        }
        let (application, version) = (field(68), field(60))
        if application == applicationID {
            guard version <= schemaVersion else {
                throw GalleryError.notAnIndex(path: path, reason: "it was made by a newer FaceFind (schema \(version); "
                                              + "this one reads up to \(schemaVersion))")
            }
            return
        }
        guard application == 0 else {
            throw GalleryError.notAnIndex(path: path, reason: String(format: "it belongs to another program "
                                          + "(SQLite application_id 0x%08x)", UInt32(bitPattern: application)))
        }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)  // another process may be creating the index right now
        var tables: [String] = [], marked: (application: Int32, version: Int32) = (0, 0)
        do {
            try retryingConcurrentCreation { try DatabaseQueue(path: path, configuration: configuration).read { db in
                tables = try String.fetchAll(db, sql: """
                    SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND substr(name, 1, 7) != 'sqlite_'
                    ORDER BY name
                    """)
                // The header as SQLite sees it, write-ahead log included: a new index is marked in its WAL
                // first, and the file's own first page shows 0 until the next checkpoint.
                marked = (try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0,
                          try Int32.fetchOne(db, sql: "PRAGMA user_version") ?? 0)
            } }
        } catch let error as DatabaseError {
            throw GalleryError.notAnIndex(path: path, reason: "it cannot be read as SQLite (\(error.message ?? "\(error)"))")
        }
        if marked.application == applicationID {
            guard marked.version <= schemaVersion else {
                throw GalleryError.notAnIndex(path: path, reason: "it was made by a newer FaceFind (schema "
                                              + "\(marked.version); this one reads up to \(schemaVersion))")
            }
            return
        }
        // Only GRDB's bookkeeping table, or this schema's tables unmarked: an index being created by another process
        // right now (the migrator commits that table before the schema, and the header is marked last), so not
        // another program's file.
        if tables.isEmpty || tables == ["grdb_migrations"] || [legacyTables, currentTables].contains(Set(tables)) { return }
        let shown = tables.prefix(5).joined(separator: ", ") + (tables.count > 5 ? ", ..." : "")
        throw GalleryError.notAnIndex(path: path, reason: "it holds another program's tables (\(shown)); FaceFind "
                                      + "writes only to its own index files: give another file name")
    }

    /// Runs one step of opening the index, again while another process is creating the same new index: SQLite
    /// answers "database is locked" without waiting while the other switches the file to WAL, and the second of
    /// two migrators fails on the tables the first just made ("table settings already exists"); once the other
    /// has finished, the step succeeds (the migrator then finds the migrations applied). Seven attempts over
    /// about 2.5 s, for those errors only: a read-only, unreadable or corrupt file fails at once.
    static func retryingConcurrentCreation<T>(_ step: () throws -> T) throws -> T {
        var attempt = 1
        while true {
            do {
                return try step()
            } catch let error as DatabaseError where attempt < 7 && isConcurrentCreation(error) {
                Thread.sleep(forTimeInterval: 0.02 * Double(1 << attempt))
                attempt += 1
            }
        }
    }

    /// The errors another process creating the same index causes: the file busy or locked, or an SQL error from
    /// a migration step the other migrator already applied ("table settings already exists", "duplicate column
    /// name: unavailable").
    private static func isConcurrentCreation(_ error: DatabaseError) -> Bool {
        [.SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_ERROR].contains(error.resultCode)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE settings (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                CREATE TABLE images (
                    id INTEGER PRIMARY KEY,
                    path TEXT NOT NULL UNIQUE,
                    sha256 TEXT NOT NULL,
                    bytes INTEGER NOT NULL,
                    modified REAL NOT NULL,
                    width INTEGER NOT NULL,
                    height INTEGER NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
                    error TEXT,
                    indexed_at REAL NOT NULL
                );
                CREATE TABLE faces (
                    id INTEGER PRIMARY KEY,
                    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
                    x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
                    score REAL NOT NULL,
                    landmarks TEXT,
                    whole_image INTEGER NOT NULL
                );
                CREATE INDEX faces_image ON faces(image_id);
                CREATE TABLE embeddings (
                    face_id INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
                    model TEXT NOT NULL,
                    vector BLOB NOT NULL,
                    PRIMARY KEY (face_id, model)
                );
                """)
        }
        migrator.registerMigration("v2") { db in
            // Photos kept in the index although the last run could not read them (see setUnavailable).
            try db.execute(sql: "ALTER TABLE images ADD COLUMN unavailable TEXT")
        }
        migrator.registerMigration("v3") { db in
            // Persons (`facefind people`): a face belongs to at most one; re-indexing or removing a photo deletes
            // its faces and so their assignments. `pinned`: a user put the face there.
            try db.execute(sql: """
                CREATE TABLE persons (
                    id INTEGER PRIMARY KEY,
                    name TEXT UNIQUE,
                    hidden INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE face_persons (
                    face_id INTEGER PRIMARY KEY REFERENCES faces(id) ON DELETE CASCADE,
                    person_id INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
                    pinned INTEGER NOT NULL DEFAULT 0
                );
                CREATE INDEX face_persons_person ON face_persons(person_id);
                """)
        }
        migrator.registerMigration("v4") { db in
            // The state a vector file beside the index is checked against (`GalleryVectorFile`): a random number
            // naming this database, and a counter that every insert or delete of a face moves, in the writing
            // transaction itself (triggers), so that no writer, however old its code, can change faces unseen.
            try db.execute(sql: """
                CREATE TABLE face_changes (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    database_id INTEGER NOT NULL,
                    changes INTEGER NOT NULL
                );
                INSERT INTO face_changes (id, database_id, changes) VALUES (1, abs(random()), 0);
                CREATE TRIGGER face_added AFTER INSERT ON faces
                    BEGIN UPDATE face_changes SET changes = changes + 1 WHERE id = 1; END;
                CREATE TRIGGER face_removed AFTER DELETE ON faces
                    BEGIN UPDATE face_changes SET changes = changes + 1 WHERE id = 1; END;
                """)
        }
        migrator.registerMigration("v5") { db in
            // Faces of videos (`FaceTime`): the track's time range and the frame, in seconds; NULL in photos.
            try db.execute(sql: """
                ALTER TABLE faces ADD COLUMN time_start REAL;
                ALTER TABLE faces ADD COLUMN time_end REAL;
                ALTER TABLE faces ADD COLUMN frame_time REAL;
                """)
        }
        migrator.registerMigration("v6") { db in
            // A random token that every insert or delete of a face draws anew (issue 25): two copies of one index
            // changed apart reach the same counter with different tokens, so a vector file of one is never taken
            // for the other's. A column and two triggers that schema-5 FaceFind reads and runs as they are, so
            // user_version stays 5.
            try db.execute(sql: """
                ALTER TABLE face_changes ADD COLUMN token INTEGER NOT NULL DEFAULT 0;
                UPDATE face_changes SET token = random() WHERE id = 1;
                DROP TRIGGER face_added;
                DROP TRIGGER face_removed;
                CREATE TRIGGER face_added AFTER INSERT ON faces
                    BEGIN UPDATE face_changes SET changes = changes + 1, token = random() WHERE id = 1; END;
                CREATE TRIGGER face_removed AFTER DELETE ON faces
                    BEGIN UPDATE face_changes SET changes = changes + 1, token = random() WHERE id = 1; END;
                """)
        }
        return migrator
    }

    func wrap<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as DatabaseError {
            throw GalleryError.storage(store: name, message: error.message ?? "\(error)")
        }
    }

    public func settings() throws -> IndexSettings? {
        try wrap {
            let rows = try pool.read { db in try Row.fetchAll(db, sql: "SELECT key, value FROM settings") }
            guard !rows.isEmpty else { return nil }
            var fields: [String: String] = [:]
            for row in rows { fields[row["key"]] = row["value"] }
            return IndexSettings(fields: fields)
        }
    }

    public func bind(_ settings: IndexSettings) throws {
        try wrap {
            try pool.write { db in
                let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM settings") ?? 0
                if count == 0 {
                    for (key, value) in settings.fields {
                        try db.execute(sql: "INSERT INTO settings (key, value) VALUES (?, ?)", arguments: [key, value])
                    }
                }
            }
        }
        guard let recorded = try self.settings() else {
            throw GalleryError.storage(store: name, message: "settings table is damaged")
        }
        let differences = settings.differences(from: recorded)
        if !differences.isEmpty { throw GalleryError.settingsMismatch(store: name, differences: differences) }
    }

    public func fileStates() throws -> [String: FileState] {
        try wrap {
            try pool.read { db in
                var states: [String: FileState] = [:]
                let rows = try Row.fetchCursor(db, sql: "SELECT path, sha256, bytes, modified FROM images")
                while let row = try rows.next() {
                    states[row["path"]] = FileState(sha256: row["sha256"], bytes: row["bytes"], modified: row["modified"])
                }
                return states
            }
        }
    }

    public func write(_ images: [IndexedImage]) throws {
        guard !images.isEmpty else { return }
        let now = Date().timeIntervalSince1970
        let model = try settings()?.embedder ?? ""
        try wrap {
            try pool.write { db in
                for image in images {
                    try db.execute(sql: "DELETE FROM images WHERE path = ?", arguments: [image.path])
                    try db.execute(sql: """
                        INSERT INTO images (path, sha256, bytes, modified, width, height, status, error, indexed_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [image.path, image.state.sha256, image.state.bytes, image.state.modified,
                                         image.width, image.height, image.error == nil ? "ok" : "error",
                                         image.error, now])
                    let imageID = db.lastInsertedRowID
                    for stored in image.faces {
                        let f = stored.face
                        let landmarks = f.landmarks.map { l in l.points.map { "\($0.x),\($0.y)" }.joined(separator: ";") }
                        try db.execute(sql: """
                            INSERT INTO faces (image_id, x, y, w, h, score, landmarks, whole_image, time_start, time_end,
                                               frame_time)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """, arguments: [imageID, f.box.x, f.box.y, f.box.width, f.box.height, f.score,
                                             landmarks, f.isWholeImage, f.time?.start, f.time?.end, f.time?.frame])
                        try db.execute(sql: "INSERT INTO embeddings (face_id, model, vector) VALUES (?, ?, ?)",
                                       arguments: [db.lastInsertedRowID, model, Self.blob(stored.embedding.vector)])
                    }
                }
            }
        }
    }

    public func touch(_ states: [String: FileState]) throws {
        guard !states.isEmpty else { return }
        try wrap {
            try pool.write { db in
                for (path, state) in states {
                    try db.execute(sql: "UPDATE images SET modified = ? WHERE path = ? AND sha256 = ?",
                                   arguments: [state.modified, path, state.sha256])
                }
            }
        }
    }

    public func remove(paths: [String]) throws {
        guard !paths.isEmpty else { return }
        try wrap {
            try pool.write { db in
                for path in paths { try db.execute(sql: "DELETE FROM images WHERE path = ?", arguments: [path]) }
            }
        }
    }

    public func setUnavailable(_ reasons: [String: String], under folder: String) throws {
        let prefix = folder.hasSuffix("/") ? folder : folder + "/"
        try wrap {
            try pool.write { db in
                try db.execute(sql: """
                    UPDATE images SET unavailable = NULL
                    WHERE unavailable IS NOT NULL AND (path = ? OR substr(path, 1, ?) = ?)
                    """, arguments: [folder, prefix.unicodeScalars.count, prefix])
                for (path, reason) in reasons {
                    try db.execute(sql: "UPDATE images SET unavailable = ? WHERE path = ?", arguments: [reason, path])
                }
            }
        }
    }

    public func unavailableImages() throws -> [String: String] {
        try wrap {
            try pool.read { db in
                var result: [String: String] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT path, unavailable FROM images WHERE unavailable IS NOT NULL") {
                    result[row["path"]] = row["unavailable"]
                }
                return result
            }
        }
    }

    private static let recordSQL = """
        SELECT i.id, i.path, i.sha256, i.bytes, i.width, i.height, i.error,
               (SELECT COUNT(*) FROM faces f WHERE f.image_id = i.id) AS faces
        FROM images i
        """

    private static func record(_ row: Row) -> ImageRecord {
        ImageRecord(id: row["id"], path: row["path"], sha256: row["sha256"], bytes: row["bytes"],
                    width: row["width"], height: row["height"], faceCount: row["faces"], error: row["error"])
    }

    public func images(offset: Int, limit: Int) throws -> [ImageRecord] {
        try wrap {
            try pool.read { db in
                try Row.fetchAll(db, sql: Self.recordSQL + " ORDER BY i.id LIMIT ? OFFSET ?", arguments: [limit, offset])
                    .map(Self.record)
            }
        }
    }

    public func image(id: Int64) throws -> ImageRecord? {
        try wrap {
            try pool.read { db in
                try Row.fetchOne(db, sql: Self.recordSQL + " WHERE i.id = ?", arguments: [id]).map(Self.record)
            }
        }
    }

    @discardableResult
    public func remove(ids: [Int64]) throws -> Int {
        try wrap {
            try pool.write { db in
                var removed = 0
                for id in ids {
                    try db.execute(sql: "DELETE FROM images WHERE id = ?", arguments: [id])
                    removed += db.changesCount
                }
                return removed
            }
        }
    }

    public func failedImages() throws -> [ImageRecord] {
        try wrap {
            try pool.read { db in
                try Row.fetchAll(db, sql: Self.recordSQL + " WHERE i.status = 'error' ORDER BY i.path").map(Self.record)
            }
        }
    }

    public func counts() throws -> (images: Int, faces: Int, failed: Int) {
        try wrap {
            try pool.read { db in
                (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM images WHERE status = 'ok'") ?? 0,
                 try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM faces") ?? 0,
                 try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM images WHERE status = 'error'") ?? 0)
            }
        }
    }

    public func loadFaceMatrix() throws -> FaceMatrix {
        try loadFaceMatrix(dimension: try settings()?.dimension ?? 0, where: "", arguments: [])
    }

    public func loadFaceMatrix(paths: [String]) throws -> FaceMatrix {
        var matrix = FaceMatrix(dimension: try settings()?.dimension ?? 0)
        // In chunks well below SQLite's limit on bound parameters (32,766).
        for start in stride(from: 0, to: paths.count, by: 1_000) {
            let chunk = Array(paths[start..<min(start + 1_000, paths.count)])
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
            matrix.append(contentsOf: try loadFaceMatrix(dimension: matrix.dimension, where: "WHERE i.path IN (\(marks))",
                                                         arguments: StatementArguments(chunk)))
        }
        return matrix
    }

    private func loadFaceMatrix(dimension: Int, where condition: String, arguments: StatementArguments) throws -> FaceMatrix {
        try wrap { try pool.read { db in try Self.faceMatrix(db, dimension: dimension, where: condition, arguments: arguments) } }
    }

    /// The faces (with their vectors) of the images `condition` selects, read through `db`, so that a caller can
    /// read them in the same transaction as something else (`loadFaceMatrixWithChangeState`).
    static func faceMatrix(_ db: Database, dimension: Int, where condition: String,
                           arguments: StatementArguments) throws -> FaceMatrix {
        var matrix = FaceMatrix(dimension: dimension)
        let rows = try Row.fetchCursor(db, sql: """
            SELECT i.id AS image_id, i.path, f.id AS face_id, f.x, f.y, f.w, f.h, f.whole_image, e.vector
            FROM images i JOIN faces f ON f.image_id = i.id JOIN embeddings e ON e.face_id = f.id
            \(condition)
            ORDER BY i.id, f.id
            """, arguments: arguments)
        var lastImage: Int64 = -1
        while let row = try rows.next() {
            let imageID: Int64 = row["image_id"]
            if imageID != lastImage {
                matrix.appendImage(id: imageID, path: row["path"])
                lastImage = imageID
            }
            let blob: Data = row["vector"]
            let box = Box(x: row["x"], y: row["y"], width: row["w"], height: row["h"])
            blob.withUnsafeBytes { raw in
                matrix.appendFace(id: row["face_id"], box: box, isWholeImage: row["whole_image"],
                                  vector: raw.bindMemory(to: Float.self))
            }
        }
        return matrix
    }

    public func pathBounds(excludingPrefix prefix: String) throws -> (first: String, last: String)? {
        try wrap {
            try pool.read { db in
                // SQLite compares TEXT with memcmp: byte order.
                let row = try Row.fetchOne(db, sql: """
                    SELECT MIN(path), MAX(path) FROM images WHERE ? = '' OR substr(path, 1, ?) != ?
                    """, arguments: [prefix, prefix.unicodeScalars.count, prefix])
                guard let row, let first = row[0] as String?, let last = row[1] as String? else { return nil }
                return (first, last)
            }
        }
    }

    /// Faces of one image, for pictures and the API.
    public func faces(ofImage id: Int64) throws -> [DetectedFace] {
        try wrap {
            try pool.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT x, y, w, h, score, landmarks, whole_image, time_start, time_end, frame_time
                    FROM faces WHERE image_id = ? ORDER BY id
                    """, arguments: [id]).map(Self.face)
            }
        }
    }

    /// Each image's size and faces with embeddings, keyed by path (for evaluation, which needs the query's
    /// own faces).
    public func storedFaces(paths: Set<String>? = nil) throws -> [String: StoredImage] {
        try wrap {
            try pool.read { db in
                var result: [String: StoredImage] = [:]
                let rows = try Row.fetchCursor(db, sql: """
                    SELECT i.path, i.width, i.height, f.x, f.y, f.w, f.h, f.score, f.landmarks, f.whole_image,
                           f.time_start, f.time_end, f.frame_time, e.vector
                    FROM images i JOIN faces f ON f.image_id = i.id JOIN embeddings e ON e.face_id = f.id
                    ORDER BY i.id, f.id
                    """)
                while let row = try rows.next() {
                    let path: String = row["path"]
                    if let paths, !paths.contains(path) { continue }
                    let face = Self.face(row)
                    let blob: Data = row["vector"]
                    let vector = blob.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
                    result[path, default: StoredImage(width: row["width"], height: row["height"], faces: [])]
                        .faces.append(StoredFace(face: face, embedding: Embedding(vector)))
                }
                return result
            }
        }
    }

    /// A face from the columns of `faces` (x, y, w, h, score, landmarks, whole_image, time_start, time_end,
    /// frame_time).
    static func face(_ row: Row) -> DetectedFace {
        let landmarks: String? = row["landmarks"]
        return DetectedFace(box: Box(x: row["x"], y: row["y"], width: row["w"], height: row["h"]),
                            score: row["score"], landmarks: landmarks.flatMap(Self.parseLandmarks),
                            isWholeImage: row["whole_image"],
                            time: FaceTime(columns: row["time_start"], row["time_end"], row["frame_time"]))
    }

    static func parseLandmarks(_ text: String) -> Landmarks5? {
        let values = text.split(whereSeparator: { $0 == ";" || $0 == "," }).compactMap { Float(String($0)) }
        return values.count == 10 ? Landmarks5(flat: values) : nil
    }

    static func blob(_ vector: [Float]) -> Data {
        vector.withUnsafeBufferPointer { Data(buffer: $0) }
    }
}
