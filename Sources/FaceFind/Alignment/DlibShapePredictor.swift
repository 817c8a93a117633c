import Foundation

/// dlib's `shape_predictor` (Kazemi and Sullivan 2014, "One millisecond face alignment with an ensemble of
/// regression trees"), read from dlib's own `.dat` file and run exactly as `dlib/image_processing/shape_predictor.h`
/// runs it, so that face_recognition's landmarks (its "small" model, `shape_predictor_5_face_landmarks.dat`) are
/// reproduced to the pixel.
///
/// The model is a cascade. Each level samples grey values at a few hundred points placed relative to the current
/// shape estimate (each point is an offset from one landmark, rotated and scaled with the shape), and a forest of
/// regression trees, each splitting on the difference of two of those values, adds its leaves' offsets to the
/// shape. Shapes live in a unit square mapped onto the face box.
public struct DlibShapePredictor: Sendable {
    struct Split: Sendable {
        var first: Int
        var second: Int
        var threshold: Float
    }

    struct Tree: Sendable {
        /// A complete binary tree in breadth-first order: node i's children are 2i+1 and 2i+2.
        var splits: [Split]
        /// `splits.count + 1` shape offsets (2 values per landmark).
        var leaves: [[Float]]
    }

    struct Level: Sendable {
        var trees: [Tree]
        /// For each sampled point: the landmark it hangs from and its offset from it, in the mean shape's frame.
        var anchors: [Int]
        var deltas: [Point2]
    }

    /// The mean shape in unit-square coordinates: x0, y0, x1, y1, ...
    let initialShape: [Float]
    let levels: [Level]

    public var landmarkCount: Int { initialShape.count / 2 }

