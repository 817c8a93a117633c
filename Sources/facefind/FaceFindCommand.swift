import ArgumentParser
import FaceFind
import Foundation
import Logging

@main
struct FaceFindCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facefind",
        abstract: "Find the photos that show the same person as a query photo.",
        discussion: """
            Index a folder once, then search it:
              facefind index ~/Photos --db photos.sqlite
              facefind search me.jpg --db photos.sqlite -k 10 --montage result.png
            """,
        version: "0.1.0",
        subcommands: [IndexCommand.self, SearchCommand.self, VerifyCommand.self, EmbedCommand.self, EvaluateCommand.self, BenchCommand.self,
                      ModelsCommand.self, ServeCommand.self, PeopleCommand.self, StatusCommand.self])
}

/// Options every command that runs models shares.
struct RuntimeOptions: ParsableArguments {
    @Option(help: "Folder of model files (default: $FACEFIND_MODELS or ~/.facefind/models).")
    var models: String?

    @Option(help: "Path of libonnxruntime.so (default: $FACEFIND_ORT_LIBRARY, ~/.facefind/lib, then the system).")
    var ortLibrary: String?

    @Option(help: "Worker threads (default: one per core).")
    var threads: Int?

    @Option(help: "ONNX Runtime threads per inference (default 1: parallelism comes from the workers).")
    var intraThreads = 1

    @Option(help: "Execution provider: cpu, or cuda / cuda:N (GPU N; needs the onnxruntime-gpu library, falls back to the CPU with a warning).")
    var provider = ExecutionProvider.cpu

    @Flag(name: .shortAndLong, help: "Log more.")
    var verbose = false

    func bootstrapLogging() {
        let level: Logger.Level = verbose ? .debug : .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    var workerCount: Int { max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount) }

    /// Sessions run single-threaded: parallelism comes from one worker per core, which measured faster
    /// than ONNX Runtime's own threads competing with decoding.
    func loader(intraOpThreads: Int? = nil) throws -> ModelLoader {
        let intraOpThreads = intraOpThreads ?? intraThreads
        return ModelLoader(repository: ModelRepository(directory: models),
                    runtime: try OnnxRuntime.shared(libraryPath: ortLibrary),
                    sessionOptions: SessionOptions(intraOpThreads: intraOpThreads, provider: provider))
    }
}

/// Options that choose the pipeline.
struct PipelineOptions: ParsableArguments {
    @Option(help: "Face detector: \(ModelCatalog.specs(task: .detector).map(\.name).joined(separator: ", ")).")
    var detector = PipelineConfiguration.defaultDetector

    @Option(help: "Face embedder: \(ModelCatalog.specs(task: .embedder).map(\.name).joined(separator: ", ")).")
    var embedder = PipelineConfiguration.defaultEmbedder

    @Option(help: "Crop: margin, marginN (the box plus N/2 px per side), align5 or dlib-chip (dlib's shape predictor and face chip) (default: the embedder's training crop).")
    var crop: CropChoice?

    @Option(help: "Pixel normalisation: fixed, per-image, unit, none, symmetric (default: the embedder's).")
    var normalization: PixelNormalization?

    @Option(help: "Detector confidence threshold (default: the detector's own).")
    var threshold: Float?

    @Option(help: "Lowest threshold tried when no face is found, before the whole image is used.")
    var thresholdFloor: Float = 0.3

    @Option(help: "Detect on a copy whose longer side is at most this many pixels.")
    var maxSide = 960

    @Option(help: "Enlarge smaller photos for detection until the longer side is this many pixels (0: never). Default: an existing index's own; else the embedder's (FaceNet-512: 0; MobileFaceNet, dlib and the adapters: 448).")
    var minSide: Int?

    @Option(help: "Drop faces narrower than this many pixels, except each photo's largest (0: keep all).")
    var minFace: Float = 40

    @Option(help: "Test-time augmentation: none; flip (each face also embedded mirrored, the two averaged); flip-concat (the two concatenated, as facenet's LFW evaluation does).")
    var augmentation: Augmentation = .none

    @Option(help: "The embedder's precision: fp32, or int8 (its int8 model, NAME-int8: several times faster on CPUs with VNNI; 'facefind models install NAME-int8 --from-source' builds it). Default: an existing index's own; else int8 where the CPU has VNNI and the int8 model is installed; else fp32.")
    var precision: Precision?

    /// The configuration asked for, its precision and detection size resolved: the ones given; else those of
    /// `existing` when it was built with this embedder (re-indexing an index does not fail on a changed default);
    /// else `Precision.preferred` and the embedder's own detection size.
    func configuration(loader: ModelLoader, existing: IndexSettings? = nil) -> PipelineConfiguration {
        let same = existing.flatMap { Precision.parentName(of: $0.embedder) == embedder ? $0 : nil }
        let resolved = precision ?? same.map { Precision.of($0.embedder) }
            ?? Precision.preferred(for: embedder, repository: loader.repository)
        let detection = DetectionOptions(
            threshold: threshold, thresholdFloor: thresholdFloor, maxSide: maxSide,
            minSide: minSide ?? same?.minSide ?? PipelineConfiguration.defaultMinSide(embedder: embedder),
            minFaceSize: minFace)
        return PipelineConfiguration(detector: detector, embedder: embedder, crop: crop, normalization: normalization,
                                     detection: detection, augmentation: augmentation, precision: resolved)
    }

    /// The pipeline of `configuration(loader:existing:)`, its models loaded by `loader`.
    func pipeline(loader: ModelLoader, existing: IndexSettings? = nil) throws -> FacePipeline {
        try FacePipeline(configuration: configuration(loader: loader, existing: existing), loader: loader)
    }
}

/// The exit statuses of every command (README, "Exit status").
enum ExitStatus {
    /// 0: everything asked for was done.
    static let success = ExitCode.success
    /// 1: a fatal error; the command stopped (what it had already written is kept).
    static let fatal = ExitCode.failure
    /// 2: the command finished, but some inputs (files, folders, queries) could not be read or used; they are
    /// listed in its output.
    static let partial = ExitCode(2)
    // 64 (EX_USAGE): a usage error, from ArgumentParser.
}

/// Prints an error message naming the problem and exits non-zero, instead of a stack of Swift types.
func fail(_ error: Error) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(printable("\(error)"))\n".utf8))
    return ExitStatus.fatal
}

/// `text` safe to print on one line: control characters (a newline in a file name, an escape sequence) are
/// written as escapes (`\n`, `\u{1B}`), so a crafted name cannot split a log line or a list of failures.
func printable(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return text }
    var result = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        case _ where scalar.properties.generalCategory == .control:
            result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result
}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
