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

    /// Scores every pair of `pairs` with `plan` (one embedder, or a fusion of several combined by
    /// `plan.fusion`) and runs the LFW protocol over its folds. The evaluator's set must be
    /// `photoSet(of: pairs, imagesFolder:)`. Similarity is the cosine of the chosen faces' embeddings, or minus
    /// their euclidean distance; with `queryFace: .all`, the best over every pair of faces. Whatever is learned
    /// (mean, whitening, fusion) is learned per held-out fold on the other folds.
    public func evaluatePairs(_ pairs: PairsFile, imagesFolder: String, plan: EvaluationPlan,
                              progress: (@Sendable (IndexProgress) -> Void)? = nil) throws -> PairEvaluationResult {
        let runs = try plan.members.map { try run($0.configuration, progress: progress) }
        // The chosen faces' embeddings of every photo, per member.
        let chosen = runs.map { run in
            run.queries.mapValues { stored in
                plan.queryFace.choose(from: stored.faces.map(\.face), imageWidth: stored.width, imageHeight: stored.height)
                    .map { stored.faces[$0].embedding }
            }
        }
        let wholeImage = Set(runs.flatMap { $0.queries.filter { $0.value.faces.allSatisfy(\.face.isWholeImage) }.keys })
        let paths = pairs.pairs.map {
            (PairsFile.path(of: $0.first, in: imagesFolder), PairsFile.path(of: $0.second, in: imagesFolder))
        }
        let unreadable = Set(chosen.flatMap { member in
            paths.flatMap { [$0.0, $0.1] }.filter { member[$0]?.isEmpty ?? true }
        })
        // Each member's similarity of every pair, its embeddings transformed by `transforms[member]` first (when
        // given; each photo once, not once per pair); -greatestFiniteMagnitude where a photo has no embedding.
        func memberScores(transforms: [EmbeddingWhitening?]) -> [[Float]] {
            zip(chosen, transforms).map { member, transform in
                let embeddings = transform.map { t in member.mapValues { $0.map(t.apply) } } ?? member
                return paths.map { a, b in
                    guard let left = embeddings[a], let right = embeddings[b], !left.isEmpty, !right.isEmpty else {
                        return -.greatestFiniteMagnitude
                    }
                    return Self.similarity(left, right, metric: plan.metric)
                }
            }
        }
        func fused(_ scores: [[Float]], _ model: FusionModel) -> [ScoredPair] {
            pairs.pairs.indices.map { p in
                ScoredPair(score: model.score(scores.map { $0[p] }), samePerson: pairs.pairs[p].samePerson,
                           fold: pairs.pairs[p].fold)
            }
        }
        let weights = plan.members.map(\.weight)
        guard plan.centres || plan.fusion.needsTraining(members: chosen.count) else {
            let scored = fused(memberScores(transforms: chosen.map { _ in nil }), FusionModel(weights: weights))
            return PairEvaluationResult(
                setting: EvaluatedSetting(runs.map(\.settings), plan: plan), photos: set.queries.count,
                facesNotFound: wholeImage.count, unreadable: unreadable.count,
                verification: VerificationMetrics.evaluate(scored, folds: pairs.folds), scores: scored)
        }
        var byFold: [Int: [ScoredPair]] = [:]
        let verification = VerificationMetrics.evaluate(scoredForFold: { fold in
            let training = pairs.pairs.indices.filter { pairs.pairs[$0].fold != fold }
            // As facenet: centring (and whitening) learned from both photos of every training pair.
            let transforms = chosen.map { member in
                plan.centres
                    ? EmbeddingWhitening(fitting: training.flatMap { (member[paths[$0].0] ?? []) + (member[paths[$0].1] ?? []) },
                                         shrinkage: plan.whitening ?? 1)
                    : nil
            }
            let scores = memberScores(transforms: transforms)
            let model = FusionModel(plan.fusion, scores: scores.map { s in training.map { s[$0] } },
                                    same: training.map { pairs.pairs[$0].samePerson }, givenWeights: weights)
            let scored = fused(scores, model)
            byFold[fold] = scored
            return scored
        }, folds: pairs.folds)
        let heldOut = pairs.pairs.indices.map { byFold[pairs.pairs[$0].fold]?[$0] ?? ScoredPair(
            score: -.greatestFiniteMagnitude, samePerson: pairs.pairs[$0].samePerson, fold: pairs.pairs[$0].fold) }
        return PairEvaluationResult(
            setting: EvaluatedSetting(runs.map(\.settings), plan: plan), photos: set.queries.count,
            facesNotFound: wholeImage.count, unreadable: unreadable.count, verification: verification, scores: heldOut)
    }

    /// Cosine similarity, or minus the euclidean distance, of the closest of the faces' embeddings.
    static func similarity(_ left: [Embedding], _ right: [Embedding], metric: DistanceMetric) -> Float {
        left.flatMap { a in right.map { a.similarity(to: $0, metric: metric) } }.max() ?? -.greatestFiniteMagnitude
    }
}
