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
    /// A FaceFind vector index whose bytes are not those written (a checksum does not match, a section is short).
    case damaged(path: String, message: String)
    /// A vector index of the first format, which has no checksums: opened no more, its owner rebuilds it.
    case outdated(path: String)

    public var description: String {
        switch self {
        case .io(let path, let message): return "\(path): \(message)"
        case .format(let path, let message): return "\(path): not a FaceFind vector index (\(message))"
        case .damaged(let path, let message): return "\(path): a damaged vector index (\(message))"
        case .outdated(let path): return "\(path): a vector index of the first format, written by an older FaceFind without checksums"
        }
    }
}
/// Every face vector of a gallery in the panel-major layout of the search kernels (see
/// `CSearchKernels/include/search_kernels.h`), optionally in float16 or int8, in memory or read from a file:
/// exact search over millions of faces with bounded work per query.
///
/// Search runs one pass over the panels per batch of queries, split across threads; each thread scores a
/// block of panels for all queries into a small buffer and keeps a top-k heap per query, so memory does not
/// grow with the gallery, and a batch of 64 queries reads the gallery once instead of 64 times.
///
/// A file is never trusted byte for byte (issue 25): its header, panels, row steps and norms, and the owner's
/// extra bytes each carry a CRC-32C, checked when the file is opened; each row of the owner's payload carries its
/// own, seeded with the file's random salt and the row's number (a row moved, or copied from another file, fails
/// too), checked on every `readPayload`. An opened file is read into anonymous memory rather than mapped, so that
/// no change to the file underneath (truncated in place, overwritten) can fault the process with SIGBUS: the
/// payload is read with `pread`, which reports a short read instead, and `fileChange()` tells a caller when the
/// file was written since it was opened.
public final class VectorIndex: @unchecked Sendable {
    public let count: Int
    public let dimension: Int
    public let precision: VectorPrecision
    /// Dimension rounded up to 16 (zero padding leaves dot products unchanged).
    let paddedDimension: Int
    /// Panels of 16 rows, rounded up to an even number (the kernels take two at a time).
    let panelCount: Int
    /// This index's memory: header, panels, row steps, norms, then the payload when built here (a file being
    /// written is mapped whole), then the extra bytes. For an opened file, anonymous memory holding the header,
    /// panels (untouched, so never resident, when streamed), steps, norms and extra bytes; the payload stays in
    /// the file.
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
    /// Size and modification time of the opened file when it was opened (`fileChange()`).
    private var openedAs: (size: Int, modified: timespec)?
    /// Set when the panels are read with `pread` into small per-thread buffers instead of from memory
    /// (`open(path:streamed: true)`): the panels then never count in this process's resident memory.
    public private(set) var isStreamed = false
    private var panelFileOffset = 0
    /// Bytes a row of the owner's payload, and where in the file the payload starts (row r at
    /// `payloadFileOffset + r * payloadStride`: owners read it with `readPayload`, `pread` for an opened file).
    public let payloadBytes: Int
    /// Bytes a row of the payload takes in the file: the owner's bytes, their CRC-32C (4 bytes), zeros to a
    /// multiple of 8. A buffer handed to `readPayload` must hold this many.
    public let payloadStride: Int
    public let payloadFileOffset: Int
    /// The owner's bytes for the whole file (`build(extra:)`).
    public let extra: UnsafeRawBufferPointer
    /// The payload in memory (an index built here); nil for an opened file.
    private let payloadData: UnsafeRawPointer?
    /// Bytes of the whole file (or of the file this index would be).
    public let fileBytes: Int

    /// The owner's 24 bytes in the header (`build(tag:)`): `GalleryVectorFile` records there which state of
    /// its database the file was built from.
    public var tag: (UInt64, UInt64, UInt64) {
        (base.load(fromByteOffset: 32, as: UInt64.self), base.load(fromByteOffset: 40, as: UInt64.self),
         base.load(fromByteOffset: 48, as: UInt64.self))
    }

    /// The random number drawn for this file when it was written, which seeds its rows' checksums.
    public var salt: UInt64 { base.load(fromByteOffset: 64, as: UInt64.self) }

