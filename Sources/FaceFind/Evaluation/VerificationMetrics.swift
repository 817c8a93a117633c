import Foundation

/// One pair of photos with its similarity score (larger = more alike) and the truth.
public struct ScoredPair: Sendable, Codable, Equatable {
    public var score: Float
    public var samePerson: Bool
    /// Cross-validation fold, from 0.
    public var fold: Int

    public init(score: Float, samePerson: Bool, fold: Int) {
        self.score = score
        self.samePerson = samePerson
        self.fold = fold
    }
}

/// The outcome of the LFW verification protocol over scored pairs.
public struct VerificationResult: Sendable, Codable, Equatable {
    /// Accuracy on each held-out fold, at the threshold chosen on the other folds.
    public var foldAccuracies: [Double]
    /// The threshold chosen for each fold (on the other folds).
    public var foldThresholds: [Float]
    /// Mean and standard deviation (population, as LFW results are reported) of `foldAccuracies`.
    public var meanAccuracy: Double
    public var standardDeviation: Double
    /// Area under the ROC curve, over all pairs.
    public var auc: Double
    /// Same-person pairs accepted at a false-accept rate of 1e-3, over all pairs, and that threshold.
    public var tarAtFar1e3: Double
    public var thresholdAtFar1e3: Float
    /// A 95% interval for the mean accuracy (bootstrap over pairs, within folds).
    public var accuracyInterval: ClosedRange<Double>
    public var pairs: Int
}

/// The LFW pairs protocol (View 2): for each fold, the threshold best on the other folds is applied to the
/// held-out one; the result is the mean and spread of the fold accuracies. Pure functions of the scores.
public enum VerificationMetrics {
    /// The threshold that classifies `pairs` best ("same" when score > threshold) and its accuracy. Candidates
    /// are the midpoints between consecutive distinct scores (and one below the lowest, one above the highest):
    /// every other threshold classifies like one of them. Of several equally good, the middle one.
    public static func bestThreshold(_ pairs: [ScoredPair]) -> (threshold: Float, accuracy: Double) {
        guard !pairs.isEmpty else { return (0, 0) }
        let sorted = pairs.sorted { $0.score < $1.score }
        // Threshold below everything: all "same" → correct = number of same pairs.
        var correct = sorted.filter(\.samePerson).count
        var best = correct
        var candidates: [Float] = [sorted[0].score - 1]
        var i = 0
        while i < sorted.count {
            // Move every pair with this score to "different".
            let score = sorted[i].score
            while i < sorted.count, sorted[i].score == score {
                correct += sorted[i].samePerson ? -1 : 1
                i += 1
            }
            let threshold = i < sorted.count ? (score + sorted[i].score) / 2 : score + 1
            if correct > best {
                best = correct
                candidates = [threshold]
            } else if correct == best {
                candidates.append(threshold)
            }
        }
        return (candidates[candidates.count / 2], Double(best) / Double(pairs.count))
    }

    /// Accuracy of `threshold` on `pairs`.
    public static func accuracy(_ pairs: [ScoredPair], threshold: Float) -> Double {
        guard !pairs.isEmpty else { return 0 }
        return Double(pairs.filter { ($0.score > threshold) == $0.samePerson }.count) / Double(pairs.count)
    }

    /// Area under the ROC curve: the chance that a random same-person pair scores above a random
    /// different-person pair (ties count one half).
    public static func auc(_ pairs: [ScoredPair]) -> Double {
        let positives = pairs.filter(\.samePerson).map(\.score).sorted()
        let negatives = pairs.filter { !$0.samePerson }.map(\.score).sorted()
        guard !positives.isEmpty, !negatives.isEmpty else { return 0 }
        var below = 0, ties = 0, total = 0.0
        for score in positives {
            while below < negatives.count, negatives[below] < score { below += 1 }
            ties = 0
            while below + ties < negatives.count, negatives[below + ties] == score { ties += 1 }
            total += Double(below) + 0.5 * Double(ties)
        }
        return total / (Double(positives.count) * Double(negatives.count))
    }

