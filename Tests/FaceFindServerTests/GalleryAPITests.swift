import FaceFind
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import FaceFindServer

/// The gallery endpoints: list, get, thumbnail, add, delete.
@Suite struct GalleryAPITests {
    @Test func listsInPages() async throws {
        try await Fixture.service().test { client in
            let first = try await client.get("/v1/gallery?limit=5").json(GalleryPageJSON.self)
            #expect(first.total == 12 && first.images.count == 5 && first.offset == 0 && first.nextOffset == 5)
            let last = try await client.get("/v1/gallery?offset=10&limit=5").json(GalleryPageJSON.self)
            #expect(last.images.count == 2 && last.nextOffset == nil)
            let all = try await client.get("/v1/gallery").json(GalleryPageJSON.self)
            #expect(all.limit == 24 && all.images.count == 12)
            #expect(Set(all.images.map(\.label)) == Set(Fixture.people))
            #expect(all.images.allSatisfy { $0.faces == nil && $0.faceCount >= 1 && $0.error == nil })
            #expect(Set(all.images.map(\.id)).count == 12)
            for bad in ["limit=0", "limit=201", "offset=-1", "limit=x"] {
                let response = try await client.get("/v1/gallery?\(bad)")
                #expect(response.status == .badRequest, "\(bad)")
            }
        }
    }

    @Test func getsOneImageWithItsFaces() async throws {
        try await Fixture.service().test { client in
            let page = try await client.get("/v1/gallery").json(GalleryPageJSON.self)
            let group = try #require(page.images.first { $0.name == "George_Robertson_0003.jpg" })
            let image = try await client.get("/v1/gallery/\(group.id)").json(ImageJSON.self)
            #expect(image.faces?.count == 3 && image.faceCount == 3)
            #expect(image.faces?.map(\.index) == [0, 1, 2])
            #expect(image.label == "George_Robertson" && image.width == 250 && image.sha256.count == 64)

            let missing = try await client.get("/v1/gallery/99999")
            #expect(missing.status == .notFound)
            #expect(try missing.error().code == "not_found")
            #expect(try await client.get("/v1/gallery/abc").status == .badRequest)
            #expect(try await client.get("/v1/gallery/0").status == .badRequest)
        }
    }

