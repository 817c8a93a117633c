import Foundation

/// dlib's face chip (`get_face_chip_details` + `extract_image_chip`, as face_recognition and dlib's face
/// recognition example call them): the five parts of dlib's 5-point shape predictor mapped by a least-squares
/// similarity transform onto dlib's mean face, with `padding` of the face's size added on every side.
public enum DlibFaceChip {
    /// dlib's mean positions of the 5-point model's parts (right eye outer and inner corner, left eye outer and
    /// inner corner, nose base; "right"/"left" of the person) in a unit square around the face.
    static let meanFace: [(Double, Double)] = [
        (0.8595674595992, 0.2134981538014), (0.6460604764104, 0.2289674387677), (0.1205750620789, 0.2137274526848),
        (0.3340850613712, 0.2290642403242), (0.4901123135679, 0.6277975316475),
    ]

    /// The transform from image pixels to chip pixels for `parts` (dlib's five, in image pixels). dlib fits the
    /// similarity from chip to image, keeps its rotation and scale as a rectangle of `size * scale` pixels centred
    /// on the chip centre's image, and samples chip pixel 0 at the rectangle's rotated left edge and pixel
    /// `size - 1` at its right edge, so that its chip is `size / (size - 1)` larger than the fit itself.
    public static func transform(parts: [Point2], size: Int = 150, padding: Double = 0.25) -> AffineTransform? {
        guard parts.count == 5, size > 1 else { return nil }
        let side = Double(size)
        let chipPoints = meanFace.map {
            (x: (padding + $0.0) / (2 * padding + 1) * side, y: (padding + $0.1) / (2 * padding + 1) * side)
        }
        // Least squares similarity chip → image.
        guard let fit = similarityParameters(from: chipPoints, to: parts.map { (Double($0.x), Double($0.y)) }) else {
            return nil
        }
        let (a, b) = (fit.a, fit.b)
        let scale = (a * a + b * b).squareRoot(), angle = atan2(b, a)
        // The image of the chip's centre, and the rotated corners of the extraction rectangle about it.
        let cx = a * side / 2 - b * side / 2 + fit.tx
        let cy = b * side / 2 + a * side / 2 + fit.ty
        let half = side * scale / 2, (c, s) = (cos(angle), sin(angle))
        func corner(_ dx: Double, _ dy: Double) -> (Double, Double) { (cx + c * dx - s * dy, cy + s * dx + c * dy) }
        let topLeft = corner(-half, -half), topRight = corner(half, -half), bottomLeft = corner(-half, half)
        // Chip → image: origin at the top-left corner, axes to the other two corners over size - 1 pixels.
        let ux = ((topRight.0 - topLeft.0) / (side - 1), (topRight.1 - topLeft.1) / (side - 1))
        let vy = ((bottomLeft.0 - topLeft.0) / (side - 1), (bottomLeft.1 - topLeft.1) / (side - 1))
        let det = ux.0 * vy.1 - vy.0 * ux.1
        guard abs(det) > 1e-12 else { return nil }
        // Its inverse, image → chip.
        let ia = vy.1 / det, ib = -vy.0 / det, ic = -ux.1 / det, id = ux.0 / det
        return AffineTransform(a: Float(ia), b: Float(ib), tx: Float(-(ia * topLeft.0 + ib * topLeft.1)),
                               c: Float(ic), d: Float(id), ty: Float(-(ic * topLeft.0 + id * topLeft.1)))
    }

    /// The chip itself, bilinear, black outside the photo.
    public static func chip(_ image: RGBImage, parts: [Point2], size: Int = 150, padding: Double = 0.25) -> RGBImage? {
        transform(parts: parts, size: size, padding: padding).map { image.warpedAffine($0, width: size, height: size) }
    }
}

/// dlib's landmarking for any detector: the detector's box mapped to dlib's box convention, then dlib's 5-point
/// shape predictor.
public struct DlibLandmarker: Sendable {
    public let predictor: DlibShapePredictor
    public let calibration: DlibBoxCalibration

    public init(predictor: DlibShapePredictor, calibration: DlibBoxCalibration) {
        self.predictor = predictor
        self.calibration = calibration
    }

    /// dlib's five parts of `face`, nil for a whole-image stand-in.
    public func parts(of face: DetectedFace, in image: RGBImage) -> [Point2]? {
        guard !face.isWholeImage else { return nil }
        let rect = calibration.rectangle(for: face.box)
        // Only the box and a margin around it are sampled (features stay within about a box of the shape):
        // the grey copy is of that region, so a face in a 24-megapixel photo costs what one in a thumbnail does.
        let margin = (rect.right - rect.left + 1)
        let x0 = max(0, rect.left - margin), y0 = max(0, rect.top - margin)
        let x1 = min(image.width, rect.right + 1 + margin), y1 = min(image.height, rect.bottom + 1 + margin)
        guard x0 < x1, y0 < y1 else { return nil }
        let region = GreyImage(image.cropped(x: x0, y: y0, width: x1 - x0, height: y1 - y0))
        let local = DlibShapePredictor.Rectangle(left: rect.left - x0, top: rect.top - y0, right: rect.right - x0,
                                                 bottom: rect.bottom - y0)
        return predictor.landmarks(in: region, rect: local).map { Point2($0.x + Float(x0), $0.y + Float(y0)) }
    }
}
