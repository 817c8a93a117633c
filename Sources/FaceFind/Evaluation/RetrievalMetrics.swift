/// Retrieval accuracy from the rank at which each query first finds its identity.
public enum RetrievalMetrics {
    /// The cumulative match characteristic: element k-1 is the fraction of queries whose first correct
    /// gallery image is at rank ≤ k. `firstHitRanks` are 1-based; nil means never found.
    public static func cmc(firstHitRanks: [Int?], maxRank: Int) -> [Double] {
        guard !firstHitRanks.isEmpty, maxRank > 0 else { return [] }
        var counts = [Int](repeating: 0, count: maxRank + 1)
        for case let rank? in firstHitRanks where rank <= maxRank { counts[rank] += 1 }
        var cumulative = 0
        return (1...maxRank).map { k in
            cumulative += counts[k]
            return Double(cumulative) / Double(firstHitRanks.count)
        }
    }

    /// Top-k accuracy: the fraction of queries whose first correct image is within the first k.
    public static func topK(firstHitRanks: [Int?], k: Int) -> Double {
        guard !firstHitRanks.isEmpty else { return 0 }
        return Double(firstHitRanks.filter { $0.map { $0 <= k } ?? false }.count) / Double(firstHitRanks.count)
    }

    /// The 1-based rank of the first match whose identity is `id`, or nil.
    public static func firstHitRank(_ ranked: [String], id: String) -> Int? {
        ranked.firstIndex(of: id).map { $0 + 1 }
    }
}
