import CPNG
import CTurboJPEG
import CWebP
import Foundation
import Testing

@testable import FaceFind

// Tests for the Imaging stage. Expected pixel values are worked out by hand in the comments (OpenCV's fixed-point
// arithmetic where it matters); test images are generated here with the C libraries' encoders, and the real
// photos come from ../shared/faces (never copied into the repository).

// MARK: - Helpers

/// A grey image (R = G = B) from row-major values.
private func grey(_ width: Int, _ height: Int, _ values: [UInt8]) -> RGBImage {
    RGBImage(width: width, height: height, pixels: values.flatMap { [$0, $0, $0] })
}

/// An image with a distinct colour per pixel: pixel i is (i + 1, 10 * (i + 1), 200 - i).
private func distinct(_ width: Int, _ height: Int) -> RGBImage {
    var pixels: [UInt8] = []
    for i in 0..<width * height {
        pixels += [UInt8(i + 1), UInt8(10 * (i + 1)), UInt8(200 - i)]
    }
    return RGBImage(width: width, height: height, pixels: pixels)
}

/// The red channel row by row, for comparing grey images with hand-written arrays.
private func channel0(_ image: RGBImage) -> [UInt8] {
    stride(from: 0, to: image.pixels.count, by: 3).map { image.pixels[$0] }
}

/// Pixels of `image` as a flat list of colours.
private func colours(_ image: RGBImage) -> [RGB] {
    (0..<image.height).flatMap { y in (0..<image.width).map { x in image[x, y] } }
}

/// A failure while building test input with the C encoders.
private struct SetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Deterministic pseudo-random bytes (a 32-bit LCG), so failures reproduce.
private func noise(_ count: Int, seed: UInt32 = 12345) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 1_664_525 &+ 1_013_904_223
        return UInt8(truncatingIfNeeded: state >> 24)
    }
}

private func isClose(_ a: RGB, _ b: RGB, tolerance: Int) -> Bool {
    abs(Int(a.r) - Int(b.r)) <= tolerance && abs(Int(a.g) - Int(b.g)) <= tolerance
        && abs(Int(a.b) - Int(b.b)) <= tolerance
}

/// The decoding error for `bytes`, or nil when they decode.
private func decodingError(_ bytes: [UInt8], name: String, decoder: ImageDecoder = ImageDecoder())
    -> ImageDecodingError? {
    do {
        _ = try decoder.decode(bytes, name: name)
        return nil
    } catch {
        return error
    }
}

private func facePath(_ relative: String) -> String { TestData.face(relative) }

private func readFace(_ relative: String) throws -> [UInt8] {
    [UInt8](try #require(FileManager.default.contents(atPath: facePath(relative)), "missing \(facePath(relative))"))
}

/// Compresses pixels with TurboJPEG (the test's own encoder). `pixelFormat` TJPF_RGB (3 bytes per pixel) or
/// TJPF_CMYK (4).
private func makeJPEG(_ pixels: [UInt8], width: Int, height: Int, pixelFormat: TJPF = TJPF_RGB,
                      subsampling: TJSAMP = TJSAMP_444, quality: Int32 = 100) throws -> [UInt8] {
    let handle = try #require(tjInitCompress())
    defer { tjDestroy(handle) }
    let bytesPerPixel = pixelFormat == TJPF_CMYK ? 4 : 3
    var jpegBuffer: UnsafeMutablePointer<UInt8>? = nil
    var jpegSize: UInt = 0
    let status = pixels.withUnsafeBufferPointer { src in
        tjCompress2(handle, src.baseAddress, Int32(width), Int32(width * bytesPerPixel), Int32(height),
                    Int32(pixelFormat.rawValue), &jpegBuffer, &jpegSize, Int32(subsampling.rawValue), quality, 0)
    }
    defer { tjFree(jpegBuffer) }
    guard status == 0 else { throw SetupError("tjCompress2 failed: \(String(cString: tjGetErrorStr2(handle)))") }
    let buffer = try #require(jpegBuffer)
    return Array(UnsafeBufferPointer(start: buffer, count: Int(jpegSize)))
}

/// A JPEG APP1 segment holding an EXIF block whose TIFF part is `tiff`.
private func app1(exifTIFF tiff: [UInt8]) -> [UInt8] {
    let payload = Array("Exif".utf8) + [0, 0] + tiff
    let length = payload.count + 2
    return [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
}

/// A TIFF structure with two IFD0 entries, Make ("Cam") then Orientation = `orientation`, in either byte order.
private func tiffWithOrientation(_ orientation: UInt16, littleEndian: Bool) -> [UInt8] {
    func u16(_ v: UInt16) -> [UInt8] {
        littleEndian ? [UInt8(v & 0xFF), UInt8(v >> 8)] : [UInt8(v >> 8), UInt8(v & 0xFF)]
    }
    func u32(_ v: UInt32) -> [UInt8] {
        let b = [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
        return littleEndian ? b.reversed() : b
    }
    var t: [UInt8] = littleEndian ? [0x49, 0x49] : [0x4D, 0x4D]  // "II" / "MM"
    t += u16(42) + u32(8)                                        // magic, IFD0 at offset 8
    t += u16(2)                                                  // two entries
    t += u16(0x010F) + u16(2) + u32(4) + Array("Cam".utf8) + [0]  // Make, ASCII, 4 bytes inline
    t += u16(0x0112) + u16(3) + u32(1) + u16(orientation) + [0, 0]  // Orientation, SHORT, left-aligned
    t += u32(0)                                                  // no next IFD
    return t
}

/// Writes a PNG with libpng's simplified API in any `format` (PNG_FORMAT_*), from 8-bit or 16-bit samples.
private func makePNG(format: UInt32, width: Int, height: Int, bytes: [UInt8] = [], words: [UInt16] = [],
                     colormap: [UInt8] = [], colormapEntries: Int = 0) throws -> [UInt8] {
    var image = png_image()
    image.version = UInt32(PNG_IMAGE_VERSION)
    image.width = UInt32(width)
    image.height = UInt32(height)
    image.format = format
    image.colormap_entries = UInt32(colormapEntries)
    defer { png_image_free(&image) }
    var size = 0
    func write(_ memory: UnsafeMutableRawPointer?) -> Int32 {
        colormap.withUnsafeBytes { map in
            if words.isEmpty {
                return bytes.withUnsafeBytes {
                    png_image_write_to_memory(&image, memory, &size, 0, $0.baseAddress, 0, map.baseAddress)
                }
            }
            return words.withUnsafeBytes {
                png_image_write_to_memory(&image, memory, &size, 0, $0.baseAddress, 0, map.baseAddress)
            }
        }
    }
    guard write(nil) != 0 else { throw SetupError("png_image_write_to_memory (size) failed") }
    var output = [UInt8](repeating: 0, count: size)
    let ok = output.withUnsafeMutableBytes { write($0.baseAddress) }
    guard ok != 0 else { throw SetupError("png_image_write_to_memory failed") }
    return Array(output.prefix(size))
}

/// CRC-32 as used by PNG chunks (for patching a header in a test).
private func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = (crc >> 1) ^ (crc & 1 == 1 ? 0xEDB8_8320 : 0) }
    }
    return ~crc
}

