import Foundation

/// One setting measured on a pairs file by the LFW protocol.
public struct PairEvaluationResult: Sendable, Codable {
    public var detector: String
    public var embedder: String
    public var crop: String
    public var normalization: String
    public var metric: DistanceMetric
    public var queryFace: QueryFaceChoice
    public var flip: Bool
    /// Distinct photos embedded, and those where no face was found (the whole photo stood in) or that could not
    /// be read (their pairs count as "different").
    public var photos: Int
    public var facesNotFound: Int
    public var unreadable: Int
    public var verification: VerificationResult
    /// Every pair's score, in file order (for the ROC curve and for inspection).
    public var scores: [ScoredPair]
}

extension Evaluator {
    /// The labelled set behind a pairs file: each distinct photo once (as a query, so that its faces are kept),
    /// its identity the folder name.
    public static func photoSet(of pairs: PairsFile, imagesFolder: String) -> LabelledSet {
        LabelledSet(queries: pairs.photos.map { LabelledSet.Item(path: PairsFile.path(of: $0, in: imagesFolder), id: $0.name) },
                    gallery: [])
    }

    /// Scores every pair of `pairs` with `plan` (one embedder, or a weighted fusion: the weighted sum of the
    /// members' similarities) and runs the LFW protocol over its folds. The evaluator's set must be
    /// `photoSet(of: pairs, imagesFolder:)`. Similarity is the cosine of the chosen faces' embeddings, or minus
    /// their euclidean distance; with `queryFace: .all`, the best over every pair of faces.
    public func evaluatePairs(_ pairs: PairsFile, imagesFolder: String, plan: EvaluationPlan,
                              progress: (@Sendable (IndexProgress) -> Void)? = nil) throws -> PairEvaluationResult {
        let runs = try plan.members.map { try run($0.configuration, progress: progress) }
        // The chosen faces' embeddings of every photo, per member.
        var chosen: [[String: [Embedding]]] = []
        var wholeImage = Set<String>()
        for run in runs {
            var byPath: [String: [Embedding]] = [:]
            for (path, stored) in run.queries {
                let picked = plan.queryFace.choose(from: stored.faces.map(\.face), imageWidth: stored.width,
                                                   imageHeight: stored.height)
                byPath[path] = picked.map { stored.faces[$0].embedding }
                if stored.faces.allSatisfy(\.face.isWholeImage) { wholeImage.insert(path) }
            }
            chosen.append(byPath)
        }
        let weights = plan.members.map(\.weight)
        var unreadable = Set<String>()
        let scores: [ScoredPair] = pairs.pairs.map { pair in
            let a = PairsFile.path(of: pair.first, in: imagesFolder), b = PairsFile.path(of: pair.second, in: imagesFolder)
            var score: Float = 0
            for (member, weight) in zip(chosen, weights) {
                guard let left = member[a], let right = member[b], !left.isEmpty, !right.isEmpty else {
                    if member[a]?.isEmpty ?? true { unreadable.insert(a) }
                    if member[b]?.isEmpty ?? true { unreadable.insert(b) }
                    score = -.greatestFiniteMagnitude  // a photo without an embedding matches nothing
                    break
                }
                score += weight * Self.similarity(left, right, metric: plan.metric)
            }
            return ScoredPair(score: score, samePerson: pair.samePerson, fold: pair.fold)
        }
        let first = runs[0].settings
        let names = Self.names(runs.map(\.settings), weights: weights)
        return PairEvaluationResult(
            detector: first.detector, embedder: names.embedder, crop: names.crop, normalization: names.normalization,
            metric: plan.metric, queryFace: plan.queryFace, flip: first.augmentation == "flip",
            photos: set.queries.count, facesNotFound: wholeImage.count, unreadable: unreadable.count,
            verification: VerificationMetrics.evaluate(scores, folds: pairs.folds), scores: scores)
    }

    /// Cosine similarity, or minus the euclidean distance, of the closest of the faces' embeddings.
    static func similarity(_ left: [Embedding], _ right: [Embedding], metric: DistanceMetric) -> Float {
        left.flatMap { a in right.map { a.similarity(to: $0, metric: metric) } }.max() ?? -.greatestFiniteMagnitude
    }
}
