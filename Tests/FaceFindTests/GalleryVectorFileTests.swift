import Foundation
import Testing
@testable import FaceFind
import FaceFindBench

/// The vector file beside a SQLite index (`index --vector-file`): searched without loading the vectors, equal to
/// the index in memory, and never trusted when it does not match the index.
@Suite("Vector file", .serialized)
struct GalleryVectorFileTests {
    /// 24 lfw-dev photos: eight people, three photos each.
    static let photos = ["Abdullah", "Abel_Pacheco", "Adam_Sandler", "Adrien_Brody", "Ai_Sugiyama", "Al_Gore",
                         "Alec_Baldwin", "Alejandro_Avila"].flatMap { name in
        (1...3).map { "\(name)/\(name)_000\($0).jpg" }
    }

    /// A folder of `photos` indexed by the binary with `--vector-file precision`.
    static func indexed(_ precision: String, _ name: String = #function) throws -> (folder: String, db: String) {
        let folder = try TestData.folder(withLFWPhotos: photos, name)
        let db = try TestData.temporaryFolder(name) + "/index.sqlite"
        let run = try EndToEndTests.runFacefind(["index", folder, "--db", db, "--vector-file", precision,
                                                 "--models", TestData.models])
        #expect(run.status == 0, "\(run.errors)")
        return (folder, db)
    }

    /// Every face of the index as a query: the file ranks like the index loaded into memory.
    @Test func theVectorFileRanksLikeTheIndexInMemory() throws {
        let (_, db) = try Self.indexed("float32")
        let store = try SQLiteGalleryStore(path: db, create: false)
        guard case .current(let file) = try GalleryVectorFile.open(store: store) else {
            Issue.record("no current vector file beside \(db)")
            return
        }
        let matrix = try store.loadFaceMatrix()
        #expect(file.count == matrix.faceCount && file.precision == .float32 && file.subspace.components == 128)
        #expect(matrix.faceCount >= Self.photos.count)
        let memory = GallerySearch(matrix: matrix)
        for face in 0..<matrix.faceCount {
            let query = [Embedding(Array(matrix.vector(ofFace: face)))]
            for metric in DistanceMetric.allCases {
                let fromFile = try file.rank(faces: query, k: 5, metric: metric, threshold: 0.5).map(\.match)
                let inMemory = memory.rank(faces: query, k: 5, metric: metric, threshold: 0.5).map(\.match)
                #expect(fromFile.map(\.imageID) == inMemory.map(\.imageID), "face \(face), \(metric)")
                #expect(fromFile.map(\.path) == inMemory.map(\.path) && fromFile.map(\.box) == inMemory.map(\.box))
                #expect(fromFile.map(\.faceID) == inMemory.map(\.faceID))
                // Squared for distances: near 0 a rounding of 1e-7 in the sum becomes 3e-4 after the square root.
                for (a, b) in zip(fromFile, inMemory) {
                    #expect(metric == .cosine ? abs(a.score - b.score) < 1e-4 : abs(a.score * a.score - b.score * b.score) < 1e-4)
                }
            }
        }

        // int8: the photo of each face itself still comes first.
        let int8 = try GalleryVectorFile.build(store: store, precision: .int8)
        #expect(int8.precision == .int8)
        for face in 0..<matrix.faceCount {
            let top = try int8.rank(faces: [Embedding(Array(matrix.vector(ofFace: face)))], k: 1, metric: .cosine,
                                    threshold: nil)
            #expect(top.first?.match.imageID == matrix.images[Int(matrix.faceImage[face])].id)
        }
    }

    /// `search` answers the same through the vector file as through the vectors in memory.
    @Test func searchUsesTheVectorFileAndAnswersAsWithout() throws {
        let (folder, db) = try Self.indexed("int8")
        let query = folder + "/Al_Gore_0002.jpg"
        func topPaths() throws -> [String] {
            let run = try EndToEndTests.runFacefind(["search", "--db", db, query, "-k", "3", "--json", "--models", TestData.models])
            #expect(run.status == 0, "\(run.errors)")
            struct Result: Decodable { var results: [Match] }
            return try JSONDecoder().decode([Result].self, from: run.output).first?.results.map(\.path) ?? []
        }
        let withFile = try topPaths()
        try FileManager.default.moveItem(atPath: db + ".vectors", toPath: db + ".kept")
        let inMemory = try topPaths()
        #expect(withFile == inMemory && withFile.first == query)
        #expect(withFile.dropFirst().first?.contains("Al_Gore") == true, "\(withFile)")
    }

