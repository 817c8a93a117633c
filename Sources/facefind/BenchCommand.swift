import ArgumentParser
import FaceFind
import FaceFindBench
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure images/s per stage, end-to-end indexing, search latency and peak memory.")

    @Option(help: "Folder of photos to index.")
    var folder = "../shared/faces/lfw-dev"

    @Option(help: "Photos used for the per-stage measurements (decoded into memory first).")
    var sample = 300

    @Option(help: "Index file for the end-to-end run (default: a fresh temporary file, removed after). With --synthetic N: a SQLite index of N generated faces (reused when it holds them) whose vector file is measured at each --vector-precision.")
    var db: String?

    @Flag(help: "Print as JSON.")
    var json = false

    @Option(help: "Benchmark search alone on a generated gallery of this many 512-d embeddings (e.g. 1000000) instead of indexing photos.")
    var synthetic: Int?

    @Flag(help: "With --synthetic: cluster the generated faces into persons (people cluster's graph and Chinese Whispers, at FaceNet-512's clustering threshold) instead of searching; one run per --vector-precision, or with --store postgres://… one run there (neighbours from the server's HNSW index).")
    var people = false

    @Option(help: "With --synthetic: instead of searching, add this many photos one by one to a SQLite gallery of N faces and delete them again, as `serve` applies gallery changes (store write, search updated in place, next search), timed; with --store postgres://…, to that store's gallery of N faces (HNSW insert, next search on the server).")
    var updates: Int?

    @Option(help: "With --synthetic: storage precisions of the embedded index to measure (list of float32, float16, int8).")
    var vectorPrecision = Sweep<VectorPrecision>(VectorPrecision.allCases)

    @Option(help: "With --synthetic: also measure this store (postgres://user@host:port/db).")
    var store: String?

    @Option(help: "With --synthetic: write each embedded index to a file in this folder and search it memory-mapped.")
    var vectorDir: String?

    @Option(help: "With --synthetic: number of queries (measured one by one and in batches).")
    var queries = 256

    @Option(help: "With --synthetic: queries per batch.")
    var batch = 64

    @Option(help: "With --synthetic --store: hnsw.ef_search values to measure, comma-separated; the first is the one reported, the others go to the notes (default: the URL's ef_search).")
    var efSearch: String?

    @OptionGroup var pipelineOptions: PipelineOptions
    @OptionGroup var runtime: RuntimeOptions

    struct Measurement: Encodable {
        var onnxRuntime: String
        var provider: String
        var workers: Int
        var detector: String
        var embedder: String
        /// The embedder's precision, and whether the CPU has the VNNI instructions int8 needs to pay.
        var precision: String
        var cpuHasVNNI: Bool
        var images: Int
        var faces: Int
        var indexImagesPerSecond: Double
        var indexPeakRSSMiB: Double
        /// Videos in the folder, their seconds, the frames searched for faces, and seconds of video indexed per
        /// second of the whole run (photos included).
        var videos: Int
        var videoSeconds: Double
        var videoFramesSampled: Int
        var indexVideoRealTimeFactor: Double
        /// Photos of the per-stage sample.
        var sampleImages: Int
        var decodeImagesPerSecond: Double
        var detectImagesPerSecond: Double
        var embedFacesPerSecond: Double
        /// Embedding speed and the model-only bound (images/s from detect + embed alone, on pre-decoded
        /// photos) per embedder precision whose model is installed.
        var embedFacesPerSecondByPrecision: [String: Double]
        var modelBoundImagesPerSecond: [String: Double]
        /// Indexing speed over the model-only bound of the precision in use.
        var pipelineEfficiency: Double
        var searchGalleryFaces: Int
        var searchSingleMs: Double
        var searchBatch64MsPerQuery: Double
        /// On this gallery's real embeddings: share of the exact top 10 images that a reduced-precision index
        /// returns, per precision.
        var searchRecallAt10: [String: Double]
        var peakRSSMiB: Double
    }

    func validate() throws {
        if let updates {
            guard synthetic != nil, !people else { throw ValidationError("--updates goes with --synthetic N, without --people") }
            guard updates > 0 else { throw ValidationError("--updates must be positive") }
        }
    }

    func run() throws {
        runtime.bootstrapLogging()
        do {
            if let synthetic {
                if let updates, let store { return try runPostgresUpdates(count: synthetic, updates: updates, url: store) }
                if let updates { return try runSyntheticUpdates(count: synthetic, updates: updates) }
                if let db, !people { return try runSyntheticStore(count: synthetic, path: db) }
                return try people ? runSyntheticPeople(count: synthetic) : runSynthetic(count: synthetic)
            }
            let result = try measure()
            if json { try printJSON(result) } else { print(result.table) }
        } catch {
            throw fail(error)
        }
    }

    /// Indexing end to end first (so that its peak memory is not inflated by the in-memory samples), then each
    /// stage alone on a sample, then search over the gallery just indexed.
    func measure() throws -> Measurement {
        let workers = runtime.workerCount
        let loader = try runtime.loader()
        let pipeline = try pipelineOptions.pipeline(loader: loader)
        let dbPath = db ?? NSTemporaryDirectory() + "facefind-bench-\(ProcessInfo.processInfo.processIdentifier).sqlite"
        if db == nil { Self.removeDatabase(dbPath) }
        defer { if db == nil { Self.removeDatabase(dbPath) } }
        let store = try SQLiteGalleryStore(path: dbPath)
        try store.bind(pipeline.settings)
        let indexer = IndexingPipeline(finder: pipeline.finder, embedder: pipeline.embedder, store: store,
                                       options: IndexingOptions(workers: workers))
        let bar = ProgressBar(label: "indexing")
        let report = try indexer.index(directory: folder) { bar.update($0) }
        bar.finish()
        let indexRSS = Self.peakRSSMiB()
        let stages = try measureStages(pipeline: pipeline, loader: loader, workers: workers)
        let search = try Self.measureSearch(GallerySearch(matrix: try store.loadFaceMatrix()))
        let precision = pipeline.configuration.precision
        return Measurement(
            onnxRuntime: loader.runtime.version, provider: loader.runtime.providersInUse.joined(separator: ", "),
            workers: workers, detector: pipeline.settings.detector,
            embedder: pipeline.settings.embedder, precision: precision.rawValue, cpuHasVNNI: Precision.cpuHasVNNI,
            images: report.indexed + report.failed.count, faces: report.faces,
            indexImagesPerSecond: report.imagesPerSecond, indexPeakRSSMiB: indexRSS,
            videos: report.videos, videoSeconds: report.videoSeconds, videoFramesSampled: report.videoFrames,
            indexVideoRealTimeFactor: report.videoRealTimeFactor,
            sampleImages: stages.images,
            decodeImagesPerSecond: Double(stages.images) / stages.decodeSeconds,
            detectImagesPerSecond: Double(stages.images) / stages.detectSeconds,
            embedFacesPerSecond: Double(stages.faces) / (stages.embedSeconds[precision] ?? .infinity),
            embedFacesPerSecondByPrecision: Dictionary(uniqueKeysWithValues: stages.embedSeconds.map {
                ($0.key.rawValue, Double(stages.faces) / $0.value) }),
            modelBoundImagesPerSecond: Dictionary(uniqueKeysWithValues: stages.embedSeconds.keys.map {
                ($0.rawValue, 1 / stages.boundSecondsPerImage($0)) }),
            pipelineEfficiency: report.imagesPerSecond * stages.boundSecondsPerImage(precision),
            searchGalleryFaces: search.faces, searchSingleMs: search.singleMs,
            searchBatch64MsPerQuery: search.batchMsPerQuery, searchRecallAt10: search.recallAt10,
            peakRSSMiB: Self.peakRSSMiB())
    }

    /// Seconds per stage on a sample held in memory, each stage alone with all workers busy; the embedder at
    /// each precision whose model is installed.
    struct Stages {
        var images: Int
        var faces: Int
        var decodeSeconds: Double
        var detectSeconds: Double
        var embedSeconds: [Precision: Double]

        /// The model-only bound per image: detection plus the embedding of that image's faces.
        func boundSecondsPerImage(_ precision: Precision) -> Double {
            let facesPerImage = Double(faces) / Double(max(images, 1))
            return detectSeconds / Double(max(images, 1))
                + (embedSeconds[precision] ?? 0) / Double(max(faces, 1)) * facesPerImage
        }
    }

    func measureStages(pipeline: FacePipeline, loader: ModelLoader, workers: Int) throws -> Stages {
        let files = Array(try IndexingPipeline.imageFiles(under: folder).prefix(sample))
        let blobs = files.compactMap { FileManager.default.contents(atPath: $0).map { [UInt8]($0) } }
        let decoder = ImageDecoder()
        let (images, decodeSeconds) = try Self.timeParallel(blobs, workers: workers) { try decoder.decode($0, name: "sample") }
        let (faceLists, detectSeconds) = try Self.timeParallel(images, workers: workers) { try pipeline.finder.faces(in: $0) }
        var chips: [FaceChip] = []
        for (image, faces) in zip(images, faceLists) {
            chips += faces.map { pipeline.embedder.chip(for: $0, in: image) }
        }
        let batches = stride(from: 0, to: chips.count, by: 16).map { Array(chips[$0..<min($0 + 16, chips.count)]) }
        var embedSeconds: [Precision: Double] = [:]
        for precision in Precision.allCases {
            let embedder = precision == pipeline.configuration.precision
                ? pipeline.embedder : try Self.embedder(like: pipeline, at: precision, loader: loader)
            guard let embedder else { continue }
            embedSeconds[precision] = try Self.timeParallel(batches, workers: workers) { try embedder.embed($0) }.1
        }
        return Stages(images: images.count, faces: chips.count, decodeSeconds: decodeSeconds,
                      detectSeconds: detectSeconds, embedSeconds: embedSeconds)
    }

    /// Search latency over the indexed gallery (64 of its own faces as queries), and the accuracy cost of
    /// reduced-precision vectors on these real embeddings (the synthetic bench measures it at 1M).
    static func measureSearch(_ search: GallerySearch) -> (faces: Int, singleMs: Double, batchMsPerQuery: Double,
                                                           recallAt10: [String: Double]) {
        let count = search.matrix.faceCount
        let queries = (0..<min(64, count)).map { Embedding(Array(search.matrix.vector(ofFace: $0 * 7 % count))) }
        var single: [Double] = []
        for q in queries {
            let t = Date()
            _ = search.search(q, k: 10)
            single.append(Date().timeIntervalSince(t))
        }
        single.sort()
        let t = Date()
        for q in queries { _ = search.search(q, k: 10) }
        let batchPerQuery = Date().timeIntervalSince(t) / Double(max(queries.count, 1))
        let exact = queries.map { search.search($0, k: 10).map { Int($0.imageID) } }
        var recallAt10: [String: Double] = [:]
        for precision in [VectorPrecision.float16, .int8] {
            let reduced = GallerySearch(matrix: search.matrix, precision: precision)
            recallAt10[precision.rawValue] = recall(found: queries.map { reduced.search($0, k: 10).map { Int($0.imageID) } },
                                                    truth: exact)
        }
        return (count, (single.isEmpty ? 0 : single[single.count / 2]) * 1000, batchPerQuery * 1000, recallAt10)
    }

    /// The pipeline's embedder at another precision, fed the same chips; nil when that model is not in the
    /// catalog or not installed (the bench then reports the precisions it has).
    static func embedder(like pipeline: FacePipeline, at precision: Precision, loader: ModelLoader) throws -> (any FaceEmbedder)? {
        let name = precision.modelName(Precision.parentName(of: pipeline.settings.embedder))
        guard let spec = ModelCatalog.spec(named: name), loader.repository.isInstalled(spec),
              let own = pipeline.embedder as? OnnxEmbedder else { return nil }
        return try loader.embedder(named: name, crop: own.crop, normalization: own.normalization,
                                   augmentation: own.augmentation)
    }

    static func removeDatabase(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// Runs `body` over `items` on `workers` threads and returns the results in order and the wall time.
    static func timeParallel<T: Sendable, R: Sendable>(_ items: [T], workers: Int,
                                                       _ body: @Sendable (T) throws -> R) throws -> ([R], Double) {
        let results = ResultBox<R>(count: items.count)
        let start = Date()
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            for i in stride(from: w, to: items.count, by: workers) { results.set(i, Result { try body(items[i]) }) }
        }
        let seconds = Date().timeIntervalSince(start)
        return (try results.values(), seconds)
    }

    static func peakRSSMiB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}

