/// Greedy non-maximum suppression shared by every detector: keep the best-scoring face, drop the others that
/// overlap it by more than `iouThreshold`, repeat. Returns the kept faces, best first.
///
/// `mode` `.union` is the usual IoU; `.minimum` divides the intersection by the smaller box's area, which MTCNN
/// uses in its last stage so that a small box inside a large one is dropped.
public func nonMaximumSuppression(_ faces: [DetectedFace], iouThreshold: Float, mode: OverlapMode = .union,
                                  limit: Int = .max) -> [DetectedFace] {
    let order = faces.indices.sorted { faces[$0].score > faces[$1].score }
    var suppressed = [Bool](repeating: false, count: faces.count)
    var kept: [DetectedFace] = []
    for (rank, i) in order.enumerated() where !suppressed[i] {
        kept.append(faces[i])
        if kept.count == limit { break }
        for j in order[(rank + 1)...] where !suppressed[j] {
            if overlap(faces[i].box, faces[j].box, mode: mode) > iouThreshold { suppressed[j] = true }
        }
    }
    return kept
}

public enum OverlapMode: Sendable { case union, minimum }

/// The overlap of two boxes as intersection over union, or over the smaller area.
public func overlap(_ a: Box, _ b: Box, mode: OverlapMode) -> Float {
    switch mode {
    case .union:
        return a.iou(b)
    case .minimum:
        let iw = min(a.maxX, b.maxX) - max(a.x, b.x)
        let ih = min(a.maxY, b.maxY) - max(a.y, b.y)
        guard iw > 0, ih > 0 else { return 0 }
        let smaller = min(a.area, b.area)
        return smaller > 0 ? iw * ih / smaller : 0
    }
}
