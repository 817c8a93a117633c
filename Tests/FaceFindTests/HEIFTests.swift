import CHeif
import CPNG
import CTurboJPEG
import Foundation
import Testing

@testable import FaceFind

// HEIC and AVIF decoding through libheif. Every test file is made here, at test time, by the real encoders:
// `heif-enc` (Debian package libheif-examples: x265 for HEIC, libaom for AVIF) from the shared face photos, or
// libheif's own encoding API where heif-enc has no option for what is tested (rotation). Nothing is copied into
// the repository.

// MARK: - Helpers

private struct HEIFSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// heif-enc on the PATH. Its absence fails the test, naming the package: CI installs it (scripts/setup.sh), so a
/// missing encoder is a broken set-up, not a reason to skip the codec's tests.
private func heifEncPath() throws -> String {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(directory)/heif-enc") {
        return "\(directory)/heif-enc"
    }
    throw HEIFSetupError("heif-enc not found on PATH: install the Debian package libheif-examples "
                         + "(scripts/setup.sh does: scripts/apt-ensure.sh libheif-examples)")
}

/// Runs heif-enc on `input` and returns the file it wrote. `options` as on its command line (-A for AVIF...).
private func heifEnc(_ input: String, _ options: [String] = [], output: String? = nil) throws -> (path: String, bytes: [UInt8]) {
    let isAVIF = options.contains("-A")
    let out = output ?? (NSTemporaryDirectory() + "facefind-heif-\(UUID().uuidString.prefix(8)).\(isAVIF ? "avif" : "heic")")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try heifEncPath())
    process.arguments = options + ["-o", out, input]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let log = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0, let data = FileManager.default.contents(atPath: out) else {
        throw HEIFSetupError("heif-enc \((options + [input]).joined(separator: " ")) failed "
                             + "(\(process.terminationStatus)): \(String(decoding: log, as: UTF8.self))")
    }
    return (out, [UInt8](data))
}