// MARK: - Bilinear resize (OpenCV INTER_LINEAR)

@Suite("Imaging: resize")
struct ImagingResizeTests {
    @Test("bilinear 2x2 -> 4x4 upscale matches hand-computed OpenCV values")
    func bilinearUpscale() {
        // Source  210 160
        //         130  60
        // Columns: src x = (dx + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25; OpenCV clamps these onto the edge
        // pixels, so the column weights (x 2048) are (2048, 0), (1536, 512), (512, 1536), (0, 2048).
        // Horizontal rows, then >> 4:   row0 = 430080 404480 353280 327680 -> 26880 25280 22080 20480
        //                               row1 = 266240 230400 158720 122880 -> 16640 14400  9920  7680
        // Rows: src y = -0.25, 0.25, 0.75, 1.25 as well, but vertically OpenCV keeps the weights and only clamps
        // the row index, so output row 0 is row0 * 512 + row0 * 1536 and row 3 is row1 * 1536 + row1 * 512.
        // Each output: v = (h0 * b0 >> 16) + (h1 * b1 >> 16), out = (v + 2) >> 2. With b = 512 that is h / 128,
        // with 1536 it is 3h / 128, both floored. For example:
        //   out(1, 0) = 25280 / 128 -> 197 + 75840 / 128 -> 592 = 789 -> 197  (exact 197.5 would round to 198)
        //   out(1, 1) = 592 + 14400 / 128 -> 112 = 704 -> 176                 (exact 176.25)
        //   out(2, 2) = 22080 / 128 -> 172 + 29760 / 128 -> 232 = 404 -> 101  (exact 101.25)
        //   out(1, 3) = 43200 / 128 -> 337 + 112 = 449 -> 112                 (exact 112.5 would round to 113)
        let source = grey(2, 2, [210, 160, 130, 60])
        let result = source.resized(width: 4, height: 4)
        #expect(result.width == 4 && result.height == 4)
        #expect(channel0(result) == [
            210, 197, 172, 160,
            190, 176, 149, 135,
            150, 134, 101, 85,
            130, 112, 77, 60,
        ])
    }

    @Test("bilinear 4x4 -> 2x2 is the rounded mean of each 2x2 block")
    func bilinearDownscale() {
        // src = (dx + 0.5) * 2 - 0.5 = 2dx + 0.5: weights 1024/1024 both ways, i.e. (sum + 2) >> 2.
        // Blocks: 10+20+50+60 = 140 -> 35; 30+40+71+80 = 221 -> 55 (55.25);
        //         1+2+3+4 = 10 -> 3 (2.5 rounds up); 255+255+255+254 = 1019 -> 255 (254.75).
        let source = grey(4, 4, [10, 20, 30, 40,
                                 50, 60, 71, 80,
                                 1, 2, 255, 255,
                                 3, 4, 255, 254])
        #expect(channel0(source.resized(width: 2, height: 2)) == [35, 55, 3, 255])
    }

    @Test("bilinear uses OpenCV's 1/2048 weights and its SIMD truncation")
    func bilinearFixedPointRounding() {
        // 1x2 column [0; 255] -> 1x5. Row 3: src y = 3.5 * 0.4 - 0.5 = 0.9, weights round(0.1 * 2048) = 205 and
        // round(0.9 * 2048) = 1843: (32640 * 1843) >> 16 = 917, (917 + 2) >> 2 = 229, where exact float weights
        // give 229.5 -> 230. Row 1 (y = 0.1): 32640 * 205 >> 16 = 102 -> 26; row 2 (0.5): 510 -> 128.
        #expect(channel0(grey(1, 2, [0, 255]).resized(width: 1, height: 5)) == [0, 26, 128, 229, 255])
        // 1x2 column [2; 255] -> 1x6. Row 3: y = 3.5 / 3 - 0.5 = 2/3, weights 683 / 1365:
        // (256 * 683 >> 16 = 2) + (32640 * 1365 >> 16 = 679) = 681 -> 170, while the exact fixed-point sum
        // (4096 * 683 + 522240 * 1365 + 2^21) >> 22 would give 171. Row 2: 5 + 340 = 345 -> 86.
        #expect(channel0(grey(1, 2, [2, 255]).resized(width: 1, height: 6)) == [2, 2, 86, 170, 255, 255])
    }

    @Test("resizing keeps channels apart")
    func channelsStayApart() {
        let colour = RGB(250, 3, 128)
        let source = RGBImage(width: 7, height: 5, fill: colour)
        for filter in [ResizeFilter.bilinear, .area] {
            for (w, h) in [(3, 2), (14, 10), (7, 5), (1, 1), (20, 3)] {
                let result = source.resized(width: w, height: h, filter: filter)
                #expect(result.width == w && result.height == h)
                #expect(colours(result).allSatisfy { $0 == colour }, "\(filter) \(w)x\(h)")
            }
        }
    }

    @Test("area 4x4 -> 2x2 gives block means")
    func areaIntegerFactor() {
        // Integer factor 2: OpenCV's fast path, (sum + 2) >> 2, same blocks as the bilinear case above.
        let source = grey(4, 4, [10, 20, 30, 40,
                                 50, 60, 71, 80,
                                 1, 2, 255, 255,
                                 3, 4, 255, 254])
        #expect(channel0(source.resized(width: 2, height: 2, filter: .area)) == [35, 55, 3, 255])
        // Factor 4 in x, 2 in y (area 8): mean rounded half to even. Row pairs 0-1: 10+20+30+40+50+60+71+80 = 361
        // -> 45.125 -> 45; rows 2-3: 1+2+255+255+3+4+255+254 = 1029 -> 128.6 -> 129.
        #expect(channel0(source.resized(width: 1, height: 2, filter: .area)) == [45, 129])
    }

    @Test("area 3x3 -> 2x2 uses fractional weights")
    func areaFractional() {
        // Scale 1.5: output 0 covers source [0, 1.5) = pixel 0 (weight 1/1.5 = 2/3) + half of pixel 1 (1/3);
        // output 1 covers [1.5, 3) = half of pixel 1 (1/3) + pixel 2 (2/3). 2-D weights are products:
        //   out(0,0) = 4/9*90 + 2/9*0 + 2/9*0 + 1/9*9   = 40 + 1      = 41
        //   out(1,0) = 2/9*0 + 4/9*45 + 1/9*9 + 2/9*18  = 20 + 1 + 4  = 25
        //   out(0,1) = 2/9*0 + 1/9*9 + 4/9*45 + 2/9*18  = 1 + 20 + 4  = 25
        //   out(1,1) = 1/9*9 + 2/9*18 + 2/9*18 + 4/9*180 = 1 + 4 + 4 + 80 = 89
        let source = grey(3, 3, [90, 0, 45,
                                 0, 9, 18,
                                 45, 18, 180])
        #expect(channel0(source.resized(width: 2, height: 2, filter: .area)) == [41, 25, 25, 89])
        // Plain bilinear differs (it samples at 0.25 and 1.75): out(0,0) = .5625*90 + .1875*9 ... not 41.
        #expect(channel0(source.resized(width: 2, height: 2, filter: .bilinear)) != [41, 25, 25, 89])
    }

    @Test("area falls back to bilinear when enlarging")
    func areaEnlargeFallsBack() {
        let source = grey(2, 2, [0, 100, 200, 40])
        #expect(source.resized(width: 4, height: 4, filter: .area) == source.resized(width: 4, height: 4))
        #expect(source.resized(width: 1, height: 4, filter: .area) == source.resized(width: 1, height: 4))
    }

    @Test("resized(maxSide:) shrinks the longer side and reports the scale")
    func maxSide() {
        let wide = RGBImage(width: 400, height: 200, fill: .grey)
        let (small, scale) = wide.resized(maxSide: 100)
        #expect(small.width == 100 && small.height == 50)
        #expect(scale == 0.25)
        let tall = RGBImage(width: 30, height: 90, fill: .grey)
        let (t, s) = tall.resized(maxSide: 45, filter: .bilinear)
        #expect(t.width == 15 && t.height == 45 && s == 0.5)
        let (same, one) = wide.resized(maxSide: 400)
        #expect(same == wide && one == 1)
    }
}

