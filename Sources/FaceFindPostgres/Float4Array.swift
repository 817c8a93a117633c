import PostgresNIO

/// A vector sent as a binary `real[]` parameter (cast to `vector` or `halfvec` in SQL), written in one pass
/// over memory: postgres-nio's generic `[Float]` encoding goes element by element through its protocols,
/// which dominated the time of bulk loads.
package struct Float4Array: PostgresDynamicTypeEncodable {
    let values: ArraySlice<Float>

    package init(_ values: ArraySlice<Float>) { self.values = values }
    package init(_ values: [Float]) { self.values = values[...] }

    package var psqlType: PostgresDataType { .float4Array }
    package var psqlFormat: PostgresFormat { .binary }

    package func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer,
                                                  context: PostgresEncodingContext<JSONEncoder>) {
        // Array header: 1 dimension, no nulls, element type float4, length, lower bound 1.
        buffer.writeInteger(Int32(1))
        buffer.writeInteger(Int32(0))
        buffer.writeInteger(PostgresDataType.float4.rawValue)
        buffer.writeInteger(Int32(values.count))
        buffer.writeInteger(Int32(1))
        // Each element: its length (4) and its bits, big-endian.
        let bytes = values.count * 8
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bytes) { raw in
            values.withUnsafeBufferPointer { source in
                let length = Int32(4).bigEndian
                for i in 0..<source.count {
                    raw.storeBytes(of: length, toByteOffset: i &* 8, as: Int32.self)
                    raw.storeBytes(of: source[i].bitPattern.bigEndian, toByteOffset: i &* 8 &+ 4, as: UInt32.self)
                }
            }
            return bytes
        }
    }
}
