/// Builds detectors and embedders from catalog entries: the one place that maps a model family to the
/// code that runs it.
public struct ModelLoader: Sendable {
    public let repository: ModelRepository
    public let runtime: OnnxRuntime
    public let sessionOptions: SessionOptions

    public init(repository: ModelRepository = ModelRepository(), runtime: OnnxRuntime,
                sessionOptions: SessionOptions = SessionOptions()) {
        self.repository = repository
        self.runtime = runtime
        self.sessionOptions = sessionOptions
    }

    public static func spec(named name: String, task: ModelSpec.Task) throws -> ModelSpec {
        guard let spec = ModelCatalog.spec(named: name) else {
            throw ModelError.unknownModel(name, known: ModelCatalog.specs(task: task).map(\.name))
        }
        guard spec.task == task else { throw ModelError.wrongTask(model: name, expected: task) }
        return spec
    }

    func session(_ spec: ModelSpec, role: String = "model") throws -> InferenceSession {
        try InferenceSession(modelPath: try repository.installedPath(spec, role: role), options: sessionOptions,
                             runtime: runtime)
    }

    public func detector(named name: String) throws -> any FaceDetector {
        let spec = try Self.spec(named: name, task: .detector)
        guard let family = spec.detector?.family else {
            throw ModelError.unknownModel("\(name) (no detector settings)", known: [])
        }
        switch family {
        case .yunet:
            return YuNetDetector(spec: spec, session: try session(spec))
        case .mtcnn:
            return MTCNNDetector(pnet: try session(spec, role: "pnet"), rnet: try session(spec, role: "rnet"),
                                 onet: try session(spec, role: "onet"))
        case .scrfd:
            return try SCRFDDetector(spec: spec, session: try session(spec))
        case .retinaface:
            return try RetinaFaceDetector(spec: spec, session: try session(spec))
        case .yolo:
            return try YOLOFaceDetector(spec: spec, session: try session(spec))
        case .blazeface:
            return try BlazeFaceDetector(spec: spec, session: try session(spec))
        case .ultraface:
            return try UltraFaceDetector(spec: spec, session: try session(spec))
        }
    }

    public func embedder(named name: String, crop: CropPolicy? = nil, normalization: PixelNormalization? = nil,
                         augmentation: Augmentation = .none, landmarker: DlibLandmarker? = nil) throws -> any FaceEmbedder {
        let spec = try Self.spec(named: name, task: .embedder)
        return try OnnxEmbedder(spec: spec, session: try session(spec), crop: crop, normalization: normalization,
                                augmentation: augmentation, landmarker: landmarker)
    }

    /// dlib's landmarking for faces found by `detector`: the shape predictor file of the dlib entry, and the
    /// detector's box calibration.
    public func dlibLandmarker(detector: String) throws -> DlibLandmarker {
        let detectorSpec = try Self.spec(named: detector, task: .detector)
        guard let calibration = detectorSpec.detector?.dlibBox else {
            let calibrated = ModelCatalog.specs(task: .detector).filter { $0.detector?.dlibBox != nil }.map(\.name)
            throw PipelineError.badOption("the crop dlib-chip needs a detector whose boxes are calibrated to dlib's "
                + "(\(calibrated.joined(separator: ", "))), not \(detector)")
        }
        let path = try repository.installedPath(ModelCatalog.dlibEmbedder, role: "landmarks5")
        return DlibLandmarker(predictor: try DlibShapePredictor(contentsOf: path), calibration: calibration)
    }
}
