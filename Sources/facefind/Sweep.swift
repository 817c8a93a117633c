import ArgumentParser
import FaceFind

/// A comma-separated list of values on the command line (`--min-side 0,448,640`): `evaluate` measures every
/// combination of its lists.
struct Sweep<Value: ExpressibleByArgument>: ExpressibleByArgument {
    var values: [Value]

    init(_ values: [Value]) { self.values = values }

    init?(argument: String) {
        let items = argument.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let parsed = items.compactMap { Value(argument: $0) }
        guard !items.isEmpty, parsed.count == items.count else { return nil }
        values = parsed
    }

    var defaultValueDescription: String {
        values.map { $0.defaultValueDescription }.joined(separator: ",")
    }
}

/// "off" / "on" for sweeps of switches (`--rerank off,on`).
enum Switch: String, ExpressibleByArgument, CaseIterable {
    case off, on
    var isOn: Bool { self == .on }
}

extension CropChoice: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public var defaultValueDescription: String { name }
}

extension PixelNormalization: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public var defaultValueDescription: String { name }
}

/// A value, or "default": the embedder's own (`evaluate --crop default,align5`).
enum OrDefault<Value: ExpressibleByArgument>: ExpressibleByArgument {
    case embedderDefault
    case value(Value)

    init?(argument: String) {
        if argument == "default" { self = .embedderDefault; return }
        guard let value = Value(argument: argument) else { return nil }
        self = .value(value)
    }

    var chosen: Value? { if case .value(let v) = self { return v } else { return nil } }

    var defaultValueDescription: String {
        switch self {
        case .embedderDefault: return "default"
        case .value(let v): return v.defaultValueDescription
        }
    }
}

extension PublishedProtocol.Name: ExpressibleByArgument {}
extension ScoreFusion: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
extension VectorPrecision: ExpressibleByArgument {}

extension ExecutionProvider: ExpressibleByArgument {
    public init?(argument: String) { self.init(spelling: argument) }
    public var defaultValueDescription: String { spelling }
}
