import FaceFind
import Foundation
import PostgresNIO

/// The operator class of the HNSW index, which fixes the distance it can answer: cosine (`<=>`) or
/// euclidean (`<->`).
public enum HNSWMetric: String, Sendable, CaseIterable, Codable {
    case cosine
    case l2

    public var operatorClass: String { self == .cosine ? "cosine_ops" : "l2_ops" }
    public var distanceOperator: String { self == .cosine ? "<=>" : "<->" }

    public init(_ metric: DistanceMetric) { self = metric == .cosine ? .cosine : .l2 }
}

/// How a `PostgresGalleryStore` lays out and indexes its vectors, and how it behaves when the server goes away.
/// Every field can be set from the URL's query (`?schema=photos&hnsw=l2&m=24&...`).
public struct PostgresStoreOptions: Sendable, Equatable {
    /// The schema holding the store's tables (created when missing), so that several galleries can share a
    /// database. URL: `schema`.
    public var schema: String = "facefind"
    /// The HNSW index's distance, or nil for no index (every search is then exact). Applies when the store is
    /// created; an existing store keeps its index. URL: `hnsw=cosine|l2|none`.
    public var hnsw: HNSWMetric? = .cosine
    /// HNSW graph degree and build-time candidate list (pgvector defaults 16 and 64). URL: `m`,
    /// `ef_construction`.
    public var m: Int = 16
    public var efConstruction: Int = 64
    /// Search-time candidate list (`hnsw.ef_search`); larger is slower and more exact. URL: `ef_search`.
    public var efSearch: Int = 100
    /// When the HNSW index is built: with the table, so that every insert maintains it (the default; right for
    /// indexing photos, where embedding, not insertion, is the bottleneck), or only when `buildIndex()` is
    /// called after a bulk load. URL: `build=incremental|deferred`.
    public var deferIndexBuild = false
    /// `vector` (float32) or `halfvec` (float16, half the size; pgvector ≥ 0.7). URL: `type`.
    public var halfPrecision = false
    /// How long to keep reconnecting after the server went away before failing the operation. URL:
    /// `reconnect_timeout` (seconds).
    public var reconnectTimeout: Double = 120
    /// `maintenance_work_mem` for HNSW builds (pgvector builds fastest when the graph fits). URL:
    /// `maintenance_work_mem`.
    public var maintenanceWorkMem: String = "1GB"

    public init() {}

    public var vectorType: String { halfPrecision ? "halfvec" : "vector" }
}

/// Where the server is and how to log in, parsed from a libpq-style URL:
/// `postgres://user:password@host:port/database?schema=…`, or with `?host=/socket/dir` for a Unix socket.
public struct PostgresLocation: Sendable {
    public var host: String
    public var port: Int
    public var socketDirectory: String?
    public var user: String
    public var password: String?
    public var database: String
    public var tls: String
    public var options: PostgresStoreOptions
    /// The URL without its password, for messages.
    public var displayName: String

    public init(url: String) throws {
        func bad(_ why: String) -> GalleryError {
            .storage(store: Self.redact(url), message: "not a PostgreSQL URL (\(why)); expected postgres://user:password@host:port/database[?schema=NAME&hnsw=cosine|l2|none&m=16&ef_construction=64&ef_search=100&type=vector|halfvec]")
        }
        guard let components = URLComponents(string: url),
              let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql"
        else { throw bad("scheme must be postgres://") }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] { query[item.name.lowercased()] = item.value ?? "" }

