import Foundation

/// Where a photo lands in a detector's input tensor: the mapping between photo pixels and tensor pixels.
public struct InputPlacement: Sendable, Hashable {
    public var tensorWidth: Int
    public var tensorHeight: Int
    /// Size of the scaled photo inside the tensor.
    public var contentWidth: Int
    public var contentHeight: Int
    /// Top-left corner of the photo in the tensor.
    public var offsetX: Int
    public var offsetY: Int
    /// Tensor pixels per photo pixel (the actual ratio after rounding the scaled size).
    public var scaleX: Float
    public var scaleY: Float

    public init(tensorWidth: Int, tensorHeight: Int, contentWidth: Int, contentHeight: Int, offsetX: Int,
                offsetY: Int, scaleX: Float, scaleY: Float) {
        self.tensorWidth = tensorWidth; self.tensorHeight = tensorHeight
        self.contentWidth = contentWidth; self.contentHeight = contentHeight
        self.offsetX = offsetX; self.offsetY = offsetY; self.scaleX = scaleX; self.scaleY = scaleY
    }

    /// A `imageWidth` x `imageHeight` photo in a fixed `tensorWidth` x `tensorHeight` input. With `.center`, an odd
    /// amount of padding puts the extra pixel right or bottom (as the YOLO letterbox does).
    public static func fixed(imageWidth: Int, imageHeight: Int, tensorWidth: Int, tensorHeight: Int,
                             fit: ImageFit) -> InputPlacement {
        let cw: Int, ch: Int
        switch fit {
        case .stretch:
            (cw, ch) = (tensorWidth, tensorHeight)
        case .topLeft, .center:
            let s = min(Double(tensorWidth) / Double(imageWidth), Double(tensorHeight) / Double(imageHeight))
            cw = max(1, min(tensorWidth, Int((Double(imageWidth) * s).rounded())))
            ch = max(1, min(tensorHeight, Int((Double(imageHeight) * s).rounded())))
        }
        let (ox, oy) = fit == .center ? ((tensorWidth - cw) / 2, (tensorHeight - ch) / 2) : (0, 0)
        return InputPlacement(tensorWidth: tensorWidth, tensorHeight: tensorHeight, contentWidth: cw,
                              contentHeight: ch, offsetX: ox, offsetY: oy,
                              scaleX: Float(cw) / Float(imageWidth), scaleY: Float(ch) / Float(imageHeight))
    }

    /// A photo in a dynamic input: unscaled (or shrunk so that its longer side is at most `maxSide`), padded right
    /// and bottom to the next multiple of `multiple`.
    public static func dynamic(imageWidth: Int, imageHeight: Int, multiple: Int, maxSide: Int? = nil) -> InputPlacement {
        let m = max(multiple, 1)
        var (cw, ch) = (imageWidth, imageHeight)
        if let maxSide, max(imageWidth, imageHeight) > maxSide {
            let s = Double(maxSide) / Double(max(imageWidth, imageHeight))
            cw = max(1, min(maxSide, Int((Double(imageWidth) * s).rounded())))
            ch = max(1, min(maxSide, Int((Double(imageHeight) * s).rounded())))
        }
        return InputPlacement(tensorWidth: (cw + m - 1) / m * m, tensorHeight: (ch + m - 1) / m * m,
                              contentWidth: cw, contentHeight: ch, offsetX: 0, offsetY: 0,
                              scaleX: Float(cw) / Float(imageWidth), scaleY: Float(ch) / Float(imageHeight))
    }

    /// A tensor point in photo pixels.
    public func toImage(_ p: Point2) -> Point2 {
        Point2((p.x - Float(offsetX)) / scaleX, (p.y - Float(offsetY)) / scaleY)
    }

    public func toImage(_ box: Box) -> Box {
        let a = toImage(Point2(box.x, box.y)), b = toImage(Point2(box.maxX, box.maxY))
        return Box(x0: a.x, y0: a.y, x1: b.x, y1: b.y)
    }

    public func toImage(_ face: DetectedFace) -> DetectedFace {
        DetectedFace(box: toImage(face.box), score: face.score, landmarks: face.landmarks?.mapped { self.toImage($0) },
                     isWholeImage: face.isWholeImage)
    }
}

