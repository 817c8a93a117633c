import FaceFind
import Foundation

/// Which face of the query photo to search with.
enum FaceSelection: Sendable, Equatable {
    /// A policy: largest, center, score or all.
    case choice(QueryFaceChoice)
    /// One face by its index in the detected list (the page's "click a face").
    case index(Int)

    init?(_ text: String) {
        if let choice = QueryFaceChoice(rawValue: text.lowercased()) {
            self = .choice(choice)
        } else if let index = Int(text), index >= 0 {
            self = .index(index)
        } else {
            return nil
        }
    }
}

struct SearchOptions: Sendable {
    var k: Int
    var metric: DistanceMetric
    var face: FaceSelection
    /// Nil: the server's default for the metric.
    var threshold: Float?
}

/// An image sent by a client: its bytes and the names it came with.
struct ImageUpload: Sendable {
    /// File name from the request (multipart filename or `filename=`), for messages and gallery names.
    var name: String
    var bytes: [UInt8]
}

extension Engine {
    /// Finds the faces of the query photo and ranks the gallery images for the chosen one(s).
    func search(_ upload: ImageUpload, options: SearchOptions, waited: Double) throws -> SearchJSON {
        let decodeStart = ContinuousClock.now
        let image = try decode(upload)
        let decodeMs = (ContinuousClock.now - decodeStart).seconds * 1000
        let (faces, detectMs) = try timed("detect_embed") { try pipeline.embedFaces(in: image) }
        let chosen: [Int]
        switch options.face {
        case .choice(let choice):
            chosen = choice.choose(from: faces.map(\.face), imageWidth: image.width, imageHeight: image.height)
        case .index(let i):
            guard i < faces.count else {
                throw APIError.badRequest("face=\(i) does not exist: the photo has \(faces.count) face(s), "
                                          + "numbered from 0", code: "bad_face")
            }
            chosen = [i]
        }
        let threshold = options.threshold ?? self.threshold(for: options.metric)
        let searcher = index.current
        // With several chosen faces an image keeps its best score over them, and which face that was, so the
        // page can show it.
        let (ranked, searchMs) = try timed("search") {
            try searcher.rank(faces: chosen.map { faces[$0].embedding }, k: options.k, metric: options.metric,
                              threshold: threshold)
        }
        let matches = try store.withVideoTimes(ranked.map(\.match), queries: ranked.map { faces[chosen[$0.list]].embedding },
                                             metric: options.metric, threshold: threshold)
        let results: [ResultJSON] = try zip(matches, ranked).compactMap { match, entry in
            let queryFace = chosen[entry.list]
            // The record may be gone if the image was deleted after the snapshot was taken: skip it.
            guard let record = try store.image(id: match.imageID) else { return nil }
            let (name, label) = names(ofPath: record.path)
            return ResultJSON(
                rank: match.rank, id: match.imageID, path: clientPath(match.path), name: name, label: label, score: match.score,
                unknown: match.unknown, box: match.box, faceId: match.faceID, wholeImage: match.isWholeImage,
                queryFace: queryFace, width: record.width, height: record.height,
                thumbnail: Self.thumbnailURL(match.imageID, frame: match.time), time: match.time,
                appearances: match.appearances)
        }
        return SearchJSON(
            query: .init(name: upload.name, width: image.width, height: image.height),
            faces: faces.enumerated().map { FaceJSON(index: $0.offset, face: $0.element.face) },
            chosenFaces: chosen, metric: options.metric, k: options.k, threshold: threshold,
            unknown: !results.contains { !$0.unknown }, results: results,
            timings: .init(queueMs: waited * 1000, decodeMs: decodeMs, detectEmbedMs: detectMs, searchMs: searchMs))
    }
}
