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

extension PublishedProtocol.Name: ExpressibleByArgument {}
extension ScoreFusion: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
extension VectorPrecision: ExpressibleByArgument {}

extension ExecutionProvider: ExpressibleByArgument {
    public init?(argument: String) { self.init(spelling: argument) }
    public var defaultValueDescription: String { spelling }
}
