import Foundation
import Testing
@testable import FaceFind

/// Issue 13's pure parts, by hand: the clustering scores, the face graph, Chinese Whispers with cannot-links.
@Suite("People: clustering")
struct PeopleTests {
    /// Labels A A B B C clustered as {0, 1, 2} {3} {4}.
    /// BCubed precision: (2/3 + 2/3 + 1/3 + 1 + 1) / 5 = 0.7333; recall: (1 + 1 + 1/2 + 1/2 + 1) / 5 = 0.8;
    /// F = 2PR / (P + R) = 0.7652. Pairs put together: 3 (all in the first cluster), of which 1 shares a label;
    /// pairs sharing a label: 2 (A's and B's). So pairwise P = 1/3, R = 1/2, F = 0.4.
    @Test func scoresOfASmallClusteringByHand() {
        let s = ClusteringScores(clusters: [7, 7, 7, 2, 9], labels: ["A", "A", "B", "B", "C"])
        #expect(abs(s.bcubedPrecision - 11.0 / 15) < 1e-12 && abs(s.bcubedRecall - 0.8) < 1e-12)
        #expect(abs(s.bcubedF - 0.765217391) < 1e-8)
        #expect(abs(s.pairwisePrecision - 1.0 / 3) < 1e-12 && abs(s.pairwiseRecall - 0.5) < 1e-12)
        #expect(abs(s.pairwiseF - 0.4) < 1e-12)
        #expect(s.clusters == 3 && s.labels == 3 && s.items == 5)
    }

    /// The bootstrap over identities, by hand on the clustering above. Per identity, its items' summed BCubed
    /// precision and recall: A (items 0, 1: 2/3 and 1 each) 4/3 and 2; B (items 2, 3: 1/3 and 1/2, 1 and 1/2)
    /// 4/3 and 1; C 1 and 1. Drawing A, A, C: P = (4/3 + 4/3 + 1) / 5 = 11/15, R = 5/5 = 1, F = 0.846154; drawing
    /// B, C, C: P = (4/3 + 2) / 4 = 5/6, R = 3/4, F = 0.789474; drawing each once gives the clustering's own F.
    @Test func bootstrapOverIdentitiesByHand() {
        let clusters = [7, 7, 7, 2, 9], labels = ["A", "A", "B", "B", "C"]
        let sums = ClusteringScores.LabelSums(clusters: clusters, labels: labels)
        #expect(sums.count == 3)
        #expect(abs(sums.f(of: [0, 0, 2]) - 0.846153846) < 1e-8)
        #expect(abs(sums.f(of: [1, 2, 2]) - 0.789473684) < 1e-8)
        #expect(abs(sums.f(of: [0, 1, 2]) - 0.765217391) < 1e-8)
        let interval = ClusteringScores.bcubedFInterval(clusters: clusters, labels: labels, resamples: 500)
        #expect(interval.lowerBound < 0.765 && interval.upperBound > 0.765 && interval.upperBound <= 1)
        // A perfect clustering has no spread; a clustering against itself differs by nothing; a better one wins.
        #expect(ClusteringScores.bcubedFInterval(clusters: [0, 0, 1, 2, 2], labels: ["A", "A", "B", "C", "C"]) == 1...1)
        #expect(ClusteringScores.bcubedFDifferenceInterval(clusters, clusters, labels: labels) == 0...0)
        let better = ClusteringScores.bcubedFDifferenceInterval([0, 0, 1, 1, 2], clusters, labels: labels)
        #expect(better.lowerBound >= 0 && better.upperBound > 0.1)
    }

