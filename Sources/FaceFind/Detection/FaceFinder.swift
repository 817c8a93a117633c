/// How faces are looked for in a photo, around any `FaceDetector`.
public struct DetectionOptions: Sendable, Hashable, Codable {
    /// Confidence threshold; nil uses the detector's default.
    public var threshold: Float?
    /// When nothing is found, the threshold is lowered by `thresholdStep` down to this floor before the whole
    /// image stands in for a face (the founding report's "adaptively decrease the confidence level").
    public var thresholdFloor: Float
    public var thresholdStep: Float
    /// Detection runs on a copy whose longer side is at most this many pixels; boxes and landmarks are mapped
    /// back and faces are cut from the original. At full resolution YuNet misplaces large faces in
    /// multi-megapixel photos.
    public var maxSide: Int

    public init(threshold: Float? = nil, thresholdFloor: Float = 0.3, thresholdStep: Float = 0.1, maxSide: Int = 960) {
        self.threshold = threshold
        self.thresholdFloor = thresholdFloor
        self.thresholdStep = thresholdStep
        self.maxSide = maxSide
    }
}

/// A detector plus the policy around it: downscaled detection, adaptive thresholds, whole-image fallback.
public struct FaceFinder: Sendable {
    public let detector: any FaceDetector
    public let options: DetectionOptions

    public init(detector: any FaceDetector, options: DetectionOptions = DetectionOptions()) {
        self.detector = detector
        self.options = options
    }

    /// The thresholds tried in order: the configured one, then lower steps down to the floor.
    public var thresholds: [Float] {
        let first = options.threshold ?? detector.defaultThreshold
        var list = [first]
        var t = first - options.thresholdStep
        while t >= options.thresholdFloor - 1e-4 {
            list.append(t)
            t -= options.thresholdStep
        }
        return list
    }

    /// The faces in `image` in its own pixel coordinates, best first; never empty: when no threshold finds a
    /// face, a whole-image stand-in is returned.
    public func faces(in image: RGBImage) throws -> [DetectedFace] {
        let (small, scale) = image.resized(maxSide: options.maxSide, filter: .area)
        for threshold in thresholds {
            let found = try detector.detect(small, threshold: threshold)
            if !found.isEmpty { return scale == 1 ? found : found.map { $0.scaled(by: 1 / scale) } }
        }
        return [.wholeImage(width: image.width, height: image.height)]
    }
}

/// Which face of a query photo to search with.
public enum QueryFaceChoice: String, Sendable, CaseIterable, Codable {
    /// The face with the largest box (a portrait's subject is usually the largest face).
    case largest
    /// The face closest to the image centre.
    case center
    /// The detector's most confident face.
    case score
    /// Every face, each searched on its own.
    case all

    /// The indices of the chosen faces in `faces`.
    public func choose(from faces: [DetectedFace], imageWidth: Int, imageHeight: Int) -> [Int] {
        guard !faces.isEmpty else { return [] }
        switch self {
        case .all:
            return Array(faces.indices)
        case .largest:
            return [faces.indices.max { faces[$0].box.area < faces[$1].box.area }!]
        case .score:
            return [faces.indices.max { faces[$0].score < faces[$1].score }!]
        case .center:
            let cx = Float(imageWidth) / 2, cy = Float(imageHeight) / 2
            func distance(_ i: Int) -> Float {
                let c = faces[i].box.center
                return (c.x - cx) * (c.x - cx) + (c.y - cy) * (c.y - cy)
            }
            return [faces.indices.min { distance($0) < distance($1) }!]
        }
    }
}
