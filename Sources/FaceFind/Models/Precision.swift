import Foundation

/// The numeric precision a model runs at. An int8 model is a catalog entry of its own, named after its float
/// parent with "-int8" ("facenet512-int8"), so an index records which one made its vectors and never mixes them.
public enum Precision: String, Sendable, Codable, CaseIterable {
    case fp32
    case int8

    static let suffix = "-int8"

    /// The catalog name of `model` at this precision ("facenet512" → "facenet512-int8"; names that already
    /// carry a precision keep it).
    public func modelName(_ model: String) -> String {
        self == .int8 && !model.hasSuffix(Self.suffix) ? model + Self.suffix : model
    }

    /// The float parent's name of a catalog model name ("facenet512-int8" → "facenet512").
    public static func parentName(of model: String) -> String {
        model.hasSuffix(suffix) ? String(model.dropLast(suffix.count)) : model
    }

    /// The precision of a catalog model name.
    public static func of(_ model: String) -> Precision { model.hasSuffix(suffix) ? .int8 : .fp32 }

    /// The precision to run `embedder` at when none is asked for: int8 where the CPU has VNNI and the int8
    /// model is in the catalog and installed (its accuracy cost is within half a point of top-1 and 0.3 points
    /// of pair accuracy for every shipped embedder, docs/ModelMatrix.md), else fp32.
    public static func preferred(for embedder: String, repository: ModelRepository) -> Precision {
        guard cpuHasVNNI, let spec = ModelCatalog.spec(named: int8.modelName(embedder)),
              repository.isInstalled(spec) else { return .fp32 }
        return .int8
    }

    /// Whether this CPU has the int8 dot-product instructions (AVX-512 VNNI or AVX-VNNI) that make ONNX Runtime's
    /// int8 kernels several times faster than float32; without them int8 is slower or no faster.
    public static let cpuHasVNNI: Bool = {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
        let set = Set(flags.split(separator: " ").map(String.init))
        return set.contains("avx512_vnni") || set.contains("avx_vnni")
    }()
}

/// How an int8 catalog entry was made from its float parent (scripts/int8/quantize.sh).
public struct Quantization: Sendable, Hashable, Codable {
    /// The float model's catalog name.
    public var parent: String
    /// The calibration photos and how they were cropped.
    public var calibration: String
    /// The quantization tool and its settings.
    public var method: String
    /// The measured accuracy cost against the parent (docs/ModelMatrix.md, "Int8 models").
    public var accuracyCost: String
}
