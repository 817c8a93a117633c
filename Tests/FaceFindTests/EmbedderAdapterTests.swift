import Foundation
import Testing
@testable import FaceFind

/// ArcFace, SFace and FaceNet-128 cannot be downloaded here, so their catalog entries run on generated models
/// of the same signature whose output is a known function of the input: the per-channel mean of the
/// normalised chip times a fixed matrix. That checks layout, colour order, normalisation, crop size,
/// batching and output handling end to end through the same `OnnxEmbedder` the real models use.
@Suite("Embedder adapters on generated models")
struct EmbedderAdapterTests {
    /// Output[j] = mean_R * W[0][j] + mean_G * W[1][j] + mean_B * W[2][j] of the input tensor.
    static func makeModel(_ spec: ModelSpec, batch: Int, at path: String) throws {
        let side = spec.input.width!, dimension = spec.embedder!.dimension
        let nchw = spec.input.layout == .nchw
        let inputShape = nchw ? [batch, 3, side, side] : [batch, side, side, 3]
        let weights = (0..<(3 * dimension)).map { Float(($0 * 7) % 11) - 5 }
        let bytes = TinyONNX.model(
            inputs: [("input", inputShape)], outputs: [("output", [batch, dimension])],
            initializers: [.init(name: "W", shape: [3, dimension], values: weights)],
            nodes: [.init(opType: "ReduceMean", inputs: ["input"], outputs: ["means"],
                          intAttributes: [("keepdims", 0)], intListAttributes: [("axes", nchw ? [2, 3] : [1, 2])]),
                    .init(opType: "MatMul", inputs: ["means", "W"], outputs: ["output"])])
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// The expected embedding of a chip of one flat colour.
    static func expected(_ spec: ModelSpec, colour: RGB) -> [Float] {
        let dimension = spec.embedder!.dimension
        let weights = (0..<(3 * dimension)).map { Float(($0 * 7) % 11) - 5 }
        let chip = RGBImage(width: 2, height: 2, fill: colour)
        var normalised = [Float](repeating: 0, count: 12)
        ImageTensor.write(chip, into: &normalised, index: 0, width: 2, height: 2, layout: .nhwc,
                          colorOrder: spec.input.colorOrder, normalization: spec.input.normalization)
        let means = Array(normalised[0..<3])
        let raw = (0..<dimension).map { j in (0..<3).reduce(Float(0)) { $0 + means[$1] * weights[$1 * dimension + j] } }
        return Embedding.normalized(raw).vector
    }

    @Test(arguments: ["arcface-r50", "arcface-r100", "sface", "facenet128"])
    func adapterRunsItsPublishedPreprocessing(name: String) throws {
        let spec = try #require(ModelCatalog.spec(named: name))
        #expect(!spec.verifiedHere)
        let folder = try TestData.temporaryFolder()
        let batch = spec.embedder!.fixedBatchOfOne ? 1 : -1
        try Self.makeModel(spec, batch: batch, at: folder + "/" + spec.files[0].path)
        let loader = ModelLoader(repository: ModelRepository(directory: folder), runtime: try OnnxRuntime.shared())
        let embedder = try loader.embedder(named: name)
        #expect(embedder.dimension == spec.embedder!.dimension)
        #expect(embedder.crop.outputSize == spec.input.width)
        // Two flat chips of different colours, in one call (batched where the model allows it).
        let colours = [RGB(200, 40, 90), RGB(10, 250, 130)]
        let chips = colours.map { FaceChip(image: RGBImage(width: spec.input.width!, height: spec.input.width!, fill: $0)) }
        let embeddings = try embedder.embed(chips)
        for (embedding, colour) in zip(embeddings, colours) {
            let want = Self.expected(spec, colour: colour)
            let error = zip(embedding.vector, want).map { abs($0 - $1) }.max() ?? 1
            #expect(error < 1e-4, "\(name): \(colour)")
        }
        // Different colours give different embeddings (per-image standardisation is over all three channels,
        // so even a flat colour keeps its channel differences).
        #expect(embeddings[0].vector != embeddings[1].vector)
    }

    @Test func swappedColourOrderWouldChangeTheEmbedding() {
        // Guards the test itself: RGB and BGR give different expectations for a non-grey colour.
        var spec = ModelCatalog.spec(named: "arcface-r50")!
        let rgb = Self.expected(spec, colour: RGB(200, 40, 90))
        spec.input.colorOrder = .bgr
        #expect(Self.expected(spec, colour: RGB(200, 40, 90)) != rgb)
    }
}
