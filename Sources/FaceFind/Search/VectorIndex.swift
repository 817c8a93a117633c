import CSearchKernels
import Foundation

/// How a `VectorIndex` stores each coordinate.
public enum VectorPrecision: String, Sendable, CaseIterable, Codable {
    /// Exact: 4 bytes a value.
    case float32
    /// IEEE half: 2 bytes, relative error about 5e-4; halves the memory a query must stream.
    case float16
    /// One signed byte a value with a per-vector step: a quarter of the memory, and VNNI integer dot
    /// products, which do four times the work of float FMAs per instruction.
    case int8

    var bytesPerValue: Int {
        switch self { case .float32: 4; case .float16: 2; case .int8: 1 }
    }

    var code: UInt32 {
        switch self { case .float32: 0; case .float16: 1; case .int8: 2 }
    }

    init?(code: UInt32) {
        switch code { case 0: self = .float32; case 1: self = .float16; case 2: self = .int8; default: return nil }
    }
}

public enum VectorIndexError: Error, CustomStringConvertible {
    case io(path: String, message: String)
    case format(path: String, message: String)

    public var description: String {
        switch self {
        case .io(let path, let message): return "\(path): \(message)"
        case .format(let path, let message): return "\(path): not a FaceFind vector index (\(message))"
        }
    }
}

/// Every face vector of a gallery in the panel-major layout of the search kernels (see
/// `CSearchKernels/include/search_kernels.h`), optionally in float16 or int8, in memory or memory-mapped
/// from a file: exact search over millions of faces with bounded work per query and no copy of the matrix.
///
/// Search runs one pass over the panels per batch of queries, split across threads; each thread scores a
/// block of panels for all queries into a small buffer and keeps a top-k heap per query, so memory does not
/// grow with the gallery, and a batch of 64 queries reads the gallery once instead of 64 times.
public final class VectorIndex: @unchecked Sendable {
    public let count: Int
    public let dimension: Int
    public let precision: VectorPrecision
    /// Dimension rounded up to 16 (zero padding leaves dot products unchanged).
    let paddedDimension: Int
    /// Panels of 16 rows, rounded up to an even number (the kernels take two at a time).
    let panelCount: Int
    /// The whole mapping: header, panels, row steps, squared norms.
    private let base: UnsafeMutableRawPointer
    private let mappedBytes: Int
    private let panelData: UnsafeRawPointer
    /// Per row: the int8 quantisation step (1 for other precisions).
    private let rowStep: UnsafePointer<Float>
    /// Per row: squared length of the original vector (for euclidean ranking); -inf scoring for pad rows.
    private let squaredNorms: UnsafePointer<Float>
    /// The opened file (`open(path:)`; -1 for an index built here), for `pread`: of the panels when `isStreamed`,
    /// of the payload by `readPayload`.
    private var fileDescriptor: Int32 = -1
    /// Set when the panels are read with `pread` into small per-thread buffers instead of through the mapping
    /// (`open(path:streamed: true)`): the panels then never count in this process's resident memory.
    public private(set) var isStreamed = false
    private var panelFileOffset = 0
    /// Bytes a row of the owner's payload, and where in the file the payload starts (row r at
    /// `payloadFileOffset + r * payloadBytes`: owners read it with `pread` so that it never becomes resident).
    public let payloadBytes: Int
    public let payloadFileOffset: Int
    /// The owner's bytes for the whole file (`build(extra:)`).
    public let extra: UnsafeRawBufferPointer
    private let payloadData: UnsafeRawPointer

    /// The owner's 16 bytes in the header (`build(tag:)`): `GalleryVectorFile` records there which state of
    /// its database the file was built from.
    public var tag: (UInt64, UInt64) {
        (base.load(fromByteOffset: 32, as: UInt64.self), base.load(fromByteOffset: 40, as: UInt64.self))
    }

    /// The payload of `row` (`payloadBytes` bytes).
    public func payload(row: Int) -> UnsafeRawBufferPointer {
        precondition(row >= 0 && row < count)
        return UnsafeRawBufferPointer(start: payloadData + row * payloadBytes, count: payloadBytes)
    }

