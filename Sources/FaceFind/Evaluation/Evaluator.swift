import Foundation

/// One query's outcome.
public struct QueryOutcome: Sendable, Codable {
    public var path: String
    public var id: String
    /// 1-based rank of the first gallery photo of the same identity; nil when not in the top 20.
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

/// Open-set figures from all query x gallery pairs: how many same-person pairs pass a threshold that lets
/// through a given fraction of different-person pairs.
public struct VerificationFigures: Sendable, Codable, Equatable {
    public var positivePairs: Int
    public var negativePairs: Int
    /// True-accept rate at a false-accept rate of 1e-2, and the score threshold that gives it.
    public var tarAtFar1e2: Double
    public var thresholdAtFar1e2: Float
    public var tarAtFar1e3: Double
    public var thresholdAtFar1e3: Float
}

/// One row of the results table.
public struct EvaluationResult: Sendable, Codable {
    public var setting: EvaluatedSetting
    public var top1: Double
    /// A 95% interval for top-1 (bootstrap over the queries).
    public var top1Interval: ClosedRange<Double>
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
    /// Scores are cosine similarities (or euclidean distances) for one model; z-scores for fused models.
    public var verification: VerificationFigures?
    public var outcomes: [QueryOutcome]
}

extension EvaluationResult {
    /// Each query's top-1 outcome (1 hit, 0 miss), in query order: the items of cross-validation.
    public var top1Hits: [Double] { outcomes.map { $0.firstHitRank == 1 ? 1 : 0 } }
}

/// What to compare and how: one or more embedders (fused when several), and the ranking options.
public struct EvaluationPlan: Sendable {
    /// Each pipeline with its fusion weight.
    public var members: [(configuration: PipelineConfiguration, weight: Float)]
    public var metric: DistanceMetric
    public var queryFace: QueryFaceChoice
    /// Re-rank with α-query expansion over the top `expansionDepth` results.
    public var rerank: Bool
    public var expansionDepth: Int = 2
    public var expansionPower: Float = 3
    /// Pairs only: subtract the mean embedding of the training folds' pairs before the cosine (facenet's
    /// `--subtract_mean`), per held-out fold.
    public var subtractMean = false
    /// Pairs only: whiten with this shrinkage (0 full whitening ... 1 centring alone), learned per held-out
    /// fold on the training folds' photos without their labels (`EmbeddingWhitening`); implies centring.
    public var whitening: Double?
    /// Pairs only: how a fusion's members combine their similarities (`ScoreFusion`).
    public var fusion: ScoreFusion = .sum

    /// Whether a mean is learned and subtracted per held-out fold: asked for, or implied by whitening.
    public var centres: Bool { subtractMean || whitening != nil }

    public init(members: [(configuration: PipelineConfiguration, weight: Float)], metric: DistanceMetric = .cosine,
                queryFace: QueryFaceChoice = .largest, rerank: Bool = false) {
        self.members = members
        self.metric = metric
        self.queryFace = queryFace
        self.rerank = rerank
    }
}

/// Runs a labelled retrieval experiment. Embeddings are cached per setting in a store under
/// `cacheDirectory`, so a sweep over metrics, fusions or re-ranking embeds each photo once per setting.
public struct Evaluator: Sendable {
    public let set: LabelledSet
    public let loader: ModelLoader
    public let cacheDirectory: String
    public let indexing: IndexingOptions
    /// Gallery photos in split order, without repeats, and their identities.
    private let galleryPaths: [String]
    private let galleryIDs: [String]

    public init(set: LabelledSet, loader: ModelLoader, cacheDirectory: String, indexing: IndexingOptions = IndexingOptions()) {
        self.set = set
        self.loader = loader
        self.cacheDirectory = cacheDirectory
        self.indexing = indexing
        var seen = Set<String>()
        let unique = set.gallery.filter { seen.insert($0.path).inserted }
        galleryPaths = unique.map(\.path)
        galleryIDs = unique.map(\.id)
    }

