import Foundation

/// The vectors of a SQLite index in a file beside it (`INDEX.vectors`), searched without loading them: what lets
/// an embedded gallery grow past RAM. `facefind index --vector-file int8` keeps one; `search` uses it instead of
/// loading every vector (2 GB per million 512-d faces).
///
/// Search runs in two stages. A full scan of a million 512-d int8 faces reads 512 MB a query; through a mapping
/// those pages all count as the process's resident memory (545 MiB measured), and read with `pread` in blocks the
/// copy halves single-query speed (51 to 30 queries/s, `facefind bench --synthetic 1000000`, 2 cores). So the file
/// holds every face twice:
/// - projected onto the 128 directions that carry most of the gallery's energy (`PrincipalSubspace`, learned from
///   a sample when the file is written), in int8: 128 bytes a face, mapped and scanned by `VectorIndex`'s kernels
///   for a few hundred candidates a query;
/// - whole, at the chosen precision, with its face and image id (the rows' payload), read with `pread` for the
///   candidates only, which are scored exactly as stored.
/// Resident memory stays at the projections (about 130 MiB a million faces); the full vectors stay in the kernel's
/// shared, evictable page cache. Recall of the exact top 10 is measured by `facefind bench --synthetic N --db FILE`
/// and tested on 20k faces.
///
/// The header records the database's id and face change counter as they were when it was read (schema 4's
/// `face_changes`, moved by triggers in every transaction that inserts or deletes a face), so the two can never
/// silently disagree:
/// - the file is written whole under a temporary name and renamed over the old one only once synced to disk, so a
///   crash leaves the old file or the new one, never half of one;
/// - a file whose counter is not the database's (faces written after it, a crash between the two, a file copied
///   from another index) or that does not read back (truncated, foreign) is stale: `open` says so, and
///   `opened(store:rebuild:)` builds it again from the database, which is always the truth.
public final class GalleryVectorFile: GallerySearcher, @unchecked Sendable {
    /// The first stage: every face projected onto `subspace`, int8.
    public let index: VectorIndex
    public let subspace: PrincipalSubspace
    /// The precision of the full vectors the candidates are scored with.
    public let precision: VectorPrecision
    public let path: String
    private let store: SQLiteGalleryStore

    /// Directions of the first stage (embeddings of at most this many dimensions are searched as they are).
    public static let components = 128
    /// Faces sampled to learn them.
    public static let sampleSize = 8_192

    /// Candidates the first stage keeps for a top-`k` search: at least 256 (recall@10 measured at a million faces).
    public static func candidates(k: Int) -> Int { max(256, 8 * k) }

    /// What `open` found.
    public enum Status {
        /// No vector file: the index is searched in memory.
        case absent
        case current(GalleryVectorFile)
        /// A file that does not match the database, and why; `precision` is the file's own when it could be read.
        case stale(reason: String, precision: VectorPrecision?)
    }

    private init(index: VectorIndex, subspace: PrincipalSubspace, precision: VectorPrecision, path: String,
                 store: SQLiteGalleryStore) {
        self.index = index; self.subspace = subspace; self.precision = precision; self.path = path
        self.store = store
    }

    /// Faces in the file.
    public var count: Int { index.count }

    /// Bytes of a row's payload: face id, image id, then the vector (int8: its step, then a byte a value).
    static func payloadBytes(dimension: Int, precision: VectorPrecision) -> Int {
        let vector = precision == .int8 ? 4 + dimension : dimension * precision.bytesPerValue
        return (16 + vector + 7) / 8 * 8
    }

