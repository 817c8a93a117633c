import Foundation
import Testing
import FaceFind

/// The code of the DocC article "Getting started" (Sources/FaceFind/FaceFind.docc/GettingStarted.md), run as
/// written there, on real photos and models, so that the article cannot drift from the library. Plain
/// `import FaceFind`: only the public API a user has.
@Suite("Getting started article")
struct GettingStartedTests {
    @Test func indexSearchAndVerifyFromSwift() throws {
        let modelsFolder = TestData.models
        let photosFolder = try TestData.temporaryFolder()
        for person in ["Tiger_Woods", "Nicole_Kidman"] {
            for n in 2...4 {
                let name = String(format: "%@_%04d.jpg", person, n)
                try FileManager.default.copyItem(atPath: TestData.face("lfw-dev/\(person)/\(name)"),
                                                 toPath: photosFolder + "/" + name)
            }
        }
        let galleryPath = photosFolder + ".sqlite"
        let queryPhoto = TestData.face("lfw-dev/Tiger_Woods/Tiger_Woods_0001.jpg")
        let (a, b) = (TestData.face("lfw-dev/Nicole_Kidman/Nicole_Kidman_0001.jpg"), queryPhoto)

        // --- The article's code, from here ---
        // The models: ONNX Runtime (found as `facefind` finds it) and the folder that `facefind models install` fills.
        let loader = ModelLoader(repository: ModelRepository(directory: modelsFolder), runtime: try OnnxRuntime.shared())
        // YuNet and FaceNet-512, each face cropped and detected as the embedder was trained.
        let pipeline = try FacePipeline(configuration: PipelineConfiguration(), loader: loader)

        // Index a folder into a SQLite gallery; run it again and only new or changed photos are redone.
        let store = try SQLiteGalleryStore(path: galleryPath)
        try store.bind(pipeline.settings)
        let report = try IndexingPipeline(finder: pipeline.finder, embedder: pipeline.embedder, store: store)
            .index(directory: photosFolder)
        print("\(report.indexed) photos, \(report.faces) faces, \(report.failed.count) unreadable")

        // Search with the query photo's largest face; a gallery photo scores by its best face.
        let query = try ImageDecoder().decode(contentsOf: queryPhoto)
        let faces = try pipeline.embedFaces(in: query)
        let chosen = QueryFaceChoice.largest.choose(from: faces.map(\.face), imageWidth: query.width,
                                                    imageHeight: query.height)
        let search = GallerySearch(matrix: try store.loadFaceMatrix())
        let threshold = Verification.threshold(for: pipeline.settings.embedder).value
        let matches = search.rank(faces: chosen.map { faces[$0].embedding }, k: 3, metric: .cosine, threshold: threshold)
        for (match, _) in matches {
            print(match.rank, match.path, match.score, match.unknown ? "(unknown person)" : "")
        }

        // Verify: are two photos of the same person?
        let answer = try pipeline.verify(("a.jpg", try ImageDecoder().decode(contentsOf: a)),
                                         ("b.jpg", try ImageDecoder().decode(contentsOf: b)))
        print(answer.samePerson ? "same person" : "different people", answer.similarity, answer.threshold)
        // --- to here ---

        #expect(report.indexed == 6 && report.failed.isEmpty)
        #expect(matches.count == 3 && matches.allSatisfy { $0.match.path.contains("Tiger_Woods") && !$0.match.unknown })
        #expect(!answer.samePerson && answer.similarity < answer.threshold)
    }
}
