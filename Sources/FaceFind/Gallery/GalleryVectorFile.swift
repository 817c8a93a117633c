import Foundation
import Logging

/// The vectors of a SQLite index in a file beside it (`INDEX.vectors`), searched without loading them: what lets
/// an embedded gallery grow past RAM. `facefind index --vector-file int8` keeps one; `search` uses it instead of
/// loading every vector (2 GB per million 512-d faces).
///
/// Search runs in two stages. A full scan of a million 512-d int8 faces reads 512 MB a query; through a mapping
/// those pages all count as the process's resident memory (545 MiB measured), and read with `pread` in blocks the
/// copy halves single-query speed (51 to 30 queries/s, `facefind bench --synthetic 1000000`, 2 cores). So the file
/// holds every face twice:
/// - projected onto the 128 directions that carry most of the gallery's energy (`PrincipalSubspace`, learned from
///   a sample when the file is written), in int8: 128 bytes a face, read into memory at open and scanned by
///   `VectorIndex`'s kernels for a few hundred candidates a query;
/// - whole, at the chosen precision, with its face and image id (the rows' payload), read with `pread` for the
///   candidates only, which are scored exactly as stored.
/// Resident memory stays at the projections (about 130 MiB a million faces); the full vectors stay in the kernel's
/// shared, evictable page cache. Recall of the exact top 10 is measured by `facefind bench --synthetic N --db FILE`
/// and tested on 20k faces.
///
/// The header records the database's id, face change counter and change token as they were when it was read
/// (`face_changes`, moved by triggers in every transaction that inserts or deletes a face), so the two can never
/// silently disagree:
/// - the file is written whole under a temporary name and renamed over the old one only once synced to disk, so a
///   crash leaves the old file or the new one, never half of one (and the temporary files of dead processes are
///   removed by the next open);
/// - a file whose counter or token is not the database's (faces written after it, a crash between the two, a
///   file copied from another index or from a copy of this one changed apart) or that does not read back
///   (truncated, foreign, a checksum that does not match) is stale: `open` says so, and `opened(store:rebuild:)`
///   builds it again from the database, which is always the truth;
/// - while searching, every row read is checked against its checksum and every face it names against the
///   index, and the file against what it was when opened (written in place, truncated): a file that fails is
///   rebuilt from the index with a warning (in memory when its folder cannot be written) and the query is
///   answered from the rebuilt one. Never a wrong answer, never a refusal while the index is fine (issue 25).
public final class GalleryVectorFile: GallerySearcher, @unchecked Sendable {
    /// One reading of the file (or of its stand-in in memory): immutable, replaced whole by `repair`.
    final class Contents: @unchecked Sendable {
        /// The first stage: every face projected onto `subspace`, int8.
        let index: VectorIndex
        let subspace: PrincipalSubspace
        init(index: VectorIndex, subspace: PrincipalSubspace) { self.index = index; self.subspace = subspace }
    }

    /// A check failed while searching: the file is rebuilt.
    struct Damage: Error { let reason: String }

    private let lock = NSLock()
    /// Held while a damaged file is rebuilt, so that queries that all find the damage rebuild it once.
    private let repairLock = NSLock()
    private var contents: Contents
    private var repairCount = 0
    /// The precision of the full vectors the candidates are scored with.
    public let precision: VectorPrecision
    public let path: String
    private let store: SQLiteGalleryStore
    private let log: @Sendable (String) -> Void

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

    private init(contents: Contents, precision: VectorPrecision, path: String, store: SQLiteGalleryStore,
                 log: @escaping @Sendable (String) -> Void) {
        self.contents = contents; self.precision = precision; self.path = path; self.store = store; self.log = log
    }

    /// What searches read now.
    private var current: Contents { lock.withLock { contents } }

    /// The first stage: every face projected onto `subspace`, int8.
    public var index: VectorIndex { current.index }
    public var subspace: PrincipalSubspace { current.subspace }
    /// Faces in the file.
    public var count: Int { current.index.count }
    /// How many times a check failed while searching and the file was rebuilt.
    public var repairs: Int { lock.withLock { repairCount } }

    /// Where warnings go when the caller names no `log`.
    public static let defaultLog: @Sendable (String) -> Void = { Logger(label: "facefind.vectors").warning("\($0)") }

