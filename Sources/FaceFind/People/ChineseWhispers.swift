/// Chinese Whispers graph clustering (Biemann 2006), as dlib's `chinese_whispers` runs it, with one constraint
/// added: nodes that cannot link (two faces of one photo are never one person) never share a label.
public enum ChineseWhispers {
    /// The cluster of each node of `graph`, numbered 0, 1, ... in order of each cluster's first node.
    ///
    /// Every node starts in a cluster of its own. Then, `iterations` times the node count, a node drawn at random
    /// (a fixed-seed generator: the same graph always gives the same clusters) takes the label with the largest
    /// total edge weight among its neighbours (ties: the lower label). Unlike dlib's face example the graph has no
    /// self-loops, so a node follows its neighbours rather than weighing itself in. `cannotLink[i]` lists the
    /// nodes that must not share node i's label: a label one of them holds is never taken, so nodes that start
    /// apart stay apart.
    ///
    /// `fixed` (node → label, labels from 0 below `graph.count`) is what a user decided: those nodes start with
    /// that label and never change it. Nodes given one label are one cluster (must-link), nodes given different
    /// labels never share one (cannot-link), and their neighbours may join them. Every other node starts in a
    /// cluster of its own, under a label no fixed node holds.
    public static func cluster(_ graph: FaceGraph, cannotLink: [[Int]] = [], fixed: [Int: Int] = [:],
                               iterations: Int = 100, seed: UInt64 = 1) -> [Int] {
        var labels = Array(0..<graph.count)
        var isFixed = [Bool](repeating: false, count: graph.count)
        for node in fixed.keys { isFixed[node] = true }
        if !fixed.isEmpty {
            // Free nodes take labels above every fixed one (the label space is 0 ..< 2 * count).
            let offset = graph.count
            labels = labels.map { fixed[$0] ?? offset + $0 }
        }
        guard graph.count > 1 else { return renumber(labels) }
        var random = SplitMix64(seed: seed)
        var weights: [Int: Float] = [:]
        for _ in 0..<(iterations * graph.count) {
            let node = Int(random.next() % UInt64(graph.count))
            let edges = graph.neighbours[node]
            guard !edges.isEmpty, !isFixed[node] else { continue }
            weights.removeAll(keepingCapacity: true)
            for edge in edges { weights[labels[edge.node], default: 0] += edge.weight }
            if node < cannotLink.count {
                for other in cannotLink[node] { weights[labels[other]] = nil }
            }
            guard let best = weights.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) })
            else { continue }
            labels[node] = best.key
        }
        return renumber(labels)
    }

    /// Labels renumbered 0, 1, ... in order of first appearance.
    private static func renumber(_ labels: [Int]) -> [Int] {
        var renumbered: [Int: Int] = [:]
        return labels.map { label in
            if let n = renumbered[label] { return n }
            renumbered[label] = renumbered.count
            return renumbered.count - 1
        }
    }
}
