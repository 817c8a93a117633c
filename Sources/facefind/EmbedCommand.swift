import ArgumentParser
import FaceFind
import Foundation

/// Output formats of `facefind embed`.
enum EmbedFormat: String, ExpressibleByArgument, CaseIterable {
    /// One JSON object per face on standard output, with its embedding.
    case ndjson
    /// The embeddings as one float32 array in a `.npy` file (`--output`), and one JSON line per face without
    /// the vector, with its row in the array.
    case npy
}

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Print every face of the photos: box, landmarks, detector score and embedding.",
        discussion: """
            For your own tools (what deepface calls represent). One JSON line per face: {"path", "width", \
            "height", "face", "box", "landmarks", "score", "wholeImage", "embedding"}; a photo that cannot be read \
            gives one line {"path", "error"} and exit status 2. With --format npy the embeddings go to --output as \
            an N x D float32 array and each line has "row" instead of "embedding".

              facefind embed photos/ > faces.ndjson
              facefind embed photos/ --format npy --output faces.npy > faces.ndjson
            """)

    @Argument(help: "Photos or folders of photos.")
    var photos: [String]

    @Option(help: "ndjson (embeddings in the lines) or npy (embeddings in --output).")
    var format: EmbedFormat = .ndjson

    @Option(help: "With --format npy: the .npy file to write.")
    var output: String?

    @Option(help: "Also write each face's network input, exactly as the embedder is fed, as an N x (C·H·W) float32 .npy (rows in the order of the lines): the calibration data of scripts/int8/quantize.sh.")
    var networkInputs: String?

    @Option(help: "Also write each photo's detector input, exactly as the detector is fed, as an N x C x H x W float32 .npy (every photo must give the same input size): the calibration data of an int8 detector.")
    var detectorInputs: String?

    @OptionGroup var pipelineOptions: PipelineOptions
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if format == .npy, output == nil { throw ValidationError("--format npy needs --output FILE.npy") }
        if format == .ndjson, output != nil { throw ValidationError("--output is for --format npy") }
    }

    /// One line of the output.
    struct Line: Encodable {
        var path: String
        var width: Int?
        var height: Int?
        /// The face's position in the photo's list.
        var face: Int?
        var box: Box?
        var landmarks: [Point2]?
        var score: Float?
        var wholeImage: Bool?
        var embedding: [Float]?
        /// With --format npy: the face's row in the array.
        var row: Int?
        var error: String?
    }

    func run() throws {
        runtime.bootstrapLogging()
        do {
            let pipeline = try pipelineOptions.pipeline(loader: try runtime.loader())
            let decoder = ImageDecoder()
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            var vectors: [Float] = []
            var inputs: [Float] = []
            var inputRows = 0
            var detectorBatch = try detectorInputs.map { _ in try DetectorInputBatch(detector: pipeline.settings.detector) }
            var rows = 0
            var failed = false
            for path in try photos.flatMap(IndexingPipeline.imageFiles(under:)) {
                var lines: [Line] = []
                var decoded: RGBImage?
                do {
                    let image = try decoder.decode(contentsOf: path)
                    decoded = image
                    let faces = try pipeline.embedFaces(in: image)
                    if networkInputs != nil, let onnx = pipeline.embedder as? OnnxEmbedder {
                        inputs += onnx.networkInput(faces.map { onnx.chip(for: $0.face, in: image) }).data
                        inputRows += faces.count
                    }
                    for (index, stored) in faces.enumerated() {
                        let face = stored.face
                        var line = Line(path: path, width: image.width, height: image.height, face: index, box: face.box,
                                        landmarks: face.landmarks?.points, score: face.score, wholeImage: face.isWholeImage)
                        if format == .npy {
                            line.row = rows
                            rows += 1
                            vectors += stored.embedding.vector
                        } else {
                            line.embedding = stored.embedding.vector
                        }
                        lines.append(line)
                    }
                } catch {
                    failed = true
                    lines = [Line(path: path, error: "\(error)")]
                }
                for line in lines { print(String(decoding: try encoder.encode(line), as: UTF8.self)) }
                if let image = decoded { try detectorBatch?.append(image, finder: pipeline.finder, path: path) }
            }
            if let networkInputs {
                let bytes = NumpyArray.float32(inputs, rows: inputRows, columns: inputRows > 0 ? inputs.count / inputRows : 0)
                try Data(bytes).write(to: URL(fileURLWithPath: networkInputs), options: .atomic)
            }
            if let detectorInputs {
                try Data(detectorBatch?.npy ?? []).write(to: URL(fileURLWithPath: detectorInputs), options: .atomic)
            }
            if let output {
                let bytes = NumpyArray.float32(vectors, rows: rows, columns: pipeline.settings.dimension)
                try Data(bytes).write(to: URL(fileURLWithPath: output), options: .atomic)
            }
            if failed { throw ExitStatus.partial }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail(error)
        }
    }
}

/// The detector's input tensors of several photos, for `--detector-inputs`: one N x C x H x W array, so every
/// photo must give the same tensor size (as lfw-dev's 250 x 250 photos do at any detection size).
struct DetectorInputBatch {
    private let spec: ModelSpec
    private let settings: DetectorSettings
    private var values: [Float] = []
    private var shape: [Int]?
    private var count = 0

    /// Refuses a detector whose input is not made by `DetectorInput` (YuNet and MTCNN make their own).
    init(detector: String) throws {
        guard let spec = ModelCatalog.spec(named: detector), let settings = spec.detector,
              settings.family.usesDetectorInput else {
            throw ValidationError("--detector-inputs: \(detector) is not a single-network detector fed through "
                + "DetectorInput (scrfd, retinaface, yolo, blazeface, ultraface)")
        }
        (self.spec, self.settings) = (spec, settings)
    }

    mutating func append(_ image: RGBImage, finder: FaceFinder, path: String) throws {
        let tensor = DetectorInput.tensor(for: finder.detectionImage(for: image).image, input: spec.input,
                                          settings: settings).tensor
        if let shape, shape != tensor.shape {
            throw ValidationError("--detector-inputs: \(path) gives a \(tensor.shape) input, the photos before it "
                + "\(shape); calibration photos must give one input size")
        }
        shape = tensor.shape
        values += tensor.data
        count += 1
    }

    var npy: [UInt8] {
        NumpyArray.float32(values, shape: [count] + (shape?.dropFirst() ?? [3, 0, 0]))
    }
}