    /// Reads `bytes` (at most `payloadBytes`) of the payload of `row` into `buffer` with `pread` for an opened file,
    /// so that the payload never becomes resident (through the mapping, a page-cache folio a row would); false when
    /// the read fails (the file was checked whole on open).
    public func readPayload(row: Int, into buffer: UnsafeMutableRawPointer, bytes: Int? = nil) -> Bool {
        precondition(row >= 0 && row < count)
        let bytes = min(bytes ?? payloadBytes, payloadBytes)
        guard fileDescriptor >= 0 else {
            buffer.copyMemory(from: payloadData + row * payloadBytes, byteCount: bytes)
            return true
        }
        return readFully(buffer, bytes, at: payloadFileOffset + row * payloadBytes) == bytes
    }

    /// `pread` until `count` bytes are in `buffer` or the file ends or fails; the bytes read.
    private func readFully(_ buffer: UnsafeMutableRawPointer, _ count: Int, at offset: Int) -> Int {
        var done = 0
        while done < count {
            let got = pread(fileDescriptor, buffer + done, count - done, off_t(offset + done))
            if got <= 0 { break }
            done += got
        }
        return done
    }

    /// The bytes a query must read: what bounds single-query speed.
    public var panelBytes: Int { panelCount * 16 * paddedDimension * precision.bytesPerValue }
    public var fileBytes: Int { mappedBytes }

    static let magic: UInt64 = 0x3130_4956_4646_4646 // "FFFFVI01" little-endian
    static let headerBytes = 64

    /// Where each section starts. After the panels, steps and norms of the first format, two optional sections
    /// for the owner, their sizes in the header (zero in files of the first format, which therefore still open):
    /// a payload of `payloadBytes` a row, and `extraBytes` for the whole file. `GalleryVectorFile` keeps each
    /// face's ids and full vector in the payload, and its projection in the extra bytes.
    struct Layout {
        var padded: Int, panels: Int, panelOffset: Int, stepOffset: Int, normOffset: Int
        var payloadOffset: Int, extraOffset: Int, total: Int
    }

    static func layout(count: Int, dimension: Int, precision: VectorPrecision, payloadBytes: Int = 0,
                       extraBytes: Int = 0) -> Layout {
        let padded = (dimension + 15) / 16 * 16
        var panels = (count + 15) / 16
        panels += panels % 2
        let rows = panels * 16
        let panelOffset = headerBytes
        let stepOffset = panelOffset + rows * padded * precision.bytesPerValue
        let normOffset = stepOffset + rows * 4
        let payloadOffset = normOffset + rows * 4
        let extraOffset = payloadOffset + count * payloadBytes
        return Layout(padded: padded, panels: panels, panelOffset: panelOffset, stepOffset: stepOffset,
                      normOffset: normOffset, payloadOffset: payloadOffset, extraOffset: extraOffset,
                      total: extraOffset + extraBytes)
    }

    private init(base: UnsafeMutableRawPointer, mappedBytes: Int, count: Int, dimension: Int,
                 precision: VectorPrecision, payloadBytes: Int, extraBytes: Int) {
        let l = Self.layout(count: count, dimension: dimension, precision: precision, payloadBytes: payloadBytes,
                            extraBytes: extraBytes)
        self.base = base; self.mappedBytes = mappedBytes
        self.payloadBytes = payloadBytes
        payloadFileOffset = l.payloadOffset
        extra = UnsafeRawBufferPointer(start: base + l.extraOffset, count: extraBytes)
        payloadData = UnsafeRawPointer(base + l.payloadOffset)
        self.count = count; self.dimension = dimension; self.precision = precision
        paddedDimension = l.padded; panelCount = l.panels
        panelData = UnsafeRawPointer(base + l.panelOffset)
        rowStep = UnsafePointer((base + l.stepOffset).assumingMemoryBound(to: Float.self))
        squaredNorms = UnsafePointer((base + l.normOffset).assumingMemoryBound(to: Float.self))
    }