    /// Choosing by cross-validation, by hand: A A B B C C D D in two folds (names sorted and dealt: A, C | B, D).
    /// X keeps A and C together and splits B and D; Y the reverse. Each fold picks the clustering best on the
    /// other (Y for A, C; X for B, D), which is wrong on its own: held-out P = 1, R = 4/8, F = 2/3, although
    /// each clustering alone scores P = 1, R = 6/8, F = 0.857 on everyone.
    @Test func choosingAClusteringByCrossValidationByHand() {
        let labels = ["A", "A", "B", "B", "C", "C", "D", "D"]
        let x = [0, 0, 1, 2, 3, 3, 4, 5], y = [0, 1, 2, 2, 3, 4, 5, 5]
        let choice = ClusteringScores.crossValidatedChoice([x, y], labels: labels, folds: 2)
        #expect(choice.chosen == [1, 0] && choice.winner == 0)
        #expect(abs(choice.heldOut - 2.0 / 3) < 1e-12)
        #expect(abs(ClusteringScores(clusters: x, labels: labels).bcubedF - 6.0 / 7) < 1e-12)
        // Where one clustering is better for everyone, every fold chooses it and the held-out F is its own.
        let perfect = [0, 0, 1, 1, 2, 2, 3, 3], singletons = Array(0..<8)
        let sure = ClusteringScores.crossValidatedChoice([singletons, perfect], labels: labels, folds: 2)
        #expect(sure.chosen == [1, 1] && sure.winner == 1 && sure.heldOut == 1 && sure.heldOutInterval == 1...1)
    }

    /// The two extremes: the labels themselves score 1 everywhere; all singletons have precision 1 and BCubed
    /// recall 3/5 here (A's two items each see half of A); one cluster of everything has recall 1.
    @Test func perfectSingletonAndLumpedClusterings() {
        let labels = ["A", "A", "B", "C", "C"]
        let perfect = ClusteringScores(clusters: [0, 0, 1, 2, 2], labels: labels)
        #expect(perfect.bcubedF == 1 && perfect.pairwiseF == 1)
        let singletons = ClusteringScores(clusters: [0, 1, 2, 3, 4], labels: labels)
        #expect(singletons.bcubedPrecision == 1 && abs(singletons.bcubedRecall - 0.6) < 1e-12)
        #expect(singletons.pairwisePrecision == 1 && singletons.pairwiseRecall == 0)
        let lumped = ClusteringScores(clusters: [0, 0, 0, 0, 0], labels: labels)
        #expect(lumped.bcubedRecall == 1 && abs(lumped.bcubedPrecision - (0.4 * 0.4 + 0.2 * 0.2 + 0.4 * 0.4) * 5 / 5) < 1e-12)
        #expect(abs(lumped.pairwisePrecision - 2.0 / 10) < 1e-12)
    }

    @Test func graphIsSymmetricWithoutSelfLoopsKeepingTheLargerWeight() {
        let graph = FaceGraph(count: 3, edges: [(0, 1, 0.5), (1, 0, 0.7), (2, 2, 1), (1, 2, 0.6)])
        #expect(graph.neighbours[0] == [.init(node: 1, weight: 0.7)])
        #expect(graph.neighbours[1] == [.init(node: 0, weight: 0.7), .init(node: 2, weight: 0.6)])
        #expect(graph.neighbours[2] == [.init(node: 1, weight: 0.6)])
    }

    /// Rows (1, 0), (0.8, 0.6), (0, 1), (-1, 0), each with its nearest other row (k = 1) kept from cosine 0.5:
    /// 0 and 1 (0.8), 2 and 1 (0.6); row 3's nearest is row 2 at 0, below the threshold.
    @Test func nearestNeighbourGraphFromTheIndex() throws {
        let rows: [[Float]] = [[1, 0], [0.8, 0.6], [0, 1], [-1, 0]]
        let index = try VectorIndex.build(count: 4, dimension: 2, precision: .float32) { range, out in
            for (i, row) in range.enumerated() { out[2 * i] = rows[row][0]; out[2 * i + 1] = rows[row][1] }
        }
        let graph = FaceGraph.nearestNeighbours(of: index, k: 1, threshold: 0.5, block: 3)
        #expect(graph.neighbours[0].map(\.node) == [1] && abs(graph.neighbours[0][0].weight - 0.8) < 1e-6)
        #expect(graph.neighbours[1].map(\.node) == [0, 2])
        #expect(graph.neighbours[2].map(\.node) == [1] && abs(graph.neighbours[2][0].weight - 0.6) < 1e-6)
        #expect(graph.neighbours[3].isEmpty)
    }

