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

    @Test func choleskyFactorsAndSolves() {
        // [[4, 2], [2, 3]] = L Lᵀ with L = [[2, 0], [1, sqrt(2)]]; L x = (2, 1 + sqrt(2)) gives x = (1, 1).
        let l = Cholesky.lower([4, 2, 2, 3], size: 2)
        #expect(l[0] == 2 && l[1] == 0 && l[2] == 1 && abs(l[3] - 2.0.squareRoot()) < 1e-12)
        let x = Cholesky.solveLower(l, [2, 1 + 2.0.squareRoot()])
        #expect(abs(x[0] - 1) < 1e-12 && abs(x[1] - 1) < 1e-12)
    }

    @Test func whiteningCosineIsTheMahalanobisCosine() throws {
        // ±(sqrt 2, sqrt 2) and ±(1, -1): covariance [[1.5, 0.5], [0.5, 1.5]], inverse [[0.75, -0.25],
        // [-0.25, 0.75]]. Whitened, (1, 0) and (0, 1) have cosine -0.25 / 0.75 = -1/3 (they were orthogonal).
        let r = Float(2).squareRoot()
        let faces = [Embedding([r, r]), Embedding([-r, -r]), Embedding([1, -1]), Embedding([-1, 1])]
        let full = try #require(EmbeddingWhitening(fitting: faces, shrinkage: 0))
        let cosine = full.apply(Embedding([1, 0])).similarity(to: full.apply(Embedding([0, 1])), metric: .cosine)
        #expect(abs(cosine + 1.0 / 3.0) < 1e-5, "\(cosine)")
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

    @Test func fusionStandardisesThenLearnsWeights() {
        // Member A separates the pairs (same 1, 3, 1, 3; different -1, -3, -1, -3); member B does not
        // (1, 1, -1, -1 in both classes). A: mean 0, sd sqrt 5; B: mean 0, sd 1.
        let a: [Float] = [1, 3, 1, 3, -1, -3, -1, -3], b: [Float] = [1, 1, -1, -1, 1, 1, -1, -1]
        let same = [true, true, true, true, false, false, false, false]
        let z = FusionModel(.zScore, scores: [a, b], same: same, givenWeights: [1, 1])
        #expect(z.offsets == [0, 0] && abs(z.scales[0] - 5.0.squareRoot()) < 1e-12 && z.scales[1] == 1)
        #expect(abs(z.score([3, 1]) - Float(3 / 5.0.squareRoot() + 1)) < 1e-6)
        // Fisher: B's class means are equal and its within-class scores are uncorrelated with A's, so all the
        // weight goes to A: the score is A's z-score alone.
        let learned = FusionModel(.learned, scores: [a, b], same: same, givenWeights: [1, 1])
        #expect(abs(learned.weights[0] - 1) < 1e-9 && abs(learned.weights[1]) < 1e-9)
        #expect(abs(learned.score([3, 1]) - Float(3 / 5.0.squareRoot())) < 1e-6)
        // A missing score (no face) stays missing, and is left out of the fit.
        #expect(learned.score([-.greatestFiniteMagnitude, 1]) == -.greatestFiniteMagnitude)
        let withMissing = FusionModel(.zScore, scores: [a + [-.greatestFiniteMagnitude], b + [5]], same: same + [true],
                                      givenWeights: [1, 1])
        #expect(withMissing == z)
        // The plain sum keeps the given weights.
        #expect(FusionModel(.sum, scores: [a, b], same: same, givenWeights: [1, 0.5]).score([2, 2]) == 3)
        #expect(!ScoreFusion.learned.needsTraining(members: 1) && ScoreFusion.zScore.needsTraining(members: 2))
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
        let margin32 = try #require(CropChoice(name: "margin32")).policy(own: facenet)
        #expect(margin32 == .margin(margin: 16, resize: 160, size: 160) && margin32.name == "margin32")
        #expect(CropChoice.margin.policy(own: facenet) == facenet)
        // dlib's own crop is an align5 onto dlib's template: "align5" on a dlib index is that template, not
        // ArcFace's (the index stores only the name).
        let dlib = try OnnxEmbedder.catalogCrop(of: ModelCatalog.dlibEmbedder)
        #expect(CropChoice.align5.policy(own: dlib) == dlib)
        let arcFace = CropChoice.align5.policy(own: facenet)
        #expect(arcFace.outputSize == 160 && arcFace != dlib)
        for bad in ["margin33", "marginx", "margin-2", "margin1002", "box", ""] { #expect(CropChoice(name: bad) == nil, "\(bad)") }
        for choice in [CropChoice.margin, .marginPixels(0), .marginPixels(32), .align5, .dlibChip] {
            #expect(CropChoice(name: choice.name) == choice && choice.policy(own: facenet).name == choice.name)
        }
    }
}
