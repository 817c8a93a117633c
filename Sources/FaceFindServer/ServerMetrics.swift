import Foundation
import Hummingbird
import Prometheus
import Synchronization

/// The server's Prometheus metrics, in a registry of its own (not the process-wide default) so that several
/// servers in one process, as in the tests, keep separate counts.
public final class ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    private let processRSS: Gauge
    private let galleryImages: Gauge
    private let galleryFaces: Gauge

    /// Latency buckets from 1 ms to 30 s: stages span a millisecond search to seconds of queueing under load.
    static let buckets: [Duration] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
        .map { Duration.nanoseconds(Int64($0 * 1e9)) }

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        processRSS = registry.makeGauge(descriptor: .init(
            namespace: "process", metricName: "resident_memory", unitName: "bytes",
            helpText: "Resident set size of the server process."))
        galleryImages = registry.makeGauge(descriptor: .init(
            namespace: "facefind", subsystem: "gallery", metricName: "images", unitName: "",
            helpText: "Images in the searchable gallery."))
        galleryFaces = registry.makeGauge(descriptor: .init(
            namespace: "facefind", subsystem: "gallery", metricName: "faces", unitName: "",
            helpText: "Faces in the searchable gallery."))
    }

    /// One finished HTTP request. `route` is the route template (`/v1/gallery/{id}`), never the raw path, so
    /// label values stay few whatever clients send.
    func request(method: String, route: String, status: Int, seconds: Double) {
        let labels = [("method", method), ("route", route), ("status", String(status))]
        registry.makeCounter(descriptor: .init(
            namespace: "facefind", subsystem: "http", metricName: "requests", unitName: "total",
            helpText: "HTTP requests answered, by method, route and status."), labels: labels).increment()
        registry.makeDurationHistogram(descriptor: .init(
            namespace: "facefind", subsystem: "http", metricName: "request_duration", unitName: "seconds",
            helpText: "Time from request head to response, by method and route."),
            labels: [("method", method), ("route", route)], buckets: Self.buckets).record(Self.duration(seconds))
    }

    /// Time spent in one stage of the work: queue_wait, decode, detect_embed, search, store_write, thumbnail...
    func stage(_ stage: String, seconds: Double) {
        registry.makeDurationHistogram(descriptor: .init(
            namespace: "facefind", metricName: "stage_duration", unitName: "seconds",
            helpText: "Time spent per stage of request processing."),
            labels: [("stage", stage)], buckets: Self.buckets).record(Self.duration(seconds))
    }

    /// The state of a work queue after a change.
    func queue(_ name: String, running: Int, waiting: Int) {
        registry.makeGauge(descriptor: .init(
            namespace: "facefind", subsystem: "queue", metricName: "depth", unitName: "",
            helpText: "Jobs admitted to a work queue and not yet running."),
            labels: [("queue", name)]).set(Double(waiting))
        registry.makeGauge(descriptor: .init(
            namespace: "facefind", subsystem: "queue", metricName: "running", unitName: "",
            helpText: "Jobs running on a work queue's threads."),
            labels: [("queue", name)]).set(Double(running))
    }

    /// A job admitted to a work queue: its request is inside the server and will be answered, even during a
    /// graceful shutdown.
    func admitted(queue name: String) {
        registry.makeCounter(descriptor: .init(
            namespace: "facefind", subsystem: "queue", metricName: "admitted", unitName: "total",
            helpText: "Jobs admitted to a work queue since the server started."),
            labels: [("queue", name)]).increment()
    }

    /// A request turned away because a queue was full.
    func rejected(queue name: String) {
        registry.makeCounter(descriptor: .init(
            namespace: "facefind", subsystem: "queue", metricName: "rejected", unitName: "total",
            helpText: "Requests answered 503 because a work queue was full."),
            labels: [("queue", name)]).increment()
    }

    /// A client cut off with 408 because its request body came too slowly or too late.
    func slowClient() {
        registry.makeCounter(descriptor: .init(
            namespace: "facefind", subsystem: "http", metricName: "slow_clients", unitName: "total",
            helpText: "Connections closed with 408 because the request body missed its deadline or minimum rate."))
            .increment()
    }

    /// Faces run through the embedder for queries (search, verify, embed), and how many of them so far.
    func embedded(faces: Int) {
        registry.makeCounter(descriptor: .init(
            namespace: "facefind", subsystem: "query", metricName: "faces_embedded", unitName: "total",
            helpText: "Faces of query photos run through the embedder (search, verify, embed).")).increment(by: Int64(faces))
        embeddedCount.withLock { $0 += faces }
    }

    /// Faces of query photos embedded since the server started (what `embedded(faces:)` counted).
    var queryFacesEmbedded: Int { embeddedCount.withLock { $0 } }
    private let embeddedCount = Mutex(0)

    func gallery(images: Int, faces: Int) {
        galleryImages.set(Double(images))
        galleryFaces.set(Double(faces))
    }

    /// The text exposition format, with the process gauges read now.
    func render() -> [UInt8] {
        if let rss = Self.residentBytes() { processRSS.set(Double(rss)) }
        return registry.emitToBuffer()
    }

    /// Resident set size from /proc (Linux); nil elsewhere.
    static func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func duration(_ seconds: Double) -> Duration { .nanoseconds(Int64(max(0, seconds) * 1e9)) }
}

/// Counts and times every request, outermost so that it sees the final status of errors too.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        // The route template is set by the router when a route matched; unknown paths share one label.
        let route = context.endpointPath ?? "unmatched"
        metrics.request(method: request.method.rawValue, route: route, status: response.status.code,
                        seconds: (ContinuousClock.now - start).seconds)
        return response
    }
}

extension Duration {
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