    deinit {
        munmap(base, mappedBytes)
        if fileDescriptor >= 0 { close(fileDescriptor) }
    }

    // MARK: - Building

    /// Builds an index of `count` vectors supplied in blocks by `fill(range, buffer)` (row-major floats),
    /// in memory, or in the file at `path` (then memory-mapped, so it can exceed RAM).
    /// - Parameters:
    ///   - count: rows.
    ///   - dimension: values per row.
    ///   - precision: how each value is stored.
    ///   - path: the file to write (nil: in memory).
    ///   - blockRows: rows asked of `fill` at a time.
    ///   - payloadBytes: bytes the owner keeps per row, written by `payload(range, buffer)` after each block.
    ///   - tag: the owner's 16 bytes in the header.
    ///   - extra: the owner's bytes for the whole file.
    ///   - fill: writes the rows of a range into the buffer, row-major floats.
    ///   - payload: writes the payload of the rows of the block just filled.
    public static func build(count: Int, dimension: Int, precision: VectorPrecision, path: String? = nil,
                             blockRows: Int = 4096, payloadBytes: Int = 0,
                             tag: (UInt64, UInt64) = (0, 0), extra: [UInt8] = [],
                             fill: (Range<Int>, UnsafeMutableBufferPointer<Float>) throws -> Void,
                             payload: ((Range<Int>, UnsafeMutableRawBufferPointer) throws -> Void)? = nil) throws -> VectorIndex {
        let l = layout(count: count, dimension: dimension, precision: precision, payloadBytes: payloadBytes,
                       extraBytes: extra.count)
        let (base, bytes) = try map(bytes: l.total, path: path, create: true)
        let index = VectorIndex(base: base, mappedBytes: bytes, count: count, dimension: dimension, precision: precision,
                                payloadBytes: payloadBytes, extraBytes: extra.count)
        base.storeBytes(of: UInt64(extra.count), toByteOffset: 48, as: UInt64.self)
        if !extra.isEmpty {
            extra.withUnsafeBytes { (base + l.extraOffset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        }
        base.storeBytes(of: UInt32(payloadBytes), toByteOffset: 28, as: UInt32.self)
        base.storeBytes(of: tag.0, toByteOffset: 32, as: UInt64.self)
        base.storeBytes(of: tag.1, toByteOffset: 40, as: UInt64.self)
        // The magic number is written last: a file left by a build that died half-way has the full size
        // (ftruncate) but no magic, and `open` refuses it.
        base.storeBytes(of: precision.code, toByteOffset: 8, as: UInt32.self)
        base.storeBytes(of: UInt32(dimension), toByteOffset: 12, as: UInt32.self)
        base.storeBytes(of: UInt64(count), toByteOffset: 16, as: UInt64.self)
        let steps = (base + l.stepOffset).assumingMemoryBound(to: Float.self)
        let norms = (base + l.normOffset).assumingMemoryBound(to: Float.self)
        for row in 0..<(l.panels * 16) {
            steps[row] = 1
            norms[row] = row < count ? 0 : .infinity
        }
        let block = max(16, blockRows / 16 * 16)
        var buffer = [Float](repeating: 0, count: block * dimension)
        var start = 0
        while start < count {
            let end = min(start + block, count)
            try buffer.withUnsafeMutableBufferPointer { b in
                try fill(start..<end, UnsafeMutableBufferPointer(rebasing: b[0..<((end - start) * dimension)]))
                for row in start..<end {
                    index.store(row: row, UnsafePointer(b.baseAddress! + (row - start) * dimension), steps: steps,
                                norms: norms)
                }
            }
            if let payload, payloadBytes > 0 {
                try payload(start..<end, UnsafeMutableRawBufferPointer(start: base + l.payloadOffset + start * payloadBytes,
                                                                       count: (end - start) * payloadBytes))
            }
            start = end
        }
        if path != nil { msync(base, bytes, MS_SYNC) }
        base.storeBytes(of: magic, as: UInt64.self)
        if path != nil { msync(base, headerBytes, MS_SYNC) }
        return index
    }

    /// An index of the faces of `matrix`, in memory.
    public static func inMemory(_ matrix: FaceMatrix, precision: VectorPrecision = .float32) throws -> VectorIndex {
        try inMemory(vectors: matrix.vectors, dimension: matrix.dimension, precision: precision)
    }

    /// An index of `vectors` (row-major, `dimension` values per row), in memory.
    public static func inMemory(vectors: [Float], dimension: Int, precision: VectorPrecision = .float32) throws -> VectorIndex {
        // A gallery without settings has dimension 0 and no rows.
        let count = dimension > 0 ? vectors.count / dimension : 0
        precondition(count * dimension == vectors.count, "\(vectors.count) values in rows of \(dimension)")
        return try build(count: count, dimension: dimension, precision: precision) { range, out in
            vectors.withUnsafeBufferPointer { v in
                _ = out.initialize(from: v[(range.lowerBound * dimension)..<(range.upperBound * dimension)])
            }
        }
    }

    /// Opens an index written by `build(path:)`, memory-mapped read-only. `streamed`: searches read the panels
    /// with `pread` a block at a time instead of through the mapping, so that the process's resident memory stays
    /// at the row steps and norms (8 bytes a face) however large the gallery; the file's pages stay in the
    /// kernel's page cache, shared, and evictable.
    public static func open(path: String, streamed: Bool = false) throws -> VectorIndex {
        let fd = Foundation.open(path, O_RDONLY)
        guard fd >= 0 else { throw VectorIndexError.io(path: path, message: String(cString: strerror(errno))) }
        var keep = false
        defer { if !keep { close(fd) } }
        var header = [UInt8](repeating: 0, count: headerBytes)
        guard read(fd, &header, headerBytes) == headerBytes else {
            throw VectorIndexError.format(path: path, message: "shorter than its header")
        }
        let (magicRead, code, dimension, count) = header.withUnsafeBytes {
            ($0.load(as: UInt64.self), $0.load(fromByteOffset: 8, as: UInt32.self),
             $0.load(fromByteOffset: 12, as: UInt32.self), $0.load(fromByteOffset: 16, as: UInt64.self))
        }
        let (payloadBytes, extraBytes) = header.withUnsafeBytes {
            (Int($0.load(fromByteOffset: 28, as: UInt32.self)), $0.load(fromByteOffset: 48, as: UInt64.self))
        }
        guard magicRead == magic, let precision = VectorPrecision(code: code), dimension > 0, count < 1 << 40,
              payloadBytes < 1 << 16, extraBytes < 1 << 30 else {
            throw VectorIndexError.format(path: path, message: "bad header")
        }
        let l = layout(count: Int(count), dimension: Int(dimension), precision: precision, payloadBytes: payloadBytes,
                       extraBytes: Int(extraBytes))
        var info = stat()
        guard fstat(fd, &info) == 0, Int(info.st_size) == l.total else {
            throw VectorIndexError.format(path: path, message: "size \(info.st_size), expected \(l.total)")
        }
        let (base, bytes) = try map(bytes: l.total, path: path, create: false)
        let index = VectorIndex(base: base, mappedBytes: bytes, count: Int(count), dimension: Int(dimension),
                                precision: precision, payloadBytes: payloadBytes, extraBytes: Int(extraBytes))
        index.fileDescriptor = fd
        keep = true
        index.isStreamed = streamed
        index.panelFileOffset = l.panelOffset
        return index
    }

    private static func map(bytes: Int, path: String?, create: Bool) throws -> (UnsafeMutableRawPointer, Int) {
        guard let path else {
            guard let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                  p != MAP_FAILED else {
                throw VectorIndexError.io(path: "memory", message: "cannot map \(bytes) bytes")
            }
            return (p, bytes)
        }
        let fd = create ? Foundation.open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644) : Foundation.open(path, O_RDONLY)
        guard fd >= 0 else { throw VectorIndexError.io(path: path, message: String(cString: strerror(errno))) }
        defer { close(fd) }
        if create, ftruncate(fd, off_t(bytes)) != 0 {
            throw VectorIndexError.io(path: path, message: String(cString: strerror(errno)))
        }
        let protection = create ? PROT_READ | PROT_WRITE : PROT_READ
        guard let p = mmap(nil, bytes, protection, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            throw VectorIndexError.io(path: path, message: "cannot map: \(String(cString: strerror(errno)))")
        }
        return (p, bytes)
    }

    /// Writes one row into its panel slots, quantised as the precision asks.
    private func store(row: Int, _ v: UnsafePointer<Float>, steps: UnsafeMutablePointer<Float>,
                       norms: UnsafeMutablePointer<Float>) {
        let panel = row / 16, lane = row % 16
        let panelValues = 16 * paddedDimension
        var squared: Float = 0
        for k in 0..<dimension { squared += v[k] * v[k] }
        norms[row] = squared
        let raw = UnsafeMutableRawPointer(mutating: panelData)
        switch precision {
        case .float32:
            let p = raw.assumingMemoryBound(to: Float.self) + panel * panelValues
            for k in 0..<dimension { p[k * 16 + lane] = v[k] }
        case .float16:
            let p = raw.assumingMemoryBound(to: UInt16.self) + panel * panelValues
            var halves = [UInt16](repeating: 0, count: dimension)
            ff_f32_to_f16(v, &halves, Int32(dimension))
            for k in 0..<dimension { p[k * 16 + lane] = halves[k] }
        case .int8:
            let p = raw.assumingMemoryBound(to: UInt8.self) + panel * panelValues
            var largest: Float = 0
            for k in 0..<dimension { largest = max(largest, abs(v[k])) }
            let step = largest > 0 ? largest / 127 : 1
            steps[row] = step
            for k in 0..<paddedDimension {
                let q = k < dimension ? Int8(clamping: Int((v[k] / step).rounded())) : 0
                p[(k / 4) * 64 + lane * 4 + k % 4] = UInt8(bitPattern: q) ^ 0x80
            }
        }
    }

    /// The vector of `row` as stored (dequantised).
    public func vector(at row: Int) -> [Float] {
        precondition(row >= 0 && row < count)
        let panel = row / 16, lane = row % 16, panelValues = 16 * paddedDimension
        return (0..<dimension).map { k in
            switch precision {
            case .float32:
                return panelData.assumingMemoryBound(to: Float.self)[panel * panelValues + k * 16 + lane]
            case .float16:
                var f: Float = 0
                var h = panelData.assumingMemoryBound(to: UInt16.self)[panel * panelValues + k * 16 + lane]
                ff_f16_to_f32(&h, &f, 1)
                return f
            case .int8:
                let byte = panelData.assumingMemoryBound(to: UInt8.self)[panel * panelValues + (k / 4) * 64 + lane * 4 + k % 4]
                return Float(Int8(bitPattern: byte ^ 0x80)) * rowStep[row]
            }
        }
    }

    /// Whether the AVX-512 kernels run on this CPU (else the portable loops do).
    public static var accelerated: Bool { ff_search_kernels_accelerated() != 0 }

    /// Forces the portable loops even on AVX-512 machines: tests compare both paths on one machine.
    public static func usePortableKernels(_ portable: Bool) { ff_search_kernels_set_portable(portable ? 1 : 0) }

    // MARK: - Searching

    /// One result: a row of the index and its score (cosine similarity, or euclidean distance).
    public struct Neighbor: Sendable, Equatable {
        public var row: Int
        public var score: Float
    }

    /// The `k` nearest rows of each query, best first (ties: lower row first). Queries are processed in one
    /// pass over the gallery, split across `threads` threads.
    public func search(_ queries: [[Float]], k: Int, metric: DistanceMetric = .cosine,
                       threads: Int = ProcessInfo.processInfo.activeProcessorCount) -> [[Neighbor]] {
        guard !queries.isEmpty else { return [] }
        let k = min(k, count)
        guard k > 0 else { return queries.map { _ in [] } }
        for q in queries { precondition(q.count == dimension, "query has \(q.count) dimensions, index \(dimension)") }
        let batch = PreparedQueries(queries, dimension: dimension, padded: paddedDimension, precision: precision,
                                    rows: panelCount * 16)
        // Orientation: larger is closer. Euclidean ranks by 2·q·g − |g|² (|q|² is the same for every row);
        // pad rows get −inf through their infinite norm.
        let alpha: Float = metric == .cosine ? 1 : 2
        for row in 0..<(panelCount * 16) {
            batch.bias[row] = metric == .cosine ? (row < count ? 0 : -.infinity) : -squaredNorms[row]
        }
        let workers = max(1, min(threads, panelCount / 2))
        let pairsPerWorker = (panelCount / 2 + workers - 1) / workers
        let heaps = HeapSet(workers: workers, queries: queries.count, k: k)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let first = worker * pairsPerWorker * 2
            let last = min(panelCount, first + pairsPerWorker * 2)
            guard first < last else { return }
            scan(panels: first..<last, batch: batch, alpha: alpha, heaps: heaps, worker: worker)
        }
        return (0..<queries.count).map { q in
            heaps.merged(query: q, k: k).map { neighbor in
                guard metric == .euclidean else { return neighbor }
                let distance = (max(batch.squaredNorms[q] - neighbor.score, 0)).squareRoot()
                return Neighbor(row: neighbor.row, score: distance)
            }
        }
    }