/// Writes `bytes` to a fresh temporary file with the given extension, for heif-enc to read.
private func temporaryFile(_ bytes: [UInt8], extension ext: String) throws -> String {
    let path = NSTemporaryDirectory() + "facefind-heif-src-\(UUID().uuidString.prefix(8)).\(ext)"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

/// A PNG through libpng's simplified API: `format` PNG_FORMAT_* with 8-bit `bytes` or 16-bit `words` (the
/// simplified API calls 16-bit "linear" and tags it gAMA 1.0; heif-enc ignores the tag and keeps the samples).
private func makePNG(format: UInt32, width: Int, height: Int, bytes: [UInt8] = [], words: [UInt16] = []) throws -> [UInt8] {
    var image = png_image()
    image.version = UInt32(PNG_IMAGE_VERSION)
    image.width = UInt32(width)
    image.height = UInt32(height)
    image.format = format
    defer { png_image_free(&image) }
    var size = 0
    func write(_ memory: UnsafeMutableRawPointer?) -> Int32 {
        if words.isEmpty {
            return bytes.withUnsafeBytes { png_image_write_to_memory(&image, memory, &size, 0, $0.baseAddress, 0, nil) }
        }
        return words.withUnsafeBytes { png_image_write_to_memory(&image, memory, &size, 0, $0.baseAddress, 0, nil) }
    }
    guard write(nil) != 0 else { throw HEIFSetupError("png_image_write_to_memory (size) failed") }
    var output = [UInt8](repeating: 0, count: size)
    guard output.withUnsafeMutableBytes({ write($0.baseAddress) }) != 0 else {
        throw HEIFSetupError("png_image_write_to_memory failed")
    }
    return Array(output.prefix(size))
}

/// An RGB JPEG through TurboJPEG, optionally with an EXIF APP1 segment (orientation tag) right after SOI.
private func makeJPEG(_ image: RGBImage, exifOrientation: UInt16? = nil) throws -> [UInt8] {
    let handle = try #require(tjInitCompress())
    defer { tjDestroy(handle) }
    var buffer: UnsafeMutablePointer<UInt8>? = nil
    var size: UInt = 0
    let status = image.pixels.withUnsafeBufferPointer {
        tjCompress2(handle, $0.baseAddress, Int32(image.width), Int32(image.width * 3), Int32(image.height),
                    Int32(TJPF_RGB.rawValue), &buffer, &size, Int32(TJSAMP_444.rawValue), 95, 0)
    }
    defer { tjFree(buffer) }
    guard status == 0, let buffer else { throw HEIFSetupError("tjCompress2 failed") }
    var jpeg = Array(UnsafeBufferPointer(start: buffer, count: Int(size)))
    if let o = exifOrientation {
        // Little-endian TIFF, IFD0 with one entry: Orientation (0x0112), SHORT, count 1, value o.
        let tiff: [UInt8] = [0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0,
                             UInt8(o), 0, 0, 0, 0, 0, 0, 0]
        let payload = Array("Exif".utf8) + [0, 0] + tiff
        jpeg.insert(contentsOf: [0xFF, 0xE1, 0, UInt8(payload.count + 2)] + payload, at: 2)
    }
    return jpeg
}

/// Mean absolute difference of two same-sized images over all samples (0 = identical, 255 = opposite).
private func meanDifference(_ a: RGBImage, _ b: RGBImage) -> Double {
    precondition(a.width == b.width && a.height == b.height)
    let total = zip(a.pixels, b.pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }
    return Double(total) / Double(a.pixels.count)
}

/// The decoding error for `bytes`, or nil when they decode.
private func heifError(_ bytes: [UInt8], name: String, decoder: ImageDecoder = ImageDecoder()) -> ImageDecodingError? {
    do {
        _ = try decoder.decode(bytes, name: name)
        return nil
    } catch {
        return error
    }
}

/// What libheif says about a file's primary image, to prove that a generated test file really is what the test
/// claims (10-bit, alpha, premultiplied...), rather than trusting the encoder's options.
private struct PrimaryInfo {
    var width, height, lumaBits, chromaBits: Int
    var hasAlpha, premultiplied: Bool
}

private func primaryInfo(_ bytes: [UInt8]) throws -> PrimaryInfo {
    let context = try #require(heif_context_alloc())
    defer { heif_context_free(context) }
    let read = bytes.withUnsafeBytes { heif_context_read_from_memory(context, $0.baseAddress, $0.count, nil) }
    guard read.code == heif_error_Ok else { throw HEIFSetupError("libheif cannot read the test file") }
    var handle: OpaquePointer?
    guard heif_context_get_primary_image_handle(context, &handle).code == heif_error_Ok, let handle else {
        throw HEIFSetupError("no primary image")
    }
    defer { heif_image_handle_release(handle) }
    return PrimaryInfo(width: Int(heif_image_handle_get_width(handle)), height: Int(heif_image_handle_get_height(handle)),
                       lumaBits: Int(heif_image_handle_get_luma_bits_per_pixel(handle)),
                       chromaBits: Int(heif_image_handle_get_chroma_bits_per_pixel(handle)),
                       hasAlpha: heif_image_handle_has_alpha_channel(handle) != 0,
                       premultiplied: heif_image_handle_is_premultiplied_alpha(handle) != 0)
}

/// Encodes `image` with libheif's API (x265 or libaom) asking for `orientation` to be stored as irot/imir
/// properties: heif-enc 1.15 has no option for that (it keeps a JPEG's EXIF orientation as metadata only).
private func encodeWithLibheif(_ image: RGBImage, format: heif_compression_format,
                               orientation: heif_orientation) throws -> [UInt8] {
    func check(_ error: heif_error, _ what: String) throws {
        guard error.code == heif_error_Ok else {
            throw HEIFSetupError("\(what): \(error.message.map { String(cString: $0) } ?? "?")")
        }
    }
    let context = try #require(heif_context_alloc())
    defer { heif_context_free(context) }
    var encoderOut: OpaquePointer?
    try check(heif_context_get_encoder_for_format(context, format, &encoderOut), "no encoder")
    let encoder = try #require(encoderOut)
    defer { heif_encoder_release(encoder) }
    try check(heif_encoder_set_lossy_quality(encoder, 90), "quality")
    var pictureOut: OpaquePointer?
    try check(heif_image_create(Int32(image.width), Int32(image.height), heif_colorspace_RGB,
                                heif_chroma_interleaved_RGB, &pictureOut), "image")
    let picture = try #require(pictureOut)
    defer { heif_image_release(picture) }
    try check(heif_image_add_plane(picture, heif_channel_interleaved, Int32(image.width), Int32(image.height), 8),
              "plane")
    var stride: Int32 = 0
    let plane = try #require(heif_image_get_plane(picture, heif_channel_interleaved, &stride))
    image.pixels.withUnsafeBufferPointer { src in
        for y in 0..<image.height {
            (plane + y * Int(stride)).update(from: src.baseAddress! + y * image.width * 3, count: image.width * 3)
        }
    }
    let options = try #require(heif_encoding_options_alloc())
    defer { heif_encoding_options_free(options) }
    options.pointee.image_orientation = orientation
    try check(heif_context_encode_image(context, picture, encoder, options, nil), "encode")
    let path = NSTemporaryDirectory() + "facefind-heif-rot-\(UUID().uuidString.prefix(8)).heif"
    defer { try? FileManager.default.removeItem(atPath: path) }
    try check(heif_context_write_to_file(context, path), "write")
    return [UInt8](try #require(FileManager.default.contents(atPath: path)))
}

private func contains(_ bytes: [UInt8], _ box: String) -> Bool {
    let needle = Array(box.utf8)
    return bytes.indices.dropLast(needle.count).contains { bytes[$0..<$0 + needle.count].elementsEqual(needle) }
}

private func cosine(_ a: Embedding, _ b: Embedding) -> Float { zip(a.vector, b.vector).reduce(0) { $0 + $1.0 * $1.1 } }

/// An ftyp box with the given major and compatible brands, followed by a few bytes of a meta box.
private func ftyp(_ major: String, _ compatible: [String], declaredSize: Int? = nil) -> [UInt8] {
    let size = declaredSize ?? 16 + 4 * compatible.count
    let be32 = [UInt8(size >> 24 & 0xFF), UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF)]
    return be32 + Array("ftyp\(major)".utf8) + [0, 0, 0, 0] + compatible.flatMap { Array($0.utf8) }
        + [0, 0, 0, 0x20] + Array("meta".utf8)
}

// MARK: - Sniffing and messages (no encoder needed)

@Suite("HEIF: sniffing and messages")
struct HEIFSniffTests {
    @Test("the ftyp brands decide: HEIC, AVIF, generic HEIF, and other ISO-BMFF files")
    func sniffing() {
        #expect(ImageDecoder.sniff(ftyp("heic", ["mif1", "heic"])) == .heic)      // heif-enc, iPhone
        #expect(ImageDecoder.sniff(ftyp("heix", ["mif1", "heix"])) == .heic)      // 10-bit / 4:2:2 HEVC
        #expect(ImageDecoder.sniff(ftyp("hevc", ["msf1", "hevc"])) == .heic)      // HEVC image sequence
        #expect(ImageDecoder.sniff(ftyp("mif1", ["mif1", "heic", "miaf"])) == .heic)  // Samsung: generic major
        #expect(ImageDecoder.sniff(ftyp("mif1", ["miaf"])) == .heic)              // codec-neutral HEIF
        #expect(ImageDecoder.sniff(ftyp("msf1", [])) == .heic)
        #expect(ImageDecoder.sniff(ftyp("avif", ["avif", "mif1", "miaf"])) == .avif)
        #expect(ImageDecoder.sniff(ftyp("avis", ["avis", "msf1"])) == .avif)      // AV1 sequence
        #expect(ImageDecoder.sniff(ftyp("mif1", ["mif1", "avif", "miaf"])) == .avif)  // AV1 under a generic major
        #expect(ImageDecoder.sniff(ftyp("miaf", ["avif"])) == .avif)
        // Videos and other ISO-BMFF files are not images, even when they mention an unrelated brand.
        #expect(ImageDecoder.sniff(ftyp("isom", ["isom", "iso2", "avc1", "mp41"])) == nil)
        #expect(ImageDecoder.sniff(ftyp("qt  ", ["qt  "])) == nil)
        #expect(ImageDecoder.sniff(ftyp("crx ", ["crx ", "isom"])) == nil)         // Canon CR3 raw
        #expect(ImageDecoder.sniff(ftyp("M4A ", ["M4A ", "mp42"])) == nil)
        // Compatible brands are read only inside the box's declared size: here it ends before "heic".
        #expect(ImageDecoder.sniff(ftyp("mp42", ["isom", "heic"], declaredSize: 20)) == nil)
        #expect(ImageDecoder.sniff(ftyp("mp42", ["isom", "heic"])) == .heic)
        // A huge declared size or a cut file never reads past the data.
        #expect(ImageDecoder.sniff(Array(ftyp("mp42", ["isom", "avif"], declaredSize: 0x7FFF_FFFF).prefix(22))) == nil)
        #expect(ImageDecoder.sniff(Array(ftyp("mp42", ["isom", "avif"], declaredSize: 0x7FFF_FFFF).prefix(24))) == .avif)
        #expect(ImageDecoder.sniff(Array(ftyp("heic", []).prefix(11))) == nil)      // brand cut short
        #expect(ImageDecoder.sniff(Array(ftyp("heic", []).prefix(12))) == .heic)
        #expect(ImageDecoder.sniff(Array("ftypheic".utf8) + [0, 0, 0, 0]) == nil)    // ftyp not at offset 4
        // The other formats are unchanged.
        #expect(ImageDecoder.sniff([0xFF, 0xD8, 0xFF, 0xE0]) == .jpeg)
    }

    @Test("a missing decoder names the Debian package; this machine's libheif has both decoders")
    func missingDecoderMessages() {
        let none: (heif_compression_format) -> Bool = { _ in false }
        let heic = ImageDecoder.missingHEIFDecoderReason(format: .heic, haveDecoder: none)
        #expect(heic?.contains("no HEVC decoder") == true && heic?.contains("libde265-0") == true, "\(heic ?? "nil")")
        #expect(heic?.contains("libheif-plugin-libde265") == true)
        let avif = ImageDecoder.missingHEIFDecoderReason(format: .avif, haveDecoder: none)
        #expect(avif?.contains("no AV1 decoder") == true && avif?.contains("libdav1d6") == true, "\(avif ?? "nil")")
        #expect(avif?.contains("libheif-plugin-dav1d") == true)
        // Only the codec the file needs counts.
        let onlyAV1: (heif_compression_format) -> Bool = { $0 == heif_compression_AV1 }
        #expect(ImageDecoder.missingHEIFDecoderReason(format: .avif, haveDecoder: onlyAV1) == nil)
        #expect(ImageDecoder.missingHEIFDecoderReason(format: .heic, haveDecoder: onlyAV1) != nil)
        #expect(ImageDecoder.missingHEIFDecoderReason(format: .jpeg, haveDecoder: none) == nil)
        // Set-up installs libheif1 with libde265 and dav1d/libaom: the real answer is "nothing missing".
        #expect(ImageDecoder.missingHEIFDecoderReason(format: .heic) == nil)
        #expect(ImageDecoder.missingHEIFDecoderReason(format: .avif) == nil)
    }

    @Test("premultiplied alpha over white: c + 255 - a, clamped")
    func premultipliedComposite() {
        #expect(ImageDecoder.compositePremultipliedRGBAOnWhite([100, 0, 0, 128, 9, 9, 9, 255, 0, 0, 0, 0, 200, 0, 0, 100])
                == [227, 127, 127, 9, 9, 9, 255, 255, 255, 255, 155, 155])
    }
}

