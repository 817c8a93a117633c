import Foundation
import Testing
@testable import FaceFind

/// The claims of the core issue, measured on the shared labelled sets, and the `facefind` binary itself.
@Suite("End to end", .serialized)
struct EndToEndTests {
    /// The `facefind` binary of the same build as these tests.
    static func facefindBinary() throws -> String {
        var candidates: [String] = []
        if let executable = Bundle.main.executableURL?.deletingLastPathComponent() {
            candidates.append(executable.appendingPathComponent("facefind").path)
            candidates.append(executable.deletingLastPathComponent().appendingPathComponent("facefind").path)
        }
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
                            .appendingPathComponent("facefind").path)
        for config in ["release", "debug"] {
            candidates.append(TestData.packageRoot.appendingPathComponent(".build/\(config)/facefind").path)
        }
        return try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0) },
                            "facefind binary not built; run scripts/setup.sh")
    }

    /// Runs the binary to the end: its exit status, standard output and standard error.
    static func runFacefind(_ arguments: [String]) throws -> (status: Int32, output: Data, errors: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try facefindBinary())
        p.arguments = arguments
        let output = Pipe(), errors = Pipe()
        p.standardOutput = output
        p.standardError = errors
        try p.run()
        // Standard error on a thread of its own, so that neither pipe can fill up and block the child.
        let errorData = DataBox(), read = DispatchSemaphore(value: 0)
        Thread { errorData.data = errors.fileHandleForReading.readDataToEndOfFile(); read.signal() }.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        read.wait()
        return (p.terminationStatus, data, String(decoding: errorData.data, as: UTF8.self))
    }

    @Test func lfwDevAccuracyWithYuNetAndFaceNet512() throws {
        let set = try LabelledSet(splitFile: TestData.faces + "/lfw-dev-split.json")
        #expect(set.queries.count == 526 && set.gallery.count == 3161)
        let evaluator = Evaluator(set: set, loader: try TestData.loader(), cacheDirectory: try TestData.temporaryFolder())
        let results = try evaluator.evaluate(PipelineConfiguration(), metrics: [.cosine, .euclidean])
        let cosine = results[0], euclidean = results[1]
        // 499 of 526 (0.9487): FaceNet-512 detects at the photo's own size since issue 11, which costs lfw-dev two
        // queries against the 448 px it was once tuned to here, and gains on the identities outside it
        // (docs/ModelMatrix.md, "Detection size per embedder").
        #expect(cosine.top1 >= 499.0 / 526, "top-1 \(cosine.top1)")
        #expect(cosine.top5 >= 0.98, "top-5 \(cosine.top5)")
        #expect(cosine.top10 >= cosine.top5 && cosine.top5 >= cosine.top1)
        // Unit vectors: euclidean distance is a monotone function of cosine, so the rankings agree.
        #expect(euclidean.top1 == cosine.top1 && euclidean.top5 == cosine.top5)
        #expect(cosine.facesNotFound == 0)
    }

    @Test func scenesEveryQueryHasAFaceAndTop1IsPerfect() throws {
        let set = try LabelledSet(splitFile: TestData.faces + "/scenes-split.json")
        let evaluator = Evaluator(set: set, loader: try TestData.loader(), cacheDirectory: try TestData.temporaryFolder())
        let result = try evaluator.evaluate(PipelineConfiguration(), metrics: [.cosine])[0]
        #expect(result.queries == 13)
        #expect(result.facesNotFound == 0)
        #expect(result.top1 == 1.0, "failed: \(result.outcomes.filter { $0.firstHitRank != 1 }.map(\.path))")
    }

    /// The LFW protocol on lfw-dev's pairs file (10 folds of 150 same and 150 different pairs, identities
    /// disjoint between folds): each fold judged at the threshold best on the other nine.
    @Test func lfwDevPairsProtocolWithFaceNet512() throws {
        let pairs = try PairsFile(contentsOf: TestData.faces + "/lfw-dev-pairs.txt")
        let images = TestData.faces + "/lfw-dev"
        let evaluator = Evaluator(set: Evaluator.photoSet(of: pairs, imagesFolder: images), loader: try TestData.loader(),
                                  cacheDirectory: try TestData.temporaryFolder())
        let result = try evaluator.evaluatePairs(pairs, imagesFolder: images, plan: EvaluationPlan(
            members: [(PipelineConfiguration(), 1)], queryFace: .prominent))
        let v = result.verification
        #expect(v.pairs == 3000 && v.foldAccuracies.count == 10)
        #expect(result.unreadable == 0)
        #expect(v.meanAccuracy >= 0.97, "accuracy \(v.meanAccuracy) ± \(v.standardDeviation)")
        #expect(v.auc >= 0.99, "AUC \(v.auc)")
        #expect(v.accuracyInterval.contains(v.meanAccuracy) && v.accuracyInterval.upperBound - v.accuracyInterval.lowerBound < 0.03)
        // The chosen thresholds agree across folds (the cosine scale does not move with the identities).
        #expect((v.foldThresholds.max() ?? 0) - (v.foldThresholds.min() ?? 0) < 0.1, "\(v.foldThresholds)")

        // Whitened per held-out fold (learned on the other folds' photos; the embeddings come from the cache):
        // every pair is scored, the setting says so, and the accuracy stays in the same range.
        var whitened = EvaluationPlan(members: [(PipelineConfiguration(), 1)], queryFace: .prominent)
        whitened.whitening = 0.5
        let w = try evaluator.evaluatePairs(pairs, imagesFolder: images, plan: whitened)
        #expect(w.setting.whitening == 0.5 && w.setting.subtractMean && w.scores.count == 3000)
        #expect(w.scores.allSatisfy { $0.score.isFinite }, "every pair scored as for its own fold")
        #expect(w.verification.meanAccuracy >= 0.97, "whitened accuracy \(w.verification.meanAccuracy)")
    }

    /// Each published protocol on the first three folds of lfw-dev's pairs (900 pairs, about 870 photos): the
    /// settings it stands for reach the evaluation, and its accuracy is in the range the whole file gives
    /// (README, "Verification": facenet 0.9873, dlib 0.9857).
    @Test(arguments: PublishedProtocol.Name.allCases)
    func publishedProtocolOnThreeFolds(_ name: PublishedProtocol.Name) throws {
        let lines = try String(contentsOfFile: TestData.faces + "/lfw-dev-pairs.txt", encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: true)
        let pairs = try PairsFile(parsing: "3\t150\n" + lines[1...900].joined(separator: "\n"))
        let images = TestData.faces + "/lfw-dev"
        let p = PublishedProtocol.named(name)
        // dlib's files are installed by set-up (scripts/dlib/install.sh), not in ../shared/models.
        let loader = name == .dlib ? ModelLoader(repository: ModelRepository(), runtime: try OnnxRuntime.shared())
                                   : try TestData.loader()
        let evaluator = Evaluator(set: Evaluator.photoSet(of: pairs, imagesFolder: images), loader: loader,
                                  cacheDirectory: try TestData.temporaryFolder("protocol-\(name)"))
        var plan = EvaluationPlan(members: [(p.configuration, 1)], metric: p.metric, queryFace: p.queryFace)
        plan.subtractMean = p.subtractMean
        let result = try evaluator.evaluatePairs(pairs, imagesFolder: images, plan: plan)
        switch name {
        case .facenet:
            #expect(result.setting.detector == "mtcnn" && result.setting.crop == "margin32")
            #expect(result.setting.augmentation == "flip-concat" && result.setting.subtractMean)
            #expect(result.setting.minSide == 0 && result.setting.minFaceSize == 0)
        case .dlib:
            #expect(result.setting.embedder == "dlib" && result.setting.crop == "dlib-chip")
            #expect(result.setting.metric == .euclidean && !result.setting.subtractMean)
        }
        let v = result.verification
        #expect(v.pairs == 900 && v.foldAccuracies.count == 3 && result.unreadable == 0)
        #expect(v.meanAccuracy >= 0.97, "\(name): \(v.foldAccuracies)")
        #expect(v.auc >= 0.99, "\(name): AUC \(v.auc)")
    }

    @Test func cliVerifiesTwoPhotos() throws {
        let binary = try Self.facefindBinary()
        func verify(_ a: String, _ b: String) throws -> Verification {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binary)
            p.arguments = ["verify", TestData.face("lfw-dev/" + a), TestData.face("lfw-dev/" + b), "--json",
                           "--models", TestData.models]
            let pipe = Pipe()
            p.standardOutput = pipe
            try p.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
            return try JSONDecoder().decode(Verification.self, from: data)
        }
        let same = try verify("Abdullah_Gul/Abdullah_Gul_0001.jpg", "Abdullah_Gul/Abdullah_Gul_0002.jpg")
        #expect(same.samePerson && same.similarity >= same.threshold && same.falseAcceptRate == 1e-3)
        let different = try verify("Abdullah_Gul/Abdullah_Gul_0001.jpg", "AJ_Cook/AJ_Cook_0001.jpg")
        #expect(!different.samePerson && different.similarity < different.threshold)
        #expect(different.first.faces.count >= 1 && different.second.name.hasSuffix("AJ_Cook_0001.jpg"))
    }

    @Test func cliEmbedsEveryFaceAsLinesOrAnArray() throws {
        let binary = try Self.facefindBinary()
        let folder = try TestData.folder(withLFWPhotos: ["AJ_Cook/AJ_Cook_0001.jpg", "Adam_Sandler/Adam_Sandler_0001.jpg"])
        try Data("not a photo".utf8).write(to: URL(fileURLWithPath: folder + "/broken.jpg"))
        func embed(_ extra: [String]) throws -> (status: Int32, lines: [[String: Any]]) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binary)
            p.arguments = ["embed", folder, "--models", TestData.models] + extra
            let pipe = Pipe()
            p.standardOutput = pipe
            try p.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            let lines = try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
            return (p.terminationStatus, lines)
        }
        let ndjson = try embed([])
        #expect(ndjson.status == 2, "a photo could not be read")
        let faces = ndjson.lines.filter { $0["embedding"] != nil }
        #expect(faces.count >= 2 && faces.allSatisfy { ($0["embedding"] as? [Double])?.count == 512 })
        #expect(ndjson.lines.contains { ($0["path"] as? String)?.hasSuffix("broken.jpg") == true && $0["error"] != nil })

        let npy = folder + "-faces.npy"
        let array = try embed(["--format", "npy", "--output", npy])
        let rows = array.lines.compactMap { $0["row"] as? Int }
        #expect(rows == Array(0..<faces.count))
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: npy)))
        let headerEnd = 10 + Int(bytes[8]) + Int(bytes[9]) << 8
        #expect(String(decoding: bytes[10..<headerEnd], as: UTF8.self).contains("'shape': (\(faces.count), 512)"))
        // The array's first row is the first line's embedding.
        let first = (0..<512).map { i in
            Float(bitPattern: UInt32(bytes[headerEnd + 4 * i]) | UInt32(bytes[headerEnd + 4 * i + 1]) << 8
                  | UInt32(bytes[headerEnd + 4 * i + 2]) << 16 | UInt32(bytes[headerEnd + 4 * i + 3]) << 24)
        }
        let expected = (faces[0]["embedding"] as? [Double] ?? []).map(Float.init)
        #expect(zip(first, expected).allSatisfy { abs($0 - $1) < 1e-6 })

        // The network inputs (the int8 calibration data): one row per face, FaceNet's 160 x 160 x 3 chip after
        // its fixed standardisation, so every value lies in [-127.5/128, 127.5/128].
        let inputs = folder + "-inputs.npy"
        _ = try embed(["--network-inputs", inputs])
        let raw = [UInt8](try Data(contentsOf: URL(fileURLWithPath: inputs)))
        let end = 10 + Int(raw[8]) + Int(raw[9]) << 8
        #expect(String(decoding: raw[10..<end], as: UTF8.self).contains("'shape': (\(faces.count), 76800)"))
        let values = stride(from: end, to: raw.count, by: 4).map { i in
            Float(bitPattern: UInt32(raw[i]) | UInt32(raw[i + 1]) << 8 | UInt32(raw[i + 2]) << 16 | UInt32(raw[i + 3]) << 24)
        }
        #expect(values.count == faces.count * 76800 && values.allSatisfy { abs($0) <= 127.5 / 128 + 1e-6 })
        #expect(Set(values.prefix(76800)).count > 100, "a real chip, not a constant")
    }

    @Test func killedIndexingResumesWithoutRedoingFinishedImages() throws {
        let folder = try TestData.temporaryFolder()
        let all = try IndexingPipeline.imageFiles(under: TestData.faces + "/lfw-dev")
        for (i, path) in all.prefix(400).enumerated() {
            try FileManager.default.copyItem(atPath: path, toPath: String(format: "%@/%04d.jpg", folder, i))
        }
        let db = folder + ".sqlite"
        let binary = try Self.facefindBinary()
        let first = Process()
        first.executableURL = URL(fileURLWithPath: binary)
        first.arguments = ["index", folder, "--db", db, "--models", TestData.models]
        first.standardOutput = FileHandle.nullDevice
        let firstErrors = folder + "-first.stderr"
        FileManager.default.createFile(atPath: firstErrors, contents: nil)
        first.standardError = FileHandle(forWritingAtPath: firstErrors)
        try first.run()
        // Kill it once a few batches are committed but well before the end.
        var committed = 0
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, first.isRunning {
            Thread.sleep(forTimeInterval: 0.05)
            committed = (try? SQLiteGalleryStore(path: db).counts().images) ?? 0
            if committed >= 128 { break }
        }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let firstLog = (try? String(contentsOfFile: firstErrors, encoding: .utf8)) ?? ""
        #expect(first.terminationReason == .uncaughtSignal,
                "indexing finished before it could be killed (exit \(first.terminationStatus)): \(firstLog)")
        let survived = try SQLiteGalleryStore(path: db).counts().images
        #expect(survived >= 128 && survived < 400)

        let second = try Self.runFacefind(["index", folder, "--db", db, "--models", TestData.models, "--json"])
        #expect(second.status == 0)
        let report = try JSONDecoder().decode(IndexReport.self, from: second.output)
        #expect(report.unchanged == survived, "every image written before the kill is skipped")
        #expect(report.indexed + report.failed.count == 400 - survived)
        #expect(try SQLiteGalleryStore(path: db).counts().images == 400)
    }

    /// `bench --synthetic N --updates K`: photos added one by one to a SQLite gallery, as `serve` applies them,
    /// are each found first by the next search and gone after their deletion, through a compaction (more than
    /// 4,096 recent faces) too.
    @Test func servedGalleryUpdatesAreFoundByTheNextSearch() throws {
        let run = try Self.runFacefind(["bench", "--synthetic", "1000", "--updates", "4200", "--json"])
        #expect(run.status == 0, "\(run.errors)")
        let result = try #require(try JSONSerialization.jsonObject(with: run.output) as? [String: Any])
        #expect(result["foundAfterAdd"] as? Int == 4200 && result["goneAfterDelete"] as? Int == 4200)
        #expect((result["compactions"] as? Int ?? 0) >= 1)
    }

    @Test func cliIndexesSearchesAndDrawsTheMontage() throws {
        let folder = try TestData.temporaryFolder()
        for n in ["Abdullah_Gul/Abdullah_Gul_0002.jpg", "Abdullah_Gul/Abdullah_Gul_0003.jpg",
                  "AJ_Cook/AJ_Cook_0001.jpg", "Adam_Sandler/Adam_Sandler_0001.jpg"] {
            try FileManager.default.copyItem(atPath: TestData.face("lfw-dev/" + n),
                                             toPath: folder + "/" + URL(fileURLWithPath: n).lastPathComponent)
        }
        let db = folder + ".sqlite", montage = folder + "-montage.png", submission = folder + "-submission.json"
        let binary = try Self.facefindBinary()
        func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binary)
            p.arguments = arguments + ["--models", TestData.models]
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = pipe
            try p.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        let index = try run(["index", folder, "--db", db])
        #expect(index.status == 0, "\(index.output)")
        let query = TestData.face("lfw-dev/Abdullah_Gul/Abdullah_Gul_0001.jpg")
        let search = try run(["search", query, "--db", db, "-k", "3", "--json", "--montage", montage,
                              "--submission", submission])
        #expect(search.status == 0, "\(search.output)")
        struct Result: Decodable { struct M: Decodable { var path: String; var score: Float }; var results: [M] }
        let results = try JSONDecoder().decode([Result].self, from: Data(search.output.utf8))
        #expect(results[0].results.count == 3)
        #expect(results[0].results[0].path.contains("Abdullah_Gul"))
        #expect(results[0].results[1].path.contains("Abdullah_Gul"))
        let picture = try ImageDecoder().decode(contentsOf: montage)
        #expect(picture.width > 4 * ResultMontage.tile && picture.height > ResultMontage.tile)
        let map = try JSONDecoder().decode([String: [String]].self, from: Data(contentsOf: URL(fileURLWithPath: submission)))
        #expect(map["Abdullah_Gul_0001.jpg"]?.first?.hasPrefix("Abdullah_Gul") == true)

        // Another embedder on the same index is refused with a clear message.
        let mixed = try run(["index", folder, "--db", db, "--embedder", "mobilefacenet"])
        #expect(mixed.status != 0 && mixed.output.contains("embedder: index has facenet512, requested mobilefacenet"))

        // A mistyped index path is an error naming it, and search leaves no empty index behind.
        let typo = folder + "/indx.sqlite"
        let missing = try run(["search", query, "--db", typo])
        #expect(missing.status == 1 && missing.output.contains("\(typo): no such index file"), "\(missing.output)")
        #expect(!FileManager.default.fileExists(atPath: typo))
    }
}

/// Bytes written by one thread before it signals the reader (the semaphore orders the two).
final class DataBox: @unchecked Sendable {
    var data = Data()
}
