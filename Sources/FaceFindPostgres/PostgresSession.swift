import FaceFind
import Foundation
import Logging
import PostgresNIO

/// One connection to the server for synchronous callers (`GalleryStore` is a synchronous protocol, called from
/// indexing worker threads and the CLI's main thread).
///
/// The bridge: postgres-nio runs the connection on NIO's event loop threads; every operation here sends its
/// query and blocks the *calling* thread on the returned future (`EventLoopFuture.wait()`). No Swift concurrency
/// task is created and no cooperative-pool thread is ever waited for, so a 2-thread pool cannot deadlock on it.
/// Do not call the store from an event loop thread (NIO traps on that).
///
/// Operations are serialised (one connection). An operation runs in `run`: when the connection is lost (server
/// restart, crash, network), the connection is dropped, re-opened with exponential backoff for up to
/// `reconnectTimeout` seconds, and the whole operation — a whole transaction for writes — runs again. Writes
/// are idempotent (replace by path), so a transaction whose COMMIT was lost in flight is safe to repeat.
package final class PostgresSession: @unchecked Sendable {
    let location: PostgresLocation
    let logger: Logger
    private let driverLogger: Logger
    private let configuration: PostgresConnection.Configuration
    private let lock = NSLock()
    private var connection: PostgresConnection?
    /// Session settings (`SET name = value`) made on the current connection, so they are sent only on change.
    private var sessionSettings: [String: String] = [:]
    private var searchPath: String?
    private var hasConnected = false
    private var reconnectCount = 0
    private var hook: (@Sendable (String) -> Void)?

    private static let ids = IDCounter()

    init(location: PostgresLocation, logger: Logger) throws {
        self.location = location
        self.logger = logger
        var driverLogger = Logger(label: "facefind.postgres.driver")
        driverLogger.logLevel = .critical
        self.driverLogger = driverLogger
        configuration = try location.connectionConfiguration()
    }

    deinit { close() }

    /// How many times the connection was re-established after being lost.
    var reconnects: Int { lock.withLock { reconnectCount } }

    /// Called with each statement's SQL before it is sent (tests use it to stop the server mid-transaction).
    var statementHook: (@Sendable (String) -> Void)? {
        get { lock.withLock { hook } }
        set { lock.withLock { hook = newValue } }
    }


    /// Another connection to the same server with this one's search path, for work split over connections.
    func sibling() throws -> PostgresSession {
        let other = try PostgresSession(location: location, logger: logger)
        other.searchPath = lock.withLock { searchPath }
        return other
    }

    func close() {
        let current: PostgresConnection? = lock.withLock { defer { connection = nil }; return connection }
        _ = try? current?.close().wait()
    }

    /// A connection in use by one operation.
    package struct Handle {
        package let connection: PostgresConnection
        fileprivate let session: PostgresSession

        @discardableResult
        package func query(_ query: PostgresQuery) throws -> PostgresQueryResult {
            try send(query).wait()
        }

        /// Sends a query without waiting for its result (to overlap client work with the server's).
        ///
        /// The query is handed to the connection on its event loop, after checking there that the channel is
        /// still open: postgres-nio (1.33) writes a query to a channel that is already closed without failing
        /// the query's promise, which would leave the caller waiting forever after the server went away.
        /// On the event loop the check and the write cannot be separated by the close.
        package func send(_ query: PostgresQuery) -> EventLoopFuture<PostgresQueryResult> {
            session.hook?(query.sql)
            let connection = connection
            let logger = session.driverLogger
            return connection.eventLoop.flatSubmit {
                guard !connection.isClosed else {
                    return connection.eventLoop.makeFailedFuture(ConnectionClosed())
                }
                return connection.query(query, logger: logger)
            }
        }

        /// Sets the search_path now and on every later (re)connection.
        func setSearchPath(_ path: String) throws {
            try query("SELECT set_config('search_path', \(path), false)")
            session.searchPath = path
        }

        /// `SET name = value` on this connection unless already set. Use outside transactions only (a rolled
        /// back transaction would undo the setting behind the cache's back).
        package func set(_ name: String, _ value: String) throws {
            guard session.sessionSettings[name] != value else { return }
            try query(PostgresQuery(unsafeSQL: "SET \(name) = \(value)"))
            session.sessionSettings[name] = value
        }
    }

    /// Runs `body` on the connection, in a transaction when `transaction`, reconnecting and repeating it from
    /// the start when the connection is lost. Other errors roll back and are thrown as `GalleryError`.
    @discardableResult
    package func run<T>(transaction: Bool = false, _ body: (Handle) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        let timeout = location.options.reconnectTimeout
        var deadline: Date?
        var delay = 0.1
        var lostBecause: String?
        while true {
            var open = false
            do {
                let handle = Handle(connection: try connectLocked(), session: self)
                if let reason = lostBecause {
                    reconnectCount += 1
                    logger.warning("reconnected to \(location.displayName) after: \(reason)")
                    lostBecause = nil
                }
                if transaction { try handle.query("BEGIN"); open = true }
                let result = try body(handle)
                if transaction { try handle.query("COMMIT"); open = false }
                return result
            } catch {
                guard hasConnected, Self.isConnectionLoss(error) else {
                    if open, let connection { _ = try? Handle(connection: connection, session: self).query("ROLLBACK") }
                    throw describe(error)
                }
                dropLocked()
                let now = Date()
                if deadline == nil { deadline = now.addingTimeInterval(timeout) }
                let reason = Self.message(error)
                guard now < deadline! else {
                    throw GalleryError.storage(store: location.displayName,
                        message: "server unreachable for \(Int(timeout)) s (\(reason)); gave up")
                }
                if lostBecause == nil {
                    logger.warning("lost the connection to \(location.displayName) (\(reason)); reconnecting for up to \(Int(timeout)) s")
                }
                lostBecause = reason
                Thread.sleep(forTimeInterval: min(delay, max(0, deadline!.timeIntervalSince(now))))
                delay = min(delay * 2, 2)
            }
        }
    }

    private func connectLocked() throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        dropLocked()
        let group = MultiThreadedEventLoopGroup.singleton
        let connection = try PostgresConnection.connect(on: group.next(), configuration: configuration,
                                                        id: Self.ids.next(), logger: driverLogger).wait()
        if let searchPath {
            do {
                try Handle(connection: connection, session: self).query("SELECT set_config('search_path', \(searchPath), false)")
            } catch {
                _ = try? connection.close().wait()
                throw error
            }
        }
        self.connection = connection
        hasConnected = true
        return connection
    }

    private func dropLocked() {
        if let connection { _ = try? connection.close().wait() }
        connection = nil
        sessionSettings = [:]
    }

    /// Errors after which the same work can succeed on a new connection: the connection broke, the server is
    /// shutting down, crashed or still starting up.
    static func isConnectionLoss(_ error: any Error) -> Bool {
        if let error = error as? PSQLError {
            switch error.code {
            case .serverClosedConnection, .connectionError, .uncleanShutdown, .clientClosedConnection:
                return true
            case .server:
                let state = error.serverInfo?[.sqlState] ?? ""
                // 08: connection exception; 57P01/02/03: admin shutdown, crash shutdown, cannot connect now.
                return state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state)
            default:
                return false
            }
        }
        return error is ConnectionClosed || error is IOError || error is ChannelError || error is NIOConnectionError
    }

    /// The connection was found closed before a query could be sent.
    struct ConnectionClosed: Error, CustomStringConvertible {
        var description: String { "connection closed" }
    }

    /// The server's message for an error (postgres-nio's own description hides it).
    static func message(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let info = error.serverInfo, let message = info[.message] {
                var text = message
                if let detail = info[.detail] { text += " (\(detail))" }
                if let state = info[.sqlState] { text += " [SQLSTATE \(state)]" }
                return text
            }
            if let underlying = error.underlying { return "\(error.code): \(underlying)" }
            return "\(error.code)"
        }
        return "\(error)"
    }

    func describe(_ error: any Error) -> any Error {
        if error is GalleryError || error is PeopleError { return error }
        return GalleryError.storage(store: location.displayName, message: Self.message(error))
    }
}

/// Connection ids for postgres-nio's logs.
private final class IDCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { value += 1; return value } }
}
