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
    public let augmentation: Augmentation
    /// The network's output length (`dimension` is twice it with `.flipConcat`).
    let networkDimension: Int
    /// dlib's landmarking, for the crop `.dlibChip`.
    let landmarker: DlibLandmarker?

    /// `crop` and `normalization` override the catalog's (for experiments such as the report's Table 1).
    public init(spec: ModelSpec, session: InferenceSession, crop: CropPolicy? = nil,
                normalization: PixelNormalization? = nil, augmentation: Augmentation = .none,
                landmarker: DlibLandmarker? = nil, maxBatch: Int = 32) throws {
        guard let settings = spec.embedder else { throw ModelError.wrongTask(model: spec.name, expected: .embedder) }
        self.name = spec.name
        self.session = session
        self.input = spec.input
        self.outputName = settings.outputName
        self.networkDimension = settings.dimension
        self.dimension = augmentation.dimension(ofNetworkOutput: settings.dimension)
        self.normalization = normalization ?? spec.input.normalization
        self.maxBatch = settings.fixedBatchOfOne ? 1 : maxBatch
        self.augmentation = augmentation
        self.landmarker = landmarker
        self.crop = Self.fitted(crop ?? settings.crop, to: spec.input.width)
        // dlib's chip is defined by dlib's own landmarks: without the shape predictor it cannot be cut.
        if self.crop.isDlibChip && landmarker == nil {
            throw PipelineError.badOption("\(spec.name): the crop dlib-chip needs dlib's shape predictor (a DlibLandmarker)")
        }
    }

    /// The catalog's crop for `spec`, at the network's input size.
    public static func catalogCrop(of spec: ModelSpec) throws -> CropPolicy {
        guard let settings = spec.embedder else { throw ModelError.wrongTask(model: spec.name, expected: .embedder) }
        return fitted(settings.crop, to: spec.input.width)
    }

    /// A crop policy carries its own output size; the network's fixed input size (when it has one) wins.
    static func fitted(_ policy: CropPolicy, to size: Int?) -> CropPolicy {
        guard let size else { return policy }
        switch policy {
        case .margin(let m, let r, let s) where s != size: return .margin(margin: m, resize: r - s + size, size: size)
        case .align5(let t, let s) where s != size:
            let k = Float(size) / Float(s)
            return .align5(template: t.map { Point2($0.x * k, $0.y * k) }, size: size)
        case .dlibChip(let s, let padding) where s != size: return .dlibChip(size: size, padding: padding)
        default: return policy
        }
    }

    public func chip(for face: DetectedFace, in image: RGBImage) -> FaceChip {
        if case .dlibChip(let size, let padding) = crop, let landmarker,
           let parts = landmarker.parts(of: face, in: image) {
            return FaceChip(dlibParts: parts, in: image, size: size, padding: padding)
        }
        return FaceChip(face: face, in: image, policy: crop)
    }

    public func embed(_ chips: [FaceChip]) throws -> [Embedding] {
        guard augmentation.usesMirror else { return try embedUnaugmented(chips) }
        // Mirrored chips go in the same batches as the originals.
        let mirrored = chips.map { FaceChip(image: $0.image.applyingEXIFOrientation(2)) }
        let both = try embedUnaugmented(chips + mirrored)
        return (0..<chips.count).map { i in
            let (face, mirror) = (both[i].vector, both[i + chips.count].vector)
            return augmentation == .flip ? Embedding.normalized(zip(face, mirror).map { $0 + $1 })
                                         : Embedding.normalized(face + mirror)
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

    /// The network's input for `chips`, exactly as `embed` feeds it (without the mirrored copies of
    /// augmentation): for calibrating an int8 model on the real inputs (`facefind embed --network-inputs`).
    public func networkInput(_ chips: some Collection<FaceChip>) -> Tensor {
        let side = crop.outputSize
        var data = [Float](repeating: 0, count: chips.count * side * side * 3)
        for (i, chip) in chips.enumerated() {
            ImageTensor.write(chip.image, into: &data, index: i, width: side, height: side,
                              layout: input.layout, colorOrder: input.colorOrder, normalization: normalization)
        }
        let shape = input.layout == .nchw ? [chips.count, 3, side, side] : [chips.count, side, side, 3]
        return Tensor(shape: shape, data: data)
    }

    private func embedBatch(_ chips: ArraySlice<FaceChip>) throws -> [Embedding] {
        let outputs = try session.run(networkInput(chips), inputName: input.name,
                                      outputNames: outputName.map { [$0] } ?? [])
        let output = outputs[0]
        let d = networkDimension
        guard output.data.count == chips.count * d else {
            throw OnnxRuntimeError.signature(model: name,
                problem: "output has shape \(output.shape), expected [\(chips.count), \(d)]")
        }
        return (0..<chips.count).map { i in Embedding.normalized(output.data[(i * d)..<((i + 1) * d)]) }
    }
}
