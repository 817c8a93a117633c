import Foundation
import Logging

/// Tuning of an indexing run.
public struct IndexingOptions: Sendable {
    /// Worker threads, each running decode → detect → crop → embed on its own images. One per core keeps
    /// every core busy without ONNX Runtime's threads competing (each session runs single-threaded).
    public var workers: Int
    /// Faces embedded per inference call.
    public var batchSize: Int
    /// Images written per transaction.
    public var commitEvery: Int
    /// Images with a side shorter than this are reported as unusable rather than embedded.
    public var minSide: Int
    /// Which frames of a video are searched for faces.
    public var videoSampling: VideoSampling
    /// Bounds on each video's decoding, on what is decoded (not the header's duration): none by default
    /// (`facefind index` reads local files whole); the server sets its per-upload seconds and a shutdown check.
    public var videoLimits = VideoReadLimits()

    public init(workers: Int = ProcessInfo.processInfo.activeProcessorCount, batchSize: Int = 16,
                commitEvery: Int = 64, minSide: Int = 16, videoSampling: VideoSampling = VideoSampling()) {
        self.workers = max(1, workers)
        self.batchSize = max(1, batchSize)
        self.commitEvery = max(1, commitEvery)
        self.minSide = minSide
        self.videoSampling = videoSampling
    }
}

/// Progress of a run, reported as images finish.
public struct IndexProgress: Sendable {
    public var done: Int
    public var total: Int
    public var failed: Int
    public var faces: Int
    public var elapsed: Double

    public init(done: Int, total: Int, failed: Int, faces: Int, elapsed: Double) {
        self.done = done; self.total = total; self.failed = failed; self.faces = faces; self.elapsed = elapsed
    }
}

/// What a run did.
public struct IndexReport: Sendable, Codable {
    public var files: Int = 0
    public var indexed: Int = 0
    public var unchanged: Int = 0
    public var removed: Int = 0
    public var faces: Int = 0
    /// Images where no detector threshold found a face, embedded whole.
    public var wholeImage: Int = 0
    public var failed: [Failure] = []
    /// Folders that could not be listed: their photos already in the index are kept, marked unavailable.
    public var unreadableFolders: [Failure] = []
    /// Indexed photos kept although they could not be read in this run (in an unreadable folder, or the file
    /// itself unreadable); they stay searchable and are marked unavailable in the store.
    public var unavailable: Int = 0
    /// Videos indexed, their length in seconds, and the frames searched for faces in them.
    public var videos: Int = 0
    public var videoSeconds: Double = 0
    public var videoFrames: Int = 0
    /// New faces that joined an existing person (`PeopleClustering.assignNewFaces`; set by `facefind index` when
    /// the index has persons).
    public var joinedPersons: Int = 0
    public var seconds: Double = 0

    /// True when some file or folder could not be read or indexed: the run finished, but not everything is in.
    public var hasProblems: Bool { !failed.isEmpty || !unreadableFolders.isEmpty }

    public struct Failure: Sendable, Codable, Equatable {
        public var path: String
        public var reason: String
    }

    public var imagesPerSecond: Double { seconds > 0 ? Double(indexed + failed.count) / seconds : 0 }
    /// Seconds of video indexed per second of the run (photos in the same run count against it).
    public var videoRealTimeFactor: Double { seconds > 0 ? videoSeconds / seconds : 0 }

    /// An empty report, to add runs to.
    public init() {}
}

extension FileState {
    /// The size and modification time of the file at `path` (0 and 0 when it cannot be read): the cheap check
    /// before hashing, which an unchanged file passes.
    public static func sizeAndModificationTime(of path: String) -> (bytes: Int, modified: Double) {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        return ((attributes?[.size] as? NSNumber)?.intValue ?? 0,
                (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)
    }
}

/// The file extensions indexing picks up (content is then checked by its bytes, not its name). `hif` is what
/// some cameras (Canon, Fujifilm, Sony) name their HEIF photos.
public let imageFileExtensions: Set<String> = ["jpg", "jpeg", "png", "webp", "heic", "heif", "hif", "avif"]

/// Streams photos through decode → detect → crop → embed → store with bounded memory: each worker holds at
/// most one decoded photo and one batch of chips, and finished images are written in small transactions.
public final class IndexingPipeline: Sendable {
    public let finder: FaceFinder
    public let embedder: any FaceEmbedder
    public let decoder: ImageDecoder
    public let store: any GalleryStore
    public let options: IndexingOptions
    private let logger = Logger(label: "facefind.index")

