import Foundation
import Testing
@testable import FaceFind

/// The real models on real photos: detection, embedding, indexing with bad input, incremental runs, settings.
@Suite("Pipeline with real models", .serialized)
struct PipelineTests {
    static let configuration = PipelineConfiguration()

    @Test func yunetFindsTheFaceInAPortrait() throws {
        let image = try TestData.decode("lfw-dev/AJ_Cook/AJ_Cook_0001.jpg")
        let detector = try TestData.loader().detector(named: "yunet")
        let faces = try detector.detect(image, threshold: 0.6)
        #expect(faces.count == 1)
        let face = try #require(faces.first)
        #expect(face.score > 0.8)
        #expect(abs(face.box.center.x - 125) < 20 && abs(face.box.center.y - 125) < 25)
        #expect((70...170).contains(face.box.width))
        let landmarks = try #require(face.landmarks)
        #expect(landmarks.leftEye.x < landmarks.rightEye.x)
        #expect(landmarks.leftEye.y < landmarks.nose.y && landmarks.nose.y < landmarks.mouthLeft.y)
    }

    @Test func largePhotoIsDetectedOnACappedCopyAndMappedBack() throws {
        let image = try TestData.decode("scenes/id05/img62.jpg")
        let finder = FaceFinder(detector: try TestData.loader().detector(named: "yunet"),
                                options: DetectionOptions(maxSide: 640))
        let faces = try finder.faces(in: image)
        #expect(!faces.isEmpty && !faces[0].isWholeImage)
        // Boxes are in the original photo's pixels, so they may lie beyond the 640 px detection copy.
        let rightmost = faces.map(\.box.maxX).max() ?? 0
        #expect(rightmost <= Float(image.width) + 1)
        #expect(faces.allSatisfy { $0.box.x >= -1 && $0.box.width > 20 })
    }

    /// The detection size is the embedder's own (FaceNet-512 at the photo's own size, the landmark-aligned
    /// embedders at 448 px: docs/ModelMatrix.md), at either precision; an index keeps the size it was built with
    /// when re-indexed without --min-side (no settings-mismatch error for an index from before the change), and a
    /// size given explicitly still wins.
    @Test func theDetectionSizeIsTheEmbeddersOwnAndAnIndexKeepsIts() throws {
        #expect(PipelineConfiguration().detection.minSide == 0)
        #expect(PipelineConfiguration(embedder: "facenet512", precision: .int8).detection.minSide == 0)
        #expect(PipelineConfiguration(embedder: "mobilefacenet", precision: .int8).detection.minSide == 448)
        #expect(PipelineConfiguration(embedder: "dlib").detection.minSide == 448)
        #expect(PipelineConfiguration(embedder: "not-in-the-catalog").detection.minSide == DetectionOptions().minSide)

        let folder = try TestData.folder(withLFWPhotos: ["AJ_Cook/AJ_Cook_0001.jpg", "Adam_Sandler/Adam_Sandler_0001.jpg"])
        func index(_ db: String, _ extra: [String]) throws -> (status: Int32, minSide: Int?, errors: String) {
            let run = try EndToEndTests.runFacefind(["index", folder, "--db", folder + "/" + db] + extra)
            return (run.status, try SQLiteGalleryStore(path: folder + "/" + db).settings()?.minSide, run.errors)
        }
        let fresh = try index("default.sqlite", [])
        #expect(fresh.status == 0 && fresh.minSide == 0, "\(fresh.errors)")
        let mobile = try index("mobile.sqlite", ["--embedder", "mobilefacenet"])
        #expect(mobile.status == 0 && mobile.minSide == 448, "\(mobile.errors)")
        let old = try index("old.sqlite", ["--min-side", "448"])
        #expect(old.status == 0 && old.minSide == 448, "\(old.errors)")
        let again = try index("old.sqlite", [])
        #expect(again.status == 0 && again.minSide == 448, "re-indexing follows the index: \(again.errors)")
        let other = try index("old.sqlite", ["--min-side", "0"])
        #expect(other.status == 1 && other.minSide == 448, "an explicit other size is refused, the index untouched")
    }

    @Test func facenetPutsTheSamePersonCloser() throws {
        let pipeline = try FacePipeline(configuration: Self.configuration, loader: TestData.loader())
        func embedding(_ path: String) throws -> Embedding {
            try pipeline.embedFaces(in: TestData.decode(path)).max { $0.face.box.area < $1.face.box.area }!.embedding
        }
        let gul1 = try embedding("lfw-dev/Abdullah_Gul/Abdullah_Gul_0001.jpg")
        let gul2 = try embedding("lfw-dev/Abdullah_Gul/Abdullah_Gul_0002.jpg")
        let cook = try embedding("lfw-dev/AJ_Cook/AJ_Cook_0001.jpg")
        func cosine(_ a: Embedding, _ b: Embedding) -> Float { zip(a.vector, b.vector).reduce(0) { $0 + $1.0 * $1.1 } }
        #expect(gul1.vector.count == 512)
        #expect(abs(cosine(gul1, gul1) - 1) < 1e-4)  // L2-normalised
        #expect(cosine(gul1, gul2) > 0.5)
        #expect(cosine(gul1, gul2) > cosine(gul1, cook) + 0.3)
    }

