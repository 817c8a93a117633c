/// Five facial landmarks in image pixels, in the order every supported detector and alignment template uses:
/// the eye on the image's left, the eye on the image's right, the nose tip, the mouth corner on the image's
/// left, the mouth corner on the image's right. (For a person facing the camera, "image left" is their right.)
public struct Landmarks5: Sendable, Hashable, Codable {
    public var points: [Point2]

    public init(_ points: [Point2]) {
        precondition(points.count == 5, "Landmarks5 needs 5 points, got \(points.count)")
        self.points = points
    }

    /// From 10 numbers `x0, y0, x1, y1, ...` as detectors emit them.
    public init(flat values: some Collection<Float>) {
        let v = Array(values)
        self.init((0..<5).map { Point2(v[2 * $0], v[2 * $0 + 1]) })
    }

    public var leftEye: Point2 { points[0] }
    public var rightEye: Point2 { points[1] }
    public var nose: Point2 { points[2] }
    public var mouthLeft: Point2 { points[3] }
    public var mouthRight: Point2 { points[4] }

    public func mapped(_ transform: (Point2) -> Point2) -> Landmarks5 { Landmarks5(points.map(transform)) }
}

/// One face found in an image.
public struct DetectedFace: Sendable, Hashable, Codable {
    /// Where the face is, in the pixels of the image that was passed to the detector.
    public var box: Box
    /// The detector's confidence in [0, 1]; 0 for a whole-image stand-in.
    public var score: Float
    /// The five landmarks, when the detector predicts them.
    public var landmarks: Landmarks5?
    /// True when no face was found and the whole image stands in for one.
    public var isWholeImage: Bool
    /// For a face of a video: its track's time range and its frame (the box is in that frame's pixels); nil in
    /// a photo.
    public var time: FaceTime?

    public init(box: Box, score: Float, landmarks: Landmarks5? = nil, isWholeImage: Bool = false, time: FaceTime? = nil) {
        self.box = box
        self.score = score
        self.landmarks = landmarks
        self.isWholeImage = isWholeImage
        self.time = time
    }

    /// The same face in an image scaled by `s` (for mapping detections on a shrunk copy back to the original).
    public func scaled(by s: Float) -> DetectedFace {
        DetectedFace(box: box.scaled(by: s), score: score,
                     landmarks: landmarks?.mapped { Point2($0.x * s, $0.y * s) }, isWholeImage: isWholeImage, time: time)
    }

    /// A stand-in face covering the whole image, used when no detector threshold finds one.
    public static func wholeImage(width: Int, height: Int) -> DetectedFace {
        DetectedFace(box: Box(x: 0, y: 0, width: Float(width), height: Float(height)), score: 0, isWholeImage: true)
    }
}

/// Finds faces in an image. Implementations are built from a `ModelSpec` and hold their ONNX sessions;
/// `detect` must be safe to call from several threads at once.
public protocol FaceDetector: Sendable {
    /// The catalog name, e.g. "yunet".
    var name: String { get }
    /// The confidence threshold the model's authors recommend.
    var defaultThreshold: Float { get }
    /// Whether detections carry `Landmarks5` (needed for `align5` crops).
    var predictsLandmarks: Bool { get }
    /// Faces in `image` with score ≥ `threshold`, best first, after non-maximum suppression.
    func detect(_ image: RGBImage, threshold: Float) throws -> [DetectedFace]
}