    /// Scores `panels` against every query in blocks that fit in cache and feeds the heaps of `worker`.
    private func scan(panels: Range<Int>, batch: PreparedQueries, alpha: Float, heaps: HeapSet, worker: Int) {
        let bias = UnsafePointer(batch.bias)
        let blockPanels = 64
        let ldo = blockPanels * 16
        var scores = [Float](repeating: 0, count: batch.count * ldo)
        let scale: UnsafePointer<Float>? = precision == .int8 ? rowStep : nil
        let blockBytes = blockPanels * 16 * paddedDimension * precision.bytesPerValue
        let buffer: UnsafeMutableRawPointer? = isStreamed
            ? UnsafeMutableRawPointer.allocate(byteCount: blockBytes, alignment: 64) : nil
        defer { buffer?.deallocate() }
        scores.withUnsafeMutableBufferPointer { out in
            var p = panels.lowerBound
            while p < panels.upperBound {
                let n = min(blockPanels, panels.upperBound - p)
                let rowOffset = p * 16
                var panelValues = p * 16 * paddedDimension
                var source = panelData
                if let buffer {
                    let wanted = n * 16 * paddedDimension * precision.bytesPerValue
                    let done = readFully(buffer, wanted, at: panelFileOffset + panelValues * precision.bytesPerValue)
                    // The file was checked whole on open; a read that fails now (file truncated under us, I/O
                    // error) scores the rest of the block as zeros rather than crash.
                    if done < wanted { memset(buffer + done, 0, wanted - done) }
                    source = UnsafeRawPointer(buffer)
                    panelValues = 0
                }
                switch precision {
                case .float32:
                    ff_scores_f32(source.assumingMemoryBound(to: Float.self) + panelValues, Int32(n),
                                  Int32(paddedDimension), batch.floats, Int32(batch.count), alpha,
                                  nil, bias + rowOffset, out.baseAddress!, Int32(ldo))
                case .float16:
                    ff_scores_f16(source.assumingMemoryBound(to: UInt16.self) + panelValues, Int32(n),
                                  Int32(paddedDimension), batch.floats, Int32(batch.count), alpha,
                                  nil, bias + rowOffset, out.baseAddress!, Int32(ldo))
                case .int8:
                    ff_scores_i8(source.assumingMemoryBound(to: UInt8.self) + panelValues, Int32(n),
                                 Int32(paddedDimension), batch.bytes, batch.corrections, batch.steps,
                                 Int32(batch.count), alpha, scale! + rowOffset, bias + rowOffset,
                                 out.baseAddress!, Int32(ldo))
                }
                for q in 0..<batch.count {
                    heaps.update(worker: worker, query: q, scores: out.baseAddress! + q * ldo, n: n * 16,
                                 firstRow: rowOffset)
                }
                p += n
            }
        }
    }
}

