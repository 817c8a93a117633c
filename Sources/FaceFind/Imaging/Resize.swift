// Resizing that reproduces OpenCV's cv::resize for 8-bit 3-channel images, because the detection and embedding
// models were trained and validated with OpenCV preprocessing: matching it keeps scores comparable with the
// Python reference pipeline.

/// How `RGBImage.resized` computes each output pixel.
public enum ResizeFilter: Sendable {
    /// OpenCV's INTER_LINEAR: half-pixel centres, edge clamping, 11-bit fixed-point weights. Fast; aliases when
    /// shrinking by more than 2x.
    case bilinear
    /// OpenCV's INTER_AREA: every output pixel is the average of the source area it covers (fractional weights at
    /// the edges). The right choice for shrinking photos. When enlarging in either direction it falls back to
    /// bilinear (OpenCV uses a slightly sharper variant there).
    case area
}

extension RGBImage {
    /// The image scaled to exactly `width` x `height`.
    public func resized(width newWidth: Int, height newHeight: Int, filter: ResizeFilter = .bilinear) -> RGBImage {
        precondition(newWidth >= 0 && newHeight >= 0, "resized: negative size \(newWidth)x\(newHeight)")
        if newWidth == width && newHeight == height { return self }
        // Nothing to sample from (or nothing to produce): a blank image of the requested size.
        if newWidth == 0 || newHeight == 0 || width == 0 || height == 0 {
            return RGBImage(width: newWidth, height: newHeight)
        }
        if filter == .area && newWidth <= width && newHeight <= height {
            return resizedArea(width: newWidth, height: newHeight)
        }
        return resizedBilinear(width: newWidth, height: newHeight)
    }

    /// The image shrunk so that its longer side is at most `maxSide`, keeping the aspect ratio, and the factor
    /// `scale` = new size / old size of the longer side (multiply coordinates in the original by it to get
    /// coordinates in the result). Images already small enough come back unchanged with scale 1. Area filtering is
    /// the default because this only ever shrinks.
    public func resized(maxSide: Int, filter: ResizeFilter = .area) -> (image: RGBImage, scale: Float) {
        precondition(maxSide > 0, "resized(maxSide:): maxSide must be positive")
        let longer = Swift.max(width, height)
        guard longer > maxSide else { return (self, 1) }
        let s = Double(maxSide) / Double(longer)
        let newWidth = width >= height ? maxSide : Swift.max(1, Int((Double(width) * s).rounded()))
        let newHeight = width >= height ? Swift.max(1, Int((Double(height) * s).rounded())) : maxSide
        return (resized(width: newWidth, height: newHeight, filter: filter), Float(maxSide) / Float(longer))
    }
}

// MARK: - Bilinear (INTER_LINEAR)

/// Per output column (or row): the two source indices and their fixed-point weights (summing to 2048).
private struct LinearTaps {
    var index0: [Int]
    var index1: [Int]
    var weight0: [Int32]
    var weight1: [Int32]

    /// OpenCV's coefficient computation, including its float rounding, so results are bit-identical:
    /// src = (dst + 0.5) * scale - 0.5 in float, weights rounded to 1/2048. Outside the image OpenCV clamps
    /// horizontally by moving the position onto the edge pixel, but vertically it keeps the weights and only clamps
    /// the row indices (both rows are then the same edge row); the value is the same, the rounding is not.
    init(source: Int, destination: Int, clampWeights: Bool) {
        let scale = 1.0 / (Double(destination) / Double(source))  // OpenCV stores the inverse scale first
        index0 = []; index1 = []; weight0 = []; weight1 = []
        index0.reserveCapacity(destination); index1.reserveCapacity(destination)
        weight0.reserveCapacity(destination); weight1.reserveCapacity(destination)
        for d in 0..<destination {
            var f = Float((Double(d) + 0.5) * scale - 0.5)
            var s = Int(f.rounded(.down))
            f -= Float(s)
            if clampWeights {
                if s < 0 { f = 0; s = 0 }
                if s >= source - 1 { f = 0; s = source - 1 }
            }
            index0.append(Swift.min(Swift.max(s, 0), source - 1))
            index1.append(Swift.min(Swift.max(s + 1, 0), source - 1))
            weight0.append(Int32(((1 - f) * 2048).rounded(.toNearestOrEven)))
            weight1.append(Int32((f * 2048).rounded(.toNearestOrEven)))
        }
    }
}

