/// Writes images into float input tensors in the layout, colour order and normalisation a model expects.
///
/// Shared by every detector and embedder, so that a model's preprocessing is a `InputSpec` value, not code.
public enum ImageTensor {
    /// Writes `image` into `buffer` as item `index` of a batch whose items are `width` x `height`.
    /// The image is placed at the top-left; anything it does not cover stays as the buffer held it (callers
    /// pre-fill padding). `image` must fit.
    public static func write(_ image: RGBImage, into buffer: inout [Float], index: Int, width: Int, height: Int,
                             layout: InputSpec.Layout, colorOrder: InputSpec.ColorOrder,
                             normalization: PixelNormalization) {
        precondition(image.width <= width && image.height <= height, "image larger than tensor slot")
        let (scale, bias) = affineCoefficients(normalization, image: image)
        let plane = width * height
        let base = index * plane * 3
        // Channel c of the tensor reads source channel `source[c]` (RGB or BGR order).
        let source = colorOrder == .rgb ? (0, 1, 2) : (2, 1, 0)
        image.pixels.withUnsafeBufferPointer { px in
            buffer.withUnsafeMutableBufferPointer { out in
                for y in 0..<image.height {
                    var s = y * image.width * 3
                    switch layout {
                    case .nchw:
                        var o = base + y * width
                        for _ in 0..<image.width {
                            out[o] = Float(px[s + source.0]) * scale + bias
                            out[o + plane] = Float(px[s + source.1]) * scale + bias
                            out[o + 2 * plane] = Float(px[s + source.2]) * scale + bias
                            o += 1; s += 3
                        }
                    case .nhwc:
                        var o = base + y * width * 3
                        for _ in 0..<image.width {
                            out[o] = Float(px[s + source.0]) * scale + bias
                            out[o + 1] = Float(px[s + source.1]) * scale + bias
                            out[o + 2] = Float(px[s + source.2]) * scale + bias
                            o += 3; s += 3
                        }
                    }
                }
            }
        }
    }

    /// The value a padding pixel of colour 0 takes after normalisation.
    public static func paddingValue(_ normalization: PixelNormalization) -> Float {
        if case .affine(let mean, let std) = normalization { return -mean / std }
        return 0
    }

    /// `value * scale + bias` equals the normalisation of `value`; per-image standardisation measures the image.
    static func affineCoefficients(_ normalization: PixelNormalization, image: RGBImage) -> (Float, Float) {
        switch normalization {
        case .affine(let mean, let std):
            return (1 / std, -mean / std)
        case .perImageStandardization:
            // TensorFlow's per_image_standardization: std floored at 1/sqrt(n) so flat images don't blow up.
            var sum = 0.0, sumSquares = 0.0
            for v in image.pixels { let f = Double(v); sum += f; sumSquares += f * f }
            let n = Double(max(image.pixels.count, 1))
            let mean = sum / n
            let std = max((sumSquares / n - mean * mean).squareRoot(), 1 / n.squareRoot())
            return (Float(1 / std), Float(-mean / std))
        }
    }
}
