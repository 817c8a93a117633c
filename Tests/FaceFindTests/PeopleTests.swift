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
