/// Choosing a setting on some people and measuring it on others. A default picked as the best of several on one
/// set is optimistic on that set; cross-validation over identity-disjoint folds measures how the *way of
/// choosing* does on people it never saw, and bootstrap intervals show which differences are noise. Pure
/// functions of per-item results (a query's top-1 hit, a pair's correct decision).
public enum CrossValidation {
    /// Identity-disjoint folds: the distinct identities sorted by name and dealt round robin into `folds`
    /// folds. Returns each item's fold, in the order of `ids`.
    public static func identityFolds(_ ids: [String], folds: Int) -> [Int] {
        precondition(folds > 0, "identityFolds: folds must be positive")
        let fold = Dictionary(uniqueKeysWithValues: Set(ids).sorted().enumerated().map { ($1, $0 % folds) })
        return ids.map { fold[$0]! }
    }

    /// A 95% interval for the mean of `values` (2.5th to 97.5th percentile of `samples` bootstrap means over the
    /// items, with a fixed seed so that a report is reproducible).
    public static func meanInterval(_ values: [Double], samples: Int = 1000, seed: UInt64 = 1) -> ClosedRange<Double> {
        guard !values.isEmpty else { return 0...0 }
        var generator = SplitMix64(seed: seed)
        var means: [Double] = []
        means.reserveCapacity(samples)
        for _ in 0..<samples {
            var sum = 0.0
            for _ in 0..<values.count { sum += values[Int(generator.next() % UInt64(values.count))] }
            means.append(sum / Double(values.count))
        }
        return VerificationMetrics.percentileInterval(means)
    }

    /// A 95% interval for the mean difference `a - b` of two settings measured on the same items (paired
    /// bootstrap): when it contains 0, the two are not told apart by this set.
    public static func differenceInterval(_ a: [Double], _ b: [Double], samples: Int = 1000,
                                          seed: UInt64 = 1) -> ClosedRange<Double> {
        precondition(a.count == b.count, "differenceInterval: the two settings must be measured on the same items")
        return meanInterval(zip(a, b).map { $0 - $1 }, samples: samples, seed: seed)
    }

    /// The mean and (population) standard deviation of a setting's fold means.
    public struct FoldSpread: Sendable, Codable, Equatable {
        public var mean: Double
        public var deviation: Double
    }

    /// The mean of `values` within each fold, and the mean and (population) standard deviation of those fold
    /// means: the spread a setting shows from one group of people to another.
    public static func foldMeans(_ values: [Double], folds: [Int], foldCount: Int) -> FoldSpread {
        var sums = [Double](repeating: 0, count: foldCount), counts = [Int](repeating: 0, count: foldCount)
        for (v, f) in zip(values, folds) { sums[f] += v; counts[f] += 1 }
        let means = zip(sums, counts).filter { $0.1 > 0 }.map { $0.0 / Double($0.1) }
        guard !means.isEmpty else { return FoldSpread(mean: 0, deviation: 0) }
        let mean = means.reduce(0, +) / Double(means.count)
        let variance = means.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(means.count)
        return FoldSpread(mean: mean, deviation: variance.squareRoot())
    }

    /// The outcome of choosing among settings by cross-validation.
    public struct Selection: Sendable, Codable, Equatable {
        /// For each fold, the index of the setting best on the other folds.
        public var chosen: [Int]
        /// The held-out result of the way of choosing: each item scored by the setting chosen without its fold.
        public var heldOut: Double
        public var heldOutInterval: ClosedRange<Double>
        /// The setting chosen most often (the first of those chosen equally often): the default to ship.
        public var winner: Int
    }

    /// For each fold, the setting with the best mean over the items of the other folds (the first of equals, so
    /// list today's default first), applied to the fold's items. `values[s][i]` is item `i`'s result under
    /// setting `s`; `folds[i]` its fold (0..<foldCount).
    public static func select(_ values: [[Double]], folds: [Int], foldCount: Int) -> Selection {
        precondition(!values.isEmpty && values.allSatisfy { $0.count == folds.count },
                     "select: one value per item for every setting")
        // Per setting, per fold: sum and count.
        var sums = [[Double]](repeating: [Double](repeating: 0, count: foldCount), count: values.count)
        var counts = [Int](repeating: 0, count: foldCount)
        for (i, f) in folds.enumerated() {
            counts[f] += 1
            for s in values.indices { sums[s][f] += values[s][i] }
        }
        let total = counts.reduce(0, +)
        var chosen: [Int] = []
        for f in 0..<foldCount {
            let others = Double(total - counts[f])
            func score(_ s: Int) -> Double { others > 0 ? (sums[s].reduce(0, +) - sums[s][f]) / others : 0 }
            var best = 0
            for s in values.indices.dropFirst() where score(s) > score(best) { best = s }
            chosen.append(best)
        }
        let heldOut = folds.enumerated().map { i, f in values[chosen[f]][i] }
        var times = [Int](repeating: 0, count: values.count)
        for c in chosen { times[c] += 1 }
        let winner = times.indices.max { times[$0] < times[$1] || (times[$0] == times[$1] && $0 > $1) }!
        return Selection(chosen: chosen, heldOut: heldOut.reduce(0, +) / Double(max(heldOut.count, 1)),
                         heldOutInterval: meanInterval(heldOut), winner: winner)
    }
}