// MARK: - Real files from heif-enc

@Suite("HEIF: decoding files from the real encoders", .serialized)
struct HEIFDecodingTests {
    static let portrait = "lfw-dev/Abdullah_Gul/Abdullah_Gul_0001.jpg"

    @Test("8-bit HEIC and AVIF of a photo decode to the JPEG's pixels, within lossy error", arguments: [
        ["-q", "90"], ["-A", "-q", "90"],
    ])
    func eightBit(options: [String]) throws {
        let jpeg = try TestData.decode(Self.portrait)
        let file = try heifEnc(TestData.face(Self.portrait), options)
        #expect(ImageDecoder.sniff(file.bytes) == (options.contains("-A") ? .avif : .heic))
        let info = try primaryInfo(file.bytes)
        #expect(info.lumaBits == 8 && !info.hasAlpha)
        let image = try ImageDecoder().decode(contentsOf: file.path)
        #expect(image.width == jpeg.width && image.height == jpeg.height)
        let difference = meanDifference(image, jpeg)
        #expect(difference < 4, "mean difference \(difference)")
    }

    /// 10-bit AVIF with 4:2:2 chroma: Debian 12's heif-enc with libaom 3.6 aborts on 10-bit 4:2:0 and 4:4:4
    /// (an assertion in libaom's write_color_config), 12-bit works with the defaults.
    @Test("10- and 12-bit files (from a 16-bit PNG) are scaled to the same 8-bit pixels", arguments: [
        ["-b", "10", "-q", "90"], ["-A", "-b", "10", "-p", "chroma=422", "-q", "90"], ["-A", "-b", "12", "-q", "90"],
    ])
    func highBitDepth(options: [String]) throws {
        let jpeg = try TestData.decode(Self.portrait)
        // 8-bit samples v stored as v * 257, the 16-bit value of the same intensity.
        let png16 = try makePNG(format: UInt32(PNG_FORMAT_FLAG_LINEAR | PNG_FORMAT_FLAG_COLOR), width: jpeg.width, height: jpeg.height,
                                words: jpeg.pixels.map { UInt16($0) * 257 })
        let file = try heifEnc(try temporaryFile(png16, extension: "png"), options)
        let bits = Int(options[options.firstIndex(of: "-b")! + 1])!
        #expect(try primaryInfo(file.bytes).lumaBits == bits)
        let image = try ImageDecoder().decode(file.bytes, name: file.path)
        #expect(image.width == jpeg.width && image.height == jpeg.height)
        let difference = meanDifference(image, jpeg)
        #expect(difference < 4, "mean difference \(difference)")
    }