// MARK: - Crop and warp

@Suite("Imaging: crop and warp")
struct ImagingCropWarpTests {
    @Test("crop inside the image copies the pixels")
    func cropInside() {
        let image = distinct(4, 3)
        let crop = image.cropped(x: 1, y: 1, width: 2, height: 2)
        #expect(colours(crop) == [image[1, 1], image[2, 1], image[1, 2], image[2, 2]])
    }

    @Test("crop with padding on every side fills outside parts")
    func cropPadding() {
        // 3x2 image a b c / d e f, cropped from (-1, -1) at 5x4: one fill column/row on each side.
        let image = distinct(3, 2)
        let w = RGB.white
        let crop = image.cropped(x: -1, y: -1, width: 5, height: 4, fill: w)
        #expect(crop.width == 5 && crop.height == 4)
        #expect(colours(crop) == [
            w, w, w, w, w,
            w, image[0, 0], image[1, 0], image[2, 0], w,
            w, image[0, 1], image[1, 1], image[2, 1], w,
            w, w, w, w, w,
        ])
        // Entirely outside: all fill. Zero size: empty.
        #expect(colours(image.cropped(x: 10, y: -7, width: 2, height: 2, fill: .red)).allSatisfy { $0 == .red })
        #expect(image.cropped(x: 0, y: 0, width: 0, height: 3).pixels.isEmpty)
    }

    @Test("warpAffine with the identity returns the image")
    func warpIdentity() {
        let image = distinct(5, 4)
        #expect(image.warpedAffine(.identity, width: 5, height: 4) == image)
    }

    @Test("warpAffine translation by one pixel shifts right and fills the first column")
    func warpTranslation() {
        // M maps source (x, y) to (x + 1, y): destination (x, y) samples source (x - 1, y); column 0 samples
        // x = -1, outside, so it is the fill (its only non-zero weight is on the outside pixel).
        let image = distinct(3, 2)
        let fill = RGB(1, 2, 3)
        let moved = image.warpedAffine(.translation(1, 0), width: 3, height: 2, fill: fill)
        #expect(colours(moved) == [fill, image[0, 0], image[1, 0],
                                   fill, image[0, 1], image[1, 1]])
    }

    @Test("warpAffine half-pixel shift averages neighbours (OpenCV rounding)")
    func warpHalfPixel() {
        // Source row 10 21 40. M: x -> x + 0.5, so destination x samples source x - 0.5: weights 1/2 each,
        // computed as (p * 16384 + q * 16384 + 16384) >> 15 = (p + q + 1) >> 1.
        //   x = 0: fill 0 and 10 -> 5 (5.5 rounds down: (0 + 10 + 1) >> 1 = 5); x = 1: (10 + 21 + 1) >> 1 = 16;
        //   x = 2: (21 + 40 + 1) >> 1 = 31.
        let image = grey(3, 1, [10, 21, 40])
        let shifted = image.warpedAffine(.translation(0.5, 0), width: 3, height: 1)
        #expect(channel0(shifted) == [5, 16, 31])
    }

    @Test("warpAffine 90 degree rotation")
    func warpRotation() {
        // M maps source (x, y) to (1 - y, x): a clockwise quarter turn of a 3x2 image into 2x3.
        //   a b c        d a
        //   d e f   ->   e b
        //                f c
        let image = distinct(3, 2)
        let m = AffineTransform(a: 0, b: -1, tx: 1, c: 1, d: 0, ty: 0)
        let rotated = image.warpedAffine(m, width: 2, height: 3)
        #expect(rotated.width == 2 && rotated.height == 3)
        #expect(colours(rotated) == [image[0, 1], image[0, 0],
                                     image[1, 1], image[1, 0],
                                     image[2, 1], image[2, 0]])
        #expect(rotated == image.applyingEXIFOrientation(6))
    }

    @Test("warpAffine with a singular matrix gives a blank image")
    func warpSingular() {
        let blank = distinct(3, 2).warpedAffine(.scale(0, 1), width: 4, height: 4, fill: .blue)
        #expect(colours(blank).allSatisfy { $0 == .blue })
    }
}

