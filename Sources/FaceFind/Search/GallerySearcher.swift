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

/// A search that follows a changing gallery without reloading it: the part loaded once (`base`: the matrix in
/// memory, or the index's vector file), the faces of images added or re-indexed since (`recent`, in memory,
/// rebuilt on each change: it stays small), and the ids of `base` images removed or replaced since (`hidden`,
/// passed over by the search). A value, so that a searcher holding a snapshot never sees a change half made;
/// `needsCompaction` says when `recent` or `hidden` have grown enough that a fresh load (or a rewritten vector
/// file) pays.
public struct LiveGallerySearch: GallerySearcher {
    /// What was loaded once.
    public enum Base: Sendable {
        /// The gallery's matrix in memory, and how many faces each of its images has.
        case memory(GallerySearch, facesPerImage: [Int64: Int])
        /// The index's vector file (`GalleryVectorFile`), searched without loading its vectors.
        case file(GalleryVectorFile)
    }

    public private(set) var base: Base
    public private(set) var recent: GallerySearch
    public private(set) var hidden: Set<Int64>
    public let precision: VectorPrecision
    /// Images and faces of `base`.
    private let baseCounts: (images: Int, faces: Int)
    private var hiddenFaces = 0

    /// `precision` as for `GallerySearch` (the base's; `recent` stays float32 and exact).
    public init(matrix: FaceMatrix, precision: VectorPrecision = .float32) {
        var faces: [Int64: Int] = [:]
        faces.reserveCapacity(matrix.images.count)
        for image in matrix.images { faces[image.id] = 0 }
        for slot in matrix.faceImage { faces[matrix.images[Int(slot)].id, default: 0] += 1 }
        base = .memory(GallerySearch(matrix: matrix, precision: precision), facesPerImage: faces)
        baseCounts = (matrix.images.count, matrix.faceCount)
        recent = GallerySearch(matrix: FaceMatrix(dimension: matrix.dimension))
        hidden = []
        self.precision = precision
    }

    /// Over the vector file of a SQLite index (current: see `GalleryVectorFile.opened`).
    public init(file: GalleryVectorFile) throws {
        base = .file(file)
        baseCounts = (try file.imageCount(), file.count)
        recent = GallerySearch(matrix: FaceMatrix(dimension: file.subspace.inputDimension))
        hidden = []
        precision = file.precision
    }

    /// Images and faces searched.
    public var counts: (images: Int, faces: Int) {
        (baseCounts.images - hidden.count + recent.matrix.images.count,
         baseCounts.faces - hiddenFaces + recent.matrix.faceCount)
    }

    /// Faces of image `id` in `base` (0: not there).
    private func baseFaces(ofImage id: Int64) -> Int {
        switch base {
        case .memory(_, let faces): return faces[id] ?? 0
        case .file(let file): return file.faceCount(ofImage: id)
        }
    }

    /// The gallery after a change: the images `removed` (ids; removed or about to be replaced) no longer
    /// found, and the images of `added` (their new ids and faces) found. An id may be in both.
    public func applying(removed: Set<Int64>, added: FaceMatrix) -> LiveGallerySearch {
        var next = self
        // An added image can have the id a base image had (SQLite reuses the largest rowid after a delete).
        let replaced = removed.union(added.images.map(\.id))
        for id in replaced where !next.hidden.contains(id) {
            let faces = baseFaces(ofImage: id)
            if faces > 0 {
                next.hidden.insert(id)
                next.hiddenFaces += faces
            }
        }
        var merged = recent.matrix.keeping { !replaced.contains($0.id) }
        merged.append(contentsOf: added)
        next.recent = GallerySearch(matrix: merged)
        return next
    }

    /// The search after a change to `store`: the images `removed` (ids) passed over and the images now at
    /// `paths` read back from the store, or, once the changes pass `needsCompaction`, the whole store loaded
    /// afresh or its vector file rewritten (`reloaded`). What `facefind serve` does after each gallery change, and
    /// `bench --updates` measures.
    public func updated(from store: any GalleryStore, removed: Set<Int64>,
                        paths: [String]) throws -> (search: LiveGallerySearch, reloaded: Bool) {
        let next = applying(removed: removed, added: try store.loadFaceMatrix(paths: paths))
        guard next.needsCompaction else { return (next, false) }
        if case .file(let file) = base, let sqlite = store as? SQLiteGalleryStore {
            return (try LiveGallerySearch(file: try GalleryVectorFile.build(store: sqlite, precision: file.precision)), true)
        }
        return (LiveGallerySearch(matrix: try store.loadFaceMatrix(), precision: precision), true)
    }

    /// Whether a fresh load would now search faster than the base with its hidden images and recent faces:
    /// more than an eighth of the base changed (at least 4,096 faces or 1,024 images, below which the extra
    /// work is a few milliseconds). Over a vector file, `recent` is in memory: at most 16,384 faces (32 MiB at
    /// 512-d) before the file is rewritten.
    public var needsCompaction: Bool {
        var recentLimit = max(4_096, baseCounts.faces / 8)
        if case .file = base { recentLimit = min(recentLimit, 16_384) }
        return recent.matrix.faceCount > recentLimit || hidden.count > max(1_024, baseCounts.images / 8)
    }

    public func rank(faces: [Embedding], k: Int, metric: DistanceMetric, threshold: Float?) throws -> [(match: Match, list: Int)] {
        let lists = try faces.map { face in
            let fromBase: [Match]
            switch base {
            case .memory(let search, _): fromBase = search.search(face, k: k, metric: metric, excluding: hidden)
            case .file(let file): fromBase = try file.search(face, k: k, metric: metric, excluding: hidden)
            }
            return fromBase + recent.search(face, k: k, metric: metric)
        }
        return Match.bestPerImage(lists, metric: metric, k: k, threshold: threshold)
    }
}
