import Foundation
import GRDB

/// What `GalleryVectorFile` reads from the index: the state its file is checked against, every face's vector in
/// one consistent read, and the few rows that turn search results into `Match`es.
extension SQLiteGalleryStore {
    /// The path of the index file (`name`), and of the vector file kept beside it.
    public var vectorFilePath: String { name + ".vectors" }

    /// The state a vector file is checked against: this database's random id, its face change counter (schema
    /// 4's `face_changes`, moved by triggers in every transaction that inserts or deletes a face), and the random
    /// token the same triggers draw anew (migration v6), which tells apart two copies of one index changed apart.
    public typealias VectorFileState = (database: UInt64, changes: UInt64, token: UInt64)

    public func faceChangeState() throws -> VectorFileState {
        try wrap { try pool.read { db in try Self.faceChangeState(db) } }
    }

    static func faceChangeState(_ db: Database) throws -> VectorFileState {
        guard let row = try Row.fetchOne(db, sql: "SELECT database_id, changes, token FROM face_changes WHERE id = 1") else {
            throw DatabaseError(message: "face_changes is empty")
        }
        let database: Int64 = row["database_id"], changes: Int64 = row["changes"], token: Int64 = row["token"]
        return (UInt64(bitPattern: database), UInt64(bitPattern: changes), UInt64(bitPattern: token))
    }

    /// One face as `readFaceVectors` hands it out.
    typealias FaceVectorRow = (faceID: Int64, imageID: Int64, vector: Data)

    /// Every face's ids and vector (the faces `loadFaceMatrix()` returns, in its order) with the change state
    /// they are as of, all from one read transaction: `body` gets the state, the number of faces, and `pass()`,
    /// which starts one more pass over the faces (a cursor: nil after the last).
    func readFaceVectors<T>(_ body: (_ state: VectorFileState, _ count: Int,
                                     _ pass: () throws -> () throws -> FaceVectorRow?) throws -> T) throws -> T {
        try wrap {
            try pool.read { db in
                let state = try Self.faceChangeState(db)
                let count = try Int.fetchOne(db, sql: """
                    SELECT COUNT(*) FROM images i JOIN faces f ON f.image_id = i.id JOIN embeddings e ON e.face_id = f.id
                    """) ?? 0
                return try body(state, count) {
                    let rows = try Row.fetchCursor(db, sql: """
                        SELECT i.id AS image_id, f.id AS face_id, e.vector
                        FROM images i JOIN faces f ON f.image_id = i.id JOIN embeddings e ON e.face_id = f.id
                        ORDER BY i.id, f.id
                        """)
                    return {
                        guard let row = try rows.next() else { return nil }
                        return (row["face_id"], row["image_id"], row["vector"])
                    }
                }
            }
        }
    }

    /// One face as `faceDetails` gives it.
    typealias FaceDetail = (imageID: Int64, path: String, box: Box, isWholeImage: Bool, vector: Data)

    /// Image, photo path, box, kind and vector of the faces `ids` (those still in the index), for building
    /// `Match`es and checking the vector file's rows against the index.
    func faceDetails(ids: [Int64]) throws -> [Int64: FaceDetail] {
        try wrap {
            try pool.read { db in
                var details: [Int64: FaceDetail] = [:]
                for start in stride(from: 0, to: ids.count, by: 1_000) {
                    let chunk = Array(ids[start..<min(start + 1_000, ids.count)])
                    let marks = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
                    let rows = try Row.fetchCursor(db, sql: """
                        SELECT f.id, i.id AS image_id, i.path, f.x, f.y, f.w, f.h, f.whole_image, e.vector
                        FROM faces f JOIN images i ON i.id = f.image_id JOIN embeddings e ON e.face_id = f.id
                        WHERE f.id IN (\(marks))
                        """, arguments: StatementArguments(chunk))
                    while let row = try rows.next() {
                        details[row["id"]] = (row["image_id"], row["path"],
                                              Box(x: row["x"], y: row["y"], width: row["w"], height: row["h"]),
                                              row["whole_image"], row["vector"])
                    }
                }
                return details
            }
        }
    }

    /// Images with at least one face that has a vector.
    func imageCountWithFaces() throws -> Int {
        try wrap {
            try pool.read { db in
                try Int.fetchOne(db, sql: """
                    SELECT COUNT(DISTINCT f.image_id) FROM faces f JOIN embeddings e ON e.face_id = f.id
                    """) ?? 0
            }
        }
    }
}
