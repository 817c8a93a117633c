import Foundation
import PostgresNIO
import Testing
@testable import FaceFind
import FaceFindBench
@testable import FaceFindPostgres

/// `PostgresGalleryStore` against a real PostgreSQL + pgvector server (scripts/postgres/start.sh), with the
/// real models on real photos. Serialized: the restart test stops the server under everyone's feet.
@Suite("PostgreSQL store", .serialized)
struct PostgresStoreTests {
    static let photos = [
        "lfw-dev/Abdullah_Gul/Abdullah_Gul_0001.jpg", "lfw-dev/Abdullah_Gul/Abdullah_Gul_0002.jpg",
        "lfw-dev/Adam_Sandler/Adam_Sandler_0001.jpg", "lfw-dev/Adam_Sandler/Adam_Sandler_0002.jpg",
        "lfw-dev/Alejandro_Toledo/Alejandro_Toledo_0001.jpg", "lfw-dev/Alejandro_Toledo/Alejandro_Toledo_0002.jpg",
        "lfw-dev/Al_Gore/Al_Gore_0001.jpg", "lfw-dev/AJ_Cook/AJ_Cook_0001.jpg",
    ]
    static let queries = [
        "lfw-dev/Abdullah_Gul/Abdullah_Gul_0003.jpg", "lfw-dev/Adam_Sandler/Adam_Sandler_0003.jpg",
        "lfw-dev/Alejandro_Toledo/Alejandro_Toledo_0003.jpg", "lfw-dev/Al_Gore/Al_Gore_0002.jpg",
    ]

    static func pipeline() throws -> FacePipeline {
        try FacePipeline(configuration: PipelineConfiguration(), loader: PostgresTestServer.loader())
    }

    static func index(_ folder: String, into store: any GalleryStore, pipeline: FacePipeline,
                      commitEvery: Int = 64) throws -> IndexReport {
        try store.bind(pipeline.settings)
        return try IndexingPipeline(finder: pipeline.finder, embedder: pipeline.embedder, store: store,
                                    options: IndexingOptions(workers: 2, commitEvery: commitEvery))
            .index(directory: folder)
    }

