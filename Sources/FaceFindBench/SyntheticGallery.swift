import FaceFind
import Foundation

/// A generated gallery of unit-length embeddings clustered like real identities, for measuring search at sizes
/// no photo folder here reaches (10k to 1M faces).
///
/// Each identity has a random centre; each face is its centre plus noise, renormalised. The noise is sized so
/// that two faces of one identity have cosine similarity about `sameIdentityCosine` (FaceNet-512 on lfw-dev:
/// about 0.65). Every vector is a pure function of (seed, index): any block can be regenerated on demand, so a
/// 1M gallery never needs to exist twice in memory, and two stores fed from one generator hold identical data.
///
/// Real embeddings are far from isotropic, and that matters for approximate search: FaceNet-512 on lfw-dev
/// (`scripts/embedding-stats.py`) spreads its variance over about 54 effective dimensions (participation
/// ratio; 90% of the variance in 58 principal directions), and unrelated faces have cosine similarity with a
/// standard deviation of 0.136, not the 0.044 of random directions in 512-d. An isotropic gallery is a
/// needle-in-a-haystack problem that no graph index navigates (every wrong face is equally far), so centres
/// and noise are drawn with variances decaying as exp(-i/τ) over the principal directions, τ = half the
/// effective dimension, and turned into a fixed random basis (random signs and a Walsh–Hadamard transform,
/// so that no coordinate is special, as in real embeddings). `effectiveDimension: nil` gives the isotropic
/// gallery.
public struct SyntheticGallery: Sendable {
    public let count: Int
    public let dimension: Int
    public let identities: Int
    public let seed: UInt64
    /// Expected cosine between two faces of one identity.
    public let sameIdentityCosine: Float
    /// Participation ratio of the variance spectrum (nil: isotropic).
    public let effectiveDimension: Int?
    /// Per principal direction, the standard deviation (squared: the variance, summing to 1).
    private let scales: [Float]
    /// Random signs applied before the Walsh–Hadamard transform.
    private let signs: [Float]

    /// FaceNet-512 on lfw-dev: participation ratio 53.9 (`scripts/embedding-stats.py`).
    public static let measuredEffectiveDimension = 54

    /// The clustering threshold for generated faces: FaceNet-512's similarity at a false-accept rate of 1e-5 on
    /// lfw-dev with its vectors as they are (0.657; the catalog's 0.655 until clustering centred them), the space
    /// whose spread the generator imitates. Generated faces share no mean face to subtract.
    public static let clusterThreshold: Float = 0.655

    public init(count: Int, dimension: Int = 512, identities: Int? = nil, seed: UInt64 = 42,
                sameIdentityCosine: Float = 0.65,
                effectiveDimension: Int? = SyntheticGallery.measuredEffectiveDimension) {
        precondition(count > 0 && dimension > 0)
        self.count = count
        self.dimension = dimension
        self.identities = max(1, identities ?? max(1, count / 20))
        self.seed = seed
        self.sameIdentityCosine = sameIdentityCosine
        // Capped for small test dimensions, where a spectrum wider than half the space would be flat anyway.
        let effective = effectiveDimension.map { max(1, min($0, dimension / 2)) }
        self.effectiveDimension = effective
        let width = Self.paddedWidth(dimension)
        var variances = (0..<width).map { i -> Double in
            guard let effective else { return i < dimension ? 1 : 0 }
            return exp(-Double(i) / (Double(effective) / 2))
        }
        let total = variances.reduce(0, +)
        variances = variances.map { $0 / total }
        scales = variances.map { Float($0.squareRoot()) }
        var random = SplitMix64(seed: seed ^ 0x5167_0000)
        signs = (0..<width).map { _ in random.next() & 1 == 0 ? 1 : -1 }
    }

    /// The power of two the rotation works in (the vector is cut back to `dimension` after it).
    private static func paddedWidth(_ dimension: Int) -> Int {
        var width = 1
        while width < dimension { width <<= 1 }
        return width
    }

    /// The identity of face `index` (faces of one identity are spread over the whole gallery).
    public func identity(of index: Int) -> Int {
        Int(SplitMix64.mix(seed &+ 0x1D_0000_0000 &+ UInt64(index)) % UInt64(identities))
    }

    /// Face `index` of the gallery, unit length.
    public func vector(at index: Int) -> [Float] {
        var out = [Float](repeating: 0, count: dimension)
        out.withUnsafeMutableBufferPointer { fill($0, face: identity(of: index), stream: UInt64(index)) }
        return out
    }

    /// Faces `range` as one row-major block written into `into` (`range.count * dimension` floats).
    public func fill(_ range: Range<Int>, into: UnsafeMutableBufferPointer<Float>) {
        precondition(into.count >= range.count * dimension)
        for (row, index) in range.enumerated() {
            let slice = UnsafeMutableBufferPointer(rebasing: into[(row * dimension)..<((row + 1) * dimension)])
            fill(slice, face: identity(of: index), stream: UInt64(index))
        }
    }

