import Foundation

/// YOLO face detectors whose export decodes the grid in the graph and returns one tensor of candidates:
/// YOLOv5-face (deepcam-cn, `[1, N, 16]`: cx, cy, w, h, objectness, 10 landmark values, class score) and
/// YOLOv8-face (derronqi, Ultralytics pose export, `[1, 20, N]`: cx, cy, w, h, score, 5 x (x, y, visibility)).
/// Boxes and landmarks are in input pixels of the letterboxed photo.
///
/// Catalog settings: `outputs` = [the candidates tensor]; `yolo` (layout); `fit` `.center` and `padValue` 114 for
/// the YOLO letterbox.
public final class YOLOFaceDetector: FaceDetector {
    public var name: String { core.name }
    public var defaultThreshold: Float { core.settings.defaultThreshold }
    public let predictsLandmarks: Bool
    let core: DetectorCore
    let layout: YOLOLayout

    public init(spec: ModelSpec, session: InferenceSession) throws {
        core = try DetectorCore(spec: spec, session: session) { _ in [1] }
        self.layout = try DetectorInput.require(core.settings.yolo, "yolo", spec)
        self.predictsLandmarks = layout.landmarkIndex != nil
    }

    public func detect(_ image: RGBImage, threshold: Float) throws -> [DetectedFace] {
        guard case let (outputs, place)? = try core.run(image) else { return [] }
        let faces = try Self.decode(outputs[0], layout: layout, threshold: threshold, model: name)
        return core.finish(faces, place)
    }

    /// Candidates with score ≥ `threshold` as faces in tensor pixels, before NMS. Pure, for tests.
    static func decode(_ output: Tensor, layout: YOLOLayout, threshold: Float,
                       model: String = "yolo") throws -> [DetectedFace] {
        let dims = Array(output.shape.suffix(2))
        guard dims.count == 2, output.shape.dropLast(2).allSatisfy({ $0 == 1 }) else {
            throw DetectorConfigurationError(model: model, problem: "output shape \(output.shape) is not [1, a, b]")
        }
        let (candidates, values) = layout.valuesFirst ? (dims[1], dims[0]) : (dims[0], dims[1])
        let needed = max(layout.scoreIndices.max() ?? 0, 3,
                         layout.landmarkIndex.map { $0 + 4 * layout.landmarkStride + 1 } ?? 0)
        guard values > needed else {
            throw DetectorConfigurationError(model: model, problem: "output has \(values) values per candidate, "
                                             + "the layout reads up to index \(needed)")
        }
        let data = output.data
        func value(_ c: Int, _ k: Int) -> Float { layout.valuesFirst ? data[k * candidates + c] : data[c * values + k] }
        var faces: [DetectedFace] = []
        for c in 0..<candidates {
            var score: Float = 1
            for k in layout.scoreIndices { score *= value(c, k) }
            guard score >= threshold else { continue }
            let cx = value(c, 0), cy = value(c, 1), w = value(c, 2), h = value(c, 3)
            let landmarks = layout.landmarkIndex.map { first in
                Landmarks5((0..<5).map { k in
                    Point2(value(c, first + k * layout.landmarkStride), value(c, first + k * layout.landmarkStride + 1))
                })
            }
            faces.append(DetectedFace(box: Box(x: cx - w / 2, y: cy - h / 2, width: w, height: h), score: score,
                                      landmarks: landmarks))
        }
        return faces
    }
}
