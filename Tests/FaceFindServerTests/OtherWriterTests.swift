import FaceFind
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import FaceFindServer

/// A server and a `facefind index` writing the same index file (issue 25, item 6): the server's search and
/// counts follow what the other process writes, without a restart.
@Suite(.serialized) struct OtherWriterTests {
    /// A folder of copies of the first photo of `count` lfw-dev people from the `skip`-th on (sorted by name),
    /// none of the test gallery's people; returns the folder and the photos' paths in it.
    static func photoFolder(_ count: Int, skip: Int = 0, _ name: String = #function) throws -> (folder: String, photos: [String]) {
        let folder = try Fixture.temporaryFolder(name.filter { $0.isLetter } + "-photos")
        let people = try FileManager.default.contentsOfDirectory(atPath: Fixture.lfw).sorted()
            .filter { !Fixture.people.contains($0) && $0 != "Jennifer_Aniston" }.dropFirst(skip).prefix(count)
        var photos: [String] = []
        for person in people {
            let target = "\(folder)/\(person)_0001.jpg"
            try FileManager.default.copyItem(atPath: Fixture.photo(person, 1), toPath: target)
            photos.append(target)
        }
        return (folder, photos)
    }

    /// `facefind index FOLDER --db DB`, the built binary, started (not waited for).
    static func startIndex(_ folder: String, db: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try LiveServer.binary())
        process.arguments = ["index", folder, "--db", db, "--models", Fixture.models]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// A `Process` handed to the tasks that poll it (`isRunning` reads its state under Foundation's lock).
    struct UncheckedProcess: @unchecked Sendable { let process: Process }

    /// Health and gallery counts equal the store's, and `photo` (indexed by the other process) is its own
    /// first match.
    static func expectCurrent(_ client: some TestClientProtocol, db: String, photo: String) async throws {
        let store = try SQLiteGalleryStore(path: db).counts()
        let found = try await client.search(photo).json(SearchJSON.self)
        let first = try #require(found.results.first)
        #expect(first.name == URL(fileURLWithPath: photo).lastPathComponent && first.score > 0.99 && !first.unknown,
                "\(first.name) at \(first.score)")
        let health = try await client.get("/v1/health").json(HealthJSON.self)
        #expect(health.images == store.images && health.faces == store.faces,
                "health \(health.images)/\(health.faces), store \(store.images)/\(store.faces)")
        let page = try await client.get("/v1/gallery?limit=1").json(GalleryPageJSON.self)
        #expect(page.total == store.images + store.failed)
    }

    /// Sequential: photos indexed beside a running server are found by its next search, and counted by its
    /// next health answer. Before the fix the server kept the 12 photos it started with until restarted.
    @Test func photosIndexedBesideARunningServerAreFoundByTheNextSearch() async throws {
        let (db, uploads) = try Fixture.gallery()
        let service = try FaceFindService(store: try SQLiteGalleryStore(path: db), loader: try Fixture.loader(),
                                          configuration: Fixture.configuration(uploads: uploads))
        let (folder, photos) = try Self.photoFolder(8)
        try await service.test { client in
            #expect(try await client.get("/v1/health").json(HealthJSON.self).images == 12)
            let index = try Self.startIndex(folder, db: db)
            index.waitUntilExit()
            #expect(index.terminationStatus == 0)
            try await Self.expectCurrent(client, db: db, photo: photos[5])
        }
        #expect(service.engine.index.reloadsAfterOtherWriters == 1)
    }

    /// Concurrent, as reported: an index of 120 photos into the server's index while two clients search in a
    /// loop and another uploads photos. Afterwards the counts agree everywhere and a photo of the other process
    /// matches itself; the server's own uploads are found too.
    @Test func aConcurrentIndexIsFollowedWhileTheServerSearchesAndAdds() async throws {
        let (db, uploads) = try Fixture.gallery()
        let service = try FaceFindService(store: try SQLiteGalleryStore(path: db), loader: try Fixture.loader(),
                                          configuration: Fixture.configuration(uploads: uploads))
        let (folder, photos) = try Self.photoFolder(120, skip: 20)
        try await service.test { client in
            let index = try Self.startIndex(folder, db: db)
            let running: @Sendable () -> Bool = { [process = UncheckedProcess(process: index)] in process.process.isRunning }
            let (searches, added) = try await withThrowingTaskGroup(of: (Int, [Int64]).self) { group in
                for query in [Fixture.query("Tiger_Woods"), Fixture.query("Nicole_Kidman")] {
                    group.addTask {
                        var count = 0
                        while running() {
                            let answer = try await client.search(query)
                            #expect(answer.status == .ok)
                            count += 1
                        }
                        return (count, [])
                    }
                }
                group.addTask {
                    var ids: [Int64] = []
                    for n in 1...4 where running() {
                        var form = MultipartBody()
                        form.field("name", "Jennifer Aniston")
                        form.file("image", filename: "Jennifer_Aniston_000\(n).jpg",
                                  try Fixture.bytes(Fixture.photo("Jennifer_Aniston", n)))
                        let answer = try await client.post("/v1/gallery", form: form, key: Fixture.apiKey)
                        #expect(answer.status == .created)
                        ids += try answer.json(AddedJSON.self).added.map(\.id)
                    }
                    return (0, ids)
                }
                var searches = 0, added: [Int64] = []
                for try await (count, ids) in group {
                    searches += count
                    added += ids
                }
                return (searches, added)
            }
            index.waitUntilExit()
            #expect(index.terminationStatus == 0)
            #expect(searches > 0 && !added.isEmpty, "\(searches) searches, \(added.count) uploads while indexing")
            try await Self.expectCurrent(client, db: db, photo: photos[77])
            // The server's own uploads: Jennifer Aniston's other photos are found.
            let jennifer = try await client.search(Fixture.photo("Jennifer_Aniston", 5), query: "?k=10")
                .json(SearchJSON.self)
            #expect(Set(added).isSubset(of: Set(jennifer.results.map(\.id))), "\(added) in \(jennifer.results.map(\.id))")
        }
    }

    /// A server over a vector file (`index --vector-file`) follows another process's index too: the file,
    /// behind its index then, is rewritten and searched.
    @Test func aVectorFileServerFollowsAnotherProcess() async throws {
        let (db, uploads) = try Fixture.gallery()
        try GalleryVectorFile.build(store: try SQLiteGalleryStore(path: db), precision: .float32)
        let service = try FaceFindService(store: try SQLiteGalleryStore(path: db), loader: try Fixture.loader(),
                                          configuration: Fixture.configuration(uploads: uploads))
        let (folder, photos) = try Self.photoFolder(6, skip: 200)
        try await service.test { client in
            let index = try Self.startIndex(folder, db: db)
            index.waitUntilExit()
            #expect(index.terminationStatus == 0)
            try await Self.expectCurrent(client, db: db, photo: photos[2])
        }
        guard let live = service.engine.index.current as? LiveGallerySearch, case .file = live.base else {
            Issue.record("not served from the vector file after the reload")
            return
        }
    }
}