// MARK: - EXIF orientation

@Suite("Imaging: EXIF orientation")
struct ImagingEXIFTests {
    @Test("parser reads orientation in both byte orders")
    func parserBothByteOrders() {
        let soi: [UInt8] = [0xFF, 0xD8], eoi: [UInt8] = [0xFF, 0xD9]
        let jfif: [UInt8] = [0xFF, 0xE0, 0x00, 0x10] + Array("JFIF".utf8) + [0, 1, 1, 0, 0, 1, 0, 1, 0, 0]
        for littleEndian in [true, false] {
            for o in 1...8 {
                let jpeg = soi + jfif + app1(exifTIFF: tiffWithOrientation(UInt16(o), littleEndian: littleEndian)) + eoi
                #expect(exifOrientation(jpeg: jpeg) == o, "little endian: \(littleEndian), orientation \(o)")
            }
        }
        // An XMP APP1 before the EXIF one is skipped.
        let xmpPayload = Array("http://ns.adobe.com/xap/1.0/".utf8) + [0] + Array("<x/>".utf8)
        let xmp: [UInt8] = [0xFF, 0xE1, 0x00, UInt8(xmpPayload.count + 2)] + xmpPayload
        let withXMP = soi + xmp + app1(exifTIFF: tiffWithOrientation(6, littleEndian: false)) + eoi
        #expect(exifOrientation(jpeg: withXMP) == 6)
    }

    @Test("parser returns nil for missing or broken EXIF")
    func parserRejectsBadData() {
        let soi: [UInt8] = [0xFF, 0xD8], eoi: [UInt8] = [0xFF, 0xD9]
        #expect(exifOrientation(jpeg: soi + eoi) == nil)                                  // no EXIF
        #expect(exifOrientation(jpeg: []) == nil)
        #expect(exifOrientation(jpeg: soi + app1(exifTIFF: tiffWithOrientation(9, littleEndian: true)) + eoi) == nil)
        var badOffset = tiffWithOrientation(6, littleEndian: true)
        badOffset[4] = 200                                                                // IFD0 beyond the end
        #expect(exifOrientation(jpeg: soi + app1(exifTIFF: badOffset) + eoi) == nil)
        let truncated = Array(app1(exifTIFF: tiffWithOrientation(6, littleEndian: true)).prefix(20))
        #expect(exifOrientation(jpeg: soi + truncated) == nil)                            // segment cut off
        var badMagic = tiffWithOrientation(6, littleEndian: false)
        badMagic[3] = 43
        #expect(exifOrientation(jpeg: soi + app1(exifTIFF: badMagic) + eoi) == nil)
    }

    @Test("parser reads real camera files")
    func parserOnPhotos() throws {
        // Both carry Orientation = 1 ("upper-left"): one little-endian EXIF (Canon/Photoshop), one big-endian.
        #expect(exifOrientation(jpeg: try readFace("scenes/id01/img1.jpg")) == 1)
        #expect(exifOrientation(jpeg: try readFace("scenes/id07/img20.jpg")) == 1)
        #expect(exifOrientation(jpeg: try readFace("lfw-dev/AJ_Cook/AJ_Cook_0001.jpg")) == nil)
    }