    /// Bytes of a row's payload: face id, image id, then the vector (int8: its step, then a byte a value).
    /// `VectorIndex` follows each with its checksum.
    static func payloadBytes(dimension: Int, precision: VectorPrecision) -> Int {
        16 + (precision == .int8 ? 4 + dimension : dimension * precision.bytesPerValue)
    }

    /// The precision and subspace in `index`'s extra bytes, or why they are not a gallery vector file's.
    private static func contents(of index: VectorIndex) -> (Contents, VectorPrecision)? {
        let extra = index.extra
        // The subspace's own sizes are checked first: `PrincipalSubspace(encoded:)` multiplies them.
        guard extra.count >= 16, let precision = VectorPrecision(code: extra.loadUnaligned(as: UInt32.self)) else { return nil }
        let dimension = Int(extra.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let encodedDimension = Int(extra.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        let encodedComponents = Int(extra.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        guard dimension > 0, dimension <= VectorIndex.maxDimension, encodedDimension == dimension,
              encodedComponents == index.dimension, extra.count == 16 + 4 * dimension * encodedComponents,
              let subspace = PrincipalSubspace(encoded: UnsafeRawBufferPointer(rebasing: extra[8...])),
              // Orthonormal rows: every value in [-1, 1]. A NaN or infinity would make every projected query
              // one, which the int8 quantisation of queries cannot take.
              subspace.basis.allSatisfy({ $0.isFinite && abs($0) <= 1.001 }),
              index.precision == .int8,
              index.payloadBytes == payloadBytes(dimension: dimension, precision: precision) else { return nil }
        return (Contents(index: index, subspace: subspace), precision)
    }

    /// The vector file of `store`, checked against it (see the type's description). `log` hears why the file is
    /// rebuilt if a check fails while searching it.
    public static func open(store: SQLiteGalleryStore,
                            log: @escaping @Sendable (String) -> Void = defaultLog) throws -> Status {
        let path = store.vectorFilePath
        removeStaleTemporaryFiles(of: path)
        guard FileManager.default.fileExists(atPath: path) else { return .absent }
        let index: VectorIndex
        do { index = try VectorIndex.open(path: path) } catch {
            // The precision is kept when the header still says it (a damaged file is rebuilt as it was).
            let dimension = (try? store.settings()?.dimension) ?? nil
            var precision: VectorPrecision?
            if let dimension, let bytes = VectorIndex.payloadBytesInHeader(path: path) {
                precision = VectorPrecision.allCases.first { payloadBytes(dimension: dimension, precision: $0) == bytes }
            }
            return .stale(reason: "\(error)", precision: precision)
        }
        guard let (contents, precision) = contents(of: index).map({ ($0.0, $0.1) }) else {
            return .stale(reason: "\(path): not a gallery vector file", precision: nil)
        }
        let dimension = try store.settings()?.dimension ?? 0
        guard contents.subspace.inputDimension == dimension else {
            // Queries have the index's dimension: a file of another would be read past their end.
            return .stale(reason: "\(path) holds \(contents.subspace.inputDimension)-d vectors, the index \(dimension)-d",
                          precision: precision)
        }
        let state = try store.faceChangeState()
        guard index.tag.0 == state.database else {
            return .stale(reason: "\(path) was made from another index", precision: precision)
        }
        guard index.tag.1 == state.changes else {
            return .stale(reason: "\(path) is behind its index (face change \(index.tag.1), the index is at "
                          + "\(state.changes))", precision: precision)
        }
        guard index.tag.2 == state.token else {
            return .stale(reason: "\(path) was made from a copy of its index that changed apart from it (the same "
                          + "face change \(state.changes), another change token)", precision: precision)
        }
        return .current(GalleryVectorFile(contents: contents, precision: precision, path: path, store: store, log: log))
    }

    /// The current vector file of `store`, built again first when it is stale and `rebuild` is true (nil: no
    /// vector file, or a stale one not rebuilt). `log` hears why a file is rebuilt or passed over, now or later.
    public static func opened(store: SQLiteGalleryStore, rebuild: Bool,
                              log: @escaping @Sendable (String) -> Void = defaultLog) throws -> GalleryVectorFile? {
        switch try open(store: store, log: log) {
        case .absent: return nil
        case .current(let file): return file
        case .stale(let reason, let precision):
            guard rebuild else {
                log("\(reason); searching the index in memory instead")
                return nil
            }
            log("\(reason); rebuilding it from the index")
            return try build(store: store, precision: precision ?? .int8, log: log)
        }
    }

    /// Writes the vector file of `store` afresh, its full vectors at `precision` (under a temporary name, synced,
    /// then renamed over the old one), and opens it. Two passes over the index in one read transaction: a sample
    /// for the subspace, then every face.
    @discardableResult
    public static func build(store: SQLiteGalleryStore, precision: VectorPrecision,
                             log: @escaping @Sendable (String) -> Void = defaultLog) throws -> GalleryVectorFile {
        let (contents, state) = try write(store: store, precision: precision, to: store.vectorFilePath)
        let now = try store.faceChangeState()
        guard state.database == now.database, state.changes == now.changes, state.token == now.token else {
            throw GalleryError.storage(store: store.name, message: "the index changed while \(store.vectorFilePath) "
                                       + "was written; run again")
        }
        return GalleryVectorFile(contents: contents, precision: precision, path: store.vectorFilePath, store: store,
                                 log: log)
    }

    /// The name a process writes the file under before renaming it into place: the path, ".tmp-", the writer's
    /// process id, and a random number (two rebuilds in one process never share a file).
    static func temporaryPath(of path: String) -> String {
        path + ".tmp-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }

    /// Removes the temporary files beside `path` left by processes that are gone (a killed `index`, issue 25); a
    /// live process's are kept (it may be writing one now). Returns the paths removed.
    @discardableResult
    static func removeStaleTemporaryFiles(of path: String) -> [String] {
        let folder = (path as NSString).deletingLastPathComponent
        let prefix = (path as NSString).lastPathComponent + ".tmp-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder) else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }), pid > 0 else { continue }
            guard kill(pid, 0) != 0, errno == ESRCH else { continue }
            let stale = folder.isEmpty ? name : (folder as NSString).appendingPathComponent(name)
            if unlink(stale) == 0 { removed.append(stale) }
        }
        return removed
    }

    /// Writes the vector file of `store` at `precision` to `path` (under a temporary name, synced, checked by
    /// opening it, then renamed into place), or into memory when `path` is nil; returns what it holds and the
    /// state of the index it was read at.
    private static func write(store: SQLiteGalleryStore, precision: VectorPrecision,
                              to path: String?) throws -> (Contents, SQLiteGalleryStore.VectorFileState) {
        let temporary = path.map(temporaryPath(of:))
        defer { if let temporary { unlink(temporary) } }
        if let path { removeStaleTemporaryFiles(of: path) }
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
        // The index built is kept only in memory: one written to a file keeps a writable mapping of it, let go
        // before the file is opened again.
        var built: (index: VectorIndex?, subspace: PrincipalSubspace, state: SQLiteGalleryStore.VectorFileState)?
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
            let index = try VectorIndex.build(
                count: count, dimension: subspace.components, precision: .int8, path: temporary, blockRows: 8192,
                payloadBytes: rowBytes, tag: (state.database, state.changes, state.token), extra: extra,
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
            built = (path == nil ? index : nil, subspace, state)
        }
        guard let (subspace, state) = built.map({ ($0.subspace, $0.state) }) else {
            throw GalleryError.storage(store: store.name, message: "the index could not be read")
        }
        guard let path, let temporary else { return (Contents(index: built!.index!, subspace: subspace), state) }
        // Opened again from disk, every checksum checked, before it takes the place of the old file; the index
        // opened keeps reading this file whatever is renamed over its name later.
        let index = try VectorIndex.open(path: temporary)
        guard let contents = contents(of: index)?.0 else {
            throw VectorIndexError.damaged(path: temporary, message: "it does not read back as written")
        }
        guard rename(temporary, path) == 0 else {
            throw VectorIndexError.io(path: path, message: "cannot replace it: \(String(cString: strerror(errno)))")
        }
        return (contents, state)
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

    // MARK: - Searching, with every read checked

    /// Runs `body` on the current contents; when a check fails, rebuilds the file from the index (`repair`) and
    /// runs it once more on the rebuilt one. A second failure is thrown.
    private func healing<T>(_ body: (Contents) throws -> T) throws -> T {
        let first = current
        do { return try body(first) } catch let damage as Damage {
            let repaired = try repair(first, because: damage.reason)
            do { return try body(repaired) } catch let again as Damage {
                throw VectorIndexError.damaged(path: path, message: again.reason)
            }
        }
    }

    /// Replaces `failed` by a file written afresh from the index (or, when the file cannot be written, the same
    /// in memory), unless another query already did.
    private func repair(_ failed: Contents, because reason: String) throws -> Contents {
        repairLock.lock()
        defer { repairLock.unlock() }
        let now = current
        if now !== failed { return now }
        log("\(path): \(reason); rebuilding it from the index")
        let fresh: Contents
        do {
            fresh = try Self.write(store: store, precision: precision, to: path).0
        } catch {
            log("\(path) cannot be rebuilt (\(error)); searching a copy of it in memory instead")
            fresh = try Self.write(store: store, precision: precision, to: nil).0
        }
        lock.withLock { contents = fresh; repairCount += 1 }
        return fresh
    }

    /// Throws when the opened file was written or truncated since it was opened.
    private func checkFile(_ c: Contents) throws {
        if let change = c.index.fileChange() { throw Damage(reason: change) }
    }

    /// A face found by the two stages: its row, score, and ids as its checked row gives them.
    private struct Found {
        var neighbor: VectorIndex.Neighbor
        var face: Int64
        var image: Int64
    }

    /// The face and image ids of `row`, read with `pread` and checked against the row's checksum (the whole row
    /// is read: a checksum covers the row). Throws when the row is not what was written.
    public func ids(row: Int) throws -> (face: Int64, image: Int64) {
        let c = current
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: c.index.payloadStride, alignment: 16)
        defer { buffer.deallocate() }
        do { return try Self.ids(c, row: row, buffer: buffer) } catch let damage as Damage {
            throw VectorIndexError.damaged(path: path, message: damage.reason)
        }
    }

    private static func ids(_ c: Contents, row: Int, buffer: UnsafeMutableRawPointer) throws -> (face: Int64, image: Int64) {
        guard c.index.readPayload(row: row, into: buffer) else {
            throw Damage(reason: "row \(row) does not read back as written (checksum)")
        }
        return (buffer.load(as: Int64.self), buffer.load(fromByteOffset: 8, as: Int64.self))
    }

    /// The `k` nearest faces (rows) of each query, best first (ties: lower row first), scored exactly at the file's
    /// precision: cosine similarity, or euclidean distance. The first stage keeps `candidates` a query.
    public func nearest(_ queries: [[Float]], k: Int, metric: DistanceMetric = .cosine, candidates: Int? = nil,
                        threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> [[VectorIndex.Neighbor]] {
        try healing { c in
            try checkFile(c)
            return try found(c, queries, k: k, metric: metric, candidates: candidates, threads: threads)
                .map { $0.map(\.neighbor) }
        }
    }

    private func found(_ c: Contents, _ queries: [[Float]], k: Int, metric: DistanceMetric, candidates: Int?,
                       threads: Int) throws -> [[Found]] {
        guard !queries.isEmpty else { return [] }
        for q in queries {
            precondition(q.count == c.subspace.inputDimension, "query has \(q.count) dimensions, the file \(c.subspace.inputDimension)")
        }
        let k = min(k, c.index.count)
        guard k > 0 else { return queries.map { _ in [] } }
        let wanted = min(c.index.count, max(k, candidates ?? Self.candidates(k: k)))
        let shortlists = c.index.search(queries.map { c.subspace.project($0) }, k: wanted, metric: metric, threads: threads)
        var results = [Result<[Found], Damage>](repeating: .success([]), count: queries.count)
        let workers = max(1, min(threads, queries.count))
        let stride = c.index.payloadStride
        results.withUnsafeMutableBufferPointer { out in
            let out = SendablePointer(out.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let buffer = UnsafeMutableRawPointer.allocate(byteCount: stride, alignment: 16)
                defer { buffer.deallocate() }
                for q in Swift.stride(from: worker, to: queries.count, by: workers) {
                    out.pointer[q] = Result {
                        try Self.rescore(c, queries[q], rows: shortlists[q].map(\.row), k: k, metric: metric,
                                         precision: precision, buffer: buffer)
                    }.mapError { $0 as? Damage ?? Damage(reason: "\($0)") }
                }
            }
        }
        return try results.map { try $0.get() }
    }

    /// The best `k` of `rows`, each read whole (`pread`, in file order), checked, and scored exactly.
    private static func rescore(_ c: Contents, _ query: [Float], rows: [Int], k: Int, metric: DistanceMetric,
                                precision: VectorPrecision, buffer: UnsafeMutableRawPointer) throws -> [Found] {
        let d = c.subspace.inputDimension
        let queryNorm = query.reduce(0) { $0 + $1 * $1 }
        var scored: [Found] = []
        scored.reserveCapacity(rows.count)
        try query.withUnsafeBufferPointer { q in
            for row in rows.sorted() {
                let (face, image) = try ids(c, row: row, buffer: buffer)
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
                scored.append(Found(neighbor: VectorIndex.Neighbor(row: row, score: score), face: face, image: image))
            }
        }
        scored.sort { a, b in
            let (x, y) = (a.neighbor, b.neighbor)
            return x.score != y.score ? (metric.higherIsCloser ? x.score > y.score : x.score < y.score) : x.row < y.row
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
        try healing { c in try search(c, query, k: k, metric: metric, excluding: excluding) }
    }

    private func search(_ c: Contents, _ query: Embedding, k: Int, metric: DistanceMetric,
                        excluding: Set<Int64>) throws -> [Match] {
        try checkFile(c)
        let count = c.index.count
        guard count > 0, k > 0 else { return [] }
        // The rule of `bestFacesOfFirstImages` (the first k images met in face order are the k best), here with
        // reads that can fail: twice the images wanted, widened four-fold until k images or every face.
        var wanted = (k + excluding.count) * 2
        var picked: [Found] = []
        while true {
            let faces = try found(c, [query.vector], k: min(wanted, count), metric: metric, candidates: nil,
                                  threads: ProcessInfo.processInfo.activeProcessorCount)[0]
            var seen = Set<Int64>()
            picked = []
            for face in faces where !excluding.contains(face.image) && seen.insert(face.image).inserted {
                picked.append(face)
                if picked.count == k { break }
            }
            if picked.count == k || faces.count >= count { break }
            wanted *= 4
        }
        let details = try store.faceDetails(ids: picked.map(\.face))
        // Each face returned is checked whole against the index: its row must be, byte for byte, the index's face
        // (ids and vector) as `encode` writes it. A face id, image id or vector changed in a way its checksum
        // does not show (a row rewritten with a valid checksum) is found here, so no photo is returned for
        // another's face and no score is the file's alone.
        let payloadBytes = c.index.payloadBytes, dimension = c.subspace.inputDimension
        let fileRow = UnsafeMutableRawPointer.allocate(byteCount: c.index.payloadStride, alignment: 16)
        let expected = UnsafeMutableRawPointer.allocate(byteCount: payloadBytes, alignment: 16)
        defer { fileRow.deallocate(); expected.deallocate() }
        var matches: [Match] = []
        for pick in picked {
            guard let d = details[pick.face] else { continue } // removed since the file was opened
            let row = pick.neighbor.row
            guard d.imageID == pick.image else {
                throw Damage(reason: "row \(row) gives face \(pick.face) to image \(pick.image), the index to image \(d.imageID)")
            }
            _ = try Self.ids(c, row: row, buffer: fileRow)
            guard d.vector.count == dimension * 4 else {
                throw GalleryError.storage(store: store.name, message: "face \(pick.face): its vector is not \(dimension)-d")
            }
            d.vector.withUnsafeBytes { v in
                Self.encode((pick.face, d.imageID, d.vector), v.bindMemory(to: Float.self), into: expected,
                            precision: precision)
            }
            guard memcmp(fileRow, expected, payloadBytes) == 0 else {
                throw Damage(reason: "row \(row) does not hold face \(pick.face) as the index has it")
            }
            matches.append(Match(rank: matches.count + 1, imageID: d.imageID, path: d.path, score: pick.neighbor.score,
                                 faceID: pick.face, box: d.box, isWholeImage: d.isWholeImage))
        }
        return matches
    }

    /// How many faces of image `id` the file holds: its rows are in image id order, so a binary search (0 when
    /// the file cannot be read even after a rebuild).
    public func faceCount(ofImage id: Int64) -> Int {
        (try? healing { c in
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: c.index.payloadStride, alignment: 16)
            defer { buffer.deallocate() }
            func firstRow(atLeast id: Int64) throws -> Int {
                var lo = 0, hi = c.index.count
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if try Self.ids(c, row: mid, buffer: buffer).image < id { lo = mid + 1 } else { hi = mid }
                }
                return lo
            }
            return try firstRow(atLeast: id + 1) - firstRow(atLeast: id)
        }) ?? 0
    }

    /// Distinct images among the file's faces (from the index, which the file matches when current).
    public func imageCount() throws -> Int { try store.imageCountWithFaces() }
}

/// A pointer handed to concurrent workers that each write their own elements.
struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
