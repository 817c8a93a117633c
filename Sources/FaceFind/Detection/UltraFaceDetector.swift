import Foundation

/// Ultra-Light-Fast-Generic-Face-Detector-1MB (Linzaer): an SSD whose export decodes the priors in the graph. Per
/// candidate a two-class softmax score and box corners `x0, y0, x1, y1` normalised to the input. No landmarks:
/// embedders that align on 5 points fall back to their margin crop.
///
/// Catalog settings: `outputs` = [scores [1, N, 2], boxes [1, N, 4]]; `fit` `.stretch` (the reference resizes
/// to 320x240 without keeping the aspect ratio).
public final class UltraFaceDetector: FaceDetector {
    public var name: String { core.name }
    public var defaultThreshold: Float { core.settings.defaultThreshold }
    public let predictsLandmarks = false
    let core: DetectorCore

    public init(spec: ModelSpec, session: InferenceSession) throws {
        core = try DetectorCore(spec: spec, session: session) { _ in [2] }
    }

    public func detect(_ image: RGBImage, threshold: Float) throws -> [DetectedFace] {
        guard case let (outputs, place)? = try core.run(image) else { return [] }
        let faces = try Self.decode(scores: outputs[0].data, boxes: outputs[1].data, inputWidth: place.tensorWidth,
                                    inputHeight: place.tensorHeight, threshold: threshold, model: name)
        return core.finish(faces, place)
    }

    /// Candidates with face probability (`scores[2i + 1]`) ≥ `threshold` as faces in tensor pixels, before NMS.
    /// Pure, for tests.
    static func decode(scores: [Float], boxes: [Float], inputWidth: Int, inputHeight: Int, threshold: Float,
                       model: String = "ultraface") throws -> [DetectedFace] {
        guard scores.count % 2 == 0, boxes.count == 2 * scores.count else {
            throw DetectorConfigurationError(model: model, problem: "scores and boxes disagree on the candidates")
        }
        let w = Float(inputWidth), h = Float(inputHeight)
        var faces: [DetectedFace] = []
        for i in 0..<(scores.count / 2) where scores[2 * i + 1] >= threshold {
            faces.append(DetectedFace(box: Box(x0: boxes[4 * i] * w, y0: boxes[4 * i + 1] * h,
                                               x1: boxes[4 * i + 2] * w, y1: boxes[4 * i + 3] * h),
                                      score: scores[2 * i + 1]))
        }
        return faces
    }
}
