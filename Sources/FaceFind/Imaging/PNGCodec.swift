import CPNG
import Foundation

// PNG through libpng's "simplified" png_image API: it handles every bit depth and colour type (palette, grey,
// grey+alpha, RGBA, 16-bit, tRNS) with one call and reports errors as a message instead of a longjmp.

extension ImageDecoder {
    /// Decodes any PNG to 8-bit RGB.
    ///
    /// Alpha policy: transparent and translucent pixels are composited onto white (libpng does the blend in
    /// linear light), so a transparent background looks like paper rather than whatever colour hides under alpha 0.
    /// 16-bit files without gamma information are treated as sRGB (as viewers and OpenCV do), not libpng's default
    /// of linear, which would brighten them.
    func decodePNG(_ bytes: [UInt8], name: String) throws(ImageDecodingError) -> RGBImage {
        func failure(_ image: png_image, _ what: String) -> ImageDecodingError {
            var message = image.message
            let text = withUnsafeBytes(of: &message) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            return ImageDecodingError(file: name, reason: "\(what) (\(text.isEmpty ? "libpng error" : text))")
        }

        return try bytes.withUnsafeBufferPointer { (memory) throws(ImageDecodingError) -> RGBImage in
            var image = png_image()
            image.version = UInt32(PNG_IMAGE_VERSION)
            // libpng keeps a pointer to `memory` between begin and finish, so both happen inside this closure.
            defer { png_image_free(&image) }
            guard png_image_begin_read_from_memory(&image, memory.baseAddress, memory.count) != 0 else {
                throw failure(image, "corrupt PNG header")
            }
            let w = Int(image.width), h = Int(image.height)
            try checkSize(width: w, height: h, name: name)
            image.format = UInt32(PNG_FORMAT_RGB)
            image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
            var white = png_color(red: 255, green: 255, blue: 255)
            var pixels = [UInt8](repeating: 255, count: w * h * 3)
            let ok = pixels.withUnsafeMutableBytes { out in
                png_image_finish_read(&image, &white, out.baseAddress, Int32(w * 3), nil)
            }
            guard ok != 0 else {
                throw failure(image, "corrupt or truncated PNG data")
            }
            return RGBImage(width: w, height: h, pixels: pixels)
        }
    }
}

/// Why an image could not be encoded or written.
public struct ImageEncodingError: Error, CustomStringConvertible, Equatable {
    /// The destination path, or nil when encoding to memory.
    public let file: String?
    public let reason: String

    public init(file: String?, reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String { file.map { "\($0): \(reason)" } ?? reason }
}

extension RGBImage {
    /// The image as an 8-bit RGB PNG file (lossless, so debug crops and montages show exactly what the pipeline saw).
    public func pngData() throws(ImageEncodingError) -> [UInt8] {
        guard width > 0, height > 0, width <= Int(Int32.max) / 3, height <= Int(Int32.max) else {
            throw ImageEncodingError(file: nil, reason: "cannot encode a \(width)x\(height) image as PNG")
        }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = UInt32(PNG_FORMAT_RGB)
        defer { png_image_free(&image) }

        // Start with a buffer big enough for incompressible data (zlib's worst case plus chunk overhead, after
        // libpng's PNG_IMAGE_PNG_SIZE_MAX) so one compression pass suffices; libpng reports the size it really
        // needed if the guess was short, and we retry once with that.
        let raw = (width * 3 + 1) * height
        var capacity = raw + raw / 8 + raw / 64 + 12 * (raw / 8192 + 1) + 1024
        for _ in 0..<2 {
            var output = [UInt8](repeating: 0, count: capacity)
            var size = capacity
            let ok = pixels.withUnsafeBytes { src in
                output.withUnsafeMutableBytes { dst in
                    png_image_write_to_memory(&image, dst.baseAddress, &size, 0, src.baseAddress, 0, nil)
                }
            }
            if ok != 0 {
                output.removeSubrange(size...)
                return output
            }
            guard size > capacity else { break }  // a real error, not a short buffer
            capacity = size
            png_image_free(&image)
            image.warning_or_error = 0
        }
        var message = image.message
        let text = withUnsafeBytes(of: &message) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        throw ImageEncodingError(file: nil, reason: "PNG encoding failed (\(text.isEmpty ? "libpng error" : text))")
    }

    /// Writes the image as a PNG file at `path`, replacing any existing file.
    public func writePNG(to path: String) throws(ImageEncodingError) {
        let data: [UInt8]
        do {
            data = try pngData()
        } catch {
            throw ImageEncodingError(file: path, reason: error.reason)
        }
        // Plain POSIX calls so a failure says why in errno's words ("Permission denied", "No such file...").
        func failure(_ what: String) -> ImageEncodingError {
            ImageEncodingError(file: path, reason: "\(what): \(String(cString: strerror(errno)))")
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw failure("cannot create PNG file") }
        var written = 0
        while written < data.count {
            let n = data.withUnsafeBytes { raw in write(fd, raw.baseAddress.map { $0 + written }, raw.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                let error = failure("cannot write PNG file")
                close(fd)
                throw error
            }
            written += n
        }
        guard close(fd) == 0 else { throw failure("cannot write PNG file") }
    }
}
