import Testing
@testable import FaceFind

@Suite("Search and metrics")
struct SearchTests {
    /// Three images: A with faces (1,0) and (0,1), B with (0.6,0.8), C with (-1,0).
    func matrix() -> FaceMatrix {
        var m = FaceMatrix(dimension: 2)
        m.appendImage(id: 1, path: "A")
        m.appendFace(id: 10, box: Box(x: 0, y: 0, width: 1, height: 1), isWholeImage: false, vector: [1, 0])
        m.appendFace(id: 11, box: Box(x: 5, y: 5, width: 1, height: 1), isWholeImage: false, vector: [0, 1])
        m.appendImage(id: 2, path: "B")
        m.appendFace(id: 20, box: Box(x: 0, y: 0, width: 2, height: 2), isWholeImage: false, vector: [0.6, 0.8])
        m.appendImage(id: 3, path: "C")
        m.appendFace(id: 30, box: Box(x: 0, y: 0, width: 3, height: 3), isWholeImage: true, vector: [-1, 0])
        return m
    }

    /// The one ranking rule of every search: best score, then lower image id, then lower face id; "unknown"
    /// below a similarity threshold or above a distance threshold; an image keeps its best match over several
    /// query faces.
    @Test func oneRankingRule() {
        func match(_ image: Int64, _ face: Int64, _ score: Float) -> Match {
            Match(rank: 0, imageID: image, path: "\(image).jpg", score: score, faceID: face, box: Box(x: 0, y: 0, width: 1, height: 1),
                  isWholeImage: false)
        }
        #expect(DistanceMetric.cosine.isUnknown(0.4, threshold: 0.5) && !DistanceMetric.cosine.isUnknown(0.6, threshold: 0.5))
        #expect(DistanceMetric.euclidean.isUnknown(1.2, threshold: 1) && !DistanceMetric.euclidean.isUnknown(0.8, threshold: 1))
        #expect(!DistanceMetric.cosine.isUnknown(-5, threshold: nil))
        #expect(match(2, 9, 0.8).ranks(before: match(1, 1, 0.7), metric: .cosine))
        #expect(match(1, 9, 0.7).ranks(before: match(2, 1, 0.7), metric: .cosine), "tie: lower image id")
        #expect(match(1, 1, 0.7).ranks(before: match(1, 2, 0.7), metric: .cosine), "tie: lower face id")
        #expect(match(3, 1, 0.2).ranks(before: match(1, 1, 0.9), metric: .euclidean), "distances: lower first")
        // Query face 0 finds image 1 at 0.9 and image 2 at 0.3; face 1 finds image 2 at 0.8 and image 3 at 0.8.
        // Best per image: 1 (0.9, face 0), 2 (0.8, face 1), 3 (0.8, face 1); images 2 and 3 tie, 2 first.
        let ranked = Match.bestPerImage([[match(1, 10, 0.9), match(2, 20, 0.3)], [match(2, 21, 0.8), match(3, 30, 0.8)]],
                                        metric: .cosine, k: 3, threshold: 0.85)
        #expect(ranked.map(\.match.imageID) == [1, 2, 3] && ranked.map(\.list) == [0, 1, 1])
        #expect(ranked.map(\.match.rank) == [1, 2, 3] && ranked.map(\.match.faceID) == [10, 21, 30])
        #expect(ranked.map(\.match.unknown) == [false, true, true])
        #expect(Match.bestPerImage([[match(1, 10, 0.9), match(2, 20, 0.3)]], metric: .cosine, k: 1).count == 1)
    }

    @Test func galleryImageScoresByItsBestFace() {
        // Query (0, 1): A's second face scores 1, B scores 0.8, C scores 0.
        let matches = GallerySearch(matrix: matrix()).search(Embedding([0, 1]), k: 3)
        #expect(matches.map(\.path) == ["A", "B", "C"])
        #expect(matches.map(\.score) == [1, 0.8, 0])
        #expect(matches[0].faceID == 11 && matches[0].box == Box(x: 5, y: 5, width: 1, height: 1))
        #expect(matches.map(\.rank) == [1, 2, 3])
        #expect(matches[2].isWholeImage)
    }

