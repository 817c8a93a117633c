/// An embedding vector of one face by one model. Vectors from FaceFind's embedders are L2-normalised, so
/// cosine similarity is a dot product and euclidean distance is `sqrt(2 - 2 cos)`.
public struct Embedding: Sendable, Equatable {
    public var vector: [Float]

    public init(_ vector: [Float]) { self.vector = vector }

    /// The vector scaled to unit length (unchanged when it is all zeros).
    public static func normalized(_ v: some Collection<Float>) -> Embedding {
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return Embedding(norm > 0 ? v.map { $0 / norm } : Array(v))
    }

    /// The mean of `embeddings` (nil when there are none): not normalised.
    public static func mean(_ embeddings: [Embedding]) -> [Float]? {
        guard let first = embeddings.first else { return nil }
        var sum = [Float](repeating: 0, count: first.vector.count)
        for e in embeddings { for i in sum.indices { sum[i] += e.vector[i] } }
        return sum.map { $0 / Float(embeddings.count) }
    }

    /// How alike two embeddings are, larger for closer: the cosine similarity (the dot product of unit vectors)
    /// or minus the euclidean distance.
    public func similarity(to other: Embedding, metric: DistanceMetric) -> Float {
        var value: Float = 0
        switch metric {
        case .cosine:
            for i in vector.indices { value += vector[i] * other.vector[i] }
            return value
        case .euclidean:
            for i in vector.indices { value += (vector[i] - other.vector[i]) * (vector[i] - other.vector[i]) }
            return -value.squareRoot()
        }
    }
}

/// Turns face chips into embeddings. Implementations must be safe to call from several threads at once.
public protocol FaceEmbedder: Sendable {
    /// The catalog name, e.g. "facenet512".
    var name: String { get }
    var dimension: Int { get }
    /// The crop this embedder uses (its training crop unless overridden).
    var crop: CropPolicy { get }
    /// The pixel normalisation this embedder uses.
    var normalization: PixelNormalization { get }
    /// Whether each face is also embedded mirrored, and how the two vectors are combined.
    var augmentation: Augmentation { get }
    /// L2-normalised embeddings, one per chip, in order.
    func embed(_ chips: [FaceChip]) throws -> [Embedding]
    /// The chip for `face` under this embedder's crop policy.
    func chip(for face: DetectedFace, in image: RGBImage) -> FaceChip
}

extension FaceEmbedder {
    /// The chip for `face` under this embedder's crop policy (with no landmarking of its own).
    public func chip(for face: DetectedFace, in image: RGBImage) -> FaceChip {
        FaceChip(face: face, in: image, policy: crop)
    }
}
