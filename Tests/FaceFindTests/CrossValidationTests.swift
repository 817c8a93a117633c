import Foundation
import Testing
@testable import FaceFind

/// Choosing settings by identity-disjoint cross-validation, bootstrap intervals, the fold-dependent pair protocol
/// (facenet's mean subtraction), and the crop names an index stores: hand-worked cases.
@Suite struct CrossValidationTests {
    @Test func identitiesAreDealtRoundRobinInNameOrder() {
        // Sorted: a b c d → folds 0 1 0 1; every photo of one person lands in one fold.
        #expect(CrossValidation.identityFolds(["b", "a", "c", "a", "d"], folds: 2) == [1, 0, 0, 0, 1])
        #expect(CrossValidation.identityFolds(["x", "y", "z"], folds: 5) == [0, 1, 2])
    }

    @Test func eachFoldTakesTheSettingBestOnTheOthers() {
        // Items 0, 1 in fold 0; 2, 3 in fold 1. Setting 0 hits 1 1 0 0, setting 1 hits 0 1 1 1.
        // Fold 0 sees items 2, 3: setting 0 has 0, setting 1 has 1 → setting 1, which scores 0, 1 on fold 0.
        // Fold 1 sees items 0, 1: setting 0 has 1, setting 1 has 0.5 → setting 0, which scores 0, 0 on fold 1.
        // Held out: (0 + 1 + 0 + 0) / 4, although both settings average 0.5 or more on all items: choosing on
        // one set and reporting on it would say 0.75.
        let selection = CrossValidation.select([[1, 1, 0, 0], [0, 1, 1, 1]], folds: [0, 0, 1, 1], foldCount: 2)
        #expect(selection.chosen == [1, 0])
        #expect(selection.heldOut == 0.25)
        #expect(selection.winner == 0, "chosen equally often: the first (today's default) wins")
        #expect(selection.heldOutInterval.contains(0.25))
    }

    @Test func foldMeansAndTheirSpread() {
        // Fold 0: 1, 0 → 0.5; fold 1: 1, 1, 1 → 1. Mean of the fold means 0.75, deviation 0.25.
        let spread = CrossValidation.foldMeans([1, 0, 1, 1, 1], folds: [0, 0, 1, 1, 1], foldCount: 2)
        #expect(spread.mean == 0.75 && spread.deviation == 0.25)
        // An empty fold is left out.
        #expect(CrossValidation.foldMeans([1, 0], folds: [0, 0], foldCount: 3) == .init(mean: 0.5, deviation: 0))
    }

    @Test func equalSettingsKeepTheFirst() {
        let selection = CrossValidation.select([[1, 0, 1], [1, 0, 1], [0, 0, 0]], folds: [0, 1, 2], foldCount: 3)
        #expect(selection.chosen == [0, 0, 0] && selection.winner == 0)
        #expect(abs(selection.heldOut - 2.0 / 3.0) < 1e-12)
    }

    @Test func bootstrapIntervals() {
        #expect(CrossValidation.meanInterval([1, 1, 1]) == 1...1)
        #expect(CrossValidation.meanInterval([]) == 0...0)
        // Half hits over 500 items: the 95% interval is about ±0.044 (1.96 · sqrt(0.25 / 500)).
        let half = CrossValidation.meanInterval((0..<500).map { Double($0 % 2) })
        #expect(half.contains(0.5) && half.lowerBound > 0.44 && half.upperBound < 0.56)
        #expect(half.upperBound - half.lowerBound > 0.07)
        // The same seed gives the same interval.
        #expect(CrossValidation.meanInterval((0..<500).map { Double($0 % 2) }) == half)
        // Paired: identical settings differ by exactly 0; one better on 10 of 526 queries and worse on none is
        // told apart.
        let a = (0..<526).map { Double($0 % 3 == 0 ? 1 : 0) }
        #expect(CrossValidation.differenceInterval(a, a) == 0...0)
        var b = a
        for i in 0..<10 where b[i * 3 + 1] == 0 { b[i * 3 + 1] = 1 }
        #expect(CrossValidation.differenceInterval(b, a).lowerBound > 0)
    }

    @Test func foldDependentScoresAreJudgedFoldByFold() {
        // The pairs of VerificationMetricsTests, every score moved by +10 when fold 1 is held out: each fold's
        // threshold moves with its scores, so the accuracies are those of the unmoved protocol (2/3 and 1/3).
        let pairs = VerificationMetricsTests.pairs
        let result = VerificationMetrics.evaluate(scoredForFold: { fold in
            pairs.map { ScoredPair(score: $0.score + (fold == 1 ? 10 : 0), samePerson: $0.samePerson, fold: $0.fold) }
        }, folds: 2, bootstrapSamples: 100)
        #expect(result.foldAccuracies == [2.0 / 3.0, 1.0 / 3.0])
        #expect(abs(result.foldThresholds[0] - 0.4) < 1e-6 && abs(result.foldThresholds[1] - 10.8) < 1e-5)
        // AUC over the held-out scores: positives 0.9, 10.75, 10.6; negatives 0.3, 0.7, 10.2 → 2 + 3 + 3 of 9.
        #expect(result.auc == 8.0 / 9.0)
    }