    /// Two triangles of strong edges joined by one weak edge become two clusters; a node without edges stays
    /// alone; the same graph gives the same clusters every time.
    @Test func chineseWhispersSplitsTwoTriangles() {
        var edges: [(Int, Int, Float)] = [(0, 1, 0.9), (0, 2, 0.9), (1, 2, 0.9), (3, 4, 0.9), (3, 5, 0.9), (4, 5, 0.9)]
        edges.append((2, 3, 0.1))
        let graph = FaceGraph(count: 7, edges: edges)
        let labels = ChineseWhispers.cluster(graph)
        #expect(labels == [0, 0, 0, 1, 1, 1, 2])
        #expect(ChineseWhispers.cluster(graph) == labels)
    }

    /// Three faces, all alike, two of them from one photo: those two never share a person, the third joins one.
    @Test func facesOfOnePhotoAreNeverOnePerson() {
        let graph = FaceGraph(count: 3, edges: [(0, 1, 0.9), (0, 2, 0.8), (1, 2, 0.8)])
        #expect(Set(ChineseWhispers.cluster(graph)).count == 1, "without the constraint: one person")
        for seed in UInt64(1)...20 {
            let labels = ChineseWhispers.cluster(graph, cannotLink: [[1], [0], []], seed: seed)
            #expect(labels[0] != labels[1] && Set(labels).count == 2, "seed \(seed): \(labels)")
        }
    }