    @Test("applyingEXIFOrientation for all eight values")
    func transforms() {
        //  a b c
        //  d e f
        let image = distinct(3, 2)
        let (a, b, c, d, e, f) = (image[0, 0], image[1, 0], image[2, 0], image[0, 1], image[1, 1], image[2, 1])
        let expected: [Int: (Int, Int, [RGB])] = [
            1: (3, 2, [a, b, c, d, e, f]),
            2: (3, 2, [c, b, a, f, e, d]),        // mirrored left-right
            3: (3, 2, [f, e, d, c, b, a]),        // rotated 180
            4: (3, 2, [d, e, f, a, b, c]),        // mirrored top-bottom
            5: (2, 3, [a, d, b, e, c, f]),        // transposed
            6: (2, 3, [d, a, e, b, f, c]),        // rotated 90 clockwise
            7: (2, 3, [f, c, e, b, d, a]),        // transverse
            8: (2, 3, [c, f, b, e, a, d]),        // rotated 90 counter-clockwise
        ]
        for o in 1...8 {
            let result = image.applyingEXIFOrientation(o)
            let (w, h, pixels) = expected[o]!
            #expect(result.width == w && result.height == h, "orientation \(o)")
            #expect(colours(result) == pixels, "orientation \(o)")
        }
        #expect(image.applyingEXIFOrientation(0) == image)
        #expect(image.applyingEXIFOrientation(9) == image)
    }

    @Test("a JPEG with an orientation-6 APP1 decodes rotated upright")
    func jpegWithOrientation() throws {
        // 16x8 stored image: left half green on top (rows 0-3) and red below (rows 4-7); right half blue.
        // Orientation 6 (rotate 90 clockwise) gives 8x16: output (x, y) = stored (y, 7 - x), so the top half comes
        // from the left half, red on the left (x <= 3 reads rows >= 4), green on the right; the bottom half blue.
        var stored = RGBImage(width: 16, height: 8, fill: .black)
        for y in 0..<8 {
            for x in 0..<16 {
                stored[x, y] = x >= 8 ? RGB(0, 0, 255) : (y < 4 ? RGB(0, 255, 0) : RGB(255, 0, 0))
            }
        }
        let plain = try makeJPEG(stored.pixels, width: 16, height: 8)
        let rotatedJPEG = Array(plain.prefix(2)) + app1(exifTIFF: tiffWithOrientation(6, littleEndian: false))
            + Array(plain.dropFirst(2))
        let decoded = try ImageDecoder().decode(rotatedJPEG, name: "rotated.jpg")
        #expect(decoded.width == 8 && decoded.height == 16)
        #expect(isClose(decoded[1, 3], RGB(255, 0, 0), tolerance: 12))
        #expect(isClose(decoded[6, 3], RGB(0, 255, 0), tolerance: 12))
        #expect(isClose(decoded[4, 12], RGB(0, 0, 255), tolerance: 12))
        // Without the EXIF block the same data decodes as stored.
        let unrotated = try ImageDecoder().decode(plain, name: "plain.jpg")
        #expect(unrotated.width == 16 && unrotated.height == 8)
        #expect(isClose(unrotated[2, 1], RGB(0, 255, 0), tolerance: 12))
    }
}

// MARK: - Decoding

@Suite("Imaging: decoding")
struct ImagingDecodingTests {
    @Test("format is sniffed from magic bytes")
    func sniffing() {
        #expect(ImageDecoder.sniff([0xFF, 0xD8, 0xFF, 0xE0]) == .jpeg)
        #expect(ImageDecoder.sniff([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0]) == .png)
        #expect(ImageDecoder.sniff(Array("RIFF".utf8) + [1, 2, 3, 4] + Array("WEBPVP8 ".utf8)) == .webp)
        #expect(ImageDecoder.sniff(Array("RIFF".utf8) + [1, 2, 3, 4] + Array("WAVEfmt ".utf8)) == nil)
        #expect(ImageDecoder.sniff(Array("GIF89a".utf8)) == nil)
        #expect(ImageDecoder.sniff([]) == nil)
    }

    @Test("a real LFW photo decodes to 250x250 with the pixels OpenCV reads")
    func realPhoto() throws {
        let path = facePath("lfw-dev/AJ_Cook/AJ_Cook_0001.jpg")
        let image = try ImageDecoder().decode(contentsOf: path)
        #expect(image.width == 250 && image.height == 250)
        // Reference values from cv2.imread of the same file (BGR reversed): same libjpeg defaults.
        #expect(image[125, 125] == RGB(196, 151, 122))
        #expect(image[0, 0] == RGB(0, 5, 0))
        #expect(image[249, 249] == RGB(0, 0, 2))
    }

    @Test("a multi-megapixel scene photo decodes")
    func scenePhoto() throws {
        let image = try ImageDecoder().decode(contentsOf: facePath("scenes/id01/img1.jpg"))
        #expect(image.width == 1382 && image.height == 1868)
    }

    @Test("grey and CMYK JPEGs decode to RGB")
    func greyAndCMYK() throws {
        // Grey: TurboJPEG turns the RGB input into one luminance channel; decoding expands it back.
        let greyJPEG = try makeJPEG(RGBImage(width: 16, height: 16, fill: RGB(100, 100, 100)).pixels,
                                    width: 16, height: 16, subsampling: TJSAMP_GRAY)
        let greyImage = try ImageDecoder().decode(greyJPEG, name: "grey.jpg")
        #expect(colours(greyImage).allSatisfy { isClose($0, RGB(100, 100, 100), tolerance: 1) })
        // CMYK: TurboJPEG writes a YCCK JPEG with an Adobe marker, so the values count as Adobe-inverted:
        // R = C * K / 255. (C, M, Y, K) = (128, 255, 0, 200) -> (128*200/255 = 100.4, 200, 0).
        let cmyk = [UInt8](repeating: 0, count: 16 * 16 * 4).enumerated().map { i, _ in [128, 255, 0, 200][i % 4] }
            .map(UInt8.init)
        let cmykJPEG = try makeJPEG(cmyk, width: 16, height: 16, pixelFormat: TJPF_CMYK)
        let cmykImage = try ImageDecoder().decode(cmykJPEG, name: "cmyk.jpg")
        #expect(colours(cmykImage).allSatisfy { isClose($0, RGB(100, 200, 0), tolerance: 3) })
    }

