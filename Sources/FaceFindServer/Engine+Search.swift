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
        // Detect every face, embed only the chosen ones (one, unless face=all).
        let (query, detectMs) = try timed("detect_embed") { try queryFaces(in: image, upload.name, options.face) }
        let chosen = query.chosen
        let threshold = options.threshold ?? self.threshold(for: options.metric)
        let searcher = try index.searcher()
        // With several chosen faces an image keeps its best score over them, and which face that was, so the
        // page can show it.
        let (ranked, searchMs) = try timed("search") {
            try searcher.rank(faces: query.embeddings, k: options.k, metric: options.metric, threshold: threshold)
        }
        let matches = try store.withVideoTimes(ranked.map(\.match), queries: ranked.map { query.embeddings[$0.list] },
                                             metric: options.metric, threshold: threshold)
        let results: [ResultJSON] = try zip(matches, ranked).compactMap { match, entry in
            let queryFace = chosen[entry.list]
            // The record may be gone if the image was deleted after the snapshot was taken, or its id taken by
            // another photo since (SQLite reuses the largest id): skip it rather than name the wrong photo.
            guard let record = try store.image(id: match.imageID), record.path == match.path else { return nil }
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
            faces: query.faces.enumerated().map { FaceJSON(index: $0.offset, face: $0.element) },
            chosenFaces: chosen, metric: options.metric, k: options.k, threshold: threshold,
            unknown: !results.contains { !$0.unknown }, results: results,
            timings: .init(queueMs: waited * 1000, decodeMs: decodeMs, detectEmbedMs: detectMs, searchMs: searchMs))
    }

    /// The faces of a query photo and the embeddings of those `selection` picks (at most
    /// `maxFacesPerRequest`: 413 `too_many_faces` beyond), counted in the metrics.
    func queryFaces(in image: RGBImage, _ name: String, _ selection: FaceSelection) throws -> QueryFaces {
        let query: QueryFaces
        do {
            switch selection {
            case .choice(let choice):
                query = try pipeline.queryFaces(in: image, choice: choice, maxChosen: configuration.maxFacesPerRequest)
            case .index(let i):
                let faces = try pipeline.finder.faces(in: image)
                guard i < faces.count else {
                    throw APIError.badRequest("face=\(i) does not exist: the photo has \(faces.count) face(s), "
                                              + "numbered from 0", code: "bad_face")
                }
                query = try pipeline.queryFaces(faces, in: image, chosen: [i])
            }
        } catch let error as TooManyFacesError {
            throw APIError.from(error, name: name)
        }
        metrics.embedded(faces: query.chosen.count)
        return query
    }
}
