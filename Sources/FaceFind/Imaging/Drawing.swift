// Minimal raster drawing for result montages, debug overlays (boxes, landmarks) and simple plots. Everything is
// clipped to the image, so callers can draw boxes that stick out of the frame without checks.

extension RGBImage {
    /// Fills the rectangle with top-left (x, y) and the given size with `color` (the part inside the image).
    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, color: RGB) {
        guard let xs = clippedSpan(start: x, length: w, limit: width),
              let ys = clippedSpan(start: y, length: h, limit: height) else { return }
        let stride = width * 3
        pixels.withUnsafeMutableBufferPointer { p in
            for row in ys {
                var i = row * stride + xs.lowerBound * 3
                for _ in xs {
                    p[i] = color.r; p[i + 1] = color.g; p[i + 2] = color.b
                    i += 3
                }
            }
        }
    }

    /// Draws the outline of a rectangle, `thickness` pixels wide, growing inwards from the rectangle's edges (so a
    /// box around a face never covers pixels outside the box).
    public mutating func strokeRect(x: Int, y: Int, width w: Int, height h: Int, color: RGB, thickness: Int = 1) {
        guard w > 0, h > 0, thickness > 0 else { return }
        // Written so that no sum can overflow, whatever the inputs: an edge whose position overflows is off-image.
        if thickness >= w - thickness || thickness >= h - thickness {  // the outline covers the whole rectangle
            fill(x: x, y: y, width: w, height: h, color: color)
            return
        }
        let inner = h - 2 * thickness
        fill(x: x, y: y, width: w, height: thickness, color: color)                               // top
        if let bottom = sum(y, h - thickness) {
            fill(x: x, y: bottom, width: w, height: thickness, color: color)                      // bottom
        }
        if let top = sum(y, thickness) {
            fill(x: x, y: top, width: thickness, height: inner, color: color)                     // left
            if let right = sum(x, w - thickness) {
                fill(x: right, y: top, width: thickness, height: inner, color: color)             // right
            }
        }
    }

    /// Draws a straight line (Bresenham) with a square pen `thickness` pixels wide. A point (x, y) lies in pixel
    /// (floor(x), floor(y)), so integer coordinates address pixels directly. The segment is clipped to the image
    /// first, so far-away or huge coordinates cost nothing; non-finite coordinates draw nothing.
    public mutating func drawLine(from start: Point2, to end: Point2, color: RGB, thickness: Int = 1) {
        guard thickness > 0, width > 0, height > 0,
              start.x.isFinite, start.y.isFinite, end.x.isFinite, end.y.isFinite else { return }
        // Absurdly wide pens are capped at about twice the image size, which keeps the arithmetic small.
        let thickness = Swift.min(thickness, 2 * Swift.max(width, height) + 2)
        // Clip against the image grown by the pen size (Liang-Barsky), in Double to keep huge inputs exact enough.
        let margin = Double(thickness + 1)
        guard let (a, b) = clipSegment(
            (Double(start.x), Double(start.y)), (Double(end.x), Double(end.y)),
            xMin: -margin, xMax: Double(width) + margin, yMin: -margin, yMax: Double(height) + margin)
        else { return }
        var x0 = Int(a.0.rounded(.down)), y0 = Int(a.1.rounded(.down))
        let x1 = Int(b.0.rounded(.down)), y1 = Int(b.1.rounded(.down))
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var error = dx + dy
        let penOffset = (thickness - 1) / 2
        while true {
            if thickness == 1 {
                if x0 >= 0 && x0 < width && y0 >= 0 && y0 < height { self[x0, y0] = color }
            } else {
                fill(x: x0 - penOffset, y: y0 - penOffset, width: thickness, height: thickness, color: color)
            }
            if x0 == x1 && y0 == y1 { break }
            let e2 = 2 * error
            if e2 >= dy { error += dy; x0 += sx }
            if e2 <= dx { error += dx; y0 += sy }
        }
    }

    /// Copies `other` so that its top-left pixel lands at (x, y); parts outside this image are dropped.
    public mutating func paste(_ other: RGBImage, x: Int, y: Int) {
        guard let xs = clippedSpan(start: x, length: other.width, limit: width),
              let ys = clippedSpan(start: y, length: other.height, limit: height) else { return }
        let rowBytes = xs.count * 3
        let dstStride = width * 3, srcStride = other.width * 3
        other.pixels.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                for row in ys {
                    let from = s + (row - y) * srcStride + (xs.lowerBound - x) * 3
                    (d + row * dstStride + xs.lowerBound * 3).update(from: from, count: rowBytes)
                }
            }
        }
    }

    /// Draws `text` with the embedded 8x8 font, each font pixel `scale` x `scale` image pixels, top-left at (x, y).
    /// "\n" starts a new line; characters outside printable ASCII draw as '?'. With a `background`, each line's
    /// cells are filled first, which keeps labels readable on busy photos.
    public mutating func drawText(_ text: String, x: Int, y: Int, scale: Int = 1, color: RGB, background: RGB? = nil) {
        // Glyphs bigger than any image are pointless; the cap keeps all position arithmetic far from overflow.
        guard scale > 0, scale <= 1 << 16 else { return }
        let cellWidth = BitmapFont.glyphWidth * scale, cellHeight = BitmapFont.glyphHeight * scale
        for (lineIndex, line) in RGBImage.textLines(text).enumerated() {
            guard let top = sum(y, lineIndex * cellHeight), top < height else { break }  // lines only go down
            if top + cellHeight <= 0 { continue }
            if let background {
                fill(x: x, y: top, width: line.count * cellWidth, height: cellHeight, color: background)
            }
            for (column, code) in line.enumerated() {
                guard let left = sum(x, column * cellWidth), left < width else { break }
                if left + cellWidth <= 0 { continue }
                for (row, bits) in BitmapFont.glyph(code).enumerated() where bits != 0 {
                    for bit in 0..<BitmapFont.glyphWidth where bits & (1 << bit) != 0 {
                        fill(x: left + bit * scale, y: top + row * scale, width: scale, height: scale, color: color)
                    }
                }
            }
        }
    }

    /// The size `drawText` covers for `text` at `scale`: 8 * scale pixels per character of the longest line by
    /// 8 * scale per line ((0, 0) for empty text). For laying out labels and montage captions.
    public static func textSize(_ text: String, scale: Int = 1) -> (width: Int, height: Int) {
        guard !text.isEmpty, scale > 0 else { return (0, 0) }
        let lines = textLines(text)
        let longest = lines.map(\.count).max() ?? 0
        return (longest * BitmapFont.glyphWidth * scale, lines.count * BitmapFont.glyphHeight * scale)
    }

    /// The text as lines of ASCII codes (non-ASCII characters become '?'; "\r\n" counts as a line break).
    private static func textLines(_ text: String) -> [[UInt8]] {
        var lines: [[UInt8]] = [[]]
        for character in text {
            if character.isNewline {
                lines.append([])
            } else {
                let code = character.asciiValue ?? UInt8(ascii: "?")
                lines[lines.count - 1].append(code)
            }
        }
        return lines
    }
}