    /// A change to the index after the file was written (a photo removed, a crash between the two) makes the file
    /// stale: never searched as it is, rebuilt from the index; `index` keeps it up to date itself.
    @Test func aFileBehindItsIndexIsStaleAndRebuilt() throws {
        let (folder, db) = try Self.indexed("float16")
        let store = try SQLiteGalleryStore(path: db, create: false)
        let removed = folder + "/Adam_Sandler_0001.jpg"
        let before = try store.counts().faces
        try store.remove(paths: [removed])
        guard case .stale(let reason, let precision) = try GalleryVectorFile.open(store: store) else {
            Issue.record("a file behind its index was taken as current")
            return
        }
        #expect(reason.contains("behind its index") && precision == .float16, "\(reason)")
        #expect(try GalleryVectorFile.opened(store: store, rebuild: false) == nil)
        let told = Told()
        let rebuilt = try #require(try GalleryVectorFile.opened(store: store, rebuild: true, log: told.log))
        #expect(told.lines.count == 1 && told.lines[0].contains("rebuilding"))
        let facesNow = try store.counts().faces
        #expect(rebuilt.precision == .float16 && rebuilt.count == facesNow)
        #expect(rebuilt.count < before)
        let faceIDs = Set(try store.loadFaceMatrix().faceIDs)
        #expect(Set(try (0..<rebuilt.count).map { try rebuilt.ids(row: $0).face }) == faceIDs)

        // Indexing again puts the photo back and brings the file up to date in the same run.
        let run = try EndToEndTests.runFacefind(["index", folder, "--db", db, "--models", TestData.models])
        #expect(run.status == 0, "\(run.errors)")
        guard case .current(let file) = try GalleryVectorFile.open(store: store) else {
            Issue.record("index left the vector file stale")
            return
        }
        #expect(file.count == before && file.precision == .float16)
    }

    /// A truncated file, another program's bytes, or the file of another index: stale, with the reason.
    @Test func aDamagedOrForeignFileIsNeverTrusted() throws {
        let (_, db) = try Self.indexed("int8")
        let store = try SQLiteGalleryStore(path: db, create: false)
        let path = store.vectorFilePath
        let good = try Data(contentsOf: URL(fileURLWithPath: path))

        try good.prefix(good.count - 100).write(to: URL(fileURLWithPath: path))
        guard case .stale(let truncated, _) = try GalleryVectorFile.open(store: store) else {
            Issue.record("a truncated file was taken as current")
            return
        }
        #expect(truncated.contains("size"), "\(truncated)")

        try Data(repeating: 7, count: 4096).write(to: URL(fileURLWithPath: path))
        guard case .stale(let foreign, _) = try GalleryVectorFile.open(store: store) else {
            Issue.record("a foreign file was taken as current")
            return
        }
        #expect(foreign.contains("not a FaceFind vector index"), "\(foreign)")

        // The file of another index with the same photos: the database ids differ.
        let (_, other) = try Self.indexed("int8", "another")
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.copyItem(atPath: other + ".vectors", toPath: path)
        guard case .stale(let another, _) = try GalleryVectorFile.open(store: store) else {
            Issue.record("another index's file was taken as current")
            return
        }
        #expect(another.contains("another index"), "\(another)")

        // `search` rebuilds it and answers.
        let run = try EndToEndTests.runFacefind(["search", "--db", db, TestData.face("lfw-dev/Al_Gore/Al_Gore_0001.jpg"),
                                                 "--models", TestData.models])
        #expect(run.status == 0 && String(decoding: run.output, as: UTF8.self).contains("Al_Gore"), "\(run.errors)")
        #expect(run.errors.contains("another index"), "\(run.errors)")
        guard case .current = try GalleryVectorFile.open(store: store) else {
            Issue.record("search did not rebuild the stale file")
            return
        }
    }

    /// The first stage keeps the exact top 10: 20,000 generated faces clustered like real ones (`SyntheticGallery`),
    /// recall@10 of the two stages against the exact float32 search.
    @Test func twoStagesFindTheExactTopTen() throws {
        let gallery = SyntheticGallery(count: 20_000)
        let db = try TestData.temporaryFolder() + "/synthetic.sqlite"
        let store = try SQLiteGalleryStore(path: db)
        try store.bind(IndexSettings(detector: "synthetic", detectorSHA256: "", embedder: "synthetic", embedderSHA256: "",
                                     crop: "none", normalization: "none", dimension: gallery.dimension, maxSide: 0, minSide: 0))
        for start in stride(from: 0, to: gallery.count, by: 2_000) {
            try store.write((start..<min(start + 2_000, gallery.count)).map { i in
                IndexedImage(path: "/synthetic/\(i).jpg", state: FileState(sha256: String(i), bytes: 1, modified: 0),
                             width: 100, height: 100,
                             faces: [StoredFace(face: DetectedFace(box: Box(x: 0, y: 0, width: 100, height: 100), score: 1),
                                                embedding: Embedding(gallery.vector(at: i)))])
            })
        }
        let queries = gallery.queries(64)
        let exact = try VectorIndex.inMemory(vectors: (0..<gallery.count).flatMap { gallery.vector(at: $0) },
                                             dimension: gallery.dimension)
        let truth = exact.search(queries, k: 10).map { $0.map(\.row) }
        for precision in VectorPrecision.allCases {
            let file = try GalleryVectorFile.build(store: store, precision: precision)
            #expect(file.subspace.components == 128 && file.count == gallery.count)
            // Rows are the faces in the index's order: here the order they were generated.
            #expect(try file.ids(row: 0).face < file.ids(row: gallery.count - 1).face)
            let found = try file.nearest(queries, k: 10).map { $0.map(\.row) }
            let recall = FaceFindBench.recall(found: found, truth: truth)
            #expect(recall >= (precision == .int8 ? 0.99 : 0.995), "\(precision): recall@10 \(recall)")
            // One query at a time finds the same.
            #expect(try file.nearest([queries[0]], k: 10).first?.map(\.row) == found[0])
        }
    }

