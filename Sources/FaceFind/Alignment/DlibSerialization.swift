import Foundation

/// Reads dlib's binary serialization (`dlib/serialize.h`), the format of dlib's `.dat` model files:
/// - an integer is one byte holding the number of magnitude bytes (low 4 bits) and the sign (bit 7), then the
///   magnitude, least significant byte first;
/// - a float is an integer mantissa and an integer exponent, the value `mantissa * 2^exponent` (exponents 32000,
///   32001 and 32002 stand for +infinity, -infinity and NaN);
/// - a `std::vector` is its length, then its elements;
/// - a `matrix` is its rows and columns (written negated by dlib since 2012, as a format mark), then its
///   elements row by row; a `dlib::vector<T,2>` is x then y.
/// Every read checks the bytes left, so that a truncated or foreign file is an error naming the offset, never
/// a crash or an allocation of a size read from the file.
struct DlibReader {
    let bytes: [UInt8]
    private(set) var offset = 0
    /// What is being read, for error messages.
    let source: String

    init(bytes: [UInt8], source: String) {
        self.bytes = bytes
        self.source = source
    }

    var isAtEnd: Bool { offset == bytes.count }

    func error(_ problem: String) -> ModelError {
        .invalidFile(path: source, reason: "\(problem) at byte \(offset) of \(bytes.count)")
    }

    mutating func integer() throws -> Int64 {
        guard offset < bytes.count else { throw error("the file ends inside an integer") }
        let control = bytes[offset]
        let size = Int(control & 0x0F)
        guard size <= 8, control & 0x70 == 0 else { throw error("an integer's control byte \(control) is not dlib's") }
        guard offset + 1 + size <= bytes.count else { throw error("the file ends inside an integer") }
        var magnitude: UInt64 = 0
        for i in 0..<size { magnitude |= UInt64(bytes[offset + 1 + i]) << (8 * UInt64(i)) }
        offset += 1 + size
        guard magnitude <= UInt64(Int64.max) else { throw error("an integer is out of range") }
        return control & 0x80 != 0 ? -Int64(magnitude) : Int64(magnitude)
    }

    /// An integer that must lie in `range` (a count, an index, a version).
    mutating func integer(in range: ClosedRange<Int>, _ what: String) throws -> Int {
        let value = try integer()
        guard value >= Int64(range.lowerBound), value <= Int64(range.upperBound) else {
            throw error("\(what) is \(value), expected \(range.lowerBound)...\(range.upperBound)")
        }
        return Int(value)
    }

    mutating func float() throws -> Float {
        let mantissa = try integer()
        let exponent = try integer()
        switch exponent {
        case 32000: return .infinity
        case 32001: return -.infinity
        case 32002: return .nan
        case -2000...2000: return Float(Double(mantissa) * pow(2, Double(exponent)))
        default: throw error("a float's exponent \(exponent) is out of range")
        }
    }

    /// A `std::vector` of at most `limit` elements.
    mutating func array<T>(limit: Int, _ what: String, element: (inout DlibReader) throws -> T) throws -> [T] {
        let count = try integer(in: 0...limit, "the length of \(what)")
        // Every element takes at least one byte: a length beyond the bytes left is a corrupt file.
        guard count <= bytes.count - offset else { throw error("\(what) claims \(count) elements") }
        var result: [T] = []
        result.reserveCapacity(count)
        for _ in 0..<count { result.append(try element(&self)) }
        return result
    }

    /// A column vector `matrix<float,0,1>` of at most `limit` rows.
    mutating func column(limit: Int, _ what: String) throws -> [Float] {
        var rows = try integer(), columns = try integer()
        if rows < 0 || columns < 0 { rows = -rows; columns = -columns }
        guard columns == 1 || rows == 0, rows <= Int64(limit) else {
            throw error("\(what) is a \(rows)x\(columns) matrix, expected a column of at most \(limit)")
        }
        guard rows <= Int64(bytes.count - offset) else { throw error("\(what) claims \(rows) rows") }
        return try (0..<Int(rows)).map { _ in try float() }
    }
}
