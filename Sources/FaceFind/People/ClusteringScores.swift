/// How well a clustering of items matches their true labels (issue 13's measures).
///
/// - BCubed: for each item, precision is the share of its cluster that has its label, recall the share of its
///   label's items that are in its cluster; both averaged over items, F their harmonic mean. Unlike pairwise
///   counts, a large identity does not outweigh many small ones (most of lfw-dev's 1,797 people have one photo).
/// - Pairwise: over all pairs of items, precision = pairs put together that share a label / pairs put together,
///   recall = the same / pairs that share a label (1 when there are none).
public struct ClusteringScores: Sendable, Equatable, Codable {
    public var bcubedPrecision: Double
    public var bcubedRecall: Double
    public var bcubedF: Double
    public var pairwisePrecision: Double
    public var pairwiseRecall: Double
    public var pairwiseF: Double
    public var clusters: Int
    public var labels: Int
    public var items: Int

    /// Scores `clusters[i]` (any integer naming item i's cluster) against `labels[i]`.
    public init<Label: Hashable>(clusters: [Int], labels: [Label]) {
        precondition(clusters.count == labels.count, "\(clusters.count) clusters for \(labels.count) labels")
        var clusterSize: [Int: Int] = [:]
        var labelSize: [Label: Int] = [:]
        var both: [Pair<Label>: Int] = [:]
        for (c, l) in zip(clusters, labels) {
            clusterSize[c, default: 0] += 1
            labelSize[l, default: 0] += 1
            both[Pair(cluster: c, label: l), default: 0] += 1
        }
        let n = Double(clusters.count)
        // Each item of cell (c, l) contributes |c ∩ l| / |c| to precision and |c ∩ l| / |l| to recall; the cell has
        // |c ∩ l| such items.
        var precision = 0.0, recall = 0.0
        for (cell, count) in both {
            let shared = Double(count)
            precision += shared * shared / Double(clusterSize[cell.cluster]!)
            recall += shared * shared / Double(labelSize[cell.label]!)
        }
        bcubedPrecision = n > 0 ? precision / n : 1
        bcubedRecall = n > 0 ? recall / n : 1
        bcubedF = Self.harmonic(bcubedPrecision, bcubedRecall)

        func pairs(_ k: Int) -> Double { Double(k) * Double(k - 1) / 2 }
        let together = both.values.reduce(0) { $0 + pairs($1) }
        let predicted = clusterSize.values.reduce(0) { $0 + pairs($1) }
        let actual = labelSize.values.reduce(0) { $0 + pairs($1) }
        pairwisePrecision = predicted > 0 ? together / predicted : 1
        pairwiseRecall = actual > 0 ? together / actual : 1
        pairwiseF = Self.harmonic(pairwisePrecision, pairwiseRecall)
        self.clusters = clusterSize.count
        self.labels = labelSize.count
        items = clusters.count
    }

    /// A 95% interval for BCubed F, by bootstrap over identities: the labels are drawn with replacement (as many
    /// as there are), each bringing all its items with the BCubed precision and recall they have in this
    /// clustering; F of the drawn items' mean precision and recall, 2.5th to 97.5th percentile over `resamples`.
    /// Identities, not items, are the unit: the items of one identity are clustered together or not as a group,
    /// so resampling items would understate the spread.
    ///
    /// - Parameters:
    ///   - clusters: each item's cluster.
    ///   - labels: each item's true identity.
    ///   - resamples: bootstrap samples.
    ///   - seed: the generator's seed (the same input always gives the same interval).
    public static func bcubedFInterval<Label: Hashable>(clusters: [Int], labels: [Label], resamples: Int = 2000,
                                                        seed: UInt64 = 1) -> ClosedRange<Double> {
        let samples = resampledF([LabelSums(clusters: clusters, labels: labels)], resamples: resamples, seed: seed)
        return VerificationMetrics.percentileInterval(samples[0])
    }

    /// A 95% interval for F(a) − F(b), two clusterings of the same items, by the same bootstrap over identities
    /// with the same draws for both (paired): an interval that holds 0 is no finding either way.
    ///
    /// - Parameters:
    ///   - a: each item's cluster in the first clustering.
    ///   - b: each item's cluster in the second.
    ///   - labels: each item's true identity.
    ///   - resamples: bootstrap samples.
    ///   - seed: the generator's seed.
    public static func bcubedFDifferenceInterval<Label: Hashable>(_ a: [Int], _ b: [Int], labels: [Label],
                                                                  resamples: Int = 2000,
                                                                  seed: UInt64 = 1) -> ClosedRange<Double> {
        let samples = resampledF([LabelSums(clusters: a, labels: labels), LabelSums(clusters: b, labels: labels)],
                                 resamples: resamples, seed: seed)
        return VerificationMetrics.percentileInterval(zip(samples[0], samples[1]).map { $0 - $1 })
    }

