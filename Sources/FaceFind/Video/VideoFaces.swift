import Foundation

/// The faces of one video: frames sampled by `VideoReader`, faces found and embedded in each, linked into tracks
/// by `FaceTracker`, a few faces kept per track with its time range.
public struct VideoFaces: Sendable {
    public let finder: FaceFinder
    public let embedder: any FaceEmbedder
    public var sampling: VideoSampling
    /// The largest frame (in pixels) decoded; a larger stream is refused with the reason.
    public var maxPixels: Int
    /// Bounds on the decoding (seconds and frames actually read, cancellation); none by default.
    public var limits = VideoReadLimits()

    public init(finder: FaceFinder, embedder: any FaceEmbedder, sampling: VideoSampling = VideoSampling(),
                maxPixels: Int = 50_000_000) {
        self.finder = finder; self.embedder = embedder; self.sampling = sampling; self.maxPixels = maxPixels
    }

    /// What one video gave.
    public struct Result: Sendable {
        public var info: VideoInfo
        public var tracks: [FaceTrack]
        public var summary: VideoReadSummary
        /// The faces to store: each track's best, with its range and frame time.
        public var faces: [StoredFace] { tracks.flatMap(\.storedFaces) }
    }

    /// Reads the video at `path` once. Throws an `ImageDecodingError` when it cannot be opened (see
    /// `VideoReader.init`), when not one frame could be decoded, or past `limits` (see `VideoReader.read`);
    /// damaged packets midway are skipped.
    public func faces(inVideoAt path: String) throws -> Result {
        let reader = try VideoReader(path: path, maxPixels: maxPixels)
        var tracker = FaceTracker(linkSimilarity: Verification.threshold(for: embedder.name).value)
        let summary = try reader.read(sampling: sampling, limits: limits) { frame in
            let faces = try finder.confidentFaces(in: frame.image)
            let embeddings = faces.isEmpty ? [] : try embedder.embed(faces.map { embedder.chip(for: $0, in: frame.image) })
            tracker.add(zip(faces, embeddings).map { FrameFace(face: $0, embedding: $1, time: frame.time) },
                        at: frame.time, startsShot: frame.startsShot)
        }
        guard summary.sampledFrames > 0 else {
            let why = summary.stoppedEarly.map { " (\($0))" } ?? ""
            throw ImageDecodingError(file: path, reason: "no frame of the \(reader.info.codec) stream could be decoded\(why)")
        }
        // The decoded length: a header that says more than was decoded (1e12 s) is not believed.
        let end = summary.length(header: reader.info.duration)
        return Result(info: reader.info, tracks: tracker.finish(at: end), summary: summary)
    }
}
