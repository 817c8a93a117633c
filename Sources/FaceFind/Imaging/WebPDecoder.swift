import CWebP

// WebP (lossy VP8 and lossless VP8L, still images) through libwebp's advanced decoding API, which reports a
// status code for failures where the simple API only returns NULL.

extension ImageDecoder {
    /// Decodes a still WebP to RGB. Alpha policy as for PNG: composited onto white (a plain blend of the sRGB
    /// values, which is what browsers do for WebP).
    func decodeWebP(_ bytes: [UInt8], name: String) throws(ImageDecodingError) -> RGBImage {
        try bytes.withUnsafeBufferPointer { (data) throws(ImageDecodingError) -> RGBImage in
            var config = WebPDecoderConfig()
            guard WebPInitDecoderConfig(&config) != 0 else {
                throw ImageDecodingError(file: name, reason: "libwebp version mismatch")
            }
            let featureStatus = WebPGetFeatures(data.baseAddress, data.count, &config.input)
            guard featureStatus == VP8_STATUS_OK else {
                throw Self.webPError(featureStatus, name: name)
            }
            if config.input.has_animation != 0 {
                throw ImageDecodingError(file: name, reason: "animated WebP is not supported")
            }
            let w = Int(config.input.width), h = Int(config.input.height)
            try checkSize(width: w, height: h, name: name)

            let hasAlpha = config.input.has_alpha != 0
            let channels = hasAlpha ? 4 : 3
            var pixels = [UInt8](repeating: 0, count: w * h * channels)
            let status = pixels.withUnsafeMutableBufferPointer { out in
                // Decode straight into our array (external memory), so there is no libwebp buffer to free.
                config.output.colorspace = hasAlpha ? MODE_RGBA : MODE_RGB
                config.output.is_external_memory = 1
                config.output.u.RGBA.rgba = out.baseAddress
                config.output.u.RGBA.stride = Int32(w * channels)
                config.output.u.RGBA.size = out.count
                return WebPDecode(data.baseAddress, data.count, &config)
            }
            guard status == VP8_STATUS_OK else {
                throw Self.webPError(status, name: name)
            }
            if hasAlpha { pixels = Self.compositeRGBAOnWhite(pixels) }
            return RGBImage(width: w, height: h, pixels: pixels)
        }
    }

    private static func webPError(_ status: VP8StatusCode, name: String) -> ImageDecodingError {
        let reason: String
        switch status {
        case VP8_STATUS_NOT_ENOUGH_DATA: reason = "truncated WebP data (not enough data)"
        case VP8_STATUS_BITSTREAM_ERROR: reason = "corrupt WebP data (bitstream error)"
        case VP8_STATUS_UNSUPPORTED_FEATURE: reason = "unsupported WebP feature"
        case VP8_STATUS_OUT_OF_MEMORY: reason = "out of memory decoding WebP"
        default: reason = "cannot decode WebP (libwebp status \(status.rawValue))"
        }
        return ImageDecodingError(file: name, reason: reason)
    }

    /// RGBA to RGB over a white background: out = (c * a + 255 * (255 - a)) / 255, rounded.
    static func compositeRGBAOnWhite(_ rgba: [UInt8]) -> [UInt8] {
        let count = rgba.count / 4
        return [UInt8](unsafeUninitializedCapacity: count * 3) { out, initialized in
            rgba.withUnsafeBufferPointer { src in
                for i in 0..<count {
                    let a = Int(src[4 * i + 3]), background = 255 * (255 - a) + 127
                    out[3 * i] = UInt8((Int(src[4 * i]) * a + background) / 255)
                    out[3 * i + 1] = UInt8((Int(src[4 * i + 1]) * a + background) / 255)
                    out[3 * i + 2] = UInt8((Int(src[4 * i + 2]) * a + background) / 255)
                }
            }
            initialized = count * 3
        }
    }
}