    public init(finder: FaceFinder, embedder: any FaceEmbedder, store: any GalleryStore,
                decoder: ImageDecoder = ImageDecoder(), options: IndexingOptions = IndexingOptions()) {
        self.finder = finder
        self.embedder = embedder
        self.store = store
        self.decoder = decoder
        self.options = options
    }

    /// All image files under `directory`, sorted, as absolute standardised paths. A subfolder that cannot be
    /// listed is an error here (a query or evaluation folder must be read whole); `index(directory:)` instead
    /// goes on and reports it.
    public static func imageFiles(under directory: String) throws -> [String] {
        let listing = try FolderListing(directory: directory)
        if let first = listing.unreadable.first {
            throw GalleryError.unreadable(path: first.path, reason: first.reason)
        }
        return listing.files
    }

    /// Indexes `directory` incrementally: new files are added, changed ones (by content hash) re-embedded,
    /// files gone from `directory` removed from the store, unchanged ones skipped. What cannot be read is never
    /// taken for gone: photos in a folder that cannot be listed, and indexed files that cannot be read now,
    /// keep their rows, marked unavailable (the mark is cleared once they are readable again), and the report
    /// names the folders and files.
    public func index(directory: String, progress: (@Sendable (IndexProgress) -> Void)? = nil) throws -> IndexReport {
        let listing = try FolderListing(directory: directory, includeVideos: true)
        let root = URL(fileURLWithPath: directory).standardizedFileURL.path
        let known = try store.fileStates()
        let missing = listing.missing(from: known, root: root)
        let gone = missing.gone
        var unavailable = missing.unavailable
        try store.remove(paths: gone)
        var (report, unreadable) = try run(files: listing.files, known: known, progress: progress)
        report.removed = gone.count
        report.unreadableFolders = listing.unreadable
        for failure in report.failed where known[failure.path] != nil && unreadable.contains(failure.path) {
            unavailable[failure.path] = failure.reason
        }
        try store.setUnavailable(unavailable, under: root)
        report.unavailable = unavailable.count
        return report
    }

    /// Indexes exactly these files (skipping those unchanged since `known`).
    public func index(files: [String], known: [String: FileState]? = nil,
                      progress: (@Sendable (IndexProgress) -> Void)? = nil) throws -> IndexReport {
        try run(files: files, known: known ?? store.fileStates(), progress: progress).report
    }

    /// Indexes `files`; returns the report and the files that could not be read at all (not written to the
    /// store: an unreadable file says nothing about its content, so its indexed row, if any, stays).
    private func run(files: [String], known: [String: FileState],
                     progress: (@Sendable (IndexProgress) -> Void)?) throws -> (report: IndexReport, unreadable: Set<String>) {
        let start = Date()
        let run = RunState(total: files.count)
        let workers = min(options.workers, max(files.count, 1))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            var pending = PendingBatch()
            while let i = run.next() {
                let path = files[i]
                switch prepare(path: path, known: known[path]) {
                case .unchanged(let touched):
                    run.unchanged(touched)
                case .failed(let item):
                    run.finish([item], store: store, commitEvery: options.commitEvery)
                case .unreadable(let failure):
                    run.unreadable(failure)
                case .video(let item, let video):
                    run.finish([item], video: video, store: store, commitEvery: options.commitEvery)
                case .ready(let item, let image, let faces):
                    pending.add(item: item, chips: faces.map { embedder.chip(for: $0, in: image) }, faces: faces)
                    if pending.chips.count >= options.batchSize { run.finish(flush(&pending), store: store, commitEvery: options.commitEvery) }
                }
                if let progress { run.report(progress, since: start) }
            }
            run.finish(flush(&pending), store: store, commitEvery: options.commitEvery)
        }
        try run.close(store: store)
        var report = run.report
        report.files = files.count
        report.seconds = Date().timeIntervalSince(start)
        progress?(IndexProgress(done: files.count, total: files.count, failed: report.failed.count,
                                faces: report.faces, elapsed: report.seconds))
        return (report, run.unreadablePaths)
    }

