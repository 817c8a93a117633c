import Foundation

// Box and landmark decoding shared by the anchor-based detector families (SCRFD, RetinaFace, BlazeFace) and the
// settings types that describe their heads in `DetectorSettings`. Everything here is pure arithmetic, tested
// against hand-computed values.

/// How a photo is placed in a detector's fixed-size input.
public enum ImageFit: String, Sendable, Hashable, Codable {
    /// Scaled to fit with its aspect ratio kept, at the top-left corner; padding right and bottom
    /// (insightface SCRFD, YuNet).
    case topLeft
    /// Scaled to fit with its aspect ratio kept, centred; padding on both sides (YOLO letterbox, MediaPipe).
    case center
    /// Scaled to fill the input exactly; the aspect ratio is not kept (UltraFace).
    case stretch
}

/// MediaPipe's SSD anchor grid (`SsdAnchorsCalculator`) for models with `fixed_anchor_size: true`, where an anchor
/// is just a centre: BlazeFace.
public struct SSDAnchorOptions: Sendable, Hashable, Codable {
    /// One stride per SSD layer. Consecutive layers with the same stride share one feature map, whose locations
    /// then carry the anchors of all of them (MediaPipe's grouping).
    public var strides: [Int]
    /// Anchors each layer puts at every location: the number of MediaPipe `aspect_ratios`, plus one when
    /// `interpolated_scale_aspect_ratio` > 0 (BlazeFace short range: 1 + 1; full range: 1 + 0).
    public var anchorsPerLayer: Int
    /// Anchor centre within its cell, as a fraction of the cell (MediaPipe `anchor_offset_x/y`).
    public var offsetX: Float
    public var offsetY: Float

    public init(strides: [Int], anchorsPerLayer: Int, offsetX: Float = 0.5, offsetY: Float = 0.5) {
        self.strides = strides; self.anchorsPerLayer = anchorsPerLayer
        self.offsetX = offsetX; self.offsetY = offsetY
    }
}

/// Where the values of one candidate sit in a single-output YOLO face head. Boxes are always the first four
/// values, `cx, cy, w, h` in input pixels (the export decodes the grid in the graph).
public struct YOLOLayout: Sendable, Hashable, Codable {
    /// True for `[1, values, candidates]` (Ultralytics YOLOv8 exports), false for `[1, candidates, values]`
    /// (YOLOv5-face).
    public var valuesFirst: Bool
    /// The values whose product is the face score (YOLOv5-face: objectness 4 and class 15; YOLOv8-face: 4).
    public var scoreIndices: [Int]
    /// The index of the first landmark's x; nil when the head has no landmarks.
    public var landmarkIndex: Int?
    /// Values per landmark: 2 (x, y) or 3 (x, y, visibility).
    public var landmarkStride: Int

    public init(valuesFirst: Bool, scoreIndices: [Int], landmarkIndex: Int?, landmarkStride: Int = 2) {
        self.valuesFirst = valuesFirst; self.scoreIndices = scoreIndices
        self.landmarkIndex = landmarkIndex; self.landmarkStride = landmarkStride
    }
}

/// A catalog entry that does not fit the detector family it names.
public struct DetectorConfigurationError: Error, CustomStringConvertible {
    public var model: String
    public var problem: String
    public var description: String { "detector \(model): \(problem)" }
}

/// Anchor, prior and box arithmetic shared by the detector families.
public enum AnchorDecoding {
    // MARK: Point grids (SCRFD)

    /// The anchor points of a `columns` x `rows` feature map at `stride`, row by row, each repeated
    /// `anchorsPerLocation` times: location (column c, row r) is at (c * stride, r * stride), the cell's
    /// top-left corner, as insightface's SCRFD places them.
    public static func gridPoints(columns: Int, rows: Int, stride: Int, anchorsPerLocation: Int) -> [Point2] {
        var points: [Point2] = []
        points.reserveCapacity(columns * rows * anchorsPerLocation)
        for r in 0..<rows {
            for c in 0..<columns {
                let p = Point2(Float(c * stride), Float(r * stride))
                for _ in 0..<anchorsPerLocation { points.append(p) }
            }
        }
        return points
    }

    /// SCRFD's distance coding: the box whose left, top, right and bottom edges lie `distances[0...3]` strides
    /// from `point`.
    public static func distanceBox(from point: Point2, distances d: ArraySlice<Float>, stride: Float) -> Box {
        let i = d.startIndex
        return Box(x0: point.x - d[i] * stride, y0: point.y - d[i + 1] * stride,
                   x1: point.x + d[i + 2] * stride, y1: point.y + d[i + 3] * stride)
    }