    @Test func euclideanRanksByDistance() {
        // Query (0.6, 0.8): B at distance 0; A's nearest face (0,1): sqrt(0.36 + 0.04) = sqrt(0.4); C: sqrt(2.56+0.64).
        let matches = GallerySearch(matrix: matrix()).search(Embedding([0.6, 0.8]), k: 2, metric: .euclidean)
        #expect(matches.map(\.path) == ["B", "A"])
        #expect(abs(matches[0].score) < 1e-3)
        #expect(abs(matches[1].score - Float(0.4).squareRoot()) < 1e-5)
    }

    /// One image of `id` and `path` with a face at the unit vector (x, sqrt(1 - x²)) for each x (face ids id*10,
    /// id*10+1, ...).
    func image(_ id: Int64, _ path: String, _ xs: Float...) -> FaceMatrix {
        var m = FaceMatrix(dimension: 2)
        m.appendImage(id: id, path: path)
        for (i, v) in xs.enumerated() {
            m.appendFace(id: id * 10 + Int64(i), box: Box(x: 0, y: 0, width: 1, height: 1), isWholeImage: false,
                         vector: [v, (1 - v * v).squareRoot()])
        }
        return m
    }

    /// A live search follows removals, additions and re-indexed images (a new image taking a removed one's id)
    /// without reloading: hand-computed on the three-image gallery.
    @Test func liveSearchFollowsChangesWithoutReloading() throws {
        let live = LiveGallerySearch(matrix: matrix())
        func ranked(_ s: LiveGallerySearch, _ query: [Float], metric: DistanceMetric = .cosine) -> [String] {
            (try? s.rank(faces: [Embedding(query)], k: 3, metric: metric, threshold: 0.5).map(\.match.path)) ?? []
        }
        #expect(ranked(live, [0, 1]) == ["A", "B", "C"])
        // B removed, D added with a face at (0, 1): A and D tie at 1, the lower id first; C at 0.
        let one = live.applying(removed: [2], added: image(4, "D", 0))
        #expect(ranked(one, [0, 1]) == ["A", "D", "C"])
        let top = try one.rank(faces: [Embedding([0, 1])], k: 3, metric: .cosine, threshold: 0.5)
        #expect(top.map(\.match.faceID) == [11, 40, 30] && top.map(\.match.unknown) == [false, false, true])
        #expect(one.counts == (images: 3, faces: 4) && one.hidden == [2])
        // D removed again; C re-indexed under its own id with a face at (0.6, 0.8): the base's C is hidden.
        let two = one.applying(removed: [4], added: image(3, "C2", 0.6))
        #expect(ranked(two, [0, 1]) == ["A", "C2"])
        #expect(ranked(two, [0.6, 0.8], metric: .euclidean) == ["C2", "A"])
        #expect(two.counts == (images: 2, faces: 3) && two.hidden == [2, 3] && two.recent.matrix.images.map(\.id) == [3])
        #expect(!two.needsCompaction)
        // Past 4,096 recent faces a fresh load pays.
        var many = FaceMatrix(dimension: 2)
        for id in Int64(100)..<Int64(4_198) { many.append(contentsOf: image(id, "x", 0.5)) }
        #expect(two.applying(removed: [], added: many).needsCompaction)
    }