/// The input side shared by the detector families: photo to tensor as `InputSpec` and `DetectorSettings` say, and
/// the common ending (back to photo pixels, then non-maximum suppression).
public enum DetectorInput {
    /// Where `image` goes in the model's input: fixed inputs per `settings.fit`, dynamic ones shrunk to
    /// `settings.maxInputSide` if larger, then padded to `input.sizeMultiple`.
    public static func placement(for image: RGBImage, input: InputSpec, settings: DetectorSettings) -> InputPlacement {
        if let w = input.width, let h = input.height {
            return .fixed(imageWidth: image.width, imageHeight: image.height, tensorWidth: w, tensorHeight: h,
                          fit: settings.fit ?? .topLeft)
        }
        return .dynamic(imageWidth: image.width, imageHeight: image.height, multiple: input.sizeMultiple,
                        maxSide: settings.maxInputSide)
    }

    /// The input tensor (batch of one) for `image`, and where the photo is in it. The photo is resized with
    /// area averaging when it shrinks (bilinear when it grows), padding pixels take `settings.padValue`, and
    /// `settings.channelMeans`, when given, replace the normalisation's mean channel by channel.
    public static func tensor(for image: RGBImage, input: InputSpec,
                              settings: DetectorSettings) -> (tensor: Tensor, placement: InputPlacement) {
        let place = placement(for: image, input: input, settings: settings)
        var canvas = image
        if place.contentWidth != image.width || place.contentHeight != image.height {
            canvas = image.resized(width: place.contentWidth, height: place.contentHeight, filter: .area)
        }
        if place.contentWidth != place.tensorWidth || place.contentHeight != place.tensorHeight {
            let v = UInt8(clamping: Int((settings.padValue ?? 0).rounded()))
            canvas = canvas.cropped(x: -place.offsetX, y: -place.offsetY, width: place.tensorWidth,
                                    height: place.tensorHeight, fill: RGB(v, v, v))
        }
        let (w, h) = (place.tensorWidth, place.tensorHeight)
        var normalization = input.normalization
        var means: [Float]? = nil
        if let m = settings.channelMeans, m.count == 3 {
            let std: Float
            if case .affine(_, let s) = input.normalization { std = s } else { std = 1 }
            normalization = .affine(mean: 0, std: std)
            means = m.map { $0 / std }
        }
        var data = [Float](repeating: 0, count: 3 * w * h)
        ImageTensor.write(canvas, into: &data, index: 0, width: w, height: h, layout: input.layout,
                          colorOrder: input.colorOrder, normalization: normalization)
        if let means {
            data.withUnsafeMutableBufferPointer { out in
                switch input.layout {
                case .nchw:
                    for c in 0..<3 { for i in (c * w * h)..<((c + 1) * w * h) { out[i] -= means[c] } }
                case .nhwc:
                    for i in stride(from: 0, to: out.count, by: 3) {
                        out[i] -= means[0]; out[i + 1] -= means[1]; out[i + 2] -= means[2]
                    }
                }
            }
        }
        let shape = input.layout == .nchw ? [1, 3, h, w] : [1, h, w, 3]
        return (Tensor(shape: shape, data: data), place)
    }

    /// Faces decoded in tensor pixels, mapped to photo pixels, after non-maximum suppression, best first.
    public static func finish(_ faces: [DetectedFace], placement: InputPlacement, nmsThreshold: Float) -> [DetectedFace] {
        nonMaximumSuppression(faces.map(placement.toImage), iouThreshold: nmsThreshold, limit: 750)
    }

    /// The output names a family needs from `settings.outputs`, checked against the session, so that a wrong
    /// catalog entry fails when the detector is built, naming the model.
    static func outputNames(_ spec: ModelSpec, session: InferenceSession, count: [Int]) throws -> [String] {
        guard let names = spec.detector?.outputs, count.contains(names.count) else {
            throw DetectorConfigurationError(
                model: spec.name, problem: "needs \(count.map(String.init).joined(separator: " or ")) output names in "
                    + "DetectorSettings.outputs, has \(spec.detector?.outputs?.count ?? 0)")
        }
        for name in names { _ = try session.output(named: name) }
        return names
    }

    /// A required decoder setting, or an error naming the model and the field.
    static func require<T>(_ value: T?, _ field: String, _ spec: ModelSpec) throws -> T {
        guard let value else {
            throw DetectorConfigurationError(model: spec.name, problem: "DetectorSettings.\(field) is required")
        }
        return value
    }
}
