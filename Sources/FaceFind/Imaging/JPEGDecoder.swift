import CTurboJPEG
import Foundation

// JPEG decoding through TurboJPEG's 2.x API, plus the EXIF orientation that phones and cameras use instead of
// rotating the pixels themselves.

extension ImageDecoder {
    /// Decodes a JPEG to RGB and rotates/flips it upright according to its EXIF orientation.
    ///
    /// Warning policy: libjpeg reports recoverable problems as warnings and keeps decoding. Most are harmless in
    /// practice (for example "extraneous bytes before marker", common in files from old cameras, or a few bad
    /// Huffman codes that spoil one block), so they are accepted, as browsers do. The exception is missing data
    /// ("Premature end of JPEG file", "premature end of data segment"): the library then fills the rest of the
    /// picture with grey, which would silently feed a half-grey photo to face detection, so truncation is an error.
    func decodeJPEG(_ bytes: [UInt8], name: String) throws(ImageDecodingError) -> RGBImage {
        // One handle per call: TurboJPEG handles are not thread-safe, and creating one is cheap next to a decode.
        // (Its error text lives in the handle or in thread-local storage, so concurrent decodes cannot mix them.)
        guard let handle = tjInitDecompress() else {
            throw ImageDecodingError(file: name, reason: "cannot create a TurboJPEG decoder")
        }
        defer { tjDestroy(handle) }

        let image = try bytes.withUnsafeBufferPointer { (buffer) throws(ImageDecodingError) -> RGBImage in
            guard let base = buffer.baseAddress else {
                throw ImageDecodingError(file: name, reason: "empty file (0 bytes)")
            }
            let size = UInt(buffer.count)
            var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
            let headerStatus = tjDecompressHeader3(handle, base, size, &width, &height, &subsampling, &colorspace)
            if headerStatus != 0, let error = Self.jpegError(handle, bytes: bytes, name: name) {
                throw error
            }
            guard width > 0, height > 0 else {
                throw ImageDecodingError(
                    file: name, reason: "corrupt JPEG header (no image size found)" + Self.truncationHint(bytes))
            }
            try checkSize(width: Int(width), height: Int(height), name: name)
            let w = Int(width), h = Int(height)

            let isCMYK = colorspace == TJCS_CMYK.rawValue || colorspace == TJCS_YCCK.rawValue
            let channels = isCMYK ? 4 : 3
            let format = isCMYK ? TJPF_CMYK.rawValue : TJPF_RGB.rawValue  // grey JPEGs are expanded to RGB here
            var decoded = [UInt8](repeating: 0, count: w * h * channels)
            let status = decoded.withUnsafeMutableBufferPointer { out in
                tjDecompress2(handle, base, size, out.baseAddress, width, Int32(w * channels), height, format, 0)
            }
            if status != 0, let error = Self.jpegError(handle, bytes: bytes, name: name) {
                throw error
            }
            if isCMYK {
                decoded = Self.rgbFromCMYK(decoded, inverted: jpegHasAdobeMarker(bytes))
            }
            return RGBImage(width: w, height: h, pixels: decoded)
        }
        if let orientation = exifOrientation(jpeg: bytes), orientation != 1 {
            return image.applyingEXIFOrientation(orientation)
        }
        return image
    }

    /// The error for a TurboJPEG call that returned -1, or nil when it only raised an acceptable warning.
    ///
    /// TurboJPEG 2.x returns -1 for warnings too, and its error code says "warning" whenever any warning was raised,
    /// even if a fatal error followed. The message, however, is always the fatal error's when there was one (libjpeg
    /// prints only the first warning), so the message decides: it is a warning only if it is one of libjpeg's
    /// warning texts (JWRN_* in jerror.h).
    private static func jpegError(_ handle: tjhandle, bytes: [UInt8], name: String) -> ImageDecodingError? {
        let message = tjMessage(handle)
        let warningTexts = ["Corrupt JPEG data:", "Premature end of JPEG file", "Warning:",
                            "Unknown Adobe color transform", "Inconsistent progression sequence",
                            "Invalid SOS parameters for sequential JPEG", "Application transferred too many scanlines"]
        let isWarning = tjGetErrorCode(handle) == TJERR_WARNING.rawValue
            && warningTexts.contains { message.hasPrefix($0) }
        if isWarning {
            guard message.lowercased().contains("premature end") else { return nil }
            return ImageDecodingError(file: name, reason: "truncated JPEG data (\(message))")
        }
        return ImageDecodingError(file: name, reason: "corrupt JPEG data (\(message))" + truncationHint(bytes))
    }

