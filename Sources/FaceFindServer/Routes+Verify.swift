import FaceFind
import Foundation
import Hummingbird

extension FaceFindService {
    /// `POST /v1/verify`: are two photos (two `image` fields), or a photo and a gallery image (`id`), the same
    /// person? Answers the similarity of the compared faces and the decision at the server's threshold.
    func verify(_ request: Request, context: ServerRequestContext) async throws -> Response {
        let upload = try await receive(request, context: context, maxImages: 2)
        let galleryID = try upload.fields["id"].flatMap { text -> Int64? in
            guard !text.isEmpty else { return nil }
            guard let id = Int64(text), id > 0 else {
                throw APIError.badRequest("id must be a positive integer, got \"\(text.prefix(40))\"", code: "bad_id")
            }
            return id
        }
        guard upload.images.count == (galleryID == nil ? 2 : 1) else {
            throw APIError.badRequest("send two photos as form fields named `image`, or one photo and the `id` of a "
                                      + "gallery image", code: "verify_needs_two")
        }
        let options = try searchOptions(upload.fields)
        guard case .choice(let choice) = options.face else {
            throw APIError.badRequest("face must be largest, center, score, prominent or all here", code: "bad_parameter")
        }
        let engine = self.engine
        // Every pair of faces compared: bulk work, kept to its share of the workers.
        let admission = try inference.admit(choice == .all ? .bulk : .normal)
        let result = try await admission.run { _ in
            try engine.verify(upload.images, galleryID: galleryID, choice: choice, threshold: options.threshold)
        }
        return try JSON.response(result)
    }
}

extension Engine {
    /// Decodes, detects, embeds and compares; the gallery image is read from its file and goes through the same
    /// pipeline as the upload.
    func verify(_ uploads: [ImageUpload], galleryID: Int64?, choice: QueryFaceChoice, threshold: Float?) throws -> VerifyJSON {
        let first = (uploads[0].name, try decode(uploads[0]))
        let second = try galleryID.map(galleryPhoto) ?? (uploads[1].name, try decode(uploads[1]))
        let result: Verification
        do {
            result = try timed("detect_embed") {
                try pipeline.verify(first, second, choice: choice, threshold: threshold ?? cosineThreshold,
                                    maxChosen: configuration.maxFacesPerRequest)
            }.0
        } catch let error as TooManyFacesError {
            throw APIError.from(error, name: "a photo")
        }
        // Only the chosen faces were embedded: one a photo, or all of them with face=all.
        metrics.embedded(faces: choice == .all ? result.first.faces.count + result.second.faces.count : 2)
        return VerifyJSON(result, falseAcceptRate: threshold == nil && configuration.cosineThreshold == nil
                            ? Verification.threshold(for: pipeline.settings.embedder).falseAcceptRate : nil)
    }

    /// A gallery image's photo, read from its file, with its name as clients see it.
    func galleryPhoto(_ id: Int64) throws -> (String, RGBImage) {
        guard let record = try store.image(id: id) else { throw APIError.notFound("no gallery image with id \(id)") }
        do {
            return (clientPath(record.path), try galleryDecoder.decode(contentsOf: record.path))
        } catch {
            throw APIError.notFound("the photo of gallery image \(id) cannot be read: \(error.reason)")
        }
    }

    /// An uploaded photo decoded with the server's pixel limit; 400/413 naming it when it is no usable image.
    func decode(_ upload: ImageUpload) throws -> RGBImage {
        do {
            return try timed("decode") { try uploadDecoder.decode(upload.bytes, name: upload.name) }.0
        } catch let error as ImageDecodingError {
            throw APIError.from(error, name: upload.name)
        }
    }
}

/// The answer of `POST /v1/verify`.
struct VerifyJSON: Codable, Sendable {
    struct Photo: Codable, Sendable {
        var name: String
        var width: Int
        var height: Int
        var faces: [FaceJSON]
        /// Index into `faces` of the face compared.
        var chosenFace: Int
    }

    var first: Photo
    var second: Photo
    var embedder: String
    /// Cosine similarity of the compared faces.
    var similarity: Float
    var threshold: Float
    /// The share of different-person pairs passing `threshold` where it was calibrated; absent when the
    /// threshold was set by the request or the operator.
    var falseAcceptRate: Double?
    var samePerson: Bool

    init(_ verification: Verification, falseAcceptRate: Double?) {
        func photo(_ p: Verification.Photo) -> Photo {
            Photo(name: p.name, width: p.width, height: p.height,
                  faces: p.faces.enumerated().map { FaceJSON(index: $0.offset, face: $0.element) }, chosenFace: p.chosenFace)
        }
        first = photo(verification.first)
        second = photo(verification.second)
        embedder = verification.embedder
        similarity = verification.similarity
        threshold = verification.threshold
        self.falseAcceptRate = falseAcceptRate
        samePerson = verification.samePerson
    }
}

extension FaceFindService {
    /// `POST /v1/embed`: every face of one photo with its embedding, for clients that bring their own tools.
    func embed(_ request: Request, context: ServerRequestContext) async throws -> Response {
        let upload = try await receive(request, context: context)
        let engine = self.engine
        // Every face of the photo embedded: bulk work, kept to its share of the workers.
        let admission = try inference.admit(.bulk)
        let result = try await admission.run { _ in try engine.embed(upload.images[0]) }
        return try JSON.response(result)
    }
}

extension Engine {
    /// Every face of the photo with its embedding; 413 `too_many_faces` beyond `maxFacesPerRequest`, found by
    /// detection before any face is embedded.
    func embed(_ upload: ImageUpload) throws -> EmbedJSON {
        let image = try decode(upload)
        let query = try timed("detect_embed") { try queryFaces(in: image, upload.name, .choice(.all)) }.0
        return EmbedJSON(name: upload.name, width: image.width, height: image.height, embedder: pipeline.settings.embedder,
                         faces: zip(query.chosen, query.embeddings).map { index, embedding in
                             EmbedJSON.Face(face: FaceJSON(index: index, face: query.faces[index]), embedding: embedding.vector)
                         })
    }
}

/// The answer of `POST /v1/embed`.
struct EmbedJSON: Codable, Sendable {
    struct Face: Codable, Sendable {
        var face: FaceJSON
        /// The embedder's vector for this face (unit length).
        var embedding: [Float]
    }

    var name: String
    var width: Int
    var height: Int
    var embedder: String
    var faces: [Face]
}
