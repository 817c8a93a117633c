import FaceFind
import Foundation
import Logging

/// The work behind the endpoints, free of HTTP: decode, detect, embed, search, and gallery changes.
/// Every method is synchronous and may take a CPU for a while; callers run them on a `WorkQueue` thread.
final class Engine: Sendable {
    let store: any GalleryStore
    let pipeline: FacePipeline
    let configuration: ServerConfiguration
    let metrics: ServerMetrics
    let index: SearchIndex
    let thumbnails: ThumbnailCache
    let repository: ModelRepository
    let runtimeVersion: String
    /// Decodes uploads, with the server's pixel limit.
    let uploadDecoder: ImageDecoder
    /// Decodes gallery files for thumbnails: they were accepted when indexed, so the library's default limit.
    let galleryDecoder = ImageDecoder()
    /// Uploads folder, absolute and without trailing slash, for recognising uploaded paths.
    let uploadsDirectory: String
    /// The folder that indexed photos' paths are given relative to (see `clientPath`).
    let galleryRoot: String
    /// The "unknown" limits in force: configured, else derived from the embedder's catalog entry.
    let cosineThreshold: Float
    let euclideanThreshold: Float
    /// Raised when a shutdown starts: video uploads stop decoding (see `VideoStopService`).
    let videoStop = ShutdownFlag()

    let logger = Logger(label: "facefind.serve")

    /// Serves `gallery`: loads its search matrix, unless its store searches itself where its vectors are.
    init(gallery: Gallery, loader: ModelLoader, configuration: ServerConfiguration, metrics: ServerMetrics) throws {
        pipeline = gallery.pipeline
        store = gallery.store
        self.configuration = configuration
        self.metrics = metrics
        index = try SearchIndex(store: store, serverSide: gallery.serverSearcher)
        thumbnails = ThumbnailCache(capacityBytes: configuration.thumbnailCacheBytes)
        repository = loader.repository
        runtimeVersion = loader.runtime.version
        uploadDecoder = ImageDecoder(maxPixels: configuration.maxPixels)
        uploadsDirectory = URL(fileURLWithPath: configuration.uploadsDirectory).standardizedFileURL.path
        // The common folder of the first and last path in byte order is every path's.
        galleryRoot = Self.commonFolder(of: try store.pathBounds(excludingPrefix: uploadsDirectory + "/")
            .map { [$0.first, $0.last] } ?? [])
        let cosine = configuration.cosineThreshold
            ?? Verification.threshold(for: pipeline.settings.embedder).value
        cosineThreshold = cosine
        euclideanThreshold = configuration.euclideanThreshold ?? (2 - 2 * min(max(cosine, -1), 1)).squareRoot()
        updateGalleryGauges()
    }

    func threshold(for metric: DistanceMetric) -> Float {
        metric == .cosine ? cosineThreshold : euclideanThreshold
    }

    func updateGalleryGauges() {
        let counts = index.counts
        metrics.gallery(images: counts.images, faces: counts.faces)
    }

    /// Runs `body`, recording its duration under `stage`; returns its result and the milliseconds it took.
    func timed<T>(_ stage: String, _ body: () throws -> T) rethrows -> (T, Double) {
        let start = ContinuousClock.now
        let value = try body()
        let seconds = (ContinuousClock.now - start).seconds
        metrics.stage(stage, seconds: seconds)
        return (value, seconds * 1000)
    }

    // MARK: - Naming gallery images

    /// The JSON for a gallery record.
    func json(_ record: ImageRecord, faces: [DetectedFace]? = nil) -> ImageJSON {
        let (name, label) = names(ofPath: record.path)
        return ImageJSON(
            id: record.id, path: clientPath(record.path), name: name, label: label, sha256: record.sha256, bytes: record.bytes,
            width: record.width, height: record.height, faceCount: record.faceCount, error: record.error,
            thumbnail: Self.thumbnailURL(record.id),
            faces: faces.map { $0.enumerated().map { FaceJSON(index: $0.offset, face: $0.element) } })
    }

    /// The thumbnail of a gallery image; of a video, at the frame `time` (a search result's matched frame).
    static func thumbnailURL(_ id: Int64, frame time: FaceTime? = nil) -> String {
        "/v1/gallery/\(id)/thumbnail" + (time.map { "?t=\(Int(($0.frame * 1000).rounded()))" } ?? "")
    }

    /// A gallery path as clients see it, so that responses (open to any client by default) reveal nothing of
    /// the server's folders: an upload as `uploads/<name>/<file>`, an indexed photo relative to the gallery's
    /// root (the deepest folder holding every indexed photo when the server started), and a photo outside it
    /// (indexed by another process since) as its folder and file name. Absolute with `--expose-paths`.
    func clientPath(_ path: String) -> String {
        if configuration.exposePaths { return path }
        if path.hasPrefix(uploadsDirectory + "/") { return "uploads/" + path.dropFirst(uploadsDirectory.count + 1) }
        let prefix = galleryRoot.hasSuffix("/") ? galleryRoot : galleryRoot + "/"
        if path.hasPrefix(prefix), galleryRoot != "/" { return String(path.dropFirst(prefix.count)) }
        return path.split(separator: "/").suffix(2).joined(separator: "/")
    }

    /// The deepest folder that holds every one of `paths` ("/" when they share none). A path ending in "/" is
    /// a folder itself.
    static func commonFolder(of paths: [String]) -> String {
        guard var common = paths.first.map({ Substring($0) }) else { return "/" }
        for path in paths.dropFirst() where !path.hasPrefix(common) {
            common = common.commonPrefix(with: path)[...]
        }
        // Cut back to a folder boundary: "/a/bc" and "/a/bd" share "/a/b", whose folder is "/a".
        guard let slash = common.lastIndex(of: "/") else { return "/" }
        let folder = String(common[..<slash])
        return folder.isEmpty ? "/" : folder
    }

    /// File name and label of a gallery path. Uploads are stored as `<uploads>/<label>/<hash16>-<file name>`
    /// (see `Engine.add`); the hash prefix is not part of the name a person gave, so it is dropped wherever
    /// the file now lives (an index and its uploads folder can be moved together).
    func names(ofPath path: String) -> (name: String, label: String) {
        let url = URL(fileURLWithPath: path)
        var name = url.lastPathComponent
        if name.count > 17, name.prefix(16).allSatisfy({ $0.isHexDigit && !$0.isUppercase }),
           name.dropFirst(16).first == "-" {
            name = String(name.dropFirst(17))
        }
        return (name, url.deletingLastPathComponent().lastPathComponent)
    }
}
