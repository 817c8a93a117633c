import FaceFind
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import FaceFindServer

/// `POST /v1/search` with real photos, through HummingbirdTesting's router client.
@Suite struct SearchAPITests {
    @Test func findsThePersonInTheQueryPhoto() async throws {
        try await Fixture.service().test { client in
            for person in Fixture.people {
                let response = try await client.search(Fixture.query(person), query: "?k=5")
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                let result = try response.json(SearchJSON.self)
                #expect(result.k == 5)
                #expect(result.results.count == 5)
                #expect(result.results.first?.label == person, "query \(person)")
                #expect(result.results.map(\.rank) == [1, 2, 3, 4, 5])
                #expect(result.query.width == 250 && result.query.height == 250)
                let face = try #require(result.faces.first)
                #expect(face.box.width > 40 && face.score > 0.5 && !face.wholeImage)
                #expect(face.landmarks?.count == 5)
                #expect(result.chosenFaces.count == 1)
                let best = try #require(result.results.first)
                #expect(!best.unknown && !result.unknown)
                #expect(best.thumbnail == "/v1/gallery/\(best.id)/thumbnail")
                #expect(best.width == 250 && best.box.width > 40)
                #expect(best.path.hasPrefix(person + "/" + person) && best.name.hasPrefix(person), "\(best.path)")
                // Cosine scores fall down the ranking.
                #expect(zip(result.results, result.results.dropFirst()).allSatisfy { $0.score >= $1.score })
            }
        }
    }

    @Test func acceptsTheRawBodyAndQueryParameters() async throws {
        let service = try Fixture.service()
        try await service.test { client in
            let photo = try Fixture.bytes(Fixture.query("Nicole_Kidman"))
            let response = try await client.post("/v1/search?k=3&metric=euclidean&filename=nk.jpg", bytes: photo,
                                                 type: "image/jpeg")
            #expect(response.status == .ok)
            let result = try response.json(SearchJSON.self)
            #expect(result.metric == .euclidean && result.k == 3 && result.query.name == "nk.jpg")
            // The default euclidean limit matches the cosine one for unit vectors: sqrt(2 - 2 cos).
            #expect(abs(result.threshold - (2 - 2 * service.engine.cosineThreshold).squareRoot()) < 1e-6)
            #expect(result.results.first?.label == "Nicole_Kidman")
            // Euclidean distances rise down the ranking.
            #expect(zip(result.results, result.results.dropFirst()).allSatisfy { $0.score <= $1.score })
            // No content type at all is taken as a raw image too.
            let untyped = try await client.post("/v1/search", bytes: photo, type: nil)
            #expect(untyped.status == .ok)
        }
    }

    @Test func flagsUnknownBelowTheThreshold() async throws {
        let service = try Fixture.service()
        // The embedder's measured threshold from the catalog, as `facefind search` uses.
        #expect(service.engine.cosineThreshold == ModelCatalog.spec(named: "facenet512")?.embedder?.matchThreshold)
        try await service.test { client in
            let strict = try await client.search(Fixture.photo("Tiger_Woods", 1), fields: ["threshold": "0.99"])
            let result = try strict.json(SearchJSON.self)
            #expect(result.unknown && result.threshold == 0.99)
            #expect(result.results.allSatisfy { $0.unknown })
            // With the default threshold the other people in the gallery are unknown, Tiger Woods is not.
            let normal = try await client.search(Fixture.photo("Tiger_Woods", 1), fields: ["k": "12"])
                .json(SearchJSON.self)
            #expect(!normal.unknown && normal.threshold == service.engine.cosineThreshold)
            #expect(normal.results.filter { $0.label != "Tiger_Woods" }.allSatisfy { $0.unknown })
        }
    }

    @Test func choosesTheQueryFace() async throws {
        // George_Robertson_0003 shows three people; it is in the gallery, so its own faces match it exactly.
        try await Fixture.service().test { client in
            let group = Fixture.photo("George_Robertson", 3)
            let largest = try await client.search(group).json(SearchJSON.self)
            #expect(largest.faces.count == 3)
            let biggest = largest.faces.max { $0.box.width * $0.box.height < $1.box.width * $1.box.height }
            #expect(largest.chosenFaces == [biggest?.index ?? -1])

            let all = try await client.search(group, fields: ["face": "all", "k": "3"]).json(SearchJSON.self)
            #expect(all.chosenFaces == [0, 1, 2])
            #expect(all.results.first?.name == "George_Robertson_0003.jpg")

            for index in 0..<3 {
                let one = try await client.search(group, query: "?face=\(index)").json(SearchJSON.self)
                #expect(one.chosenFaces == [index])
                #expect(one.results.allSatisfy { $0.queryFace == index })
                let top = try #require(one.results.first)
                #expect(top.name == "George_Robertson_0003.jpg" && top.score > 0.99)
                // The matched gallery face is the same face of the same photo.
                #expect(abs(top.box.x - one.faces[index].box.x) < 2 && abs(top.box.y - one.faces[index].box.y) < 2)
            }
        }
    }

