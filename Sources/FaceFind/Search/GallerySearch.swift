/// How two embeddings are compared.
public enum DistanceMetric: String, Sendable, CaseIterable, Codable {
    /// Cosine similarity; higher is closer.
    case cosine
    /// Euclidean distance; lower is closer.
    case euclidean

    public var higherIsCloser: Bool { self == .cosine }
}

/// One ranked gallery image for a query.
public struct Match: Sendable, Equatable, Codable {
    public var rank: Int
    public var imageID: Int64
    public var path: String
    /// Cosine similarity or euclidean distance of the best-matching face.
    public var score: Float
    /// The matched face in the gallery image.
    public var faceID: Int64
    public var box: Box
    public var isWholeImage: Bool
    /// True when the score does not pass the match threshold: probably not the query's person.
    public var unknown: Bool = false
    /// For a video: the matched face's track (time range) and frame (`GalleryStore.withVideoTimes`).
    public var time: FaceTime?
    /// For a video: where the query's person is on screen, every track whose face passes the match threshold,
    /// merged, each with the frame of its best face.
    public var appearances: [FaceTime]?

    public init(rank: Int, imageID: Int64, path: String, score: Float, faceID: Int64, box: Box, isWholeImage: Bool,
                unknown: Bool = false) {
        self.rank = rank; self.imageID = imageID; self.path = path; self.score = score
        self.faceID = faceID; self.box = box; self.isWholeImage = isWholeImage; self.unknown = unknown
    }
}

/// Exact search over a `FaceMatrix`: every face is scored, a gallery image takes the score of its best face,
/// and the top k images are selected without sorting the whole gallery.
public struct GallerySearch: Sendable {
    public let matrix: FaceMatrix
    private let squaredNorms: [Float]
    /// The panel-major copy that `search` runs on for large galleries or reduced precision (nil: the plain
    /// loop below, which is faster for a few thousand faces).
    public let index: VectorIndex?

    /// Galleries with at least this many faces are searched through a float32 `VectorIndex` (multi-threaded
    /// AVX-512 kernels); smaller ones by the simple loop.
    public static let indexedFromFaces = 20_000

    /// `precision` other than float32 always builds an index in that precision (approximate scores, measured
    /// recall in `facefind bench --synthetic`); float32 builds one from `indexFrom` faces.
    public init(matrix: FaceMatrix, precision: VectorPrecision = .float32, indexFrom: Int = indexedFromFaces) {
        self.matrix = matrix
        index = precision != .float32 || matrix.faceCount >= indexFrom
            ? try? VectorIndex.inMemory(matrix, precision: precision) : nil
        let d = matrix.dimension
        squaredNorms = (0..<matrix.faceCount).map { i in
            matrix.vectors.withUnsafeBufferPointer { dot($0.baseAddress! + i * d, $0.baseAddress! + i * d, d) }
        }
    }

    /// For every gallery image, the score of its best face against `query`, oriented so that larger is
    /// closer (cosine similarity, or minus the squared euclidean distance), and which face that was.
    public func imageScores(_ query: Embedding, metric: DistanceMetric = .cosine) -> (scores: [Float], faces: [Int]) {
        let d = matrix.dimension
        precondition(query.vector.count == d, "query has \(query.vector.count) dimensions, gallery \(d)")
        let queryNorm = query.vector.reduce(0) { $0 + $1 * $1 }
        var best = [Float](repeating: -.infinity, count: matrix.images.count)
        var bestFace = [Int](repeating: -1, count: matrix.images.count)
        query.vector.withUnsafeBufferPointer { q in
            matrix.vectors.withUnsafeBufferPointer { m in
                for face in 0..<matrix.faceCount {
                    let similarity = dot(q.baseAddress!, m.baseAddress! + face * d, d)
                    let value = metric == .cosine
                        ? similarity
                        : -max(queryNorm + squaredNorms[face] - 2 * similarity, 0)
                    let image = Int(matrix.faceImage[face])
                    if value > best[image] { best[image] = value; bestFace[image] = face }
                }
            }
        }
        return (best, bestFace)
    }

