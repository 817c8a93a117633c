import COnnxRuntime
import Foundation

/// A dense float32 tensor in row-major order.
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "Tensor: \(data.count) values for shape \(shape)")
        self.shape = shape
        self.data = data
    }
}

/// Name, element type and shape of one model input or output; dynamic dimensions are -1.
public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    public let isFloat: Bool
}

/// How a session runs: threads and execution details that matter for speed on small machines.
public struct SessionOptions: Sendable, Hashable {
    /// Threads one inference may use; 0 lets ONNX Runtime choose (one per core).
    public var intraOpThreads: Int
    /// Whether idle ONNX Runtime threads spin. Spinning wins when inference has the machine to itself and
    /// loses badly when decoding runs beside it, so the pipeline turns it off.
    public var allowSpinning: Bool

    /// Where inference runs. CUDA falls back to the CPU, with a warning, when the loaded library or the
    /// machine lacks it.
    public var provider: ExecutionProvider

    public init(intraOpThreads: Int = 0, allowSpinning: Bool = false, provider: ExecutionProvider = .cpu) {
        self.intraOpThreads = intraOpThreads
        self.allowSpinning = allowSpinning
        self.provider = provider
    }
}

/// An ONNX Runtime execution provider FaceFind can ask for.
public enum ExecutionProvider: Sendable, Hashable {
    case cpu
    /// NVIDIA GPU `device` through the CUDA provider (only in the `onnxruntime-gpu` wheel's library).
    case cuda(device: Int)

    /// From its command-line spelling: "cpu", "cuda" (GPU 0) or "cuda:N"; nil for anything else.
    public init?(spelling: String) {
        let parts = spelling.lowercased().split(separator: ":", omittingEmptySubsequences: false)
        switch (parts.first, parts.count) {
        case ("cpu", 1): self = .cpu
        case ("cuda", 1): self = .cuda(device: 0)
        case ("cuda", 2): guard let device = Int(parts[1]), device >= 0 else { return nil }; self = .cuda(device: device)
        default: return nil
        }
    }

    /// The command-line spelling (`init(spelling:)` reads it back).
    public var spelling: String {
        switch self {
        case .cpu: return "cpu"
        case .cuda(let device): return "cuda:\(device)"
        }
    }

    /// ONNX Runtime's name for it.
    public var name: String {
        switch self {
        case .cpu: return "CPUExecutionProvider"
        case .cuda: return "CUDAExecutionProvider"
        }
    }
}

/// One loaded ONNX model. `run` may be called from several threads at once (ONNX Runtime allows it).
public final class InferenceSession: @unchecked Sendable {
    public let modelPath: String
    public let inputs: [TensorInfo]
    public let outputs: [TensorInfo]
    /// The provider this session runs on (CPUExecutionProvider after a fallback).
    public let provider: String
    private let runtime: OnnxRuntime
    private let session: OpaquePointer

    public init(modelPath: String, options: SessionOptions = SessionOptions(), runtime: OnnxRuntime) throws {
        self.modelPath = modelPath
        self.runtime = runtime
        let api = runtime.api
        guard FileManager.default.isReadableFile(atPath: modelPath) else {
            throw OnnxRuntimeError.signature(model: modelPath, problem: "model file not found or not readable")
        }

        var sessionOptions: OpaquePointer?
        try runtime.check("CreateSessionOptions", api.CreateSessionOptions(&sessionOptions))
        defer { api.ReleaseSessionOptions(sessionOptions) }
        try runtime.check("SetSessionGraphOptimizationLevel",
                          api.SetSessionGraphOptimizationLevel(sessionOptions, ORT_ENABLE_ALL))
        try runtime.check("SetIntraOpNumThreads", api.SetIntraOpNumThreads(sessionOptions, Int32(options.intraOpThreads)))
        try runtime.check("SetInterOpNumThreads", api.SetInterOpNumThreads(sessionOptions, 1))
        let spin = options.allowSpinning ? "1" : "0"
        try runtime.check("AddSessionConfigEntry",
                          api.AddSessionConfigEntry(sessionOptions, "session.intra_op.allow_spinning", spin))

        provider = runtime.appendProvider(options.provider, to: sessionOptions!)

        var session: OpaquePointer?
        do {
            try runtime.check("CreateSession", api.CreateSession(runtime.env, modelPath, sessionOptions, &session))
        } catch OnnxRuntimeError.call(_, let message) {
            throw OnnxRuntimeError.signature(model: modelPath, problem: "not a loadable ONNX model: \(message)")
        }
        self.session = session!
        do {
            self.inputs = try Self.describe(runtime: runtime, session: session!, inputs: true)
            self.outputs = try Self.describe(runtime: runtime, session: session!, inputs: false)
        } catch {
            api.ReleaseSession(session)
            throw error
        }
    }

