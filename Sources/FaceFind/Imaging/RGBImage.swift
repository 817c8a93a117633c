/// An 8-bit RGB image with interleaved pixels (`R, G, B, R, G, B, ...`), rows top to bottom, no row padding.
///
/// Every decoder produces this one layout (grey, CMYK and alpha are converted on decode), so the rest of the
/// pipeline never branches on pixel formats.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `width * height * 3` bytes.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * 3,
                     "RGBImage: \(pixels.count) bytes for \(width)x\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A blank image filled with one colour.
    public init(width: Int, height: Int, fill: RGB = .black) {
        self.width = width
        self.height = height
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        if fill != .black {
            for i in stride(from: 0, to: pixels.count, by: 3) {
                pixels[i] = fill.r; pixels[i + 1] = fill.g; pixels[i + 2] = fill.b
            }
        }
        self.pixels = pixels
    }

    public var pixelCount: Int { width * height }

    /// The pixel at (x, y); coordinates must be inside the image.
    public subscript(x: Int, y: Int) -> RGB {
        get {
            let i = (y * width + x) * 3
            return RGB(pixels[i], pixels[i + 1], pixels[i + 2])
        }
        set {
            let i = (y * width + x) * 3
            pixels[i] = newValue.r; pixels[i + 1] = newValue.g; pixels[i + 2] = newValue.b
        }
    }
}

/// One 8-bit RGB colour.
public struct RGB: Sendable, Hashable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }

    public static let black = RGB(0, 0, 0)
    public static let white = RGB(255, 255, 255)
    public static let red = RGB(230, 40, 40)
    public static let green = RGB(40, 200, 60)
    public static let blue = RGB(40, 90, 230)
    public static let yellow = RGB(250, 210, 30)
    public static let grey = RGB(128, 128, 128)
}