    @Test("PNG round trip is lossless")
    func pngRoundTrip() throws {
        let image = RGBImage(width: 7, height: 5, pixels: noise(7 * 5 * 3))
        let data = try image.pngData()
        #expect(ImageDecoder.sniff(data) == .png)
        #expect(try ImageDecoder().decode(data, name: "round.png") == image)
        // Through a file too.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("facefind-\(UUID()).png").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try image.writePNG(to: path)
        #expect(try ImageDecoder().decode(contentsOf: path) == image)
        #expect(throws: ImageEncodingError.self) { try image.writePNG(to: "/nonexistent-dir/x.png") }
    }

    @Test("grey, grey+alpha, RGBA, 16-bit and palette PNGs decode to the expected RGB")
    func pngVariants() throws {
        let decoder = ImageDecoder()
        // Grey 0 and 200.
        let greyPNG = try makePNG(format: UInt32(PNG_FORMAT_GRAY), width: 2, height: 1, bytes: [0, 200])
        #expect(colours(try decoder.decode(greyPNG, name: "g.png")) == [RGB(0, 0, 0), RGB(200, 200, 200)])
        // Grey+alpha: opaque 100 stays 100; fully transparent becomes the white background.
        let gaPNG = try makePNG(format: UInt32(PNG_FORMAT_GA), width: 2, height: 1, bytes: [100, 255, 50, 0])
        #expect(colours(try decoder.decode(gaPNG, name: "ga.png")) == [RGB(100, 100, 100), .white])
        // RGBA likewise.
        // (PNG_FORMAT_RGBA and PNG_FORMAT_RGB_COLORMAP are compound macros Swift does not import; same bits here.)
        let rgbaPNG = try makePNG(format: UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA), width: 2, height: 1,
                                  bytes: [10, 20, 30, 255, 1, 2, 3, 0])
        #expect(colours(try decoder.decode(rgbaPNG, name: "rgba.png")) == [RGB(10, 20, 30), .white])
        // 16-bit linear RGB (libpng writes gAMA 1.0): 0 -> 0, 65535 -> 255, and linear 0.5 is converted to sRGB:
        // 1.055 * 0.5^(1/2.4) - 0.055 = 0.7354 -> 187.5; libpng's table-based gamma lands at 186, so allow +-2.
        // (Taking the high byte without gamma, as for untagged 16-bit files, would give 128.)
        let linearFormat = UInt32(PNG_FORMAT_FLAG_LINEAR | PNG_FORMAT_FLAG_COLOR)
        let png16 = try makePNG(format: linearFormat, width: 2, height: 1, words: [0, 65535, 32768, 65535, 0, 65535])
        let decoded16 = colours(try decoder.decode(png16, name: "16.png"))
        #expect(decoded16[0].r == 0 && decoded16[0].g == 255 && (185...190).contains(decoded16[0].b), "\(decoded16)")
        #expect(decoded16[1] == RGB(255, 0, 255))
        // Palette: indices 2 0 1 1 into red, green, blue.
        let paletteFormat = UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_COLORMAP)
        let palettePNG = try makePNG(format: paletteFormat, width: 4, height: 1, bytes: [2, 0, 1, 1],
                                     colormap: [255, 0, 0, 0, 255, 0, 0, 0, 255], colormapEntries: 3)
        #expect(colours(try decoder.decode(palettePNG, name: "p.png"))
            == [RGB(0, 0, 255), RGB(255, 0, 0), RGB(0, 255, 0), RGB(0, 255, 0)])
    }

    @Test("lossless WebP decodes exactly; lossy and alpha WebP decode")
    func webp() throws {
        let image = RGBImage(width: 9, height: 6, pixels: noise(9 * 6 * 3, seed: 7))
        func encoded(_ body: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>) -> Int) throws -> [UInt8] {
            var output: UnsafeMutablePointer<UInt8>? = nil
            let size = body(&output)
            defer { WebPFree(output) }
            let buffer = try #require(output)
            guard size > 0 else { throw SetupError("WebP encoding failed") }
            return Array(UnsafeBufferPointer(start: buffer, count: size))
        }
        let lossless = try encoded { out in
            image.pixels.withUnsafeBufferPointer { WebPEncodeLosslessRGB($0.baseAddress, 9, 6, 27, out) }
        }
        #expect(ImageDecoder.sniff(lossless) == .webp)
        #expect(try ImageDecoder().decode(lossless, name: "x.webp") == image)

        let flat = RGBImage(width: 16, height: 16, fill: RGB(200, 60, 20))
        let lossy = try encoded { out in
            flat.pixels.withUnsafeBufferPointer { WebPEncodeRGB($0.baseAddress, 16, 16, 48, 100, out) }
        }
        let lossyImage = try ImageDecoder().decode(lossy, name: "lossy.webp")
        #expect(colours(lossyImage).allSatisfy { isClose($0, RGB(200, 60, 20), tolerance: 6) })

        // Alpha: opaque pixel kept, transparent pixel composited on white.
        let rgba: [UInt8] = [10, 20, 30, 255, 40, 50, 60, 0]
        let alpha = try encoded { out in
            rgba.withUnsafeBufferPointer { WebPEncodeLosslessRGBA($0.baseAddress, 2, 1, 8, out) }
        }
        #expect(colours(try ImageDecoder().decode(alpha, name: "a.webp")) == [RGB(10, 20, 30), .white])

        let truncated = Array(lossless.prefix(lossless.count / 2))
        let error = try #require(decodingError(truncated, name: "cut.webp"))
        #expect(error.description.hasPrefix("cut.webp: "))
        #expect(error.reason.contains("WebP"))
    }

    @Test("concurrent decodes are independent")
    func concurrentDecodes() async throws {
        let bytes = try readFace("lfw-dev/AJ_Cook/AJ_Cook_0001.jpg")
        let truncated = Array(bytes.prefix(bytes.count / 2))
        let reference = try ImageDecoder().decode(bytes, name: "ref")
        let results = await withTaskGroup(of: (Bool, Bool).self) { group in
            for i in 0..<16 {
                group.addTask {
                    if i % 2 == 0 {
                        return (true, (try? ImageDecoder().decode(bytes, name: "ok")) == reference)
                    }
                    // Failing decodes in parallel must report their own (truncation) error.
                    let error = decodingError(truncated, name: "cut\(i)")
                    return (false, error?.reason.contains("truncated") == true && error?.file == "cut\(i)")
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 16 && results.allSatisfy { $0.1 })
    }
}

// MARK: - Decoding errors

@Suite("Imaging: decoding errors")
struct ImagingDecodingErrorTests {
    @Test("empty data")
    func empty() throws {
        let error = try #require(decodingError([], name: "empty.jpg"))
        #expect(error.description == "empty.jpg: empty file (0 bytes)")
    }

    @Test("text named .jpg is not an image")
    func text() throws {
        let error = try #require(decodingError(Array("<!DOCTYPE html><html>".utf8), name: "x.jpg"))
        #expect(error.file == "x.jpg")
        #expect(error.description.hasPrefix("x.jpg: not a JPEG, PNG, WebP, HEIC or AVIF image (starts with text"))
        #expect(error.reason.contains("<!DOCTYPE"))
        let binary = try #require(decodingError([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], name: "b.bin"))
        #expect(binary.reason == "not a JPEG, PNG, WebP, HEIC or AVIF image (starts with bytes 00 01 02 03 04 05 06 07)")
        let gif = try #require(decodingError(Array("GIF89a".utf8) + [1, 0, 1, 0], name: "g.jpg"))
        #expect(gif.reason.contains("GIF"))
    }

    @Test("a JPEG cut in half is reported as truncated")
    func truncatedJPEG() throws {
        let bytes = try readFace("lfw-dev/AJ_Cook/AJ_Cook_0001.jpg")
        let error = try #require(decodingError(Array(bytes.prefix(bytes.count / 2)), name: "half.jpg"))
        #expect(error.description == "half.jpg: truncated JPEG data (Premature end of JPEG file)")
        // Cut inside the header: still a clear JPEG error naming the file.
        let header = try #require(decodingError(Array(bytes.prefix(300)), name: "head.jpg"))
        #expect(header.description.hasPrefix("head.jpg: corrupt JPEG"))
    }

    @Test("a PNG cut in half is reported")
    func truncatedPNG() throws {
        let png = try RGBImage(width: 64, height: 64, pixels: noise(64 * 64 * 3)).pngData()
        let error = try #require(decodingError(Array(png.prefix(png.count / 2)), name: "half.png"))
        #expect(error.description.hasPrefix("half.png: corrupt or truncated PNG data ("))
    }

    @Test("random bytes after a JPEG SOI marker are corrupt")
    func randomAfterSOI() throws {
        let error = try #require(decodingError([0xFF, 0xD8, 0xFF] + noise(3000, seed: 99), name: "noise.jpg"))
        #expect(error.description.hasPrefix("noise.jpg: corrupt JPEG data ("))
    }

    @Test("headers claiming too many pixels are refused before decoding")
    func pixelLimit() throws {
        // PNG whose IHDR claims 100000 x 100000 (CRC fixed up so libpng accepts the header).
        var png = try RGBImage(width: 1, height: 1, fill: .red).pngData()
        let side: [UInt8] = [0x00, 0x01, 0x86, 0xA0]  // 100000 big-endian
        png.replaceSubrange(16..<20, with: side)
        png.replaceSubrange(20..<24, with: side)
        let crc = crc32(png[12..<29])
        png.replaceSubrange(29..<33, with: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: crc >> $0) })
        let error = try #require(decodingError(png, name: "huge.png"))
        #expect(error.description == "huge.png: 100000x100000 = 10000.0 MP exceeds the limit of 50.0 MP")

        // JPEG whose SOF0 claims 4000 x 30000.
        var jpeg = try makeJPEG(RGBImage(width: 8, height: 8, fill: .grey).pixels, width: 8, height: 8)
        let sof = try #require((0..<jpeg.count - 1).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        jpeg.replaceSubrange(sof + 5..<sof + 9, with: [0x75, 0x30, 0x0F, 0xA0])  // height 30000, width 4000
        let jpegError = try #require(decodingError(jpeg, name: "tall.jpg"))
        #expect(jpegError.description == "tall.jpg: 4000x30000 = 120.0 MP exceeds the limit of 50.0 MP")

        // A custom limit applies to real images too.
        let small = ImageDecoder(maxPixels: 100)
        let smallPNG = try RGBImage(width: 20, height: 10).pngData()
        let limited = try #require(decodingError(smallPNG, name: "s.png", decoder: small))
        #expect(limited.reason == "20x10 = 0.0 MP exceeds the limit of 0.0 MP")
    }

    @Test("unreadable files report errno")
    func unreadable() throws {
        #expect(throws: ImageDecodingError(file: "/nonexistent/x.jpg",
                                           reason: "cannot open file: No such file or directory")) {
            try ImageDecoder().decode(contentsOf: "/nonexistent/x.jpg")
        }
        let dir = FileManager.default.temporaryDirectory.path
        #expect(throws: ImageDecodingError.self) { try ImageDecoder().decode(contentsOf: dir) }
    }
}

