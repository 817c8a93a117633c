import CHeif
import Foundation

// HEIC and AVIF (the HEIF container family) through libheif: HEVC payloads decoded by libde265, AV1 by dav1d or
// libaom, whichever libheif was built with. libheif parses the container, applies the image's transformations
// (clean aperture, `irot` rotation, `imir` mirroring) and converts YCbCr of any bit depth to interleaved 8-bit RGB.

/// libheif asks for heif_init() before first use (it registers the decoder plug-ins). Reference counted and never
/// undone: the plug-ins stay loaded for the life of the process. A global `let` is initialised once, thread-safely.
private let libheifInitialised: Bool = heif_init(nil).code == heif_error_Ok

extension ImageDecoder {
    /// libheif's own limit on the width and on the height of every image item it parses (the primary image, its
    /// grid tiles, its alpha plane), checked while reading the container, before any decoding. Our `maxPixels`
    /// only bounds the primary image's area (checked below from its handle); this bounds the items we cannot ask
    /// the size of, such as an alpha plane bigger than its image. 32768 is the longest side of any photo we expect
    /// (and libheif's default); a smaller `maxPixels` lowers it.
    var heifMaximumSide: Int32 { Int32(min(maxPixels, 32768)) }

    /// Decodes the primary image of a HEIC or AVIF file to upright 8-bit RGB. Thumbnails, depth maps and other
    /// images in the file are ignored. EXIF orientation in a HEIF file is NOT applied: `irot`/`imir` are the
    /// authoritative transformations there (viewers and libheif apply them; the EXIF tag, when present, repeats
    /// them, so applying both would rotate twice). Alpha is composited onto white, as for PNG and WebP; 10- and
    /// 12-bit images are scaled to 8 bits by libheif; monochrome images come back as grey RGB.
    func decodeHEIF(_ bytes: [UInt8], format: ImageFormat, name: String) throws(ImageDecodingError) -> RGBImage {
        _ = libheifInitialised  // a failure shows up as an error from the calls below
        let kind = format == .avif ? "AVIF" : "HEIC"

        /// The error for a failed libheif call: libheif's message after what we were doing, or, when decoding
        /// failed and the file's codec has no decoder in this libheif, the package to install.
        func failure(_ error: heif_error, _ what: String, decoding: Bool = false) -> ImageDecodingError {
            if decoding, let missing = Self.missingHEIFDecoderReason(format: format) {
                return ImageDecodingError(file: name, reason: missing)
            }
            // libheif ends some messages with a newline; the reason is one line.
            let message = error.message.map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
            let detail = message.isEmpty ? "libheif error \(error.code.rawValue).\(error.subcode.rawValue)" : message
            if error.subcode == heif_suberror_Security_limit_exceeded {
                return ImageDecodingError(file: name, reason: "\(kind) image is larger than allowed (\(detail))")
            }
            return ImageDecodingError(file: name, reason: "\(what) (libheif: \(detail))")
        }

        // withUnsafeBufferPointer, not withUnsafeBytes: only the former passes a typed error through.
        return try bytes.withUnsafeBufferPointer { (data) throws(ImageDecodingError) -> RGBImage in
            guard let base = data.baseAddress, data.count > 0 else {
                throw ImageDecodingError(file: name, reason: "empty file (0 bytes)")
            }
            // The context reads `data` in place (no copy of a photo that may be tens of MB), so it must not
            // outlive this closure: allocated and freed inside it.
            guard let context = heif_context_alloc() else {
                throw ImageDecodingError(file: name, reason: "out of memory creating a libheif context")
            }
            defer { heif_context_free(context) }
            heif_context_set_maximum_image_size_limit(context, heifMaximumSide)

            var error = heif_context_read_from_memory_without_copy(context, base, data.count, nil)
            guard error.code == heif_error_Ok else {
                throw failure(error, "corrupt or truncated \(kind) container")
            }
            var handleOut: OpaquePointer?
            error = heif_context_get_primary_image_handle(context, &handleOut)
            guard error.code == heif_error_Ok, let handle = handleOut else {
                throw failure(error, "no primary image in \(kind) file")
            }
            defer { heif_image_handle_release(handle) }

            // The size after transformations (what decoding returns), then the coded size before cropping, which
            // is what the decoder allocates: both within the pixel limit, before any pixel is decoded.
            try checkSize(width: Int(heif_image_handle_get_width(handle)),
                          height: Int(heif_image_handle_get_height(handle)), name: name)
            let codedWidth = Int(heif_image_handle_get_ispe_width(handle))
            let codedHeight = Int(heif_image_handle_get_ispe_height(handle))
            if codedWidth > 0, codedHeight > 0 {
                try checkSize(width: codedWidth, height: codedHeight, name: name)
            }
            // `ispe` is the file's word; the decoders allocate what the coded streams say (HEIFCodedSize).
            let coded: [HEIFCodedSize.Size]
            do { coded = try HEIFCodedSize.sizes(of: bytes) } catch {
                throw ImageDecodingError(file: name, reason: "\(kind) image cannot be checked before decoding: \(error)")
            }
            for size in coded {
                try checkSize(width: size.width, height: size.height, name: name, what: "its \(size.what) is coded at")
            }

            guard let options = heif_decoding_options_alloc() else {
                throw ImageDecodingError(file: name, reason: "out of memory allocating libheif decoding options")
            }
            defer { heif_decoding_options_free(options) }
            options.pointee.ignore_transformations = 0  // the default, stated: irot/imir/clap are applied
            // 10/12-bit to 8-bit, scaled by libheif. Interleaved RGB(A) output is 8-bit in libheif 1.15 even
            // without this flag (checked); it is set so the request does not depend on that.
            options.pointee.convert_hdr_to_8bit = 1
            // Not strict (libheif's default, what viewers do): decoder warnings are accepted, as for JPEG. Strict
            // mode was measured to change nothing on broken files: a payload cut short is already refused while
            // the container is read (its iloc extents lie beyond the end), broken NAL/OBU framing is an error
            // either way, and random HEVC slice data behind intact framing decodes to noise with no warning even
            // when strict (libde265 cannot tell it from a picture), so it is indexed like any photo without a face.
            options.pointee.strict_decoding = 0

            let hasAlpha = heif_image_handle_has_alpha_channel(handle) != 0
            let channels = hasAlpha ? 4 : 3
            var imageOut: OpaquePointer?
            error = heif_decode_image(handle, &imageOut, heif_colorspace_RGB,
                                      hasAlpha ? heif_chroma_interleaved_RGBA : heif_chroma_interleaved_RGB, options)
            guard error.code == heif_error_Ok, let image = imageOut else {
                throw failure(error, "cannot decode \(kind) image", decoding: true)
            }
            defer { heif_image_release(image) }

            // Trust the decoded image's own geometry for the copy, never the header's.
            let w = Int(heif_image_get_width(image, heif_channel_interleaved))
            let h = Int(heif_image_get_height(image, heif_channel_interleaved))
            try checkSize(width: w, height: h, name: name)
            let bits = heif_image_get_bits_per_pixel_range(image, heif_channel_interleaved)
            var stride: Int32 = 0
            guard bits == 8, let plane = heif_image_get_plane_readonly(image, heif_channel_interleaved, &stride),
                  Int(stride) >= w * channels else {
                throw ImageDecodingError(
                    file: name, reason: "libheif returned an unexpected \(kind) pixel layout (\(bits) bits, stride \(stride))")
            }
            let rowBytes = w * channels
            var pixels = [UInt8](unsafeUninitializedCapacity: rowBytes * h) { out, initialized in
                for y in 0..<h {
                    (out.baseAddress! + y * rowBytes).initialize(from: plane + y * Int(stride), count: rowBytes)
                }
                initialized = rowBytes * h
            }
            if hasAlpha {
                // libheif hands back premultiplied samples as they are when the file says `prem`.
                pixels = heif_image_is_premultiplied_alpha(image) != 0
                    ? Self.compositePremultipliedRGBAOnWhite(pixels) : Self.compositeRGBAOnWhite(pixels)
            }
            return RGBImage(width: w, height: h, pixels: pixels)
        }
    }

