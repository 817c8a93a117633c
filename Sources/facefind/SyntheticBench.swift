import ArgumentParser
import FaceFind
import FaceFindBench
import FaceFindPostgres
import Foundation

/// `facefind bench --synthetic N`: search alone, at gallery sizes no photo folder here reaches.
extension BenchCommand {
    func runSynthetic(count: Int) throws {
        let gallery = SyntheticGallery(count: count)
        let queryVectors = gallery.queries(queries)
        let precisions = vectorPrecision.values
        // Parsed before the embedded measurements, which take minutes at 1M: a typo fails at once.
        let efSearchValues = try (efSearch ?? "").split(separator: ",").map { text -> Int in
            guard let value = Int(text), (1...1000).contains(value) else {
                throw ValidationError("--ef-search: '\(text)' is not a number from 1 to 1000")
            }
            return value
        }
        if let vectorDir { try FileManager.default.createDirectory(atPath: vectorDir, withIntermediateDirectories: true) }
        if !json {
            print("FaceFind bench --synthetic \(count): \(gallery.dimension)-d, \(gallery.identities) identities, "
                + "\(queries) queries, batches of \(batch), top 10, \(runtime.workerCount) threads")
        }

        // Ground truth: exact float32 search. Built first and dropped before the other precisions so that
        // their resident size is their own.
        var results: [SearchBenchResult] = []
        var truth: [[Int]] = []
        for p in [VectorPrecision.float32] + precisions.filter({ $0 != .float32 }) {
            let (result, found) = try measureEmbedded(gallery: gallery, precision: p, queries: queryVectors,
                                                      truth: truth.isEmpty ? nil : truth)
            if p == .float32 { truth = found }
            if precisions.contains(p) {
                results.append(result)
                if !json { print(Self.row(result)) }
            }
        }
        if let store {
            let result = try measureStore(url: store, gallery: gallery, queries: queryVectors, truth: truth,
                                          efSearchValues: efSearchValues)
            results.append(result)
            if !json { print(Self.row(result)) }
        }
        if json { try printJSON(results) }
    }

    /// `--synthetic N --people`: the generated faces (one per photo) clustered into persons, timed, per precision of
    /// the neighbour search. The peak RSS is the process's, so each row includes the rows before it.
    func runSyntheticPeople(count: Int) throws {
        if let store { return try runSyntheticPeople(count: count, store: store) }
        struct Row: Encodable { var precision: VectorPrecision; var faces: Int; var identities: Int; var persons: Int
                                var seconds: Double; var peakRSSMiB: Double; var bcubedF: Double }
        let gallery = SyntheticGallery(count: count)
        var matrix = FaceMatrix(dimension: gallery.dimension)
        let block = 4096
        var buffer = [Float](repeating: 0, count: block * gallery.dimension)
        for start in stride(from: 0, to: count, by: block) {
            let end = min(start + block, count)
            buffer.withUnsafeMutableBufferPointer { gallery.fill(start..<end, into: $0) }
            for row in start..<end {
                matrix.appendImage(id: Int64(row), path: "")
                let offset = (row - start) * gallery.dimension
                matrix.appendFace(id: Int64(row), box: Box(x: 0, y: 0, width: 1, height: 1), isWholeImage: false,
                                  vector: buffer[offset..<(offset + gallery.dimension)])
            }
        }
        let threshold = SyntheticGallery.clusterThreshold
        let labels = (0..<count).map { String(gallery.identity(of: $0)) }
        var rows: [Row] = []
        for precision in vectorPrecision.values {
            let start = Date()
            let persons = try PeopleClustering(threshold: threshold, minimumFaces: 1, precision: precision)
                .cluster(matrix, nextID: 1)
            let seconds = Date().timeIntervalSince(start)
            let scores = ClusteringScores(clusters: (0..<count).map { Int(persons[Int64($0)] ?? -1) }, labels: labels)
            rows.append(Row(precision: precision, faces: count, identities: gallery.identities,
                            persons: Set(persons.values).count, seconds: seconds, peakRSSMiB: Self.peakRSSMiB(),
                            bcubedF: scores.bcubedF))
            if !json {
                let r = rows[rows.count - 1]
                print("| people cluster, \(precision.rawValue) search, \(count) faces of \(r.identities) identities | "
                      + String(format: "%.1f s | %d persons | BCubed F %.4f | peak RSS %.0f MiB |", r.seconds, r.persons,
                               r.bcubedF, r.peakRSSMiB))
            }
        }
        if json { try printJSON(rows) }
    }

