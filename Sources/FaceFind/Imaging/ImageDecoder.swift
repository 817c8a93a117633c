import Foundation

/// The image container formats FaceFind reads. Detected from the first bytes of the data, never from the file
/// extension, because photo collections are full of PNGs named `.jpg` and extension-less downloads.
///
/// `heic` and `avif` are the two members of the HEIF family (ISO/IEC 23008-12 containers) that libheif decodes:
/// HEVC-coded images (iPhone photos) and AV1-coded ones. A HEIF file whose brands name no codec (only the generic
/// `mif1`/`msf1`) counts as `heic`, the common case; libheif finds the real codec from the file either way.
/// The raw value is the file extension used for the format.
public enum ImageFormat: String, Sendable {
    case jpeg, png, webp, heic, avif
}

/// Why an image could not be decoded. Carries the file name so that a failure in a batch of thousands of photos
/// points at the culprit directly.
public struct ImageDecodingError: Error, CustomStringConvertible, Equatable {
    /// The path or name the caller gave for the data.
    public let file: String
    /// A one-line human-readable explanation (empty file, not an image, the codec's message, pixel limit, errno).
    public let reason: String

    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String { "\(file): \(reason)" }
}

/// Decodes JPEG, PNG, WebP, HEIC and AVIF data into 8-bit `RGBImage`s.
///
/// JPEGs are returned upright according to their EXIF orientation, HEIC/AVIF according to their `irot`/`imir`
/// transformations, as an image viewer shows them, because face detectors expect upright faces. Alpha channels are composited onto white (transparent areas look like paper,
/// not like whatever colour the encoder left under alpha 0). A value type with no shared state: one decoder may be
/// used from many threads at once (every call creates its own codec state).
public struct ImageDecoder: Sendable {
    /// The largest `width * height` accepted. Checked from the header before any pixel memory is allocated, so a
    /// malicious or broken file claiming 100000x100000 pixels costs nothing. 50 MP covers every camera photo we
    /// expect while bounding a decode to about 150 MB.
    public var maxPixels: Int

    public init(maxPixels: Int = 50_000_000) {
        self.maxPixels = maxPixels
    }

    /// Reads and decodes the file at `path`.
    public func decode(contentsOf path: String) throws(ImageDecodingError) -> RGBImage {
        let bytes = try Self.readFile(path)
        return try decode(bytes, name: path)
    }

    /// Decodes in-memory file contents; `name` only labels errors.
    public func decode(_ bytes: [UInt8], name: String) throws(ImageDecodingError) -> RGBImage {
        guard !bytes.isEmpty else {
            throw ImageDecodingError(file: name, reason: "empty file (0 bytes)")
        }
        guard let format = ImageDecoder.sniff(bytes) else {
            throw ImageDecodingError(
                file: name,
                reason: "not a JPEG, PNG, WebP, HEIC or AVIF image (\(ImageDecoder.describeUnknownStart(bytes)))")
        }
        switch format {
        case .jpeg: return try decodeJPEG(bytes, name: name)
        case .png: return try decodePNG(bytes, name: name)
        case .webp: return try decodeWebP(bytes, name: name)
        case .heic, .avif: return try decodeHEIF(bytes, format: format, name: name)
        }
    }

