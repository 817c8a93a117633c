import FaceFind
import Foundation

/// Everything `facefind serve` can be told at start. Defaults suit a laptop serving a few users; every limit
/// exists so that a misbehaving or malicious client costs a bounded amount of memory and CPU.
public struct ServerConfiguration: Sendable {
    /// Interface to listen on. Loopback by default: exposing a face index to a network is a decision to make
    /// explicitly (`--host 0.0.0.0`).
    public var host = "127.0.0.1"
    /// TCP port; 0 picks a free one (the chosen port is printed at start).
    public var port = 8080

    /// The key write endpoints require (header `X-API-Key` or `Authorization: Bearer`). Never nil once the
    /// server runs: `facefind serve` generates one when none is given, so writes are never open by accident.
    public var apiKey: String
    /// When true, read endpoints (search, gallery listing, thumbnails, metrics, models) require the key too.
    /// The page, its script and style, `/openapi.yaml` and `/v1/health` stay open: the page must load to ask
    /// for the key, and probes must work without secrets.
    public var protectReads = false

    /// Largest request body accepted, in bytes (413 beyond).
    public var maxBodyBytes = 20 << 20
    /// Largest image accepted, in pixels (413 beyond); checked from the header before decoding.
    public var maxPixels = 40_000_000
    /// Seconds without a byte from the client before its connection is closed (while idle between requests or
    /// while sending a request); a request being processed is never cut.
    public var idleTimeoutSeconds = 30
    /// Seconds a client has to send a whole request body (408 and the connection closed beyond); 0: no limit.
    /// 60 s carries a 20 MiB body at 2.8 Mbit/s, a 5 MB phone photo at 0.7 Mbit/s.
    public var bodyTimeoutSeconds = 60
    /// Least average rate, in bytes per second, at which a body must arrive once `bodyRateGraceSeconds` have
    /// passed (408 and the connection closed below it); 0: no minimum. 4 KiB/s is half of a 64 kbit/s link,
    /// and cuts a client trickling a byte every few seconds after the grace period.
    public var minBodyBytesPerSecond = 4096
    /// Seconds before the body rate is first checked.
    public var bodyRateGraceSeconds = 5
    /// Seconds that a graceful shutdown (SIGTERM, SIGINT) waits for open connections before closing them.
    /// Requests already admitted to a work queue still finish and their writes are kept.
    public var shutdownGraceSeconds = 10
    /// Most images in one `POST /v1/gallery`.
    public var maxImagesPerUpload = 32
    /// Most seconds of video in one `POST /v1/gallery`, the videos' durations added (413 beyond). Indexing holds an
    /// inference worker for the whole request, at 14 to 16 times real time on 2 cores (docs/Video.md): 300 s is
    /// about 20 s of a worker. Bytes alone do not bound it: a 20 MiB video at a low bit rate can last hours.
    public var maxVideoSeconds = 300

    /// Most faces of one photo embedded for one request where all are asked for (`/v1/embed`, `face=all` in
    /// search and verify; 413 `too_many_faces` beyond, found by detection before any face is embedded). A face
    /// costs an embedder call (60 faces held a worker 2 to 10 s, FaceNet-512 on 2 shared cores); 20 covers a
    /// family or team photo. Searches of one chosen face embed one face whatever the photo holds.
    public var maxFacesPerRequest = 20

    /// Threads running detection and embedding (one ONNX session call each at a time).
    public var inferenceWorkers = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// Inference jobs allowed to wait for a worker; beyond it requests get 503 with Retry-After. Each waiting
    /// job holds its request body, so this times `maxBodyBytes` bounds the memory of queued work.
    public var queueCapacity = 64
    /// Seconds suggested to clients in `Retry-After` when the queue is full.
    public var retryAfterSeconds = 1

    /// Threads for store reads, deletes and thumbnails: kept apart from inference so that browsing the gallery
    /// stays responsive while searches saturate the CPU.
    public var storageWorkers = 2
    /// Storage jobs allowed to wait.
    public var storageQueueCapacity = 256

    /// Folder where uploaded photos are written; gallery entries point at these files.
    public var uploadsDirectory: String
    /// When false (the default), responses give gallery paths relative to the gallery's root (the deepest
    /// folder holding every indexed photo and the uploads folder), so that clients learn nothing of the
    /// server's file system; when true, absolute paths.
    public var exposePaths = false

    /// The embedder precision of a new (empty) index; nil: `Precision.preferred` (int8 where the CPU has VNNI
    /// and the int8 model is installed). An existing index keeps its own, and asking for another is refused.
    public var precision: Precision?

    /// Results per search when the request does not say, and the most a request may ask for.
    public var defaultK = 10
    public var maxK = 100
    /// Score below which (cosine) a match is flagged "unknown"; nil: the embedder's measured threshold from
    /// the model catalog (FaceNet-512: 0.505, its false-accept rate of 1e-3 on lfw-dev), the same one
    /// `facefind search` uses.
    public var cosineThreshold: Float?
    /// Distance above which (euclidean) a match is "unknown"; nil: the one equivalent to the cosine
    /// threshold, sqrt(2 - 2 cos), since FaceFind's embeddings are unit vectors.
    public var euclideanThreshold: Float?

    /// Longest side of thumbnails when the request does not say, and the largest allowed.
    public var thumbnailSize = 256
    public var maxThumbnailSize = 1024
    /// Bytes of encoded thumbnails kept in memory.
    public var thumbnailCacheBytes = 32 << 20
    /// Gallery page size when the request does not say, and the largest allowed.
    public var defaultPageSize = 24
    public var maxPageSize = 200

    public init(apiKey: String, uploadsDirectory: String) {
        self.apiKey = apiKey
        self.uploadsDirectory = uploadsDirectory
    }

    /// A random key for a server started without one: 128 bits, hex.
    public static func generateKey() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(format: "%08x", UInt32.random(in: .min ... .max, using: &generator)) }
            .joined()
    }
}