    /// `--synthetic N --people --store URL`: the same faces clustered in PostgreSQL, each face's neighbours found by
    /// the server's HNSW index; this process's peak RSS is the whole run's.
    private func runSyntheticPeople(count: Int, store url: String) throws {
        let gallery = SyntheticGallery(count: count)
        let threshold = SyntheticGallery.clusterThreshold
        let bar = ProgressBar(label: "neighbours", enabled: !json && isatty(STDERR_FILENO) == 1)
        let result = try PostgresSyntheticBench.clusterPeople(
            url: url, gallery: gallery, threshold: threshold, options: try PostgresSyntheticBench.Options(url: url),
            progress: { bar.update(done: $0, total: $1, unit: "faces") },
            log: { [json] line in if !json { FileHandle.standardError.write(Data((line + "\n").utf8)) } })
        bar.finish()
        struct Row: Encodable { var result: PostgresSyntheticBench.PeopleResult; var peakRSSMiB: Double }
        let row = Row(result: result, peakRSSMiB: Self.peakRSSMiB())
        if json { try printJSON(row); return }
        print("| people cluster, PostgreSQL HNSW neighbours, \(count) faces of \(result.identities) identities | "
              + String(format: "%.1f s | %d persons | BCubed F %.4f | peak RSS %.0f MiB |", result.clusterSeconds,
                       result.persons, result.bcubedF, row.peakRSSMiB))
        print(String(format: "load %.1f s, HNSW build %.1f s", result.loadSeconds, result.buildSeconds))
        for note in result.notes { print("- \(note)") }
    }

    /// Builds (or maps) one embedded index and measures it.
    private func measureEmbedded(gallery: SyntheticGallery, precision: VectorPrecision, queries: [[Float]],
                                 truth: [[Int]]?) throws -> (SearchBenchResult, [[Int]]) {
        let threads = runtime.workerCount
        let path = vectorDir.map { "\($0)/synthetic-\(gallery.count)-\(precision.rawValue).ffvi" }
        let start = Date()
        var index: VectorIndex? = try VectorIndex.build(count: gallery.count, dimension: gallery.dimension,
                                                        precision: precision, path: path, blockRows: 8192) { range, out in
            gallery.fill(range, into: out)
        }
        if let path {
            index = nil // search the file through a fresh read-only mapping, as a later process would
            index = try VectorIndex.open(path: path)
        }
        let built = Date().timeIntervalSince(start)
        let vectors = index!

        // Single queries: one pass over the gallery per query.
        let singleCount = min(queries.count, 64)
        let t0 = Date()
        for q in queries.prefix(singleCount) { _ = vectors.search([q], k: 10, threads: threads) }
        let single = Double(singleCount) / Date().timeIntervalSince(t0)

        // Batches: one pass per batch.
        var found: [[Int]] = []
        let t1 = Date()
        for first in stride(from: 0, to: queries.count, by: batch) {
            let part = Array(queries[first..<min(first + batch, queries.count)])
            found += vectors.search(part, k: 10, threads: threads).map { $0.map(\.row) }
        }
        let batched = Double(queries.count) / Date().timeIntervalSince(t1)

        let result = SearchBenchResult(
            store: "embedded" + (path == nil ? "" : " (mmap)"), count: gallery.count, dimension: gallery.dimension,
            precision: precision.rawValue, buildSeconds: built, indexBytes: Int64(vectors.fileBytes),
            singleQueriesPerSecond: single, batchQueriesPerSecond: batched, batchSize: batch,
            recallAt10: truth.map { recall(found: found, truth: $0) } ?? 1,
            peakRSSBytes: Self.residentBytes(),
            notes: ["build includes generating the vectors", "RSS measured with this index mapped"])
        return (result, found)
    }

    private func measureStore(url: String, gallery: SyntheticGallery, queries: [[Float]], truth: [[Int]],
                              efSearchValues: [Int]) throws -> SearchBenchResult {
        guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
            throw ValidationError("--store \(url): only postgres:// stores have a synthetic benchmark")
        }
        // Index parameters come from the URL (?m=16&ef_construction=64&ef_search=100&type=halfvec).
        var options = try PostgresSyntheticBench.Options(url: url)
        options.batchSize = batch
        if let first = efSearchValues.first { options.efSearch = first }
        options.efSearchSweep = Array(efSearchValues.dropFirst())
        return try PostgresSyntheticBench.run(url: url, gallery: gallery, queries: queries, truth: truth,
                                              options: options) { line in
            FileHandle.standardError.write(Data("[postgres] \(line)\n".utf8))
        }
    }

    static func row(_ r: SearchBenchResult) -> String {
        let size = Double(r.indexBytes) / 1_048_576
        return String(format: "| %@ | %@ | %d | build %.1f s | %.0f MiB | single %.1f q/s | batch%d %.1f q/s | recall@10 %.4f | RSS %.0f MiB |",
                      r.store, r.precision, r.count, r.buildSeconds, size, r.singleQueriesPerSecond, r.batchSize,
                      r.batchQueriesPerSecond, r.recallAt10, Double(r.peakRSSBytes) / 1_048_576)
    }

    /// Resident memory now (VmRSS), in bytes.
    static func residentBytes() -> Int64 {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Int64(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kb * 1024
    }
}
