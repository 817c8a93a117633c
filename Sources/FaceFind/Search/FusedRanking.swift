import Foundation

/// Ranks gallery images for a query with one or several embedders at once, optionally re-ranked by query
/// expansion. Each member is one embedder's `GallerySearch` whose image slots are mapped onto a common list
/// of gallery images (the same photos indexed by different models live in different matrices).
public struct FusedRanking: Sendable {
    public struct Member: Sendable {
        public let search: GallerySearch
        /// For each image slot of `search.matrix`, the image's position in the common list.
        public let position: [Int]
        public let weight: Float

        public init(search: GallerySearch, position: [Int], weight: Float = 1) {
            self.search = search; self.position = position; self.weight = weight
        }

        /// A member whose images are placed by path in `paths` (images not in it are left out).
        public init(search: GallerySearch, paths: [String: Int], weight: Float = 1) {
            let kept = search.matrix.filter { paths[$0] != nil }
            self.init(search: GallerySearch(matrix: kept), position: kept.images.map { paths[$0.path]! }, weight: weight)
        }
    }

    /// Query expansion: the query plus its `depth` best gallery faces weighted by similarity^`power`.
    public struct Expansion: Sendable {
        public var depth: Int = 2
        public var power: Float = 3
        public init(depth: Int = 2, power: Float = 3) { self.depth = depth; self.power = power }
    }

    public let members: [Member]
    public let imageCount: Int

    public init(members: [Member], imageCount: Int) {
        self.members = members
        self.imageCount = imageCount
    }

    /// The combined score of every image (larger is closer; -inf where an image has no face in some member)
    /// and, per member, the gallery face behind each image's score (-1 when none). `queries[m]` are the
    /// chosen query faces embedded by member m; with several faces an image keeps its best score.
    public func scores(queries: [[Embedding]], metric: DistanceMetric, expansion: Expansion? = nil)
        -> (combined: [Float], faces: [[Int]]) {
        var perMember = zip(members, queries).map { imageScores($0, queryVectors: $1, metric: metric) }
        var combined = Self.fuse(perMember.map(\.scores), weights: members.map(\.weight))
        if let expansion {
            let top = topK(combined, k: expansion.depth)
            for m in members.indices {
                let expanded = queries[m].map { q in
                    Self.expand(q, with: top.compactMap { image in
                        let face = perMember[m].faces[image]
                        guard face >= 0 else { return nil }
                        let neighbour = members[m].search.matrix.vector(ofFace: face)
                        return (neighbour, zip(q.vector, neighbour).reduce(0) { $0 + $1.0 * $1.1 })
                    }, power: expansion.power)
                }
                perMember[m] = imageScores(members[m], queryVectors: expanded, metric: metric)
            }
            combined = Self.fuse(perMember.map(\.scores), weights: members.map(\.weight))
        }
        return (combined, perMember.map(\.faces))
    }

    /// A combined score as the user reads it: for one index searched by euclidean distance, the distance (the
    /// ranking uses its negated square); otherwise the score itself, a similarity or, fused, a weighted sum of
    /// standardised similarities.
    public func reportedScore(_ combined: Float, metric: DistanceMetric) -> Float {
        members.count == 1 && metric == .euclidean ? (-combined).squareRoot() : combined
    }

    /// The `k` best images for the query faces `queries` (one list per member) as matches, flagged "unknown"
    /// against `threshold` (a fused score is judged as a similarity: higher is closer, whatever the metric).
    /// `paths` names the images in the common order; each match's face is the first member's that has one.
    public func matches(queries: [[Embedding]], metric: DistanceMetric, k: Int, threshold: Float?,
                        expansion: Expansion? = nil, paths: [String]) -> [Match] {
        let (combined, faces) = scores(queries: queries, metric: metric, expansion: expansion)
        let judgedBy = members.count == 1 ? metric : .cosine
        return topK(combined, k: k).enumerated().map { rank, image in
            let m = members.indices.first { faces[$0][image] >= 0 } ?? 0
            let face = faces[m][image]
            let matrix = members[m].search.matrix
            let score = reportedScore(combined[image], metric: metric)
            return Match(rank: rank + 1, imageID: matrix.images[Int(matrix.faceImage[face])].id, path: paths[image],
                         score: score, faceID: matrix.faceIDs[face], box: matrix.faceBoxes[face],
                         isWholeImage: matrix.faceIsWholeImage[face],
                         unknown: judgedBy.isUnknown(score, threshold: threshold))
        }
    }

    private func imageScores(_ member: Member, queryVectors: [Embedding], metric: DistanceMetric) -> (scores: [Float], faces: [Int]) {
        var scores = [Float](repeating: -.infinity, count: imageCount)
        var faces = [Int](repeating: -1, count: imageCount)
        for vector in queryVectors {
            let (s, f) = member.search.imageScores(vector, metric: metric)
            for slot in s.indices where s[slot] > scores[member.position[slot]] {
                scores[member.position[slot]] = s[slot]
                faces[member.position[slot]] = f[slot]
            }
        }
        return (scores, faces)
    }

    /// One member: its scores unchanged. Several: each member's scores are standardised over the gallery
    /// (their scales differ from model to model), then weighted and summed.
    static func fuse(_ scores: [[Float]], weights: [Float]) -> [Float] {
        guard scores.count > 1 else { return scores[0] }
        var fused = [Float](repeating: 0, count: scores[0].count)
        for (model, w) in zip(scores, weights) {
            let finite = model.filter { $0 > -.infinity }
            guard !finite.isEmpty else { continue }
            let mean = finite.reduce(0, +) / Float(finite.count)
            let variance = finite.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(finite.count)
            let std = max(variance.squareRoot(), 1e-6)
            for i in fused.indices {
                fused[i] = model[i] > -.infinity && fused[i] > -.infinity ? fused[i] + w * (model[i] - mean) / std : -.infinity
            }
        }
        return fused
    }

    /// α-query expansion: the query plus its neighbours weighted by similarity^power, renormalised.
    static func expand(_ query: Embedding, with neighbours: [(ArraySlice<Float>, Float)], power: Float) -> Embedding {
        var sum = query.vector
        for (vector, similarity) in neighbours where similarity > 0 {
            let w = pow(similarity, power)
            for (i, v) in zip(sum.indices, vector) { sum[i] += w * v }
        }
        return Embedding.normalized(sum)
    }
}
