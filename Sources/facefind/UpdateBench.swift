import ArgumentParser
import FaceFind
import FaceFindBench
import Foundation

/// `facefind bench --synthetic N --updates K`: what a photo added to or deleted from a served gallery costs
/// beyond its inference, the way `facefind serve` applies it to a SQLite gallery of N faces: the store write, the
/// faces of that photo read back, the in-memory search updated in place (`LiveGallerySearch`), and the next
/// search, which must find the photo. Against it, the whole-gallery reload the server did before.
extension BenchCommand {
    struct UpdateBenchResult: Encodable {
        var faces: Int
        var updates: Int
        var loadSeconds: Double
        var addMedianMs: Double
        var addP95Ms: Double
        var addMaxMs: Double
        var deleteMedianMs: Double
        var deleteP95Ms: Double
        /// Additions whose photo came first in the search right after, and deletions whose photo was gone.
        var foundAfterAdd: Int
        var goneAfterDelete: Int
        /// Compactions (whole reloads) the updates caused.
        var compactions: Int
        var peakRSSMiB: Double

        init(faces: Int, updates: Int, loadSeconds: Double, addMs: [Double], deleteMs: [Double], found: Int, gone: Int,
             compactions: Int, peakRSSMiB: Double) {
            func percentile(_ values: [Double], _ p: Double) -> Double {
                let sorted = values.sorted()
                return sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p + 0.5))]
            }
            self.faces = faces; self.updates = updates; self.loadSeconds = loadSeconds
            addMedianMs = percentile(addMs, 0.5); addP95Ms = percentile(addMs, 0.95); addMaxMs = addMs.max() ?? 0
            deleteMedianMs = percentile(deleteMs, 0.5); deleteP95Ms = percentile(deleteMs, 0.95)
            foundAfterAdd = found; goneAfterDelete = gone
            self.compactions = compactions; self.peakRSSMiB = peakRSSMiB
        }

        /// The add and delete rows of the table (`deleted`: the photos found, then deleted).
        func printRows(deleted: Int) {
            print(String(format: "| add one photo, write to found by the next search | median %.1f ms, p95 %.1f ms, max %.1f ms | found first %d/%d |",
                         addMedianMs, addP95Ms, addMaxMs, foundAfterAdd, updates))
            print(String(format: "| delete one photo, to gone from the next search | median %.1f ms, p95 %.1f ms | gone %d/%d |",
                         deleteMedianMs, deleteP95Ms, goneAfterDelete, deleted))
        }
    }

    func runSyntheticUpdates(count: Int, updates: Int) throws {
        let gallery = SyntheticGallery(count: count + updates)
        let path = NSTemporaryDirectory() + "facefind-bench-updates-\(ProcessInfo.processInfo.processIdentifier).sqlite"
        Self.removeDatabase(path)
        defer { Self.removeDatabase(path) }
        let store = try SQLiteGalleryStore(path: path)
        try store.bind(IndexSettings(detector: "synthetic", detectorSHA256: "", embedder: "synthetic", embedderSHA256: "",
                                     crop: "none", normalization: "none", dimension: gallery.dimension, maxSide: 0,
                                     minSide: 0))
        func photo(_ index: Int) -> IndexedImage {
            let face = DetectedFace(box: Box(x: 0, y: 0, width: 100, height: 100), score: 1)
            return IndexedImage(path: "/synthetic/\(index).jpg", state: FileState(sha256: String(index), bytes: 1, modified: 0),
                                width: 100, height: 100, faces: [StoredFace(face: face, embedding: Embedding(gallery.vector(at: index)))])
        }
        for start in stride(from: 0, to: count, by: 2_000) {
            try store.write((start..<min(start + 2_000, count)).map(photo))
        }

        // What the server did per change before: load the whole gallery and build its search.
        let loadStart = Date()
        var live = LiveGallerySearch(matrix: try store.loadFaceMatrix())
        let loadSeconds = Date().timeIntervalSince(loadStart)

        var addMs: [Double] = [], deleteMs: [Double] = []
        var found = 0, gone = 0, compactions = 0
        var added: [(id: Int64, vector: [Float])] = []
        func apply(removed: Set<Int64>, paths: [String]) throws {
            let (next, reloaded) = try live.updated(from: store, removed: removed, paths: paths)
            live = next
            compactions += reloaded ? 1 : 0
            _ = live.counts  // the server updates its gauges from it
        }
        for index in count..<(count + updates) {
            let image = photo(index)
            let start = Date()
            try store.write([image])
            try apply(removed: [], paths: [image.path])
            let top = try live.rank(faces: [image.faces[0].embedding], k: 10, metric: .cosine, threshold: nil)
            addMs.append(Date().timeIntervalSince(start) * 1000)
            if top.first?.match.path == image.path { found += 1 }
            if let id = top.first?.match.imageID { added.append((id, image.faces[0].embedding.vector)) }
        }
        for (id, vector) in added {
            let start = Date()
            try store.remove(ids: [id])
            try apply(removed: [id], paths: [])
            let top = try live.rank(faces: [Embedding(vector)], k: 10, metric: .cosine, threshold: nil)
            deleteMs.append(Date().timeIntervalSince(start) * 1000)
            if !top.contains(where: { $0.match.imageID == id }) { gone += 1 }
        }
        let result = UpdateBenchResult(faces: count, updates: updates, loadSeconds: loadSeconds, addMs: addMs,
                                       deleteMs: deleteMs, found: found, gone: gone, compactions: compactions,
                                       peakRSSMiB: Self.peakRSSMiB())
        if json { return try printJSON(result) }
        print("FaceFind bench --synthetic \(count) --updates \(updates): a SQLite gallery updated as `serve` does it")
        print(String(format: "| whole-gallery load (the reload per change before) | %.0f ms |", loadSeconds * 1000))
        result.printRows(deleted: added.count)
        print(String(format: "| compactions | %d | peak RSS %.0f MiB |", compactions, result.peakRSSMiB))
    }

    /// `--updates K --store postgres://…`: the same on PostgreSQL, where `serve` keeps nothing in memory: an add is
    /// the store's transaction (rows and the HNSW insert), and the next search runs on the server. The gallery of N
    /// faces is the schema `bench --synthetic N --store` builds (reused when it exists); the photos added are
    /// deleted again, so the schema is left as it was.
    func runPostgresUpdates(count: Int, updates: Int, url: String) throws {
        guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
            throw ValidationError("--updates with --store: only postgres:// stores")
        }
        let gallery = SyntheticGallery(count: count)
        let extra = SyntheticGallery(count: updates, seed: 4242)
        let ready = try PostgresSyntheticBench.prepared(url: url, gallery: gallery, options: try PostgresSyntheticBench.Options(url: url)) { line in
            FileHandle.standardError.write(Data("[postgres] \(line)\n".utf8))
        }
        let store = ready.store
        defer { store.close() }
        var addMs: [Double] = [], deleteMs: [Double] = []
        var found = 0, gone = 0
        var added: [(id: Int64, vector: [Float])] = []
        for index in 0..<updates {
            let vector = extra.vector(at: index)
            let face = DetectedFace(box: Box(x: 0, y: 0, width: 100, height: 100), score: 1)
            let image = IndexedImage(path: "/synthetic/update-\(index).jpg",
                                     state: FileState(sha256: "update-\(index)", bytes: 1, modified: 0), width: 100,
                                     height: 100, faces: [StoredFace(face: face, embedding: Embedding(vector))])
            let start = Date()
            try store.write([image])
            let top = try store.rank(faces: [Embedding(vector)], k: 10, metric: .cosine, threshold: nil)
            addMs.append(Date().timeIntervalSince(start) * 1000)
            if top.first?.match.path == image.path { found += 1 }
            if let id = top.first?.match.imageID, top.first?.match.path == image.path { added.append((id, vector)) }
        }
        for (id, vector) in added {
            let start = Date()
            _ = try store.remove(ids: [id])
            let top = try store.rank(faces: [Embedding(vector)], k: 10, metric: .cosine, threshold: nil)
            deleteMs.append(Date().timeIntervalSince(start) * 1000)
            if !top.contains(where: { $0.match.imageID == id }) { gone += 1 }
        }
        let result = UpdateBenchResult(faces: count, updates: updates, loadSeconds: ready.loadSeconds, addMs: addMs,
                                       deleteMs: deleteMs, found: found, gone: gone, compactions: 0,
                                       peakRSSMiB: Self.peakRSSMiB())
        if json { return try printJSON(result) }
        print("FaceFind bench --synthetic \(count) --updates \(updates) --store: a PostgreSQL gallery (HNSW) updated as `serve` does it")
        result.printRows(deleted: added.count)
    }
}