    /// Fixed labels are what a user decided. One chain of strong edges 0-1-2-3-4: free, it is one cluster. With
    /// node 0 fixed to one label and node 4 to another, neither moves and they stay apart (cannot-link), their
    /// neighbours join them (node 3 the side its stronger edge leads to); with both fixed to one label, 0 and 4 are
    /// one cluster even without an edge between them (must-link), and node 5, linked to nothing, stays alone.
    @Test func fixedNodesKeepTheirLabels() {
        let chain = FaceGraph(count: 6, edges: [(0, 1, 0.9), (1, 2, 0.9), (2, 3, 0.9), (3, 4, 0.9)])
        #expect(Set(ChineseWhispers.cluster(chain).prefix(5)).count == 1)
        let graph = FaceGraph(count: 6, edges: [(0, 1, 0.9), (1, 2, 0.9), (2, 3, 0.5), (3, 4, 0.9)])
        for seed in UInt64(1)...10 {
            let apart = ChineseWhispers.cluster(graph, fixed: [0: 0, 4: 1], seed: seed)
            #expect(apart[0] == apart[1] && apart[1] == apart[2] && apart[3] == apart[4] && apart[0] != apart[4],
                    "seed \(seed): \(apart)")
            #expect(Set(apart).count == 3, "the two persons and node 5: \(apart)")
            let together = ChineseWhispers.cluster(FaceGraph(count: 6, edges: [(0, 1, 0.9), (3, 4, 0.9)]),
                                                   fixed: [0: 0, 4: 0], seed: seed)
            #expect(together[0] == together[4] && together[5] != together[0], "seed \(seed): \(together)")
        }
    }

    /// Person ids after a re-clustering, by hand. Before: faces 1, 2, 3 were person 7; faces 4, 5 person 8; face
    /// 6 pinned to person 9. New clusters (as face ids): {1, 2, 4} holds 2 of person 7's 3 faces (more than half)
    /// and 1 of person 8's 2 (not more than half): it stays person 7. {3, 5} holds 1 of 3 and 1 of 2: no majority,
    /// a new person, 20. {6, 10} holds the pinned face: person 9. {11} is alone: unassigned. {12, 13}: new, 21.
    @Test func reclusteringKeepsIDsByMajority() {
        let clustering = PeopleClustering(threshold: 0.5)
        let faceIDs: [Int64] = [1, 2, 3, 4, 5, 6, 10, 11, 12, 13]
        let node = { (id: Int64) in faceIDs.firstIndex(of: id)! }
        let clusters = [[1, 2, 4], [3, 5], [6, 10], [11], [12, 13]].map { $0.map { node(Int64($0)) } }
        let previous: [Int64: PersonAssignment] = [1: .init(person: 7), 2: .init(person: 7), 3: .init(person: 7),
                                                   4: .init(person: 8), 5: .init(person: 8),
                                                   6: .init(person: 9, pinned: true)]
        let ids = clustering.assignIDs(clusters: clusters, faceIDs: faceIDs, pinnedPerson: [node(6): 9],
                                       previous: previous, nextID: 20)
        #expect(ids == [1: 7, 2: 7, 4: 7, 3: 20, 5: 20, 6: 9, 10: 9, 12: 21, 13: 21])
    }

    /// `PeopleClustering` on a gallery made by hand (unit vectors in 4 dimensions): photo 1 has two near-identical
    /// faces (a twin, a mirror), photos 2 and 3 one face each close to the first, photo 4 a face unlike any other
    /// and a whole-image stand-in. The two faces of photo 1 are never one person; photos 2 and 3 join a person;
    /// photo 4's face stays unassigned (alone) and the stand-in is never clustered. Clustering again with the
    /// result as the previous assignment changes nothing (same ids).
    @Test func clusteringAGalleryByHand() throws {
        var matrix = FaceMatrix(dimension: 4)
        let box = Box(x: 0, y: 0, width: 50, height: 50)
        func face(_ id: Int64, _ v: [Float], whole: Bool = false) {
            matrix.appendFace(id: id, box: box, isWholeImage: whole, vector: Embedding.normalized(v).vector)
        }
        matrix.appendImage(id: 1, path: "/p/1.jpg"); face(11, [1, 0.02, 0, 0]); face(12, [1, 0, 0.02, 0])
        matrix.appendImage(id: 2, path: "/p/2.jpg"); face(21, [1, 0.05, 0.01, 0])
        matrix.appendImage(id: 3, path: "/p/3.jpg"); face(31, [1, 0.04, 0.03, 0])
        matrix.appendImage(id: 4, path: "/p/4.jpg"); face(41, [0, 0, 0, 1]); face(42, [0.9, 0.1, 0, 0], whole: true)
        let clustering = PeopleClustering(threshold: 0.9, neighbours: 4)
        let ids = try clustering.cluster(matrix, nextID: 1)
        #expect(ids[11] == nil || ids[11] != ids[12], "\(ids)")
        #expect(ids[41] == nil && ids[42] == nil)
        #expect(ids[21] != nil && ids[31] != nil && Set(ids.values).count <= 2, "\(ids)")
        #expect(ids[11] != nil || ids[12] != nil, "one of photo 1's faces is the person of photos 2 and 3")
        let again = try clustering.cluster(matrix, previous: ids.mapValues { PersonAssignment(person: $0) }, nextID: 3)
        #expect(again == ids)
    }

    /// Incremental assignment by hand (4-d unit vectors, threshold 0.9): persons 1 (faces 11, 21) and 2 (face
    /// 31) exist. New face 12 is close to person 1's faces: it joins 1. New face 13 is in photo 1 with face 11
    /// (person 1) and close to person 1 too: person 1 is taken in its photo, and person 2 is not close enough, so it
    /// waits. New face 41 is like nothing: it waits. New face 42 is close to person 2: it joins 2.
    @Test func newFacesJoinTheirNearestPersonOrWait() throws {
        var matrix = FaceMatrix(dimension: 4)
        let box = Box(x: 0, y: 0, width: 50, height: 50)
        func face(_ id: Int64, _ v: [Float]) {
            matrix.appendFace(id: id, box: box, isWholeImage: false, vector: Embedding.normalized(v).vector)
        }
        matrix.appendImage(id: 1, path: "/p/1.jpg"); face(11, [1, 0, 0, 0]); face(13, [1, 0.05, 0, 0])
        matrix.appendImage(id: 2, path: "/p/2.jpg"); face(21, [1, 0.1, 0, 0])
        matrix.appendImage(id: 3, path: "/p/3.jpg"); face(31, [0, 1, 0, 0])
        matrix.appendImage(id: 4, path: "/p/4.jpg"); face(12, [1, 0.02, 0.02, 0]); face(41, [0, 0, 0, 1])
        matrix.appendImage(id: 5, path: "/p/5.jpg"); face(42, [0.05, 1, 0, 0])
        let previous: [Int64: PersonAssignment] = [11: .init(person: 1), 21: .init(person: 1), 31: .init(person: 2, pinned: true)]
        let joined = try PeopleClustering(threshold: 0.9, neighbours: 3).assignNewFaces(matrix, previous: previous)
        #expect(joined == [12: 1, 42: 2])
    }

    /// Centring by hand: [3, 4] is [0.6, 0.8] as a unit vector, minus the centre [0.6, 0] it is [0, 0.8], so
    /// [0, 1]; [1, 0] minus the centre is [0.4, 0], so [1, 0]. Their cosine, 0.6 as they are, is 0 centred. The
    /// catalog's centres: FaceNet-512's and MobileFaceNet's (lfw-dev's mean faces, norms 0.2109 and 0.1077 as
    /// scripts/people/centre.py printed them), none for dlib or for vectors of another dimension.
    @Test func facesAreComparedCentred() {
        let centred = PeopleClustering(threshold: 0.5, centre: [0.6, 0])
        #expect(centred.compared([3, 4]) == [0, 1])
        #expect(centred.compared([1, 0]) == [1, 0])
        #expect(abs(centred.similarity([1, 0], [3, 4])) < 1e-7)
        #expect(abs(PeopleClustering(threshold: 0.5).similarity([1, 0], [3, 4]) - 0.6) < 1e-6)
        #expect(PeopleClustering(threshold: 0.5).compared([3, 4]) == [0.6, 0.8])
        func norm(_ v: [Float]?) -> Float { (v ?? []).reduce(0) { $0 + $1 * $1 }.squareRoot() }
        #expect(abs(norm(PeopleClustering.centre(of: "facenet512", dimension: 512)) - 0.2109) < 1e-3)
        #expect(abs(norm(PeopleClustering.centre(of: "mobilefacenet-int8", dimension: 128)) - 0.1077) < 1e-3)
        #expect(PeopleClustering.centre(of: "facenet512", dimension: 1024) == nil)
        #expect(PeopleClustering.centre(of: "dlib", dimension: 128) == nil)
        #expect(PeopleClustering(embedder: "facenet512", dimension: 512)?.centre?.count == 512)
    }

    /// Names are checked: trimmed; empty, over 200 characters, control characters and all digits refused.
    @Test func personNamesAreChecked() throws {
        #expect(try PeopleError.checkedName("  Ada Lovelace ") == "Ada Lovelace")
        for bad in ["", "   ", String(repeating: "x", count: 201), "a\nb", "a\u{1B}[31m", "42"] {
            #expect(throws: PeopleError.self) { try PeopleError.checkedName(bad) }
        }
        #expect(try PeopleError.checkedName("Agent 007") == "Agent 007")
    }
}

