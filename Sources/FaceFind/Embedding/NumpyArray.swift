import Foundation

/// NumPy's `.npy` format (version 1.0) for a 2-D float32 array, so that embeddings load with `numpy.load`.
public enum NumpyArray {
    /// The file bytes of a `rows` x `columns` little-endian float32 array in C order.
    public static func float32(_ values: [Float], rows: Int, columns: Int) -> [UInt8] {
        float32(values, shape: [rows, columns])
    }

    /// The file bytes of a little-endian float32 array of `shape` in C order.
    public static func float32(_ values: [Float], shape: [Int]) -> [UInt8] {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        // Magic (6) + version (2) + header length (2) + header + "\n" is padded with spaces to a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let length = UInt16(header.utf8.count)
        bytes += [UInt8(length & 0xFF), UInt8(length >> 8)]
        bytes += Array(header.utf8)
        bytes.reserveCapacity(bytes.count + values.count * 4)
        for value in values {
            let bits = value.bitPattern.littleEndian
            withUnsafeBytes(of: bits) { bytes += $0 }
        }
        return bytes
    }
}
