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
    /// Smaller photos are enlarged for detection until their longer side reaches this: detectors place
    /// boxes and landmarks more precisely on faces of a hundred pixels or more, and the embedder's crop is
    /// only as good as the box (0 turns enlarging off). The default here is 448; a pipeline takes its embedder's
    /// own (`EmbedderSettings.detectionMinSide`), chosen by cross-validation: MobileFaceNet's aligned crop loses
    /// 2.3 points of lfw-dev top-1 at 250 px against 448, FaceNet-512's box crop nothing beyond noise.
    public var minSide: Int
    /// Faces whose box is narrower than this many pixels in the photo are dropped, except the photo's largest
    /// face: they are too small to recognise reliably, and in crowded photos they cost embedding time and
    /// add distractors (0 keeps every face).
    public var minFaceSize: Float

    public init(threshold: Float? = nil, thresholdFloor: Float = 0.3, thresholdStep: Float = 0.1, maxSide: Int = 960,
                minSide: Int = 448, minFaceSize: Float = 40) {
        self.threshold = threshold
        self.thresholdFloor = thresholdFloor
        self.thresholdStep = thresholdStep
        self.maxSide = maxSide
        self.minSide = minSide
        self.minFaceSize = minFaceSize
    }

    /// The scale at which a `width` x `height` photo is detected on.
    public func detectionScale(width: Int, height: Int) -> Float {
        let longer = Float(max(width, height))
        guard longer > 0 else { return 1 }
        if longer > Float(maxSide) { return Float(maxSide) / longer }
        if minSide > 0, longer < Float(min(minSide, maxSide)) { return Float(min(minSide, maxSide)) / longer }
        return 1
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
        let copy = detectionImage(for: image)
        for threshold in thresholds {
            let faces = try detect(copy, threshold: threshold, in: image)
            if !faces.isEmpty { return faces }
        }
        return [.wholeImage(width: image.width, height: image.height)]
    }

    /// The faces found at the first threshold only, possibly none: for video frames, where the next sampled
    /// frame is another chance and a lowered threshold would fill empty scenery with doubtful faces.
    public func confidentFaces(in image: RGBImage) throws -> [DetectedFace] {
        try detect(detectionImage(for: image), threshold: thresholds[0], in: image)
    }

    /// The faces the detector finds at `threshold` on `copy` (`detectionImage(for: image)`), mapped back to
    /// `image`'s pixels, small ones dropped (`dropSmall`; the largest is always kept, so none only when none found).
    private func detect(_ copy: (image: RGBImage, scale: Float), threshold: Float, in image: RGBImage) throws -> [DetectedFace] {
        let found = try detector.detect(copy.image, threshold: threshold)
        let faces = copy.scale == 1 ? found : found.map { $0.scaled(by: 1 / copy.scale) }
        return Self.dropSmall(faces, below: options.minFaceSize, imageWidth: image.width, imageHeight: image.height)
    }
}

extension FaceFinder {
    /// The copy of `image` that the detector runs on: scaled by `DetectionOptions.detectionScale` (area averaging
    /// when it shrinks, bilinear when it grows), and that scale.
    public func detectionImage(for image: RGBImage) -> (image: RGBImage, scale: Float) {
        let scale = options.detectionScale(width: image.width, height: image.height)
        guard scale != 1 else { return (image, 1) }
        let copy = image.resized(width: max(1, Int((Float(image.width) * scale).rounded())),
                                 height: max(1, Int((Float(image.height) * scale).rounded())),
                                 filter: scale < 1 ? .area : .bilinear)
        return (copy, scale)
    }

    /// `faces` without those narrower than `size`, keeping the largest face (by visible area) in any case.
    static func dropSmall(_ faces: [DetectedFace], below size: Float, imageWidth: Int, imageHeight: Int) -> [DetectedFace] {
        guard size > 0, let largest = QueryFaceChoice.largest.choose(from: faces, imageWidth: imageWidth,
                                                                     imageHeight: imageHeight).first else {
            return faces
        }
        return faces.indices.filter { $0 == largest || faces[$0].box.width >= size }.map { faces[$0] }
    }
}

/// Which face of a query photo to search with.
public enum QueryFaceChoice: String, Sendable, CaseIterable, Codable {
    /// The face with the largest box inside the photo (a portrait's subject is usually the largest face; a
    /// bystander cut by the border counts only what is visible of it).
    case largest
    /// The face closest to the image centre.
    case center
    /// The detector's most confident face.
    case score
    /// Every face, each searched on its own.
    case all
    /// The most prominent face, large and central: the largest area minus twice the squared distance of its
    /// centre from the photo's centre, as facenet's alignment (and LFW practice) chooses the face of a photo.
    case prominent

    /// The indices of the chosen faces in `faces`.
    public func choose(from faces: [DetectedFace], imageWidth: Int, imageHeight: Int) -> [Int] {
        guard !faces.isEmpty else { return [] }
        switch self {
        case .all:
            return Array(faces.indices)
        case .largest:
            func visible(_ i: Int) -> Float { faces[i].box.visibleArea(width: imageWidth, height: imageHeight) }
            return [faces.indices.max { visible($0) < visible($1) }!]
        case .score:
            return [faces.indices.max { faces[$0].score < faces[$1].score }!]
        case .center:
            let cx = Float(imageWidth) / 2, cy = Float(imageHeight) / 2
            func distance(_ i: Int) -> Float {
                let c = faces[i].box.center
                return (c.x - cx) * (c.x - cx) + (c.y - cy) * (c.y - cy)
            }
            return [faces.indices.min { distance($0) < distance($1) }!]
        case .prominent:
            let cx = Float(imageWidth) / 2, cy = Float(imageHeight) / 2
            func prominence(_ i: Int) -> Float {
                let box = faces[i].box, c = box.center
                return box.width * box.height - 2 * ((c.x - cx) * (c.x - cx) + (c.y - cy) * (c.y - cy))
            }
            return [faces.indices.max { prominence($0) < prominence($1) }!]
        }
    }
}
