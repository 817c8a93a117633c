import Foundation

/// The `components` directions that hold most of a set of vectors' energy, learned from a sample: projecting onto
/// them keeps most of every dot product in a fraction of the bytes, which is what the first stage of
/// `GalleryVectorFile`'s search scans.
///
/// Uncentred (the second moment E[x xᵀ], not the covariance), so that the dot product of two projections
/// approximates the dot product of the vectors themselves, shared mean direction included. Real embeddings need
/// few directions: FaceNet-512 puts 90% of its variance on lfw-dev in 58 of 512 (`scripts/embedding-stats.py`).
/// Learned by orthogonal iteration (Q ← orth(Q M), 30 rounds), which converges to the leading subspace; unsorted
/// and not exact eigenvectors, which a first stage whose candidates are all rescored does not need.
public struct PrincipalSubspace: Sendable, Equatable {
    public let inputDimension: Int
    public let components: Int
    /// `components` orthonormal rows of `inputDimension` values.
    public let basis: [Float]

    public init(inputDimension: Int, components: Int, basis: [Float]) {
        precondition(basis.count == inputDimension * components)
        self.inputDimension = inputDimension; self.components = components; self.basis = basis
    }

    /// The identity (`components == inputDimension`): for vectors already small enough.
    public static func identity(_ dimension: Int) -> PrincipalSubspace {
        var basis = [Float](repeating: 0, count: dimension * dimension)
        for i in 0..<dimension { basis[i * dimension + i] = 1 }
        return PrincipalSubspace(inputDimension: dimension, components: dimension, basis: basis)
    }

    /// Learns the leading `components` directions of `samples` (row-major, `dimension` values a row).
    public static func learn(samples: [Float], dimension d: Int, components c: Int, iterations: Int = 30,
                             seed: UInt64 = 1) -> PrincipalSubspace {
        precondition(c > 0 && c <= d && samples.count % d == 0)
        let n = samples.count / d
        // M = (1/n) Σ x xᵀ, accumulated in Double (a million-fold sum of products in Float loses digits).
        var moment = [Double](repeating: 0, count: d * d)
        samples.withUnsafeBufferPointer { x in
            moment.withUnsafeMutableBufferPointer { m in
                for row in 0..<n {
                    let v = x.baseAddress! + row * d
                    for i in 0..<d where v[i] != 0 {
                        let vi = Double(v[i])
                        let out = m.baseAddress! + i * d
                        for j in 0..<d { out[j] += vi * Double(v[j]) }
                    }
                }
            }
        }
        if n > 0 { for i in moment.indices { moment[i] /= Double(n) } }

        var random = SplitMix64(seed: seed)
        var q = (0..<(c * d)).map { _ in Double(random.next() % 2_000_001) / 1_000_000 - 1 }
        orthonormalise(&q, rows: c, dimension: d)
        var next = [Double](repeating: 0, count: c * d)
        for _ in 0..<iterations {
            q.withUnsafeBufferPointer { qb in
                moment.withUnsafeBufferPointer { m in
                    next.withUnsafeMutableBufferPointer { z in
                        for r in 0..<c {
                            let out = z.baseAddress! + r * d
                            for j in 0..<d { out[j] = 0 }
                            for i in 0..<d {
                                let qi = qb[r * d + i]
                                if qi == 0 { continue }
                                let mi = m.baseAddress! + i * d
                                for j in 0..<d { out[j] += qi * mi[j] }
                            }
                        }
                    }
                }
            }
            swap(&q, &next)
            orthonormalise(&q, rows: c, dimension: d)
        }
        return PrincipalSubspace(inputDimension: d, components: c, basis: q.map(Float.init))
    }

    /// Modified Gram–Schmidt on the rows; a row that vanishes (a sample without that many directions) is
    /// replaced by a unit vector orthogonal to the others.
    static func orthonormalise(_ q: inout [Double], rows: Int, dimension d: Int) {
        for r in 0..<rows {
            for attempt in 0...d {
                for p in 0..<r {
                    var dot = 0.0
                    for j in 0..<d { dot += q[r * d + j] * q[p * d + j] }
                    for j in 0..<d { q[r * d + j] -= dot * q[p * d + j] }
                }
                var norm = 0.0
                for j in 0..<d { norm += q[r * d + j] * q[r * d + j] }
                norm = norm.squareRoot()
                if norm > 1e-9 {
                    for j in 0..<d { q[r * d + j] /= norm }
                    break
                }
                // Degenerate: start again from a coordinate axis.
                for j in 0..<d { q[r * d + j] = j == (r + attempt) % d ? 1 : 0 }
            }
        }
    }

    /// `v` (`inputDimension` values) projected: `components` values.
    public func project(_ v: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        basis.withUnsafeBufferPointer { b in
            for r in 0..<components { out[r] = dot(b.baseAddress! + r * inputDimension, v, inputDimension) }
        }
    }

    public func project(_ v: [Float]) -> [Float] {
        precondition(v.count == inputDimension)
        var out = [Float](repeating: 0, count: components)
        v.withUnsafeBufferPointer { p in out.withUnsafeMutableBufferPointer { project(p.baseAddress!, into: $0.baseAddress!) } }
        return out
    }

    /// The bytes `GalleryVectorFile` keeps: input dimension and components (UInt32 each), then the basis.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt32(inputDimension).littleEndian) { bytes += $0 }
        withUnsafeBytes(of: UInt32(components).littleEndian) { bytes += $0 }
        basis.withUnsafeBytes { bytes += $0 }
        return bytes
    }

    /// Reads `encoded` back (nil when the bytes are not one).
    public init?(encoded bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 8 else { return nil }
        let d = Int(UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self)))
        let c = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
        guard d > 0, c > 0, c <= d, bytes.count == 8 + 4 * c * d else { return nil }
        let basis = (0..<(c * d)).map { bytes.loadUnaligned(fromByteOffset: 8 + 4 * $0, as: Float.self) }
        self.init(inputDimension: d, components: c, basis: basis)
    }
}