    /// Random galleries and random changes: the live search ranks exactly as a search built afresh on the
    /// changed gallery; the index path (VectorIndex) passes over excluded images as the plain loop does.
    @Test func liveSearchEqualsAFreshSearchAfterRandomChanges() throws {
        var generator = SplitMix64(seed: 7)
        func unit(_ d: Int) -> [Float] {
            let v = (0..<d).map { _ in Float(generator.next() % 2001) / 1000 - 1 }
            let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return v.map { $0 / n }
        }
        var truth: [Int64: [[Float]]] = [:]
        func matrix(_ images: [Int64: [[Float]]]) -> FaceMatrix {
            var m = FaceMatrix(dimension: 16)
            for id in images.keys.sorted() {
                m.appendImage(id: id, path: "\(id).jpg")
                for (i, v) in images[id]!.enumerated() {
                    m.appendFace(id: id * 10 + Int64(i), box: Box(x: 0, y: 0, width: 1, height: 1), isWholeImage: false, vector: v)
                }
            }
            return m
        }
        for id in Int64(1)...200 { truth[id] = (0..<Int(1 + generator.next() % 3)).map { _ in unit(16) } }
        var live = LiveGallerySearch(matrix: matrix(truth))
        var nextID: Int64 = 201
        for step in 0..<40 {
            var removed = Set<Int64>(), added: [Int64: [[Float]]] = [:]
            for _ in 0..<Int(generator.next() % 4) {
                let keys = truth.keys.sorted()
                guard !keys.isEmpty else { break }
                let victim = keys[Int(generator.next() % UInt64(keys.count))]
                truth[victim] = nil
                removed.insert(victim)
            }
            for _ in 0..<Int(generator.next() % 4) {
                // A new id, or (one time in three) a reused one, as SQLite does after deleting the largest.
                let id = generator.next() % 3 == 0 ? (removed.first ?? nextID) : nextID
                if id == nextID { nextID += 1 }
                added[id] = (0..<Int(1 + generator.next() % 3)).map { _ in unit(16) }
                truth[id] = added[id]
            }
            live = live.applying(removed: removed, added: matrix(added))
            let fresh = GallerySearch(matrix: matrix(truth))
            for metric in DistanceMetric.allCases {
                let queries = [unit(16), unit(16)].map(Embedding.init)
                let a = try live.rank(faces: queries, k: 10, metric: metric, threshold: nil)
                let b = fresh.rank(faces: queries, k: 10, metric: metric, threshold: nil)
                #expect(a.map(\.match.imageID) == b.map(\.match.imageID) && a.map(\.list) == b.map(\.list), "step \(step)")
                #expect(zip(a, b).allSatisfy { abs($0.match.score - $1.match.score) < 1e-5 && $0.match.faceID == $1.match.faceID })
            }
        }
        let all = matrix(truth), excluded = Set(truth.keys.sorted().prefix(40))
        let indexed = GallerySearch(matrix: all, indexFrom: 0), plain = GallerySearch(matrix: all.keeping { !excluded.contains($0.id) })
        #expect(indexed.index != nil)
        for _ in 0..<5 {
            let query = Embedding(unit(16))
            #expect(indexed.search(query, k: 10, excluding: excluded).map(\.imageID) == plain.search(query, k: 10).map(\.imageID))
        }
    }

    @Test func topKSelectsLargestStably() {
        #expect(topK([0.1, 0.9, 0.5, 0.9, 0.3], k: 3) == [1, 3, 2])
        #expect(topK([3, 1, 2], k: 10) == [0, 2, 1])
        #expect(topK([], k: 3).isEmpty)
    }

    @Test func dotProductMatchesScalarLoop() {
        let a = (0..<37).map { Float($0) * 0.5 }, b = (0..<37).map { Float(37 - $0) }
        let expected = zip(a, b).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        let got = a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in dot(pa.baseAddress!, pb.baseAddress!, 37) } }
        #expect(abs(got - expected) < 1e-2)
    }

    @Test func filterKeepsChosenImagesAndTheirFaces() {
        let sub = matrix().filter { $0 != "A" }
        #expect(sub.images.map(\.path) == ["B", "C"])
        #expect(sub.faceCount == 2 && sub.faceImage == [0, 1] && Array(sub.vector(ofFace: 1)) == [-1, 0])
    }

    @Test func cmcAndTopK() {
        // Ranks 1, 3, none, 2: top-1 1/4, top-2 2/4, top-3 3/4, never 4/4.
        let ranks: [Int?] = [1, 3, nil, 2]
        #expect(RetrievalMetrics.cmc(firstHitRanks: ranks, maxRank: 4) == [0.25, 0.5, 0.75, 0.75])
        #expect(RetrievalMetrics.topK(firstHitRanks: ranks, k: 1) == 0.25)
        #expect(RetrievalMetrics.topK(firstHitRanks: ranks, k: 5) == 0.75)
        #expect(RetrievalMetrics.firstHitRank(["x", "y", "z"], id: "z") == 3)
        #expect(RetrievalMetrics.firstHitRank(["x"], id: "q") == nil)
    }

    @Test func queryFaceChoice() {
        let faces = [
            DetectedFace(box: Box(x: 0, y: 0, width: 50, height: 50), score: 0.99),   // largest, corner
            DetectedFace(box: Box(x: 90, y: 90, width: 20, height: 20), score: 0.7),  // centred
            DetectedFace(box: Box(x: 150, y: 0, width: 30, height: 30), score: 0.5),
        ]
        #expect(QueryFaceChoice.largest.choose(from: faces, imageWidth: 200, imageHeight: 200) == [0])
        #expect(QueryFaceChoice.center.choose(from: faces, imageWidth: 200, imageHeight: 200) == [1])
        #expect(QueryFaceChoice.score.choose(from: faces, imageWidth: 200, imageHeight: 200) == [0])
        #expect(QueryFaceChoice.all.choose(from: faces, imageWidth: 200, imageHeight: 200) == [0, 1, 2])
    }

    /// A bystander cut by the border, as SCRFD-2.5G boxes one in lfw-dev's Doug_Duncan_0001.jpg: its box
    /// (-40, 40, 100 x 140 = 14,000 px²) is larger than the subject's (75, 60, 100 x 120 = 12,000 px²), but
    /// only 60 x 140 = 8,400 px² of it is in the 250 x 250 photo.
    @Test func largestCountsOnlyTheVisiblePart() {
        let faces = [
            DetectedFace(box: Box(x: -40, y: 40, width: 100, height: 140), score: 0.6),
            DetectedFace(box: Box(x: 75, y: 60, width: 100, height: 120), score: 0.9),
        ]
        #expect(faces[0].box.visibleArea(width: 250, height: 250) == 8400)
        #expect(faces[0].box.visibleArea(width: 0, height: 0) == 14000, "size unknown: the whole box")
        #expect(QueryFaceChoice.largest.choose(from: faces, imageWidth: 250, imageHeight: 250) == [1])
        // The face kept whatever its width is the same one.
        let kept = FaceFinder.dropSmall([faces[0], DetectedFace(box: Box(x: 100, y: 100, width: 30, height: 30), score: 0.9)],
                                        below: 40, imageWidth: 120, imageHeight: 250)
        #expect(kept.map(\.box.x) == [-40])
        let subject = FaceFinder.dropSmall([DetectedFace(box: Box(x: -100, y: 0, width: 110, height: 110), score: 0.6),
                                            DetectedFace(box: Box(x: 100, y: 100, width: 35, height: 35), score: 0.9)],
                                           below: 200, imageWidth: 250, imageHeight: 250)
        #expect(subject.map(\.box.x) == [100], "10 x 110 = 1,100 px² visible of the first, 35 x 35 = 1,225 of the second: the second is larger")
    }
}

