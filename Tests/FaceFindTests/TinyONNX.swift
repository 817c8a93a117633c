import Foundation

/// Writes small ONNX models from Swift, for tests that need a model of a given signature whose weights are not
/// available (YOLOv8-face). ONNX files are protobuf `ModelProto` messages; this encodes the few fields a graph of
/// float tensors needs (field numbers from onnx/onnx.proto).
enum TinyONNX {
    /// A node: `opType` over named inputs, with integer attributes.
    struct Node {
        var opType: String
        var inputs: [String]
        var outputs: [String]
        var intAttributes: [(String, Int)] = []
        var intListAttributes: [(String, [Int])] = []
    }

    /// A float tensor stored in the model.
    struct Initializer {
        var name: String
        var shape: [Int]
        var values: [Float]
    }

    /// The bytes of a model with one graph, float inputs and outputs of fixed shapes, at `opset`.
    static func model(inputs: [(String, [Int])], outputs: [(String, [Int])], initializers: [Initializer],
                      nodes: [Node], opset: Int = 13) -> [UInt8] {
        var graph = Message()
        for node in nodes {
            var n = Message()
            for i in node.inputs { n.string(1, i) }
            for o in node.outputs { n.string(2, o) }
            n.string(4, node.opType)
            for (name, value) in node.intAttributes {
                var a = Message()
                a.string(1, name)
                a.varint(3, UInt64(bitPattern: Int64(value)))
                a.varint(20, 2)  // AttributeProto.INT
                n.message(5, a)
            }
            for (name, values) in node.intListAttributes {
                var a = Message()
                a.string(1, name)
                for v in values { a.varint(8, UInt64(bitPattern: Int64(v))) }
                a.varint(20, 7)  // AttributeProto.INTS
                n.message(5, a)
            }
            graph.message(1, n)
        }
        graph.string(2, "tiny")
        for t in initializers {
            precondition(t.shape.reduce(1, *) == t.values.count, "TinyONNX: \(t.name) has the wrong value count")
            var m = Message()
            for d in t.shape { m.varint(1, UInt64(d)) }
            m.varint(2, 1)  // TensorProto.FLOAT
            m.string(8, t.name)
            m.bytes(9, t.values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
            graph.message(5, m)
        }
        for (name, shape) in inputs { graph.message(11, valueInfo(name, shape)) }
        for (name, shape) in outputs { graph.message(12, valueInfo(name, shape)) }

        var model = Message()
        model.varint(1, 7)  // ir_version 7 (ONNX 1.8), enough for opset 13
        model.string(2, "FaceFindTests")
        model.message(7, graph)
        var opsetId = Message()
        opsetId.string(1, "")
        opsetId.varint(2, UInt64(opset))
        model.message(8, opsetId)
        return model.bytes
    }

    /// ValueInfoProto { name, TypeProto { tensor_type { elem_type FLOAT, shape { dim { dim_value } } } } };
    /// a negative size becomes a named dynamic dimension (dim_param "N").
    private static func valueInfo(_ name: String, _ shape: [Int]) -> Message {
        var dims = Message()
        for d in shape {
            var dim = Message()
            if d < 0 { dim.string(2, "N") } else { dim.varint(1, UInt64(d)) }
            dims.message(1, dim)
        }
        var tensor = Message()
        tensor.varint(1, 1)
        tensor.message(2, dims)
        var type = Message()
        type.message(1, tensor)
        var info = Message()
        info.string(1, name)
        info.message(2, type)
        return info
    }

    /// A protobuf message being encoded.
    struct Message {
        var bytes: [UInt8] = []

        mutating func varint(_ field: Int, _ value: UInt64) {
            key(field, wireType: 0)
            raw(value)
        }

        mutating func bytes(_ field: Int, _ value: [UInt8]) {
            key(field, wireType: 2)
            raw(UInt64(value.count))
            bytes += value
        }

        mutating func string(_ field: Int, _ value: String) { bytes(field, Array(value.utf8)) }

        mutating func message(_ field: Int, _ value: Message) { bytes(field, value.bytes) }

        private mutating func key(_ field: Int, wireType: UInt64) { raw(UInt64(field) << 3 | wireType) }

        private mutating func raw(_ value: UInt64) {
            var v = value
            while v >= 0x80 {
                bytes.append(UInt8(v & 0x7f) | 0x80)
                v >>= 7
            }
            bytes.append(UInt8(v))
        }
    }
}