    @Test("a grey PNG gives a monochrome HEIC/AVIF that decodes to grey RGB", arguments: [[String](), ["-A"]])
    func grey(options: [String]) throws {
        let jpeg = try TestData.decode(Self.portrait)
        let luma = stride(from: 0, to: jpeg.pixels.count, by: 3).map { jpeg.pixels[$0 + 1] }
        let png = try makePNG(format: UInt32(PNG_FORMAT_GRAY), width: jpeg.width, height: jpeg.height, bytes: luma)
        let file = try heifEnc(try temporaryFile(png, extension: "png"), options + ["-q", "90"])
        let info = try primaryInfo(file.bytes)
        #expect(info.chromaBits <= 0 || info.chromaBits == info.lumaBits)
        let image = try ImageDecoder().decode(file.bytes, name: file.path)
        let expected = RGBImage(width: jpeg.width, height: jpeg.height, pixels: luma.flatMap { [$0, $0, $0] })
        let difference = meanDifference(image, expected)
        #expect(difference < 4, "mean difference \(difference)")
        // Grey in, grey out: channels agree up to the colour conversion's rounding.
        let spread = stride(from: 0, to: image.pixels.count, by: 3).map {
            max(image.pixels[$0], image.pixels[$0 + 1], image.pixels[$0 + 2]) - min(image.pixels[$0], image.pixels[$0 + 1], image.pixels[$0 + 2])
        }.max() ?? 255
        #expect(spread <= 2, "channel spread \(spread)")
    }

