/// Any ONNX face-embedding network described by a catalog entry: its input layout, colour order and size,
/// normalisation, output name and crop come from the `ModelSpec`, so FaceNet, MobileFaceNet, ArcFace or SFace
/// need no code of their own.
public final class OnnxEmbedder: FaceEmbedder {
    public let name: String
    public let dimension: Int
    public let crop: CropPolicy
    public let normalization: PixelNormalization
    let session: InferenceSession
    let input: InputSpec
    let outputName: String?
    let maxBatch: Int
    /// Test-time augmentation: each face is embedded as is and mirrored, and the two vectors are averaged
    /// (faces are near-symmetric, so the average cancels some pose and lighting noise).
    public let flip: Bool

    /// `crop` and `normalization` override the catalog's (for experiments such as the report's Table 1).
    public init(spec: ModelSpec, session: InferenceSession, crop: CropPolicy? = nil,
                normalization: PixelNormalization? = nil, flip: Bool = false, maxBatch: Int = 32) throws {
        guard let settings = spec.embedder else { throw ModelError.wrongTask(model: spec.name, expected: .embedder) }
        self.name = spec.name
        self.session = session
        self.input = spec.input
        self.outputName = settings.outputName
        self.dimension = settings.dimension
        self.normalization = normalization ?? spec.input.normalization
        self.maxBatch = settings.fixedBatchOfOne ? 1 : maxBatch
        self.flip = flip
        var policy = crop ?? settings.crop
        // A crop policy carries its own output size; the network's input size wins.
        if let size = spec.input.width {
            switch policy {
            case .margin(let m, let r, let s) where s != size: policy = .margin(margin: m, resize: r - s + size, size: size)
            case .align5(let t, let s) where s != size:
                let k = Float(size) / Float(s)
                policy = .align5(template: t.map { Point2($0.x * k, $0.y * k) }, size: size)
            default: break
            }
        }
        self.crop = policy
    }

    public func embed(_ chips: [FaceChip]) throws -> [Embedding] {
        guard flip else { return try embedUnaugmented(chips) }
        // Mirrored chips go in the same batches as the originals.
        let mirrored = chips.map { FaceChip(image: $0.image.applyingEXIFOrientation(2)) }
        let both = try embedUnaugmented(chips + mirrored)
        return (0..<chips.count).map { i in
            Embedding.normalized(zip(both[i].vector, both[i + chips.count].vector).map { $0 + $1 })
        }
    }

    private func embedUnaugmented(_ chips: [FaceChip]) throws -> [Embedding] {
        var result: [Embedding] = []
        result.reserveCapacity(chips.count)
        var start = 0
        while start < chips.count {
            let batch = chips[start..<min(start + maxBatch, chips.count)]
            result += try embedBatch(batch)
            start += batch.count
        }
        return result
    }

    private func embedBatch(_ chips: ArraySlice<FaceChip>) throws -> [Embedding] {
        let side = crop.outputSize
        var data = [Float](repeating: 0, count: chips.count * side * side * 3)
        for (i, chip) in chips.enumerated() {
            ImageTensor.write(chip.image, into: &data, index: i, width: side, height: side,
                              layout: input.layout, colorOrder: input.colorOrder, normalization: normalization)
        }
        let shape = input.layout == .nchw ? [chips.count, 3, side, side] : [chips.count, side, side, 3]
        let outputs = try session.run(Tensor(shape: shape, data: data), inputName: input.name,
                                      outputNames: outputName.map { [$0] } ?? [])
        let output = outputs[0]
        guard output.data.count == chips.count * dimension else {
            throw OnnxRuntimeError.signature(model: name,
                problem: "output has shape \(output.shape), expected [\(chips.count), \(dimension)]")
        }
        return (0..<chips.count).map { i in
            Embedding.normalized(output.data[(i * dimension)..<((i + 1) * dimension)])
        }
    }
}