    @Test func meanSubtractionCentresThenRescales() throws {
        let a = Embedding([1, 0]), b = Embedding([0, 1])
        let centring = try #require(EmbeddingWhitening(fitting: [a, b], shrinkage: 1))
        #expect(centring.mean == [0.5, 0.5])
        #expect(EmbeddingWhitening(fitting: [], shrinkage: 1) == nil)
        // (1, 0) - (0.5, 0.5) = (0.5, -0.5), unit length: (0.7071, -0.7071); b becomes its opposite.
        let centred = centring.apply(a)
        #expect(abs(centred.vector[0] - 0.70710678) < 1e-6 && abs(centred.vector[1] + 0.70710678) < 1e-6)
        #expect(abs(centred.similarity(to: centring.apply(b), metric: .cosine) + 1) < 1e-6)
    }

    @Test func jacobiFindsTheEigenvectors() {
        // [[2, 1], [1, 2]]: eigenvalues 1 and 3, eigenvectors (1, -1) and (1, 1) over sqrt(2).
        let (values, vectors) = SymmetricEigen.decompose([2, 1, 1, 2], size: 2)
        #expect(Set(values.map { ($0 * 1e9).rounded() / 1e9 }) == [1, 3])
        for k in 0..<2 {
            let v = (vectors[k], vectors[2 + k])
            #expect(abs(abs(v.0) - 0.5.squareRoot()) < 1e-9 && abs(abs(v.1) - 0.5.squareRoot()) < 1e-9)
            #expect((values[k] > 2) == (v.0 * v.1 > 0), "eigenvalue 3 goes with (1, 1)")
        }
        // A diagonal matrix is its own decomposition.
        #expect(SymmetricEigen.decompose([5, 0, 0, 7], size: 2).values == [5, 7])
    }

    @Test func whiteningEvensOutTheVariance() throws {
        // Mean 0; covariance diag(0.5, 2). Full whitening scales by (1/sqrt(0.5), 1/sqrt(2)) = (1.414, 0.707):
        // (1, 1) becomes (1.414, 0.707), unit length (0.894, 0.447).
        let faces = [Embedding([1, 0]), Embedding([-1, 0]), Embedding([0, 2]), Embedding([0, -2])]
        let full = try #require(EmbeddingWhitening(fitting: faces, shrinkage: 0))
        let w = full.apply(Embedding([1, 1]))
        #expect(abs(w.vector[0] - 0.894427) < 1e-5 && abs(w.vector[1] - 0.447214) < 1e-5)
        // Shrinkage 0.5: eigenvalues 0.5 · 0.5 + 0.5 · 1.25 = 0.875 and 0.5 · 2 + 0.625 = 1.625; scales 1.069 and
        // 0.784: (1.069, 0.784) → (0.8062, 0.5916).
        let half = try #require(EmbeddingWhitening(fitting: faces, shrinkage: 0.5))
        let h = half.apply(Embedding([1, 1]))
        #expect(abs(h.vector[0] - 0.80623) < 1e-4 && abs(h.vector[1] - 0.59161) < 1e-4, "\(h.vector)")
    }

    @Test func augmentationDimensions() {
        #expect(Augmentation.none.dimension(ofNetworkOutput: 512) == 512)
        #expect(Augmentation.flip.dimension(ofNetworkOutput: 512) == 512)
        #expect(Augmentation.flipConcat.dimension(ofNetworkOutput: 512) == 1024)
        #expect(Augmentation(rawValue: "flip-concat") == .flipConcat && !Augmentation.none.usesMirror)
    }

    /// The crop name an index stores brings back the very policy it was built with.
    @Test func cropNamesRoundTrip() throws {
        let facenet = try OnnxEmbedder.catalogCrop(of: try #require(ModelCatalog.spec(named: "facenet512")))
        #expect(facenet == .margin(margin: 22, resize: 182, size: 160) && facenet.name == "margin")
        let margin32 = try PipelineConfiguration.cropPolicy(named: "margin32", own: facenet)
        #expect(margin32 == .margin(margin: 16, resize: 160, size: 160) && margin32.name == "margin32")
        #expect(try PipelineConfiguration.cropPolicy(named: "margin", own: facenet) == facenet)
        // dlib's own crop is an align5 onto dlib's template: "align5" on a dlib index is that template, not
        // ArcFace's (the index stores only the name).
        let dlib = try OnnxEmbedder.catalogCrop(of: ModelCatalog.dlibEmbedder)
        #expect(try PipelineConfiguration.cropPolicy(named: "align5", own: dlib) == dlib)
        let arcFace = try PipelineConfiguration.cropPolicy(named: "align5", own: facenet)
        #expect(arcFace.outputSize == 160 && arcFace != dlib)
        for bad in ["margin33", "marginx", "margin-2", "box"] {
            #expect(throws: PipelineError.self) { try PipelineConfiguration.cropPolicy(named: bad, own: facenet) }
        }
    }
}
