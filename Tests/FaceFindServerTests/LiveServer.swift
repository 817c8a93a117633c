import FaceFind
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real `facefind serve` process on a free loopback port, for what only a real process shows: signals,
/// sockets, a browser.
final class LiveServer: @unchecked Sendable {
    let process = Process()
    let port: Int
    let database: String
    private let output = Pipe()
    private let errors = Pipe()

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// The `facefind` binary built beside the test bundle (swift test builds it), else the release build.
    static func binary() throws -> String {
        var candidates: [String] = []
        if let test = Bundle.main.executableURL ?? URL(string: "file://" + CommandLine.arguments[0]) {
            var folder = test.deletingLastPathComponent()
            // The test executable may sit inside an .xctest bundle folder.
            if folder.pathExtension == "xctest" { folder = folder.deletingLastPathComponent() }
            candidates.append(folder.appendingPathComponent("facefind").path)
        }
        candidates.append(Fixture.packageRoot.appendingPathComponent(".build/release/facefind").path)
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw LiveServerError("no facefind binary at \(candidates); build it (scripts/setup.sh)")
        }
        return found
    }

    /// Starts the server on a copy of the test gallery, or on the store at `store` (a URL for `--store`), and
    /// waits (at most 60 s) for its "listening" line.
    /// `clustered`: the gallery's faces grouped into persons first, as `facefind people cluster` does.
    init(arguments: [String] = [], store: String? = nil, clustered: Bool = false, name: String = #function) throws {
        let (db, uploads) = try Fixture.gallery(name)
        database = db
        if clustered {
            _ = try PeopleClustering.clusterGallery(try SQLiteGalleryStore(path: db))
        }
        process.executableURL = URL(fileURLWithPath: try Self.binary())
        process.arguments = ["serve"] + (store.map { ["--store", $0] } ?? ["--db", db])
            + ["--uploads", uploads, "--port", "0", "--host", "127.0.0.1", "--api-key", Fixture.apiKey,
               "--models", Fixture.models] + arguments
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let banner = LockedText()
        output.fileHandleForReading.readabilityHandler = { handle in banner.append(handle.availableData) }
        let deadline = Date().addingTimeInterval(60)
        var port: Int?
        while port == nil, Date() < deadline, process.isRunning {
            if let range = banner.text.range(of: #"127\.0\.0\.1:(\d+)/"#, options: .regularExpression) {
                port = Int(banner.text[range].dropFirst("127.0.0.1:".count).dropLast())
            } else {
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        output.fileHandleForReading.readabilityHandler = nil
        guard let port else {
            if process.isRunning { process.terminate() }
            let stderr = String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self)
            throw LiveServerError("facefind serve did not start: \(banner.text) \(stderr)")
        }
        self.port = port
    }

    /// Sends SIGTERM and waits (at most `timeout` s) for the exit; returns the exit status.
    @discardableResult
    func stop(timeout: TimeInterval = 30) -> Int32? {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    // MARK: - HTTP

    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 120
        configuration.httpMaximumConnectionsPerHost = 64
        return URLSession(configuration: configuration)
    }()

    func request(_ path: String, method: String = "GET", body: [UInt8]? = nil, type: String? = nil,
                 key: String? = nil) async throws -> (status: Int, headers: [String: String], body: Data) {
        guard let url = URL(string: baseURL + path) else { throw LiveServerError("bad path \(path)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        if let body { request.httpBody = Data(body) }
        if let type { request.setValue(type, forHTTPHeaderField: "Content-Type") }
        if let key { request.setValue(key, forHTTPHeaderField: "X-API-Key") }
        let (data, response) = try await Self.session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw LiveServerError("not HTTP") }
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        return (http.statusCode, headers, data)
    }

    func search(_ photo: String) async throws -> (status: Int, headers: [String: String], body: Data) {
        try await request("/v1/search", method: "POST", body: try Fixture.bytes(photo), type: "image/jpeg")
    }

    /// `facefind_queue_admitted_total{queue="inference"}` from /metrics: requests the server has taken in.
    func admittedJobs() async throws -> Int {
        let text = String(decoding: try await request("/metrics").body, as: UTF8.self)
        let prefix = #"facefind_queue_admitted_total{queue="inference"} "#
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return 0 }
        return Int(line.dropFirst(prefix.count)) ?? 0
    }
}

struct LiveServerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Text gathered from a pipe on another thread.
final class LockedText: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func append(_ more: Data) { lock.withLock { data.append(more) } }
    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}

/// A plain TCP connection to a live server, for what URLSession cannot do: send a request body a byte at a
/// time, and see when the server closes the socket.
final class RawConnection: @unchecked Sendable {
    private let fd: Int32
    private var received: [UInt8] = []

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LiveServerError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw LiveServerError("connect: \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(fd) }

    /// Sends `bytes`; false when the server has closed the connection.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Reads what has arrived, waiting at most `seconds`; true once the server has closed the connection.
    func receive(waiting seconds: Double) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(seconds * 1000)) > 0 else { return false }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 { received += chunk[0..<n]; return false }
        return true
    }

    /// The status line of the response received so far.
    var statusLine: String? {
        String(decoding: received, as: UTF8.self).components(separatedBy: "\r\n").first.flatMap { $0.isEmpty ? nil : $0 }
    }
}
