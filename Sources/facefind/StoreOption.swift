import ArgumentParser
import FaceFind
import FaceFindPostgres
import Foundation

/// `--store URL`: where `index` and `search` keep the gallery, instead of `--db FILE`. `postgres://…` opens the
/// PostgreSQL + pgvector store; `sqlite:PATH` or a plain path the SQLite file.
struct StoreOption: ParsableArguments {
    @Option(name: .customLong("store"), help: ArgumentHelp(
        "Gallery store URL instead of --db: postgres://user:password@host:port/database[?schema=NAME&hnsw=cosine|l2|none&m=16&ef_construction=64&ef_search=100&type=vector|halfvec] (or ?host=/socket/dir), or sqlite:FILE.",
        valueName: "url"))
    var url: String?

    static let defaultDatabase = "facefind.sqlite"

    var isPostgres: Bool { url.map(Self.isPostgresURL) ?? false }

    static func isPostgresURL(_ url: String) -> Bool {
        let lower = url.lowercased()
        return lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://")
    }

    /// Refuses `--store` together with `--db`.
    func validate(db: String?) throws {
        if url != nil, db != nil { throw ValidationError("--store and --db are mutually exclusive: give one") }
    }

    /// The gallery's location: `--store`, else the SQLite file `--db` (default facefind.sqlite).
    func location(db: String?) throws -> String {
        try validate(db: db)
        return url ?? db ?? Self.defaultDatabase
    }

    /// The store at `location(db:)` (`Gallery.store(at:)`).
    func open(db: String?) throws -> any GalleryStore {
        try Gallery.store(at: location(db: db))
    }

    /// The SQLite files to search: `--store sqlite:FILE` or `--db` (comma-separated list).
    func databaseList(db: String?) -> String {
        if let url, !Self.isPostgresURL(url) {
            for prefix in ["sqlite://", "sqlite:"] where url.hasPrefix(prefix) { return String(url.dropFirst(prefix.count)) }
            return url
        }
        return db ?? Self.defaultDatabase
    }
}

/// Search options that only a server-side store (`--store postgres://…`) uses.
struct ServerSearchOptions: ParsableArguments {
    @Flag(help: "With --store postgres://…: exact search (full scan in the server, HNSW index disabled).")
    var exact = false

    @Option(help: "With --store postgres://…: HNSW candidate list size (hnsw.ef_search; default the URL's ef_search, 100).")
    var efSearch: Int?
}

