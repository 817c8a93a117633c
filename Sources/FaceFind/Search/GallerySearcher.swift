/// What a front end ranks a gallery through, whatever holds the vectors: an in-memory snapshot
/// (`GallerySearch`, `LiveGallerySearch`) or a store that searches on its own server (PostgreSQL + pgvector).
public protocol GallerySearcher: Sendable {
    /// The top `k` gallery images for the faces of one query photo: each image with its best match over all
    /// query faces and the index (in `faces`) of the query face it came from, ranked 1...k and flagged
    /// `unknown` against `threshold` (see `Match.bestPerImage`, the one rule every searcher follows).
    func rank(faces: [Embedding], k: Int, metric: DistanceMetric, threshold: Float?) throws -> [(match: Match, list: Int)]
}

extension GallerySearch: GallerySearcher {
    public func rank(faces: [Embedding], k: Int, metric: DistanceMetric, threshold: Float?) -> [(match: Match, list: Int)] {
        Match.bestPerImage(faces.map { search($0, k: k, metric: metric) }, metric: metric, k: k, threshold: threshold)
    }
}

/// An in-memory search that follows a changing gallery without reloading it: the matrix loaded once (`base`),
/// the faces of images added or re-indexed since (`recent`, rebuilt on each change: it stays small), and the
/// ids of `base` images removed or replaced since (`hidden`, passed over by the search). A value, so that a
/// searcher holding a snapshot never sees a change half made; `needsCompaction` says when `recent` or `hidden`
/// have grown enough that a fresh load pays.
public struct LiveGallerySearch: GallerySearcher {
    public private(set) var base: GallerySearch
    public private(set) var recent: GallerySearch
    public private(set) var hidden: Set<Int64>
    public let precision: VectorPrecision
    /// Faces per image of `base`, by image id: which ids the base holds, and what hiding one takes away.
    private let baseFaces: [Int64: Int]
    private var hiddenFaces = 0

    /// `precision` as for `GallerySearch` (the base's; `recent` stays float32 and exact).
    public init(matrix: FaceMatrix, precision: VectorPrecision = .float32) {
        base = GallerySearch(matrix: matrix, precision: precision)
        recent = GallerySearch(matrix: FaceMatrix(dimension: matrix.dimension))
        hidden = []
        self.precision = precision
        var faces: [Int64: Int] = [:]
        faces.reserveCapacity(matrix.images.count)
        for image in matrix.images { faces[image.id] = 0 }
        for slot in matrix.faceImage { faces[matrix.images[Int(slot)].id, default: 0] += 1 }
        baseFaces = faces
    }

    /// Images and faces searched.
    public var counts: (images: Int, faces: Int) {
        (base.matrix.images.count - hidden.count + recent.matrix.images.count,
         base.matrix.faceCount - hiddenFaces + recent.matrix.faceCount)
    }

    /// The gallery after a change: the images `removed` (ids; removed or about to be replaced) no longer
    /// found, and the images of `added` (their new ids and faces) found. An id may be in both.
    public func applying(removed: Set<Int64>, added: FaceMatrix) -> LiveGallerySearch {
        var next = self
        // An added image can have the id a base image had (SQLite reuses the largest rowid after a delete).
        let replaced = removed.union(added.images.map(\.id))
        for id in replaced {
            if let faces = baseFaces[id], next.hidden.insert(id).inserted { next.hiddenFaces += faces }
        }
        var merged = recent.matrix.keeping { !replaced.contains($0.id) }
        merged.append(contentsOf: added)
        next.recent = GallerySearch(matrix: merged)
        return next
    }

    /// The search after a change to `store`: the images `removed` (ids) passed over and the images now at
    /// `paths` read back from the store, or, once the changes pass `needsCompaction`, the whole store loaded
    /// afresh (`reloaded`). What `facefind serve` does after each gallery change, and `bench --updates` measures.
    public func updated(from store: any GalleryStore, removed: Set<Int64>,
                        paths: [String]) throws -> (search: LiveGallerySearch, reloaded: Bool) {
        let next = applying(removed: removed, added: try store.loadFaceMatrix(paths: paths))
        guard next.needsCompaction else { return (next, false) }
        return (LiveGallerySearch(matrix: try store.loadFaceMatrix(), precision: precision), true)
    }

    /// Whether a fresh load would now search faster than the base with its hidden images and recent faces:
    /// more than an eighth of the base changed (at least 4,096 faces or 1,024 images, below which the extra
    /// work is a few milliseconds).
    public var needsCompaction: Bool {
        recent.matrix.faceCount > max(4_096, base.matrix.faceCount / 8)
            || hidden.count > max(1_024, base.matrix.images.count / 8)
    }

    public func rank(faces: [Embedding], k: Int, metric: DistanceMetric, threshold: Float?) -> [(match: Match, list: Int)] {
        let lists = faces.map { face in
            base.search(face, k: k, metric: metric, excluding: hidden) + recent.search(face, k: k, metric: metric)
        }
        return Match.bestPerImage(lists, metric: metric, k: k, threshold: threshold)
    }
}