/// Queries laid out for the kernels: padded to 16 dimensions, quantised to int8 with their steps when the
/// index is.
private final class PreparedQueries: @unchecked Sendable {
    let count: Int
    let floats: UnsafeMutablePointer<Float>
    let bytes: UnsafeMutablePointer<Int8>
    let corrections: UnsafeMutablePointer<Int32>
    let steps: UnsafeMutablePointer<Float>
    let squaredNorms: [Float]
    /// Per gallery row, added to its score (set by the search for its metric).
    let bias: UnsafeMutablePointer<Float>

    init(_ queries: [[Float]], dimension: Int, padded: Int, precision: VectorPrecision, rows: Int) {
        bias = .allocate(capacity: rows)
        bias.initialize(repeating: 0, count: rows)
        count = queries.count
        floats = .allocate(capacity: count * padded)
        floats.initialize(repeating: 0, count: count * padded)
        bytes = .allocate(capacity: count * padded)
        bytes.initialize(repeating: 0, count: count * padded)
        corrections = .allocate(capacity: count)
        corrections.initialize(repeating: 0, count: count)
        steps = .allocate(capacity: count)
        steps.initialize(repeating: 0, count: count)
        squaredNorms = queries.map { q in q.reduce(0) { $0 + $1 * $1 } }
        for (i, q) in queries.enumerated() {
            for k in 0..<dimension { floats[i * padded + k] = q[k] }
            guard precision == .int8 else { continue }
            let largest = q.reduce(0) { max($0, abs($1)) }
            let step = largest > 0 ? largest / 127 : 1
            var sum: Int32 = 0
            for k in 0..<dimension {
                let v = Int8(clamping: Int((q[k] / step).rounded()))
                bytes[i * padded + k] = v
                sum += Int32(v)
            }
            corrections[i] = 128 * sum
            steps[i] = step
        }
    }