    /// Points coded as offsets in strides from `point`: `offsets` holds `x0, y0, x1, y1, ...`.
    public static func offsetPoints(from point: Point2, offsets o: ArraySlice<Float>, stride: Float) -> [Point2] {
        let i = o.startIndex
        return (0..<(o.count / 2)).map { k in
            Point2(point.x + o[i + 2 * k] * stride, point.y + o[i + 2 * k + 1] * stride)
        }
    }

    // MARK: Prior boxes (RetinaFace)

    /// A prior box, normalised to the input's width and height.
    public struct Prior: Sendable, Hashable {
        public var cx: Float, cy: Float, width: Float, height: Float
        public init(cx: Float, cy: Float, width: Float, height: Float) {
            self.cx = cx; self.cy = cy; self.width = width; self.height = height
        }
    }

    /// RetinaFace's `PriorBox` (biubug6/Pytorch_Retinaface): for each stride, a ceil(H / stride) x
    /// ceil(W / stride) map, row by row; at each location one square prior per size in `minSizes[k]`, centred on
    /// the cell ((c + 0.5) * stride), all normalised by the input size.
    public static func retinaFacePriors(inputWidth: Int, inputHeight: Int, strides: [Int],
                                        minSizes: [[Float]]) -> [Prior] {
        precondition(strides.count == minSizes.count, "retinaFacePriors: one list of sizes per stride")
        let w = Float(inputWidth), h = Float(inputHeight)
        var priors: [Prior] = []
        for (k, stride) in strides.enumerated() {
            let rows = (inputHeight + stride - 1) / stride, columns = (inputWidth + stride - 1) / stride
            for r in 0..<rows {
                for c in 0..<columns {
                    for size in minSizes[k] {
                        priors.append(Prior(cx: (Float(c) + 0.5) * Float(stride) / w,
                                            cy: (Float(r) + 0.5) * Float(stride) / h,
                                            width: size / w, height: size / h))
                    }
                }
            }
        }
        return priors
    }

    /// SSD box decoding with variances: centre = prior centre + loc[0...1] * v0 * prior size,
    /// size = prior size * exp(loc[2...3] * v1). The box is normalised like the prior.
    public static func priorBox(_ loc: ArraySlice<Float>, prior p: Prior, variances v: [Float]) -> Box {
        let i = loc.startIndex
        let cx = p.cx + loc[i] * v[0] * p.width, cy = p.cy + loc[i + 1] * v[0] * p.height
        let w = p.width * exp(loc[i + 2] * v[1]), h = p.height * exp(loc[i + 3] * v[1])
        return Box(x: cx - w / 2, y: cy - h / 2, width: w, height: h)
    }

    /// Landmarks coded against a prior: point k = prior centre + values[2k...2k+1] * v0 * prior size.
    public static func priorPoints(_ values: ArraySlice<Float>, prior p: Prior, variances v: [Float]) -> [Point2] {
        let i = values.startIndex
        return (0..<(values.count / 2)).map { k in
            Point2(p.cx + values[i + 2 * k] * v[0] * p.width, p.cy + values[i + 2 * k + 1] * v[0] * p.height)
        }
    }

    // MARK: SSD anchors (BlazeFace)

    /// Anchor centres, normalised to the input, in MediaPipe's order: per group of consecutive equal strides, a
    /// ceil(H / stride) x ceil(W / stride) map row by row, each location repeated once per anchor of the group.
    public static func ssdAnchorCenters(inputWidth: Int, inputHeight: Int, options: SSDAnchorOptions) -> [Point2] {
        var centers: [Point2] = []
        var layer = 0
        while layer < options.strides.count {
            let stride = options.strides[layer]
            var count = 0
            while layer < options.strides.count && options.strides[layer] == stride {
                count += options.anchorsPerLayer
                layer += 1
            }
            let rows = (inputHeight + stride - 1) / stride, columns = (inputWidth + stride - 1) / stride
            for r in 0..<rows {
                for c in 0..<columns {
                    let p = Point2((Float(c) + options.offsetX) / Float(columns),
                                   (Float(r) + options.offsetY) / Float(rows))
                    for _ in 0..<count { centers.append(p) }
                }
            }
        }
        return centers
    }

    // MARK: Scores

    /// The logistic function, with the input clipped to ±100 as MediaPipe does before it.
    public static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-min(max(x, -100), 100))) }
}
