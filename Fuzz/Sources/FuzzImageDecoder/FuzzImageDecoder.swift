// Fuzzes ImageDecoder.decode on arbitrary bytes: format sniffing, JPEG (TurboJPEG, EXIF orientation, CMYK),
// PNG (libpng simplified API), WebP (libwebp), HEIC and AVIF (libheif). A 1 MP pixel limit makes huge-dimension headers fail from the
// header, before any pixel memory is allocated.
import FaceFind
import Foundation
import FuzzSupport

let decoder = ImageDecoder(maxPixels: 1 << 20)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let image = try decoder.decode(bytes, name: "fuzz")
        // Invariants of a decoded image.
        precondition(image.width > 0 && image.height > 0, "decoded an empty image")
        precondition(image.width * image.height <= decoder.maxPixels, "pixel limit not enforced")
        precondition(image.pixels.count == image.width * image.height * 3, "pixel buffer size mismatch")
    } catch {
        precondition(!error.reason.isEmpty, "error without a reason")
    }
    return 0
}

/// libFuzzer's driver, or (FUZZ_REPLAY builds) a replay of the files given as arguments.
@main
enum Main {
    static func main() { FuzzSupport.main(fuzz) }
}