        user = components.user.flatMap { $0.removingPercentEncoding } ?? query.removeValue(forKey: "user")
            ?? ProcessInfo.processInfo.environment["PGUSER"] ?? "postgres"
        password = components.password.flatMap { $0.removingPercentEncoding } ?? query.removeValue(forKey: "password")
            ?? ProcessInfo.processInfo.environment["PGPASSWORD"]
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? (query.removeValue(forKey: "dbname") ?? user) : (path.removingPercentEncoding ?? path)
        port = components.port ?? query.removeValue(forKey: "port").flatMap(Int.init) ?? 5432
        let hostParameter = query.removeValue(forKey: "host")
        if let hostParameter, hostParameter.hasPrefix("/") {
            socketDirectory = hostParameter
            host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        } else {
            socketDirectory = nil
            host = components.host.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding } ?? hostParameter ?? "localhost"
        }
        tls = query.removeValue(forKey: "sslmode") ?? "disable"
        guard ["disable", "prefer", "require", "verify-full"].contains(tls) else {
            throw bad("sslmode must be disable, prefer, require or verify-full")
        }

        var options = PostgresStoreOptions()
        if let schema = query.removeValue(forKey: "schema") {
            guard !schema.isEmpty, schema.count < 64,
                  schema.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }),
                  !schema.first!.isNumber
            else { throw bad("schema must be letters, digits and _") }
            options.schema = schema.lowercased()
        }
        if let hnsw = query.removeValue(forKey: "hnsw") {
            switch hnsw.lowercased() {
            case "cosine": options.hnsw = .cosine
            case "l2", "euclidean": options.hnsw = .l2
            case "none", "off", "": options.hnsw = nil
            default: throw bad("hnsw must be cosine, l2 or none")
            }
        }
        func integer(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let text = query.removeValue(forKey: key) else { return nil }
            guard let value = Int(text), range.contains(value) else { throw bad("\(key) must be an integer in \(range)") }
            return value
        }
        if let m = try integer("m", 2...100) { options.m = m }
        if let ef = try integer("ef_construction", 4...1000) { options.efConstruction = ef }
        if let ef = try integer("ef_search", 1...1000) { options.efSearch = ef }
        if let seconds = try integer("reconnect_timeout", 0...86_400) { options.reconnectTimeout = Double(seconds) }
        if let build = query.removeValue(forKey: "build") {
            guard build == "incremental" || build == "deferred" else { throw bad("build must be incremental or deferred") }
            options.deferIndexBuild = build == "deferred"
        }
        if let type = query.removeValue(forKey: "type") {
            guard type == "vector" || type == "halfvec" else { throw bad("type must be vector or halfvec") }
            options.halfPrecision = type == "halfvec"
        }
        if let memory = query.removeValue(forKey: "maintenance_work_mem") {
            guard memory.allSatisfy({ $0.isLetter || $0.isNumber }) else { throw bad("maintenance_work_mem like 4GB") }
            options.maintenanceWorkMem = memory
        }
        query.removeValue(forKey: "application_name")
        query.removeValue(forKey: "connect_timeout")
        if let unknown = query.keys.sorted().first { throw bad("unknown parameter '\(unknown)'") }
        self.options = options
        displayName = Self.redact(url)
    }

    /// `url` with its password replaced by `***` (in the user part and in a `password=` parameter).
    public static func redact(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return "postgres://(unparsable URL)" }
        if components.password != nil { components.password = "***" }
        if let items = components.queryItems {
            components.queryItems = items.map { $0.name.lowercased() == "password" ? URLQueryItem(name: $0.name, value: "***") : $0 }
        }
        return components.string ?? "postgres://(unparsable URL)"
    }

    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let socketDirectory {
            configuration = .init(unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: user,
                                  password: password, database: database)
        } else {
            let tlsSetting: PostgresConnection.Configuration.TLS
            switch tls {
            case "disable":
                tlsSetting = .disable
            default:
                var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
                if tls != "verify-full" { tlsConfiguration.certificateVerification = .none }
                let context = try NIOSSLContext(configuration: tlsConfiguration)
                tlsSetting = tls == "prefer" ? .prefer(context) : .require(context)
            }
            configuration = .init(host: host, port: port, username: user, password: password, database: database,
                                  tls: tlsSetting)
        }
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.additionalStartupParameters = [("application_name", "facefind")]
        return configuration
    }
}
