import Foundation
import GRDB

/// Where a SQLite index stands in its history of face changes: the row of `face_changes` (its random database id
/// and the counter that triggers move once for every face inserted or deleted, by any process). Two equal states
/// mean the same faces; a process that keeps the faces in memory (`facefind serve`) compares the state it loaded
/// with the store's to learn that another process (`facefind index`) changed them.
public struct FaceChangeState: Hashable, Sendable, CustomStringConvertible {
    public let database: UInt64
    /// Faces inserted plus faces deleted since the index was made.
    public let changes: UInt64
    /// The random token every face change draws anew (migration v6): two copies of one index changed apart reach
    /// the same counter with different tokens.
    public let token: UInt64

    public var description: String { "database \(database), face change \(changes)" }
}

extension SQLiteGalleryStore {
    /// The store's face change state now: one small read.
    public func changeState() throws -> FaceChangeState {
        try wrap { try pool.read { db in try Self.changeState(db) } }
    }

    /// The same read inside a caller's transaction; the row is read where the vector file reads it.
    static func changeState(_ db: Database) throws -> FaceChangeState {
        let state = try faceChangeState(db)
        return FaceChangeState(database: state.database, changes: state.changes, token: state.token)
    }

    /// Every face's vector (as `loadFaceMatrix()`) and the change state they are as of, read in one transaction.
    public func loadFaceMatrixWithChangeState() throws -> (matrix: FaceMatrix, state: FaceChangeState) {
        let dimension = try settings()?.dimension ?? 0
        return try wrap {
            try pool.read { db in
                (try Self.faceMatrix(db, dimension: dimension, where: "", arguments: []), try Self.changeState(db))
            }
        }
    }

    /// The faces of the images now at `paths` (as `loadFaceMatrix(paths:)`), how many face rows those images have
    /// (with or without a vector: what the change counter counts), and the change state, in one transaction.
    public func loadFaceMatrixWithChangeState(paths: [String]) throws
        -> (matrix: FaceMatrix, faceRows: Int, state: FaceChangeState) {
        let dimension = try settings()?.dimension ?? 0
        return try wrap {
            try pool.read { db in
                var matrix = FaceMatrix(dimension: dimension)
                var rows = 0
                // In chunks well below SQLite's limit on bound parameters (32,766).
                for chunk in Self.chunks(paths) {
                    let marks = Self.marks(chunk.count)
                    matrix.append(contentsOf: try Self.faceMatrix(db, dimension: dimension, where: "WHERE i.path IN (\(marks))",
                                                                  arguments: StatementArguments(chunk)))
                    rows += try Int.fetchOne(db, sql: """
                        SELECT COUNT(*) FROM faces f JOIN images i ON i.id = f.image_id WHERE i.path IN (\(marks))
                        """, arguments: StatementArguments(chunk)) ?? 0
                }
                return (matrix, rows, try Self.changeState(db))
            }
        }
    }

    /// The ids of the images now at `paths` or with `ids`, how many face rows they have, and the change state, in
    /// one transaction: what a change that replaces or removes exactly these images will move the counter by.
    public func imagesWithChangeState(paths: [String], ids: [Int64]) throws
        -> (ids: Set<Int64>, faceRows: Int, state: FaceChangeState) {
        try wrap {
            try pool.read { db in
                var found = Set<Int64>()
                for chunk in Self.chunks(paths) {
                    found.formUnion(try Int64.fetchAll(db, sql: "SELECT id FROM images WHERE path IN (\(Self.marks(chunk.count)))",
                                                       arguments: StatementArguments(chunk)))
                }
                for chunk in Self.chunks(ids) {
                    found.formUnion(try Int64.fetchAll(db, sql: "SELECT id FROM images WHERE id IN (\(Self.marks(chunk.count)))",
                                                       arguments: StatementArguments(chunk)))
                }
                var rows = 0
                for chunk in Self.chunks(Array(found)) {
                    rows += try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM faces WHERE image_id IN (\(Self.marks(chunk.count)))",
                                             arguments: StatementArguments(chunk)) ?? 0
                }
                return (found, rows, try Self.changeState(db))
            }
        }
    }

    /// `values` in pieces of 1,000: well below SQLite's limit on bound parameters (32,766).
    private static func chunks<T>(_ values: [T]) -> [[T]] {
        stride(from: 0, to: values.count, by: 1_000).map { Array(values[$0..<min($0 + 1_000, values.count)]) }
    }

    private static func marks(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }
}
