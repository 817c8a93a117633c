// Fuzzes the multipart/form-data reader. The first line of the input (up to "\n", at most 300 bytes) is the
// Content-Type header value, from which Multipart.boundary(contentType:) takes the boundary (MediaType.parse);
// the rest is the body. When the header yields no boundary, "b" is used so the body is still parsed.
import FaceFindMultipart
import Foundation
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let newline = input.prefix(300).firstIndex(of: 10)
    let header = String(decoding: input[..<(newline ?? 0)], as: UTF8.self)
    let body = Array(input[(newline.map { $0 + 1 } ?? 0)...])
    let boundary = Multipart.boundary(contentType: header)
    if let boundary { precondition(!boundary.isEmpty && boundary.utf8.count <= 200) }
    do {
        let parts = try Multipart.parse(body, boundary: boundary ?? "b", maxParts: 8)
        precondition(parts.count <= 8, "more parts than maxParts")
        for part in parts {
            precondition(part.body.startIndex >= 0 && part.body.endIndex <= body.count)
            _ = part.text
            if let type = part.contentType { _ = MediaType.parse(type) }
        }
    } catch let error as MultipartError {
        precondition(!error.description.isEmpty)
    } catch {
        preconditionFailure("unexpected error type \(type(of: error))")
    }
    return 0
}

/// libFuzzer's driver, or (FUZZ_REPLAY builds) a replay of the files given as arguments.
@main
enum Main {
    static func main() { FuzzSupport.main(fuzz) }
}
