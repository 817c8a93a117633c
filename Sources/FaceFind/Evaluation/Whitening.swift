/// Centring and whitening of embeddings, learned from embeddings without their labels (in the pairs protocol:
/// the photos of the training folds). Centring removes what all faces share (facenet's `--subtract_mean`);
/// whitening also evens out the directions in which faces vary most, so that the cosine is not dominated by
/// them. `shrinkage` pulls the covariance towards a multiple of the identity before it is inverted:
/// 1 is centring alone, 0 full whitening.
///
/// The whitening matrix is the inverse of the Cholesky factor L of the shrunk covariance Σ_s = L Lᵀ, not the
/// symmetric Σ_s^(-1/2): both give (L⁻¹x)·(L⁻¹y) = xᵀ Σ_s⁻¹ y, so every cosine is the same, and a Cholesky
/// factorisation of 512 dimensions takes milliseconds where an eigendecomposition by Jacobi took half a minute
/// per fold.
public struct EmbeddingWhitening: Sendable {
    public let mean: [Float]
    /// The lower-triangular Cholesky factor L of the shrunk covariance, row-major; nil for centring alone.
    let factor: [Double]?

    /// Learns from `embeddings` (nil when there are none).
    public init?(fitting embeddings: [Embedding], shrinkage: Double) {
        guard let mean = Embedding.mean(embeddings) else { return nil }
        self.mean = mean
        guard shrinkage < 1 else { factor = nil; return }
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
        var trace = 0.0
        for i in 0..<d { trace += covariance[i * d + i] / n }
        // Shrunk covariance (1 - s) Σ + s λ̄ I, where λ̄ = trace / d is the mean eigenvalue, plus a ridge of
        // 1e-9 λ̄ so that directions without variance (fewer faces than dimensions) stay invertible.
        let average = max(trace / Double(d), 1e-300)
        for i in 0..<d {
            for j in i..<d {
                var value = (1 - shrinkage) * covariance[i * d + j] / n
                if i == j { value += (shrinkage + 1e-9) * average }
                covariance[i * d + j] = value
                covariance[j * d + i] = value
            }
        }
        factor = Cholesky.lower(covariance, size: d)
    }

    /// `e` centred and whitened, scaled to unit length (so that the cosine stays a dot product).
    public func apply(_ e: Embedding) -> Embedding {
        let centred = zip(e.vector, mean).map { $0 - $1 }
        guard let factor else { return Embedding.normalized(centred) }
        return Embedding.normalized(Cholesky.solveLower(factor, centred.map(Double.init)).map(Float.init))
    }
}

/// The Cholesky factorisation of a symmetric positive definite matrix, and the triangular solve that applies
/// its inverse.
enum Cholesky {
    /// L, lower triangular with L Lᵀ = `matrix` (`size` x `size`, row-major). A pivot that is not positive
    /// (a matrix that is not positive definite, by rounding) is clamped to a tiny positive value.
    static func lower(_ matrix: [Double], size n: Int) -> [Double] {
        var l = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            var pivot = matrix[j * n + j]
            for k in 0..<j { pivot -= l[j * n + k] * l[j * n + k] }
            let diagonal = max(pivot, 1e-300).squareRoot()
            l[j * n + j] = diagonal
            for i in (j + 1)..<max(n, j + 1) {
                var sum = matrix[i * n + j]
                for k in 0..<j { sum -= l[i * n + k] * l[j * n + k] }
                l[i * n + j] = sum / diagonal
            }
        }
        return l
    }

    /// x with L x = b, by forward substitution.
    static func solveLower(_ l: [Double], _ b: [Double]) -> [Double] {
        let n = b.count
        var x = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var sum = b[i]
            for k in 0..<i { sum -= l[i * n + k] * x[k] }
            x[i] = sum / l[i * n + i]
        }
        return x
    }
}

extension Cholesky {
    /// x with Lᵀ x = b, by back substitution.
    static func solveUpper(_ l: [Double], _ b: [Double]) -> [Double] {
        let n = b.count
        var x = [Double](repeating: 0, count: n)
        for i in stride(from: n - 1, through: 0, by: -1) {
            var sum = b[i]
            for k in (i + 1)..<max(n, i + 1) { sum -= l[k * n + i] * x[k] }
            x[i] = sum / l[i * n + i]
        }
        return x
    }
}