    /// The vector file of `store`, checked against it (see the type's description).
    public static func open(store: SQLiteGalleryStore) throws -> Status {
        let path = store.vectorFilePath
        guard FileManager.default.fileExists(atPath: path) else { return .absent }
        let index: VectorIndex
        do { index = try VectorIndex.open(path: path) } catch {
            return .stale(reason: "\(error)", precision: nil)
        }
        let extra = index.extra
        guard extra.count >= 8, let precision = VectorPrecision(code: extra.loadUnaligned(as: UInt32.self)),
              let subspace = PrincipalSubspace(encoded: UnsafeRawBufferPointer(rebasing: extra[8...])),
              Int(extra.loadUnaligned(fromByteOffset: 4, as: UInt32.self)) == subspace.inputDimension,
              subspace.components == index.dimension, index.precision == .int8,
              index.payloadBytes == payloadBytes(dimension: subspace.inputDimension, precision: precision) else {
            return .stale(reason: "\(path): not a gallery vector file", precision: nil)
        }
        let state = try store.faceChangeState()
        guard index.tag.0 == state.database else {
            return .stale(reason: "\(path) was made from another index", precision: precision)
        }
        guard index.tag.1 == state.changes else {
            return .stale(reason: "\(path) is behind its index (face change \(index.tag.1), the index is at "
                          + "\(state.changes))", precision: precision)
        }
        return .current(GalleryVectorFile(index: index, subspace: subspace, precision: precision, path: path,
                                          store: store))
    }

    /// The current vector file of `store`, built again first when it is stale and `rebuild` is true (nil: no
    /// vector file, or a stale one not rebuilt). `log` hears why a file is rebuilt or passed over.
    public static func opened(store: SQLiteGalleryStore, rebuild: Bool, log: (String) -> Void = { _ in }) throws -> GalleryVectorFile? {
        switch try open(store: store) {
        case .absent: return nil
        case .current(let file): return file
        case .stale(let reason, let precision):
            guard rebuild else {
                log("\(reason); searching the index in memory instead")
                return nil
            }
            log("\(reason); rebuilding it from the index")
            return try build(store: store, precision: precision ?? .int8)
        }
    }

    /// Writes the vector file of `store` afresh, its full vectors at `precision` (under a temporary name, synced,
    /// then renamed over the old one), and opens it. Two passes over the index in one read transaction: a sample
    /// for the subspace, then every face.
    @discardableResult
    public static func build(store: SQLiteGalleryStore, precision: VectorPrecision) throws -> GalleryVectorFile {
        let path = store.vectorFilePath
        let temporary = path + ".tmp-\(getpid())"
        defer { unlink(temporary) }
        let dimension = try store.settings()?.dimension ?? 0
        guard dimension > 0 else {
            throw GalleryError.notFound("\(store.name) holds no index; run `facefind index FOLDER` on it first")
        }
        let rowBytes = payloadBytes(dimension: dimension, precision: precision)
        func vector(_ row: SQLiteGalleryStore.FaceVectorRow) throws -> Data {
            guard row.vector.count == dimension * 4 else {
                throw GalleryError.storage(store: store.name, message: "face \(row.faceID): its vector is not \(dimension)-d")
            }
            return row.vector
        }
        try store.readFaceVectors { state, count, pass in
            let subspace: PrincipalSubspace
            if dimension <= components {
                subspace = .identity(dimension)
            } else {
                let every = max(1, count / sampleSize)
                var samples: [Float] = []
                let next = try pass()
                var n = 0
                while let row = try next() {
                    if n % every == 0, samples.count < sampleSize * dimension {
                        try vector(row).withUnsafeBytes { samples += $0.bindMemory(to: Float.self) }
                    }
                    n += 1
                }
                subspace = PrincipalSubspace.learn(samples: samples, dimension: dimension, components: components)
            }
            var extra: [UInt8] = []
            withUnsafeBytes(of: precision.code) { extra += $0 }
            withUnsafeBytes(of: UInt32(dimension)) { extra += $0 }
            extra += subspace.encoded
            let next = try pass()
            var block: [SQLiteGalleryStore.FaceVectorRow] = []
            _ = try VectorIndex.build(
                count: count, dimension: subspace.components, precision: .int8, path: temporary, blockRows: 8192,
                payloadBytes: rowBytes, tag: (state.database, state.changes), extra: extra,
                fill: { range, out in
                    block.removeAll(keepingCapacity: true)
                    for i in 0..<range.count {
                        guard let row = try next() else {
                            throw GalleryError.storage(store: store.name, message: "fewer faces than counted")
                        }
                        try vector(row).withUnsafeBytes { raw in
                            subspace.project(raw.bindMemory(to: Float.self).baseAddress!,
                                             into: out.baseAddress! + i * subspace.components)
                        }
                        block.append(row)
                    }
                },
                payload: { range, raw in
                    for (i, row) in block.enumerated() {
                        row.vector.withUnsafeBytes { v in
                            encode(row, v.bindMemory(to: Float.self), into: raw.baseAddress! + i * rowBytes,
                                   precision: precision)
                        }
                    }
                })
        }
        guard rename(temporary, path) == 0 else {
            throw VectorIndexError.io(path: path, message: "cannot replace it: \(String(cString: strerror(errno)))")
        }
        guard case .current(let file) = try open(store: store) else {
            throw GalleryError.storage(store: store.name, message: "the index changed while \(path) was written; run again")
        }
        return file
    }

