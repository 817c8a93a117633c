import Foundation

/// An undirected weighted graph over faces: an edge joins two faces whose similarity passes a threshold, weighted
/// by that similarity. Built from each face's nearest neighbours (never an all-pairs matrix), so its size is at
/// most faces × k.
public struct FaceGraph: Sendable {
    public struct Edge: Sendable, Hashable {
        public var node: Int
        public var weight: Float
    }

    public let count: Int
    /// Per node, its neighbours (symmetric, no self-loops, one edge per pair: the larger weight), by node.
    public let neighbours: [[Edge]]

    /// A graph of `count` nodes from undirected `edges` (a, b, weight); self-loops are dropped and a pair given
    /// twice keeps its larger weight.
    public init(count: Int, edges: [(Int, Int, Float)]) {
        var adjacency = [[Int: Float]](repeating: [:], count: count)
        for (a, b, w) in edges where a != b {
            precondition(a >= 0 && a < count && b >= 0 && b < count, "edge (\(a), \(b)) outside \(count) nodes")
            adjacency[a][b] = max(adjacency[a][b] ?? -.infinity, w)
            adjacency[b][a] = max(adjacency[b][a] ?? -.infinity, w)
        }
        self.count = count
        neighbours = adjacency.map { $0.map { Edge(node: $0.key, weight: $0.value) }.sorted { $0.node < $1.node } }
    }

    /// Each row of `index` joined to its `k` nearest rows (cosine, exact search through the index's own kernels,
    /// in blocks of `block` queries) where the similarity is at least `threshold`.
    public static func nearestNeighbours(of index: VectorIndex, k: Int, threshold: Float, block: Int = 2048,
                                         threads: Int = ProcessInfo.processInfo.activeProcessorCount) -> FaceGraph {
        var edges: [(Int, Int, Float)] = []
        var start = 0
        while start < index.count {
            let rows = start..<min(start + block, index.count)
            let found = index.search(rows.map { index.vector(at: $0) }, k: k + 1, metric: .cosine, threads: threads)
            for (row, list) in zip(rows, found) {
                for neighbour in list where neighbour.row != row && neighbour.score >= threshold {
                    edges.append((row, neighbour.row, neighbour.score))
                }
            }
            start = rows.upperBound
        }
        return FaceGraph(count: index.count, edges: edges)
    }
}
