import Foundation
import Testing
@testable import FaceFind

@Suite("Geometry")
struct GeometryTests {
    @Test func iouOfOverlappingBoxes() {
        // 10x10 at (0,0) and 10x10 at (5,5): intersection 5x5 = 25, union 100 + 100 - 25 = 175.
        let a = Box(x: 0, y: 0, width: 10, height: 10), b = Box(x: 5, y: 5, width: 10, height: 10)
        #expect(abs(a.iou(b) - 25.0 / 175.0) < 1e-6)
        #expect(a.iou(Box(x: 20, y: 20, width: 5, height: 5)) == 0)
        #expect(a.iou(a) == 1)
    }

    @Test func minimumOverlapDividesBySmallerBox() {
        // A 4x4 box inside a 10x10 box: intersection 16 / smaller area 16 = 1; IoU would be 0.16.
        let big = Box(x: 0, y: 0, width: 10, height: 10), small = Box(x: 2, y: 2, width: 4, height: 4)
        #expect(overlap(big, small, mode: .minimum) == 1)
        #expect(abs(overlap(big, small, mode: .union) - 0.16) < 1e-6)
    }

    @Test func clippingAndExpanding() {
        let box = Box(x: -5, y: 10, width: 20, height: 100)
        #expect(box.clipped(width: 50, height: 60) == Box(x: 0, y: 10, width: 15, height: 50))
        #expect(box.expanded(by: 2) == Box(x: -7, y: 8, width: 24, height: 104))
        #expect(box.scaled(by: 0.5) == Box(x: -2.5, y: 5, width: 10, height: 50))
    }

    @Test func affineComposeAndInverse() {
        // Scale by 2 then move by (3, 4): (1, 1) -> (2, 2) -> (5, 6).
        let t = AffineTransform.scale(2, 2).then(.translation(3, 4))
        #expect(t.apply(Point2(1, 1)) == Point2(5, 6))
        let back = t.inverse!.apply(Point2(5, 6))
        #expect(abs(back.x - 1) < 1e-6 && abs(back.y - 1) < 1e-6)
        #expect(AffineTransform(a: 1, b: 2, tx: 0, c: 2, d: 4, ty: 0).inverse == nil)
    }

    @Test func similarityTransformRecoversRotationScaleAndShift() throws {
        // Points rotated by 90° (x, y) -> (-y, x), scaled by 2 and shifted by (10, 20).
        let source = [Point2(0, 0), Point2(1, 0), Point2(0, 1), Point2(2, 3), Point2(-1, 4)]
        let target = source.map { Point2(-2 * $0.y + 10, 2 * $0.x + 20) }
        let t = try #require(similarityTransform(from: source, to: target))
        #expect(abs(t.a - 0) < 1e-5 && abs(t.b + 2) < 1e-5 && abs(t.tx - 10) < 1e-5)
        #expect(abs(t.c - 2) < 1e-5 && abs(t.d - 0) < 1e-5 && abs(t.ty - 20) < 1e-5)
    }

    @Test func similarityTransformIsLeastSquares() throws {
        // Two points at distance 2 mapped onto points at distance 4 around a different centre:
        // scale 2, no rotation; the midpoint (1, 0) must land on the target midpoint (10, 10).
        let t = try #require(similarityTransform(from: [Point2(0, 0), Point2(2, 0)], to: [Point2(8, 10), Point2(12, 10)]))
        let mid = t.apply(Point2(1, 0))
        #expect(abs(mid.x - 10) < 1e-5 && abs(mid.y - 10) < 1e-5)
        #expect(abs(t.a - 2) < 1e-5 && abs(t.c) < 1e-5)
    }
}

@Suite("Non-maximum suppression")
struct NMSTests {
    func face(_ x: Float, _ score: Float, size: Float = 10) -> DetectedFace {
        DetectedFace(box: Box(x: x, y: 0, width: size, height: size), score: score)
    }

    @Test func keepsBestOfOverlappingAndAllSeparate() {
        // Boxes at x = 0 (0.9) and x = 2 (0.8) overlap with IoU 80/120 = 0.667; x = 30 is apart.
        let kept = nonMaximumSuppression([face(2, 0.8), face(30, 0.5), face(0, 0.9)], iouThreshold: 0.5)
        #expect(kept.map(\.score) == [0.9, 0.5])
        // With a threshold above 0.667 both overlapping boxes survive.
        #expect(nonMaximumSuppression([face(2, 0.8), face(0, 0.9)], iouThreshold: 0.7).count == 2)
    }

    @Test func respectsLimitAndEmptyInput() {
        #expect(nonMaximumSuppression([], iouThreshold: 0.3).isEmpty)
        let many = (0..<5).map { face(Float($0) * 20, Float($0) / 10) }
        #expect(nonMaximumSuppression(many, iouThreshold: 0.3, limit: 2).map(\.score) == [0.4, 0.3])
    }
}

@Suite("YuNet output decoding")
struct YuNetDecodingTests {
    @Test func decodesOneCellByHand() {
        // Stride 8, a 2-column grid, cell index 3 = column 1, row 1. cls 0.81, obj 1.0 -> score 0.9.
        // Box: centre ((1 + 0.5) * 8, (1 + 0.25) * 8) = (12, 10); size exp(0) * 8 = 8 x exp(ln 2) * 8 = 16.
        var cls = [Float](repeating: 0, count: 4), obj = cls
        var bbox = [Float](repeating: 0, count: 16), kps = [Float](repeating: 0, count: 40)
        cls[3] = 0.81; obj[3] = 1
        bbox[12] = 0.5; bbox[13] = 0.25; bbox[14] = 0; bbox[15] = log(2)
        kps[30] = 0.5; kps[31] = -0.5  // first landmark: ((0.5 + 1) * 8, (-0.5 + 1) * 8) = (12, 4)
        let faces = YuNetDetector.decode(cls: cls, obj: obj, bbox: bbox, kps: kps, stride: 8, columns: 2, threshold: 0.5)
        #expect(faces.count == 1)
        let f = faces[0]
        #expect(abs(f.score - 0.9) < 1e-6)
        #expect(abs(f.box.x - 8) < 1e-5 && abs(f.box.y - 2) < 1e-5)
        #expect(abs(f.box.width - 8) < 1e-5 && abs(f.box.height - 16) < 1e-4)
        #expect(f.landmarks?.points[0] == Point2(12, 4))
        #expect(f.landmarks?.points[1] == Point2(8, 8))  // zero offsets: the cell's corner (1, 1) * 8
    }

    @Test func scoresAreClampedAndThresholded() {
        // cls 1.5 clamps to 1, obj 0.25 -> sqrt(0.25) = 0.5: kept at 0.5, dropped at 0.51.
        let args = (cls: [Float(1.5)], obj: [Float(0.25)], bbox: [Float](repeating: 0, count: 4),
                    kps: [Float](repeating: 0, count: 10))
        #expect(YuNetDetector.decode(cls: args.cls, obj: args.obj, bbox: args.bbox, kps: args.kps, stride: 16,
                                     columns: 1, threshold: 0.5).count == 1)
        #expect(YuNetDetector.decode(cls: args.cls, obj: args.obj, bbox: args.bbox, kps: args.kps, stride: 16,
                                     columns: 1, threshold: 0.51).isEmpty)
    }
}
