import Foundation

/// SCRFD (insightface, Guo et al. 2021): heads at several strides, each location with `anchorsPerLocation`
/// anchor points at the cell's top-left corner. Per anchor: a face score (already a probability), a box as
/// distances from the point to its left, top, right and bottom edges, and optionally 5 landmarks as offsets,
/// all in strides. Decoding follows insightface's `scrfd.py`.
///
/// Catalog settings: `outputs` = the score outputs of every stride, then the box outputs, then (for `kps` models)
/// the landmark outputs, each group in `strides` order; `strides`; `anchorsPerLocation`.
public final class SCRFDDetector: FaceDetector {
    public var name: String { core.name }
    public var defaultThreshold: Float { core.settings.defaultThreshold }
    public let predictsLandmarks: Bool
    let core: DetectorCore
    let strides: [Int]
    let anchorsPerLocation: Int

    public init(spec: ModelSpec, session: InferenceSession) throws {
        let core = try DetectorCore(spec: spec, session: session) { settings in
            let n = try DetectorInput.require(settings.strides, "strides", spec).count
            return [2 * n, 3 * n]
        }
        self.core = core
        self.strides = try DetectorInput.require(core.settings.strides, "strides", spec)
        self.anchorsPerLocation = core.settings.anchorsPerLocation ?? 1
        self.predictsLandmarks = core.outputNames.count == 3 * strides.count
    }

    public func detect(_ image: RGBImage, threshold: Float) throws -> [DetectedFace] {
        guard case let (outputs, place)? = try core.run(image) else { return [] }
        let n = strides.count
        var faces: [DetectedFace] = []
        for (i, stride) in strides.enumerated() {
            faces += Self.decode(scores: outputs[i].data, boxes: outputs[n + i].data,
                                 keypoints: predictsLandmarks ? outputs[2 * n + i].data : nil, stride: stride,
                                 columns: place.tensorWidth / stride, anchorsPerLocation: anchorsPerLocation,
                                 threshold: threshold)
        }
        return core.finish(faces, place)
    }

    /// One stride's outputs as faces in tensor pixels, score ≥ `threshold`, before NMS. Anchor i sits at
    /// location i / anchorsPerLocation of a map `columns` wide. Pure, for tests.
    static func decode(scores: [Float], boxes: [Float], keypoints: [Float]?, stride: Int, columns: Int,
                       anchorsPerLocation: Int, threshold: Float) -> [DetectedFace] {
        var faces: [DetectedFace] = []
        let s = Float(stride)
        for i in scores.indices where scores[i] >= threshold {
            let location = i / anchorsPerLocation
            let point = Point2(Float(location % columns * stride), Float(location / columns * stride))
            let box = AnchorDecoding.distanceBox(from: point, distances: boxes[(4 * i)..<(4 * i + 4)], stride: s)
            let landmarks = keypoints.map {
                Landmarks5(AnchorDecoding.offsetPoints(from: point, offsets: $0[(10 * i)..<(10 * i + 10)], stride: s))
            }
            faces.append(DetectedFace(box: box, score: scores[i], landmarks: landmarks))
        }
        return faces
    }
}
