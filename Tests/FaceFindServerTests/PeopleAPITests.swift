import FaceFind
import FaceFindPostgres
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import FaceFindServer

/// `/v1/people`: the persons of the test gallery (four people, three photos each), clustered by the library as
/// `facefind people cluster` does, listed, opened, renamed, hidden and merged through the API, over a SQLite
/// index and over a PostgreSQL store (`$FACEFIND_TEST_POSTGRES_URL`).
@Suite struct PeopleAPITests {
    enum Store: String, CaseIterable { case sqlite, postgres }

    /// A service over a fresh copy of the test gallery on `kind`, its faces clustered into persons; `cleanUp`
    /// drops a PostgreSQL schema.
    static func clusteredService(on kind: Store = .sqlite, _ name: String = #function) throws
        -> (service: FaceFindService, cleanUp: () -> Void) {
        switch kind {
        case .sqlite:
            let (db, uploads) = try Fixture.gallery(name)
            let store = try SQLiteGalleryStore(path: db)
            _ = try PeopleClustering.clusterGallery(store)
            return (try FaceFindService(store: store, loader: try Fixture.loader(),
                                       configuration: Fixture.configuration(uploads: uploads)), {})
        case .postgres:
            let store = try PostgresServeTests.postgresGallery(name).store
            _ = try PeopleClustering.clusterGallery(store)
            let uploads = try Fixture.temporaryFolder("pg-people") + "/uploads"
            return (try FaceFindService(store: store, searcher: store, loader: try Fixture.loader(),
                                        configuration: Fixture.configuration(uploads: uploads)), { try? store.destroy() })
        }
    }

    @Test(arguments: Store.allCases)
    func listsOpensRenamesHidesAndMerges(store: Store) async throws {
        let (service, cleanUp) = try Self.clusteredService(on: store)
        defer { cleanUp() }
        try await service.test { client in
            let people = try await client.get("/v1/people").json([PersonJSON].self)
            // Each of the four people is one person of their three photos (a fifth face may stay alone: the
            // clustering keeps persons of two faces or more).
            #expect(people.count >= 4, "\(people.map(\.faceCount))")
            let largest = try #require(people.first)
            #expect(people.map(\.faceCount) == people.map(\.faceCount).sorted(by: >))
            #expect(largest.faces == nil && largest.representative != nil && largest.photoCount >= 3)
            #expect(largest.representative?.thumbnail.hasPrefix("/v1/gallery/") == true)

            // One person, with its faces: all of one of the four people, paths relative to the gallery.
            let one = try await client.get("/v1/people/\(largest.id)").json(PersonJSON.self)
            let faces = try #require(one.faces)
            #expect(faces.count == largest.faceCount)
            let folders = Set(faces.map { $0.path.split(separator: "/").first.map(String.init) ?? "" })
            #expect(folders.count == 1 && Fixture.people.contains(folders.first ?? ""), "\(folders)")

            // Rename: needs the key; then named, its faces pinned; the name of another person is refused (409).
            #expect(try await client.execute(uri: "/v1/people/\(largest.id)?name=Someone", method: .patch).status == .unauthorized)
            let named = try await client.execute(uri: "/v1/people/\(largest.id)?name=Jane%20Doe", method: .patch,
                                                 headers: [.apiKey: Fixture.apiKey]).json(PersonJSON.self)
            #expect(named.name == "Jane Doe" && named.faces?.allSatisfy(\.pinned) == true)
            let second = people[1]
            let taken = try await client.execute(uri: "/v1/people/\(second.id)?name=Jane%20Doe", method: .patch,
                                                 headers: [.apiKey: Fixture.apiKey])
            #expect(taken.status == .conflict)
            let bad = try await client.execute(uri: "/v1/people/\(second.id)?name=123", method: .patch,
                                               headers: [.apiKey: Fixture.apiKey])
            #expect(bad.status == .badRequest)
            #expect(try await client.execute(uri: "/v1/people/999999?hidden=true", method: .patch,
                                             headers: [.apiKey: Fixture.apiKey]).status == .notFound)

            // Hide: gone from the list unless asked for.
            _ = try await client.execute(uri: "/v1/people/\(second.id)?hidden=true", method: .patch,
                                         headers: [.apiKey: Fixture.apiKey])
            #expect(try await !client.get("/v1/people").json([PersonJSON].self).contains { $0.id == second.id })
            #expect(try await client.get("/v1/people?hidden=true").json([PersonJSON].self).contains { $0.id == second.id && $0.hidden })

            // Merge: the second person's faces join the named one, and the second is gone.
            let merged = try await client.execute(uri: "/v1/people/\(largest.id)/merge?from=\(second.id)", method: .post,
                                                  headers: [.apiKey: Fixture.apiKey]).json(PersonJSON.self)
            #expect(merged.faceCount == largest.faceCount + second.faceCount && merged.name == "Jane Doe")
            #expect(try await client.get("/v1/people/\(second.id)").status == .notFound)
            #expect(try await client.execute(uri: "/v1/people/\(largest.id)/merge?from=\(largest.id)", method: .post,
                                             headers: [.apiKey: Fixture.apiKey]).status == .badRequest)
        }
    }

    /// Uploads join the persons of a clustered gallery as `facefind index` lets new faces join: each new face of
    /// one of the four people that joins anyone joins the person of that folder's photos, and a stranger joins
    /// nobody (until the next clustering). SQLite searches the server's live gallery; PostgreSQL its HNSW index.
    @Test(arguments: Store.allCases)
    func uploadsJoinTheirPersons(store: Store) async throws {
        let (service, cleanUp) = try Self.clusteredService(on: store)
        defer { cleanUp() }
        try await service.test { client in
            let before = try await client.get("/v1/people").json([PersonJSON].self)
            // The person each of the four is: the folder of its faces' photos.
            var personOf: [String: Int64] = [:]
            for person in before {
                let faces = try #require(try await client.get("/v1/people/\(person.id)").json(PersonJSON.self).faces)
                for face in faces { personOf[String(face.path.split(separator: "/")[0])] = person.id }
            }
            #expect(Set(personOf.keys) == Set(Fixture.people), "\(personOf)")

            // Photos 5 and 6 of each, in one request: every face of them that joins, joins its own person.
            var form = MultipartBody()
            for person in Fixture.people {
                for n in [5, 6] { form.file("image", filename: "\(person)_\(n).jpg", try Fixture.bytes(Fixture.photo(person, n))) }
            }
            let response = try await client.post("/v1/gallery", form: form, key: Fixture.apiKey)
            #expect(response.status == .created)
            let added = try response.json(AddedJSON.self)
            #expect(added.added.count == 8)
            var joined = 0
            for person in Fixture.people {
                let id = try #require(personOf[person])
                let faces = try #require(try await client.get("/v1/people/\(id)").json(PersonJSON.self).faces)
                let uploaded = faces.filter { $0.path.hasPrefix("uploads/") }
                #expect(uploaded.allSatisfy { $0.path.hasSuffix("-\(person)_5.jpg") || $0.path.hasSuffix("-\(person)_6.jpg") }, "\(person): \(uploaded.map(\.path))")
                #expect(uploaded.allSatisfy { !$0.pinned })
                joined += uploaded.count
            }
            #expect(joined == added.joinedPersons)
            #expect(joined >= 6, "\(joined) of the 8 new faces joined their person")

            // A stranger joins nobody: the persons' faces are as they were.
            var stranger = MultipartBody()
            stranger.file("image", filename: "stranger.jpg", try Fixture.bytes(Fixture.photo("Jennifer_Aniston", 1)))
            let alone = try await client.post("/v1/gallery", form: stranger, key: Fixture.apiKey).json(AddedJSON.self)
            #expect(alone.added.count == 1 && alone.joinedPersons == 0)
            let after = try await client.get("/v1/people").json([PersonJSON].self)
            #expect(after.map(\.faceCount).reduce(0, +) == before.map(\.faceCount).reduce(0, +) + joined)
        }
    }
}