    /// One row's payload: ids, then the vector at `precision`.
    private static func encode(_ row: SQLiteGalleryStore.FaceVectorRow, _ v: UnsafeBufferPointer<Float>,
                               into out: UnsafeMutableRawPointer, precision: VectorPrecision) {
        out.storeBytes(of: row.faceID, as: Int64.self)
        out.storeBytes(of: row.imageID, toByteOffset: 8, as: Int64.self)
        switch precision {
        case .float32:
            (out + 16).copyMemory(from: v.baseAddress!, byteCount: v.count * 4)
        case .float16:
            for (k, x) in v.enumerated() { out.storeBytes(of: Float16(x), toByteOffset: 16 + 2 * k, as: Float16.self) }
        case .int8:
            let largest = v.reduce(0) { max($0, abs($1)) }
            let step: Float = largest > 0 ? largest / 127 : 1
            out.storeBytes(of: step, toByteOffset: 16, as: Float.self)
            for (k, x) in v.enumerated() {
                out.storeBytes(of: Int8(clamping: Int((x / step).rounded())), toByteOffset: 20 + k, as: Int8.self)
            }
        }
    }

    /// The face and image ids of `row`, read with `pread` (`VectorIndex.readPayload`): touching the payload
    /// through the mapping would make resident a whole folio of the page cache per row (64 search queries grew the
    /// process by 450 MiB that way).
    public func ids(row: Int) -> (face: Int64, image: Int64) {
        var ids: (Int64, Int64) = (-1, -1)
        let read = withUnsafeMutableBytes(of: &ids) { index.readPayload(row: row, into: $0.baseAddress!, bytes: 16) }
        return read ? (ids.0, ids.1) : (-1, -1)
    }

    /// The `k` nearest faces (rows) of each query, best first (ties: lower row first), scored exactly at the file's
    /// precision: cosine similarity, or euclidean distance. The first stage keeps `candidates` a query.
    public func nearest(_ queries: [[Float]], k: Int, metric: DistanceMetric = .cosine, candidates: Int? = nil,
                        threads: Int = ProcessInfo.processInfo.activeProcessorCount) -> [[VectorIndex.Neighbor]] {
        guard !queries.isEmpty else { return [] }
        let k = min(k, count)
        guard k > 0 else { return queries.map { _ in [] } }
        let wanted = min(count, max(k, candidates ?? Self.candidates(k: k)))
        let shortlists = index.search(queries.map { subspace.project($0) }, k: wanted, metric: metric, threads: threads)
        var results = [[VectorIndex.Neighbor]](repeating: [], count: queries.count)
        let workers = max(1, min(threads, queries.count))
        let rowBytes = index.payloadBytes
        results.withUnsafeMutableBufferPointer { out in
            let out = SendablePointer(out.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let buffer = UnsafeMutableRawPointer.allocate(byteCount: rowBytes, alignment: 16)
                defer { buffer.deallocate() }
                for q in stride(from: worker, to: queries.count, by: workers) {
                    out.pointer[q] = rescore(queries[q], rows: shortlists[q].map(\.row), k: k, metric: metric,
                                             buffer: buffer)
                }
            }
        }
        return results
    }