    @Test func batchedAndSingleEmbeddingsAgree() throws {
        let pipeline = try FacePipeline(configuration: Self.configuration, loader: TestData.loader())
        let paths = ["lfw-dev/AJ_Cook/AJ_Cook_0001.jpg", "lfw-dev/Abdullah_Gul/Abdullah_Gul_0001.jpg",
                     "lfw-dev/Adam_Sandler/Adam_Sandler_0001.jpg"]
        var chips: [FaceChip] = []
        for path in paths {
            let image = try TestData.decode(path)
            let face = try pipeline.finder.faces(in: image)[0]
            chips.append(pipeline.embedder.chip(for: face, in: image))
        }
        let batched = try pipeline.embedder.embed(chips)
        for (i, chip) in chips.enumerated() {
            let single = try pipeline.embedder.embed([chip])[0]
            let difference = zip(single.vector, batched[i].vector).map { abs($0 - $1) }.max() ?? 1
            #expect(difference < 1e-4)
        }
    }

    /// A folder of good photos plus every kind of bad file the issue names.
    static func makeFolderWithBadFiles() throws -> (folder: String, good: [String], bad: [String: String]) {
        let folder = try TestData.temporaryFolder()
        let sources = ["lfw-dev/AJ_Cook/AJ_Cook_0001.jpg", "lfw-dev/Abdullah_Gul/Abdullah_Gul_0001.jpg",
                       "lfw-dev/Abdullah_Gul/Abdullah_Gul_0002.jpg", "lfw-dev/Adam_Sandler/Adam_Sandler_0001.jpg"]
        var good: [String] = []
        for (i, source) in sources.enumerated() {
            let target = "\(folder)/good\(i).jpg"
            try FileManager.default.copyItem(atPath: TestData.face(source), toPath: target)
            good.append(target)
        }
        var jpeg = [UInt8](try Data(contentsOf: URL(fileURLWithPath: TestData.face(sources[0]))))
        for i in 2..<min(400, jpeg.count) { jpeg[i] = 0x55 }  // header segments destroyed
        try Data(jpeg).write(to: URL(fileURLWithPath: "\(folder)/corrupt.jpg"))
        let png = try TestData.decode(sources[1]).pngData()
        try Data(png.prefix(png.count / 2)).write(to: URL(fileURLWithPath: "\(folder)/truncated.png"))
        try Data("this is not a photo\n".utf8).write(to: URL(fileURLWithPath: "\(folder)/notes.jpg"))
        try Data().write(to: URL(fileURLWithPath: "\(folder)/empty.jpg"))
        try Data(RGBImage(width: 1, height: 1, fill: .white).pngData()).write(to: URL(fileURLWithPath: "\(folder)/tiny.png"))
        let bad = ["corrupt.jpg": "", "truncated.png": "", "notes.jpg": "not a JPEG, PNG, WebP, HEIC or AVIF", "empty.jpg": "empty",
                   "tiny.png": "too small"]
        return (folder, good, bad.reduce(into: [:]) { $0["\(folder)/\($1.key)"] = $1.value })
    }

    @Test func badFilesAreNamedWithTheirReasonAndTheRestIsIndexed() throws {
        let (folder, good, bad) = try Self.makeFolderWithBadFiles()
        let pipeline = try FacePipeline(configuration: Self.configuration, loader: TestData.loader())
        let store = try SQLiteGalleryStore(path: folder + "/index/gallery.sqlite")
        try store.bind(pipeline.settings)
        let indexer = IndexingPipeline(finder: pipeline.finder, embedder: pipeline.embedder, store: store)
        let report = try indexer.index(directory: folder)
        #expect(report.indexed == good.count)
        #expect(Set(report.failed.map(\.path)) == Set(bad.keys))
        for failure in report.failed {
            #expect(!failure.reason.isEmpty)
            if let expected = bad[failure.path], !expected.isEmpty {
                #expect(failure.reason.contains(expected), "\(failure.path): \(failure.reason)")
            }
        }
        // Failures are recorded in the store too, so a later run lists them without retrying unchanged files.
        #expect(Set(try store.failedImages().map(\.path)) == Set(bad.keys))
        #expect(try store.counts().images == good.count)
        let again = try indexer.index(directory: folder)
        #expect(again.unchanged == good.count + bad.count && again.indexed == 0)
    }