    /// Reads the payload of `row` into `buffer` (at least `payloadStride` bytes; the owner's bytes come first) and
    /// checks it against its CRC-32C; false when the read comes up short (file truncated underneath) or the bytes
    /// are not what was written (flipped, overwritten, another row's or another file's). With `pread` for an
    /// opened file, so that the payload never becomes resident (through a mapping, a page-cache folio a row would).
    public func readPayload(row: Int, into buffer: UnsafeMutableRawPointer) -> Bool {
        precondition(row >= 0 && row < count)
        guard payloadStride > 0 else { return false }
        if let payloadData {
            buffer.copyMemory(from: payloadData + row * payloadStride, byteCount: payloadStride)
        } else if readFully(buffer, payloadStride, at: payloadFileOffset + row * payloadStride) != payloadStride {
            return false
        }
        return Self.rowChecksum(salt: salt, row: row, UnsafeRawPointer(buffer), payloadBytes)
            == UnsafeRawPointer(buffer).loadUnaligned(fromByteOffset: payloadBytes, as: UInt32.self)
    }

    /// CRC-32C of a payload row: of the salt plus the row's number (8 bytes, little-endian), then its bytes.
    static func rowChecksum(salt: UInt64, row: Int, _ bytes: UnsafeRawPointer, _ count: Int) -> UInt32 {
        var seed = (salt &+ UInt64(row)).littleEndian
        let start = withUnsafeBytes(of: &seed) { ff_crc32c(0, $0.baseAddress, 8) }
        return ff_crc32c(start, bytes, count)
    }

    /// Why the opened file is no longer the one read at `open` (its size or modification time moved: written in
    /// place, truncated), or nil. One `fstat`, cheap enough for every query. A file replaced by a rename is not
    /// a change: this index keeps reading the file it opened.
    public func fileChange() -> String? {
        guard fileDescriptor >= 0, let openedAs else { return nil }
        var info = stat()
        guard fstat(fileDescriptor, &info) == 0 else { return "cannot be checked: \(String(cString: strerror(errno)))" }
        if Int(info.st_size) != openedAs.size {
            return "its size changed from \(openedAs.size) to \(info.st_size) bytes since it was opened"
        }
        if info.st_mtim.tv_sec != openedAs.modified.tv_sec || info.st_mtim.tv_nsec != openedAs.modified.tv_nsec {
            return "it was written since it was opened"
        }
        return nil
    }

    /// `pread` until `count` bytes are in `buffer` or the file ends or fails; the bytes read.
    private func readFully(_ buffer: UnsafeMutableRawPointer, _ count: Int, at offset: Int) -> Int {
        Self.readFully(fileDescriptor, buffer, count, at: offset)
    }

    private static func readFully(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, at offset: Int) -> Int {
        var done = 0
        while done < count {
            let got = pread(fd, buffer + done, count - done, off_t(offset + done))
            if got < 0, errno == EINTR { continue }
            if got <= 0 { break }
            done += got
        }
        return done
    }

    /// The bytes a query must read: what bounds single-query speed.
    public var panelBytes: Int { panelCount * 16 * paddedDimension * precision.bytesPerValue }

    /// "FFFFVI02" little-endian: the format with checksums.
    static let magic: UInt64 = 0x3230_4956_4646_4646
    /// "FFFFVI01": the first format, without checksums (opened no more: its owner rebuilds it).
    static let formerMagic: UInt64 = 0x3130_4956_4646_4646
    static let headerBytes = 128
    /// What `open` takes at most (beyond them, sizes overflow or stop being plausible).
    static let maxDimension = 1 << 16, maxCount = 1 << 40, maxPayloadBytes = 1 << 16, maxExtraBytes = 1 << 30

    /// Where each section starts. After the panels, steps and norms, two optional sections for the owner, their
    /// sizes in the header: a payload of `payloadBytes` a row (each row followed by its checksum), and
    /// `extraBytes` for the whole file. `GalleryVectorFile` keeps each face's ids and full vector in the payload,
    /// and its projection in the extra bytes.
    struct Layout {
        var padded: Int, panels: Int, panelOffset: Int, stepOffset: Int, normOffset: Int
        var payloadOffset: Int, payloadStride: Int, extraOffset: Int, total: Int
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
        let stride = payloadBytes > 0 ? (payloadBytes + 4 + 7) / 8 * 8 : 0
        let extraOffset = payloadOffset + count * stride
        return Layout(padded: padded, panels: panels, panelOffset: panelOffset, stepOffset: stepOffset,
                      normOffset: normOffset, payloadOffset: payloadOffset, payloadStride: stride,
                      extraOffset: extraOffset, total: extraOffset + extraBytes)
    }

