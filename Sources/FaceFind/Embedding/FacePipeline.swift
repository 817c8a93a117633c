/// The choices that define how photos become embeddings: detector, embedder, crop, normalisation and the
/// detection policy. Every front end (CLI, server, evaluation) builds its `FacePipeline` from one of these.
public struct PipelineConfiguration: Sendable, Hashable {
    public var detector: String
    public var embedder: String
    /// The crop; nil uses the embedder's training crop.
    public var crop: CropChoice?
    /// The pixel normalisation; nil uses the embedder's.
    public var normalization: PixelNormalization?
    public var detection: DetectionOptions
    /// Test-time augmentation with the face's mirror image.
    public var augmentation: Augmentation
    /// The embedder's precision: `.int8` runs its int8 catalog entry ("facenet512-int8").
    public var precision: Precision

    public static let defaultDetector = "yunet"
    public static let defaultEmbedder = "facenet512"

    /// A configuration; `detection` nil is `defaultDetection(embedder:)`.
    public init(detector: String = defaultDetector, embedder: String = defaultEmbedder, crop: CropChoice? = nil,
                normalization: PixelNormalization? = nil, detection: DetectionOptions? = nil,
                augmentation: Augmentation = .none, precision: Precision = .fp32) {
        self.detector = detector
        self.embedder = embedder
        self.crop = crop
        self.normalization = normalization
        self.detection = detection ?? Self.defaultDetection(embedder: embedder)
        self.augmentation = augmentation
        self.precision = precision
    }

    /// The default detection options for `embedder`'s crops: `DetectionOptions()` at the embedder's own detection
    /// size (`EmbedderSettings.detectionMinSide`; 448 for a name the catalog does not know).
    public static func defaultDetection(embedder: String) -> DetectionOptions {
        DetectionOptions(minSide: defaultMinSide(embedder: embedder))
    }

    /// `EmbedderSettings.detectionMinSide` of `embedder` (a catalog name, at either precision).
    public static func defaultMinSide(embedder: String) -> Int {
        ModelCatalog.spec(named: embedder)?.embedder?.detectionMinSide ?? DetectionOptions().minSide
    }

    /// The catalog name of the embedder that runs: `embedder` at `precision`.
    public var embedderModel: String { precision.modelName(embedder) }

    /// The configuration that reproduces the embeddings of a store built with `settings` (for searching it).
    public init(matching settings: IndexSettings) throws {
        guard let augmentation = Augmentation(rawValue: settings.augmentation) else {
            throw PipelineError.badOption("the index was built with augmentation '\(settings.augmentation)', which this "
                + "version does not know (it knows " + Augmentation.allCases.map(\.rawValue).joined(separator: ", ") + ")")
        }
        guard let crop = CropChoice(name: settings.crop) else {
            throw PipelineError.badOption("the index was built with crop '\(settings.crop)', which this version does not know")
        }
        guard let normalization = PixelNormalization(name: settings.normalization) else {
            throw PipelineError.badOption("the index was built with normalization '\(settings.normalization)', which "
                + "this version does not know (it knows " + PixelNormalization.named.map(\.0).joined(separator: ", ") + ")")
        }
        self.init(detector: settings.detector, embedder: settings.embedder, crop: crop, normalization: normalization,
                  detection: DetectionOptions(maxSide: settings.maxSide, minSide: settings.minSide,
                                              minFaceSize: Float(settings.minFaceSize)),
                  augmentation: augmentation, precision: Precision.of(settings.embedder))
    }

}

/// A crop chosen by name (`--crop`, an index's settings: `CropPolicy.name`); its geometry comes from the embedder
/// (`policy(own:)`).
public enum CropChoice: Sendable, Hashable, CustomStringConvertible {
    /// FaceNet's training crop: the box plus a margin, resized larger than the chip, its centre kept ("margin").
    case margin
    /// The box plus `pixels`/2 per side, resized to the chip ("marginN", N even, 0...1000; facenet's evaluation
    /// alignment is "margin32").
    case marginPixels(Int)
    /// A five-point alignment onto ArcFace's template, or the embedder's own ("align5").
    case align5
    /// dlib's shape predictor and face chip ("dlib-chip").
    case dlibChip

    public init?(name: String) {
        switch name {
        case "margin": self = .margin
        case "align5": self = .align5
        case "dlib-chip": self = .dlibChip
        default:
            guard name.hasPrefix("margin"), let n = Int(name.dropFirst("margin".count)), (0...1000).contains(n),
                  n % 2 == 0 else { return nil }
            self = .marginPixels(n)
        }
    }

    public var name: String {
        switch self {
        case .margin: return "margin"
        case .marginPixels(let n): return "margin\(n)"
        case .align5: return "align5"
        case .dlibChip: return "dlib-chip"
        }
    }

    public var description: String { name }