    /// Reads `path` (dlib's serialization of `shape_predictor`, version 1).
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelError.notInstalled(model: "dlib shape predictor", path: path)
        }
        try self.init(bytes: [UInt8](data), source: path)
    }

    init(bytes: [UInt8], source: String) throws {
        var reader = DlibReader(bytes: bytes, source: source)
        guard try reader.integer(in: 0...1000, "the version") == 1 else {
            throw reader.error("not a dlib shape_predictor of version 1")
        }
        initialShape = try reader.column(limit: 2 * 1000, "the initial shape")
        guard !initialShape.isEmpty, initialShape.count % 2 == 0 else { throw reader.error("the initial shape has an odd length") }
        let values = initialShape.count
        let forests = try reader.array(limit: 1000, "the cascade") { r in
            try r.array(limit: 100_000, "a forest") { r in
                let splits = try r.array(limit: 1 << 20, "a tree's splits") { r in
                    Split(first: try r.integer(in: 0...1_000_000, "a split's first pixel"),
                          second: try r.integer(in: 0...1_000_000, "a split's second pixel"),
                          threshold: try r.float())
                }
                let leaves = try r.array(limit: 1 << 21, "a tree's leaves") { r in try r.column(limit: values, "a leaf") }
                return Tree(splits: splits, leaves: leaves)
            }
        }
        let anchors = try reader.array(limit: 1000, "the anchors") { r in
            try r.array(limit: 1_000_000, "a level's anchors") { r in try r.integer(in: 0...(values / 2 - 1), "an anchor") }
        }
        let deltas = try reader.array(limit: 1000, "the deltas") { r in
            try r.array(limit: 1_000_000, "a level's deltas") { r in Point2(try r.float(), try r.float()) }
        }
        guard reader.isAtEnd else { throw reader.error("bytes follow the model") }
        guard forests.count == anchors.count, anchors.count == deltas.count else {
            throw reader.error("\(forests.count) forests, \(anchors.count) anchor lists and \(deltas.count) delta lists")
        }
        var levels: [Level] = []
        for (forest, (anchor, delta)) in zip(forests, zip(anchors, deltas)) {
            guard anchor.count == delta.count else { throw reader.error("a level has \(anchor.count) anchors and \(delta.count) deltas") }
            for tree in forest {
                guard tree.leaves.count == tree.splits.count + 1, tree.leaves.allSatisfy({ $0.count == values }),
                      tree.splits.allSatisfy({ $0.first < anchor.count && $0.second < anchor.count }) else {
                    throw reader.error("a tree does not fit its level (\(tree.splits.count) splits, \(tree.leaves.count) leaves)")
                }
            }
            levels.append(Level(trees: forest, anchors: anchor, deltas: delta))
        }
        self.levels = levels
    }

    /// A box as dlib has it: integer pixel columns and rows of its edges, right and bottom inclusive.
    public struct Rectangle: Sendable, Hashable {
        public var left: Int, top: Int, right: Int, bottom: Int
        public init(left: Int, top: Int, right: Int, bottom: Int) {
            self.left = left; self.top = top; self.right = right; self.bottom = bottom
        }
    }

    /// The landmarks of the face in `rect`, in pixels of `image`, rounded to whole pixels as dlib returns them.
    public func landmarks(in image: GreyImage, rect: Rectangle) -> [Point2] {
        // The unit square onto the box: (0,0) → top-left, (1,1) → bottom-right corner (dlib's unnormalizing_tform).
        let scaleX = Double(rect.right - rect.left), scaleY = Double(rect.bottom - rect.top)
        func toImage(_ x: Double, _ y: Double) -> (Double, Double) {
            (Double(rect.left) + x * scaleX, Double(rect.top) + y * scaleY)
        }
        var shape = initialShape
        var values: [Float] = []
        for level in levels {
            // The rotation and scale from the mean shape to the current one (dlib casts it to float).
            let m = Self.similarity(from: initialShape, to: shape)
            let a = Float(m.a), b = Float(m.b)
            values.removeAll(keepingCapacity: true)
            for (anchor, delta) in zip(level.anchors, level.deltas) {
                let x = a * delta.x - b * delta.y + shape[2 * anchor]
                let y = b * delta.x + a * delta.y + shape[2 * anchor + 1]
                let (px, py) = toImage(Double(x), Double(y))
                values.append(Float(image.value(x: Self.round(px), y: Self.round(py))))
            }
            for tree in level.trees {
                var node = 0
                while node < tree.splits.count {
                    let split = tree.splits[node]
                    node = values[split.first] - values[split.second] > split.threshold ? 2 * node + 1 : 2 * node + 2
                }
                let leaf = tree.leaves[node - tree.splits.count]
                for i in shape.indices { shape[i] += leaf[i] }
            }
        }
        return (0..<landmarkCount).map { i in
            let (x, y) = toImage(Double(shape[2 * i]), Double(shape[2 * i + 1]))
            return Point2(Float(Self.round(x)), Float(Self.round(y)))
        }
    }

    /// dlib's conversion of a real point to a pixel: `floor(v + 0.5)`.
    static func round(_ v: Double) -> Int {
        guard v.isFinite, abs(v) < 1e9 else { return Int.min / 2 }
        return Int((v + 0.5).rounded(.down))
    }

    /// The linear part `[a -b; b a]` of the least-squares similarity transform from one shape to another
    /// (dlib's find_similarity_transform, in double precision as dlib computes it).
    static func similarity(from source: [Float], to target: [Float]) -> (a: Double, b: Double) {
        func points(_ shape: [Float]) -> [(x: Double, y: Double)] {
            (0..<(shape.count / 2)).map { (Double(shape[2 * $0]), Double(shape[2 * $0 + 1])) }
        }
        guard let fit = similarityParameters(from: points(source), to: points(target)) else { return (1, 0) }
        return (fit.a, fit.b)
    }
}

/// An 8-bit grey image, as dlib's shape predictor samples it: each pixel the integer mean of red, green and
/// blue (dlib's `assign_pixel` from `rgb_pixel` to `unsigned char`).
public struct GreyImage: Sendable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(_ image: RGBImage) {
        width = image.width
        height = image.height
        pixels = [UInt8](unsafeUninitializedCapacity: image.width * image.height) { buffer, count in
            image.pixels.withUnsafeBufferPointer { rgb in
                for i in 0..<(image.width * image.height) {
                    buffer[i] = UInt8((UInt16(rgb[3 * i]) + UInt16(rgb[3 * i + 1]) + UInt16(rgb[3 * i + 2])) / 3)
                }
            }
            count = image.width * image.height
        }
    }

    /// The pixel at (x, y), or 0 outside the image (as dlib's feature extraction).
    public func value(x: Int, y: Int) -> UInt8 {
        guard x >= 0, y >= 0, x < width, y < height else { return 0 }
        return pixels[y * width + x]
    }
}