    @Test func rerunAddsChangedAndNewAndRemovesDeleted() throws {
        let folder = try TestData.temporaryFolder()
        let names = ["AJ_Cook/AJ_Cook_0001.jpg", "Abdullah_Gul/Abdullah_Gul_0001.jpg", "Adam_Sandler/Adam_Sandler_0001.jpg"]
        for (i, n) in names.enumerated() {
            try FileManager.default.copyItem(atPath: TestData.face("lfw-dev/" + n), toPath: "\(folder)/p\(i).jpg")
        }
        let pipeline = try FacePipeline(configuration: Self.configuration, loader: TestData.loader())
        let store = try SQLiteGalleryStore(path: folder + ".sqlite")
        try store.bind(pipeline.settings)
        let indexer = IndexingPipeline(finder: pipeline.finder, embedder: pipeline.embedder, store: store)
        #expect(try indexer.index(directory: folder).indexed == 3)

        try FileManager.default.removeItem(atPath: "\(folder)/p0.jpg")                    // deleted
        try FileManager.default.removeItem(atPath: "\(folder)/p1.jpg")                    // changed content
        try FileManager.default.copyItem(atPath: TestData.face("lfw-dev/Abdullah_Gul/Abdullah_Gul_0002.jpg"),
                                         toPath: "\(folder)/p1.jpg")
        try FileManager.default.copyItem(atPath: TestData.face("lfw-dev/AJ_Cook/AJ_Cook_0001.jpg"),
                                         toPath: "\(folder)/p3.jpg")                      // new
        let report = try indexer.index(directory: folder)
        #expect(report.indexed == 2 && report.unchanged == 1 && report.removed == 1)
        let states = try store.fileStates()
        #expect(Set(states.keys) == Set(["p1.jpg", "p2.jpg", "p3.jpg"].map { "\(folder)/\($0)" }))
        let changedHash = SHA256.hex([UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(folder)/p1.jpg"))))
        #expect(states["\(folder)/p1.jpg"]?.sha256 == changedHash)
    }

    @Test func anIndexBuiltWithAnotherModelIsRefused() throws {
        let path = try TestData.temporaryFolder() + "/g.sqlite"
        let store = try SQLiteGalleryStore(path: path)
        let settings = try FacePipeline(configuration: Self.configuration, loader: TestData.loader()).settings
        try store.bind(settings)
        var other = settings
        other.embedder = "mobilefacenet"
        other.dimension = 128
        #expect {
            try SQLiteGalleryStore(path: path).bind(other)
        } throws: { error in
            let message = "\(error)"
            return message.contains("embedder: index has facenet512, requested mobilefacenet") && message.contains(path)
        }
        try store.bind(settings)  // the same settings are accepted
    }

    @Test func aFileThatIsNotAnIndexIsAClearError() throws {
        let path = try TestData.temporaryFolder() + "/not-an-index.sqlite"
        try Data("hello, not sqlite at all, just text that is long enough to be a header".utf8).write(to: URL(fileURLWithPath: path))
        #expect { try SQLiteGalleryStore(path: path) } throws: { "\($0)".contains(path) }
    }

    @Test func missingModelFileNamesTheInstallCommand() throws {
        let loader = ModelLoader(repository: ModelRepository(directory: try TestData.temporaryFolder()),
                                 runtime: try OnnxRuntime.shared())
        #expect { try loader.detector(named: "yunet") } throws: { "\($0)".contains("facefind models install yunet") }
        #expect { try loader.embedder(named: "nonesuch") } throws: { "\($0)".contains("unknown model 'nonesuch'") }
    }

    @Test func aFileThatIsNotAModelIsAClearError() throws {
        let path = try TestData.temporaryFolder() + "/fake.onnx"
        try Data("not a model".utf8).write(to: URL(fileURLWithPath: path))
        #expect { try InferenceSession(modelPath: path, runtime: OnnxRuntime.shared()) } throws: {
            "\($0)".contains(path) && "\($0)".contains("not a loadable ONNX model")
        }
    }

    @Test func modelInstallChecksTheHash() throws {
        let target = try TestData.temporaryFolder()
        let repository = ModelRepository(directory: target)
        let spec = try #require(ModelCatalog.spec(named: "yunet"))
        let report = try repository.install(spec, from: TestData.models)
        #expect(report.count == 1 && report[0].contains("copied"))
        try repository.verify(spec)
        // A wrong file under the right name is refused and not left behind.
        let fakeSource = try TestData.temporaryFolder()
        try Data("wrong".utf8).write(to: URL(fileURLWithPath: fakeSource + "/yunet_s_dynamic.onnx"))
        let other = ModelRepository(directory: try TestData.temporaryFolder())
        #expect { try other.install(spec, from: fakeSource) } throws: { "\($0)".contains("sha256") }
        #expect(!other.isInstalled(spec))
    }
}
