@testable import FaceFind
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import FaceFindServer

/// Issue 25, item 5, through `serve`: the vector file damaged in place while the server runs. "Truncating the file
/// in place while `serve` runs kills the server with SIGBUS on the next search; replacing it with another index's
/// file gives empty answers with 200." Now each search after the damage answers 200 with what it answered before,
/// the file having been rebuilt from the index.
@Suite("Vector file damaged under serve", .serialized)
struct VectorFileDamageAPITests {
    @Test func searchesAnswerAsBeforeWhenTheFileIsTruncatedOrReplacedInPlace() async throws {
        let (db, uploads) = try Fixture.gallery()
        try GalleryVectorFile.build(store: try SQLiteGalleryStore(path: db), precision: .float32)
        // Another index's file: a copy of the gallery given its own database id, with its own vector file.
        let (other, _) = try Fixture.gallery("anotherGallery")
        let otherStore = try SQLiteGalleryStore(path: other)
        try await otherStore.pool.write { try $0.execute(sql: "UPDATE face_changes SET database_id = database_id + 1") }
        try GalleryVectorFile.build(store: otherStore, precision: .int8)
        let foreign = try Data(contentsOf: URL(fileURLWithPath: other + ".vectors"))

        let service = try FaceFindService(store: try SQLiteGalleryStore(path: db), loader: try Fixture.loader(),
                                          configuration: Fixture.configuration(uploads: uploads))
        let path = db + ".vectors"
        try await service.test { client in
            let queries = ["Tiger_Woods", "Jennifer_Aniston"].map(Fixture.query)
            var before: [[ResultJSON]] = []
            for query in queries {
                before.append(try await client.search(query, query: "?k=3").json(SearchJSON.self).results)
            }
            #expect(before.allSatisfy { $0.count == 3 })
            let damages: [(String, () throws -> Void)] = [
                ("truncated to nothing", { #expect(truncate(path, 0) == 0) }),
                ("overwritten by another index's file", {
                    let handle = try #require(FileHandle(forWritingAtPath: path))
                    try handle.truncate(atOffset: 0)
                    try handle.write(contentsOf: foreign)
                    try handle.close()
                }),
            ]
            for (damage, apply) in damages {
                try apply()
                for (query, expected) in zip(queries, before) {
                    let response = try await client.search(query, query: "?k=3")
                    #expect(response.status == .ok, "\(damage)")
                    let results = try response.json(SearchJSON.self).results
                    #expect(results.map(\.id) == expected.map(\.id), "\(damage)")
                    for (a, b) in zip(results, expected) { #expect(abs(a.score - b.score) < 1e-5, "\(damage)") }
                }
            }
        }
        guard case .current = try GalleryVectorFile.open(store: try SQLiteGalleryStore(path: db)) else {
            Issue.record("the server did not leave a current vector file")
            return
        }
    }
}
