import Foundation

/// One query's outcome.
public struct QueryOutcome: Sendable, Codable {
    public var path: String
    public var id: String
    /// 1-based rank of the first gallery photo of the same identity; nil when not in the ranking.
    public var firstHitRank: Int?
    /// True when no face was found and the whole query photo was embedded.
    public var wholeImage: Bool
    /// The query face searched with (the first, when several were).
    public var queryFace: DetectedFace?
    /// The top gallery photos: path, identity, score.
    public var top: [RankedItem]

    public struct RankedItem: Sendable, Codable {
        public var path: String
        public var id: String
        public var score: Float
        public var box: Box
    }
}

/// One row of the results table.
public struct EvaluationResult: Sendable, Codable {
    public var detector: String
    public var embedder: String
    public var crop: String
    public var normalization: String
    public var metric: DistanceMetric
    public var queryFace: QueryFaceChoice
    public var top1: Double
    public var top5: Double
    public var top10: Double
    /// CMC for k = 1...20.
    public var cmc: [Double]
    public var queries: Int
    public var galleryImages: Int
    /// Queries where no face was found (whole image embedded).
    public var facesNotFound: Int
    /// Indexing speed of the photos embedded in this run (nil when every embedding came from the cache).
    public var imagesPerSecond: Double?
    public var outcomes: [QueryOutcome]
}

/// Runs a labelled retrieval experiment. Embeddings are cached per setting in a store under
/// `cacheDirectory`, so a sweep over metrics, or a second run, embeds each photo once per setting.
public struct Evaluator: Sendable {
    public let set: LabelledSet
    public let loader: ModelLoader
    public let cacheDirectory: String
    public let indexing: IndexingOptions

    public init(set: LabelledSet, loader: ModelLoader, cacheDirectory: String, indexing: IndexingOptions = IndexingOptions()) {
        self.set = set
        self.loader = loader
        self.cacheDirectory = cacheDirectory
        self.indexing = indexing
    }

    public func evaluate(_ configuration: PipelineConfiguration, metrics: [DistanceMetric],
                         queryFace: QueryFaceChoice = .largest,
                         progress: (@Sendable (IndexProgress) -> Void)? = nil) throws -> [EvaluationResult] {
        guard !set.queries.isEmpty else { throw EvaluationError.noQueries }
        let pipeline = try FacePipeline(configuration: configuration, loader: loader)
        let key = SHA256.hex(Array(pipeline.settings.fields.map { "\($0.0)=\($0.1)" }.joined(separator: "\n").utf8))
        let store = try SQLiteGalleryStore(path: "\(cacheDirectory)/eval-\(key.prefix(16)).sqlite")
        try store.bind(pipeline.settings)
        let indexer = IndexingPipeline(finder: pipeline.finder, embedder: pipeline.embedder, store: store,
                                       options: indexing)
        let report = try indexer.index(files: set.allPaths, progress: progress)
        let speed = report.indexed + report.failed.count > 0 ? report.imagesPerSecond : nil

        let galleryPaths = Set(set.gallery.map(\.path))
        let identity = Dictionary(set.gallery.map { ($0.path, $0.id) }, uniquingKeysWith: { a, _ in a })
        let search = GallerySearch(matrix: try store.loadFaceMatrix().filter { galleryPaths.contains($0) })
        let queryFaces = try store.storedFaces(paths: Set(set.queries.map(\.path)))

        return metrics.map { metric in
            var outcomes: [QueryOutcome] = []
            for query in set.queries {
                let stored = queryFaces[query.path]
                let faces = stored?.faces ?? []
                let matches = Self.rank(faces: faces, choice: queryFace, search: search, metric: metric, k: 20,
                                        imageWidth: stored?.width ?? 0, imageHeight: stored?.height ?? 0)
                let ids = matches.map { identity[$0.path] ?? "" }
                outcomes.append(QueryOutcome(
                    path: query.path, id: query.id, firstHitRank: RetrievalMetrics.firstHitRank(ids, id: query.id),
                    wholeImage: faces.isEmpty || faces.allSatisfy(\.face.isWholeImage),
                    queryFace: queryFace.choose(from: faces.map(\.face), imageWidth: stored?.width ?? 0,
                                                imageHeight: stored?.height ?? 0).first.map { faces[$0].face },
                    top: matches.prefix(10).map { .init(path: $0.path, id: identity[$0.path] ?? "", score: $0.score, box: $0.box) }))
            }
            let ranks = outcomes.map(\.firstHitRank)
            return EvaluationResult(
                detector: pipeline.settings.detector, embedder: pipeline.settings.embedder,
                crop: pipeline.settings.crop, normalization: pipeline.settings.normalization, metric: metric,
                queryFace: queryFace,
                top1: RetrievalMetrics.topK(firstHitRanks: ranks, k: 1),
                top5: RetrievalMetrics.topK(firstHitRanks: ranks, k: 5),
                top10: RetrievalMetrics.topK(firstHitRanks: ranks, k: 10),
                cmc: RetrievalMetrics.cmc(firstHitRanks: ranks, maxRank: 20),
                queries: outcomes.count, galleryImages: search.matrix.images.count,
                facesNotFound: outcomes.filter(\.wholeImage).count, imagesPerSecond: speed, outcomes: outcomes)
        }
    }

    /// Ranks gallery images for a query photo's faces; with several chosen faces an image keeps its best score.
    public static func rank(faces: [StoredFace], choice: QueryFaceChoice, search: GallerySearch,
                            metric: DistanceMetric, k: Int, imageWidth: Int, imageHeight: Int) -> [Match] {
        let chosen = choice.choose(from: faces.map(\.face), imageWidth: imageWidth, imageHeight: imageHeight)
        if chosen.count == 1 { return search.search(faces[chosen[0]].embedding, k: k, metric: metric) }
        var best: [Int64: Match] = [:]
        for i in chosen {
            for match in search.search(faces[i].embedding, k: k, metric: metric) {
                let better = best[match.imageID].map { metric.higherIsCloser ? match.score > $0.score : match.score < $0.score } ?? true
                if better { best[match.imageID] = match }
            }
        }
        let ordered = best.values.sorted { metric.higherIsCloser ? $0.score > $1.score : $0.score < $1.score }
        return ordered.prefix(k).enumerated().map { var m = $1; m.rank = $0 + 1; return m }
    }
}