    deinit {
        runtime.api.ReleaseSession(session)
    }

    private static func describe(runtime: OnnxRuntime, session: OpaquePointer, inputs: Bool) throws -> [TensorInfo] {
        let api = runtime.api
        var allocator: OpaquePointer?
        try runtime.check("GetAllocatorWithDefaultOptions", api.GetAllocatorWithDefaultOptions(&allocator))
        var count = 0
        try runtime.check("SessionGetCount",
                          inputs ? api.SessionGetInputCount(session, &count) : api.SessionGetOutputCount(session, &count))
        var result: [TensorInfo] = []
        for index in 0..<count {
            var namePointer: UnsafeMutablePointer<CChar>?
            try runtime.check("SessionGetName", inputs
                ? api.SessionGetInputName(session, index, allocator, &namePointer)
                : api.SessionGetOutputName(session, index, allocator, &namePointer))
            let name = String(cString: namePointer!)
            _ = api.AllocatorFree(allocator, namePointer)

            var typeInfo: OpaquePointer?
            try runtime.check("SessionGetTypeInfo", inputs
                ? api.SessionGetInputTypeInfo(session, index, &typeInfo)
                : api.SessionGetOutputTypeInfo(session, index, &typeInfo))
            defer { api.ReleaseTypeInfo(typeInfo) }
            var tensorInfo: OpaquePointer?
            try runtime.check("CastTypeInfoToTensorInfo", api.CastTypeInfoToTensorInfo(typeInfo, &tensorInfo))
            guard let tensorInfo else {
                result.append(TensorInfo(name: name, shape: [], isFloat: false))  // not a tensor
                continue
            }
            var elementType = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED
            try runtime.check("GetTensorElementType", api.GetTensorElementType(tensorInfo, &elementType))
            result.append(TensorInfo(name: name, shape: try shape(runtime: runtime, info: tensorInfo),
                                     isFloat: elementType == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT))
        }
        return result
    }

    private static func shape(runtime: OnnxRuntime, info: OpaquePointer) throws -> [Int] {
        var rank = 0
        try runtime.check("GetDimensionsCount", runtime.api.GetDimensionsCount(info, &rank))
        var dims = [Int64](repeating: 0, count: rank)
        try runtime.check("GetDimensions", runtime.api.GetDimensions(info, &dims, rank))
        return dims.map { $0 < 0 ? -1 : Int($0) }
    }

    /// Looks up an input or output by name, or the only one when `name` is nil.
    public func input(named name: String?) throws -> TensorInfo {
        try Self.pick(inputs, name, kind: "input", model: modelPath)
    }

    public func output(named name: String?) throws -> TensorInfo {
        try Self.pick(outputs, name, kind: "output", model: modelPath)
    }

    private static func pick(_ list: [TensorInfo], _ name: String?, kind: String, model: String) throws -> TensorInfo {
        if let name {
            if let found = list.first(where: { $0.name == name }) { return found }
            throw OnnxRuntimeError.signature(
                model: model, problem: "has no \(kind) named '\(name)' (it has \(list.map(\.name)))")
        }
        guard list.count == 1 else {
            throw OnnxRuntimeError.signature(model: model, problem: "has \(list.count) \(kind)s \(list.map(\.name)); name one")
        }
        return list[0]
    }

