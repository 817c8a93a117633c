import ArgumentParser
import FaceFind
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure images/s per stage, end-to-end indexing, search latency and peak memory.")

    @Option(help: "Folder of photos to index.")
    var folder = "../shared/faces/lfw-dev"

    @Option(help: "Photos used for the per-stage measurements (decoded into memory first).")
    var sample = 300

    @Option(help: "Index file for the end-to-end run (default: a fresh temporary file, removed after).")
    var db: String?

    @Flag(help: "Print as JSON.")
    var json = false

    @Option(help: "Benchmark search alone on a generated gallery of this many 512-d embeddings (e.g. 1000000) instead of indexing photos.")
    var synthetic: Int?

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

    func run() throws {
        runtime.bootstrapLogging()
        if let synthetic {
            do { try runSynthetic(count: synthetic) } catch { throw fail(error) }
            return
        }
        do {
            let workers = runtime.workerCount
            let loader = try runtime.loader()
            let pipeline = try FacePipeline(configuration: pipelineOptions.configuration(loader: loader), loader: loader)

            // 1. End to end, first, so that its peak memory is not inflated by the in-memory samples below.
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

            // 2. Stages on a sample held in memory, each stage alone, all workers busy.
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
            let precision = pipeline.configuration.precision
            var embedSecondsByPrecision: [Precision: Double] = [:]
            for other in Precision.allCases {
                let embedder = other == precision ? pipeline.embedder
                                                  : try Self.embedder(like: pipeline, at: other, loader: loader)
                guard let embedder else { continue }
                embedSecondsByPrecision[other] = try Self.timeParallel(batches, workers: workers) { try embedder.embed($0) }.1
            }
            let embedSeconds = embedSecondsByPrecision[precision] ?? 0

            // Model-only bound per image: detection time plus embedding of that image's faces.
            let facesPerImage = Double(chips.count) / Double(max(images.count, 1))
            func boundSecondsPerImage(_ embedSeconds: Double) -> Double {
                detectSeconds / Double(images.count) + embedSeconds / Double(max(chips.count, 1)) * facesPerImage
            }

            // 3. Search over the indexed gallery.
            let search = GallerySearch(matrix: try store.loadFaceMatrix())
            let queries = (0..<min(64, search.matrix.faceCount)).map { Embedding(Array(search.matrix.vector(ofFace: $0 * 7 % search.matrix.faceCount))) }
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
            // Accuracy cost of reduced precision on real embeddings (the synthetic bench measures it at 1M).
            let exact = queries.map { search.search($0, k: 10).map(\.imageID) }
            var recallAt10: [String: Double] = [:]
            for precision in [VectorPrecision.float16, .int8] {
                let reduced = GallerySearch(matrix: search.matrix, precision: precision)
                let found = queries.map { reduced.search($0, k: 10).map(\.imageID) }
                recallAt10[precision.rawValue] = recall(found: found.map { $0.map(Int.init) },
                                                        truth: exact.map { $0.map(Int.init) })
            }

            let result = Measurement(
                onnxRuntime: loader.runtime.version, provider: loader.runtime.providersInUse.joined(separator: ", "),
                workers: workers, detector: pipeline.settings.detector,
                embedder: pipeline.settings.embedder, precision: precision.rawValue, cpuHasVNNI: Precision.cpuHasVNNI,
                images: report.indexed + report.failed.count, faces: report.faces,
                indexImagesPerSecond: report.imagesPerSecond, indexPeakRSSMiB: indexRSS,
                decodeImagesPerSecond: Double(images.count) / decodeSeconds,
                detectImagesPerSecond: Double(images.count) / detectSeconds,
                embedFacesPerSecond: Double(chips.count) / embedSeconds,
                embedFacesPerSecondByPrecision: Dictionary(uniqueKeysWithValues: embedSecondsByPrecision.map {
                    ($0.key.rawValue, Double(chips.count) / $0.value) }),
                modelBoundImagesPerSecond: Dictionary(uniqueKeysWithValues: embedSecondsByPrecision.map {
                    ($0.key.rawValue, 1 / boundSecondsPerImage($0.value)) }),
                pipelineEfficiency: report.imagesPerSecond * boundSecondsPerImage(embedSeconds),
                searchGalleryFaces: search.matrix.faceCount,
                searchSingleMs: (single.isEmpty ? 0 : single[single.count / 2]) * 1000,
                searchBatch64MsPerQuery: batchPerQuery * 1000, searchRecallAt10: recallAt10,
                peakRSSMiB: Self.peakRSSMiB())
            if json { try printJSON(result); return }
            let perPrecision = Precision.allCases.compactMap { p -> String? in
                guard let faces = result.embedFacesPerSecondByPrecision[p.rawValue],
                      let bound = result.modelBoundImagesPerSecond[p.rawValue] else { return nil }
                return String(format: "| model-only bound, %@ embedder (embed %.1f faces/s) | %.1f images/s |", p.rawValue, faces, bound)
            }
            print("""
                FaceFind bench: \(result.detector) + \(result.embedder), \(result.precision), \(workers) workers, ONNX Runtime \(result.onnxRuntime) (\(result.provider)); CPU \(result.cpuHasVNNI ? "with" : "without") VNNI
                | stage | result |
                |---|---|
                | index end to end (\(result.images) photos, \(result.faces) faces) | \(String(format: "%.1f", result.indexImagesPerSecond)) images/s |
                | peak RSS while indexing | \(String(format: "%.0f", result.indexPeakRSSMiB)) MiB |
                | decode (\(images.count) photos) | \(String(format: "%.0f", result.decodeImagesPerSecond)) images/s |
                | detect (incl. resize) | \(String(format: "%.1f", result.detectImagesPerSecond)) images/s |
                | embed (batches of 16) | \(String(format: "%.1f", result.embedFacesPerSecond)) faces/s |
                \(perPrecision.joined(separator: "\n"))
                | pipeline efficiency (indexing / model-only bound, \(result.precision)) | \(String(format: "%.2f", result.pipelineEfficiency)) |
                | search, 1 query over \(result.searchGalleryFaces) faces (median) | \(String(format: "%.3f", result.searchSingleMs)) ms |
                | search, 64 queries back to back | \(String(format: "%.3f", result.searchBatch64MsPerQuery)) ms/query |
                | search recall@10 of float16 / int8 against float32, these faces | \(String(format: "%.4f / %.4f", result.searchRecallAt10["float16"] ?? 0, result.searchRecallAt10["int8"] ?? 0)) |
                | peak RSS overall | \(String(format: "%.0f", result.peakRSSMiB)) MiB |
                """)
        } catch {
            throw fail(error)
        }
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
