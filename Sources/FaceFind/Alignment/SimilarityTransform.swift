/// The least-squares similarity transform (rotation, uniform scale, translation; no reflection) that maps
/// `source` points onto `target` points: the closed form of Umeyama's method in 2-D, as insightface and
/// scikit-image's `SimilarityTransform.estimate` compute it for face alignment.
public func similarityTransform(from source: [Point2], to target: [Point2]) -> AffineTransform? {
    precondition(source.count == target.count && source.count >= 2, "need matching point lists")
    let n = Float(source.count)
    let sx = source.reduce(0) { $0 + $1.x } / n, sy = source.reduce(0) { $0 + $1.y } / n
    let tx = target.reduce(0) { $0 + $1.x } / n, ty = target.reduce(0) { $0 + $1.y } / n
    var dot: Float = 0, cross: Float = 0, norm: Float = 0
    for (p, q) in zip(source, target) {
        let px = p.x - sx, py = p.y - sy, qx = q.x - tx, qy = q.y - ty
        dot += px * qx + py * qy
        cross += px * qy - py * qx
        norm += px * px + py * py
    }
    guard norm > 1e-12 else { return nil }
    // [a -b; b a] is scale * rotation; a and b minimise the squared error in closed form.
    let a = dot / norm, b = cross / norm
    return AffineTransform(a: a, b: -b, tx: tx - (a * sx - b * sy),
                           c: b, d: a, ty: ty - (b * sx + a * sy))
}

/// The same least-squares similarity in double precision, as dlib's `find_similarity_transform` computes it
/// (Umeyama's method; for faces and face shapes never a reflection): `[a -b; b a]` is scale times rotation and
/// `(tx, ty)` the translation. Nil when the source points coincide. Used by dlib's shape predictor and chip.
func similarityParameters(from source: [(x: Double, y: Double)], to target: [(x: Double, y: Double)])
    -> (a: Double, b: Double, tx: Double, ty: Double)? {
    precondition(source.count == target.count && !source.isEmpty, "need matching point lists")
    let n = Double(source.count)
    var sx = 0.0, sy = 0.0, tx = 0.0, ty = 0.0
    for (p, q) in zip(source, target) { sx += p.x; sy += p.y; tx += q.x; ty += q.y }
    sx /= n; sy /= n; tx /= n; ty /= n
    var dot = 0.0, cross = 0.0, norm = 0.0
    for (p, q) in zip(source, target) {
        let px = p.x - sx, py = p.y - sy, qx = q.x - tx, qy = q.y - ty
        dot += px * qx + py * qy
        cross += px * qy - py * qx
        norm += px * px + py * py
    }
    guard norm > 0 else { return nil }
    let a = dot / norm, b = cross / norm
    return (a, b, tx - (a * sx - b * sy), ty - (b * sx + a * sy))
}