// MARK: - Drawing

@Suite("Imaging: drawing")
struct ImagingDrawingTests {
    @Test("fill sets exactly the clipped rectangle")
    func fill() {
        var image = RGBImage(width: 4, height: 3)
        image.fill(x: 1, y: 1, width: 2, height: 5, color: .white)  // extends below the image
        let k = RGB.black, w = RGB.white
        #expect(colours(image) == [k, k, k, k,
                                   k, w, w, k,
                                   k, w, w, k])
        image.fill(x: -10, y: -10, width: 5, height: 5, color: .red)  // entirely outside: no effect, no crash
        image.fill(x: 0, y: 0, width: Int.max, height: 1, color: .blue)
        #expect(colours(image).prefix(4).allSatisfy { $0 == .blue })
    }

    @Test("strokeRect draws the outline inside the rectangle")
    func strokeRect() {
        var image = RGBImage(width: 6, height: 5)
        image.strokeRect(x: 1, y: 1, width: 4, height: 3, color: .white)
        let k = RGB.black, w = RGB.white
        #expect(colours(image) == [k, k, k, k, k, k,
                                   k, w, w, w, w, k,
                                   k, w, k, k, w, k,
                                   k, w, w, w, w, k,
                                   k, k, k, k, k, k])
        var thick = RGBImage(width: 6, height: 6)
        thick.strokeRect(x: 0, y: 0, width: 6, height: 6, color: .white, thickness: 2)
        #expect(channel0(thick) == [255, 255, 255, 255, 255, 255,
                                    255, 255, 255, 255, 255, 255,
                                    255, 255, 0, 0, 255, 255,
                                    255, 255, 0, 0, 255, 255,
                                    255, 255, 255, 255, 255, 255,
                                    255, 255, 255, 255, 255, 255])
        var clipped = RGBImage(width: 3, height: 3)
        clipped.strokeRect(x: -1, y: -1, width: 3, height: 3, color: .white)  // only its right and bottom edges show
        #expect(channel0(clipped) == [0, 255, 0,
                                      255, 255, 0,
                                      0, 0, 0])
    }

    @Test("lines")
    func lines() {
        var image = RGBImage(width: 5, height: 5)
        image.drawLine(from: Point2(1, 1), to: Point2(3, 1), color: .white)
        image.drawLine(from: Point2(0, 2), to: Point2(2, 4), color: .white)
        #expect(channel0(image) == [0, 0, 0, 0, 0,
                                    0, 255, 255, 255, 0,
                                    255, 0, 0, 0, 0,
                                    0, 255, 0, 0, 0,
                                    0, 0, 255, 0, 0])
        var far = RGBImage(width: 5, height: 5)
        far.drawLine(from: Point2(-1e9, 2), to: Point2(1e9, 2), color: .white, thickness: 3)  // clipped, rows 1-3
        #expect(channel0(far) == [UInt8](repeating: 0, count: 5) + [UInt8](repeating: 255, count: 15)
            + [UInt8](repeating: 0, count: 5))
        far.drawLine(from: Point2(.nan, 0), to: Point2(1, 1), color: .red)  // ignored
    }

    @Test("paste is clipped")
    func paste() {
        var canvas = RGBImage(width: 3, height: 3)
        let tile = distinct(2, 2)
        canvas.paste(tile, x: 2, y: -1)
        #expect(canvas[2, 0] == tile[0, 1])
        #expect(colours(canvas).filter { $0 != .black }.count == 1)
        canvas.paste(tile, x: 0, y: 1)
        #expect(canvas[0, 1] == tile[0, 0] && canvas[1, 2] == tile[1, 1])
    }

    @Test("text renders inside textSize")
    func text() {
        #expect(RGBImage.textSize("Hi", scale: 1) == (16, 8))
        #expect(RGBImage.textSize("ab\ncde", scale: 2) == (48, 32))
        #expect(RGBImage.textSize("", scale: 3) == (0, 0))

        var image = RGBImage(width: 40, height: 30)
        image.drawText("Hi!", x: 5, y: 7, scale: 2, color: .white)
        let size = RGBImage.textSize("Hi!", scale: 2)
        var inside = 0, outside = 0
        for y in 0..<30 {
            for x in 0..<40 where image[x, y] != .black {
                if x >= 5 && x < 5 + size.width && y >= 7 && y < 7 + size.height { inside += 1 } else { outside += 1 }
            }
        }
        #expect(inside > 20 && outside == 0)
        // 'H' row 0 is 0x33 = columns 0, 1, 4, 5: at scale 2 pixels (5,7), (7,7), (13,7) are set, (9,7) is not.
        #expect(image[5, 7] == .white && image[7, 7] == .white && image[13, 7] == .white && image[9, 7] == .black)

        // Background fills the cells; unknown characters draw as '?'.
        var labelled = RGBImage(width: 20, height: 10)
        labelled.drawText("é", x: 0, y: 0, color: .white, background: .blue)
        var question = RGBImage(width: 20, height: 10)
        question.drawText("?", x: 0, y: 0, color: .white, background: .blue)
        #expect(labelled == question)
        #expect(labelled[7, 7] == .blue && labelled[8, 0] == .black)
        // Text running off the image is clipped without trapping.
        image.drawText("clipped text", x: 35, y: 25, scale: 3, color: .red)
    }
}