@Suite("Hashing and tensors")
struct HashingAndTensorTests {
    @Test func sha256KnownVectors() {
        #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // 56 bytes: the padding spills into a second block.
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // Fed in pieces of 1, 63 and the rest: the same digest as one piece.
        let bytes = (0..<300).map { UInt8($0 % 251) }
        var pieces = SHA256()
        pieces.update(bytes[0..<1]); pieces.update(bytes[1..<64]); pieces.update(bytes[64...])
        #expect(pieces.finalize().map { String(format: "%02x", $0) }.joined() == SHA256.hex(bytes))
    }

    @Test func imageTensorLayoutsOrderAndNormalisation() {
        // A 2x1 image: pixel 0 = (10, 20, 30), pixel 1 = (40, 50, 60); slot 3x1 pre-filled with -9.
        let image = RGBImage(width: 2, height: 1, pixels: [10, 20, 30, 40, 50, 60])
        var nchw = [Float](repeating: -9, count: 9)
        ImageTensor.write(image, into: &nchw, index: 0, width: 3, height: 1, layout: .nchw, colorOrder: .bgr,
                          normalization: .none)
        #expect(nchw == [30, 60, -9, 20, 50, -9, 10, 40, -9])
        var nhwc = [Float](repeating: 0, count: 12)
        ImageTensor.write(image, into: &nhwc, index: 1, width: 2, height: 1, layout: .nhwc, colorOrder: .rgb,
                          normalization: .fixed)
        #expect(nhwc[6] == (10 - 127.5) / 128 && nhwc[11] == (60 - 127.5) / 128 && nhwc[0] == 0)
    }

    @Test func perImageStandardisation() {
        // Values 0 and 255 (three channels each): mean 127.5, std 127.5 -> -1 and 1.
        let image = RGBImage(width: 2, height: 1, pixels: [0, 0, 0, 255, 255, 255])
        var out = [Float](repeating: 0, count: 6)
        ImageTensor.write(image, into: &out, index: 0, width: 2, height: 1, layout: .nhwc, colorOrder: .rgb,
                          normalization: .perImageStandardization)
        #expect(out.map { ($0 * 1000).rounded() / 1000 } == [-1, -1, -1, 1, 1, 1])
        // A flat image: std floored at 1/sqrt(6), values all 0 after subtracting the mean.
        var flat = [Float](repeating: 7, count: 6)
        ImageTensor.write(RGBImage(width: 2, height: 1, pixels: [9, 9, 9, 9, 9, 9]), into: &flat, index: 0, width: 2,
                          height: 1, layout: .nhwc, colorOrder: .rgb, normalization: .perImageStandardization)
        #expect(flat == [0, 0, 0, 0, 0, 0])
    }

