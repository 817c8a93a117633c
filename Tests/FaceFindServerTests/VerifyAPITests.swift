import FaceFind
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import FaceFindServer

/// `POST /v1/verify` with real photos: two uploads, or an upload and a gallery image.
@Suite struct VerifyAPITests {
    static func form(_ photos: [String], fields: [String: String] = [:]) throws -> MultipartBody {
        var form = MultipartBody()
        for photo in photos {
            form.file("image", filename: URL(fileURLWithPath: photo).lastPathComponent, try Fixture.bytes(photo))
        }
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) { form.field(name, value) }
        return form
    }

    @Test func twoPhotosOfOnePersonAreTheSameAndOfTwoPeopleNot() async throws {
        try await Fixture.service().test { client in
            let same = try await client.post("/v1/verify", form: Self.form([Fixture.photo("Tiger_Woods", 1),
                                                                             Fixture.photo("Tiger_Woods", 5)]))
            #expect(same.status == .ok)
            let yes = try same.json(VerifyJSON.self)
            #expect(yes.samePerson && yes.similarity >= yes.threshold, "\(yes.similarity)")
            #expect(yes.embedder == "facenet512" && yes.falseAcceptRate == 1e-3)
            #expect(yes.threshold == ModelCatalog.spec(named: "facenet512")?.embedder?.matchThreshold)
            #expect(yes.first.name == "Tiger_Woods_0001.jpg" && !yes.first.faces.isEmpty)

            let different = try await client.post("/v1/verify", form: Self.form([Fixture.photo("Tiger_Woods", 1),
                                                                                  Fixture.photo("Nicole_Kidman", 5)]))
            let no = try different.json(VerifyJSON.self)
            #expect(!no.samePerson && no.similarity < no.threshold, "\(no.similarity)")

            // A threshold from the request: no calibrated false-accept rate to report.
            let strict = try await client.post("/v1/verify", form: Self.form(
                [Fixture.photo("Tiger_Woods", 1), Fixture.photo("Tiger_Woods", 5)], fields: ["threshold": "0.999"]))
            let strictJSON = try strict.json(VerifyJSON.self)
            #expect(!strictJSON.samePerson && strictJSON.threshold == 0.999 && strictJSON.falseAcceptRate == nil)
        }
    }

    @Test func aPhotoAgainstAGalleryImage() async throws {
        try await Fixture.service().test { client in
            let page = try await client.get("/v1/gallery?limit=200").json(GalleryPageJSON.self)
            let tiger = try #require(page.images.first { $0.label == "Tiger_Woods" })
            let kidman = try #require(page.images.first { $0.label == "Nicole_Kidman" })
            let same = try await client.post("/v1/verify?id=\(tiger.id)", form: Self.form([Fixture.query("Tiger_Woods")]))
            let yes = try same.json(VerifyJSON.self)
            #expect(yes.samePerson && yes.second.name == tiger.path, "relative path, as the gallery gives it")
            let other = try await client.post("/v1/verify", form: Self.form([Fixture.query("Tiger_Woods")],
                                                                           fields: ["id": "\(kidman.id)"]))
            #expect(try !other.json(VerifyJSON.self).samePerson)

            let missing = try await client.post("/v1/verify?id=99999", form: Self.form([Fixture.query("Tiger_Woods")]))
            #expect(missing.status == .notFound)
            let one = try await client.post("/v1/verify", form: Self.form([Fixture.query("Tiger_Woods")]))
            #expect(try one.error().code == "verify_needs_two")
            let three = try await client.post("/v1/verify", form: Self.form(
                [Fixture.query("Tiger_Woods"), Fixture.query("Tiger_Woods"), Fixture.query("Tiger_Woods")]))
            #expect(try three.error().code == "too_many_images")
            let badID = try await client.post("/v1/verify?id=abc", form: Self.form([Fixture.query("Tiger_Woods")]))
            #expect(try badID.error().code == "bad_id")
        }
    }

    @Test func embedGivesEveryFaceWithTheGallerysVectors() async throws {
        try await Fixture.service().test { client in
            let response = try await client.post("/v1/embed", form: Self.form([Fixture.photo("Tiger_Woods", 1)]))
            #expect(response.status == .ok)
            let embedded = try response.json(EmbedJSON.self)
            #expect(embedded.embedder == "facenet512" && embedded.width == 250 && !embedded.faces.isEmpty)
            let vector = try #require(embedded.faces.first?.embedding)
            #expect(vector.count == 512)
            #expect(abs(vector.reduce(0) { $0 + $1 * $1 } - 1) < 1e-3, "unit length")
            // The same vector the search uses: its best match is another photo of him.
            let search = try await client.search(Fixture.photo("Tiger_Woods", 1)).json(SearchJSON.self)
            #expect(search.results.first?.label == "Tiger_Woods")
            let nothing = try await client.post("/v1/embed", bytes: [], type: "image/jpeg")
            #expect(try nothing.error().code == "no_image")
        }
    }
}
