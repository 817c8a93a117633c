/// A face cut out of its photo exactly as an embedder was trained to see it: a square 8-bit RGB image of the
/// crop policy's size. Pixel normalisation happens when the chip is written into the model's input tensor.
public struct FaceChip: Sendable, Equatable {
    public var image: RGBImage

    public init(image: RGBImage) { self.image = image }

    /// Cuts `face` out of `image` with `policy`.
    public init(face: DetectedFace, in image: RGBImage, policy: CropPolicy) {
        switch policy {
        case .margin(let margin, let resize, let size):
            self.image = Self.marginCrop(face.box, in: image, margin: margin, resize: resize, size: size)
        case .align5(let template, let size):
            if let landmarks = face.landmarks, !face.isWholeImage,
               let transform = similarityTransform(from: landmarks.points, to: template) {
                self.image = image.warpedAffine(transform, width: size, height: size)
            } else {
                self.image = Self.squareCrop(face.box, in: image, size: size)
            }
        case .dlibChip(let size, _):
            // Without a shape predictor (`DlibLandmarker` gives the parts): the box, as align5 without landmarks.
            self.image = Self.squareCrop(face.box, in: image, size: size)
        }
    }

    /// Landmarks onto dlib's chip: `DlibFaceChip` with `parts` from dlib's shape predictor.
    public init(dlibParts parts: [Point2], in image: RGBImage, size: Int, padding: Float) {
        self.image = DlibFaceChip.chip(image, parts: parts, size: size, padding: Double(padding))
            ?? RGBImage(width: size, height: size, fill: .black)
    }

    /// The box made square about its centre, scaled to the chip: for faces without landmarks.
    static func squareCrop(_ box: Box, in image: RGBImage, size: Int) -> RGBImage {
        // The template's face fills about 70% of an aligned chip, so the box's own size keeps the scale comparable.
        let side = max(box.width, box.height)
        let x0 = Int((box.center.x - side / 2).rounded(.down)), y0 = Int((box.center.y - side / 2).rounded(.down))
        let s = max(1, Int(side.rounded()))
        return image.cropped(x: x0, y: y0, width: s, height: s).resized(width: size, height: size)
    }

    /// FaceNet's training crop: enlarge the box by `margin` per side, clip to the image, resize to
    /// `resize` x `resize`, keep the centre `size` x `size` (reproduces the reference pipeline's integer
    /// rounding: floor for the top-left corner, ceil for the bottom-right).
    static func marginCrop(_ box: Box, in image: RGBImage, margin: Float, resize: Int, size: Int) -> RGBImage {
        let x0 = max(Int((box.x - margin).rounded(.down)), 0)
        let y0 = max(Int((box.y - margin).rounded(.down)), 0)
        let x1 = min(Int((box.maxX + margin).rounded(.up)), image.width)
        let y1 = min(Int((box.maxY + margin).rounded(.up)), image.height)
        let crop = image.cropped(x: x0, y: y0, width: max(1, x1 - x0), height: max(1, y1 - y0))
        let offset = (resize - size) / 2
        return crop.resized(width: resize, height: resize).cropped(x: offset, y: offset, width: size, height: size)
    }
}
