// Fuzzes the EXIF orientation reader (JPEG marker walk, APP1 "Exif" block, TIFF header and IFD0) and the
// orientation transform. If the first byte is odd, the rest is wrapped as the TIFF part of an APP1 segment of a
// minimal JPEG, so the fuzzer works on the TIFF structure directly; otherwise the bytes are taken as a JPEG.
import FaceFind
import Foundation
import FuzzSupport

let tinyImage = RGBImage(width: 3, height: 2, pixels: (0..<18).map { UInt8($0) })

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    var jpeg = input
    if let first = input.first, first & 1 == 1 {
        let tiff = input.dropFirst().prefix(65_000)
        let length = 2 + 6 + tiff.count
        jpeg = [0xFF, 0xD8, 0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)]
        jpeg += Array("Exif".utf8) + [0, 0] + tiff + [0xFF, 0xD9]
    }
    _ = ImageDecoder.sniff(jpeg)
    guard let orientation = exifOrientation(jpeg: jpeg) else { return 0 }
    precondition((1...8).contains(orientation), "orientation \(orientation) out of range")
    let turned = tinyImage.applyingEXIFOrientation(orientation)
    precondition(turned.pixels.count == 18, "orientation changed the pixel count")
    precondition(orientation >= 5 ? (turned.width, turned.height) == (2, 3) : (turned.width, turned.height) == (3, 2))
    return 0
}

/// libFuzzer's driver, or (FUZZ_REPLAY builds) a replay of the files given as arguments.
@main
enum Main {
    static func main() { FuzzSupport.main(fuzz) }
}