/// a + b, or nil when it overflows (then the position is far outside any image).
private func sum(_ a: Int, _ b: Int) -> Int? {
    let (result, overflow) = a.addingReportingOverflow(b)
    return overflow ? nil : result
}

/// The part of [start, start + length) inside [0, limit), or nil when empty. Overflow-safe for any inputs.
private func clippedSpan(start: Int, length: Int, limit: Int) -> Range<Int>? {
    guard length > 0, limit > 0 else { return nil }
    let (end, overflow) = start.addingReportingOverflow(length)
    let lower = max(start, 0), upper = min(overflow ? Int.max : end, limit)
    return lower < upper ? lower..<upper : nil
}

/// Liang-Barsky clipping of segment a-b to a rectangle; nil when it misses the rectangle entirely.
private func clipSegment(_ a: (Double, Double), _ b: (Double, Double),
                         xMin: Double, xMax: Double, yMin: Double, yMax: Double)
    -> ((Double, Double), (Double, Double))? {
    let dx = b.0 - a.0, dy = b.1 - a.1
    var t0 = 0.0, t1 = 1.0
    for (p, q) in [(-dx, a.0 - xMin), (dx, xMax - a.0), (-dy, a.1 - yMin), (dy, yMax - a.1)] {
        if p == 0 {
            if q < 0 { return nil }  // parallel to this edge and outside it
        } else {
            let r = q / p
            if p < 0 { if r > t1 { return nil }; t0 = max(t0, r) } else { if r < t0 { return nil }; t1 = min(t1, r) }
        }
    }
    return ((a.0 + t0 * dx, a.1 + t0 * dy), (a.0 + t1 * dx, a.1 + t1 * dy))
}
