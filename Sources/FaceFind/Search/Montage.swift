import Foundation

/// Draws the founding report's Figure 1: the query face, then its top-k gallery photos in rank order, each
/// with the matched face boxed and its rank and score written under it.
public enum ResultMontage {
    public static let tile = 200
    static let caption = 22
    static let gap = 8

    /// `photo` loads the picture of a match (the photo, or the matched frame of a video; nil draws a grey
    /// "unreadable" tile). A video's tile is captioned with the time range of the matched face.
    public static func render(query: RGBImage, queryFace: DetectedFace, matches: [Match], metric: DistanceMetric,
                              title: String? = nil, photo: (Match) -> RGBImage?) -> RGBImage {
        let columns = matches.count + 1
        let header = title == nil ? 0 : caption
        var canvas = RGBImage(width: columns * (tile + gap) + gap, height: header + tile + caption + 2 * gap,
                              fill: .white)
        if let title { canvas.drawText(String(title.prefix(columns * tile / 8)), x: gap, y: 6, color: .black) }
        let top = header + gap

        // The query: its chosen face, cropped square with some context, boxed in blue.
        let faceTile = faceCrop(query, face: queryFace)
        canvas.paste(fit(faceTile.image, faceTile.box).image, x: gap, y: top)
        let fitted = fit(faceTile.image, faceTile.box)
        canvas.strokeRect(x: gap + Int(fitted.box.x), y: top + Int(fitted.box.y), width: Int(fitted.box.width),
                          height: Int(fitted.box.height), color: .blue, thickness: 2)
        canvas.drawText("query", x: gap, y: top + tile + 6, color: .blue)

        for (i, match) in matches.enumerated() {
            let x = gap + (i + 1) * (tile + gap)
            if let image = photo(match) {
                let placed = fit(image, match.box)
                canvas.paste(placed.image, x: x + (tile - placed.image.width) / 2, y: top + (tile - placed.image.height) / 2)
                let ox = x + (tile - placed.image.width) / 2, oy = top + (tile - placed.image.height) / 2
                canvas.strokeRect(x: ox + Int(placed.box.x), y: oy + Int(placed.box.y), width: Int(placed.box.width),
                                  height: Int(placed.box.height), color: match.isWholeImage ? .yellow : .green,
                                  thickness: 2)
            } else {
                canvas.fill(x: x, y: top, width: tile, height: tile, color: .grey)
                canvas.drawText("unreadable", x: x + 8, y: top + tile / 2, color: .white)
            }
            let score = metric == .cosine ? String(format: "%.3f", match.score) : String(format: "d=%.3f", match.score)
            let when = match.time.map { " \($0.rangeText)" } ?? ""
            canvas.drawText("#\(match.rank) \(score)\(when)", x: x, y: top + tile + 6, color: .black)
        }
        return canvas
    }

    /// A square crop around `face` with half a face of context, and the face's box inside it.
    static func faceCrop(_ image: RGBImage, face: DetectedFace) -> (image: RGBImage, box: Box) {
        let side = max(face.box.width, face.box.height) * 2
        let x0 = Int((face.box.center.x - side / 2).rounded(.down))
        let y0 = Int((face.box.center.y - side / 2).rounded(.down))
        let s = max(1, Int(side.rounded()))
        let crop = image.cropped(x: x0, y: y0, width: s, height: s, fill: .white)
        return (crop, Box(x: face.box.x - Float(x0), y: face.box.y - Float(y0), width: face.box.width, height: face.box.height))
    }

    /// `image` scaled to fit a tile, and `box` mapped into it.
    static func fit(_ image: RGBImage, _ box: Box) -> (image: RGBImage, box: Box) {
        let scale = min(Float(tile) / Float(max(image.width, 1)), Float(tile) / Float(max(image.height, 1)))
        let w = max(1, Int(Float(image.width) * scale)), h = max(1, Int(Float(image.height) * scale))
        return (image.resized(width: w, height: h, filter: scale < 1 ? .area : .bilinear), box.scaled(by: scale))
    }
}

/// A person's faces on one picture (`facefind people show ID --montage`): a title line, then a grid of square
/// crops around each face, the face boxed, its photo's file name under it.
public enum PersonMontage {
    static let tile = 120
    static let columns = 8

    /// At most `limit` faces are drawn (a person of a whole library has thousands); `photo` loads a photo by
    /// path (nil draws a grey "unreadable" tile).
    public static func render(title: String, faces: [PersonFace], limit: Int = 64,
                              photo: (String) -> RGBImage?) -> RGBImage {
        let shown = Array(faces.prefix(limit))
        let gap = ResultMontage.gap, caption = ResultMontage.caption
        let columns = max(1, min(Self.columns, shown.count))
        let rows = (shown.count + columns - 1) / columns
        var canvas = RGBImage(width: columns * (tile + gap) + gap, height: caption + rows * (tile + caption + gap) + gap,
                              fill: .white)
        canvas.drawText(String(title.prefix(columns * (tile + gap) / 8)), x: gap, y: 6, color: .black)
        for (i, face) in shown.enumerated() {
            let x = gap + (i % columns) * (tile + gap), y = caption + (i / columns) * (tile + caption + gap)
            if let image = photo(face.path) {
                let crop = ResultMontage.faceCrop(image, face: DetectedFace(box: face.box, score: 1))
                let scale = Float(tile) / Float(max(crop.image.width, 1))
                canvas.paste(crop.image.resized(width: tile, height: tile, filter: scale < 1 ? .area : .bilinear), x: x, y: y)
                let box = crop.box.scaled(by: scale)
                canvas.strokeRect(x: x + Int(box.x), y: y + Int(box.y), width: Int(box.width), height: Int(box.height),
                                  color: face.pinned ? .blue : .green, thickness: 2)
            } else {
                canvas.fill(x: x, y: y, width: tile, height: tile, color: .grey)
                canvas.drawText("unreadable", x: x + 4, y: y + tile / 2, color: .white)
            }
            let name = URL(fileURLWithPath: face.path).lastPathComponent
            canvas.drawText(String(name.prefix(tile / 8)), x: x, y: y + tile + 4, color: .black)
        }
        return canvas
    }
}
