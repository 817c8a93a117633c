import Foundation
import GRDB

/// The embedded default store: one SQLite file (WAL mode) holding images, faces, embeddings and the settings
/// that made them. Each `write` is one transaction, so a killed indexing run keeps every batch it finished.
public final class SQLiteGalleryStore: GalleryStore {
    public let name: String
    private let pool: DatabasePool

    public init(path: String) throws {
        self.name = path
        do {
            let parent = (path as NSString).deletingLastPathComponent
            if !parent.isEmpty { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) }
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch let error as DatabaseError {
            throw GalleryError.storage(store: path, message: "cannot open as a FaceFind index: \(error.message ?? "\(error)")")
        }
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
        return migrator
    }

    private func wrap<T>(_ body: () throws -> T) throws -> T {
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
                            INSERT INTO faces (image_id, x, y, w, h, score, landmarks, whole_image)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                            """, arguments: [imageID, f.box.x, f.box.y, f.box.width, f.box.height, f.score,
                                             landmarks, f.isWholeImage])
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
        let dimension = try settings()?.dimension ?? 0
        return try wrap {
            try pool.read { db in
                var matrix = FaceMatrix(dimension: dimension)
                let rows = try Row.fetchCursor(db, sql: """
                    SELECT i.id AS image_id, i.path, f.id AS face_id, f.x, f.y, f.w, f.h, f.whole_image, e.vector
                    FROM images i JOIN faces f ON f.image_id = i.id JOIN embeddings e ON e.face_id = f.id
                    ORDER BY i.id, f.id
                    """)
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
        }
    }

    /// Faces of one image, for pictures and the API.
    public func faces(ofImage id: Int64) throws -> [DetectedFace] {
        try wrap {
            try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT x, y, w, h, score, landmarks, whole_image FROM faces WHERE image_id = ? ORDER BY id",
                                 arguments: [id]).map { row in
                    let landmarks: String? = row["landmarks"]
                    return DetectedFace(box: Box(x: row["x"], y: row["y"], width: row["w"], height: row["h"]),
                                        score: row["score"], landmarks: landmarks.flatMap(Self.parseLandmarks),
                                        isWholeImage: row["whole_image"])
                }
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
                    SELECT i.path, i.width, i.height, f.x, f.y, f.w, f.h, f.score, f.landmarks, f.whole_image, e.vector
                    FROM images i JOIN faces f ON f.image_id = i.id JOIN embeddings e ON e.face_id = f.id
                    ORDER BY i.id, f.id
                    """)
                while let row = try rows.next() {
                    let path: String = row["path"]
                    if let paths, !paths.contains(path) { continue }
                    let landmarks: String? = row["landmarks"]
                    let face = DetectedFace(box: Box(x: row["x"], y: row["y"], width: row["w"], height: row["h"]),
                                            score: row["score"], landmarks: landmarks.flatMap(Self.parseLandmarks),
                                            isWholeImage: row["whole_image"])
                    let blob: Data = row["vector"]
                    let vector = blob.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
                    result[path, default: StoredImage(width: row["width"], height: row["height"], faces: [])]
                        .faces.append(StoredFace(face: face, embedding: Embedding(vector)))
                }
                return result
            }
        }
    }

    static func parseLandmarks(_ text: String) -> Landmarks5? {
        let values = text.split(whereSeparator: { $0 == ";" || $0 == "," }).compactMap { Float(String($0)) }
        return values.count == 10 ? Landmarks5(flat: values) : nil
    }

    static func blob(_ vector: [Float]) -> Data {
        vector.withUnsafeBufferPointer { Data(buffer: $0) }
    }
}