    @Test func servesThumbnails() async throws {
        try await Fixture.service().test { client in
            let page = try await client.get("/v1/gallery?limit=1").json(GalleryPageJSON.self)
            let id = try #require(page.images.first?.id)
            let response = try await client.get("/v1/gallery/\(id)/thumbnail?size=100")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "image/jpeg")
            let thumbnail = try ImageDecoder().decode(Array(response.body.readableBytesView), name: "thumbnail")
            #expect(thumbnail.width == 100 && thumbnail.height == 100)
            let etag = try #require(response.headers[.eTag])
            let again = try await client.get("/v1/gallery/\(id)/thumbnail?size=100", headers: [.ifNoneMatch: etag])
            #expect(again.status == .notModified && again.body.readableBytes == 0)
            // The default size keeps a 250 px photo at 250 px (never enlarged).
            let full = try await client.get("/v1/gallery/\(id)/thumbnail")
            #expect(try ImageDecoder().decode(Array(full.body.readableBytesView), name: "t").width == 250)
            #expect(try await client.get("/v1/gallery/99999/thumbnail").status == .notFound)
            #expect(try await client.get("/v1/gallery/\(id)/thumbnail?size=5000").status == .badRequest)
        }
    }

    @Test func writesNeedTheKey() async throws {
        try await Fixture.service().test { client in
            var form = MultipartBody()
            form.file("image", filename: "t.jpg", try Fixture.bytes(Fixture.photo("Tiger_Woods", 5)))
            let none = try await client.post("/v1/gallery", form: form)
            #expect(none.status == .unauthorized)
            #expect(none.headers[.wwwAuthenticate] != nil)
            #expect(try none.error().code == "unauthorized")
            #expect(try await client.post("/v1/gallery", form: form, key: "wrong").status == .unauthorized)
            let delete = try await client.execute(uri: "/v1/gallery/1", method: .delete)
            #expect(delete.status == .unauthorized)
            let bearer = try await client.execute(uri: "/v1/gallery/1", method: .delete,
                                                  headers: [.authorization: "Bearer wrong"])
            #expect(bearer.status == .unauthorized)
            #expect(try await client.get("/v1/gallery").json(GalleryPageJSON.self).total == 12)
        }
    }

    @Test func addsSearchableImagesAndDeletesThem() async throws {
        let service = try Fixture.service()
        let uploads = service.configuration.uploadsDirectory
        try await service.test { client in
            // Two new photos of a person not yet in the gallery, in one request.
            var form = MultipartBody()
            form.field("name", "Jennifer Aniston")
            for n in [2, 3] {
                form.file("image", filename: "Jennifer_Aniston_000\(n).jpg",
                          try Fixture.bytes(Fixture.photo("Jennifer_Aniston", n)))
            }
            let response = try await client.post("/v1/gallery", form: form, key: Fixture.apiKey)
            #expect(response.status == .created)
            let added = try response.json(AddedJSON.self).added
            #expect(added.count == 2)
            // Paths relative to the gallery: an upload is `uploads/<name>/<file>`, nothing of the server's folders.
            #expect(added.allSatisfy { $0.label == "Jennifer Aniston" && $0.faceCount == 1
                                       && $0.path.hasPrefix("uploads/Jennifer Aniston/") })
            #expect(added.map(\.name) == ["Jennifer_Aniston_0002.jpg", "Jennifer_Aniston_0003.jpg"])
            func file(_ image: ImageJSON) -> String { uploads + "/" + image.path.dropFirst("uploads/".count) }
            #expect(added.allSatisfy { FileManager.default.fileExists(atPath: file($0)) })

            // Searchable at once: her first photo now finds the new ones.
            let found = try await client.search(Fixture.photo("Jennifer_Aniston", 1), query: "?k=2").json(SearchJSON.self)
            #expect(Set(found.results.map(\.id)) == Set(added.map(\.id)))
            #expect(found.results.allSatisfy { $0.label == "Jennifer Aniston" })

            // A raw-body add with the name in the query string; sending the same photo again replaces it.
            let raw = try Fixture.bytes(Fixture.photo("Jennifer_Aniston", 4))
            let one = try await client.post("/v1/gallery?name=Jennifer%20Aniston&filename=ja4.jpg", bytes: raw,
                                            type: "image/jpeg", key: Fixture.apiKey)
            #expect(one.status == .created)
            #expect(try one.json(AddedJSON.self).added.first?.name == "ja4.jpg")
            _ = try await client.post("/v1/gallery?name=Jennifer%20Aniston&filename=ja4.jpg", bytes: raw,
                                      type: "image/jpeg", key: Fixture.apiKey)
            #expect(try await client.get("/v1/gallery").json(GalleryPageJSON.self).total == 15)

            // Delete: gone from the list, the search and the uploads folder.
            let victim = added[0]
            let deleted = try await client.execute(uri: "/v1/gallery/\(victim.id)", method: .delete,
                                                   headers: [.apiKey: Fixture.apiKey])
            #expect(deleted.status == .ok)
            #expect(try deleted.json(DeletedJSON.self).deleted == victim.id)
            #expect(try await client.get("/v1/gallery/\(victim.id)").status == .notFound)
            #expect(try await client.get("/v1/gallery/\(victim.id)/thumbnail").status == .notFound)
            #expect(!FileManager.default.fileExists(atPath: file(victim)))
            let after = try await client.search(Fixture.photo("Jennifer_Aniston", 1)).json(SearchJSON.self)
            #expect(!after.results.contains { $0.id == victim.id })
            let again = try await client.execute(uri: "/v1/gallery/\(victim.id)", method: .delete,
                                                 headers: [.authorization: "Bearer \(Fixture.apiKey)"])
            #expect(again.status == .notFound)
        }
        // Every change updated the search in place: the gallery was loaded once, at start, and the search it
        // answers is the one of a server that loads the changed gallery afresh.
        #expect(service.engine.index.loadsOfTheWholeGallery == 1)
        let fresh = try FaceFindService(store: try SQLiteGalleryStore(path: service.engine.store.name),
                                        loader: try Fixture.loader(), configuration: service.configuration)
        try Self.expectSameAnswers(service, fresh, scoreTolerance: 0)
    }

    /// `a` and `b` count the same gallery and rank every test query alike: the same photos, scores within
    /// `scoreTolerance`.
    static func expectSameAnswers(_ a: FaceFindService, _ b: FaceFindService, scoreTolerance: Float) throws {
        #expect(a.engine.index.counts == b.engine.index.counts)
        for query in [Fixture.photo("Jennifer_Aniston", 1)] + Fixture.people.map(Fixture.query) {
            let upload = ImageUpload(name: "q.jpg", bytes: try Fixture.bytes(query))
            let options = SearchOptions(k: 20, metric: .cosine, face: .choice(.largest), threshold: nil)
            let first = try a.engine.search(upload, options: options, waited: 0).results
            let second = try b.engine.search(upload, options: options, waited: 0).results
            #expect(first.map(\.id) == second.map(\.id), "\(query)")
            for (x, y) in zip(first, second) { #expect(abs(x.score - y.score) <= scoreTolerance, "\(query)") }
        }
    }

    /// A gallery that keeps a vector file (`index --vector-file`) is served from it, never loaded, follows adds and
    /// deletes in place, and answers as a server that loads every vector does.
    @Test func aVectorFileIsServedAndFollowsChanges() async throws {
        let (db, uploads) = try Fixture.gallery()
        try GalleryVectorFile.build(store: try SQLiteGalleryStore(path: db), precision: .float32)
        let service = try FaceFindService(store: try SQLiteGalleryStore(path: db), loader: try Fixture.loader(),
                                          configuration: Fixture.configuration(uploads: uploads))
        func servedFromTheFile() -> Bool {
            guard let live = service.engine.index.current as? LiveGallerySearch, case .file = live.base else { return false }
            return true
        }
        #expect(servedFromTheFile())
        try await service.test { client in
            var form = MultipartBody()
            form.field("name", "Jennifer Aniston")
            for n in [2, 3] {
                form.file("image", filename: "Jennifer_Aniston_000\(n).jpg", try Fixture.bytes(Fixture.photo("Jennifer_Aniston", n)))
            }
            let added = try await client.post("/v1/gallery", form: form, key: Fixture.apiKey).json(AddedJSON.self).added
            #expect(added.count == 2)
            let found = try await client.search(Fixture.photo("Jennifer_Aniston", 1), query: "?k=2").json(SearchJSON.self)
            #expect(Set(found.results.map(\.id)) == Set(added.map(\.id)))
            // An indexed photo (in the file) deleted: passed over from the next search.
            let indexed = try await client.search(Fixture.query("Tiger_Woods")).json(SearchJSON.self)
            let victim = try #require(indexed.results.first)
            let deleted = try await client.execute(uri: "/v1/gallery/\(victim.id)", method: .delete,
                                                   headers: [.apiKey: Fixture.apiKey])
            #expect(deleted.status == .ok)
            let after = try await client.search(Fixture.query("Tiger_Woods")).json(SearchJSON.self)
            #expect(!after.results.contains { $0.id == victim.id } && !after.results.isEmpty)
        }
        #expect(servedFromTheFile() && service.engine.index.loadsOfTheWholeGallery == 1)

        // The same answers as a server that loads every vector of the changed gallery.
        try FileManager.default.removeItem(atPath: db + ".vectors")
        let loaded = try FaceFindService(store: try SQLiteGalleryStore(path: db), loader: try Fixture.loader(),
                                         configuration: service.configuration)
        try Self.expectSameAnswers(service, loaded, scoreTolerance: 1e-5)
    }

    @Test func deletingAnIndexedPhotoLeavesItsFile() async throws {
        try await Fixture.service().test { client in
            let page = try await client.get("/v1/gallery?limit=1").json(GalleryPageJSON.self)
            let image = try #require(page.images.first)
            let response = try await client.execute(uri: "/v1/gallery/\(image.id)", method: .delete,
                                                    headers: [.apiKey: Fixture.apiKey])
            #expect(response.status == .ok)
            // The photo belongs to the user's collection (here ../shared): only uploads are deleted.
            #expect(Fixture.people.contains { image.path.hasPrefix($0 + "/") }, "relative: \(image.path)")
            #expect(FileManager.default.fileExists(atPath: Fixture.lfw + "/" + image.path))
        }
    }

    @Test func pathsAreRelativeToTheGalleryUnlessExposed() async throws {
        try await Fixture.service().test { client in
            let page = try await client.get("/v1/gallery?limit=200").json(GalleryPageJSON.self)
            #expect(page.images.count == 12)
            #expect(page.images.allSatisfy { !$0.path.hasPrefix("/") && !$0.path.contains("shared") })
            let found = try await client.search(Fixture.query("Tiger_Woods")).json(SearchJSON.self)
            #expect(found.results.first?.path.hasPrefix("Tiger_Woods/Tiger_Woods_000") == true)
            #expect(found.results.allSatisfy { !$0.path.hasPrefix("/") })
            let one = try await client.get("/v1/gallery/\(page.images[0].id)").json(ImageJSON.self)
            #expect(one.path == page.images[0].path)
        }
        try await Fixture.service { $0.exposePaths = true }.test { client in
            let page = try await client.get("/v1/gallery?limit=200").json(GalleryPageJSON.self)
            #expect(page.images.count == 12 && page.images.allSatisfy { $0.path.hasPrefix(Fixture.lfw + "/") })
            let found = try await client.search(Fixture.query("Tiger_Woods")).json(SearchJSON.self)
            #expect(found.results.first.map { $0.path.hasPrefix(Fixture.lfw + "/Tiger_Woods/") } == true)
        }
    }

    @Test func onlyTheImageFieldCarriesAPhoto() async throws {
        try await Fixture.service().test { client in
            let photo = try Fixture.bytes(Fixture.photo("Tiger_Woods", 5))
            var search = MultipartBody()
            search.file("foo", filename: "photo.jpg", photo)
            let refused = try await client.post("/v1/search", form: search)
            #expect(refused.status == .badRequest)
            let error = try refused.error()
            #expect(error.code == "unexpected_file_field")
            #expect(error.message.contains("`foo`") && error.message.contains("`image`"))

            var add = MultipartBody()
            add.field("name", "Foo")
            add.file("image", filename: "a.jpg", photo)
            add.file("photo", filename: "b.jpg", photo)
            let addRefused = try await client.post("/v1/gallery", form: add, key: Fixture.apiKey)
            #expect(try addRefused.error().code == "unexpected_file_field")
            #expect(try await client.get("/v1/gallery").json(GalleryPageJSON.self).total == 12, "nothing added")
        }
    }

    @Test func aDeleteThatCannotRemoveTheUploadSaysSoAndKeepsTheImage() async throws {
        let service = try Fixture.service()
        let uploads = service.configuration.uploadsDirectory
        try await service.test { client in
            let raw = try Fixture.bytes(Fixture.photo("Jennifer_Aniston", 2))
            let added = try await client.post("/v1/gallery?name=Jen", bytes: raw, type: "image/jpeg", key: Fixture.apiKey)
            let image = try #require(try added.json(AddedJSON.self).added.first)
            let file = uploads + "/" + image.path.dropFirst("uploads/".count)
            // A file that cannot be removed, even by root: a non-empty directory now stands in its place.
            try FileManager.default.removeItem(atPath: file)
            try FileManager.default.createDirectory(atPath: file + "/inside", withIntermediateDirectories: true)
            let refused = try await client.execute(uri: "/v1/gallery/\(image.id)", method: .delete,
                                                   headers: [.apiKey: Fixture.apiKey])
            #expect(refused.status == .internalServerError)
            let error = try refused.error()
            #expect(error.code == "file_not_removed" && error.message.contains("directory"))
            #expect(try await client.get("/v1/gallery/\(image.id)").status == .ok, "the image stays")

            try FileManager.default.removeItem(atPath: file)
            let deleted = try await client.execute(uri: "/v1/gallery/\(image.id)", method: .delete,
                                                   headers: [.apiKey: Fixture.apiKey])
            #expect(deleted.status == .ok, "a file already gone does not block the delete")
            #expect(try await client.get("/v1/gallery/\(image.id)").status == .notFound)
        }
    }

    @Test func addsAllOrNothing() async throws {
        let service = try Fixture.service()
        try await service.test { client in
            var form = MultipartBody()
            form.field("name", "Mixed")
            form.file("image", filename: "good.jpg", try Fixture.bytes(Fixture.photo("Tiger_Woods", 5)))
            form.file("image", filename: "notes.txt", type: "text/plain", Array("not a photo".utf8))
            let response = try await client.post("/v1/gallery", form: form, key: Fixture.apiKey)
            #expect(response.status == .badRequest)
            let error = try response.error()
            #expect(error.code == "not_an_image" && error.message.contains("notes.txt"))
            #expect(try await client.get("/v1/gallery").json(GalleryPageJSON.self).total == 12)
            let folder = service.configuration.uploadsDirectory + "/Mixed"
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).isEmpty)

            let tiny = RGBImage(width: 8, height: 8, fill: .grey)
            let small = try await client.post("/v1/gallery", bytes: try tiny.pngData(), type: "image/png",
                                              key: Fixture.apiKey)
            #expect(small.status == .badRequest)
            #expect(try small.error().code == "too_small")
            let json = try await client.post("/v1/gallery", bytes: Array("{}".utf8), type: "application/json",
                                             key: Fixture.apiKey)
            #expect(json.status == .unsupportedMediaType)
        }
    }

    @Test func startsAnEmptyGalleryWithTheDefaultModels() async throws {
        let folder = try Fixture.temporaryFolder("empty")
        let store = try SQLiteGalleryStore(path: folder + "/new.sqlite")
        let service = try FaceFindService(store: store, loader: try Fixture.loader(),
                                          configuration: Fixture.configuration(uploads: folder + "/uploads"))
        #expect(try store.settings()?.embedder == PipelineConfiguration.defaultEmbedder)
        try await service.test { client in
            let empty = try await client.search(Fixture.photo("Tiger_Woods", 1)).json(SearchJSON.self)
            #expect(empty.results.isEmpty && empty.unknown && empty.faces.count == 1)
            let raw = try Fixture.bytes(Fixture.photo("Tiger_Woods", 2))
            let added = try await client.post("/v1/gallery?name=Tiger", bytes: raw, type: "image/jpeg",
                                              key: Fixture.apiKey)
            #expect(added.status == .created)
            let found = try await client.search(Fixture.photo("Tiger_Woods", 1)).json(SearchJSON.self)
            #expect(found.results.first?.label == "Tiger" && found.results.first?.unknown == false)
        }
    }
}