    /// The best `k` of `rows`, each read whole (`pread`, in file order) and scored exactly.
    private func rescore(_ query: [Float], rows: [Int], k: Int, metric: DistanceMetric,
                         buffer: UnsafeMutableRawPointer) -> [VectorIndex.Neighbor] {
        let d = subspace.inputDimension
        let queryNorm = query.reduce(0) { $0 + $1 * $1 }
        var scored: [VectorIndex.Neighbor] = []
        scored.reserveCapacity(rows.count)
        query.withUnsafeBufferPointer { q in
            for row in rows.sorted() {
                guard index.readPayload(row: row, into: buffer) else { continue } // the file was checked whole on open
                var dot: Float = 0, squared: Float = 0
                switch precision {
                case .float32:
                    let v = UnsafeRawPointer(buffer + 16).assumingMemoryBound(to: Float.self)
                    for j in 0..<d { dot += v[j] * q[j]; squared += v[j] * v[j] }
                case .float16:
                    let v = UnsafeRawPointer(buffer + 16).assumingMemoryBound(to: Float16.self)
                    for j in 0..<d { let x = Float(v[j]); dot += x * q[j]; squared += x * x }
                case .int8:
                    let step = buffer.load(fromByteOffset: 16, as: Float.self)
                    let v = UnsafeRawPointer(buffer + 20).assumingMemoryBound(to: Int8.self)
                    for j in 0..<d { let x = Float(v[j]); dot += x * q[j]; squared += x * x }
                    dot *= step; squared *= step * step
                }
                let score = metric == .cosine ? dot : max(queryNorm + squared - 2 * dot, 0).squareRoot()
                scored.append(VectorIndex.Neighbor(row: row, score: score))
            }
        }
        scored.sort { a, b in
            a.score != b.score ? (metric.higherIsCloser ? a.score > b.score : a.score < b.score) : a.row < b.row
        }
        return Array(scored.prefix(k))
    }

    public func rank(faces: [Embedding], k: Int, metric: DistanceMetric, threshold: Float?) throws -> [(match: Match, list: Int)] {
        Match.bestPerImage(try faces.map { try search($0, k: k, metric: metric) }, metric: metric, k: k,
                           threshold: threshold)
    }

    /// The `k` best images for one query face, each by its best face, ranked; images with an id in `excluding`
    /// are passed over (removed since the file was written: `LiveGallerySearch`).
    public func search(_ query: Embedding, k: Int, metric: DistanceMetric = .cosine,
                       excluding: Set<Int64> = []) throws -> [Match] {
        guard count > 0, k > 0 else { return [] }
        let picked = bestFacesOfFirstImages(
            k: k, faceCount: count, passedOver: excluding.count,
            nearest: { nearest([query.vector], k: $0, metric: metric)[0] },
            image: { face in
                let ids = ids(row: face.row)
                return excluding.contains(ids.image) ? nil : (ids.image, ids.face)
            })
        let details = try store.faceDetails(ids: picked.map(\.info))
        return picked.compactMap { pick -> Match? in
            guard let d = details[pick.info] else { return nil } // removed since the file was opened
            return Match(rank: 0, imageID: d.imageID, path: d.path, score: pick.neighbor.score, faceID: pick.info,
                         box: d.box, isWholeImage: d.isWholeImage)
        }.enumerated().map { rank, match in
            var match = match
            match.rank = rank + 1
            return match
        }
    }

    /// How many faces of image `id` the file holds: its rows are in image id order, so a binary search.
    public func faceCount(ofImage id: Int64) -> Int {
        func firstRow(atLeast id: Int64) -> Int {
            var lo = 0, hi = count
            while lo < hi {
                let mid = (lo + hi) / 2
                if ids(row: mid).image < id { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
        return firstRow(atLeast: id + 1) - firstRow(atLeast: id)
    }

    /// Distinct images among the file's faces (from the index, which the file matches when current).
    public func imageCount() throws -> Int { try store.imageCountWithFaces() }
}

/// A pointer handed to concurrent workers that each write their own elements.
struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