extension RGBImage {
    /// Separable fixed-point bilinear: each needed source row is resampled horizontally once into an Int32 row
    /// (pixel * 2048 scale), then pairs of such rows are blended vertically with OpenCV's SIMD arithmetic:
    /// ((r0 >> 4) * b0 >> 16) + ((r1 >> 4) * b1 >> 16), rounded off by (v + 2) >> 2. That truncates differently
    /// from the exact (r0 * b0 + r1 * b1 + 2^21) >> 22 (up to 1 lower), and it is what OpenCV computes on x86
    /// (verified bit-identical with cv2.resize of OpenCV 4.14 and 5.0 on photos, noise and tiny sizes).
    fileprivate func resizedBilinear(width dw: Int, height dh: Int) -> RGBImage {
        let xTaps = LinearTaps(source: width, destination: dw, clampWeights: true)
        let yTaps = LinearTaps(source: height, destination: dh, clampWeights: false)
        let srcStride = width * 3, rowLength = dw * 3

        // Horizontal offsets in bytes, with weights, precomputed once per column.
        let xOffset0 = xTaps.index0.map { $0 * 3 }, xOffset1 = xTaps.index1.map { $0 * 3 }
        var rowA = [Int32](repeating: 0, count: rowLength), rowB = rowA
        var rowAIndex = -1, rowBIndex = -1

        let out = [UInt8](unsafeUninitializedCapacity: dh * rowLength) { dst, initialized in
            pixels.withUnsafeBufferPointer { src in
                xOffset0.withUnsafeBufferPointer { ox0 in
                xOffset1.withUnsafeBufferPointer { ox1 in
                xTaps.weight0.withUnsafeBufferPointer { wx0 in
                xTaps.weight1.withUnsafeBufferPointer { wx1 in
                    func horizontal(_ sy: Int, into row: UnsafeMutableBufferPointer<Int32>) {
                        let base = sy * srcStride
                        for dx in 0..<dw {
                            let p = base + ox0[dx], q = base + ox1[dx]
                            let a = wx0[dx], b = wx1[dx]
                            let o = dx * 3
                            row[o] = Int32(src[p]) &* a &+ Int32(src[q]) &* b
                            row[o + 1] = Int32(src[p + 1]) &* a &+ Int32(src[q + 1]) &* b
                            row[o + 2] = Int32(src[p + 2]) &* a &+ Int32(src[q + 2]) &* b
                        }
                    }
                    for dy in 0..<dh {
                        let sy0 = yTaps.index0[dy], sy1 = yTaps.index1[dy]
                        // Keep the two most recent horizontal rows: consecutive output rows mostly share them.
                        if rowAIndex != sy0 {
                            if rowBIndex == sy0 {
                                swap(&rowA, &rowB); swap(&rowAIndex, &rowBIndex)
                            } else {
                                rowA.withUnsafeMutableBufferPointer { horizontal(sy0, into: $0) }
                                rowAIndex = sy0
                            }
                        }
                        if rowBIndex != sy1 {
                            rowB.withUnsafeMutableBufferPointer { horizontal(sy1, into: $0) }
                            rowBIndex = sy1
                        }
                        let b0 = yTaps.weight0[dy], b1 = yTaps.weight1[dy]
                        rowA.withUnsafeBufferPointer { r0 in
                            rowB.withUnsafeBufferPointer { r1 in
                                let o = dy * rowLength
                                for i in 0..<rowLength {
                                    let v = (((r0[i] >> 4) &* b0) >> 16) &+ (((r1[i] >> 4) &* b1) >> 16)
                                    dst[o + i] = UInt8(clamping: (v &+ 2) >> 2)
                                }
                            }
                        }
                    }
                }}}}
            }
            initialized = dh * rowLength
        }
        return RGBImage(width: dw, height: dh, pixels: out)
    }
}

// MARK: - Area (INTER_AREA, shrinking only)

extension RGBImage {
    fileprivate func resizedArea(width dw: Int, height dh: Int) -> RGBImage {
        // OpenCV computes the scales this way; integer factors take its exact "fast" path.
        let scaleX = 1.0 / (Double(dw) / Double(width)), scaleY = 1.0 / (Double(dh) / Double(height))
        let intX = Int(scaleX.rounded()), intY = Int(scaleY.rounded())
        if abs(scaleX - Double(intX)) < Double.ulpOfOne && abs(scaleY - Double(intY)) < Double.ulpOfOne {
            return resizedAreaInteger(width: dw, height: dh, factorX: intX, factorY: intY)
        }
        return resizedAreaFractional(width: dw, height: dh, scaleX: scaleX, scaleY: scaleY)
    }