    /// When libheif has no decoder for the codec of `format` (HEVC for HEIC, AV1 for AVIF), why, naming the
    /// package to install; nil when it has one. `haveDecoder` is libheif's own answer, replaceable in tests.
    ///
    /// Debian 12's libheif1 (1.15) links its decoders, so installing it brings them: libde265-0 (HEVC), libdav1d6
    /// and libaom3 (AV1). From libheif 1.16 Debian and Ubuntu ship them as separate plug-in packages, and Ubuntu
    /// makes the HEVC one optional: libheif-plugin-libde265, libheif-plugin-dav1d, libheif-plugin-aomdec.
    static func missingHEIFDecoderReason(
        format: ImageFormat,
        haveDecoder: (heif_compression_format) -> Bool = { heif_have_decoder_for_format($0) != 0 }
    ) -> String? {
        let version = String(cString: heif_get_version())
        switch format {
        case .heic where !haveDecoder(heif_compression_HEVC):
            return "libheif \(version) has no HEVC decoder, needed for HEIC: install the Debian package libde265-0 "
                + "(Debian 12's libheif1 links it; on later releases install libheif-plugin-libde265)"
        case .avif where !haveDecoder(heif_compression_AV1):
            return "libheif \(version) has no AV1 decoder, needed for AVIF: install the Debian package libdav1d6 "
                + "(Debian 12's libheif1 links it and libaom3; on later releases install libheif-plugin-dav1d)"
        default:
            return nil
        }
    }

    /// Premultiplied RGBA (colour already scaled by alpha) to RGB over white: out = c + 255 - a, the same blend as
    /// `compositeRGBAOnWhite` for straight alpha. Clamped, since a broken file may hold c > a.
    static func compositePremultipliedRGBAOnWhite(_ rgba: [UInt8]) -> [UInt8] {
        let count = rgba.count / 4
        return [UInt8](unsafeUninitializedCapacity: count * 3) { out, initialized in
            rgba.withUnsafeBufferPointer { src in
                for i in 0..<count {
                    let background = 255 - Int(src[4 * i + 3])
                    for c in 0..<3 { out[3 * i + c] = UInt8(min(255, Int(src[4 * i + c]) + background)) }
                }
            }
            initialized = count * 3
        }
    }
}