    private enum Prepared {
        case unchanged(touched: (String, FileState)?)
        case failed(IndexedImage)
        /// The file could not be read (permissions, a named pipe, a dangling link): nothing is written.
        case unreadable(IndexReport.Failure)
        case ready(IndexedImage, RGBImage, [DetectedFace])
        /// A video, read, tracked and embedded whole (`VideoFaces`).
        case video(IndexedImage, VideoFaces.Result?)
    }

    /// Reads, hashes, decodes and detects one file.
    private func prepare(path: String, known: FileState?) -> Prepared {
        let (size, modified) = FileState.sizeAndModificationTime(of: path)
        if let known, known.bytes == size, known.modified == modified { return .unchanged(touched: nil) }
        if isVideoPath(path) { return prepareVideo(path: path, known: known, modified: modified) }
        let bytes: [UInt8]
        do { bytes = try ImageDecoder.readFile(path) } catch {
            return .unreadable(.init(path: path, reason: error.reason))
        }
        let state = FileState(sha256: SHA256.hex(bytes), bytes: bytes.count, modified: modified)
        if let known, known.sha256 == state.sha256 { return .unchanged(touched: (path, state)) }
        do {
            let image = try decoder.decode(bytes, name: path)
            guard image.width >= options.minSide, image.height >= options.minSide else {
                return .failed(IndexedImage(path: path, state: state, width: image.width, height: image.height,
                    error: "image too small (\(image.width)x\(image.height)); at least \(options.minSide)x\(options.minSide) pixels needed"))
            }
            let faces = try finder.faces(in: image)
            return .ready(IndexedImage(path: path, state: state, width: image.width, height: image.height), image, faces)
        } catch let error as ImageDecodingError {
            return .failed(IndexedImage(path: path, state: state, error: error.reason))
        } catch {
            return .failed(IndexedImage(path: path, state: state, error: "\(error)"))
        }
    }

    /// Hashes a video as it streams (it may be larger than memory), then reads, tracks and embeds it.
    private func prepareVideo(path: String, known: FileState?, modified: Double) -> Prepared {
        let hash: (sha256: String, bytes: Int)
        do { hash = try ImageDecoder.hashFile(path) } catch {
            return .unreadable(.init(path: path, reason: error.reason))
        }
        let state = FileState(sha256: hash.sha256, bytes: hash.bytes, modified: modified)
        if let known, known.sha256 == state.sha256 { return .unchanged(touched: (path, state)) }
        do {
            var reader = VideoFaces(finder: finder, embedder: embedder, sampling: options.videoSampling,
                                    maxPixels: decoder.maxPixels)
            reader.limits = options.videoLimits
            let video = try reader.faces(inVideoAt: path)
            if let damage = video.summary.stoppedEarly ?? (video.summary.damagedPackets > 0
                ? "\(video.summary.damagedPackets) damaged packets skipped" : nil) {
                logger.warning("\(path): \(damage); the frames around them were indexed")
            }
            return .video(IndexedImage(path: path, state: state, width: video.info.width, height: video.info.height,
                                       faces: video.faces), video)
        } catch let error as ImageDecodingError {
            return .video(IndexedImage(path: path, state: state, error: error.reason), nil)
        } catch {
            return .video(IndexedImage(path: path, state: state, error: "\(error)"), nil)
        }
    }

