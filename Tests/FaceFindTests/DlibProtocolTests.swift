import Foundation
import Testing
@testable import FaceFind

/// dlib's 5-point shape predictor, read from dlib's own file and run by FaceFind, against dlib itself
/// (dlib-bin in the venv of scripts/dlib/install.sh, through scripts/dlib/landmarks.py) on the same boxes.
@Suite("dlib shape predictor", .serialized)
struct DlibProtocolTests {
    static let predictorPath = DlibTests.work + "/models/shape_predictor_5_face_landmarks.dat"

    struct Record: Decodable {
        var path: String
        var box: [Int]
        var parts: [[Int]]
        var descriptor: [Float]
    }

    /// dlib's landmarks and descriptors of 200 lfw-dev photos (about a minute of dlib).
    static let reference: Result<[Record], any Error> = Result {
        let out = try TestData.temporaryFolder("dlib-landmarks") + "/landmarks.json"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: DlibTests.work + "/venv/bin/python")
        p.arguments = [DlibTests.scripts + "/landmarks.py", "--dlib-models", DlibTests.work + "/models",
                       "--count", "200", "--out", out]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw DlibTests.NotInstalled(description: "landmarks.py failed") }
        return try JSONDecoder().decode([Record].self, from: Data(contentsOf: URL(fileURLWithPath: out)))
    }

    @Test func readsDlibsFile() throws {
        let predictor = try DlibShapePredictor(contentsOf: Self.predictorPath)
        #expect(predictor.landmarkCount == 5)
        #expect(predictor.levels.count == 15 && predictor.levels.allSatisfy { $0.trees.count == 500 })
    }

    @Test func landmarksAreDlibsOnTheSameBoxes() throws {
        let predictor = try DlibShapePredictor(contentsOf: Self.predictorPath)
        let records = try Self.reference.get()
        #expect(records.count >= 190)
        var worst: Float = 0, exact = 0
        for record in records {
            let image = GreyImage(try ImageDecoder().decode(contentsOf: TestData.face(record.path)))
            let rect = DlibShapePredictor.Rectangle(left: record.box[0], top: record.box[1], right: record.box[2],
                                                    bottom: record.box[3])
            let parts = predictor.landmarks(in: image, rect: rect)
            let errors = zip(parts, record.parts).map { max(abs($0.x - Float($1[0])), abs($0.y - Float($1[1]))) }
            worst = max(worst, errors.max() ?? 0)
            if errors.allSatisfy({ $0 == 0 }) { exact += 1 }
        }
        #expect(worst <= 1, "largest landmark difference \(worst) px")
        #expect(exact >= records.count * 9 / 10, "\(exact) of \(records.count) photos with every landmark identical")
    }

    /// FaceFind's landmarks, FaceFind's dlib chip and the converted network against face_recognition's descriptor
    /// of the same box.
    @Test func descriptorsAreFaceRecognitionsOnTheSameBoxes() throws {
        let predictor = try DlibShapePredictor(contentsOf: Self.predictorPath)
        let embedder = try DlibTests.embedder()
        let records = try Self.reference.get()
        var cosines: [Float] = []
        for record in records {
            let photo = try ImageDecoder().decode(contentsOf: TestData.face(record.path))
            let rect = DlibShapePredictor.Rectangle(left: record.box[0], top: record.box[1], right: record.box[2],
                                                    bottom: record.box[3])
            let parts = predictor.landmarks(in: GreyImage(photo), rect: rect)
            let chip = try #require(DlibFaceChip.chip(photo, parts: parts))
            let mine = try embedder.embed([FaceChip(image: chip)])[0]
            cosines.append(DlibTests.cosine(mine, Embedding.normalized(record.descriptor)))
        }
        let mean = cosines.reduce(0, +) / Float(cosines.count)
        #expect(cosines.min() ?? 0 >= 0.99, "lowest cosine \(cosines.min() ?? 0), mean \(mean)")
        #expect(mean >= 0.995, "mean cosine \(mean)")
    }

    // MARK: - dlib's serialization and the box mapping, by hand

    @Test func readerDecodesDlibsIntegersAndFloats() throws {
        // 1; -10 (sign bit, one byte); 0x1234 (two bytes, little endian); 0 (no bytes); the mantissa 0xc6b86e and
        // exponent -24 of the 5-point model's first value: 13023342 / 2^24; then +infinity (exponent 32000).
        var reader = DlibReader(bytes: [0x01, 0x01, 0x81, 0x0a, 0x02, 0x34, 0x12, 0x00,
                                        0x03, 0x6e, 0xb8, 0xc6, 0x81, 0x18, 0x00, 0x02, 0x00, 0x7d], source: "test")
        #expect(try reader.integer() == 1)
        #expect(try reader.integer() == -10)
        #expect(try reader.integer() == 0x1234)
        #expect(try reader.integer() == 0)
        #expect(try reader.float() == Float(13023342.0 / 16777216.0))
        #expect(try reader.float() == .infinity)
        #expect(reader.isAtEnd)
        var truncated = DlibReader(bytes: [0x03, 0x01], source: "test")
        #expect(throws: ModelError.self) { try truncated.integer() }
        var huge = DlibReader(bytes: [0x7f], source: "test")
        #expect(throws: ModelError.self) { try huge.integer() }
        // A vector claiming more elements than there are bytes is refused before anything is allocated.
        var vector = DlibReader(bytes: [0x04, 0xff, 0xff, 0xff, 0x0f], source: "test")
        #expect(throws: ModelError.self) { try vector.array(limit: Int.max, "a vector") { try $0.integer() } }
    }

    @Test func aDamagedModelFileIsAClearError() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.predictorPath)))
        for cut in [0, 1, 100, bytes.count / 2, bytes.count - 1] {
            let error = #expect(throws: ModelError.self) {
                try DlibShapePredictor(bytes: Array(bytes.prefix(cut)), source: "sp.dat")
            }
            #expect(error.map { "\($0)".contains("sp.dat") } == true)
        }
        #expect(throws: ModelError.self) { try DlibShapePredictor(bytes: bytes + [0], source: "sp.dat") }
    }

    @Test func detectorBoxesMapToDlibsConvention() {
        // Box (100, 50) 80x100: centre (140, 100) moved by -0.05 * 80 and 0.04 * 100 → (136, 104); side
        // 0.96 * sqrt(8000) = 85.87 → 86 px; left round(136 - 42.93) = 93, top round(104 - 42.93) = 61; right and
        // bottom inclusive: 93 + 85, 61 + 85.
        let calibration = DlibBoxCalibration(dx: -0.05, dy: 0.04, side: 0.96)
        let rect = calibration.rectangle(for: Box(x: 100, y: 50, width: 80, height: 100))
        #expect(rect == DlibShapePredictor.Rectangle(left: 93, top: 61, right: 178, bottom: 146))
    }

    @Test func theDlibChipNamesRoundTripAndNeedACalibratedDetector() throws {
        let own = try OnnxEmbedder.catalogCrop(of: ModelCatalog.dlibEmbedder)
        let chip = CropChoice.dlibChip.policy(own: own)
        #expect(chip == .dlibChip(size: 150, padding: 0.25) && chip.name == "dlib-chip" && chip.outputSize == 150)
        #expect(throws: PipelineError.self) { try TestData.loader().dlibLandmarker(detector: "ultraface-320") }
        _ = try ModelLoader(repository: ModelRepository(), runtime: try OnnxRuntime.shared()).dlibLandmarker(detector: "yunet")
        // Without the shape predictor the chip cannot be cut: refused, not silently replaced by a box crop.
        let session = try InferenceSession(modelPath: try DlibTests.modelPath(), runtime: try OnnxRuntime.shared())
        #expect(throws: PipelineError.self) { try OnnxEmbedder(spec: ModelCatalog.dlibEmbedder, session: session, crop: chip) }
    }
}
