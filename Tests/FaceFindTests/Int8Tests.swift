import Foundation
import Testing
@testable import FaceFind

/// The int8 models (issue 11): catalog entries quantized from their float parents by scripts/int8/quantize.sh,
/// installed by scripts/setup.sh (`facefind models install NAME-int8 --from-source`, sha256-checked).
@Suite("Int8 models", .serialized)
struct Int8Tests {
    @Test func precisionNamesTheModel() {
        #expect(Precision.int8.modelName("facenet512") == "facenet512-int8")
        #expect(Precision.int8.modelName("facenet512-int8") == "facenet512-int8")
        #expect(Precision.fp32.modelName("facenet512") == "facenet512")
        #expect(Precision.of("dlib-int8") == .int8 && Precision.of("dlib") == .fp32)
        let configuration = PipelineConfiguration(embedder: "mobilefacenet", precision: .int8)
        #expect(configuration.embedderModel == "mobilefacenet-int8")
    }

    /// Each int8 entry is its parent with another file: same input, crop, output and threshold, and a recipe in
    /// the quantizer script.
    @Test func everyInt8ModelHasItsParentAndARecipe() throws {
        let script = try String(contentsOfFile: TestData.packageRoot.appendingPathComponent("scripts/int8/quantize.sh").path,
                                encoding: .utf8)
        #expect(ModelCatalog.quantized.map(\.name) == ["facenet512-int8", "mobilefacenet-int8", "dlib-int8",
                                                      "scrfd-500m-int8", "scrfd-2.5g-int8"])
        for spec in ModelCatalog.quantized {
            let quantization = try #require(spec.quantization)
            let parent = try #require(ModelCatalog.spec(named: quantization.parent))
            #expect(spec.input == parent.input && spec.embedder == parent.embedder && spec.task == parent.task
                    && spec.detector == parent.detector)
            #expect(spec.files[0].sha256.count == 64 && spec.files[0].path.hasPrefix("int8/"))
            #expect(Array(spec.files.dropFirst()) == Array(parent.files.dropFirst()))
            #expect(script.contains("\n    \(parent.name)) FLOAT=\(parent.files[0].path);"), "recipe for \(spec.name)")
            #expect(quantization.accuracyCost.contains("lfw-dev split top-1 0.")
                    && quantization.accuracyCost.contains("lfw-dev pairs 0."), "measured cost of \(spec.name)")
        }
    }

    /// int8 is the default only where it pays (VNNI) and its model is installed: ../shared/models holds no int8
    /// files, the set-up's models folder does.
    @Test func defaultPrecisionNeedsVNNIAndTheInstalledModel() throws {
        #expect(Precision.preferred(for: "facenet512", repository: ModelRepository(directory: TestData.models)) == .fp32)
        #expect(Precision.preferred(for: "arcface-r50", repository: ModelRepository()) == .fp32, "no int8 entry")
        #expect(Precision.preferred(for: "facenet512", repository: ModelRepository()) == (Precision.cpuHasVNNI ? .int8 : .fp32))
    }

    /// An index keeps the precision it was built with: re-indexing without --precision follows it, and asking
    /// for the other precision is refused without touching what is stored.
    @Test func anIndexKeepsItsPrecision() throws {
        let folder = try TestData.folder(withLFWPhotos: ["AJ_Cook/AJ_Cook_0001.jpg", "Adam_Sandler/Adam_Sandler_0001.jpg"])
        let db = folder + "/index.sqlite"
        func index(_ extra: [String]) throws -> (status: Int32, error: String) {
            let run = try EndToEndTests.runFacefind(["index", folder, "--db", db] + extra)
            return (run.status, run.errors)
        }
        #expect(try index(["--precision", "fp32"]).status == 0)
        #expect(try index([]).status == 0, "the default follows the index")
        let refused = try index(["--precision", "int8"])
        #expect(refused.status == 1 && refused.error.contains("facenet512-int8"), "\(refused.error)")
        let store = try SQLiteGalleryStore(path: db)
        #expect(try store.settings()?.embedder == "facenet512" && store.counts().images == 2)
    }

    static func loader() throws -> ModelLoader {
        ModelLoader(repository: ModelRepository(), runtime: try OnnxRuntime.shared(),
                    sessionOptions: SessionOptions(intraOpThreads: 1))
    }

    /// The installed int8 files are the pinned ones (the quantizer is deterministic), and each embeds the faces of
    /// real photos as its float parent does: mean cosine to the float embedding at least 0.98.
    @Test(arguments: ["facenet512", "mobilefacenet", "dlib"])
    func int8EmbeddingsFollowTheFloatOnes(_ parent: String) throws {
        let loader = try Self.loader()
        let int8 = try #require(ModelCatalog.spec(named: Precision.int8.modelName(parent)))
        try loader.repository.verify(int8)
        let float = try FacePipeline(configuration: PipelineConfiguration(embedder: parent), loader: loader)
        let quantized = try FacePipeline(configuration: PipelineConfiguration(embedder: parent, precision: .int8),
                                         loader: loader)
        #expect(quantized.settings.embedder == int8.name && quantized.settings != float.settings)
        var cosines: [Float] = []
        for photo in ["lfw-dev/AJ_Cook/AJ_Cook_0001.jpg", "lfw-dev/Adam_Sandler/Adam_Sandler_0001.jpg",
                      "lfw-dev/Abdullah_Gul/Abdullah_Gul_0011.jpg", "lfw-dev/Alejandro_Toledo/Alejandro_Toledo_0001.jpg"] {
            let image = try TestData.decode(photo)
            let a = try float.embedFaces(in: image), b = try quantized.embedFaces(in: image)
            #expect(a.count == b.count)
            cosines += zip(a, b).map { $0.embedding.similarity(to: $1.embedding, metric: .cosine) }
        }
        let mean = cosines.reduce(0, +) / Float(cosines.count)
        #expect(mean >= 0.98 && cosines.allSatisfy { $0 >= 0.95 }, "\(parent): \(cosines)")
    }

    /// The int8 detectors that set-up builds are the pinned files and find the faces their float parents find:
    /// on lfw-dev portraits and on scene photos with several people, every float face has an int8 face over it
    /// (IoU at least 0.85, landmarks within 3% of the face's width), and no int8 face is left over.
    @Test(arguments: ["scrfd-500m", "scrfd-2.5g"])
    func int8DetectorsFindTheFloatOnesFaces(_ parent: String) throws {
        let loader = try Self.loader()
        let spec = try #require(ModelCatalog.spec(named: parent + "-int8"))
        try loader.repository.verify(spec)
        let float = FaceFinder(detector: try loader.detector(named: parent))
        let quantized = FaceFinder(detector: try loader.detector(named: spec.name))
        var matched = 0
        for photo in ["lfw-dev/AJ_Cook/AJ_Cook_0001.jpg", "lfw-dev/Abdullah_Gul/Abdullah_Gul_0011.jpg",
                      "lfw-dev/Alejandro_Toledo/Alejandro_Toledo_0001.jpg", "scenes/id01/img1.jpg", "scenes/id02/img3.jpg",
                      "scenes/id03/img8.jpg", "scenes/id05/img16.jpg"] {
            let image = try TestData.decode(photo)
            let a = try float.faces(in: image), b = try quantized.faces(in: image)
            #expect(a.count == b.count, "\(photo): \(a.count) float faces, \(b.count) int8")
            for face in a {
                let twin = try #require(b.max { face.box.iou($0.box) < face.box.iou($1.box) })
                #expect(face.box.iou(twin.box) >= 0.85, "\(photo): \(face.box) against \(twin.box)")
                if let p = face.landmarks?.points, let q = twin.landmarks?.points {
                    let worst = zip(p, q).map { hypot($0.x - $1.x, $0.y - $1.y) }.max() ?? 0
                    #expect(worst <= 0.03 * face.box.width, "\(photo): landmarks \(worst) px apart")
                }
                matched += 1
            }
        }
        #expect(matched >= 8, "\(matched) faces compared")
    }

    /// `embed --detector-inputs` (a detector's calibration data) writes each photo's detector input exactly as
    /// FaceFind feeds it: N x 3 x 448 x 448 for two 250 px portraits enlarged to the default detection size, the
    /// first block equal to `DetectorInput.tensor` of the first photo; a detector without that input (YuNet) is
    /// refused by name.
    @Test func detectorInputsAreWhatTheDetectorIsFed() throws {
        let folder = try TestData.temporaryFolder()
        let photos = ["AJ_Cook/AJ_Cook_0001.jpg", "Adam_Sandler/Adam_Sandler_0001.jpg"].map { TestData.face("lfw-dev/" + $0) }
        let out = folder + "/inputs.npy"
        let common = ["--embedder", "mobilefacenet", "--precision", "fp32", "--detector-inputs", out]
        let run = try EndToEndTests.runFacefind(["embed"] + photos + ["--detector", "scrfd-500m"] + common)
        #expect(run.status == 0, "\(run.errors)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: out))
        let side = 448, block = 3 * side * side
        #expect(String(decoding: bytes[10..<128], as: UTF8.self).contains("'shape': (2, 3, 448, 448)"))
        #expect(bytes.count == 128 + 2 * block * 4)
        let written = bytes[128..<(128 + block * 4)].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let spec = try #require(ModelCatalog.spec(named: "scrfd-500m"))
        let finder = FaceFinder(detector: try Self.loader().detector(named: "scrfd-500m"))
        let expected = DetectorInput.tensor(for: finder.detectionImage(for: try TestData.decode("lfw-dev/" + "AJ_Cook/AJ_Cook_0001.jpg")).image,
                                            input: spec.input, settings: try #require(spec.detector)).tensor
        #expect(expected.shape == [1, 3, side, side] && written == expected.data)
        let refused = try EndToEndTests.runFacefind(["embed"] + photos + ["--detector", "yunet"] + common)
        #expect(refused.status != 0 && refused.errors.contains("--detector-inputs: yunet"), "\(refused.errors)")
    }

    /// The bar: on the scene photos the int8 FaceNet still finds every query's person first.
    @Test func scenesTop1IsPerfectAtInt8() throws {
        let set = try LabelledSet(splitFile: TestData.faces + "/scenes-split.json")
        let evaluator = Evaluator(set: set, loader: try Self.loader(), cacheDirectory: try TestData.temporaryFolder())
        let result = try evaluator.evaluate(PipelineConfiguration(precision: .int8), metrics: [.cosine])[0]
        #expect(result.queries == 13 && result.facesNotFound == 0)
        #expect(result.top1 == 1.0, "failed: \(result.outcomes.filter { $0.firstHitRank != 1 }.map(\.path))")
    }
}
