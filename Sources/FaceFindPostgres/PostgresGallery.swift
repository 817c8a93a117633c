import FaceFind
import Foundation

extension Gallery {
    /// The store at `location`: a `postgres://` (or `postgresql://`) URL, `sqlite:FILE` (or `sqlite://FILE`), or
    /// the path of a SQLite file. With `create: false` a missing store is an error instead of a new empty one
    /// (for searching: a mistyped name must not leave an empty index behind).
    public static func store(at location: String, create: Bool = true) throws -> any GalleryStore {
        let lower = location.lowercased()
        if lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://") {
            return try PostgresGalleryStore(url: location, create: create)
        }
        for prefix in ["sqlite://", "sqlite:"] where location.hasPrefix(prefix) {
            return try SQLiteGalleryStore(path: String(location.dropFirst(prefix.count)), create: create)
        }
        if location.contains("://") {
            throw GalleryError.notFound("unknown kind of store '\(PostgresLocation.redact(location))'; use postgres://… or sqlite:FILE")
        }
        return try SQLiteGalleryStore(path: location, create: create)
    }

    /// Opens the gallery at `location` (see `store(at:create:)`) to serve it (`Gallery(serving:)`): a PostgreSQL
    /// store is searched on the database server, a SQLite one in memory.
    public static func open(_ location: String, loader: ModelLoader, precision: Precision? = nil) throws -> Gallery {
        let store = try store(at: location)
        return try Gallery(serving: store, serverSearcher: store as? PostgresGalleryStore, loader: loader,
                           precision: precision)
    }

    /// Opens the indexed gallery at `location` to search it (`Gallery(searching:)`); nothing is created.
    public static func openIndexed(_ location: String, loader: ModelLoader) throws -> Gallery {
        let store = try store(at: location, create: false)
        return try Gallery(searching: store, serverSearcher: store as? PostgresGalleryStore, loader: loader)
    }
}
