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

    static func harmonic(_ p: Double, _ r: Double) -> Double { p + r > 0 ? 2 * p * r / (p + r) : 0 }

    private struct Pair<Label: Hashable>: Hashable {
        var cluster: Int
        var label: Label
    }
}