    /// The policy for an embedder whose own crop is `own`: `own` itself when the name is its own (so that an index
    /// built with dlib's template is searched with it), else this crop at the chip size of `own`.
    public func policy(own: CropPolicy) -> CropPolicy {
        if name == own.name { return own }
        let size = own.outputSize
        switch self {
        case .margin:
            // FaceNet's 44 px margin at 182 px before the centre 160, scaled to the chip size.
            return .margin(margin: 22, resize: size + 22, size: size)
        case .marginPixels(let n):
            return .margin(margin: Float(n / 2), resize: size, size: size)
        case .align5:
            let k = Float(size) / 112
            return .align5(template: CropPolicy.arcFaceTemplate.map { Point2($0.x * k, $0.y * k) }, size: size)
        case .dlibChip:
            return .dlibChip(size: size, padding: 0.25)
        }
    }
}

public enum PipelineError: Error, CustomStringConvertible {
    case badOption(String)
    public var description: String {
        switch self { case .badOption(let message): return message }
    }
}

/// A ready detector + embedder pair and the settings that identify their vectors in a store.
public struct FacePipeline: Sendable {
    public let configuration: PipelineConfiguration
    public let finder: FaceFinder
    public let embedder: any FaceEmbedder
    public let settings: IndexSettings

    public init(configuration: PipelineConfiguration, loader: ModelLoader) throws {
        self.configuration = configuration
        let detector = try loader.detector(named: configuration.detector)
        let embedderSpec = try ModelLoader.spec(named: configuration.embedderModel, task: .embedder)
        let own = try OnnxEmbedder.catalogCrop(of: embedderSpec)
        let crop = configuration.crop.map { $0.policy(own: own) }
        let normalization = configuration.normalization
        let landmarker = try (crop ?? own).isDlibChip ? loader.dlibLandmarker(detector: configuration.detector) : nil
        let embedder = try loader.embedder(named: configuration.embedderModel, crop: crop, normalization: normalization,
                                          augmentation: configuration.augmentation, landmarker: landmarker)
        self.finder = FaceFinder(detector: detector, options: configuration.detection)
        self.embedder = embedder
        let detectorSpec = try ModelLoader.spec(named: configuration.detector, task: .detector)
        self.settings = IndexSettings(
            detector: detectorSpec.name, detectorSHA256: Self.fingerprint(detectorSpec),
            embedder: embedderSpec.name, embedderSHA256: Self.fingerprint(embedderSpec),
            crop: embedder.crop.name, normalization: embedder.normalization.name,
            dimension: embedder.dimension, maxSide: configuration.detection.maxSide,
            minSide: configuration.detection.minSide, augmentation: configuration.augmentation.rawValue,
            minFaceSize: Int(configuration.detection.minFaceSize))
    }

    /// One hash for a model: its file's sha256, or the hash of all its files' hashes.
    static func fingerprint(_ spec: ModelSpec) -> String {
        spec.files.count == 1 ? spec.files[0].sha256 : SHA256.hex(Array(spec.files.map(\.sha256).joined().utf8))
    }

    /// Every face of `image` with its embedding (the whole image when no face is found).
    public func embedFaces(in image: RGBImage) throws -> [StoredFace] {
        let faces = try finder.faces(in: image)
        let query = try queryFaces(faces, in: image, chosen: Array(faces.indices))
        return zip(faces, query.embeddings).map { StoredFace(face: $0, embedding: $1) }
    }

    /// The faces of a query photo and the embeddings of the ones `choice` picks, and only those: each face costs
    /// an embedder call while detection costs one pass whatever the count, so a search with the largest face of
    /// a 60-face group photo embeds one face, not 60 (embedding all 60 held a worker 2 to 10 s on 2 shared cores). `maxChosen` bounds what
    /// `.all` may ask for (`TooManyFacesError` beyond it, before any face is embedded).
    public func queryFaces(in image: RGBImage, choice: QueryFaceChoice, maxChosen: Int = .max) throws -> QueryFaces {
        let faces = try finder.faces(in: image)
        return try queryFaces(faces, in: image, chosen: choice.choose(from: faces, imageWidth: image.width,
                                                                      imageHeight: image.height), maxChosen: maxChosen)
    }

    /// `faces` (detected in `image`) with the embeddings of those at `chosen` (indices into `faces`).
    public func queryFaces(_ faces: [DetectedFace], in image: RGBImage, chosen: [Int],
                           maxChosen: Int = .max) throws -> QueryFaces {
        guard chosen.count <= maxChosen else { throw TooManyFacesError(faces: chosen.count, limit: maxChosen) }
        let embeddings = try embedder.embed(chosen.map { embedder.chip(for: faces[$0], in: image) })
        return QueryFaces(faces: faces, chosen: chosen, embeddings: embeddings)
    }
}

/// A query photo's faces, the ones chosen to search or compare with, and their embeddings (the others are
/// never embedded).
public struct QueryFaces: Sendable {
    public var faces: [DetectedFace]
    /// Indices into `faces`.
    public var chosen: [Int]
    /// `embeddings[i]` is the embedding of `faces[chosen[i]]`.
    public var embeddings: [Embedding]
}

/// More faces asked for than a caller allows to be embedded for one photo.
public struct TooManyFacesError: Error, CustomStringConvertible {
    public var faces: Int
    public var limit: Int

    public init(faces: Int, limit: Int) { self.faces = faces; self.limit = limit }

    public var description: String {
        "the photo has \(faces) faces; at most \(limit) are embedded for one request"
    }
}
