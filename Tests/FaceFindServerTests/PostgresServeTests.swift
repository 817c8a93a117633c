import FaceFind
import FaceFindPostgres
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import FaceFindServer

/// `facefind serve --store postgres://…`: the same API over the PostgreSQL + pgvector store, searched on the
/// database server (HNSW) instead of in memory, against a real PostgreSQL (`$FACEFIND_TEST_POSTGRES_URL`, set by
/// scripts/test.sh; missing is a failure, never a skip).
@Suite struct PostgresServeTests {
    /// The test gallery's twelve photos indexed into a fresh schema with the library's indexer; `url` is the
    /// store's URL, for `facefind serve --store`.
    static func postgresGallery(_ label: String) throws -> (store: PostgresGalleryStore, url: String) {
        let server = try #require(ProcessInfo.processInfo.environment["FACEFIND_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 },
                                  "FACEFIND_TEST_POSTGRES_URL is not set: run scripts/test.sh, which starts PostgreSQL")
        let schema = "serve_\(label.lowercased().filter { $0.isLetter }.prefix(20))_\(UUID().uuidString.prefix(8).lowercased())"
        let url = server + (server.contains("?") ? "&" : "?") + "schema=" + schema
        let store = try PostgresGalleryStore(url: url)
        let pipeline = try FacePipeline(configuration: PipelineConfiguration(), loader: try Fixture.loader())
        try store.bind(pipeline.settings)
        let files = Fixture.people.flatMap { person in (2...4).map { Fixture.photo(person, $0) } }
        let report = try IndexingPipeline(finder: pipeline.finder, embedder: pipeline.embedder, store: store,
                                          options: IndexingOptions(workers: 2)).index(files: files)
        try #require(report.indexed == files.count, "\(report.failed)")
        return (store, url)
    }

    @Test func answersAsTheEmbeddedStoreAndUpdatesWithoutLoading() async throws {
        let store = try Self.postgresGallery(#function).store
        defer { try? store.destroy() }
        let uploads = try Fixture.temporaryFolder("pg") + "/uploads"
        let postgres = try FaceFindService(store: store, searcher: store, loader: try Fixture.loader(),
                                           configuration: Fixture.configuration(uploads: uploads))
        let embedded = try Fixture.service()
        #expect(postgres.engine.index.counts == embedded.engine.index.counts)

        // The same answers: paths (relative to the same gallery root), order and scores, for a query of each
        // person and for a photo of someone who is not in the gallery.
        let options = SearchOptions(k: 12, metric: .cosine, face: .choice(.largest), threshold: nil)
        for query in Fixture.people.map(Fixture.query) + [Fixture.photo("Jennifer_Aniston", 1)] {
            let upload = ImageUpload(name: "q.jpg", bytes: try Fixture.bytes(query))
            let fromPostgres = try postgres.engine.search(upload, options: options, waited: 0)
            let fromSQLite = try embedded.engine.search(upload, options: options, waited: 0)
            #expect(fromPostgres.results.map(\.path) == fromSQLite.results.map(\.path), "\(query)")
            #expect(zip(fromPostgres.results, fromSQLite.results).allSatisfy {
                abs($0.score - $1.score) < 1e-4 && $0.unknown == $1.unknown && $0.box == $1.box
            })
        }

        try await postgres.test { client in
            // A photo added through the API is found by the next search; deleted, it is gone.
            var form = MultipartBody()
            form.field("name", "Jennifer Aniston")
            form.file("image", filename: "ja2.jpg", try Fixture.bytes(Fixture.photo("Jennifer_Aniston", 2)))
            let response = try await client.post("/v1/gallery", form: form, key: Fixture.apiKey)
            #expect(response.status == .created)
            let added = try #require(try response.json(AddedJSON.self).added.first)
            #expect(added.path == "uploads/Jennifer Aniston/" + added.path.split(separator: "/").last!)
            let found = try await client.search(Fixture.photo("Jennifer_Aniston", 1), query: "?k=1").json(SearchJSON.self)
            #expect(found.results.first?.id == added.id && found.results.first?.unknown == false)
            let health = try await client.get("/v1/health").json(HealthJSON.self)
            #expect(health.images == 13)

            let deleted = try await client.execute(uri: "/v1/gallery/\(added.id)", method: .delete,
                                                   headers: [.apiKey: Fixture.apiKey])
            #expect(deleted.status == .ok)
            let after = try await client.search(Fixture.photo("Jennifer_Aniston", 1), query: "?k=12").json(SearchJSON.self)
            #expect(!after.results.contains { $0.id == added.id } && after.results.count == 12)
            #expect(try await client.get("/v1/health").json(HealthJSON.self).images == 12)
        }
        // The database searched, never a copy of its vectors in this process.
        #expect(postgres.engine.index.loadsOfTheWholeGallery == 0)
    }

    /// Health counts follow writes made beside the server (another process, here another connection to the
    /// same schema), at most `SearchIndex.countsLifetime` late (issue 25, item 6). They stayed at the start's
    /// counts before.
    @Test func healthCountsFollowOtherWriters() async throws {
        let (store, url) = try Self.postgresGallery(#function)
        defer { try? store.destroy() }
        let uploads = try Fixture.temporaryFolder("pg-health") + "/uploads"
        let service = try FaceFindService(store: store, searcher: store, loader: try Fixture.loader(),
                                          configuration: Fixture.configuration(uploads: uploads))
        try await service.test { client in
            #expect(try await client.get("/v1/health").json(HealthJSON.self).images == 12)
            let other = try PostgresGalleryStore(url: url)
            let pipeline = try FacePipeline(configuration: PipelineConfiguration(), loader: try Fixture.loader())
            let report = try IndexingPipeline(finder: pipeline.finder, embedder: pipeline.embedder, store: other)
                .index(files: (1...3).map { Fixture.photo("Jennifer_Aniston", $0) })
            #expect(report.indexed == 3)
            try await Task.sleep(for: SearchIndex.countsLifetime + .milliseconds(100))
            let health = try await client.get("/v1/health").json(HealthJSON.self)
            let counts = try store.counts()
            #expect(health.images == 15 && health.images == counts.images && health.faces == counts.faces)
        }
    }

    /// The command itself: `facefind serve --store postgres://…` starts on the store, answers a search from the
    /// database, and says which store it serves.
    @Test func theCommandServesAPostgresStore() async throws {
        let (store, url) = try Self.postgresGallery(#function)
        defer { try? store.destroy() }
        let server = try LiveServer(store: url)
        defer { server.stop() }
        let health = try JSONDecoder().decode(HealthJSON.self, from: try await server.request("/v1/health").body)
        #expect(health.images == 12)
        for person in Fixture.people {
            let answer = try await server.search(Fixture.query(person))
            #expect(answer.status == 200)
            let results = try JSONDecoder().decode(SearchJSON.self, from: answer.body).results
            #expect(results.first?.label == person && results.first?.unknown == false, "\(person)")
        }
    }
}