    /// Runs the model on named float inputs and returns the named float outputs (all outputs when
    /// `outputNames` is empty), in the order asked for.
    public func run(_ feeds: [(name: String, tensor: Tensor)], outputNames: [String] = []) throws -> [Tensor] {
        let names = outputNames.isEmpty ? outputs.map(\.name) : outputNames
        return try withOrtValues(feeds.map(\.tensor)[...], values: []) { values in
            try runSession(inputNames: feeds.map(\.name), values: values, outputNames: names)
        }
    }

    /// Convenience for the common single-input model.
    public func run(_ input: Tensor, inputName: String? = nil, outputNames: [String] = []) throws -> [Tensor] {
        try run([(name: try self.input(named: inputName).name, tensor: input)], outputNames: outputNames)
    }

    /// Wraps each input's buffer in an OrtValue without copying, keeping every buffer pinned until `body`
    /// returns (hence the recursion: one `withUnsafeBufferPointer` scope per input). ONNX Runtime never
    /// writes to input tensors, so handing it a pointer into an immutable array is safe.
    private func withOrtValues<R>(_ tensors: ArraySlice<Tensor>, values: [OpaquePointer],
                                  _ body: ([OpaquePointer]) throws -> R) throws -> R {
        guard let tensor = tensors.first else { return try body(values) }
        let api = runtime.api
        let shape = tensor.shape.map(Int64.init)
        return try tensor.data.withUnsafeBufferPointer { buffer in
            var value: OpaquePointer?
            try runtime.check("CreateTensorWithDataAsOrtValue", api.CreateTensorWithDataAsOrtValue(
                runtime.cpuMemoryInfo, UnsafeMutableRawPointer(mutating: buffer.baseAddress),
                buffer.count * MemoryLayout<Float>.stride, shape, shape.count,
                ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &value))
            defer { api.ReleaseValue(value) }
            return try withOrtValues(tensors.dropFirst(), values: values + [value!], body)
        }
    }

    private func runSession(inputNames: [String], values: [OpaquePointer], outputNames: [String]) throws -> [Tensor] {
        let api = runtime.api
        let cInputNames = inputNames.map { strdup($0) }
        let cOutputNames = outputNames.map { strdup($0) }
        defer {
            cInputNames.forEach { free($0) }
            cOutputNames.forEach { free($0) }
        }
        var outputValues = [OpaquePointer?](repeating: nil, count: outputNames.count)
        defer { outputValues.forEach { api.ReleaseValue($0) } }
        let inputPointers: [OpaquePointer?] = values
        let inNames = cInputNames.map { UnsafePointer($0) }
        let outNames = cOutputNames.map { UnsafePointer($0) }
        try runtime.check("Run", api.Run(session, nil, inNames, inputPointers, values.count,
                                         outNames, outNames.count, &outputValues))
        return try outputValues.map { value in
            var info: OpaquePointer?
            try runtime.check("GetTensorTypeAndShape", api.GetTensorTypeAndShape(value, &info))
            defer { api.ReleaseTensorTypeAndShapeInfo(info) }
            var elementType = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED
            try runtime.check("GetTensorElementType", api.GetTensorElementType(info, &elementType))
            guard elementType == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT else {
                throw OnnxRuntimeError.signature(model: modelPath, problem: "output is not float32")
            }
            let shape = try Self.shape(runtime: runtime, info: info!)
            var data: UnsafeMutableRawPointer?
            try runtime.check("GetTensorMutableData", api.GetTensorMutableData(value, &data))
            let count = shape.reduce(1, *)
            let floats = data!.bindMemory(to: Float.self, capacity: count)
            return Tensor(shape: shape, data: Array(UnsafeBufferPointer(start: floats, count: count)))
        }
    }
}
