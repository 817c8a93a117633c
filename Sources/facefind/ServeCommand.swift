import ArgumentParser
import FaceFind
import FaceFindPostgres
import FaceFindServer
import Foundation
import Logging

/// A synchronous command that blocks on the async server: the root command is a plain `ParsableCommand`,
/// and ArgumentParser only awaits `run()` when the root is async.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a gallery over HTTP: a JSON API and a web page to search by photo.",
        discussion: """
            Open http://127.0.0.1:8080/ for the page; /openapi.yaml describes the API. Writes (adding and \
            deleting photos) need the API key, from --api-key or $FACEFIND_API_KEY; without one, a random key \
            is made and printed at start. A SQLite index is searched in memory; a PostgreSQL store \
            (--store postgres://…) where it is, through its HNSW index, so several servers can share it.

              facefind serve --db photos.sqlite --port 8080
              facefind serve --store postgres://facefind@db.local/photos --uploads /srv/shared/uploads
            """)

    @Option(help: "Index file (SQLite; default facefind.sqlite); created, with the default models, when it does not exist.")
    var db: String?

    @OptionGroup var store: StoreOption

    @Option(help: "Interface to listen on (0.0.0.0 for every interface).")
    var host = "127.0.0.1"

    @Option(help: "TCP port (0: any free port; the one chosen is printed).")
    var port = 8080

    @Option(help: "Folder for uploaded photos (default: <db name>-uploads beside the index file; facefind-uploads in the current folder for a PostgreSQL store).")
    var uploads: String?

    @Option(help: "API key for write endpoints (default: $FACEFIND_API_KEY, else a random one, printed).")
    var apiKey: String?

    @Flag(help: "Require the API key for read endpoints too (search, gallery, thumbnails, models, metrics).")
    var protectReads = false

    @Option(help: "Largest request body, in MiB.")
    var maxBodyMb = 20

    @Option(help: "Largest image, in megapixels.")
    var maxMegapixels = 40.0

    @Option(help: "Most seconds of video in one upload (their durations added).")
    var maxVideoSeconds = 300

    @Option(help: "Most faces of one photo embedded where a request asks for all (/v1/embed, face=all; 413 beyond).")
    var maxFaces = 20

    @Option(help: "Inference requests that may wait for a worker before new ones get 503.")
    var queue = 64

    @Option(help: "Seconds a client has to send a whole request body before 408 and a closed connection (0: no limit).")
    var bodyTimeout = 60

    @Option(help: "Least average bytes per second of a request body after the first 5 s (0: no minimum).")
    var minBodyRate = 4096

    @Option(help: "Seconds SIGTERM/SIGINT waits for open connections before closing them (admitted work still finishes).")
    var shutdownGrace = 10

    @Flag(help: "Give absolute file paths in responses (default: relative to the gallery's root folder).")
    var exposePaths = false

    @Option(help: "Default cosine score below which a match is 'unknown' (default: the embedder's measured one).")
    var cosineThreshold: Float?

    @Option(help: "Default euclidean distance above which a match is 'unknown' (default: matching the cosine one).")
    var euclideanThreshold: Float?

    @Option(help: "Embedder precision of a new index: fp32 or int8 (default: int8 where the CPU has VNNI and the int8 model is installed, else fp32). An existing index keeps its own.")
    var precision: Precision?

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        try store.validate(db: db)
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard maxBodyMb > 0, maxMegapixels > 0, maxVideoSeconds > 0, queue >= 0 else {
            throw ValidationError("--max-body-mb, --max-megapixels and --max-video-seconds must be positive, --queue not negative")
        }
        guard maxFaces > 0 else { throw ValidationError("--max-faces must be positive") }
        guard bodyTimeout >= 0, minBodyRate >= 0, shutdownGrace >= 0 else {
            throw ValidationError("--body-timeout, --min-body-rate and --shutdown-grace must not be negative")
        }
    }

    func run() throws {
        runtime.bootstrapLogging()
        do {
            let environmentKey = ProcessInfo.processInfo.environment["FACEFIND_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
            let key = apiKey ?? environmentKey ?? ServerConfiguration.generateKey()
            // One ONNX thread per call: parallelism comes from the inference workers, one per core.
            let loader = try runtime.loader()
            let gallery = try Gallery.open(store.location(db: db), loader: loader, precision: precision)
            let uploadsFolder = URL(fileURLWithPath: uploads ?? (gallery.store as? SQLiteGalleryStore).map {
                URL(fileURLWithPath: $0.name).deletingPathExtension().path + "-uploads"
            } ?? "facefind-uploads").standardizedFileURL.path

            var configuration = ServerConfiguration(apiKey: key, uploadsDirectory: uploadsFolder)
            configuration.host = host
            configuration.port = port
            configuration.protectReads = protectReads
            configuration.maxBodyBytes = maxBodyMb << 20
            configuration.maxPixels = Int(maxMegapixels * 1_000_000)
            configuration.maxVideoSeconds = maxVideoSeconds
            configuration.maxFacesPerRequest = maxFaces
            configuration.inferenceWorkers = runtime.workerCount
            configuration.queueCapacity = queue
            configuration.bodyTimeoutSeconds = bodyTimeout
            configuration.minBodyBytesPerSecond = minBodyRate
            configuration.shutdownGraceSeconds = shutdownGrace
            configuration.exposePaths = exposePaths
            configuration.cosineThreshold = cosineThreshold
            configuration.euclideanThreshold = euclideanThreshold
            configuration.precision = precision

            let service = try FaceFindService(gallery: gallery, loader: loader, configuration: configuration,
                                              metrics: ServerMetrics())
            if apiKey == nil && environmentKey == nil {
                FileHandle.standardError.write(Data("facefind serve: no API key given; writes need this one: \(key)\n".utf8))
            }
            var serverLogger = Logger(label: "facefind.serve")
            serverLogger.logLevel = runtime.verbose ? .info : .warning
            let logger = serverLogger
            let banner = "facefind serve: listening on http://\(host):%d/ (index \(gallery.store.name), uploads \(uploadsFolder))"
            try Self.block {
                try await service.run(logger: logger) { port in
                    // On stdout, unbuffered, so scripts and tests can wait for it and learn a port-0 port.
                    FileHandle.standardOutput.write(Data((String(format: banner, port) + "\n").utf8))
                }
            }
        } catch {
            throw fail(error)
        }
    }

    /// Runs `body` to completion on the concurrency pool while this (main) thread waits.
    static func block(_ body: @escaping @Sendable () async throws -> Void) throws {
        final class Outcome: @unchecked Sendable { var error: Error? }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { try await body() } catch { outcome.error = error }
            done.signal()
        }
        done.wait()
        if let error = outcome.error { throw error }
    }
}