    /// The 128-byte header: magic (8), precision (u32), dimension (u32), count (u64), payload bytes a row (u32),
    /// the header's own CRC-32C (u32, taken with this field zero), the owner's tag (3 × u64), extra bytes (u64),
    /// salt (u64), then the CRC-32C of the panels, of the row steps and norms, and of the extra bytes (u32 each);
    /// zeros to the end.
    struct Header {
        var magic: UInt64 = VectorIndex.magic
        var precisionCode: UInt32, dimension: UInt32, count: UInt64, payloadBytes: UInt32
        var tag: (UInt64, UInt64, UInt64), extraBytes: UInt64, salt: UInt64
        var panelsChecksum: UInt32 = 0, rowDataChecksum: UInt32 = 0, extraChecksum: UInt32 = 0

        init(precisionCode: UInt32, dimension: UInt32, count: UInt64, payloadBytes: UInt32,
             tag: (UInt64, UInt64, UInt64), extraBytes: UInt64, salt: UInt64) {
            self.precisionCode = precisionCode; self.dimension = dimension; self.count = count
            self.payloadBytes = payloadBytes; self.tag = tag; self.extraBytes = extraBytes; self.salt = salt
        }

        init(_ raw: UnsafeRawBufferPointer) {
            magic = raw.loadUnaligned(as: UInt64.self)
            precisionCode = raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
            dimension = raw.loadUnaligned(fromByteOffset: 12, as: UInt32.self)
            count = raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
            payloadBytes = raw.loadUnaligned(fromByteOffset: 24, as: UInt32.self)
            tag = (raw.loadUnaligned(fromByteOffset: 32, as: UInt64.self),
                   raw.loadUnaligned(fromByteOffset: 40, as: UInt64.self),
                   raw.loadUnaligned(fromByteOffset: 48, as: UInt64.self))
            extraBytes = raw.loadUnaligned(fromByteOffset: 56, as: UInt64.self)
            salt = raw.loadUnaligned(fromByteOffset: 64, as: UInt64.self)
            panelsChecksum = raw.loadUnaligned(fromByteOffset: 72, as: UInt32.self)
            rowDataChecksum = raw.loadUnaligned(fromByteOffset: 76, as: UInt32.self)
            extraChecksum = raw.loadUnaligned(fromByteOffset: 80, as: UInt32.self)
        }

        /// The header's bytes, its checksum included.
        var bytes: [UInt8] {
            var out = [UInt8](repeating: 0, count: VectorIndex.headerBytes)
            out.withUnsafeMutableBytes { raw in
                raw.storeBytes(of: magic, as: UInt64.self)
                raw.storeBytes(of: precisionCode, toByteOffset: 8, as: UInt32.self)
                raw.storeBytes(of: dimension, toByteOffset: 12, as: UInt32.self)
                raw.storeBytes(of: count, toByteOffset: 16, as: UInt64.self)
                raw.storeBytes(of: payloadBytes, toByteOffset: 24, as: UInt32.self)
                raw.storeBytes(of: tag.0, toByteOffset: 32, as: UInt64.self)
                raw.storeBytes(of: tag.1, toByteOffset: 40, as: UInt64.self)
                raw.storeBytes(of: tag.2, toByteOffset: 48, as: UInt64.self)
                raw.storeBytes(of: extraBytes, toByteOffset: 56, as: UInt64.self)
                raw.storeBytes(of: salt, toByteOffset: 64, as: UInt64.self)
                raw.storeBytes(of: panelsChecksum, toByteOffset: 72, as: UInt32.self)
                raw.storeBytes(of: rowDataChecksum, toByteOffset: 76, as: UInt32.self)
                raw.storeBytes(of: extraChecksum, toByteOffset: 80, as: UInt32.self)
                raw.storeBytes(of: ff_crc32c(0, raw.baseAddress, raw.count), toByteOffset: 28, as: UInt32.self)
            }
            return out
        }

        /// The checksum stored in `raw` against the one its bytes give.
        static func checksumMatches(_ raw: UnsafeRawBufferPointer) -> Bool {
            var copy = Array(raw.prefix(VectorIndex.headerBytes))
            let stored = raw.loadUnaligned(fromByteOffset: 28, as: UInt32.self)
            copy.withUnsafeMutableBytes { $0.storeBytes(of: 0, toByteOffset: 28, as: UInt32.self) }
            return copy.withUnsafeBytes { ff_crc32c(0, $0.baseAddress, $0.count) } == stored
        }

