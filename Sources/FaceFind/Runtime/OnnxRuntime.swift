import COnnxRuntime
import Foundation
import Logging

/// Errors from loading or calling ONNX Runtime, carrying ONNX Runtime's own message.
public enum OnnxRuntimeError: Error, CustomStringConvertible {
    /// No loadable library was found; `attempts` lists each place tried and why it failed.
    case libraryNotFound(attempts: [String])
    /// An ONNX Runtime call failed; `message` is ONNX Runtime's text.
    case call(String, message: String)
    /// A model's inputs or outputs are not what the caller expected.
    case signature(model: String, problem: String)

    public var description: String {
        switch self {
        case .libraryNotFound(let attempts):
            return "ONNX Runtime library not found (tried: \(attempts.joined(separator: "; "))). "
                + "Install it with `scripts/setup.sh` (it puts libonnxruntime.so into ~/.facefind/lib), "
                + "or point FACEFIND_ORT_LIBRARY at a libonnxruntime.so from the PyPI wheel onnxruntime."
        case .call(let function, let message):
            return "ONNX Runtime \(function) failed: \(message)"
        case .signature(let model, let problem):
            return "\(model): \(problem)"
        }
    }
}

/// The loaded ONNX Runtime library and its one `OrtEnv`.
///
/// The library is loaded with dlopen rather than linked, so one FaceFind binary works with whichever release
/// (CPU or GPU wheel) the user has. It is loaded once per process; `shared(libraryPath:)` returns that
/// instance on later calls.
public final class OnnxRuntime: @unchecked Sendable {
    let api: OrtApi
    let env: OpaquePointer
    let cpuMemoryInfo: OpaquePointer
    /// The ONNX Runtime release, e.g. "1.32.0".
    public let version: String
    /// The file that was loaded.
    public let libraryPath: String

    /// The environment variable that names the library file.
    public static let libraryEnvironmentVariable = "FACEFIND_ORT_LIBRARY"

    nonisolated(unsafe) private static var instance: OnnxRuntime?
    private static let lock = NSLock()

    /// The process-wide runtime. The library is looked for at `libraryPath` (when given), then at
    /// `$FACEFIND_ORT_LIBRARY`, then in FaceFind's home (`~/.facefind/lib`, where set-up installs it), then on
    /// the normal library search path.
    public static func shared(libraryPath: String? = nil) throws -> OnnxRuntime {
        lock.lock()
        defer { lock.unlock() }
        if let instance { return instance }
        let runtime = try OnnxRuntime(candidates: candidatePaths(explicit: libraryPath))
        instance = runtime
        return runtime
    }

    static func candidatePaths(explicit: String?) -> [String] {
        var paths: [String] = []
        if let explicit, !explicit.isEmpty { paths.append(explicit) }
        if let fromEnv = ProcessInfo.processInfo.environment[libraryEnvironmentVariable], !fromEnv.isEmpty {
            paths.append(fromEnv)
        }
        let home = FaceFindHome.directory.appendingPathComponent("lib").path
        if let names = try? FileManager.default.contentsOfDirectory(atPath: home) {
            // Prefer the fully versioned file name (the one the set-up script writes).
            for name in names.sorted(by: >) where name.hasPrefix("libonnxruntime.so") {
                paths.append("\(home)/\(name)")
            }
        }
        paths.append("libonnxruntime.so.1")
        paths.append("libonnxruntime.so")
        return paths
    }

