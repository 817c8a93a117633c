import FaceFind
import FaceFindPostgres
import Foundation

extension PostgresSyntheticBench {
    /// What clustering a generated gallery in PostgreSQL took (`facefind bench --synthetic N --people --store`).
    public struct PeopleResult: Sendable, Encodable {
        public var faces: Int
        public var identities: Int
        /// Loading the faces and building the HNSW index (0 when a schema built earlier was reused).
        public var loadSeconds: Double
        public var buildSeconds: Double
        /// `PeopleClustering.clusterGallery`: the neighbours in the server, Chinese Whispers here, the persons saved.
        public var clusterSeconds: Double
        public var persons: Int
        public var bcubedF: Double
        /// The server's memory (the backends' peak RSS, where /proc shows them), in the notes.
        public var notes: [String]
    }

    /// The generated faces (one per photo, none a whole-image stand-in) in a schema of their own
    /// (`bench_<N>_<D>_faces`, reused when built with the same parameters), clustered as `facefind people cluster
    /// --store` clusters them, and scored against the generated identities.
    ///
    /// - Parameters:
    ///   - url: the PostgreSQL server.
    ///   - gallery: the generated faces.
    ///   - threshold: the cosine similarity faces are linked from.
    ///   - options: the store's HNSW parameters (`wholeImageFaces` is set to false here).
    ///   - progress: the neighbour search's faces done and to do.
    ///   - log: progress lines for loading and building.
    public static func clusterPeople(url: String, gallery: SyntheticGallery, threshold: Float, options: Options,
                                     progress: (@Sendable (Int, Int) -> Void)? = nil,
                                     log: @escaping @Sendable (String) -> Void = { _ in }) throws -> PeopleResult {
        var options = options
        options.wholeImageFaces = false
        let ready = try prepared(url: url, gallery: gallery, options: options, log: log)
        defer { ready.store.close() }
        let summary = try PeopleClustering.clusterGallery(ready.store, threshold: threshold, minimumFaces: 1,
                                                          progress: progress)
        let assignments = try ready.store.personAssignments()
        // Face ids are the generated rows' indexes + 1.
        let scores = ClusteringScores(clusters: (0..<gallery.count).map { Int(assignments[Int64($0 + 1)]?.person ?? -1) },
                                      labels: (0..<gallery.count).map { gallery.identity(of: $0) })
        var notes = ready.notes
        let backends = try ready.store.session.run { db in
            try db.query("SELECT pid FROM pg_stat_activity WHERE datname = current_database()").map { try $0.decode(Int32.self) }
        }
        let peaks = backends.compactMap { peakRSS(ofProcess: Int($0)) }
        if let largest = peaks.max() { notes.append("largest server backend's peak RSS: \(largest / 1_048_576) MiB") }
        return PeopleResult(faces: gallery.count, identities: gallery.identities, loadSeconds: ready.loadSeconds,
                            buildSeconds: ready.buildSeconds, clusterSeconds: summary.seconds,
                            persons: summary.persons, bcubedF: scores.bcubedF, notes: notes)
    }
}
