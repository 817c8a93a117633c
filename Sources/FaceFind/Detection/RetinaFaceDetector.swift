import Foundation

/// RetinaFace (Deng et al. 2019) as trained by biubug6/Pytorch_Retinaface: SSD-style prior boxes at several
/// strides, box offsets coded with variances, a two-class softmax score and 5 landmarks coded against the prior.
///
/// Catalog settings: `outputs` = [box offsets [1, P, 4], class scores [1, P, 2] (softmaxed), landmarks [1, P, 10]];
/// `strides`, `priorMinSizes` (one list per stride), `variances`; `channelMeans` for the BGR mean subtraction.
public final class RetinaFaceDetector: FaceDetector {
    public var name: String { core.name }
    public var defaultThreshold: Float { core.settings.defaultThreshold }
    public let predictsLandmarks: Bool
    let core: DetectorCore
    let strides: [Int]
    let minSizes: [[Float]]
    let variances: [Float]

    public init(spec: ModelSpec, session: InferenceSession) throws {
        let core = try DetectorCore(spec: spec, session: session) { _ in [2, 3] }
        let settings = core.settings
        self.core = core
        self.strides = try DetectorInput.require(settings.strides, "strides", spec)
        self.minSizes = try DetectorInput.require(settings.priorMinSizes, "priorMinSizes", spec)
        self.variances = try DetectorInput.require(settings.variances, "variances", spec)
        guard minSizes.count == strides.count, variances.count == 2 else {
            throw DetectorConfigurationError(model: spec.name,
                                             problem: "needs one priorMinSizes list per stride and 2 variances")
        }
        self.predictsLandmarks = core.outputNames.count == 3
    }

    public func detect(_ image: RGBImage, threshold: Float) throws -> [DetectedFace] {
        guard case let (outputs, place)? = try core.run(image) else { return [] }
        let priors = AnchorDecoding.retinaFacePriors(inputWidth: place.tensorWidth, inputHeight: place.tensorHeight,
                                                     strides: strides, minSizes: minSizes)
        let faces = try Self.decode(loc: outputs[0].data, conf: outputs[1].data,
                                    landmarks: predictsLandmarks ? outputs[2].data : nil, priors: priors,
                                    variances: variances, inputWidth: place.tensorWidth,
                                    inputHeight: place.tensorHeight, threshold: threshold, model: name)
        return core.finish(faces, place)
    }

    /// Faces in tensor pixels with face probability (`conf[2i + 1]`) ≥ `threshold`, before NMS. Pure, for tests.
    static func decode(loc: [Float], conf: [Float], landmarks: [Float]?, priors: [AnchorDecoding.Prior],
                       variances: [Float], inputWidth: Int, inputHeight: Int, threshold: Float,
                       model: String = "retinaface") throws -> [DetectedFace] {
        guard loc.count == 4 * priors.count, conf.count == 2 * priors.count,
              landmarks.map({ $0.count == 10 * priors.count }) ?? true else {
            throw DetectorConfigurationError(
                model: model, problem: "outputs have \(conf.count / 2) candidates, the priors \(priors.count)")
        }
        let w = Float(inputWidth), h = Float(inputHeight)
        var faces: [DetectedFace] = []
        for (i, prior) in priors.enumerated() where conf[2 * i + 1] >= threshold {
            let b = AnchorDecoding.priorBox(loc[(4 * i)..<(4 * i + 4)], prior: prior, variances: variances)
            let points = landmarks.map {
                Landmarks5(AnchorDecoding.priorPoints($0[(10 * i)..<(10 * i + 10)], prior: prior, variances: variances)
                    .map { Point2($0.x * w, $0.y * h) })
            }
            faces.append(DetectedFace(box: Box(x: b.x * w, y: b.y * h, width: b.width * w, height: b.height * h),
                                      score: conf[2 * i + 1], landmarks: points))
        }
        return faces
    }
}