/// `evaluate --clusters` on real photos: the 61 scene photos of 13 people (several people per photo, various
/// sizes), one face per photo.
@Suite("People: clustering a labelled set", .serialized)
struct ClusterEvaluationTests {
    static func evaluator() throws -> Evaluator {
        let loader = ModelLoader(repository: ModelRepository(), runtime: try OnnxRuntime.shared(),
                                 sessionOptions: SessionOptions(intraOpThreads: 1))
        return Evaluator(set: try LabelledSet(splitFile: TestData.faces + "/scenes-split.json"), loader: loader,
                         cacheDirectory: try TestData.temporaryFolder())
    }

    /// MobileFaceNet at its calibrated clustering threshold finds the 13 people exactly. FaceNet-512 at its
    /// (stricter) clustering threshold never merges two people but splits some (17 clusters); linked from its
    /// looser match threshold it finds the 13.
    @Test func scenePhotosClusterIntoTheirThirteenPeople() throws {
        func plan(_ embedder: String) -> EvaluationPlan {
            EvaluationPlan(members: [(PipelineConfiguration(embedder: embedder), 1)], metric: .cosine, queryFace: .prominent)
        }
        let evaluator = try Self.evaluator()
        let mobile = try evaluator.clusters(plan("mobilefacenet"))
        #expect(mobile.photos == 61 && mobile.scores.labels == 13)
        #expect(mobile.threshold == ModelCatalog.spec(named: "mobilefacenet")?.embedder?.clusterThreshold)
        #expect(mobile.scores.clusters == 13 && mobile.scores.bcubedF == 1, "\(mobile.scores)")
        let facenet = try evaluator.clusters(plan("facenet512"))
        #expect(facenet.scores.bcubedPrecision == 1 && facenet.scores.clusters > 13 && facenet.scores.bcubedF > 0.9)
        let loose = try evaluator.clusters(plan("facenet512"), threshold: 0.505)
        #expect(loose.scores.clusters == 13 && loose.scores.bcubedF == 1, "\(loose.scores)")
        // Every face of every photo (66 faces: some photos hold two people): still the 13 people, the bystander
        // faces kept apart from the labelled face of their photo.
        let everyFace = try evaluator.clusters(plan("mobilefacenet"), allFaces: true)
        #expect(everyFace.photos == 61 && everyFace.faces > 61 && everyFace.scores.bcubedF == 1, "\(everyFace.scores)")
        // Half clustered, half joined: the same 13 people here.
        let grown = try evaluator.clusters(plan("mobilefacenet"), incremental: true)
        #expect(grown.incremental?.bcubedPrecision == 1 && (grown.incremental?.bcubedF ?? 0) > 0.9, "\(String(describing: grown.incremental))")
    }