/// Results written by index from several threads.
final class ResultBox<R: Sendable>: @unchecked Sendable {
    private var slots: [Result<R, Error>?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<R, Error>) { lock.withLock { slots[i] = r } }
    func values() throws -> [R] { try slots.map { try $0!.get() } }
}

extension BenchCommand.Measurement {
    /// The Markdown table `facefind bench` prints.
    var table: String {
        let perPrecision = Precision.allCases.compactMap { p -> String? in
            guard let faces = embedFacesPerSecondByPrecision[p.rawValue],
                  let bound = modelBoundImagesPerSecond[p.rawValue] else { return nil }
            return String(format: "| model-only bound, %@ embedder (embed %.1f faces/s) | %.1f images/s |", p.rawValue, faces, bound)
        }
        let videoRow = videos == 0 ? "" : String(
            format: "\n| of which video: %d files, %.1f s, %d frames searched | %.1fx real time |", videos, videoSeconds,
            videoFramesSampled, indexVideoRealTimeFactor)
        return """
            FaceFind bench: \(detector) + \(embedder), \(precision), \(workers) workers, ONNX Runtime \(onnxRuntime) (\(provider)); CPU \(cpuHasVNNI ? "with" : "without") VNNI
            | stage | result |
            |---|---|
            | index end to end (\(images) files, \(faces) faces) | \(String(format: "%.1f", indexImagesPerSecond)) files/s |\(videoRow)
            | peak RSS while indexing | \(String(format: "%.0f", indexPeakRSSMiB)) MiB |
            | decode (\(sampleImages) photos) | \(String(format: "%.0f", decodeImagesPerSecond)) images/s |
            | detect (incl. resize) | \(String(format: "%.1f", detectImagesPerSecond)) images/s |
            | embed (batches of 16) | \(String(format: "%.1f", embedFacesPerSecond)) faces/s |
            \(perPrecision.joined(separator: "\n"))
            | pipeline efficiency (indexing / model-only bound, \(precision)) | \(String(format: "%.2f", pipelineEfficiency)) |
            | search, 1 query over \(searchGalleryFaces) faces (median) | \(String(format: "%.3f", searchSingleMs)) ms |
            | search, 64 queries back to back | \(String(format: "%.3f", searchBatch64MsPerQuery)) ms/query |
            | search recall@10 of float16 / int8 against float32, these faces | \(String(format: "%.4f / %.4f", searchRecallAt10["float16"] ?? 0, searchRecallAt10["int8"] ?? 0)) |
            | peak RSS overall | \(String(format: "%.0f", peakRSSMiB)) MiB |
            """
    }
}