    /// A hint appended to errors when the data does not end with an end-of-image marker (allowing some padding),
    /// because libjpeg's messages for a cut-off file ("Bogus Huffman table definition") rarely say so.
    private static func truncationHint(_ bytes: [UInt8]) -> String {
        let tail = bytes.suffix(64)
        let hasEOI = zip(tail, tail.dropFirst()).contains { $0 == 0xFF && $1 == 0xD9 }
        return hasEOI ? "" : "; no end-of-image marker found, so the file may be truncated"
    }

    private static func tjMessage(_ handle: tjhandle) -> String {
        guard let cString = tjGetErrorStr2(handle) else { return "unknown TurboJPEG error" }
        return String(cString: cString).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// CMYK to RGB without a colour-management system (out of scope here): the naive "ink subtracts from white"
    /// model, good enough for face detection. Adobe applications (which write almost every CMYK JPEG in the wild)
    /// store the channels inverted (255 = no ink), so there R = C*K/255; plain CMYK uses R = (255-C)(255-K)/255.
    static func rgbFromCMYK(_ cmyk: [UInt8], inverted: Bool) -> [UInt8] {
        let count = cmyk.count / 4
        return [UInt8](unsafeUninitializedCapacity: count * 3) { out, initialized in
            cmyk.withUnsafeBufferPointer { src in
                for i in 0..<count {
                    var c = Int(src[4 * i]), m = Int(src[4 * i + 1]), y = Int(src[4 * i + 2]), k = Int(src[4 * i + 3])
                    if !inverted { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k }
                    out[3 * i] = UInt8((c * k + 127) / 255)
                    out[3 * i + 1] = UInt8((m * k + 127) / 255)
                    out[3 * i + 2] = UInt8((y * k + 127) / 255)
                }
            }
            initialized = count * 3
        }
    }
}

// MARK: - JPEG marker walking and EXIF

/// The segments before the first scan of a JPEG stream as (marker byte, payload range), e.g. (0xE1, ...) for APP1.
/// Stops quietly at anything malformed: callers only look for optional metadata.
func jpegHeaderSegments(_ bytes: [UInt8]) -> [(marker: UInt8, payload: Range<Int>)] {
    guard bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return [] }
    var segments: [(marker: UInt8, payload: Range<Int>)] = []
    var i = 2
    while i + 1 < bytes.count {
        guard bytes[i] == 0xFF else { break }
        let marker = bytes[i + 1]
        if marker == 0xFF { i += 1; continue }  // fill byte before a marker
        i += 2
        // Markers without a length field: TEM and RSTn; SOS starts entropy-coded data and EOI ends the stream.
        if marker == 0x01 || (0xD0...0xD7).contains(marker) { continue }
        if marker == 0xDA || marker == 0xD9 { break }
        guard i + 1 < bytes.count else { break }
        let length = Int(bytes[i]) << 8 | Int(bytes[i + 1])
        guard length >= 2, i + length <= bytes.count else { break }
        segments.append((marker, (i + 2)..<(i + length)))
        i += length
    }
    return segments
}

/// Whether the JPEG has an Adobe APP14 segment, the sign that CMYK data is stored inverted.
func jpegHasAdobeMarker(_ bytes: [UInt8]) -> Bool {
    jpegHeaderSegments(bytes).contains { $0.marker == 0xEE && bytes[$0.payload].starts(with: Array("Adobe".utf8)) }
}

/// The EXIF orientation (1...8) of a JPEG file, or nil when it has no EXIF block or no valid orientation tag.
///
/// Reads the first APP1 segment starting with "Exif\0\0", whose TIFF header gives the byte order ("II" little
/// endian, "MM" big endian), and looks up tag 0x0112 in IFD0. Pure and bounds-checked, so it never traps on
/// hostile data.
public func exifOrientation(jpeg bytes: [UInt8]) -> Int? {
    let exifHeader: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]  // "Exif\0\0"
    for segment in jpegHeaderSegments(bytes) where segment.marker == 0xE1 {
        let payload = bytes[segment.payload]
        guard payload.starts(with: exifHeader) else { continue }  // e.g. an XMP APP1
        return exifOrientation(tiff: payload.dropFirst(exifHeader.count))
    }
    return nil
}