    /// The clustering options are refused when meaningless, before any photo is read: a link that is no cosine
    /// (NaN, 2), no neighbours, or clustering options without --clusters.
    @Test func clusteringOptionsAreCheckedByTheCLI() throws {
        let split = ["evaluate", "--split", TestData.faces + "/scenes-split.json"]
        for (extra, message) in [(["--clusters", "--link-threshold", "nan"], "from -1 to 1"),
                                 (["--clusters", "--link-threshold", "2"], "from -1 to 1"),
                                 (["--clusters", "--neighbours", "0"], "at least 1"),
                                 (["--neighbours", "5"], "are for --clusters")] {
            let run = try EndToEndTests.runFacefind(split + extra)
            #expect(run.status != 0 && run.errors.contains(message), "\(extra): \(run.errors)")
        }
    }

    @Test func aFusionOrAnUncalibratedEmbedderIsRefused() throws {
        let evaluator = try Self.evaluator()
        let fusion = EvaluationPlan(members: [(PipelineConfiguration(), 1), (PipelineConfiguration(embedder: "mobilefacenet"), 1)],
                                    metric: .cosine, queryFace: .prominent)
        #expect(throws: EvaluationError.self) { try evaluator.clusters(fusion) }
        // ArcFace's adapter has no calibration (its weights are not here): refused by name before any embedding.
        let arcface = EvaluationPlan(members: [(PipelineConfiguration(embedder: "arcface-r50"), 1)], metric: .cosine,
                                     queryFace: .prominent)
        do {
            _ = try evaluator.clusters(arcface)
            Issue.record("arcface-r50 has no calibrated threshold, yet clustering ran")
        } catch {
            #expect("\(error)".contains("arcface-r50 has no calibrated clustering threshold"), "\(error)")
        }
    }
}