    @Test func thresholdsStepDownToTheFloor() throws {
        struct Fixed: FaceDetector {
            let name = "fixed"; let defaultThreshold: Float = 0.6; let predictsLandmarks = false
            func detect(_ image: RGBImage, threshold: Float) throws -> [DetectedFace] { [] }
        }
        let finder = FaceFinder(detector: Fixed(), options: DetectionOptions(thresholdFloor: 0.3, thresholdStep: 0.1))
        #expect(finder.thresholds.map { ($0 * 100).rounded() } == [60, 50, 40, 30])
        // Nothing found at any threshold: the whole image stands in.
        let faces = try finder.faces(in: RGBImage(width: 40, height: 30))
        #expect(faces == [DetectedFace.wholeImage(width: 40, height: 30)])
    }

    @Test func marginCropMatchesTrainingCrop() {
        // A 100x100 box at (50, 50) in a 300x300 image: enlarged by 22 -> (28, 28)-(172, 172), 144 px,
        // resized to 182, centre 160 kept.
        var image = RGBImage(width: 300, height: 300, fill: .black)
        image[100, 100] = .white
        let chip = FaceChip(face: DetectedFace(box: Box(x: 50, y: 50, width: 100, height: 100), score: 1),
                            in: image, policy: .margin(margin: 22, resize: 182, size: 160))
        #expect(chip.image.width == 160 && chip.image.height == 160)
        // The white pixel at 100 maps to (100 - 28 + 0.5) * 182 / 144 - 0.5 - 11 ≈ 80.1 in the chip.
        let brightest = (0..<160).max { chip.image[$0, 80].r < chip.image[$1, 80].r }!
        #expect(abs(brightest - 80) <= 1)
    }
}

/// The index settings' one encoding (key-value rows, snake_case), read back by both stores, and the camelCase rows
/// that PostgreSQL stores wrote before it.
@Suite("Index settings rows")
struct IndexSettingsRowsTests {
    let settings = IndexSettings(detector: "yunet", detectorSHA256: "aa", embedder: "facenet512-int8", embedderSHA256: "bb",
                                 crop: "margin", normalization: "fixed", dimension: 512, maxSide: 960, minSide: 448,
                                 augmentation: "flip", minFaceSize: 40)

    @Test func rowsRoundTrip() {
        let rows = Dictionary(uniqueKeysWithValues: settings.fields)
        #expect(rows["detector_sha256"] == "aa" && rows["min_side"] == "448" && rows["min_face"] == "40")
        #expect(IndexSettings(fields: rows) == settings)
    }

    /// What an older PostgreSQL store holds: Codable's keys, numbers as text.
    @Test func camelCaseRowsOfOlderStoresStillRead() {
        let legacy = ["detector": "yunet", "detectorSHA256": "aa", "embedder": "facenet512-int8", "embedderSHA256": "bb",
                      "crop": "margin", "normalization": "fixed", "dimension": "512", "maxSide": "960", "minSide": "448",
                      "augmentation": "flip", "minFaceSize": "40"]
        #expect(IndexSettings(fields: legacy) == settings)
        var first = legacy
        first["augmentation"] = nil
        first["minFaceSize"] = nil
        let read = IndexSettings(fields: first)
        #expect(read?.augmentation == "none" && read?.minFaceSize == 0, "the first release's defaults")
    }

    @Test func aMissingOrNonNumericRowIsNoSettings() {
        var rows = Dictionary(uniqueKeysWithValues: settings.fields)
        rows["dimension"] = "five hundred"
        #expect(IndexSettings(fields: rows) == nil)
        rows["dimension"] = nil
        #expect(IndexSettings(fields: rows) == nil)
    }
}

