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
        var lists = [[Edge]](repeating: [], count: count)
        for (a, b, w) in edges {
            precondition(a >= 0 && a < count && b >= 0 && b < count, "edge (\(a), \(b)) outside \(count) nodes")
            Self.link(a, b, w, in: &lists)
        }
        self.init(count: count, lists: lists)
    }

    /// A graph over `faces` (node i is `faces[i]`) from edges between face ids; an edge naming a face not in
    /// `faces` is dropped (a face removed, or a whole-image stand-in, since the edges were found).
    public init(faces: [Int64], edges: [FaceEdge]) {
        var node: [Int64: Int] = [:]
        node.reserveCapacity(faces.count)
        for (i, face) in faces.enumerated() { node[face] = i }
        var lists = [[Edge]](repeating: [], count: faces.count)
        for edge in edges {
            guard let a = node[edge.face], let b = node[edge.neighbour] else { continue }
            Self.link(a, b, edge.similarity, in: &lists)
        }
        self.init(count: faces.count, lists: lists)
    }

    /// Adjacency lists (both directions, possibly repeated) sorted by node, each pair once with its larger
    /// weight. Lists rather than a dictionary per node: at a million faces the graph is a few hundred MB.
    private init(count: Int, lists: [[Edge]]) {
        var lists = lists
        for i in lists.indices where lists[i].count > 1 {
            lists[i].sort { ($0.node, $1.weight) < ($1.node, $0.weight) }
            var kept: [Edge] = []
            kept.reserveCapacity(lists[i].count)
            for edge in lists[i] where kept.last?.node != edge.node { kept.append(edge) }
            lists[i] = kept
        }
        self.count = count
        neighbours = lists
    }

    private static func link(_ a: Int, _ b: Int, _ w: Float, in lists: inout [[Edge]]) {
        guard a != b else { return }
        lists[a].append(Edge(node: b, weight: w))
        lists[b].append(Edge(node: a, weight: w))
    }

    /// Each row of `index` joined to its `k` nearest rows (cosine, exact search through the index's own kernels,
    /// in blocks of `block` queries) where the similarity is at least `threshold`.
    public static func nearestNeighbours(of index: VectorIndex, k: Int, threshold: Float, block: Int = 2048,
                                         threads: Int = ProcessInfo.processInfo.activeProcessorCount) -> FaceGraph {
        var lists = [[Edge]](repeating: [], count: index.count)
        var start = 0
        while start < index.count {
            let rows = start..<min(start + block, index.count)
            let found = index.search(rows.map { index.vector(at: $0) }, k: k + 1, metric: .cosine, threads: threads)
            for (row, list) in zip(rows, found) {
                for neighbour in list where neighbour.row != row && neighbour.score >= threshold {
                    link(row, neighbour.row, neighbour.score, in: &lists)
                }
            }
            start = rows.upperBound
        }
        return FaceGraph(count: index.count, lists: lists)
    }
}

/// One face's link to one of its nearest faces, by face id, as a store that searches itself finds it.
public struct FaceEdge: Sendable, Equatable {
    public var face: Int64
    public var neighbour: Int64
    /// Cosine similarity.
    public var similarity: Float

    public init(face: Int64, neighbour: Int64, similarity: Float) {
        self.face = face; self.neighbour = neighbour; self.similarity = similarity
    }
}
