/// Centring and whitening of embeddings, learned from embeddings without their labels (in the pairs protocol:
/// the photos of the training folds). Centring removes what all faces share (facenet's `--subtract_mean`);
/// whitening also evens out the directions in which faces vary most, so that the cosine is not dominated by
/// them. `shrinkage` pulls the covariance towards a multiple of the identity before it is inverted:
/// 1 is centring alone, 0 full whitening.
public struct EmbeddingWhitening: Sendable {
    public let mean: [Float]
    /// `W = U (Λ_s)^(-1/2) Uᵀ`, row-major, nil for centring alone.
    let matrix: [Float]?

    /// Learns from `embeddings` (nil when there are none).
    public init?(fitting embeddings: [Embedding], shrinkage: Double) {
        guard let mean = Embedding.mean(embeddings) else { return nil }
        self.mean = mean
        guard shrinkage < 1 else { matrix = nil; return }
        let d = mean.count
        var covariance = [Double](repeating: 0, count: d * d)
        var centred = [Double](repeating: 0, count: d)
        for e in embeddings {
            for i in 0..<d { centred[i] = Double(e.vector[i] - mean[i]) }
            for i in 0..<d where centred[i] != 0 {
                let ci = centred[i]
                for j in i..<d { covariance[i * d + j] += ci * centred[j] }
            }
        }
        let n = Double(embeddings.count)
        for i in 0..<d { for j in i..<d { covariance[i * d + j] /= n; covariance[j * d + i] = covariance[i * d + j] } }
        let (values, vectors) = SymmetricEigen.decompose(covariance, size: d)
        let average = values.reduce(0, +) / Double(d)
        // Shrunk eigenvalues (1 - s) λ + s λ̄, floored so that directions without variance stay finite.
        let scales = values.map { 1 / max((1 - shrinkage) * max($0, 0) + shrinkage * average, 1e-12).squareRoot() }
        var w = [Float](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in 0..<d {
                var sum = 0.0
                for k in 0..<d { sum += vectors[i * d + k] * scales[k] * vectors[j * d + k] }
                w[i * d + j] = Float(sum)
            }
        }
        matrix = w
    }

    /// `e` centred and whitened, scaled to unit length (so that the cosine stays a dot product).
    public func apply(_ e: Embedding) -> Embedding {
        let centred = zip(e.vector, mean).map { $0 - $1 }
        guard let matrix else { return Embedding.normalized(centred) }
        let d = mean.count
        return Embedding.normalized((0..<d).map { i in
            var sum: Float = 0
            for j in 0..<d { sum += matrix[i * d + j] * centred[j] }
            return sum
        })
    }
}

/// Eigenvalues and eigenvectors of a symmetric matrix by the cyclic Jacobi method: slow for large matrices
/// (O(n³) per sweep) but simple and accurate, and embeddings have at most a few hundred dimensions.
enum SymmetricEigen {
    /// `matrix` is `size` x `size`, row-major, symmetric. Returns the eigenvalues and the eigenvectors as the
    /// columns of a row-major matrix (`vectors[i * size + k]` is component i of eigenvector k).
    static func decompose(_ matrix: [Double], size n: Int, sweeps: Int = 50) -> (values: [Double], vectors: [Double]) {
        var a = matrix
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        for _ in 0..<sweeps {
            var off = 0.0, diagonal = 0.0
            for i in 0..<n {
                diagonal += a[i * n + i] * a[i * n + i]
                for j in (i + 1)..<max(n, i + 1) { off += a[i * n + j] * a[i * n + j] }
            }
            if off <= 1e-22 * max(diagonal, 1e-300) { break }
            for p in 0..<n {
                for q in (p + 1)..<max(n, p + 1) {
                    let apq = a[p * n + q]
                    if abs(apq) < 1e-300 { continue }
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    // A ← Jᵀ A J on rows and columns p, q.
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<n).map { a[$0 * n + $0] }, v)
    }
}
