import Foundation

/// One setting measured on a pairs file by the LFW protocol.
public struct PairEvaluationResult: Sendable, Codable {
    public var setting: EvaluatedSetting
    /// Distinct photos embedded, and those where no face was found (the whole photo stood in) or that could not
    /// be read (their pairs count as "different").
    public var photos: Int
    public var facesNotFound: Int
    public var unreadable: Int
    public var verification: VerificationResult
    /// Every pair's score, in file order, as scored for its own held-out fold (for the ROC curve and for
    /// inspection).
    public var scores: [ScoredPair]
}

extension PairEvaluationResult {
    /// Each pair's decision at its fold's threshold (1 right, 0 wrong), in file order: the items of
    /// cross-validation.
    public var correct: [Double] {
        scores.map { ($0.score > verification.foldThresholds[$0.fold]) == $0.samePerson ? 1 : 0 }
    }
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
        let paths = pairs.pairs.map {
            (PairsFile.path(of: $0.first, in: imagesFolder), PairsFile.path(of: $0.second, in: imagesFolder))
        }
        var unreadable = Set<String>()
        for member in chosen {
            for (a, b) in paths {
                if member[a]?.isEmpty ?? true { unreadable.insert(a) }
                if member[b]?.isEmpty ?? true { unreadable.insert(b) }
            }
        }
        // Every pair's score, each member's embeddings transformed by `transforms[member]` first (when given;
        // each photo once, not once per pair).
        func scores(transforms: [EmbeddingWhitening?]) -> [ScoredPair] {
            let members = zip(chosen, transforms).map { member, transform in
                transform.map { t in member.mapValues { $0.map(t.apply) } } ?? member
            }
            return zip(pairs.pairs, paths).map { pair, path in
                var score: Float = 0
                for (member, weight) in zip(members, weights) {
                    guard let left = member[path.0], let right = member[path.1], !left.isEmpty, !right.isEmpty else {
                        score = -.greatestFiniteMagnitude  // a photo without an embedding matches nothing
                        break
                    }
                    score += weight * Self.similarity(left, right, metric: plan.metric)
                }
                return ScoredPair(score: score, samePerson: pair.samePerson, fold: pair.fold)
            }
        }
        let verification: VerificationResult
        let heldOutScores: [ScoredPair]
        if plan.subtractMean || plan.whitening != nil {
            // As facenet: learned from the embeddings of both photos of every training pair, per held-out fold.
            var byFold: [Int: [ScoredPair]] = [:]
            verification = VerificationMetrics.evaluate(scoredForFold: { fold in
                let training = zip(pairs.pairs, paths).filter { $0.0.fold != fold }.map(\.1)
                let transforms = chosen.map { member in
                    EmbeddingWhitening(fitting: training.flatMap { (member[$0.0] ?? []) + (member[$0.1] ?? []) },
                                       shrinkage: plan.whitening ?? 1)
                }
                let scored = scores(transforms: transforms)
                byFold[fold] = scored
                return scored
            }, folds: pairs.folds)
            heldOutScores = pairs.pairs.indices.map { byFold[pairs.pairs[$0].fold]?[$0] ?? ScoredPair(
                score: -.greatestFiniteMagnitude, samePerson: pairs.pairs[$0].samePerson, fold: pairs.pairs[$0].fold) }
        } else {
            heldOutScores = scores(transforms: chosen.map { _ in nil })
            verification = VerificationMetrics.evaluate(heldOutScores, folds: pairs.folds)
        }
        return PairEvaluationResult(
            setting: EvaluatedSetting(runs.map(\.settings), plan: plan),
            photos: set.queries.count, facesNotFound: wholeImage.count, unreadable: unreadable.count,
            verification: verification, scores: heldOutScores)
    }

    /// Cosine similarity, or minus the euclidean distance, of the closest of the faces' embeddings.
    static func similarity(_ left: [Embedding], _ right: [Embedding], metric: DistanceMetric) -> Float {
        left.flatMap { a in right.map { a.similarity(to: $0, metric: metric) } }.max() ?? -.greatestFiniteMagnitude
    }
}