    /// The format of `bytes` by magic number (for HEIF, the brands of the leading `ftyp` box), or nil when it is
    /// none of the supported ones.
    public static func sniff(_ bytes: [UInt8]) -> ImageFormat? {
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) {
            return .webp
        }
        return heifFormat(ftypBrands(bytes))
    }

    /// Brands that make a file an AVIF (AV1 still image, image sequence).
    static let avifBrands: Set<String> = ["avif", "avis"]
    /// Brands of HEVC-coded HEIF (still, multi-image, sequences) and the generic, codec-neutral HEIF brands.
    static let heicBrands: Set<String> = ["heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs"]
    static let genericHEIFBrands: Set<String> = ["mif1", "msf1"]

    /// The major brand followed by the compatible brands of a leading ISO-BMFF `ftyp` box, or [] when the data
    /// does not start with one. Reads only inside both the data and the box's declared size, so a hostile size
    /// field cannot make it read past the end.
    static func ftypBrands(_ bytes: [UInt8]) -> [String] {
        guard bytes.count >= 12, Array(bytes[4..<8]) == Array("ftyp".utf8) else { return [] }
        func brand(at i: Int) -> String { String(decoding: bytes[i..<i + 4], as: UTF8.self) }
        var brands = [brand(at: 8)]
        let boxSize = bytes[0..<4].reduce(0) { $0 << 8 | Int($1) }
        // Compatible brands follow the 4-byte minor version. A size of 0 ("to the end of the file") or 1 (64-bit
        // size) never occurs for an ftyp box in practice: only the major brand is used then.
        if boxSize >= 16 {
            let end = min(boxSize, bytes.count)
            var i = 16
            while i + 4 <= end {
                brands.append(brand(at: i))
                i += 4
            }
        }
        return brands
    }

    /// The HEIF-family format the brands declare, or nil for other ISO-BMFF files (MP4, QuickTime, CR3...).
    /// The major brand decides when it names a codec; otherwise (generic `mif1`, or e.g. `miaf`) the compatible
    /// brands do, AV1 before HEVC because AVIF files always list `mif1` too, but never `heic`.
    static func heifFormat(_ brands: [String]) -> ImageFormat? {
        guard let major = brands.first else { return nil }
        if avifBrands.contains(major) { return .avif }
        if heicBrands.contains(major) { return .heic }
        let compatible = brands.dropFirst()
        if compatible.contains(where: avifBrands.contains) { return .avif }
        if compatible.contains(where: heicBrands.contains) { return .heic }
        if genericHEIFBrands.contains(major) || compatible.contains(where: genericHEIFBrands.contains) { return .heic }
        return nil
    }

    // MARK: - Shared helpers for the format decoders

    /// Throws when a header announces more pixels than `maxPixels` (or a non-positive size), before allocation.
    /// `what` names the size when it is not the image's own (a coded stream's, a grid's canvas).
    func checkSize(width: Int, height: Int, name: String, what: String? = nil) throws(ImageDecodingError) {
        guard width > 0, height > 0 else {
            throw ImageDecodingError(file: name, reason: "invalid image size \(width)x\(height) in \(what ?? "header")")
        }
        // Width and height come from at most 32-bit header fields, unsigned in HEIF (a grid or overlay canvas):
        // their product can pass Int.max (FuzzImageDecoder: 3537097941 x 3604469977), so it saturates.
        let (count, overflow) = width.multipliedReportingOverflow(by: height)
        if overflow || count > maxPixels {
            let mp = { (n: Double) in String(format: "%.1f", n / 1e6) }
            let area = mp(Double(width) * Double(height)), limit = mp(Double(maxPixels))
            throw ImageDecodingError(
                file: name,
                reason: what.map { "\($0) \(width)x\(height) = \(area) MP, which exceeds the limit of \(limit) MP" }
                    ?? "\(width)x\(height) = \(area) MP exceeds the limit of \(limit) MP")
        }
    }

    /// Files bigger than this are refused before reading: no accepted image needs more, and reading a huge
    /// non-image file by mistake (a video, a disk image) should fail fast instead of exhausting memory.
    static let maxFileBytes = 1 << 30

    /// Reads a whole regular file with POSIX calls, so that failures carry the errno text ("Permission
    /// denied") and say what a path is when it is no file to read: a directory, a named pipe (opened without
    /// blocking, so indexing never hangs on one), a device, a dangling or looping symbolic link.
    public static func readFile(_ path: String) throws(ImageDecodingError) -> [UInt8] {
        var bytes = [UInt8]()
        try readChunks(path, limit: ImageDecoder.maxFileBytes) { size in
            bytes.reserveCapacity(size)
        } chunk: { chunk in
            bytes.append(contentsOf: chunk)
        }
        return bytes
    }

    /// The SHA-256 (hex) and length of a file of any size, read in chunks (a video need not fit in memory),
    /// with the failures of `readFile`.
    public static func hashFile(_ path: String) throws(ImageDecodingError) -> (sha256: String, bytes: Int) {
        var hasher = SHA256()
        var count = 0
        try readChunks(path, limit: nil) { _ in } chunk: { chunk in
            hasher.update(chunk)
            count += chunk.count
        }
        return (hasher.hexDigest(), count)
    }

    /// Opens `path` as a regular file (see `readFile` for what is refused and how), tells `start` its size, then
    /// passes its content in chunks to `chunk` until end of file (not trusting the size: a file may grow while
    /// read). `limit` bounds the size, for photos.
    static func readChunks(_ path: String, limit: Int?, start: (Int) -> Void,
                           chunk: (UnsafeRawBufferPointer) -> Void) throws(ImageDecodingError) {
        func failure(_ what: String) -> ImageDecodingError {
            ImageDecodingError(file: path, reason: "\(what): \(String(cString: strerror(errno)))")
        }
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            var link = stat()
            if lstat(path, &link) == 0, Int(link.st_mode) & Int(S_IFMT) == Int(S_IFLNK) {
                let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
                if code == ENOENT { throw ImageDecodingError(file: path, reason: "dangling symbolic link to \(target)") }
                if code == ELOOP { throw ImageDecodingError(file: path, reason: "symbolic link loop (via \(target))") }
            }
            errno = code
            throw failure("cannot open file")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure("cannot stat file") }
        switch Int(info.st_mode) & Int(S_IFMT) {
        case Int(S_IFREG): break
        case Int(S_IFDIR): throw ImageDecodingError(file: path, reason: "is a directory, not an image file")
        case Int(S_IFIFO): throw ImageDecodingError(file: path, reason: "is a named pipe (FIFO), not an image file")
        case Int(S_IFSOCK): throw ImageDecodingError(file: path, reason: "is a socket, not an image file")
        case Int(S_IFCHR), Int(S_IFBLK): throw ImageDecodingError(file: path, reason: "is a device, not an image file")
        default: throw ImageDecodingError(file: path, reason: "is not a regular file")
        }
        let size = Int(info.st_size)
        if let limit, size > limit {
            throw ImageDecodingError(
                file: path, reason: "file is \(size / (1 << 20)) MiB, larger than any image accepted (\(limit >> 20) MiB)")
        }
        start(size)
        var buffer = [UInt8](repeating: 0, count: max(1 << 16, min(size + 1, 1 << 22)))
        var total = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("cannot read file")
            }
            if n == 0 { break }
            total += n
            if let limit, total > limit {
                throw ImageDecodingError(file: path, reason: "file is larger than any image accepted (\(limit >> 20) MiB)")
            }
            buffer.withUnsafeBytes { chunk(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    /// A short description of data that is not a supported image, so the user can tell an HTML error page or a
    /// HEIC photo from random garbage.
    static func describeUnknownStart(_ bytes: [UInt8]) -> String {
        func has(_ s: String, at offset: Int = 0) -> Bool {
            let m = Array(s.utf8)
            return bytes.count >= offset + m.count && Array(bytes[offset..<offset + m.count]) == m
        }
        if has("GIF87a") || has("GIF89a") { return "looks like a GIF image" }
        if has("BM") && bytes.count >= 14 { return "looks like a BMP image" }
        if bytes.starts(with: [0x49, 0x49, 0x2A, 0x00]) || bytes.starts(with: [0x4D, 0x4D, 0x00, 0x2A]) {
            return "looks like a TIFF image or camera raw file"
        }
        // HEIC/AVIF never get here: sniff() accepts every HEIF brand.
        if has("ftyp", at: 4) { return "looks like an MP4/QuickTime-family file" }
        if has("RIFF") { return "a RIFF file that is not WebP" }
        if has("%PDF") { return "looks like a PDF document" }
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return "looks like a ZIP archive" }
        if bytes.starts(with: [0x1F, 0x8B]) { return "looks like gzip-compressed data" }
        if bytes.starts(with: [0xFF, 0xD8]) { return "starts like a JPEG but the first marker is missing" }

        let head = Array(bytes.prefix(16))
        let isText = head.allSatisfy { (0x20...0x7E).contains($0) || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        if isText {
            let snippet = String(decoding: head.prefix(12), as: UTF8.self)
                .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
                .replacingOccurrences(of: "\t", with: "\\t")
            return "starts with text \"\(snippet)\""
        }
        let hex = head.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")
        return "starts with bytes \(hex)"
    }
}
