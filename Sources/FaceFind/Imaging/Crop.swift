extension RGBImage {
    /// The `width` x `height` rectangle whose top-left corner is (x, y). The rectangle may extend past any edge
    /// (face boxes with a margin often do); those parts are filled with `fill` so the face keeps its position in
    /// the crop, as with OpenCV's copyMakeBorder(BORDER_CONSTANT) followed by a slice.
    public func cropped(x: Int, y: Int, width cropWidth: Int, height cropHeight: Int, fill: RGB = .black) -> RGBImage {
        precondition(cropWidth >= 0 && cropHeight >= 0, "cropped: negative size \(cropWidth)x\(cropHeight)")
        var result = RGBImage(width: cropWidth, height: cropHeight, fill: fill)
        // The part of the rectangle that lies inside the image, in source coordinates (clamped to avoid overflow
        // with absurd inputs).
        let x0 = Swift.max(x, 0), y0 = Swift.max(y, 0)
        let x1 = Swift.min(x.addingReportingOverflow(cropWidth).overflow ? Int.max : x + cropWidth, width)
        let y1 = Swift.min(y.addingReportingOverflow(cropHeight).overflow ? Int.max : y + cropHeight, height)
        guard x0 < x1, y0 < y1 else { return result }
        let rowBytes = (x1 - x0) * 3
        pixels.withUnsafeBufferPointer { src in
            result.pixels.withUnsafeMutableBufferPointer { dst in
                guard let srcBase = src.baseAddress, let dstBase = dst.baseAddress else { return }
                for sy in y0..<y1 {
                    let from = srcBase + (sy * width + x0) * 3
                    let to = dstBase + ((sy - y) * cropWidth + (x0 - x)) * 3
                    to.update(from: from, count: rowBytes)
                }
            }
        }
        return result
    }
}
