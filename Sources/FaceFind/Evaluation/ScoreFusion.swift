/// How the members of a fusion (`facenet512+mobilefacenet`) combine their similarities into one pair score.
/// Embedders' cosines live on different scales (FaceNet-512's different-person pairs sit near 0.1,
/// MobileFaceNet's near 0.3), so a plain sum lets the wider one dominate; `zScore` and `learned` first
/// standardise each member on the training folds' pairs. Pairs protocol only: both need training folds.
public enum ScoreFusion: String, Sendable, Codable, CaseIterable {
    /// The weighted sum of the raw similarities, with the weights given after the names (`a+b:0.5`).
    case sum
    /// Each member's similarities standardised by their mean and standard deviation over the training folds'
    /// pairs (no labels used), then the weighted sum.
    case zScore = "z-score"
    /// Standardised as `zScore`, then weighted by Fisher's linear discriminant learned on the training folds'
    /// same/different labels (the given weights are ignored).
    case learned

    /// Whether fitting needs the training folds (anything but a plain sum of two or more members).
    public func needsTraining(members: Int) -> Bool { self != .sum && members > 1 }
}

/// A fitted fusion: score = Σ weightᵢ (sᵢ - offsetᵢ) / scaleᵢ.
public struct FusionModel: Sendable, Equatable {
    public var offsets: [Double]
    public var scales: [Double]
    public var weights: [Double]

    /// The plain weighted sum.
    public init(weights: [Float]) {
        offsets = weights.map { _ in 0 }
        scales = weights.map { _ in 1 }
        self.weights = weights.map(Double.init)
    }

    /// Fits `fusion` to training pairs: `scores[m][p]` is member m's similarity of pair p, `same[p]` its truth.
    /// Pairs where a member has no score (`-greatestFiniteMagnitude`: a photo without a face) are left out.
    public init(_ fusion: ScoreFusion, scores: [[Float]], same: [Bool], givenWeights: [Float]) {
        self.init(weights: givenWeights)
        guard fusion != .sum, let count = scores.first?.count, count > 1 else { return }
        let usable = (0..<count).filter { p in scores.allSatisfy { $0[p] > -.greatestFiniteMagnitude } }
        guard usable.count > 1 else { return }
        let features = scores.map { member in usable.map { Double(member[$0]) } }
        for (m, values) in features.enumerated() {
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
            offsets[m] = mean
            scales[m] = variance > 0 ? variance.squareRoot() : 1
        }
        guard fusion == .learned else { return }
        // Fisher: w = S⁻¹ (μ_same - μ_different), S the pooled within-class covariance of the standardised scores.
        let z = features.indices.map { m in features[m].map { ($0 - offsets[m]) / scales[m] } }
        let labels = usable.map { same[$0] }
        let n = z.count
        func classMean(_ label: Bool) -> [Double] {
            let rows = labels.indices.filter { labels[$0] == label }
            return z.map { member in rows.reduce(0) { $0 + member[$1] } / Double(max(rows.count, 1)) }
        }
        let means = [true: classMean(true), false: classMean(false)]
        var within = [Double](repeating: 0, count: n * n)
        for (row, label) in labels.enumerated() {
            let mean = means[label]!
            for i in 0..<n { for j in 0..<n { within[i * n + j] += (z[i][row] - mean[i]) * (z[j][row] - mean[j]) } }
        }
        // A small ridge keeps two nearly identical members solvable.
        for i in 0..<n { within[i * n + i] += 1e-6 * Double(labels.count) }
        let difference = zip(means[true]!, means[false]!).map { $0 - $1 }
        let l = Cholesky.lower(within, size: n)
        let w = Cholesky.solveUpper(l, Cholesky.solveLower(l, difference))
        let total = w.reduce(0) { $0 + abs($1) }
        weights = total > 0 ? w.map { $0 / total } : weights
    }

    /// The fused score of one pair's member similarities; `-greatestFiniteMagnitude` when one is missing.
    public func score(_ similarities: [Float]) -> Float {
        var sum = 0.0
        for (m, s) in similarities.enumerated() {
            guard s > -.greatestFiniteMagnitude else { return -.greatestFiniteMagnitude }
            sum += weights[m] * (Double(s) - offsets[m]) / scales[m]
        }
        return Float(sum)
    }
}