    /// One embedder's view of the whole set: the gallery matrix mapped onto `galleryPaths`, and the queries' faces.
    struct ModelRun {
        var settings: IndexSettings
        /// The gallery half of the set, placed on `galleryPaths`.
        var search: GallerySearch
        var position: [Int]
        var queries: [String: StoredImage]
        var imagesPerSecond: Double?
        /// The cache holding every photo's faces.
        var store: SQLiteGalleryStore
    }

    /// Embeds (or loads from the cache) every photo of the set with one pipeline.
    func run(_ configuration: PipelineConfiguration, progress: (@Sendable (IndexProgress) -> Void)?) throws -> ModelRun {
        let pipeline = try FacePipeline(configuration: configuration, loader: loader)
        // The settings name the crop ("align5"); its exact template and sizes are part of the key too, so that
        // changing a template in the catalog never reuses embeddings made with the old one.
        let fields = pipeline.settings.fields.map { "\($0.0)=\($0.1)" } + ["crop_policy=\(pipeline.embedder.crop)"]
        let key = SHA256.hex(Array(fields.joined(separator: "\n").utf8))
        let store = try SQLiteGalleryStore(path: "\(cacheDirectory)/eval-\(key.prefix(16)).sqlite")
        try store.bind(pipeline.settings)
        let indexer = IndexingPipeline(finder: pipeline.finder, embedder: pipeline.embedder, store: store, options: indexing)
        let report = try indexer.index(files: set.allPaths, progress: progress)
        let positions = Dictionary(galleryPaths.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let member = FusedRanking.Member(search: GallerySearch(matrix: try store.loadFaceMatrix()), paths: positions)
        return ModelRun(settings: pipeline.settings, search: member.search, position: member.position,
                        queries: try store.storedFaces(paths: Set(set.queries.map(\.path))),
                        imagesPerSecond: report.indexed + report.failed.count > 0 ? report.imagesPerSecond : nil,
                        store: store)
    }

    /// The classic single-model sweep over metrics.
    public func evaluate(_ configuration: PipelineConfiguration, metrics: [DistanceMetric],
                         queryFace: QueryFaceChoice = .largest, rerank: Bool = false,
                         progress: (@Sendable (IndexProgress) -> Void)? = nil) throws -> [EvaluationResult] {
        let run = try self.run(configuration, progress: progress)
        return metrics.map { metric in
            score(EvaluationPlan(members: [(configuration, 1)], metric: metric, queryFace: queryFace, rerank: rerank),
                  runs: [run])
        }
    }

    /// Evaluates a plan (one embedder, or a weighted fusion of several).
    public func evaluate(_ plan: EvaluationPlan, progress: (@Sendable (IndexProgress) -> Void)? = nil) throws -> EvaluationResult {
        guard !set.queries.isEmpty else { throw EvaluationError.noQueries }
        let runs = try plan.members.map { try run($0.configuration, progress: progress) }
        return score(plan, runs: runs)
    }

    func score(_ plan: EvaluationPlan, runs: [ModelRun]) -> EvaluationResult {
        var outcomes: [QueryOutcome] = []
        var positives: [Float] = [], negatives: [Float] = []
        negatives.reserveCapacity(set.queries.count * galleryPaths.count)
        let weights = plan.members.map(\.weight)
        let ranking = FusedRanking(
            members: zip(runs, weights).map { FusedRanking.Member(search: $0.search, position: $0.position, weight: $1) },
            imageCount: galleryPaths.count)
        for query in set.queries {
            // The chosen faces of this query, per model (each model has its own detection run).
            var vectors: [[Embedding]] = []
            var chosenFace: DetectedFace?
            var wholeImage = false
            for run in runs {
                let stored = run.queries[query.path]
                let faces = stored?.faces ?? []
                let chosen = plan.queryFace.choose(from: faces.map(\.face), imageWidth: stored?.width ?? 0,
                                                   imageHeight: stored?.height ?? 0)
                vectors.append(chosen.map { faces[$0].embedding })
                if chosenFace == nil, let first = chosen.first { chosenFace = faces[first].face }
                wholeImage = wholeImage || faces.isEmpty || faces.allSatisfy(\.face.isWholeImage)
            }
            let (combined, faces) = ranking.scores(
                queries: vectors, metric: plan.metric,
                expansion: plan.rerank ? FusedRanking.Expansion(depth: plan.expansionDepth, power: plan.expansionPower) : nil)
            for (g, id) in galleryIDs.enumerated() where combined[g] > -.infinity {
                if id == query.id { positives.append(combined[g]) } else { negatives.append(combined[g]) }
            }
            let ranked = topK(combined, k: 20)
            outcomes.append(QueryOutcome(
                path: query.path, id: query.id,
                firstHitRank: RetrievalMetrics.firstHitRank(ranked.map { galleryIDs[$0] }, id: query.id),
                wholeImage: wholeImage, queryFace: chosenFace,
                top: ranked.prefix(10).map { g in
                    let face = faces[0][g]
                    let box = face >= 0 ? runs[0].search.matrix.faceBoxes[face] : Box(x: 0, y: 0, width: 0, height: 0)
                    return .init(path: galleryPaths[g], id: galleryIDs[g],
                                 score: ranking.reportedScore(combined[g], metric: plan.metric), box: box)
                }))
        }
        let ranks = outcomes.map(\.firstHitRank)
        var verification = Self.verification(positives: positives, negatives: negatives)
        if runs.count == 1, plan.metric == .euclidean, var v = verification {
            // Scores were minus squared distances: report thresholds as distances.
            v.thresholdAtFar1e2 = (-v.thresholdAtFar1e2).squareRoot()
            v.thresholdAtFar1e3 = (-v.thresholdAtFar1e3).squareRoot()
            verification = v
        }
        return EvaluationResult(
            setting: EvaluatedSetting(runs.map(\.settings), plan: plan),
            top1: RetrievalMetrics.topK(firstHitRanks: ranks, k: 1),
            top1Interval: CrossValidation.meanInterval(ranks.map { $0 == 1 ? 1 : 0 }),
            top5: RetrievalMetrics.topK(firstHitRanks: ranks, k: 5),
            top10: RetrievalMetrics.topK(firstHitRanks: ranks, k: 10),
            cmc: RetrievalMetrics.cmc(firstHitRanks: ranks, maxRank: 20),
            queries: outcomes.count, galleryImages: galleryPaths.count,
            facesNotFound: outcomes.filter(\.wholeImage).count,
            imagesPerSecond: runs.count == 1 ? runs[0].imagesPerSecond : nil,
            verification: verification, outcomes: outcomes)
    }

    /// TAR at FAR 1e-2 and 1e-3 from pair scores (larger = more alike); nil without enough pairs.
    public static func verification(positives: [Float], negatives: [Float]) -> VerificationFigures? {
        guard !positives.isEmpty, negatives.count >= 1000 else { return nil }
        let sortedNegatives = negatives.sorted(by: >)
        func at(_ far: Double) -> (Double, Float) {
            // The threshold lets through at most `far` of the negatives: scores strictly above it.
            let allowed = Int(Double(sortedNegatives.count) * far)
            let threshold = sortedNegatives[min(allowed, sortedNegatives.count - 1)]
            let accepted = positives.filter { $0 > threshold }.count
            return (Double(accepted) / Double(positives.count), threshold)
        }
        let (t2, th2) = at(1e-2), (t3, th3) = at(1e-3)
        return VerificationFigures(positivePairs: positives.count, negativePairs: negatives.count,
                                   tarAtFar1e2: t2, thresholdAtFar1e2: th2, tarAtFar1e3: t3, thresholdAtFar1e3: th3)
    }

    /// Ranks gallery images for a query photo's faces; with several chosen faces an image keeps its best score.
    public static func rank(faces: [StoredFace], choice: QueryFaceChoice, search: GallerySearch, metric: DistanceMetric,
                            k: Int, imageWidth: Int, imageHeight: Int, threshold: Float? = nil) -> [Match] {
        let chosen = choice.choose(from: faces.map(\.face), imageWidth: imageWidth, imageHeight: imageHeight)
        return search.rank(faces: chosen.map { faces[$0].embedding }, k: k, metric: metric, threshold: threshold)
            .map(\.match)
    }
}