/// The orientation tag from a TIFF structure (the part of an EXIF block after "Exif\0\0").
func exifOrientation(tiff: ArraySlice<UInt8>) -> Int? {
    let t = Array(tiff)  // zero-based indices: TIFF offsets are relative to the TIFF header
    guard t.count >= 8 else { return nil }
    let littleEndian: Bool
    switch (t[0], t[1]) {
    case (0x49, 0x49): littleEndian = true   // "II"
    case (0x4D, 0x4D): littleEndian = false  // "MM"
    default: return nil
    }
    func u16(_ at: Int) -> Int? {
        guard at >= 0, at + 2 <= t.count else { return nil }
        return littleEndian ? Int(t[at]) | Int(t[at + 1]) << 8 : Int(t[at]) << 8 | Int(t[at + 1])
    }
    func u32(_ at: Int) -> Int? {
        guard let lo = u16(littleEndian ? at : at + 2), let hi = u16(littleEndian ? at + 2 : at) else { return nil }
        return hi << 16 | lo
    }
    guard u16(2) == 42, let ifd0 = u32(4), let count = u16(ifd0) else { return nil }
    for index in 0..<count {
        let entry = ifd0 + 2 + 12 * index
        guard let tag = u16(entry), let type = u16(entry + 2) else { return nil }
        guard tag == 0x0112 else { continue }
        // The spec says SHORT (3); a few writers use LONG (4). Values sit left-aligned in the 4-byte value field.
        let value: Int?
        switch type {
        case 3: value = u16(entry + 8)
        case 4: value = u32(entry + 8)
        default: value = nil
        }
        guard let v = value, (1...8).contains(v) else { return nil }
        return v
    }
    return nil
}

extension RGBImage {
    /// The image as a viewer shows it given EXIF orientation `o`: 2 mirror, 3 rotate 180, 4 flip vertically,
    /// 5 transpose, 6 rotate 90 clockwise, 7 transverse, 8 rotate 90 counter-clockwise. 1 and unknown values
    /// return the image unchanged.
    public func applyingEXIFOrientation(_ o: Int) -> RGBImage {
        guard (2...8).contains(o) else { return self }
        let w = width, h = height
        let swapsAxes = o >= 5
        let outW = swapsAxes ? h : w, outH = swapsAxes ? w : h
        guard w > 0, h > 0 else { return RGBImage(width: outW, height: outH, pixels: []) }
        // Output pixel (x, y) reads source pixel index start + x * stepX + y * stepY (derived from the EXIF
        // definitions of which visual side row 0 and column 0 show).
        let (start, stepX, stepY): (Int, Int, Int)
        switch o {
        case 2: (start, stepX, stepY) = (w - 1, -1, w)                  // (W-1-x, y)
        case 3: (start, stepX, stepY) = ((h - 1) * w + w - 1, -1, -w)   // (W-1-x, H-1-y)
        case 4: (start, stepX, stepY) = ((h - 1) * w, 1, -w)            // (x, H-1-y)
        case 5: (start, stepX, stepY) = (0, w, 1)                       // (y, x)
        case 6: (start, stepX, stepY) = ((h - 1) * w, -w, 1)            // (y, H-1-x)
        case 7: (start, stepX, stepY) = ((h - 1) * w + w - 1, -w, -1)   // (W-1-y, H-1-x)
        default: (start, stepX, stepY) = (w - 1, w, -1)                 // 8: (W-1-y, x)
        }
        let out = [UInt8](unsafeUninitializedCapacity: w * h * 3) { dst, initialized in
            pixels.withUnsafeBufferPointer { src in
                var d = 0
                for y in 0..<outH {
                    var s = start + y * stepY
                    for _ in 0..<outW {
                        dst[d] = src[3 * s]; dst[d + 1] = src[3 * s + 1]; dst[d + 2] = src[3 * s + 2]
                        d += 3
                        s += stepX
                    }
                }
            }
            initialized = w * h * 3
        }
        return RGBImage(width: outW, height: outH, pixels: out)
    }
}