    /// Embeds the pending chips in one batch and returns the finished images.
    private func flush(_ pending: inout PendingBatch) -> [IndexedImage] {
        defer { pending = PendingBatch() }
        guard !pending.items.isEmpty else { return [] }
        do {
            let embeddings = try embedder.embed(pending.chips)
            var next = 0
            return pending.items.map { entry in
                var item = entry.item
                item.faces = entry.faces.map { face in
                    defer { next += 1 }
                    return StoredFace(face: face, embedding: embeddings[next])
                }
                return item
            }
        } catch {
            logger.error("embedding failed: \(error)")
            return pending.items.map { entry in
                var item = entry.item
                item.error = "embedding failed: \(error)"
                return item
            }
        }
    }
}

/// Images of one worker waiting for their chips to be embedded together.
private struct PendingBatch {
    var items: [(item: IndexedImage, faces: [DetectedFace])] = []
    var chips: [FaceChip] = []

    mutating func add(item: IndexedImage, chips newChips: [FaceChip], faces: [DetectedFace]) {
        items.append((item, faces))
        chips += newChips
    }
}

/// The shared state of a run: the next file to take, finished images waiting to be written, and counts.
private final class RunState: @unchecked Sendable {
    private let lock = NSLock()
    private let writeLock = NSLock()
    private var nextIndex = 0
    private let total: Int
    private var done = 0
    private var buffer: [IndexedImage] = []
    private var touched: [String: FileState] = [:]
    private var writeError: Error?
    private var lastReport = Date.distantPast
    private(set) var report = IndexReport()

    init(total: Int) { self.total = total }

    func next() -> Int? {
        lock.withLock {
            guard nextIndex < total, writeError == nil else { return nil }
            defer { nextIndex += 1 }
            return nextIndex
        }
    }

    private(set) var unreadablePaths: Set<String> = []

    func unreadable(_ failure: IndexReport.Failure) {
        lock.withLock {
            done += 1
            report.failed.append(failure)
            unreadablePaths.insert(failure.path)
        }
    }

    func unchanged(_ touch: (String, FileState)?) {
        lock.withLock {
            done += 1
            report.unchanged += 1
            if let touch { touched[touch.0] = touch.1 }
        }
    }

    /// Queues finished images; writes a transaction when enough have gathered. The write happens outside the
    /// state lock so other workers keep going, and under a write lock so transactions stay whole and ordered.
    func finish(_ items: [IndexedImage], video: VideoFaces.Result? = nil, store: any GalleryStore, commitEvery: Int) {
        guard !items.isEmpty else { return }
        let batch: [IndexedImage]? = lock.withLock {
            done += items.count
            if let video {
                report.videos += 1
                // What was decoded, not the header's claim (which can say 1e12 s).
                report.videoSeconds += video.summary.length(header: video.info.duration)
                report.videoFrames += video.summary.sampledFrames
            }
            for item in items {
                if let error = item.error {
                    report.failed.append(.init(path: item.path, reason: error))
                } else {
                    report.indexed += 1
                    report.faces += item.faces.count
                    if item.faces.contains(where: \.face.isWholeImage) { report.wholeImage += 1 }
                }
            }
            buffer += items
            guard buffer.count >= commitEvery else { return nil }
            defer { buffer = [] }
            return buffer
        }
        if let batch { write(batch, store: store) }
    }

    private func write(_ batch: [IndexedImage], store: any GalleryStore) {
        writeLock.withLock {
            do { try store.write(batch) } catch { lock.withLock { writeError = writeError ?? error } }
        }
    }

    func report(_ progress: @Sendable (IndexProgress) -> Void, since start: Date) {
        let snapshot: IndexProgress? = lock.withLock {
            let now = Date()
            guard now.timeIntervalSince(lastReport) > 0.2 else { return nil }
            lastReport = now
            return IndexProgress(done: done, total: total, failed: report.failed.count, faces: report.faces,
                                 elapsed: now.timeIntervalSince(start))
        }
        if let snapshot { progress(snapshot) }
    }

    func close(store: any GalleryStore) throws {
        let (rest, touch) = lock.withLock { (buffer, touched) }
        write(rest, store: store)
        try store.touch(touch)
        if let writeError { throw writeError }
        report.failed.sort { $0.path < $1.path }
    }
}