    /// Photos an indexing run could not read are kept and marked, in both stores alike; a later run over the
    /// folder clears the marks it no longer needs, and only under that folder (not in `<folder>-other`).
    @Test func unavailableMarksAreKeptAndClearedLikeSQLite() throws {
        let store = try PostgresTestServer.store()
        defer { try? store.destroy() }
        let folder = try PostgresTestServer.folder(of: Array(Self.photos.prefix(3)))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let sqlite = try SQLiteGalleryStore(path: folder + "-index.sqlite")
        defer { try? FileManager.default.removeItem(atPath: folder + "-index.sqlite") }
        let pipeline = try Self.pipeline()
        for gallery in [store, sqlite] as [any GalleryStore] {
            _ = try Self.index(folder, into: gallery, pipeline: pipeline)
            let paths = try gallery.fileStates().keys.sorted()
            #expect(paths.count == 3)
            let outside = IndexedImage(path: folder + "-other/x.jpg", state: FileState(sha256: "0", bytes: 1, modified: 1),
                                       error: "corrupt")
            try gallery.write([outside])
            try gallery.setUnavailable([paths[0]: "cannot list folder: Permission denied", outside.path: "gone"],
                                       under: folder + "-other")
            try gallery.setUnavailable([paths[1]: "cannot open file: Permission denied"], under: folder)
            #expect(try gallery.unavailableImages() == [paths[1]: "cannot open file: Permission denied",
                                                        outside.path: "gone"], "\(gallery.name)")
            try gallery.setUnavailable([:], under: folder)
            #expect(try gallery.unavailableImages() == [outside.path: "gone"], "\(gallery.name)")
            #expect(try gallery.counts().images == 3, "marks never remove anything")
        }
    }

    @Test func sameImagesFacesVectorsAndRankingAsSQLite() throws {
        let store = try PostgresTestServer.store()
        defer { try? store.destroy() }
        let folder = try PostgresTestServer.folder(of: Self.photos)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let sqlite = try SQLiteGalleryStore(path: folder + "-index.sqlite")
        defer { try? FileManager.default.removeItem(atPath: folder + "-index.sqlite") }
        let pipeline = try Self.pipeline()

        let pgReport = try Self.index(folder, into: store, pipeline: pipeline)
        let sqliteReport = try Self.index(folder, into: sqlite, pipeline: pipeline)
        #expect(pgReport.indexed == Self.photos.count && pgReport.failed.isEmpty)
        #expect(pgReport.faces == sqliteReport.faces)
        #expect(try store.counts() == sqlite.counts())
        #expect(try store.fileStates() == sqlite.fileStates())
        #expect(try store.settings() == pipeline.settings)

        let pgImages = try store.images(offset: 0, limit: 100)
        let sqliteImages = try sqlite.images(offset: 0, limit: 100)
        #expect(Set(pgImages.map(\.path)) == Set(sqliteImages.map(\.path)))
        for image in pgImages {
            let twin = try #require(sqliteImages.first { $0.path == image.path })
            #expect(image.sha256 == twin.sha256 && image.bytes == twin.bytes && image.faceCount == twin.faceCount)
            #expect((image.width, image.height) == (twin.width, twin.height))
            #expect(try store.faces(ofImage: image.id) == sqlite.faces(ofImage: twin.id))
            #expect(try store.image(id: image.id)?.path == image.path)
        }
        #expect(try store.images(offset: 2, limit: 3).map(\.id) == Array(pgImages.map(\.id)[2..<5]))

        // The vectors come back bit for bit.
        let pgMatrix = try store.loadFaceMatrix()
        let sqliteMatrix = try sqlite.loadFaceMatrix()
        #expect(pgMatrix.faceCount == sqliteMatrix.faceCount)
        func vectorsByPath(_ m: FaceMatrix) -> [String: [[Float]]] {
            var result: [String: [[Float]]] = [:]
            for face in 0..<m.faceCount { result[m.images[Int(m.faceImage[face])].path, default: []].append(Array(m.vector(ofFace: face))) }
            return result
        }
        #expect(vectorsByPath(pgMatrix) == vectorsByPath(sqliteMatrix))

        // Server-side search (HNSW and exact, cosine and euclidean) ranks as the in-memory exact search does.
        let memory = GallerySearch(matrix: sqliteMatrix)
        for query in Self.queries {
            let image = try ImageDecoder().decode(contentsOf: "\(PostgresTestServer.faces)/\(query)")
            let face = try #require(pipeline.embedFaces(in: image).max { $0.face.box.area < $1.face.box.area })
            for metric in DistanceMetric.allCases {
                let expected = memory.search(face.embedding, k: 5, metric: metric)
                for exact in [false, true] {
                    let found = try store.search(face.embedding, k: 5, metric: metric, exact: exact)
                    #expect(found.map(\.path) == expected.map(\.path), "\(query) \(metric) exact=\(exact)")
                    for (a, b) in zip(found, expected) {
                        #expect(abs(a.score - b.score) < 1e-4)
                        #expect(a.box == b.box && a.isWholeImage == b.isWholeImage && a.rank == b.rank)
                    }
                }
            }
            // The query's own person comes first.
            let person = query.split(separator: "/")[1]
            #expect(try store.search(face.embedding, k: 1).first?.path.contains(person) == true)
        }
        #expect(try store.explainNearest(dimension: pipeline.settings.dimension).contains("faces_embedding_hnsw"))
        #expect(try !store.explainNearest(dimension: pipeline.settings.dimension, exact: true).contains("faces_embedding_hnsw"))
    }

    @Test func incrementalRunsWriteOnlyWhatChanged() throws {
        let store = try PostgresTestServer.store()
        defer { try? store.destroy() }
        let folder = try PostgresTestServer.folder(of: Array(Self.photos.prefix(4)))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let pipeline = try Self.pipeline()
        let first = try Self.index(folder, into: store, pipeline: pipeline)
        #expect(first.indexed == 4)
        let ids = try store.images(offset: 0, limit: 10).map(\.id)

        let again = try Self.index(folder, into: store, pipeline: pipeline)
        #expect(again.indexed == 0 && again.unchanged == 4 && again.removed == 0)
        #expect(try store.images(offset: 0, limit: 10).map(\.id) == ids)

        // A touched file (same content) is skipped and its new time recorded; a deleted one is removed; a new
        // one added.
        let files = try IndexingPipeline.imageFiles(under: folder)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: files[0])
        try FileManager.default.removeItem(atPath: files[1])
        try FileManager.default.copyItem(atPath: "\(PostgresTestServer.faces)/\(Self.photos[5])", toPath: "\(folder)/new.jpg")
        let third = try Self.index(folder, into: store, pipeline: pipeline)
        #expect(third.indexed == 1 && third.unchanged == 3 && third.removed == 1)
        let modified = try FileManager.default.attributesOfItem(atPath: files[0])[.modificationDate] as! Date
        #expect(try store.fileStates()[files[0]]?.modified == modified.timeIntervalSince1970)
        #expect(try store.counts().images == 4)
        let fourth = try Self.index(folder, into: store, pipeline: pipeline)
        #expect(fourth.indexed == 0 && fourth.unchanged == 4)

        // remove(ids:) counts what existed.
        let some = try store.images(offset: 0, limit: 2).map(\.id)
        #expect(try store.remove(ids: some + [999_999]) == 2)
        #expect(try store.counts().images == 2)
    }

    /// A store written before the one settings encoding holds Codable's camelCase rows, and the first release
    /// wrote no augmentation or minimum-face rows: it opens with the same settings, and the same settings bind.
    @Test func settingsRowsOfOlderVersionsStillOpen() throws {
        let store = try PostgresTestServer.store()
        defer { try? store.destroy() }
        let settings = IndexSettings(detector: "yunet", detectorSHA256: "aa", embedder: "facenet512", embedderSHA256: "bb",
                                     crop: "margin", normalization: "fixed", dimension: 512, maxSide: 960, minSide: 448)
        try store.bind(settings)
        let schema = store.options.schema
        try store.session.run(transaction: true) { db in
            try db.query(PostgresQuery(unsafeSQL: "DELETE FROM \(schema).settings"))
            for (key, value) in [("detector", "yunet"), ("detectorSHA256", "aa"), ("embedder", "facenet512"),
                                 ("embedderSHA256", "bb"), ("crop", "margin"), ("normalization", "fixed"),
                                 ("dimension", "512"), ("maxSide", "960"), ("minSide", "448")] {
                try db.query("INSERT INTO \(unescaped: schema).settings (key, value) VALUES (\(key), \(value))")
            }
        }
        let reopened = try PostgresGalleryStore(url: try PostgresTestServer.url(of: store))
        #expect(try reopened.settings() == settings)
        try reopened.bind(settings)
        var other = settings
        other.minSide = 0
        #expect(throws: GalleryError.self) { try reopened.bind(other) }
    }

    @Test func otherSettingsAreRefusedWithTheirDifferences() throws {
        let store = try PostgresTestServer.store()
        defer { try? store.destroy() }
        let settings = IndexSettings(detector: "yunet", detectorSHA256: "aa", embedder: "facenet512", embedderSHA256: "bb",
                                     crop: "margin", normalization: "fixed", dimension: 512, maxSide: 960, minSide: 448,
                                     augmentation: "none", minFaceSize: 40)
        #expect(try store.settings() == nil)
        #expect(try store.counts() == (0, 0, 0))
        try store.bind(settings)
        try store.bind(settings)
        var other = settings
        other.embedder = "mobilefacenet"
        other.dimension = 128
        do {
            try store.bind(other)
            Issue.record("binding other settings succeeded")
        } catch GalleryError.settingsMismatch(_, let differences) {
            #expect(differences.count == 2)
            #expect(differences.contains { $0.contains("embedder") && $0.contains("facenet512") && $0.contains("mobilefacenet") })
        }
        // A second connection sees the recorded settings and the vector(512) column with its HNSW index.
        let reopened = try PostgresGalleryStore(url: try PostgresTestServer.url(of: store))
        #expect(try reopened.settings() == settings)
        #expect(try reopened.layout() == PostgresGalleryStore.Layout(dimension: 512, vectorType: "vector", hnsw: .cosine))
        #expect(!reopened.name.contains(":facefind@"), "the password must not show in \(reopened.name)")
    }

    @Test func hnswFindsWhatExactSearchFindsOnSyntheticFaces() throws {
        let url = try PostgresTestServer.url()
        _ = try PostgresTestServer.store().destroy()  // fails early, with the set-up command, when unreachable
        let gallery = SyntheticGallery(count: 5000, dimension: 128, seed: 11)
        let queries = gallery.queries(40)
        let vectors = (0..<gallery.count).map(gallery.vector(at:))
        let truth = queries.map { q in
            topK(vectors.map { v in zip(q, v).reduce(0) { $0 + $1.0 * $1.1 } }, k: 10)
        }
        var options = PostgresSyntheticBench.Options()
        options.reuse = false
        options.efSearch = 64
        options.batchSize = 8
        options.exactQueries = 5
        let result = try PostgresSyntheticBench.run(url: url, gallery: gallery, queries: queries, truth: truth, options: options)
        #expect(result.count == 5000 && result.dimension == 128 && result.precision == "vector")
        #expect(result.recallAt10 >= 0.95, "recall@10 \(result.recallAt10)")
        #expect(result.indexBytes > 0 && result.buildSeconds > 0)
        #expect(result.singleQueriesPerSecond > 0 && result.batchQueriesPerSecond > 0)
        #expect(result.notes.contains { $0.contains("exact search in the server") && $0.contains("recall@10 1.0000") })

        // The same store answers exactly with the index disabled, and batched queries agree with single ones.
        let store = try PostgresGalleryStore(url: url) { $0.schema = "bench_5000_128" }
        defer { try? store.destroy() }
        for (q, expected) in zip(queries.prefix(5), truth) {
            #expect(try store.search(Embedding(q), k: 10, exact: true).map { Int($0.imageID) - 1 } == expected)
        }
        let batched = try store.nearestFaces(Array(queries.prefix(6)), limit: 10, exact: true)
        #expect(batched.map { $0.map { Int($0) - 1 } } == Array(truth.prefix(6)))
    }

    /// Stops the server (immediate shutdown, as a crash) in the middle of a write transaction of an indexing
    /// run, restarts it a moment later, and checks that the run finished with every photo stored exactly once.
    /// `facefind index --workers-shared`: three processes on one folder and one store, one of them killed with
    /// -9 while it holds a claim and started again. Every photo is stored once, with the faces a single process
    /// finds; the killed worker's claimed files were finished by others after its lease ran out; `facefind
    /// status` shows the run finished.
    @Test func sharedIndexingSurvivesAKilledWorker() throws {
        let store = try PostgresTestServer.store()
        defer { try? store.destroy() }
        let url = try PostgresTestServer.url(of: store)
        let folder = try PostgresTestServer.folder(of: [])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let all = try IndexingPipeline.imageFiles(under: PostgresTestServer.faces + "/lfw-dev")
        for path in all.prefix(200) {
            try FileManager.default.copyItem(atPath: path, toPath: folder + "/" + (path as NSString).lastPathComponent)
        }
        let binary = try PostgresTestServer.facefindBinary()
        func worker() throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["index", folder, "--store", url, "--workers-shared", "--lease", "3", "--threads", "1",
                                 "--models", PostgresTestServer.models, "--json"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
        var workers = try (0..<3).map { _ in try worker() }
        let victim = workers[1]
        // Kill the second worker once it holds a claim and some files are done.
        var held: [String] = []
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, victim.isRunning, held.isEmpty {
            Thread.sleep(forTimeInterval: 0.05)
            let runs = (try? store.sharedRuns()) ?? []
            if let run = runs.first, run.done >= 20,
               let mine = run.workers.first(where: { $0.worker.contains("-\(victim.processIdentifier)-") }), mine.claimed > 0 {
                kill(victim.processIdentifier, SIGKILL)
                held = [mine.worker]
            }
        }
        victim.waitUntilExit()
        try #require(!held.isEmpty, "the second worker finished before it could be killed holding a claim")
        workers.append(try worker())
        for process in workers { process.waitUntilExit() }
        #expect(workers.enumerated().allSatisfy { $0.offset == 1 || $0.element.terminationStatus == 0 })

        let counts = try store.counts()
        #expect(counts.images == 200 && counts.failed == 0)
        let run = try #require(try store.sharedRuns().first)
        #expect(run.finishedAt != nil && run.done == 200 && run.pending == 0 && run.claimed == 0 && run.expired == 0)
        // The killed worker's claim was taken over and finished by the others: it holds nothing (it is listed
        // only if it had finished files of its own before the kill).
        #expect(run.workers.first { $0.worker == held[0] }.map { $0.claimed == 0 } ?? true)
        #expect(run.workers.count >= 3)
        // One process alone finds the same faces: no photo indexed twice, none half-written.
        let single = try SQLiteGalleryStore(path: folder + "-single.sqlite")
        defer { try? FileManager.default.removeItem(atPath: folder + "-single.sqlite") }
        _ = try Self.index(folder, into: single, pipeline: try Self.pipeline())
        #expect(try single.counts() == store.counts())
        #expect(Set(try store.fileStates().keys) == Set(try single.fileStates().keys))

        let status = Process()
        status.executableURL = URL(fileURLWithPath: binary)
        status.arguments = ["status", "--store", url]
        let output = Pipe()
        status.standardOutput = output
        try status.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        status.waitUntilExit()
        #expect(text.contains("200 photos") && text.contains("(finished): 200 done"), "\(text)")
    }

    @Test func indexingSurvivesAServerRestart() throws {
        let store = try PostgresTestServer.store()
        defer { try? store.destroy() }
        // The test stops the server: only the test instance of scripts/postgres (FACEFIND_PG_INSTANCE=test, its
        // own data and port), never a server that something else may be using.
        guard ProcessInfo.processInfo.environment["FACEFIND_PG_INSTANCE"] == "test",
              (try? PostgresTestServer.script("start.sh", "--status")) != nil,
              let scriptsURL = try? PostgresTestServer.script("start.sh"),
              try PostgresTestServer.url().hasPrefix(scriptsURL.trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            throw PostgresTestServer.Unavailable(description: "the restart test stops and restarts the server, so it runs only against the test instance of scripts/postgres, which FACEFIND_TEST_POSTGRES_URL must name. Run: \(PostgresTestServer.setUpCommand)")
        }
        let photos = try PostgresTestServer.lfwPhotos(60)
        #expect(photos.count == 60)
        let folder = try PostgresTestServer.folder(of: photos)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let pipeline = try Self.pipeline()

        let restart = RestartOnce()
        // Third write transaction: just before its faces are inserted (images already sent), stop the server;
        // start it again 1.5 s later from another thread while the store keeps retrying.
        store.session.statementHook = { sql in
            guard sql.contains("INSERT INTO"), sql.contains(".faces ("), restart.count() == 3 else { return }
            restart.stopAndRestartLater()
        }
        defer { restart.waitUntilRestarted() }
        let report = try Self.index(folder, into: store, pipeline: pipeline, commitEvery: 8)
        store.session.statementHook = nil
        restart.waitUntilRestarted()

        #expect(restart.stopped)
        #expect(store.reconnects >= 1)
        #expect(report.indexed + report.failed.count == 60)
        let states = try store.fileStates()
        #expect(Set(states.keys) == Set(try IndexingPipeline.imageFiles(under: folder)))
        let verify = try PostgresGalleryStore(url: try PostgresTestServer.url(of: store))
        let duplicates = try verify.session.run { db in
            try db.query("SELECT count(*) - count(DISTINCT path) FROM \(unescaped: PostgresGalleryStore.quoted(store.options.schema)).images")
                .first!.decode(Int.self)
        }
        #expect(duplicates == 0)
        let counts = try verify.counts()
        #expect(counts.images + counts.failed == 60)
        #expect(counts.faces == report.faces)
        // Every stored photo has its faces (none lost with the interrupted transaction).
        #expect(try verify.images(offset: 0, limit: 100).allSatisfy { $0.error != nil || $0.faceCount > 0 })
        // And the next run finds nothing to do.
        let again = try Self.index(folder, into: verify, pipeline: pipeline)
        #expect(again.indexed == 0 && again.unchanged == 60)
    }
}

/// Stops the test server once, and starts it again on another thread after a pause.
private final class RestartOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var statements = 0
    private var done = false
    private(set) var stopped = false
    private let restarted = DispatchGroup()

    /// Counts faces INSERT statements.
    func count() -> Int { lock.withLock { statements += 1; return statements } }

    func stopAndRestartLater() {
        let first: Bool = lock.withLock { defer { done = true }; return !done }
        guard first else { return }
        do {
            try PostgresTestServer.script("stop.sh", "--immediate")
            lock.withLock { stopped = true }
        } catch {
            Issue.record("could not stop the server: \(error)")
        }
        restarted.enter()
        // A thread of its own, not Dispatch's global queue: under a sanitizer the rest of the suite kept that
        // queue's few threads busy, and the restart waited four minutes, past the store's 120 s of retries.
        let thread = Thread { [self] in
            defer { restarted.leave() }
            Thread.sleep(forTimeInterval: 1.5)
            do { try PostgresTestServer.script("start.sh") } catch { Issue.record("could not restart the server: \(error)") }
        }
        thread.start()
    }

    func waitUntilRestarted() { restarted.wait() }
}