    /// The fraction of same-person pairs accepted at the strictest threshold that lets through at most `far` of
    /// the different-person pairs (scores strictly above it), and that threshold.
    public static func tar(_ pairs: [ScoredPair], atFAR far: Double) -> (tar: Double, threshold: Float) {
        let negatives = pairs.filter { !$0.samePerson }.map(\.score).sorted(by: >)
        let positives = pairs.filter(\.samePerson).map(\.score)
        guard !negatives.isEmpty, !positives.isEmpty else { return (0, 0) }
        let allowed = Int((Double(negatives.count) * far).rounded(.down))
        let threshold = negatives[min(allowed, negatives.count - 1)]
        return (Double(positives.filter { $0 > threshold }.count) / Double(positives.count), threshold)
    }

    /// Points (false-accept rate, true-accept rate) of the ROC curve, one per distinct score, from (0, 0) to (1, 1).
    public static func roc(_ pairs: [ScoredPair]) -> [(far: Double, tar: Double)] {
        let sorted = pairs.sorted { $0.score > $1.score }
        let positives = Double(sorted.filter(\.samePerson).count), negatives = Double(sorted.count) - positives
        guard positives > 0, negatives > 0 else { return [] }
        var points: [(Double, Double)] = [(0, 0)]
        var accepted = (same: 0.0, different: 0.0)
        var i = 0
        while i < sorted.count {
            let score = sorted[i].score
            while i < sorted.count, sorted[i].score == score {
                if sorted[i].samePerson { accepted.same += 1 } else { accepted.different += 1 }
                i += 1
            }
            points.append((accepted.different / negatives, accepted.same / positives))
        }
        return points
    }

    /// The protocol over `pairs` in `folds` folds (numbered 0..<folds).
    public static func evaluate(_ pairs: [ScoredPair], folds: Int, bootstrapSamples: Int = 1000,
                                seed: UInt64 = 1) -> VerificationResult {
        evaluate(scoredForFold: { _ in pairs }, folds: folds, bootstrapSamples: bootstrapSamples, seed: seed)
    }

    /// The protocol where the scores themselves depend on the fold held out (facenet subtracts the mean
    /// embedding of the training folds): `scoredForFold(f)` gives every pair scored as for held-out fold `f`;
    /// the threshold is chosen on its pairs of the other folds and applied to its pairs of fold `f`. AUC and
    /// TAR are over the held-out scores of all folds.
    public static func evaluate(scoredForFold: (Int) -> [ScoredPair], folds: Int, bootstrapSamples: Int = 1000,
                                seed: UInt64 = 1) -> VerificationResult {
        var accuracies: [Double] = [], thresholds: [Float] = []
        var held: [[ScoredPair]] = []
        for fold in 0..<folds {
            let scored = scoredForFold(fold)
            let training = scored.filter { $0.fold != fold }
            let test = scored.filter { $0.fold == fold }
            let threshold = bestThreshold(training).threshold
            thresholds.append(threshold)
            accuracies.append(accuracy(test, threshold: threshold))
            held.append(test)
        }
        let mean = accuracies.reduce(0, +) / Double(max(folds, 1))
        let variance = accuracies.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(folds, 1))
        let pairs = held.flatMap { $0 }
        let (tar, threshold) = tar(pairs, atFAR: 1e-3)
        // Bootstrap: resample the pairs of each held-out fold (its threshold fixed), recompute the mean.
        var generator = SplitMix64(seed: seed)
        var means: [Double] = []
        for _ in 0..<bootstrapSamples {
            var sum = 0.0
            for (fold, test) in held.enumerated() where !test.isEmpty {
                var correct = 0
                for _ in 0..<test.count {
                    let pair = test[Int(generator.next() % UInt64(test.count))]
                    if (pair.score > thresholds[fold]) == pair.samePerson { correct += 1 }
                }
                sum += Double(correct) / Double(test.count)
            }
            means.append(sum / Double(max(folds, 1)))
        }
        return VerificationResult(
            foldAccuracies: accuracies, foldThresholds: thresholds, meanAccuracy: mean,
            standardDeviation: variance.squareRoot(), auc: auc(pairs), tarAtFar1e3: tar, thresholdAtFar1e3: threshold,
            accuracyInterval: percentileInterval(means), pairs: pairs.count)
    }

    /// The 2.5th to 97.5th percentile of `values` (nearest rank); 0...0 when empty.
    public static func percentileInterval(_ values: [Double]) -> ClosedRange<Double> {
        guard !values.isEmpty else { return 0...0 }
        let sorted = values.sorted()
        func rank(_ p: Double) -> Double { sorted[min(sorted.count - 1, max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1))] }
        return rank(0.025)...rank(0.975)
    }
}
