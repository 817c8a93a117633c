/// Every face embedding of a gallery in one contiguous row-major matrix, plus which image each face belongs
/// to: the layout that makes exact search a single pass over memory.
public struct FaceMatrix: Sendable {
    public struct ImageEntry: Sendable, Equatable {
        public var id: Int64
        public var path: String
    }

    public let dimension: Int
    /// `faceCount * dimension` floats.
    public private(set) var vectors: [Float] = []
    /// For each face, the index of its image in `images`.
    public private(set) var faceImage: [Int32] = []
    public private(set) var faceIDs: [Int64] = []
    public private(set) var faceBoxes: [Box] = []
    public private(set) var faceIsWholeImage: [Bool] = []
    public private(set) var images: [ImageEntry] = []

    public init(dimension: Int) { self.dimension = dimension }

    public var faceCount: Int { faceIDs.count }

    /// Adds an image; its faces follow with `appendFace`.
    public mutating func appendImage(id: Int64, path: String) {
        images.append(ImageEntry(id: id, path: path))
    }

    /// Adds a face of the last appended image.
    public mutating func appendFace(id: Int64, box: Box, isWholeImage: Bool, vector: some Collection<Float>) {
        precondition(vector.count == dimension && !images.isEmpty)
        vectors.append(contentsOf: vector)
        faceImage.append(Int32(images.count - 1))
        faceIDs.append(id)
        faceBoxes.append(box)
        faceIsWholeImage.append(isWholeImage)
    }

    public func vector(ofFace i: Int) -> ArraySlice<Float> { vectors[(i * dimension)..<((i + 1) * dimension)] }

    /// The sub-matrix of the images whose path satisfies `keep` (for searching one part of a store, such as
    /// the gallery half of an evaluation split).
    public func filter(images keep: (String) -> Bool) -> FaceMatrix {
        keeping { keep($0.path) }
    }

    /// The sub-matrix of the images that satisfy `keep`.
    public func keeping(_ keep: (ImageEntry) -> Bool) -> FaceMatrix {
        var result = FaceMatrix(dimension: dimension)
        var face = 0
        for (slot, image) in images.enumerated() {
            let include = keep(image)
            if include { result.appendImage(id: image.id, path: image.path) }
            while face < faceCount && Int(faceImage[face]) == slot {
                if include {
                    result.appendFace(id: faceIDs[face], box: faceBoxes[face], isWholeImage: faceIsWholeImage[face],
                                      vector: vector(ofFace: face))
                }
                face += 1
            }
        }
        return result
    }

    /// Adds every image of `other` (same dimension) with its faces.
    public mutating func append(contentsOf other: FaceMatrix) {
        precondition(other.dimension == dimension || other.faceCount == 0)
        let offset = Int32(images.count)
        images.append(contentsOf: other.images)
        vectors.append(contentsOf: other.vectors)
        faceImage.append(contentsOf: other.faceImage.map { $0 + offset })
        faceIDs.append(contentsOf: other.faceIDs)
        faceBoxes.append(contentsOf: other.faceBoxes)
        faceIsWholeImage.append(contentsOf: other.faceIsWholeImage)
    }
}