    /// Integer factors: the plain mean of each fx x fy block. Rounding as OpenCV: (sum + 2) >> 2 for 2x2 blocks,
    /// otherwise round-half-to-even of sum * (1/area) computed in float.
    private func resizedAreaInteger(width dw: Int, height dh: Int, factorX fx: Int, factorY fy: Int) -> RGBImage {
        let srcStride = width * 3, rowLength = dw * 3
        let area = fx * fy
        let inverseArea = 1 / Float(area)
        let out = [UInt8](unsafeUninitializedCapacity: dh * rowLength) { dst, initialized in
            pixels.withUnsafeBufferPointer { src in
                var sums = [Int](repeating: 0, count: rowLength)
                for dy in 0..<dh {
                    for i in 0..<rowLength { sums[i] = 0 }
                    for sy in (dy * fy)..<(dy * fy + fy) {
                        let row = sy * srcStride
                        for dx in 0..<dw {
                            var p = row + dx * fx * 3
                            let o = dx * 3
                            for _ in 0..<fx {
                                sums[o] &+= Int(src[p])
                                sums[o + 1] &+= Int(src[p + 1])
                                sums[o + 2] &+= Int(src[p + 2])
                                p += 3
                            }
                        }
                    }
                    let o = dy * rowLength
                    if area == 4 && fx == 2 {
                        for i in 0..<rowLength { dst[o + i] = UInt8(truncatingIfNeeded: (sums[i] + 2) >> 2) }
                    } else {
                        for i in 0..<rowLength {
                            dst[o + i] = UInt8((Float(sums[i]) * inverseArea).rounded(.toNearestOrEven))
                        }
                    }
                }
            }
            initialized = dh * rowLength
        }
        return RGBImage(width: dw, height: dh, pixels: out)
    }

    /// One weighted source sample: output index, source index and weight (OpenCV's DecimateAlpha).
    private struct AreaTap {
        var destination: Int
        var source: Int
        var weight: Float
    }

    /// OpenCV's computeResizeAreaTab: output pixel d covers source interval [d * scale, (d + 1) * scale); whole
    /// source pixels get weight 1/cellWidth, partially covered ones their covered fraction of it.
    private static func areaTaps(source: Int, destination: Int, scale: Double) -> [AreaTap] {
        var taps: [AreaTap] = []
        taps.reserveCapacity(source * 2)
        for d in 0..<destination {
            let fs1 = Double(d) * scale, fs2 = fs1 + scale
            let cellWidth = Swift.min(scale, Double(source) - fs1)
            var s1 = Int(fs1.rounded(.up))
            let s2 = Swift.min(Int(fs2.rounded(.down)), source - 1)
            s1 = Swift.min(s1, s2)
            if Double(s1) - fs1 > 1e-3 {
                taps.append(AreaTap(destination: d, source: s1 - 1, weight: Float((Double(s1) - fs1) / cellWidth)))
            }
            for s in s1..<Swift.max(s1, s2) {
                taps.append(AreaTap(destination: d, source: s, weight: Float(1.0 / cellWidth)))
            }
            if fs2 - Double(s2) > 1e-3 {
                let covered = Swift.min(Swift.min(fs2 - Double(s2), 1.0), cellWidth)
                taps.append(AreaTap(destination: d, source: s2, weight: Float(covered / cellWidth)))
            }
        }
        return taps
    }

    /// Fractional factors: separable weighted sums in float in OpenCV's order (rows resampled horizontally, then
    /// accumulated per output row), rounded half-to-even at the end.
    private func resizedAreaFractional(width dw: Int, height dh: Int, scaleX: Double, scaleY: Double) -> RGBImage {
        let xTaps = RGBImage.areaTaps(source: width, destination: dw, scale: scaleX)
        let yTaps = RGBImage.areaTaps(source: height, destination: dh, scale: scaleY)
        let srcStride = width * 3, rowLength = dw * 3
        let out = [UInt8](unsafeUninitializedCapacity: dh * rowLength) { dst, initialized in
            pixels.withUnsafeBufferPointer { src in
            xTaps.withUnsafeBufferPointer { xt in
                var buffer = [Float](repeating: 0, count: rowLength)
                var sum = [Float](repeating: 0, count: rowLength)
                buffer.withUnsafeMutableBufferPointer { buf in
                sum.withUnsafeMutableBufferPointer { acc in
                    var bufferRow = -1
                    var currentRow = -1
                    func flush(_ dy: Int) {
                        let o = dy * rowLength
                        for i in 0..<rowLength {
                            let v = acc[i].rounded(.toNearestOrEven)
                            dst[o + i] = UInt8(Swift.min(Swift.max(v, 0), 255))
                        }
                    }
                    for tap in yTaps {
                        if bufferRow != tap.source {
                            for i in 0..<rowLength { buf[i] = 0 }
                            let row = tap.source * srcStride
                            for t in xt {
                                let s = row + t.source * 3, d = t.destination * 3, w = t.weight
                                buf[d] += Float(src[s]) * w
                                buf[d + 1] += Float(src[s + 1]) * w
                                buf[d + 2] += Float(src[s + 2]) * w
                            }
                            bufferRow = tap.source
                        }
                        let beta = tap.weight
                        if tap.destination != currentRow {
                            if currentRow >= 0 { flush(currentRow) }
                            for i in 0..<rowLength { acc[i] = beta * buf[i] }
                            currentRow = tap.destination
                        } else {
                            for i in 0..<rowLength { acc[i] += beta * buf[i] }
                        }
                    }
                    if currentRow >= 0 { flush(currentRow) }
                }}
            }}
            initialized = dh * rowLength
        }
        return RGBImage(width: dw, height: dh, pixels: out)
    }
}
