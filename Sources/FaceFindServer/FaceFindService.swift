import FaceFind
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `facefind serve`: the HTTP API and web page over one gallery store.
///
/// Owns the engine and the two work queues. Build one, then either `run()` it (binds the port, serves until
/// SIGINT/SIGTERM, then drains), or hand `makeRouter()` to HummingbirdTesting.
public final class FaceFindService: Sendable {
    public let configuration: ServerConfiguration
    public let metrics: ServerMetrics
    let engine: Engine
    /// Detection and embedding: search and gallery additions.
    let inference: WorkQueue
    /// Store reads, deletes and thumbnails.
    let storage: WorkQueue
    let started = ContinuousClock.now

    public static let version = "0.1.0"

    /// Serves `gallery` (`Gallery(serving:)`): searched in memory, or by its store's own searcher.
    public init(gallery: Gallery, loader: ModelLoader, configuration: ServerConfiguration,
                metrics: ServerMetrics = ServerMetrics()) throws {
        self.configuration = configuration
        self.metrics = metrics
        engine = try Engine(gallery: gallery, loader: loader, configuration: configuration, metrics: metrics)
        inference = WorkQueue(name: "inference", workers: configuration.inferenceWorkers,
                              capacity: configuration.queueCapacity, retryAfter: configuration.retryAfterSeconds,
                              metrics: metrics)
        storage = WorkQueue(name: "storage", workers: configuration.storageWorkers,
                            capacity: configuration.storageQueueCapacity,
                            retryAfter: configuration.retryAfterSeconds, metrics: metrics)
    }

    /// Serves `store` opened with `Gallery(serving:serverSearcher:loader:precision:)` at the configuration's
    /// precision: the models the store was built with (or the defaults for an empty store).
    public convenience init(store: any GalleryStore, searcher: (any GallerySearcher)? = nil, loader: ModelLoader,
                            configuration: ServerConfiguration, metrics: ServerMetrics = ServerMetrics()) throws {
        try self.init(gallery: Gallery(serving: store, serverSearcher: searcher, loader: loader,
                                       precision: configuration.precision),
                      loader: loader, configuration: configuration, metrics: metrics)
    }

    /// Serves until SIGINT or SIGTERM. Shutdown is graceful: the listener closes, requests in progress
    /// (including queued inference) finish and are answered, then the worker threads stop. Connections still
    /// open after `shutdownGraceSeconds` (a client trickling a body, an idle keep-alive) are closed then, so
    /// no client can keep the process alive; jobs already admitted to a work queue still run to the end. Every
    /// gallery change is one store transaction, so the store is consistent whenever the process stops.
    /// `onRunning` gets the bound port (useful with port 0).
    public func run(logger: Logger? = nil, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let logger = logger ?? Logger(label: "facefind.serve")
        let app = Application(
            router: makeRouter(),
            // A connection that sends nothing this long is closed; a body trickled byte by byte is cut by
            // `BodyReader`'s deadline and minimum rate instead.
            server: .http1(configuration: .init(idleTimeout: .seconds(Int64(configuration.idleTimeoutSeconds)))),
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port),
                                                    serverName: "facefind/\(Self.version)"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
        defer { shutdown() }
        // Last, so told first: a video upload in progress stops at once instead of holding the shutdown.
        var group = ServiceGroupConfiguration(services: [app, VideoStopService(flag: engine.videoStop)],
                                              gracefulShutdownSignals: [.sigterm, .sigint],
                                              logger: logger)
        // Past the grace period the server task is cancelled, which closes every remaining connection.
        group.maximumGracefulShutdownDuration = .seconds(configuration.shutdownGraceSeconds)
        try await ServiceGroup(configuration: group).run()
    }

    /// Stops the work queues after letting queued jobs finish (later admissions get 503). Called by `run`
    /// once the server has stopped.
    public func shutdown() {
        inference.shutdown()
        storage.shutdown()
    }
}
