import Foundation
import Testing
@testable import FaceFind

/// The LFW protocol's arithmetic on small hand-worked cases.
@Suite struct VerificationMetricsTests {
    /// Six pairs: same-person scores 0.9, 0.75, 0.6; different-person 0.7, 0.3, 0.2.
    static let pairs = [
        ScoredPair(score: 0.9, samePerson: true, fold: 0), ScoredPair(score: 0.3, samePerson: false, fold: 0),
        ScoredPair(score: 0.7, samePerson: false, fold: 0), ScoredPair(score: 0.75, samePerson: true, fold: 1),
        ScoredPair(score: 0.6, samePerson: true, fold: 1), ScoredPair(score: 0.2, samePerson: false, fold: 1),
    ]

    @Test func theBestThresholdIsTheMiddleOfTheBestOnes() {
        // Ascending: 0.2F 0.3F 0.6T 0.7F 0.75T 0.9T. Correct when all are "same": 3; above 0.25: 4; above 0.45: 5;
        // above 0.65: 4; above 0.725: 5; above 0.825: 4; above everything: 3. Best 5/6, at 0.45 and 0.725: the
        // middle of the two (index 1) is 0.725.
        let (threshold, accuracy) = VerificationMetrics.bestThreshold(Self.pairs)
        #expect(abs(threshold - 0.725) < 1e-6)
        #expect(accuracy == 5.0 / 6.0)
        #expect(VerificationMetrics.accuracy(Self.pairs, threshold: 0.45) == 5.0 / 6.0)
        #expect(VerificationMetrics.accuracy(Self.pairs, threshold: 0.65) == 4.0 / 6.0)
    }

    @Test func aucCountsOrderedPairsAndHalfTies() {
        // 0.9 and 0.75 beat all three negatives, 0.6 beats two: 8 of 9.
        #expect(VerificationMetrics.auc(Self.pairs) == 8.0 / 9.0)
        let tied = [ScoredPair(score: 0.5, samePerson: true, fold: 0), ScoredPair(score: 0.5, samePerson: false, fold: 0),
                    ScoredPair(score: 0.1, samePerson: false, fold: 0)]
        #expect(VerificationMetrics.auc(tied) == 0.75)
    }

    @Test func tarAtAFalseAcceptRate() {
        // Negatives descending 0.7, 0.3, 0.2. FAR 0.34 allows one: threshold 0.3, every positive above it.
        let loose = VerificationMetrics.tar(Self.pairs, atFAR: 0.34)
        #expect(loose.tar == 1 && loose.threshold == 0.3)
        // FAR 0.1 allows none: threshold 0.7, two of three positives above.
        let strict = VerificationMetrics.tar(Self.pairs, atFAR: 0.1)
        #expect(strict.tar == 2.0 / 3.0 && strict.threshold == 0.7)
    }

    @Test func rocStepsThroughEveryScore() {
        let points = VerificationMetrics.roc(Self.pairs)
        let expected: [(Double, Double)] = [(0, 0), (0, 1.0 / 3), (0, 2.0 / 3), (1.0 / 3, 2.0 / 3), (1.0 / 3, 1),
                                            (2.0 / 3, 1), (1, 1)]
        #expect(points.count == expected.count)
        for (point, want) in zip(points, expected) {
            #expect(abs(point.far - want.0) < 1e-12 && abs(point.tar - want.1) < 1e-12)
        }
    }

    @Test func eachFoldIsJudgedAtTheThresholdOfTheOthers() {
        // Fold 0 is judged at fold 1's best threshold, 0.4 (0.2F | 0.6T 0.8T): 0.9 same ✓, 0.3 different ✓,
        // 0.7 same ✗ → 2/3. Fold 1 at fold 0's, 0.8 (0.3F 0.7F | 0.9T): 0.75 and 0.6 different ✗✗, 0.2 ✓ → 1/3.
        let result = VerificationMetrics.evaluate(Self.pairs, folds: 2, bootstrapSamples: 200)
        #expect(result.foldThresholds.count == 2)
        #expect(abs(result.foldThresholds[0] - 0.4) < 1e-6 && abs(result.foldThresholds[1] - 0.8) < 1e-6)
        #expect(result.foldAccuracies == [2.0 / 3.0, 1.0 / 3.0])
        #expect(abs(result.meanAccuracy - 0.5) < 1e-12)
        #expect(abs(result.standardDeviation - 1.0 / 6.0) < 1e-12, "population standard deviation")
        #expect(result.auc == 8.0 / 9.0 && result.pairs == 6)
        #expect(result.accuracyInterval.contains(result.meanAccuracy))
    }

    @Test func percentileIntervalByNearestRank() {
        let values = (1...100).map(Double.init)
        #expect(VerificationMetrics.percentileInterval(values) == 3...98)
        #expect(VerificationMetrics.percentileInterval([]) == 0...0)
    }

    @Test func theProminentFaceIsLargeAndCentral() {
        // A 100 px photo: a 30 px face at the centre against a 40 px face 40 px off it.
        let central = DetectedFace(box: Box(x: 35, y: 35, width: 30, height: 30), score: 0.9, landmarks: nil)
        let off = DetectedFace(box: Box(x: 70, y: 30, width: 40, height: 40), score: 0.99, landmarks: nil)
        // 900 - 0 = 900 against 1600 - 2 x (40² + 0²) = -1600.
        #expect(QueryFaceChoice.prominent.choose(from: [off, central], imageWidth: 100, imageHeight: 100) == [1])
        #expect(QueryFaceChoice.largest.choose(from: [off, central], imageWidth: 200, imageHeight: 100) == [0])
    }
}

/// NumPy's .npy layout, by hand: for a 2 x 3 array the header dict is 59 characters; magic, version and length
/// (10 bytes) + 59 + the newline = 70, padded with 58 spaces to 128.
@Suite struct NumpyArrayTests {
    @Test func headerAndDataAsNumPyWritesThem() {
        let bytes = NumpyArray.float32([1, 2, 3, 4, 5, -0.5], rows: 2, columns: 3)
        #expect(bytes.count == 128 + 6 * 4)
        #expect(Array(bytes[0..<8]) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        #expect(bytes[8] == 118 && bytes[9] == 0, "header length 59 + 58 + 1, little-endian")
        let header = String(decoding: bytes[10..<128], as: UTF8.self)
        #expect(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"))
        #expect(header.hasSuffix(String(repeating: " ", count: 58) + "\n"))
        #expect(Array(bytes[128..<132]) == [0x00, 0x00, 0x80, 0x3F], "1.0 as little-endian float32")
        #expect(Array(bytes[148..<152]) == [0x00, 0x00, 0x00, 0xBF], "-0.5")
    }

    /// A detector's calibration inputs are N x C x H x W; a 1-D array is written as NumPy writes it, "(4,)".
    @Test func anyShapeAsNumPyWritesIt() {
        let four = NumpyArray.float32([Float](repeating: 0, count: 24), shape: [1, 2, 3, 4])
        #expect(String(decoding: four[10..<128], as: UTF8.self)
            .hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3, 4), }"))
        #expect(four.count == 128 + 24 * 4)
        let one = NumpyArray.float32([1, 2, 3, 4], shape: [4])
        #expect(String(decoding: one[10..<128], as: UTF8.self)
            .hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }"))
    }
}