/// `FusedRanking.matches`, what `facefind search` ranks with, on 2-d vectors by hand. Gallery a, b, c; the query
/// is (1, 0). Index A holds a (1, 0), b (0, 1), c (0.6, 0.8): cosines 1, 0, 0.6. Index B, listing the same photos
/// in another order with its own ids, holds a (0, 1), b (1, 0), c (0.8, 0.6): cosines 0, 1, 0.8.
@Suite("Fused ranking")
struct FusedRankingTests {
    static func matrix(_ faces: [(id: Int64, path: String, vector: [Float])]) -> FaceMatrix {
        var matrix = FaceMatrix(dimension: 2)
        for face in faces {
            matrix.appendImage(id: face.id, path: face.path)
            matrix.appendFace(id: face.id * 10 + 1, box: Box(x: 0, y: 0, width: 10, height: 10), isWholeImage: false,
                              vector: face.vector)
        }
        return matrix
    }
    let paths = ["a.jpg": 0, "b.jpg": 1, "c.jpg": 2]
    let a = GallerySearch(matrix: matrix([(1, "a.jpg", [1, 0]), (2, "b.jpg", [0, 1]), (3, "c.jpg", [0.6, 0.8])]))
    let b = GallerySearch(matrix: matrix([(102, "c.jpg", [0.8, 0.6]), (100, "a.jpg", [0, 1]), (101, "b.jpg", [1, 0])]))
    let query = [Embedding([1, 0])]

    @Test func oneIndexRanksBySimilarityAndFlagsUnknown() {
        let ranking = FusedRanking(members: [.init(search: a, paths: paths)], imageCount: 3)
        let top = ranking.matches(queries: [query], metric: .cosine, k: 2, threshold: 0.7, paths: ["a.jpg", "b.jpg", "c.jpg"])
        #expect(top.map(\.path) == ["a.jpg", "c.jpg"] && top.map(\.rank) == [1, 2])
        #expect(top.map(\.imageID) == [1, 3] && top.map(\.faceID) == [11, 31])
        #expect(abs(top[1].score - 0.6) < 1e-6 && top.map(\.unknown) == [false, true])
    }

    /// Euclidean: reported as distances 0, 0.894 (sqrt 0.8) and 1.414 (sqrt 2), unknown above the threshold.
    @Test func oneIndexByEuclideanDistanceReportsDistances() {
        let ranking = FusedRanking(members: [.init(search: a, paths: paths)], imageCount: 3)
        let top = ranking.matches(queries: [query], metric: .euclidean, k: 3, threshold: 1, paths: ["a.jpg", "b.jpg", "c.jpg"])
        #expect(top.map(\.path) == ["a.jpg", "c.jpg", "b.jpg"])
        #expect(zip(top.map(\.score), [0, 0.8.squareRoot(), 2.squareRoot()]).allSatisfy { abs($0 - Float($1)) < 1e-5 })
        #expect(top.map(\.unknown) == [false, false, true])
    }

    /// Each index's cosines standardised over the gallery: A (1, 0, 0.6) gives z 1.1355, -1.2978, 0.1622; B
    /// (0, 1, 0.8) gives -1.3887, 0.9258, 0.4629. Equal weights: a -0.2532, b -0.3720, c 0.6251, so c, a, b.
    /// Weights 2 and 1: a 0.8823, b -1.6698, c 0.7873, so a, c, b. A fused score is judged as a similarity.
    @Test func twoIndexesFuseStandardisedScoresWithWeights() {
        let names = ["a.jpg", "b.jpg", "c.jpg"]
        let equal = FusedRanking(members: [.init(search: a, paths: paths), .init(search: b, paths: paths)], imageCount: 3)
        let top = equal.matches(queries: [query, query], metric: .cosine, k: 3, threshold: 0.5, paths: names)
        #expect(top.map(\.path) == ["c.jpg", "a.jpg", "b.jpg"])
        #expect(zip(top.map(\.score), [0.6251, -0.2532, -0.3720]).allSatisfy { abs($0 - Float($1)) < 1e-3 })
        #expect(top.map(\.imageID) == [3, 1, 2], "ids and faces of the first index")
        #expect(top.map(\.unknown) == [false, true, true])
        let weighted = FusedRanking(members: [.init(search: a, paths: paths, weight: 2), .init(search: b, paths: paths)],
                                    imageCount: 3)
        let second = weighted.matches(queries: [query, query], metric: .cosine, k: 3, threshold: nil, paths: names)
        #expect(second.map(\.path) == ["a.jpg", "c.jpg", "b.jpg"])
        #expect(zip(second.map(\.score), [0.8823, 0.7873, -1.6698]).allSatisfy { abs($0 - Float($1)) < 1e-3 })
        #expect(second.allSatisfy { !$0.unknown })
    }
}