    @Test func rejectsWhatIsNotAnImageWithTheReason() async throws {
        try await Fixture.service().test { client in
            let text = try await client.post("/v1/search", bytes: Array("hello world".utf8), type: "image/jpeg")
            #expect(text.status == .badRequest)
            let error = try text.error()
            #expect(error.status == 400 && error.code == "not_an_image")
            #expect(error.message.contains("not a JPEG, PNG, WebP, HEIC or AVIF image"))

            var gif = MultipartBody()
            gif.file("image", filename: "cat.gif", type: "image/gif", Array("GIF89a\u{1}\u{0}\u{1}\u{0}".utf8))
            let gifError = try await client.post("/v1/search", form: gif).error()
            #expect(gifError.status == 400 && gifError.message.contains("cat.gif") && gifError.message.contains("GIF"))

            let truncated = Array(try Fixture.bytes(Fixture.photo("Tiger_Woods", 1)).prefix(600))
            let truncatedError = try await client.post("/v1/search", bytes: truncated, type: "image/jpeg")
            #expect(truncatedError.status == .badRequest)

            let empty = try await client.post("/v1/search", bytes: [], type: "image/jpeg")
            #expect(try empty.error().code == "no_image")

            var noImage = MultipartBody()
            noImage.field("k", "3")
            #expect(try await client.post("/v1/search", form: noImage).error().code == "no_image")

            var two = MultipartBody()
            let photo = try Fixture.bytes(Fixture.photo("Tiger_Woods", 1))
            two.file("image", filename: "a.jpg", photo)
            two.file("image", filename: "b.jpg", photo)
            #expect(try await client.post("/v1/search", form: two).error().code == "too_many_images")

            let broken = try await client.post("/v1/search", bytes: Array("--x\r\nnonsense".utf8),
                                               type: "multipart/form-data; boundary=x")
            #expect(try broken.error().code == "bad_multipart")
        }
    }

    @Test func rejectsBadParameters() async throws {
        try await Fixture.service().test { client in
            let photo = Fixture.photo("Tiger_Woods", 1)
            for (field, value) in [("k", "0"), ("k", "101"), ("k", "ten"), ("metric", "manhattan"),
                                   ("face", "biggest"), ("face", "-1"), ("threshold", "high"), ("threshold", "nan")] {
                let response = try await client.search(photo, fields: [field: value])
                #expect(response.status == .badRequest, "\(field)=\(value)")
                let error = try response.error()
                #expect(error.code == "bad_parameter" && error.message.contains(field), "\(field)=\(value)")
            }
            let missingFace = try await client.search(photo, fields: ["face": "7"])
            #expect(missingFace.status == .badRequest)
            #expect(try missingFace.error().message.contains("1 face(s)"))
        }
    }

    @Test func enforcesBodyAndPixelLimits() async throws {
        let service = try Fixture.service { $0.maxBodyBytes = 20_000; $0.maxPixels = 200 * 200 }
        try await service.test { client in
            let oversized = ByteBuffer(bytes: [UInt8](repeating: 0xFF, count: 30_000))
            // 413 from Content-Length, before the body is read.
            let declared = try await client.execute(uri: "/v1/search", method: .post,
                                                    headers: [.contentType: "image/jpeg", .contentLength: "30000"],
                                                    body: oversized)
            #expect(declared.status == .contentTooLarge)
            let early = try declared.error()
            #expect(early.code == "too_large" && early.message.contains("30000 bytes"))
            // The same body without a length (the test client always adds one): refused while reading.
            let chunked = Request(head: HTTPRequest(method: .post, scheme: nil, authority: nil, path: "/v1/search",
                                                    headerFields: [.contentType: "image/jpeg"]),
                                  body: RequestBody(buffer: oversized))
            let refused = await #expect(throws: APIError.self) {
                try await UploadRequest.read(chunked, configuration: service.configuration,
                                             limits: BodyLimits(service.configuration)) { _ in }
            }
            #expect(refused?.status == .contentTooLarge)
            #expect(refused?.message.contains("larger than the limit of 20000 bytes") == true)
            // The lfw photos are 250x250 = 62,500 pixels: over this server's 40,000.
            let pixels = try await client.search(Fixture.photo("Tiger_Woods", 1))
            #expect(pixels.status == .contentTooLarge)
            #expect(try pixels.error().message.contains("exceeds the limit"))
        }
    }

    @Test func rejectsUnsupportedMediaTypes() async throws {
        try await Fixture.service().test { client in
            for type in ["application/json", "text/plain", "application/x-www-form-urlencoded", "image/gif"] {
                let response = try await client.post("/v1/search", bytes: Array("{}".utf8), type: type)
                #expect(response.status == .unsupportedMediaType, "\(type)")
                let error = try response.error()
                #expect(error.code == "unsupported_media_type" && error.message.contains(type), "\(type)")
            }
        }
    }

    @Test func answers503WithRetryAfterWhenTheQueueIsFull() async throws {
        let service = try Fixture.service { $0.inferenceWorkers = 1; $0.queueCapacity = 0; $0.retryAfterSeconds = 2 }
        try await service.test { client in
            let photo = Fixture.photo("Tiger_Woods", 1)
            do {
                // Hold the only place in the queue, as a long-running request would.
                let held = try service.inference.admit()
                let rejected = try await client.search(photo)
                #expect(rejected.status == .serviceUnavailable)
                #expect(rejected.headers[.retryAfter] == "2")
                #expect(try rejected.error().code == "overloaded")
                var add = MultipartBody()
                add.file("image", filename: "t.jpg", try Fixture.bytes(photo))
                #expect(try await client.post("/v1/gallery", form: add, key: Fixture.apiKey).status == .serviceUnavailable)
                // Reads run on the other queue and still answer.
                #expect(try await client.get("/v1/gallery").status == .ok)
                let metrics = try await client.get("/metrics").text
                #expect(metrics.contains("facefind_queue_rejected_total{queue=\"inference\"} 2"))
                #expect(metrics.contains("facefind_queue_depth{queue=\"inference\"} 1.0"))
                #expect(metrics.contains("facefind_queue_admitted_total{queue=\"inference\"} 1"), "only the held place")
                withExtendedLifetime(held) {}
            }
            // The place is given back when the admission is dropped: the next search gets in.
            #expect(try await client.search(photo).status == .ok)
        }
    }
}