    /// A hand-computed subspace: samples along e1 (energy 18/5), e2 (8/5) and e3 (1/5); the leading two
    /// directions are e1 and e2, whatever the start.
    @Test func theLeadingSubspaceOfHandMadeSamples() throws {
        let samples: [Float] = [3, 0, 0, 0, -3, 0, 0, 0, 0, 2, 0, 0, 0, -2, 0, 0, 0, 0, 1, 0]
        for seed in [1, 2, 3] as [UInt64] {
            let s = PrincipalSubspace.learn(samples: samples, dimension: 4, components: 2, seed: seed)
            for r in 0..<2 {
                let row = Array(s.basis[(r * 4)..<(r * 4 + 4)])
                #expect(abs(row.map { $0 * $0 }.reduce(0, +) - 1) < 1e-5, "unit rows")
                #expect(abs(row[2]) < 1e-5 && abs(row[3]) < 1e-5, "no e3 or e4: \(row)")
            }
            let dot = (0..<4).map { s.basis[$0] * s.basis[4 + $0] }.reduce(0, +)
            #expect(abs(dot) < 1e-5, "orthogonal rows")
            // (1, 2, 3, 4) projected keeps its e1 and e2 parts: squared length 1 + 4.
            let p = s.project([1, 2, 3, 4])
            #expect(abs(p.map { $0 * $0 }.reduce(0, +) - 5) < 1e-4)
            let encoded = s.encoded
            #expect(encoded.withUnsafeBytes { PrincipalSubspace(encoded: $0) } == s)
            #expect(encoded.dropLast().withUnsafeBytes { PrincipalSubspace(encoded: $0) } == nil)
        }
        #expect(PrincipalSubspace.identity(3).project([1, 2, 3]) == [1, 2, 3])
    }

    /// Over a vector file, the live search of `serve` follows photos removed, re-added under new paths and added,
    /// and ranks every face as a fresh in-memory search of the changed index does.
    @Test func aLiveSearchOverTheFileFollowsChanges() throws {
        let (folder, db) = try Self.indexed("float32")
        let store = try SQLiteGalleryStore(path: db, create: false)
        var live = try LiveGallerySearch(file: try #require(try GalleryVectorFile.opened(store: store, rebuild: false)))
        let before = try store.loadFaceMatrix()
        #expect(live.counts == (before.images.count, before.faceCount))
        // Two photos removed; one of them written back under a new path (new ids), with its faces.
        let gone = [folder + "/Al_Gore_0001.jpg", folder + "/Ai_Sugiyama_0002.jpg"]
        let moved = try store.loadFaceMatrix(paths: [gone[0]])
        let removedIDs = Set(try store.loadFaceMatrix(paths: gone).images.map(\.id))
        try store.remove(paths: gone)
        live = try live.updated(from: store, removed: removedIDs, paths: []).search
        let copy = folder + "/copied/Al_Gore_0001.jpg"
        try store.write([IndexedImage(path: copy, state: FileState(sha256: "x", bytes: 1, modified: 0), width: 250,
                                      height: 250,
                                      faces: (0..<moved.faceCount).map { f in
                                          StoredFace(face: DetectedFace(box: moved.faceBoxes[f], score: 1),
                                                     embedding: Embedding(Array(moved.vector(ofFace: f))))
                                      })])
        let (next, reloaded) = try live.updated(from: store, removed: [], paths: [copy])
        #expect(!reloaded)
        let after = try store.loadFaceMatrix()
        #expect(next.counts == (after.images.count, after.faceCount))
        let fresh = GallerySearch(matrix: after)
        for face in 0..<before.faceCount {
            let query = [Embedding(Array(before.vector(ofFace: face)))]
            let a = try next.rank(faces: query, k: 5, metric: .cosine, threshold: nil).map(\.match)
            let b = fresh.rank(faces: query, k: 5, metric: .cosine, threshold: nil).map(\.match)
            #expect(a.map(\.path) == b.map(\.path), "face \(face)")
            for (x, y) in zip(a, b) { #expect(abs(x.score - y.score) < 1e-5) }
        }
        #expect(try next.rank(faces: [Embedding(Array(moved.vector(ofFace: 0)))], k: 1, metric: .cosine,
                              threshold: nil).first?.match.path == copy)
    }
}
