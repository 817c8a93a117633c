import Foundation

/// A malformed multipart/form-data body: what is wrong, for a 400 answer.
public struct MultipartError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// One part of a multipart/form-data body.
public struct MultipartPart: Sendable {
    /// The form field name (`image`, `k`, `name`...).
    public var name: String
    /// The file name the client sent, for file fields.
    public var filename: String?
    public var contentType: String?
    public var body: ArraySlice<UInt8>

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// A small multipart/form-data reader (RFC 7578), enough for browsers, curl and HTTP libraries. Hummingbird
/// has none built in, and the whole body is already in memory under the size limit, so a one-pass parse over
/// the bytes is simplest. A module of its own, free of the server's dependencies, so that it can be fuzzed
/// (`Fuzz/`) without building an HTTP stack.
public enum Multipart {
    /// The boundary parameter of a `multipart/form-data` content type, nil for other types.
    public static func boundary(contentType: String) -> String? {
        let (type, parameters) = MediaType.parse(contentType)
        guard type == "multipart/form-data", let boundary = parameters["boundary"], !boundary.isEmpty,
              boundary.utf8.count <= 200 else { return nil }
        return boundary
    }

    public static func parse(_ body: [UInt8], boundary: String, maxParts: Int = 256) throws -> [MultipartPart] {
        let delimiter = Array("--\(boundary)".utf8)
        let crlf: [UInt8] = [13, 10]
        guard var position = find(delimiter, in: body, from: 0) else {
            throw MultipartError("multipart body has no boundary line --\(boundary)")
        }
        var parts: [MultipartPart] = []
        while true {
            position += delimiter.count
            // "--" after a delimiter closes the body.
            if body.count >= position + 2, body[position] == 45, body[position + 1] == 45 { return parts }
            // Transport padding (spaces/tabs) may follow the delimiter before the line break.
            while position < body.count, body[position] == 32 || body[position] == 9 { position += 1 }
            guard body.count >= position + 2, Array(body[position..<position + 2]) == crlf else {
                throw MultipartError("multipart body is truncated or malformed")
            }
            position += 2
            guard let headerEnd = find([13, 10, 13, 10], in: body, from: position) else {
                throw MultipartError("multipart part without a blank line after its headers")
            }
            let headers = parseHeaders(body[position..<headerEnd])
            let contentStart = headerEnd + 4
            guard let next = find(crlf + delimiter, in: body, from: contentStart) else {
                throw MultipartError("multipart body ends before its closing boundary")
            }
            guard let disposition = headers["content-disposition"] else {
                throw MultipartError("multipart part without Content-Disposition")
            }
            let (kind, parameters) = MediaType.parse(disposition)
            if kind == "form-data", let name = parameters["name"] {
                parts.append(MultipartPart(name: name, filename: parameters["filename"],
                                           contentType: headers["content-type"], body: body[contentStart..<next]))
                if parts.count > maxParts {
                    throw MultipartError("multipart body has more than \(maxParts) parts")
                }
            }
            position = next + 2
        }
    }

    /// Header lines as lower-cased name → value.
    private static func parseHeaders(_ bytes: ArraySlice<UInt8>) -> [String: String] {
        var headers: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return headers
    }

    /// The first index of `needle` in `haystack` at or after `from`.
    public static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        let last = haystack.count - needle.count
        var i = from
        return haystack.withUnsafeBufferPointer { h in
            needle.withUnsafeBufferPointer { n in
                while i <= last {
                    if h[i] == first {
                        var j = 1
                        while j < n.count && h[i + j] == n[j] { j += 1 }
                        if j == n.count { return i }
                    }
                    i += 1
                }
                return nil
            }
        }
    }
}

/// Media type strings: `type/subtype; a=b; c="d e"`.
public enum MediaType {
    /// The lower-cased type and its parameters (names lower-cased, quotes and escapes removed;
    /// RFC 5987 `name*=UTF-8''...` values percent-decoded and stored under `name`).
    public static func parse(_ value: String) -> (type: String, parameters: [String: String]) {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for character in value {
            if escaped { current.append(character); escaped = false; continue }
            if quoted && character == "\\" { current.append(character); escaped = true; continue }
            if character == "\"" { quoted.toggle() }
            if character == ";" && !quoted { fields.append(current); current = ""; continue }
            current.append(character)
        }
        fields.append(current)
        let type = fields[0].trimmingCharacters(in: .whitespaces).lowercased()
        var parameters: [String: String] = [:]
        for field in fields.dropFirst() {
            guard let equals = field.firstIndex(of: "=") else { continue }
            var name = field[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var text = field[field.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") {
                text = String(text.dropFirst().dropLast())
                    .replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\\\", with: "\\")
            }
            if name.hasSuffix("*") {
                name.removeLast()
                if let quote = text.range(of: "''") { text = String(text[quote.upperBound...]) }
                text = text.removingPercentEncoding ?? text
            } else if parameters[name] != nil {
                continue  // a decoded `name*` wins over the plain fallback
            }
            parameters[name] = text
        }
        return (type, parameters)
    }
}