    deinit {
        floats.deallocate(); bytes.deallocate(); corrections.deallocate(); steps.deallocate(); bias.deallocate()
    }
}

/// A top-k min-heap per (worker, query), merged at the end.
private final class HeapSet: @unchecked Sendable {
    let k: Int
    let queries: Int
    let workers: Int
    let scores: UnsafeMutablePointer<Float>
    let rows: UnsafeMutablePointer<Int64>
    let counts: UnsafeMutablePointer<Int32>

    init(workers: Int, queries: Int, k: Int) {
        self.k = k; self.queries = queries; self.workers = workers
        scores = .allocate(capacity: workers * queries * k)
        rows = .allocate(capacity: workers * queries * k)
        counts = .allocate(capacity: workers * queries)
        counts.initialize(repeating: 0, count: workers * queries)
    }

    deinit { scores.deallocate(); rows.deallocate(); counts.deallocate() }

    func update(worker: Int, query: Int, scores s: UnsafePointer<Float>, n: Int, firstRow: Int) {
        let slot = worker * queries + query
        ff_topk_update(s, Int32(n), Int64(firstRow), Int32(k), scores + slot * k, rows + slot * k, counts + slot)
    }

    func merged(query: Int, k: Int) -> [VectorIndex.Neighbor] {
        var all: [VectorIndex.Neighbor] = []
        for worker in 0..<workers {
            let slot = worker * queries + query
            for i in 0..<Int(counts[slot]) {
                all.append(VectorIndex.Neighbor(row: Int(rows[slot * self.k + i]), score: scores[slot * self.k + i]))
            }
        }
        all.sort { $0.score != $1.score ? $0.score > $1.score : $0.row < $1.row }
        return Array(all.prefix(k))
    }
}
