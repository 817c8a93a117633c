import Foundation
import Testing

@testable import FaceFindMultipart
@testable import FaceFindServer

@Suite struct MultipartTests {
    @Test func readsFieldsAndFiles() throws {
        var form = MultipartBody()
        form.field("k", "5")
        form.file("image", filename: "a b;c.jpg", [0xFF, 0xD8, 0xFF, 0x0D, 0x0A, 0x2D, 0x2D])
        form.field("name", "Zoë")
        let boundary = try #require(Multipart.boundary(contentType: form.contentType))
        let parts = try Multipart.parse(form.finished, boundary: boundary)
        #expect(parts.map(\.name) == ["k", "image", "name"])
        #expect(parts[0].text == "5" && parts[0].filename == nil)
        #expect(parts[1].filename == "a b;c.jpg" && parts[1].contentType == "image/jpeg")
        // Bytes that look like line breaks and dashes inside a file stay in it.
        #expect(Array(parts[1].body) == [0xFF, 0xD8, 0xFF, 0x0D, 0x0A, 0x2D, 0x2D])
        #expect(parts[2].text == "Zoë")
    }

    @Test func understandsContentTypes() {
        #expect(Multipart.boundary(contentType: "multipart/form-data; boundary=\"a:b\"") == "a:b")
        #expect(Multipart.boundary(contentType: "Multipart/Form-Data;boundary=xyz") == "xyz")
        #expect(Multipart.boundary(contentType: "multipart/form-data") == nil)
        #expect(Multipart.boundary(contentType: "image/jpeg") == nil)
        let (type, parameters) = MediaType.parse(
            "form-data; name=\"image\"; filename=\"x.jpg\"; filename*=UTF-8''%C3%A9t%C3%A9.jpg")
        #expect(type == "form-data" && parameters["name"] == "image" && parameters["filename"] == "été.jpg")
    }

    @Test func rejectsBrokenBodies() {
        for body in ["no boundary here", "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nunterminated",
                     "--b\r\nheaders without end", "--bgarbage"] {
            #expect(throws: MultipartError.self, "\(body)") { try Multipart.parse(Array(body.utf8), boundary: "b") }
        }
        let empty = try? Multipart.parse(Array("--b--\r\n".utf8), boundary: "b")
        #expect(empty?.isEmpty == true)
    }

    @Test func sanitizesNames() {
        #expect(Engine.sanitize("../../etc/passwd", fallback: "x") == "_.._etc_passwd")
        #expect(Engine.sanitize("  Ada Lovelace ", fallback: "x") == "Ada Lovelace")
        #expect(Engine.sanitize("...", fallback: "unnamed") == "unnamed")
        #expect(Engine.sanitize("a\u{0}b\nc", fallback: "x") == "a_b_c")
        #expect(Engine.sanitize(String(repeating: "n", count: 300), fallback: "x").count == 100)
    }
}