    /// The `k` best gallery images for `query` (k is clamped to the gallery size). With a `threshold`,
    /// matches whose score is worse than it are flagged `unknown` (similarity below, or distance above).
    /// Images whose id is in `excluding` are passed over (removed since this matrix was built: `LiveGallerySearch`).
    public func search(_ query: Embedding, k: Int, metric: DistanceMetric = .cosine, threshold: Float? = nil,
                       excluding: Set<Int64> = []) -> [Match] {
        guard matrix.faceCount > 0, k > 0 else { return [] }
        if let index { return search(index, query, k: k, metric: metric, threshold: threshold, excluding: excluding) }
        var (best, bestFace) = imageScores(query, metric: metric)
        if !excluding.isEmpty {
            for (slot, image) in matrix.images.enumerated() where excluding.contains(image.id) { best[slot] = -.infinity }
        }
        return topK(best, k: k).enumerated().map { rank, image in
            let face = bestFace[image]
            let score = metric == .cosine ? best[image] : (-best[image]).squareRoot()
            let unknown = metric.isUnknown(score, threshold: threshold)
            return Match(rank: rank + 1, imageID: matrix.images[image].id, path: matrix.images[image].path,
                         score: score, faceID: matrix.faceIDs[face], box: matrix.faceBoxes[face],
                         isWholeImage: matrix.faceIsWholeImage[face], unknown: unknown)
        }
    }
}

extension GallerySearch {
    /// Top-k images through the index (`bestFacesOfFirstImages`).
    private func search(_ index: VectorIndex, _ query: Embedding, k: Int, metric: DistanceMetric,
                        threshold: Float?, excluding: Set<Int64>) -> [Match] {
        let picks = bestFacesOfFirstImages(
            k: min(k, matrix.images.count), faceCount: matrix.faceCount, passedOver: excluding.count,
            nearest: { index.search([query.vector], k: $0, metric: metric)[0] },
            image: { face in
                let image = Int(matrix.faceImage[face.row])
                return excluding.contains(matrix.images[image].id) ? nil : (matrix.images[image].id, image)
            })
        return picks.enumerated().map { rank, pick in
            let (face, image) = (pick.neighbor, pick.info)
            return Match(rank: rank + 1, imageID: matrix.images[image].id, path: matrix.images[image].path,
                         score: face.score, faceID: matrix.faceIDs[face.row], box: matrix.faceBoxes[face.row],
                         isWholeImage: matrix.faceIsWholeImage[face.row],
                         unknown: metric.isUnknown(face.score, threshold: threshold))
        }
    }
}

/// The best face of each of the first `k` images met among a query's nearest faces, best first: the first k images
/// met in face order are exactly the k best by best face. `nearest(n)` gives the n nearest of the `faceCount`
/// faces; `image(face)` gives the face's image id and what the caller wants back with it, or nil for a face of an
/// image passed over (there are `passedOver` such images at most). The list starts at twice the images wanted and is
/// widened four-fold until it holds k images or every face. What both `GallerySearch` over a `VectorIndex` and
/// `GalleryVectorFile` do.
func bestFacesOfFirstImages<Info>(k: Int, faceCount: Int, passedOver: Int, nearest: (Int) -> [VectorIndex.Neighbor],
                                  image: (VectorIndex.Neighbor) -> (id: Int64, info: Info)?)
    -> [(neighbor: VectorIndex.Neighbor, info: Info)] {
    guard k > 0 else { return [] }
    var wanted = (k + passedOver) * 2
    while true {
        let faces = nearest(min(wanted, faceCount))
        var seen = Set<Int64>()
        var picks: [(neighbor: VectorIndex.Neighbor, info: Info)] = []
        for face in faces {
            guard let (id, info) = image(face), seen.insert(id).inserted else { continue }
            picks.append((face, info))
            if picks.count == k { break }
        }
        if picks.count == k || faces.count >= faceCount { return picks }
        wanted *= 4
    }
}

/// Indices of the `k` largest values, largest first; ties keep the lower index first. A bounded insertion
/// list: O(n log k)-like for the small k of retrieval, no sort of all n.
public func topK(_ values: [Float], k: Int) -> [Int] {
    let k = min(k, values.count)
    guard k > 0 else { return [] }
    var selected: [Int] = []
    selected.reserveCapacity(k + 1)
    for (i, v) in values.enumerated() where v > -.infinity {
        if selected.count == k, v <= values[selected[k - 1]] { continue }
        // Binary search for the first position whose value is smaller than v (stable for ties).
        var lo = 0, hi = selected.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if values[selected[mid]] >= v { lo = mid + 1 } else { hi = mid }
        }
        selected.insert(i, at: lo)
        if selected.count > k { selected.removeLast() }
    }
    return selected
}

/// Dot product of two float vectors, in SIMD blocks the compiler maps to vector registers.
@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD16<Float>()
    var i = 0
    while i + 16 <= n {
        let va = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self)
        let vb = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self)
        acc += va * vb
        i += 16
    }
    var sum = acc.sum()
    while i < n { sum += a[i] * b[i]; i += 1 }
    return sum
}
