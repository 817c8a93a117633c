import Foundation

extension GalleryStore {
    /// The matches with their video times: for each match in a video, the time range and frame of the matched
    /// face (`Match.time`), and where the query's person is on screen (`Match.appearances`): every track of the
    /// video with a face that passes `threshold` against the query, merged where they overlap (none for an
    /// unknown match; without a threshold or a query, the matched face's track). Photos pass unchanged. Two small
    /// reads per video among the matches (its faces' vectors, and their times), whatever the gallery's size.
    ///
    /// - Parameters:
    ///   - matches: ranked matches of any searcher.
    ///   - queries: the query embedding each match was found with (`nil`: the matched face's track only, as for
    ///     fused rankings, where each member has its own embedding).
    ///   - metric: the metric the matches were ranked by.
    ///   - threshold: the match threshold (nil: the matched face's track only).
    public func withVideoTimes(_ matches: [Match], queries: [Embedding?], metric: DistanceMetric,
                               threshold: Float?) throws -> [Match] {
        var result = matches
        for (i, match) in matches.enumerated() where isVideoPath(match.path) {
            let matrix = try loadFaceMatrix(paths: [match.path])
            guard let image = matrix.images.first else { continue }
            // Both in face id order (the stores' contract for one image).
            let faces = try self.faces(ofImage: image.id)
            guard faces.count == matrix.faceCount else { continue }
            let query = i < queries.count ? queries[i] : nil
            let scores = (0..<matrix.faceCount).map { face in
                query.map { $0.similarity(to: Embedding(Array(matrix.vector(ofFace: face))), metric: metric) }
            }
            let matched = matrix.faceIDs.firstIndex(of: match.faceID)
                ?? scores.indices.max { (scores[$0] ?? 0) < (scores[$1] ?? 0) } ?? 0
            result[i].time = faces[matched].time
            var shown: [(time: FaceTime, score: Float)] = []
            if threshold == nil || query == nil, let time = faces[matched].time { shown.append((time, 0)) }
            if let threshold, query != nil {
                for (face, score) in scores.enumerated() {
                    // similarity(to:) is minus the distance for euclidean; isUnknown takes the distance.
                    guard let score, let time = faces[face].time,
                          !metric.isUnknown(metric.higherIsCloser ? score : -score, threshold: threshold) else { continue }
                    shown.append((time, score))
                }
            }
            result[i].appearances = FaceTime.merged(shown)
        }
        return result
    }
}

extension FaceTime {
    /// Ranges merged where they overlap, in order of their start, each with the frame of its best-scoring face.
    public static func merged(_ times: [(time: FaceTime, score: Float)]) -> [FaceTime] {
        var result: [(time: FaceTime, score: Float)] = []
        for entry in times.sorted(by: { ($0.time.start, $0.time.end) < ($1.time.start, $1.time.end) }) {
            if let last = result.last, last.time.overlaps(entry.time) {
                result[result.count - 1].time.end = max(last.time.end, entry.time.end)
                if entry.score > last.score {
                    result[result.count - 1].time.frame = entry.time.frame
                    result[result.count - 1].score = entry.score
                }
            } else {
                result.append(entry)
            }
        }
        return result.map(\.time)
    }

    /// "1:05.0-1:12.0" (minutes, seconds), for text output.
    public var rangeText: String { "\(Self.clock(start))-\(Self.clock(end))" }

    /// Seconds as m:ss.s.
    public static func clock(_ seconds: Double) -> String {
        let tenths = Int((seconds * 10).rounded())
        return String(format: "%d:%02d.%d", tenths / 600, tenths / 10 % 60, tenths % 10)
    }
}

extension ImageDecoder {
    /// A gallery file as a picture: the photo, or for a video the frame at `time` seconds (default: the first).
    /// For montages and thumbnails of results.
    public func decodeMedia(contentsOf path: String, at time: Double? = nil) throws(ImageDecodingError) -> RGBImage {
        guard isVideoPath(path) else { return try decode(contentsOf: path) }
        return try VideoReader(path: path, maxPixels: maxPixels).frame(at: time ?? 0)
    }
}
