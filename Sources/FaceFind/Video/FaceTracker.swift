/// When a face of a video is on screen: the time range of its track (seconds from the start of the video) and the
/// frame the stored face was taken from.
public struct FaceTime: Sendable, Hashable, Codable {
    /// The appearance begins after the last sampled frame without the face (or at the shot's first frame), and
    /// ends before the first sampled frame without it (or at the next cut, or the end of the video): the range
    /// contains the whole appearance, at most one sampling interval longer on each side.
    public var start: Double
    public var end: Double
    /// The time of the frame the face was taken from (the frame to show).
    public var frame: Double

    public init(start: Double, end: Double, frame: Double) {
        self.start = start; self.end = end; self.frame = frame
    }

    /// The time from a store's three columns (start, end, frame), nil unless all three are set (a photo's face).
    public init?(columns start: Double?, _ end: Double?, _ frame: Double?) {
        guard let start, let end, let frame else { return nil }
        self.init(start: start, end: end, frame: frame)
    }

    /// Whether the two ranges overlap or touch.
    public func overlaps(_ other: FaceTime) -> Bool { start <= other.end && other.start <= end }
}

/// A face seen in a sampled frame, with its embedding.
public struct FrameFace: Sendable {
    public var face: DetectedFace
    public var embedding: Embedding
    public var time: Double

    public init(face: DetectedFace, embedding: Embedding, time: Double) {
        self.face = face; self.embedding = embedding; self.time = time
    }

    /// Which sightings of a track are kept: the detector's confidence times the face's width, so a sharp large
    /// face beats a small or doubtful one (FaceFind's embedders lose accuracy on faces under about 40 px).
    var quality: Float { face.score * face.box.width.squareRoot() }
}

/// One person's continuous appearance in one shot: the best few sightings and the time range.
public struct FaceTrack: Sendable {
    /// The kept sightings, best first (at most `FaceTracker.facesPerTrack`).
    public var best: [FrameFace]
    public var start: Double
    public var end: Double
    /// How many sampled frames showed the face.
    public var sightings: Int

    /// The kept faces, each with the track's range and its own frame time: what the store holds for the track.
    public var storedFaces: [StoredFace] {
        best.map { sighting in
            var face = sighting.face
            face.time = FaceTime(start: start, end: end, frame: sighting.time)
            return StoredFace(face: face, embedding: sighting.embedding)
        }
    }
}

/// Links the faces of successive sampled frames into tracks, so that a person on screen for a minute is stored
/// as a few faces with a time range rather than sixty near-identical faces.
///
/// A face continues a track of the previous sampled frames when their embeddings agree (cosine at least
/// `linkSimilarity`), or agree less strongly (at least `overlapLinkSimilarity`) while the boxes overlap (IoU
/// at least `minimumOverlap`): position alone would merge two people passing each other, the embedding alone
/// misses a face turning away. Pairs are linked greedily, most similar first, one face per track. A track that
/// misses `maximumMissed` + 1 sampled frames in a row, or meets a cut, ends.
public struct FaceTracker: Sendable {
    public var linkSimilarity: Float
    public var overlapLinkSimilarity: Float
    public var minimumOverlap: Float = 0.3
    public var facesPerTrack = 3
    /// Sampled frames a track may miss (a blink of the detector) and still continue.
    public var maximumMissed = 1

    private struct Active {
        var track: FaceTrack
        var last: FrameFace
        var missed = 0
        /// The first sampled frame that did not show the face (the end, should the track end).
        var firstMiss: Double?
    }

    private var active: [Active] = []
    private var finished: [FaceTrack] = []
    private var previousTime: Double?

    /// `linkSimilarity` is the embedder's match threshold (`Verification.threshold(for:)`): a second sighting
    /// that would pass as the same person in a search; with overlapping boxes, 60% of it.
    public init(linkSimilarity: Float) {
        self.linkSimilarity = linkSimilarity
        overlapLinkSimilarity = linkSimilarity * 0.6
    }

    /// Adds the faces of the sampled frame at `time` (frames in order). `startsShot` ends every open track at
    /// `time` first: a track never spans a cut.
    public mutating func add(_ faces: [FrameFace], at time: Double, startsShot: Bool) {
        if startsShot { close(all: true, at: time) }
        // Candidate links, most similar first.
        var candidates: [(track: Int, face: Int, similarity: Float)] = []
        for (t, entry) in active.enumerated() {
            for (f, face) in faces.enumerated() {
                let similarity = entry.last.embedding.similarity(to: face.embedding, metric: .cosine)
                let overlapping = entry.last.face.box.iou(face.face.box) >= minimumOverlap
                if similarity >= linkSimilarity || (overlapping && similarity >= overlapLinkSimilarity) {
                    candidates.append((t, f, similarity))
                }
            }
        }
        candidates.sort { $0.similarity > $1.similarity }
        var trackTaken = Set<Int>(), faceTaken = Set<Int>()
        for candidate in candidates where !trackTaken.contains(candidate.track) && !faceTaken.contains(candidate.face) {
            trackTaken.insert(candidate.track); faceTaken.insert(candidate.face)
            let face = faces[candidate.face]
            active[candidate.track].last = face
            active[candidate.track].missed = 0
            active[candidate.track].firstMiss = nil
            Self.keep(face, in: &active[candidate.track].track, limit: facesPerTrack)
        }
        for t in active.indices where !trackTaken.contains(t) {
            active[t].missed += 1
            if active[t].firstMiss == nil { active[t].firstMiss = time }
        }
        close(all: false, at: time)
        // New tracks start after the previous sampled frame, which did not show them (or here, at a cut).
        let start = startsShot ? time : (previousTime ?? time)
        for (f, face) in faces.enumerated() where !faceTaken.contains(f) {
            active.append(Active(track: FaceTrack(best: [face], start: start, end: time, sightings: 1), last: face))
        }
        previousTime = time
    }

    /// Ends every open track at `end` (the video's duration) and returns all tracks, in order of their start.
    public mutating func finish(at end: Double) -> [FaceTrack] {
        close(all: true, at: max(end, previousTime ?? end))
        defer { finished = [] }
        return finished.sorted { ($0.start, $0.end) < ($1.start, $1.end) }
    }

    private static func keep(_ face: FrameFace, in track: inout FaceTrack, limit: Int) {
        track.sightings += 1
        track.best.append(face)
        track.best.sort { $0.quality > $1.quality }
        if track.best.count > limit { track.best.removeLast() }
    }

    /// Ends the tracks that missed too many frames (or all of them) at their first miss, or at `time`.
    private mutating func close(all: Bool, at time: Double) {
        active.removeAll { entry in
            guard all || entry.missed > maximumMissed else { return false }
            var track = entry.track
            track.end = entry.firstMiss ?? time
            finished.append(track)
            return true
        }
    }
}