    /// 64x48: left half translucent dark red (alpha 128), top right fully transparent green, bottom right opaque
    /// green. Colour values are what the encoder stores; `premultiplied` only changes the file's flag.
    static func alphaPNG() throws -> [UInt8] {
        var rgba: [UInt8] = []
        for y in 0..<48 {
            for x in 0..<64 {
                rgba += x < 32 ? [100, 0, 0, 128] : (y < 24 ? [10, 200, 30, 0] : [10, 200, 30, 255])
            }
        }
        return try makePNG(format: UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA), width: 64, height: 48, bytes: rgba)
    }

    @Test("alpha is composited onto white, straight or premultiplied", arguments: [
        ([String](), false), (["-A"], false), (["--premultiplied-alpha"], true),
    ])
    func alpha(options: [String], premultiplied: Bool) throws {
        let file = try heifEnc(try temporaryFile(try Self.alphaPNG(), extension: "png"), options + ["-q", "95"])
        let info = try primaryInfo(file.bytes)
        #expect(info.hasAlpha && info.premultiplied == premultiplied)
        let image = try ImageDecoder().decode(file.bytes, name: file.path)
        #expect(image.width == 64 && image.height == 48)
        func close(_ x: Int, _ y: Int, _ expected: RGB, tolerance: Int = 8) {
            let p = image[x, y]
            #expect(abs(Int(p.r) - Int(expected.r)) <= tolerance && abs(Int(p.g) - Int(expected.g)) <= tolerance
                    && abs(Int(p.b) - Int(expected.b)) <= tolerance, "(\(x), \(y)) is \(p), expected \(expected)")
        }
        // Straight: (100 * 128 + 255 * 127) / 255 = 177, 127, 127. Premultiplied: 100 + 127 = 227, 127, 127.
        close(12, 30, premultiplied ? RGB(227, 127, 127) : RGB(177, 127, 127))
        close(52, 8, .white)
        close(52, 40, RGB(10, 200, 30))
    }

    /// libheif's orientation values are EXIF's (6 = rotate 90 clockwise, 2 = mirror, 8 = rotate 270 clockwise).
    @Test("irot and imir are applied: the photo comes back as a viewer shows it", arguments: [
        (6, "irot"), (2, "imir"), (8, "irot"),
    ])
    func transformations(exif: Int, box: String) throws {
        // A non-square, asymmetric crop, so that a missed or wrong transformation cannot go unnoticed.
        let source = try TestData.decode(Self.portrait).cropped(x: 20, y: 10, width: 176, height: 224)
        let bytes = try encodeWithLibheif(source, format: heif_compression_HEVC,
                                          orientation: heif_orientation(UInt32(exif)))
        #expect(contains(bytes, box), "libheif wrote no \(box) box")
        let image = try ImageDecoder().decode(bytes, name: "rotated.heic")
        // Same meaning as EXIF orientation in a JPEG, which the JPEG decoder applies.
        let upright = source.applyingEXIFOrientation(exif)
        try #require(image.width == upright.width && image.height == upright.height)
        let difference = meanDifference(image, upright)
        #expect(difference < 4, "mean difference to the upright photo \(difference)")
        if image.width == source.width {
            #expect(meanDifference(image, source) > 3 * difference + 5, "the transformation was not applied")
        }
    }

    @Test("EXIF orientation inside a HEIC is not applied on top of irot (heif-enc keeps it as metadata only)")
    func exifOrientationIsNotAppliedTwice() throws {
        let source = try TestData.decode(Self.portrait).cropped(x: 20, y: 10, width: 176, height: 224)
        let jpeg = try makeJPEG(source, exifOrientation: 6)
        #expect(exifOrientation(jpeg: jpeg) == 6)
        let file = try heifEnc(try temporaryFile(jpeg, extension: "jpg"), ["-q", "90"])
        #expect(contains(file.bytes, "Exif") && !contains(file.bytes, "irot"))
        let image = try ImageDecoder().decode(file.bytes, name: file.path)
        #expect(image.width == source.width && image.height == source.height)
        #expect(meanDifference(image, source) < 4)
    }

    @Test("the decoded HEIC/AVIF gives the JPEG's face and an embedding within cosine 0.95 of it")
    func sameFaceAndEmbedding() throws {
        let pipeline = try FacePipeline(configuration: PipelineConfiguration(), loader: TestData.loader())
        func largest(_ image: RGBImage) throws -> (face: DetectedFace, embedding: Embedding) {
            let faces = try pipeline.embedFaces(in: image)
            let best = try #require(faces.max { $0.face.box.area < $1.face.box.area })
            return (best.face, best.embedding)
        }
        for photo in [Self.portrait, "lfw-dev/Adam_Sandler/Adam_Sandler_0001.jpg"] {
            let reference = try largest(try TestData.decode(photo))
            #expect(!reference.face.isWholeImage)
            for options in [["-q", "90"], ["-A", "-q", "90"]] {
                let file = try heifEnc(TestData.face(photo), options)
                let decoded = try largest(try ImageDecoder().decode(file.bytes, name: file.path))
                #expect(!decoded.face.isWholeImage)
                let shift = max(abs(decoded.face.box.center.x - reference.face.box.center.x),
                                abs(decoded.face.box.center.y - reference.face.box.center.y))
                #expect(shift < 4, "\(photo) \(options): face centre moved \(shift) px")
                let similarity = cosine(decoded.embedding, reference.embedding)
                #expect(similarity >= 0.95, "\(photo) \(options): cosine \(similarity)")
            }
        }
    }
}

