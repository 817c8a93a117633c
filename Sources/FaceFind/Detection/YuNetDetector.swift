import Foundation

/// YuNet (libfacedetection / OpenCV Zoo): an anchor-free detector with heads at strides 8, 16 and 32. Each
/// grid cell predicts class and objectness scores (face score = sqrt(cls * obj)), a box as centre offset
/// plus log-size, and 5 landmarks as offsets, all in units of the stride.
public final class YuNetDetector: FaceDetector {
    public let name: String
    public let defaultThreshold: Float
    public let predictsLandmarks = true
    let session: InferenceSession
    let input: InputSpec
    let nmsThreshold: Float
    static let strides = [8, 16, 32]

    public init(spec: ModelSpec, session: InferenceSession) {
        self.name = spec.name
        self.session = session
        self.input = spec.input
        self.defaultThreshold = spec.detector?.defaultThreshold ?? 0.6
        self.nmsThreshold = spec.detector?.nmsThreshold ?? 0.3
    }

    public func detect(_ image: RGBImage, threshold: Float) throws -> [DetectedFace] {
        guard image.width > 0, image.height > 0 else { return [] }
        // A fixed-size model gets the image shrunk to fit (aspect kept, padded right/bottom); a dynamic one
        // gets it padded to the next multiple of 32, as OpenCV's FaceDetectorYN does.
        var scaled = image
        var scale: Float = 1
        let tensorWidth: Int, tensorHeight: Int
        if let w = input.width, let h = input.height {
            scale = min(Float(w) / Float(image.width), Float(h) / Float(image.height))
            let sw = max(1, min(w, Int((Float(image.width) * scale).rounded())))
            let sh = max(1, min(h, Int((Float(image.height) * scale).rounded())))
            scaled = image.resized(width: sw, height: sh)
            (tensorWidth, tensorHeight) = (w, h)
        } else {
            let m = max(input.sizeMultiple, 32)
            (tensorWidth, tensorHeight) = ((image.width + m - 1) / m * m, (image.height + m - 1) / m * m)
        }
        var data = [Float](repeating: ImageTensor.paddingValue(input.normalization),
                           count: 3 * tensorWidth * tensorHeight)
        ImageTensor.write(scaled, into: &data, index: 0, width: tensorWidth, height: tensorHeight,
                          layout: input.layout, colorOrder: input.colorOrder, normalization: input.normalization)
        let names = Self.strides.flatMap { s in ["cls_\(s)", "obj_\(s)", "bbox_\(s)", "kps_\(s)"] }
        let outputs = try session.run(Tensor(shape: [1, 3, tensorHeight, tensorWidth], data: data),
                                      inputName: input.name, outputNames: names)
        var faces: [DetectedFace] = []
        for (i, stride) in Self.strides.enumerated() {
            faces += Self.decode(cls: outputs[4 * i].data, obj: outputs[4 * i + 1].data,
                                 bbox: outputs[4 * i + 2].data, kps: outputs[4 * i + 3].data,
                                 stride: stride, columns: tensorWidth / stride, threshold: threshold)
        }
        let kept = nonMaximumSuppression(faces, iouThreshold: nmsThreshold, limit: 5000)
        return scale == 1 ? kept : kept.map { $0.scaled(by: 1 / scale) }
    }

    /// Decodes one stride's head outputs into faces scoring ≥ `threshold` (before NMS). Pure, for tests.
    static func decode(cls: [Float], obj: [Float], bbox: [Float], kps: [Float], stride: Int, columns: Int,
                       threshold: Float) -> [DetectedFace] {
        var faces: [DetectedFace] = []
        let s = Float(stride)
        for index in 0..<cls.count {
            let score = (min(max(cls[index], 0), 1) * min(max(obj[index], 0), 1)).squareRoot()
            guard score >= threshold else { continue }
            let column = Float(index % columns), row = Float(index / columns)
            let cx = (column + bbox[4 * index]) * s
            let cy = (row + bbox[4 * index + 1]) * s
            let w = exp(bbox[4 * index + 2]) * s
            let h = exp(bbox[4 * index + 3]) * s
            let points = (0..<5).map { k in
                Point2((kps[10 * index + 2 * k] + column) * s, (kps[10 * index + 2 * k + 1] + row) * s)
            }
            faces.append(DetectedFace(box: Box(x: cx - w / 2, y: cy - h / 2, width: w, height: h), score: score,
                                      landmarks: Landmarks5(points)))
        }
        return faces
    }
}
