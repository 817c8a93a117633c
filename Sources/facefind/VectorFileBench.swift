import FaceFind
import FaceFindBench
import Foundation

/// `facefind bench --synthetic N --db FILE`: a SQLite index of N generated faces (one photo each, bound to this
/// pipeline's settings so that `facefind search --db FILE photo.jpg` opens it) with its vector file
/// (`GalleryVectorFile`) at each `--vector-precision`, searched as `search` searches it (projections first, then
/// the candidates' full vectors). Recall@10 against the exact float32 top 10. An existing FILE of
/// N faces is reused (a million photos take minutes to write).
extension BenchCommand {
    func runSyntheticStore(count: Int, path: String) throws {
        let pipeline = try pipelineOptions.pipeline(loader: try runtime.loader())
        let dimension = pipeline.settings.dimension
        let gallery = SyntheticGallery(count: count, dimension: dimension)
        let store = try syntheticStore(gallery, path: path, settings: pipeline.settings)
        let queryVectors = gallery.queries(queries)
        if !json {
            print("FaceFind bench --synthetic \(count) --db \(path): \(dimension)-d, \(gallery.identities) identities, "
                + "\(queries) queries, batches of \(batch), top 10, \(runtime.workerCount) threads")
        }
        let truth = try exactTopTen(gallery, queries: queryVectors, folder: (path as NSString).deletingLastPathComponent)
        var results: [SearchBenchResult] = []
        for precision in vectorPrecision.values {
            let start = Date()
            let file = try GalleryVectorFile.build(store: store, precision: precision)
            let built = Date().timeIntervalSince(start)
            let singleCount = min(queryVectors.count, 64)
            let t0 = Date()
            for q in queryVectors.prefix(singleCount) { _ = try file.nearest([q], k: 10, threads: runtime.workerCount) }
            let single = Double(singleCount) / Date().timeIntervalSince(t0)
            var found: [[Int]] = []
            let t1 = Date()
            for first in stride(from: 0, to: queryVectors.count, by: batch) {
                let part = Array(queryVectors[first..<min(first + batch, queryVectors.count)])
                found += try file.nearest(part, k: 10, threads: runtime.workerCount).map { $0.map(\.row) }
            }
            let batched = Double(queryVectors.count) / Date().timeIntervalSince(t1)
            let result = SearchBenchResult(
                store: "embedded vector file", count: count, dimension: dimension, precision: precision.rawValue,
                buildSeconds: built, indexBytes: Int64(file.index.fileBytes), singleQueriesPerSecond: single,
                batchQueriesPerSecond: batched, batchSize: batch, recallAt10: recall(found: found, truth: truth),
                peakRSSBytes: Self.residentBytes(),
                notes: ["build: the vector file written from the SQLite index",
                        "first stage: \(file.subspace.components)-d projections, int8, read into memory; then \(GalleryVectorFile.candidates(k: 10)) candidates a query read with pread and scored at \(precision.rawValue)"])
            results.append(result)
            if !json { print(Self.row(result)) }
        }
        if json { try printJSON(results) }
    }

    /// The SQLite index of `gallery` at `path`: reused when it holds exactly its faces, else written afresh.
    private func syntheticStore(_ gallery: SyntheticGallery, path: String, settings: IndexSettings) throws -> SQLiteGalleryStore {
        if FileManager.default.fileExists(atPath: path) {
            let store = try SQLiteGalleryStore(path: path, create: false)
            if try store.counts().faces == gallery.count, try store.settings()?.differences(from: settings).isEmpty == true {
                return store
            }
            Self.removeDatabase(path)
        }
        let store = try SQLiteGalleryStore(path: path)
        try store.bind(settings)
        let bar = ProgressBar(label: "writing \(gallery.count) synthetic faces", enabled: !json && isatty(STDERR_FILENO) == 1)
        let started = Date()
        let block = 2_000
        var buffer = [Float](repeating: 0, count: block * gallery.dimension)
        for start in stride(from: 0, to: gallery.count, by: block) {
            let end = min(start + block, gallery.count)
            buffer.withUnsafeMutableBufferPointer { gallery.fill(start..<end, into: $0) }
            try store.write((start..<end).map { index in
                let offset = (index - start) * gallery.dimension
                let face = DetectedFace(box: Box(x: 0, y: 0, width: 100, height: 100), score: 1)
                return IndexedImage(path: "/synthetic/\(index).jpg",
                                    state: FileState(sha256: String(index), bytes: 1, modified: 0), width: 100, height: 100,
                                    faces: [StoredFace(face: face, embedding: Embedding(Array(buffer[offset..<(offset + gallery.dimension)])))])
            })
            bar.update(IndexProgress(done: end, total: gallery.count, failed: 0, faces: end,
                                     elapsed: Date().timeIntervalSince(started)))
        }
        bar.finish()
        return store
    }

    /// The exact float32 top 10 rows of each query, from a temporary float32 index read with `pread`, so that
    /// the truth costs no resident memory (rows are the store's faces in order: one photo each, written in order).
    private func exactTopTen(_ gallery: SyntheticGallery, queries: [[Float]], folder: String) throws -> [[Int]] {
        let path = (folder.isEmpty ? "." : folder) + "/.facefind-bench-truth-\(getpid()).ffvi"
        defer { unlink(path) }
        _ = try VectorIndex.build(count: gallery.count, dimension: gallery.dimension, precision: .float32, path: path,
                                  blockRows: 8192) { range, out in gallery.fill(range, into: out) }
        let exact = try VectorIndex.open(path: path, streamed: true)
        var truth: [[Int]] = []
        for first in stride(from: 0, to: queries.count, by: 64) {
            let part = Array(queries[first..<min(first + 64, queries.count)])
            truth += exact.search(part, k: 10, threads: runtime.workerCount).map { $0.map(\.row) }
        }
        return truth
    }
}