// MARK: - Hostile and broken files

@Suite("HEIF: broken files", .serialized)
struct HEIFBrokenFileTests {
    static func goodHEIC() throws -> [UInt8] { try heifEnc(TestData.face(HEIFDecodingTests.portrait), ["-q", "80"]).bytes }

    /// The file with the width and height of its (first) ispe property replaced.
    static func claimingSize(_ bytes: [UInt8], width: UInt32, height: UInt32) throws -> [UInt8] {
        let needle = Array("ispe".utf8)
        let at = try #require(bytes.indices.dropLast(16).first { bytes[$0..<$0 + 4].elementsEqual(needle) })
        var patched = bytes
        for (i, v) in [width, height].enumerated() {
            for b in 0..<4 { patched[at + 8 + 4 * i + b] = UInt8(v >> (24 - 8 * b) & 0xFF) }  // after version/flags
        }
        return patched
    }

    /// The file with its mdat payload (the coded image) replaced by pseudo-random bytes from `skip` bytes into
    /// it: 0 replaces the NAL unit / OBU framing too, 8 keeps the first length prefix and header bytes.
    static func garbagePayload(_ bytes: [UInt8], skip: Int = 0) throws -> [UInt8] {
        let needle = Array("mdat".utf8)
        let at = try #require(bytes.indices.dropLast(4).first { bytes[$0..<$0 + 4].elementsEqual(needle) })
        var patched = bytes
        var state: UInt32 = 12345
        for i in (at + 4 + skip)..<patched.count {
            state = state &* 1_664_525 &+ 1_013_904_223
            patched[i] = UInt8(truncatingIfNeeded: state >> 24)
        }
        return patched
    }