    private init(candidates: [String]) throws {
        var attempts: [String] = []
        var loaded: (UnsafePointer<OrtApi>, String, String)?
        for path in candidates {
            var message = [CChar](repeating: 0, count: 1024)
            var versionPointer: UnsafePointer<CChar>?
            if let api = ffort_load(path, &versionPointer, &message, message.count) {
                loaded = (api, path, versionPointer.map { String(cString: $0) } ?? "?")
                break
            }
            attempts.append("\(path): \(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
        }
        guard let (apiPointer, path, version) = loaded else {
            throw OnnxRuntimeError.libraryNotFound(attempts: attempts)
        }
        self.api = apiPointer.pointee
        self.libraryPath = path
        self.version = version

        var env: OpaquePointer?
        try Self.check(api, "CreateEnv", api.CreateEnv(ORT_LOGGING_LEVEL_ERROR, "facefind", &env))
        self.env = env!
        var memoryInfo: OpaquePointer?
        try Self.check(api, "CreateCpuMemoryInfo",
                       api.CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &memoryInfo))
        self.cpuMemoryInfo = memoryInfo!
        Logger(label: "facefind.runtime").debug("loaded ONNX Runtime \(version) from \(path)")
    }

    deinit {
        api.ReleaseMemoryInfo(cpuMemoryInfo)
        api.ReleaseEnv(env)
    }

    /// The execution providers compiled into the loaded library, e.g. ["CPUExecutionProvider"].
    public func availableProviders() throws -> [String] {
        var list: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        var count: Int32 = 0
        try check("GetAvailableProviders", api.GetAvailableProviders(&list, &count))
        defer { _ = api.ReleaseAvailableProviders(list, count) }
        return (0..<Int(count)).compactMap { i in list?[i].map { String(cString: $0) } }
    }

    nonisolated(unsafe) private var warnedFallback = Set<String>()
    nonisolated(unsafe) private var usedProviders = Set<String>()

    /// The providers that sessions of this process actually run on (what `bench` reports).
    public var providersInUse: [String] { Self.lock.withLock { usedProviders.sorted() } }

    private func record(_ name: String) -> String {
        Self.lock.withLock { _ = usedProviders.insert(name) }
        return name
    }

    /// Adds `provider` to session options and returns the provider's name, or falls back to the CPU with one
    /// warning per reason when this library or machine cannot run it.
    func appendProvider(_ provider: ExecutionProvider, to options: OpaquePointer) -> String {
        guard case .cuda(let device) = provider else { return record(ExecutionProvider.cpu.name) }
        let reason: String
        if let available = try? availableProviders(), !available.contains(provider.name) {
            reason = "the ONNX Runtime library \(libraryPath) has no CUDA provider (it has "
                + available.joined(separator: ", ") + "); install the onnxruntime-gpu wheel's library and pass it "
                + "with --ort-library"
        } else {
            var cuda = OrtCUDAProviderOptions()
            cuda.device_id = Int32(device)
            cuda.cudnn_conv_algo_search = 1 // heuristic: exhaustive search costs seconds per new input shape
            cuda.gpu_mem_limit = Int.max
            cuda.do_copy_in_default_stream = 1
            do {
                try check("SessionOptionsAppendExecutionProvider_CUDA",
                          api.SessionOptionsAppendExecutionProvider_CUDA(options, &cuda))
                return record(provider.name)
            } catch {
                reason = "\(error)"
            }
        }
        Self.lock.withLock {
            if warnedFallback.insert(reason).inserted {
                Logger(label: "facefind.runtime").warning("CUDA requested but unavailable, running on the CPU: \(reason)")
            }
        }
        return record(ExecutionProvider.cpu.name)
    }

    func check(_ function: String, _ status: OpaquePointer?) throws {
        try Self.check(api, function, status)
    }

    /// Turns a non-NULL `OrtStatus` into a Swift error with ONNX Runtime's message, releasing the status.
    static func check(_ api: OrtApi, _ function: String, _ status: OpaquePointer?) throws {
        guard let status else { return }
        let message = api.GetErrorMessage(status).map { String(cString: $0) } ?? "unknown error"
        api.ReleaseStatus(status)
        throw OnnxRuntimeError.call(function, message: message)
    }
}

/// Where FaceFind keeps what set-up installs: `$FACEFIND_HOME`, or `~/.facefind`.
public enum FaceFindHome {
    public static var directory: URL {
        if let home = ProcessInfo.processInfo.environment["FACEFIND_HOME"], !home.isEmpty {
            return URL(fileURLWithPath: home)
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".facefind")
    }
}