    /// Choosing among clusterings of the same items by cross-validation over identity-disjoint folds
    /// (`CrossValidation.identityFolds`): for each fold, the clustering with the best BCubed F over the other
    /// folds' identities (the first of equals: list today's default first); the held-out F scores each fold's
    /// identities by the clustering chosen without them, with its interval by bootstrap over identities.
    ///
    /// - Parameters:
    ///   - clusterings: each candidate's cluster of every item.
    ///   - labels: each item's true identity.
    ///   - folds: the number of folds.
    public static func crossValidatedChoice(_ clusterings: [[Int]], labels: [String], folds: Int = 10) -> CrossValidation.Selection {
        precondition(!clusterings.isEmpty, "crossValidatedChoice: no clusterings")
        let sums = clusterings.map { LabelSums(clusters: $0, labels: labels) }
        let foldOf = CrossValidation.identityFolds(sums[0].names, folds: folds)
        var chosen: [Int] = []
        var heldOut = LabelSums(names: sums[0].names)
        for fold in 0..<folds {
            let training = foldOf.indices.filter { foldOf[$0] != fold }
            let scores = sums.map { $0.f(of: training) }
            let best = scores.indices.max { (scores[$0], $1) < (scores[$1], $0) }!
            chosen.append(best)
            for i in foldOf.indices where foldOf[i] == fold {
                heldOut.precision[i] = sums[best].precision[i]
                heldOut.recall[i] = sums[best].recall[i]
                heldOut.items[i] = sums[best].items[i]
            }
        }
        let samples = resampledF([heldOut], resamples: 2000, seed: 1)[0]
        let counts = clusterings.indices.map { s in chosen.filter { $0 == s }.count }
        return CrossValidation.Selection(chosen: chosen, heldOut: heldOut.f(of: Array(heldOut.names.indices)),
                                         heldOutInterval: VerificationMetrics.percentileInterval(samples),
                                         winner: counts.indices.max { (counts[$0], $1) < (counts[$1], $0) }!)
    }

    /// BCubed F of each of `sums` (the same identities in the same order) on `resamples` draws of the identities
    /// with replacement, the same draws for all: the one bootstrap loop of the intervals above.
    static func resampledF(_ sums: [LabelSums], resamples: Int, seed: UInt64) -> [[Double]] {
        let count = sums[0].count
        var random = SplitMix64(seed: seed)
        var samples = [[Double]](repeating: [], count: sums.count)
        for _ in 0..<resamples {
            let draw = (0..<count).map { _ in Int(random.next() % UInt64(count)) }
            for (s, one) in sums.enumerated() { samples[s].append(one.f(of: draw)) }
        }
        return samples
    }

    /// Per identity (in order of first appearance): its items' summed BCubed precision and recall, and their count.
    struct LabelSums {
        var precision: [Double] = [], recall: [Double] = [], items: [Double] = []
        var names: [String] = []
        var count: Int { items.count }

        /// Zero sums for these identities.
        init(names: [String]) {
            self.names = names
            precision = Array(repeating: 0, count: names.count)
            recall = precision
            items = precision
        }

        init<Label: Hashable>(clusters: [Int], labels: [Label]) {
            precondition(clusters.count == labels.count, "\(clusters.count) clusters for \(labels.count) labels")
            var clusterSize: [Int: Int] = [:], labelSize: [Label: Int] = [:], cell: [Pair<Label>: Int] = [:]
            for (c, l) in zip(clusters, labels) {
                clusterSize[c, default: 0] += 1
                labelSize[l, default: 0] += 1
                cell[Pair(cluster: c, label: l), default: 0] += 1
            }
            var index: [Label: Int] = [:]
            for (c, l) in zip(clusters, labels) {
                let i: Int
                if let known = index[l] { i = known } else {
                    i = items.count
                    index[l] = i
                    precision.append(0); recall.append(0); items.append(0); names.append("\(l)")
                }
                let shared = Double(cell[Pair(cluster: c, label: l)]!)
                precision[i] += shared / Double(clusterSize[c]!)
                recall[i] += shared / Double(labelSize[l]!)
                items[i] += 1
            }
        }

        /// BCubed F of the items of the identities `drawn` (with repeats).
        func f(of drawn: [Int]) -> Double {
            var p = 0.0, r = 0.0, n = 0.0
            for i in drawn { p += precision[i]; r += recall[i]; n += items[i] }
            return n > 0 ? harmonic(p / n, r / n) : 0
        }
    }

    static func harmonic(_ p: Double, _ r: Double) -> Double { p + r > 0 ? 2 * p * r / (p + r) : 0 }

    fileprivate struct Pair<Label: Hashable>: Hashable {
        var cluster: Int
        var label: Label
    }
}