    @Test("empty, truncated, garbage and huge-size files each give an error naming the file and why")
    func brokenFiles() throws {
        let good = try Self.goodHEIC()
        #expect(heifError(good, name: "good.heic") == nil)

        let empty = try #require(heifError([], name: "empty.heic"))
        #expect(empty.description == "empty.heic: empty file (0 bytes)")

        for cut in [good.count / 2, 400, 40, 13] {
            let error = try #require(heifError(Array(good.prefix(cut)), name: "cut.heic"), "\(cut) bytes decoded")
            #expect(error.file == "cut.heic")
            #expect(error.reason.contains("HEIC") && error.reason.contains("libheif: "), "\(cut): \(error.reason)")
        }

        let garbage = try #require(heifError(try Self.garbagePayload(good), name: "garbage.heic"),
                                   "a garbage HEVC payload decoded")
        #expect(garbage.reason.hasPrefix("cannot decode HEIC image (libheif: "), "\(garbage.reason)")
        #expect(!garbage.reason.hasSuffix("\n") && !garbage.reason.contains("\n"))
        // Random slice data behind an intact NAL unit header: libde265 decodes it to noise without an error or a
        // warning (strict or not), so no decoder can refuse it; it must still not crash, and what comes back has
        // the declared size (indexing then treats it as a photo without a face).
        let noiseBytes = try Self.garbagePayload(good, skip: 8)
        do {
            let noise = try ImageDecoder().decode(noiseBytes, name: "noise.heic")
            #expect(noise.width == 250 && noise.height == 250)
        } catch {
            #expect(error.reason.contains("HEIC"), "\(error)")
        }