        /// The layout the fields give, or why they cannot describe a file.
        func layout() -> Result<(VectorPrecision, Layout), VectorIndexFault> {
            guard let precision = VectorPrecision(code: precisionCode) else { return .failure(.header("precision code \(precisionCode)")) }
            guard dimension > 0, Int(dimension) <= VectorIndex.maxDimension else { return .failure(.header("dimension \(dimension)")) }
            guard count < UInt64(VectorIndex.maxCount), Int(payloadBytes) < VectorIndex.maxPayloadBytes,
                  extraBytes < UInt64(VectorIndex.maxExtraBytes) else {
                return .failure(.header("\(count) rows, \(payloadBytes) payload bytes a row, \(extraBytes) extra bytes"))
            }
            return .success((precision, VectorIndex.layout(count: Int(count), dimension: Int(dimension), precision: precision,
                                                           payloadBytes: Int(payloadBytes), extraBytes: Int(extraBytes))))
        }
    }

    /// Why a header does not describe a file `open` takes.
    enum VectorIndexFault: Error { case header(String) }

    private init(base: UnsafeMutableRawPointer, mappedBytes: Int, count: Int, dimension: Int,
                 precision: VectorPrecision, payloadBytes: Int, extraBytes: Int, extraAt: Int, payloadInMemory: Bool) {
        let l = Self.layout(count: count, dimension: dimension, precision: precision, payloadBytes: payloadBytes,
                            extraBytes: extraBytes)
        self.base = base; self.mappedBytes = mappedBytes
        self.payloadBytes = payloadBytes
        payloadStride = l.payloadStride
        payloadFileOffset = l.payloadOffset
        fileBytes = l.total
        extra = UnsafeRawBufferPointer(start: base + extraAt, count: extraBytes)
        payloadData = payloadInMemory ? UnsafeRawPointer(base + l.payloadOffset) : nil
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
    /// in memory, or in the file at `path` (mapped while it is written, so it can exceed RAM; the index returned
    /// keeps that mapping: `open` the file for one that no later change to the file can fault).
    /// - Parameters:
    ///   - count: rows.
    ///   - dimension: values per row.
    ///   - precision: how each value is stored.
    ///   - path: the file to write (nil: in memory).
    ///   - blockRows: rows asked of `fill` at a time.
    ///   - payloadBytes: bytes the owner keeps per row, written by `payload(range, buffer)` after each block.
    ///   - tag: the owner's 24 bytes in the header.
    ///   - extra: the owner's bytes for the whole file.
    ///   - fill: writes the rows of a range into the buffer, row-major floats.
    ///   - payload: writes the payload of the rows of the block just filled, `payloadBytes` a row, back to back.
    public static func build(count: Int, dimension: Int, precision: VectorPrecision, path: String? = nil,
                             blockRows: Int = 4096, payloadBytes: Int = 0,
                             tag: (UInt64, UInt64, UInt64) = (0, 0, 0), extra: [UInt8] = [],
                             fill: (Range<Int>, UnsafeMutableBufferPointer<Float>) throws -> Void,
                             payload: ((Range<Int>, UnsafeMutableRawBufferPointer) throws -> Void)? = nil) throws -> VectorIndex {
        precondition(payloadBytes < maxPayloadBytes && dimension <= maxDimension, "payload or dimension too large")
        let l = layout(count: count, dimension: dimension, precision: precision, payloadBytes: payloadBytes,
                       extraBytes: extra.count)
        let (base, bytes) = try map(bytes: l.total, path: path, create: true)
        let index = VectorIndex(base: base, mappedBytes: bytes, count: count, dimension: dimension, precision: precision,
                                payloadBytes: payloadBytes, extraBytes: extra.count, extraAt: l.extraOffset,
                                payloadInMemory: true)
        var header = Header(precisionCode: precision.code, dimension: UInt32(dimension), count: UInt64(count),
                            payloadBytes: UInt32(payloadBytes), tag: tag, extraBytes: UInt64(extra.count),
                            salt: UInt64.random(in: 0...UInt64.max))
        // The salt must be in memory before any row's checksum is taken (`readPayload` reads it from there).
        base.storeBytes(of: header.salt, toByteOffset: 64, as: UInt64.self)
        if !extra.isEmpty {
            extra.withUnsafeBytes { (base + l.extraOffset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        }
        let steps = (base + l.stepOffset).assumingMemoryBound(to: Float.self)
        let norms = (base + l.normOffset).assumingMemoryBound(to: Float.self)
        for row in 0..<(l.panels * 16) {
            steps[row] = 1
            norms[row] = row < count ? 0 : .infinity
        }
        let block = max(16, blockRows / 16 * 16)
        var buffer = [Float](repeating: 0, count: block * dimension)
        // The owner writes its rows back to back; each is copied to its slot and followed by its checksum.
        var rows = [UInt8](repeating: 0, count: payload != nil ? block * payloadBytes : 0)
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
                try rows.withUnsafeMutableBytes { raw in
                    try payload(start..<end, UnsafeMutableRawBufferPointer(rebasing: raw[0..<((end - start) * payloadBytes)]))
                    for row in start..<end {
                        let slot = base + l.payloadOffset + row * l.payloadStride
                        slot.copyMemory(from: raw.baseAddress! + (row - start) * payloadBytes, byteCount: payloadBytes)
                        slot.storeBytes(of: rowChecksum(salt: header.salt, row: row, slot, payloadBytes),
                                        toByteOffset: payloadBytes, as: UInt32.self)
                    }
                }
            }
            start = end
        }
        if payload == nil || payloadBytes == 0 {
            // Rows the owner left empty still carry a valid checksum.
            for row in 0..<(payloadBytes > 0 ? count : 0) {
                let slot = base + l.payloadOffset + row * l.payloadStride
                slot.storeBytes(of: rowChecksum(salt: header.salt, row: row, slot, payloadBytes),
                                toByteOffset: payloadBytes, as: UInt32.self)
            }
        }
        header.panelsChecksum = ff_crc32c(0, base + l.panelOffset, l.stepOffset - l.panelOffset)
        header.rowDataChecksum = ff_crc32c(0, base + l.stepOffset, l.payloadOffset - l.stepOffset)
        header.extraChecksum = ff_crc32c(0, base + l.extraOffset, extra.count)
        let headerImage = header.bytes
        // The magic number is written last: a file left by a build that died half-way has the full size
        // (ftruncate) but no magic, and `open` refuses it.
        headerImage.withUnsafeBytes { (base + 8).copyMemory(from: $0.baseAddress! + 8, byteCount: headerBytes - 8) }
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

    /// Opens an index written by `build(path:)`, checking every checksum but the payload rows' (checked as each
    /// is read). The header, panels, row steps, norms and extra bytes are read into anonymous memory (about what a
    /// mapping made resident anyway, since every query scans the panels; see docs for the numbers), so that the
    /// file can be truncated or overwritten underneath without faulting this process. `streamed`: the panels are
    /// checked in one pass at open and then read with `pread` a block at a time by each search, so that resident
    /// memory stays at the row steps and norms (8 bytes a face) however large the gallery; the file's pages stay
    /// in the kernel's page cache, shared and evictable.
    public static func open(path: String, streamed: Bool = false) throws -> VectorIndex {
        let fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw VectorIndexError.io(path: path, message: String(cString: strerror(errno))) }
        var keep = false
        defer { if !keep { close(fd) } }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw VectorIndexError.io(path: path, message: String(cString: strerror(errno))) }
        var headerImage = [UInt8](repeating: 0, count: headerBytes)
        guard readFully(fd, &headerImage, headerBytes, at: 0) == headerBytes else {
            throw VectorIndexError.format(path: path, message: "shorter than its header")
        }
        let header = headerImage.withUnsafeBytes { Header($0) }
        if header.magic == formerMagic {
            throw VectorIndexError.outdated(path: path)
        }
        guard header.magic == magic else { throw VectorIndexError.format(path: path, message: "bad header") }
        guard headerImage.withUnsafeBytes(Header.checksumMatches) else {
            throw VectorIndexError.damaged(path: path, message: "its header does not match its checksum")
        }
        let (precision, l): (VectorPrecision, Layout)
        switch header.layout() {
        case .success(let found): (precision, l) = found
        case .failure(.header(let what)): throw VectorIndexError.format(path: path, message: "bad header: \(what)")
        }
        guard Int(info.st_size) == l.total else {
            throw VectorIndexError.format(path: path, message: "size \(info.st_size), expected \(l.total)")
        }
        // Memory: header, panels, steps and norms as in the file, then the extra bytes where the payload starts.
        let memoryBytes = l.payloadOffset + Int(header.extraBytes)
        let (base, bytes) = try map(bytes: memoryBytes, path: nil, create: true)
        var mapped = true
        defer { if mapped { munmap(base, bytes) } }
        headerImage.withUnsafeBytes { base.copyMemory(from: $0.baseAddress!, byteCount: headerBytes) }
        func section(_ name: String, at offset: Int, bytes count: Int, into memory: UnsafeMutableRawPointer?,
                     expected: UInt32) throws {
            var crc: UInt32 = 0
            if let memory {
                guard readFully(fd, memory, count, at: offset) == count else {
                    throw VectorIndexError.damaged(path: path, message: "its \(name) cannot be read in full")
                }
                crc = ff_crc32c(0, memory, count)
            } else {
                // Checked through a 1 MiB buffer, so that the section never becomes resident.
                let chunk = 1 << 20
                let scratch = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 64)
                defer { scratch.deallocate() }
                var done = 0
                while done < count {
                    let n = min(chunk, count - done)
                    guard readFully(fd, scratch, n, at: offset + done) == n else {
                        throw VectorIndexError.damaged(path: path, message: "its \(name) cannot be read in full")
                    }
                    crc = ff_crc32c(crc, scratch, n)
                    done += n
                }
            }
            guard crc == expected else {
                throw VectorIndexError.damaged(path: path, message: "its \(name) do not match their checksum")
            }
        }
        try section("panels", at: l.panelOffset, bytes: l.stepOffset - l.panelOffset,
                    into: streamed ? nil : base + l.panelOffset, expected: header.panelsChecksum)
        try section("row steps and norms", at: l.stepOffset, bytes: l.payloadOffset - l.stepOffset,
                    into: base + l.stepOffset, expected: header.rowDataChecksum)
        try section("extra bytes", at: l.extraOffset, bytes: Int(header.extraBytes), into: base + l.payloadOffset,
                    expected: header.extraChecksum)
        let index = VectorIndex(base: base, mappedBytes: bytes, count: Int(header.count), dimension: Int(header.dimension),
                                precision: precision, payloadBytes: Int(header.payloadBytes),
                                extraBytes: Int(header.extraBytes), extraAt: l.payloadOffset, payloadInMemory: false)
        mapped = false
        index.fileDescriptor = fd
        index.openedAs = (Int(info.st_size), info.st_mtim)
        keep = true
        index.isStreamed = streamed
        index.panelFileOffset = l.panelOffset
        return index
    }

    /// The payload bytes a row that the header of the file at `path` records, when the header itself is intact
    /// (magic and checksum): what an owner can still learn from a file whose other sections are damaged.
    public static func payloadBytesInHeader(path: String) -> Int? {
        let fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var image = [UInt8](repeating: 0, count: headerBytes)
        guard readFully(fd, &image, headerBytes, at: 0) == headerBytes,
              image.withUnsafeBytes({ Header($0).magic == magic && Header.checksumMatches($0) }) else { return nil }
        return image.withUnsafeBytes { Int(Header($0).payloadBytes) }
    }

    /// `file` with every checksum recomputed from its other bytes (those its header's fields place; a header that
    /// places nothing gets its own checksum only), so that a test or a fuzzer can change a field and reach the
    /// checks behind the checksums.
    public static func resealed(_ file: [UInt8]) -> [UInt8] {
        guard file.count >= headerBytes else { return file }
        var out = file
        var header = out.withUnsafeBytes { Header($0) }
        if case .success(let (_, l)) = header.layout(), l.total == out.count {
            out.withUnsafeMutableBytes { raw in
                let p = raw.baseAddress!
                for row in 0..<Int(header.count) where l.payloadStride > 0 {
                    let slot = p + l.payloadOffset + row * l.payloadStride
                    slot.storeBytes(of: rowChecksum(salt: header.salt, row: row, slot, Int(header.payloadBytes)),
                                    toByteOffset: Int(header.payloadBytes), as: UInt32.self)
                }
                header.panelsChecksum = ff_crc32c(0, p + l.panelOffset, l.stepOffset - l.panelOffset)
                header.rowDataChecksum = ff_crc32c(0, p + l.stepOffset, l.payloadOffset - l.stepOffset)
                header.extraChecksum = ff_crc32c(0, p + l.extraOffset, Int(header.extraBytes))
            }
        }
        out.replaceSubrange(0..<headerBytes, with: header.bytes)
        return out
    }

    private static func map(bytes: Int, path: String?, create: Bool) throws -> (UnsafeMutableRawPointer, Int) {
        // mmap refuses 0 bytes; an empty index still maps a page.
        let bytes = max(bytes, 1)
        guard let path else {
            guard let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                  p != MAP_FAILED else {
                throw VectorIndexError.io(path: "memory", message: "cannot map \(bytes) bytes")
            }
            return (p, bytes)
        }
        let fd = create ? Foundation.open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                        : Foundation.open(path, O_RDONLY | O_CLOEXEC)
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
        precondition(!isStreamed, "a streamed index keeps its panels in the file")
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
