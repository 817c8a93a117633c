extension RGBImage {
    /// The image warped by an affine map, with the semantics of `cv2.warpAffine(src, M, (width, height),
    /// flags=INTER_LINEAR, borderMode=BORDER_CONSTANT, borderValue=fill)` where `t` is M: `t` maps SOURCE
    /// coordinates to DESTINATION coordinates, integer coordinates are pixel centres, and each destination pixel
    /// samples the source bilinearly at `t⁻¹(x, y)`. Samples outside the source blend with `fill`.
    ///
    /// Used for face alignment (similarity transform onto a template), so it follows OpenCV's arithmetic exactly:
    /// the inverse is computed in double, source positions are quantised to 1/32 pixel and the four weights are
    /// 15-bit fixed point. Results are then bit-identical to the Python reference crops. A singular `t` yields a
    /// blank image.
    public func warpedAffine(_ t: AffineTransform, width dw: Int, height dh: Int, fill: RGB = .black) -> RGBImage {
        precondition(dw >= 0 && dh >= 0, "warpedAffine: negative size \(dw)x\(dh)")
        // Invert M in double exactly as cv::warpAffine does.
        let m0 = Double(t.a), m1 = Double(t.b), m2 = Double(t.tx)
        let m3 = Double(t.c), m4 = Double(t.d), m5 = Double(t.ty)
        let det = m0 * m4 - m1 * m3
        guard det != 0, det.isFinite, width > 0, height > 0 else { return RGBImage(width: dw, height: dh, fill: fill) }
        let id = 1 / det
        let i0 = m4 * id, i1 = -m1 * id, i3 = -m3 * id, i4 = m0 * id
        let i2 = -i0 * m2 - i1 * m5, i5 = -i3 * m2 - i4 * m5

        // Fixed point as OpenCV: positions in 1/1024 px (AB_BITS = 10), reduced to 1/32 px (INTER_BITS = 5) with
        // rounding; the weight of a corner is the product of the 5-bit fractions, scaled to sum to 2^15.
        let abScale = 1024.0, roundDelta = 16
        let adelta = (0..<dw).map { saturatingInt32(i0 * Double($0) * abScale) }
        let bdelta = (0..<dw).map { saturatingInt32(i3 * Double($0) * abScale) }
        let w = width, h = height, srcStride = width * 3
        let fillValues = [Int(fill.r), Int(fill.g), Int(fill.b)]

        var result = RGBImage(width: dw, height: dh, fill: fill)
        pixels.withUnsafeBufferPointer { src in
            result.pixels.withUnsafeMutableBufferPointer { dst in
                for y in 0..<dh {
                    let x0 = saturatingInt32((i1 * Double(y) + i2) * abScale) + roundDelta
                    let y0 = saturatingInt32((i4 * Double(y) + i5) * abScale) + roundDelta
                    for x in 0..<dw {
                        let fxq = (x0 + adelta[x]) >> 5, fyq = (y0 + bdelta[x]) >> 5
                        // OpenCV stores the integer part as int16.
                        let sx = Swift.min(Swift.max(fxq >> 5, -32768), 32767)
                        let sy = Swift.min(Swift.max(fyq >> 5, -32768), 32767)
                        let ax = fxq & 31, ay = fyq & 31
                        let o = (y * dw + x) * 3
                        if sx >= w || sx + 1 < 0 || sy >= h || sy + 1 < 0 { continue }  // already `fill`
                        let w00 = (32 - ax) * (32 - ay) * 32, w01 = ax * (32 - ay) * 32
                        let w10 = (32 - ax) * ay * 32, w11 = ax * ay * 32
                        if sx >= 0 && sx < w - 1 && sy >= 0 && sy < h - 1 {
                            let p = sy * srcStride + sx * 3, q = p + srcStride
                            for c in 0..<3 {
                                let v = Int(src[p + c]) * w00 + Int(src[p + 3 + c]) * w01
                                    + Int(src[q + c]) * w10 + Int(src[q + 3 + c]) * w11
                                dst[o + c] = UInt8(truncatingIfNeeded: (v + (1 << 14)) >> 15)
                            }
                        } else {
                            // Straddling the border: corners outside the source take the fill colour.
                            let insideX0 = sx >= 0 && sx < w, insideX1 = sx + 1 >= 0 && sx + 1 < w
                            let insideY0 = sy >= 0 && sy < h, insideY1 = sy + 1 >= 0 && sy + 1 < h
                            for c in 0..<3 {
                                func value(_ inX: Bool, _ inY: Bool, _ px: Int, _ py: Int) -> Int {
                                    inX && inY ? Int(src[py * srcStride + px * 3 + c]) : fillValues[c]
                                }
                                let v = value(insideX0, insideY0, sx, sy) * w00
                                    + value(insideX1, insideY0, sx + 1, sy) * w01
                                    + value(insideX0, insideY1, sx, sy + 1) * w10
                                    + value(insideX1, insideY1, sx + 1, sy + 1) * w11
                                dst[o + c] = UInt8(truncatingIfNeeded: (v + (1 << 14)) >> 15)
                            }
                        }
                    }
                }
            }
        }
        return result
    }
}

/// OpenCV's saturate_cast<int>(double): round half to even, clamp to the Int32 range (NaN gives Int32.min).
private func saturatingInt32(_ v: Double) -> Int {
    guard !v.isNaN else { return Int(Int32.min) }
    let r = v.rounded(.toNearestOrEven)
    if r >= Double(Int32.max) { return Int(Int32.max) }
    if r <= Double(Int32.min) { return Int(Int32.min) }
    return Int(r)
}
