import Foundation

/// The answer to "are these two photos of the same person?": the similarity of their chosen faces and the
/// decision at the embedder's calibrated threshold.
public struct Verification: Sendable, Codable, Equatable {
    /// One photo's side: its faces and which one was compared.
    public struct Photo: Sendable, Codable, Equatable {
        public var name: String
        public var width: Int
        public var height: Int
        public var faces: [DetectedFace]
        /// Index into `faces` of the face compared.
        public var chosenFace: Int

        public init(name: String, width: Int, height: Int, faces: [DetectedFace], chosenFace: Int) {
            self.name = name; self.width = width; self.height = height
            self.faces = faces; self.chosenFace = chosenFace
        }
    }

    public var first: Photo
    public var second: Photo
    public var embedder: String
    /// Cosine similarity of the two faces' embeddings (1: identical).
    public var similarity: Float
    /// "Same person" above this similarity.
    public var threshold: Float
    /// The share of different-person pairs that pass `threshold` where it was calibrated (the model catalog's
    /// threshold: 1e-3 of the different-person pairs of lfw-dev); nil for a threshold given by the caller.
    public var falseAcceptRate: Double?
    public var samePerson: Bool

    public init(first: Photo, second: Photo, embedder: String, similarity: Float, threshold: Float,
                falseAcceptRate: Double?, samePerson: Bool) {
        self.first = first; self.second = second; self.embedder = embedder
        self.similarity = similarity; self.threshold = threshold
        self.falseAcceptRate = falseAcceptRate; self.samePerson = samePerson
    }

    /// The catalog threshold's false-accept rate (see `EmbedderSpec.matchThreshold`).
    public static let catalogFalseAcceptRate = 1e-3
    /// When the catalog has no measured threshold for the embedder (0.5 is near FaceNet-512's 0.505).
    public static let fallbackThreshold: Float = 0.5

    /// The calibrated threshold of `embedder`, with its false-accept rate (nil for the fallback).
    public static func threshold(for embedder: String) -> (value: Float, falseAcceptRate: Double?) {
        if let value = ModelCatalog.spec(named: embedder)?.embedder?.matchThreshold { return (value, catalogFalseAcceptRate) }
        return (fallbackThreshold, nil)
    }
}

extension FacePipeline {
    /// Compares the chosen face of each photo (`choice`; `.all` compares every pair of faces and keeps the
    /// closest) and decides at `threshold`, or the embedder's calibrated one. Only the chosen faces are embedded;
    /// `maxChosen` bounds them per photo (`TooManyFacesError` beyond it).
    public func verify(_ first: (name: String, image: RGBImage), _ second: (name: String, image: RGBImage),
                       choice: QueryFaceChoice = .largest, threshold: Float? = nil,
                       maxChosen: Int = .max) throws -> Verification {
        func side(_ photo: (name: String, image: RGBImage)) throws -> (Verification.Photo, QueryFaces) {
            let query = try queryFaces(in: photo.image, choice: choice, maxChosen: maxChosen)
            return (Verification.Photo(name: photo.name, width: photo.image.width, height: photo.image.height,
                                       faces: query.faces, chosenFace: query.chosen.first ?? 0), query)
        }
        var (a, queryA) = try side(first)
        var (b, queryB) = try side(second)
        // Each photo has at least one face (the whole photo stands in when none is found).
        var best = (similarity: -Float.infinity, i: 0, j: 0)
        for (i, embeddingA) in zip(queryA.chosen, queryA.embeddings) {
            for (j, embeddingB) in zip(queryB.chosen, queryB.embeddings) {
                let s = embeddingA.similarity(to: embeddingB, metric: .cosine)
                if s > best.similarity { best = (s, i, j) }
            }
        }
        a.chosenFace = best.i
        b.chosenFace = best.j
        let calibrated = Verification.threshold(for: settings.embedder)
        let limit = threshold ?? calibrated.value
        return Verification(first: a, second: b, embedder: settings.embedder, similarity: best.similarity,
                            threshold: limit, falseAcceptRate: threshold == nil ? calibrated.falseAcceptRate : nil,
                            samePerson: best.similarity >= limit)
    }
}
