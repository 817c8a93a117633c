/// A point in image pixel coordinates (x to the right, y down; the centre of the top-left pixel is (0.5, 0.5)
/// when a box covers whole pixels, as in OpenCV's convention for detector outputs).
public struct Point2: Sendable, Hashable, Codable {
    public var x: Float
    public var y: Float
    public init(_ x: Float, _ y: Float) { self.x = x; self.y = y }
}

/// An axis-aligned box: top-left corner, width and height, in pixels.
public struct Box: Sendable, Hashable, Codable {
    public var x: Float
    public var y: Float
    public var width: Float
    public var height: Float

    public init(x: Float, y: Float, width: Float, height: Float) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }

    /// A box from its corners (x0, y0) top-left and (x1, y1) bottom-right.
    public init(x0: Float, y0: Float, x1: Float, y1: Float) {
        self.init(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    public var maxX: Float { x + width }
    public var maxY: Float { y + height }
    public var area: Float { max(0, width) * max(0, height) }
    public var center: Point2 { Point2(x + width / 2, y + height / 2) }

    /// Intersection over union; 0 when either box is empty.
    public func iou(_ other: Box) -> Float {
        let iw = min(maxX, other.maxX) - max(x, other.x)
        let ih = min(maxY, other.maxY) - max(y, other.y)
        guard iw > 0, ih > 0 else { return 0 }
        let inter = iw * ih
        let union = area + other.area - inter
        return union > 0 ? inter / union : 0
    }

    /// The same box with every coordinate multiplied by `s` (for mapping between image scales).
    public func scaled(by s: Float) -> Box { Box(x: x * s, y: y * s, width: width * s, height: height * s) }

    /// The box grown by `d` pixels on every side.
    public func expanded(by d: Float) -> Box { Box(x: x - d, y: y - d, width: width + 2 * d, height: height + 2 * d) }

    /// The part of the box inside a `width` x `height` image (may be empty).
    public func clipped(width w: Int, height h: Int) -> Box {
        let x0 = min(max(x, 0), Float(w)), y0 = min(max(y, 0), Float(h))
        let x1 = min(max(maxX, 0), Float(w)), y1 = min(max(maxY, 0), Float(h))
        return Box(x0: x0, y0: y0, x1: x1, y1: y1)
    }

    /// The area of the box inside a `width` x `height` image, or the whole area when the size is unknown (0).
    /// Detectors extrapolate the box of a face cut by the image border beyond it, so a bystander half out of
    /// the frame can have a larger box than the subject; what the photo shows of each is this.
    public func visibleArea(width w: Int, height h: Int) -> Float {
        w > 0 && h > 0 ? clipped(width: w, height: h).area : area
    }
}

/// A 2-D affine map `(x, y) -> (a*x + b*y + tx, c*x + d*y + ty)`, the same row layout as OpenCV's 2x3 matrix.
public struct AffineTransform: Sendable, Hashable {
    public var a: Float, b: Float, tx: Float
    public var c: Float, d: Float, ty: Float

    public init(a: Float, b: Float, tx: Float, c: Float, d: Float, ty: Float) {
        self.a = a; self.b = b; self.tx = tx; self.c = c; self.d = d; self.ty = ty
    }

    public static let identity = AffineTransform(a: 1, b: 0, tx: 0, c: 0, d: 1, ty: 0)

    public static func scale(_ sx: Float, _ sy: Float) -> AffineTransform {
        AffineTransform(a: sx, b: 0, tx: 0, c: 0, d: sy, ty: 0)
    }

    public static func translation(_ x: Float, _ y: Float) -> AffineTransform {
        AffineTransform(a: 1, b: 0, tx: x, c: 0, d: 1, ty: y)
    }

    public func apply(_ p: Point2) -> Point2 {
        Point2(a * p.x + b * p.y + tx, c * p.x + d * p.y + ty)
    }

    /// `self` after `other`: `(self.then(other)).apply(p) == other.apply(self.apply(p))`.
    public func then(_ o: AffineTransform) -> AffineTransform {
        AffineTransform(a: o.a * a + o.b * c, b: o.a * b + o.b * d, tx: o.a * tx + o.b * ty + o.tx,
                        c: o.c * a + o.d * c, d: o.c * b + o.d * d, ty: o.c * tx + o.d * ty + o.ty)
    }

    /// The inverse map, or nil when the matrix is singular.
    public var inverse: AffineTransform? {
        let det = a * d - b * c
        guard abs(det) > 1e-12 else { return nil }
        let ia = d / det, ib = -b / det, ic = -c / det, id = a / det
        return AffineTransform(a: ia, b: ib, tx: -(ia * tx + ib * ty), c: ic, d: id, ty: -(ic * tx + id * ty))
    }
}