    /// `n` query embeddings: new faces of random gallery identities (not copies of gallery vectors), so a
    /// query's true neighbours are the gallery faces of its identity.
    public func queries(_ n: Int, seed querySeed: UInt64 = 7) -> [[Float]] {
        (0..<n).map { q in
            let identity = Int(SplitMix64.mix(querySeed &+ 0x9E00_0000_0000 &+ UInt64(q)) % UInt64(identities))
            var out = [Float](repeating: 0, count: dimension)
            out.withUnsafeMutableBufferPointer { fill($0, face: identity, stream: (1 << 40) &+ querySeed << 32 &+ UInt64(q)) }
            return out
        }
    }

    private func fill(_ out: UnsafeMutableBufferPointer<Float>, face identity: Int, stream: UInt64) {
        // Centre: a fixed random point per identity; noise: fresh per face. Both have expected squared norm 1
        // before scaling, so noise of norm r gives cosine about 1/(1+r²) between two faces of the identity.
        var centre = SplitMix64(seed: seed ^ (0xC0FFEE &+ UInt64(identity) &* 0x9E37_79B9))
        var noise = SplitMix64(seed: seed ^ (0xFACE_0000_0000 &+ stream &* 0xD1B5_4A32_D192_ED03))
        let r = (1 / sameIdentityCosine - 1).squareRoot()
        if effectiveDimension == nil {
            // Isotropic: already in a random basis, no rotation needed.
            for i in 0..<out.count { out[i] = centre.nextGaussian() + r * noise.nextGaussian() }
        } else {
            var work = [Float](repeating: 0, count: scales.count)
            for i in 0..<work.count where scales[i] > 0 {
                work[i] = signs[i] * scales[i] * (centre.nextGaussian() + r * noise.nextGaussian())
            }
            Self.walshHadamard(&work)
            for i in 0..<out.count { out[i] = work[i] }
        }
        var norm: Float = 0
        for i in 0..<out.count { norm += out[i] * out[i] }
        let inverse = 1 / norm.squareRoot()
        for i in 0..<out.count { out[i] *= inverse }
    }

    /// In-place fast Walsh–Hadamard transform (unnormalised; the vector is renormalised afterwards), length a
    /// power of two: an orthogonal rotation in O(n log n).
    package static func walshHadamard(_ values: inout [Float]) {
        var half = 1
        while half < values.count {
            for start in stride(from: 0, to: values.count, by: 2 * half) {
                for i in start..<(start + half) {
                    let (a, b) = (values[i], values[i + half])
                    values[i] = a + b
                    values[i + half] = a - b
                }
            }
            half <<= 1
        }
    }
}

/// What `facefind bench --synthetic` reports for one store: the figures issue "Scale" asks for.
public struct SearchBenchResult: Sendable, Codable {
    public var store: String
    public var count: Int
    public var dimension: Int
    /// Storage of the vectors: "float32", "float16", "int8", "vector", "halfvec".
    public var precision: String
    /// Time to load or insert the gallery and build its index.
    public var buildSeconds: Double
    public var indexBytes: Int64
    public var singleQueriesPerSecond: Double
    public var batchQueriesPerSecond: Double
    public var batchSize: Int
    /// Mean fraction of the exact float32 top 10 that this store's top 10 contains.
    public var recallAt10: Double
    public var peakRSSBytes: Int64
    public var notes: [String]

    public init(store: String, count: Int, dimension: Int, precision: String, buildSeconds: Double,
                indexBytes: Int64, singleQueriesPerSecond: Double, batchQueriesPerSecond: Double, batchSize: Int,
                recallAt10: Double, peakRSSBytes: Int64, notes: [String] = []) {
        self.store = store; self.count = count; self.dimension = dimension; self.precision = precision
        self.buildSeconds = buildSeconds; self.indexBytes = indexBytes
        self.singleQueriesPerSecond = singleQueriesPerSecond; self.batchQueriesPerSecond = batchQueriesPerSecond
        self.batchSize = batchSize; self.recallAt10 = recallAt10; self.peakRSSBytes = peakRSSBytes
        self.notes = notes
    }
}

/// Mean overlap of `found` with `truth`, each a list of top-k ids per query.
public func recall(found: [[Int]], truth: [[Int]]) -> Double {
    precondition(found.count == truth.count)
    guard !truth.isEmpty else { return 1 }
    var total = 0.0
    for (f, t) in zip(found, truth) where !t.isEmpty {
        total += Double(Set(f).intersection(t).count) / Double(t.count)
    }
    return total / Double(truth.count)
}