        // Within libheif's per-side limit but over our pixel limit: refused from the header, before decoding.
        let big = try #require(heifError(try Self.claimingSize(good, width: 20000, height: 20000), name: "big.heic"))
        #expect(big.reason == "20000x20000 = 400.0 MP exceeds the limit of 50.0 MP", "\(big.reason)")
        // Over libheif's per-side security limit: refused while the container is read.
        let huge = try #require(heifError(try Self.claimingSize(good, width: 100_000, height: 100_000), name: "huge.heic"))
        #expect(huge.reason.hasPrefix("HEIC image is larger than allowed (") && huge.reason.contains("100000x100000"),
                "\(huge.reason)")
        // A smaller pixel limit lowers libheif's side limit too.
        let small = try #require(heifError(good, name: "small.heic", decoder: ImageDecoder(maxPixels: 200)))
        #expect(small.reason.contains("larger than allowed") || small.reason.contains("exceeds the limit"), "\(small.reason)")
    }

    @Test("a garbage AV1 payload is an error too")
    func garbageAVIF() throws {
        let good = try heifEnc(TestData.face(HEIFDecodingTests.portrait), ["-A", "-q", "80"]).bytes
        let error = try #require(heifError(try Self.garbagePayload(good), name: "garbage.avif"))
        // heif-enc keeps the AV1 sequence header in the item's data, not in av1C: with the payload garbage, the
        // frame size it declares cannot be read, and the file is refused before libheif decodes (HEIFCodedSize).
        #expect(error.reason == "AVIF image cannot be checked before decoding: the AV1 data holds no sequence header",
                "\(error.reason)")
    }

    @Test("facefind index reads HEIC/AVIF, lists the broken ones with their reasons, and search finds the person")
    func indexAndSearchThroughTheCLI() throws {
        let folder = try TestData.temporaryFolder()
        // Gallery: one photo of each of five people, as HEIC or AVIF (under all four extensions indexing takes).
        let gallery: [(photo: String, options: [String], ext: String)] = [
            ("Abdullah_Gul/Abdullah_Gul_0002.jpg", ["-q", "85"], "heic"),
            ("Adam_Sandler/Adam_Sandler_0002.jpg", ["-A", "-q", "85"], "avif"),
            ("Adrien_Brody/Adrien_Brody_0002.jpg", ["-q", "85"], "heif"),
            ("Al_Gore/Al_Gore_0002.jpg", ["-A", "-q", "85"], "avif"),
            ("Alejandro_Toledo/Alejandro_Toledo_0002.jpg", ["-q", "85"], "hif"),
        ]
        for entry in gallery {
            let name = URL(fileURLWithPath: entry.photo).deletingPathExtension().lastPathComponent
            _ = try heifEnc(TestData.face("lfw-dev/" + entry.photo), entry.options, output: "\(folder)/\(name).\(entry.ext)")
        }
        let good = try Self.goodHEIC()
        try Data().write(to: URL(fileURLWithPath: "\(folder)/empty.heic"))
        try Data(good.prefix(good.count / 2)).write(to: URL(fileURLWithPath: "\(folder)/truncated.heic"))
        try Data(try Self.garbagePayload(good)).write(to: URL(fileURLWithPath: "\(folder)/garbage.heic"))
        try Data(try Self.claimingSize(good, width: 20000, height: 20000)).write(to: URL(fileURLWithPath: "\(folder)/huge.heic"))

        let db = folder + ".sqlite"
        let index = try EndToEndTests.runFacefind(["index", folder, "--db", db, "--models", TestData.models])
        let log = String(decoding: index.output, as: UTF8.self) + index.errors
        #expect(index.status == 2, "\(log)")  // finished, some inputs unreadable
        for (file, reason) in [("empty.heic", "empty file (0 bytes)"), ("truncated.heic", "HEIC"),
                               ("garbage.heic", "cannot decode HEIC image"), ("huge.heic", "exceeds the limit")] {
            let line = log.split(separator: "\n").first { $0.contains("\(folder)/\(file):") }
            #expect(line?.contains(reason) == true, "\(file): \(line.map(String.init) ?? "not listed")\n\(log)")
        }

        // A JPEG of each of two people, other photos than the gallery's: that person's HEIC/AVIF comes first.
        for (query, person) in [("Abdullah_Gul/Abdullah_Gul_0001.jpg", "Abdullah_Gul"),
                                ("Adam_Sandler/Adam_Sandler_0001.jpg", "Adam_Sandler"),
                                ("Al_Gore/Al_Gore_0001.jpg", "Al_Gore")] {
            let search = try EndToEndTests.runFacefind(["search", TestData.face("lfw-dev/" + query), "--db", db,
                                                        "-k", "5", "--json", "--models", TestData.models])
            #expect(search.status == 0, "\(search.errors)")
            struct Result: Decodable { struct M: Decodable { var path: String; var score: Float }; var results: [M] }
            let results = try JSONDecoder().decode([Result].self, from: search.output)
            #expect(results.first?.results.count == gallery.count)
            let top = try #require(results.first?.results.first)
            #expect(top.path.contains(person), "\(query): top is \(top.path)")
        }
    }
}
