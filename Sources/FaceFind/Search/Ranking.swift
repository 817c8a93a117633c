/// The ranking rules every search shares (in memory, fused, PostgreSQL, the server): which of two matches comes
/// first, what "unknown" means, and how an image keeps its best face over several query faces.
extension DistanceMetric {
    /// Whether a match scoring `score` is flagged "unknown" against `threshold` (nil: never): a similarity
    /// below it, or a distance above it.
    public func isUnknown(_ score: Float, threshold: Float?) -> Bool {
        guard let threshold else { return false }
        return higherIsCloser ? score < threshold : score > threshold
    }
}

extension Match {
    /// Whether this match ranks before `other`: the better score first; on equal scores the lower image id,
    /// then the lower face id, so that every store and front end orders ties alike.
    public func ranks(before other: Match, metric: DistanceMetric) -> Bool {
        if score != other.score { return metric.higherIsCloser ? score > other.score : score < other.score }
        if imageID != other.imageID { return imageID < other.imageID }
        return faceID < other.faceID
    }

    /// The top `k` images over several lists of matches (one per query face), each image with its best match
    /// and the index of the list it came from, ranked 1...k and flagged against `threshold`.
    public static func bestPerImage(_ lists: [[Match]], metric: DistanceMetric, k: Int,
                                    threshold: Float? = nil) -> [(match: Match, list: Int)] {
        var best: [Int64: (match: Match, list: Int)] = [:]
        for (list, matches) in lists.enumerated() {
            for match in matches where best[match.imageID].map({ match.ranks(before: $0.match, metric: metric) }) ?? true {
                best[match.imageID] = (match, list)
            }
        }
        return best.values.sorted { $0.match.ranks(before: $1.match, metric: metric) }.prefix(k).enumerated()
            .map { rank, entry in
                var match = entry.match
                match.rank = rank + 1
                match.unknown = metric.isUnknown(match.score, threshold: threshold)
                return (match, entry.list)
            }
    }
}
