import FaceFind
import Foundation

/// What `facefind evaluate` prints: Markdown tables of the settings measured and, for a sweep, the choice among
/// them by cross-validation.
enum EvaluationTables {
    /// The cross-validated choice among settings, with each setting's difference from the first (today's
    /// default) and its paired 95% interval.
    struct Choice: Encodable {
        var selection: CrossValidation.Selection
        /// Per setting: its mean over all items, and mean minus the first setting's with a paired interval.
        var means: [Double]
        var differences: [ClosedRange<Double>]
        /// Per setting: the mean and standard deviation of its ten (or `folds`) fold means.
        var foldMeans: [CrossValidation.FoldSpread]
        var timesChosen: [Int]
        var folds: Int

        init(_ values: [[Double]], folds: [Int], foldCount: Int) {
            let selection = CrossValidation.select(values, folds: folds, foldCount: foldCount)
            self.selection = selection
            means = values.map { $0.reduce(0, +) / Double(max($0.count, 1)) }
            differences = values.map { CrossValidation.differenceInterval($0, values[0]) }
            foldMeans = values.map { CrossValidation.foldMeans($0, folds: folds, foldCount: foldCount) }
            timesChosen = values.indices.map { s in selection.chosen.filter { $0 == s }.count }
            self.folds = foldCount
        }
    }

    struct RetrievalJSON: Encodable {
        var results: [EvaluationResult]
        var crossValidation: Choice?
    }

    struct PairsJSON: Encodable {
        var results: [PairEvaluationResult]
        var crossValidation: Choice?
    }

    static func label(_ result: EvaluationResult) -> String { result.setting.label }
    static func label(_ result: PairEvaluationResult) -> String { result.setting.label }

    /// A Markdown table, the shape of the founding report's Table 1, with the open-set figures after it.
    static func retrieval(_ results: [EvaluationResult]) -> String {
        var lines = ["| detector | embedder | crop | normalization | augmentation | detect | rerank | metric | face | top-1 | 95% interval | top-5 | top-10 | TAR@FAR1e-3 | queries | no face | images/s |",
                     "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in results {
            let s = r.setting
            let speed = r.imagesPerSecond.map { String(format: "%.1f", $0) } ?? "cached"
            let tar = r.verification.map { String(format: "%.3f", $0.tarAtFar1e3) } ?? "-"
            lines.append("| \(s.detector) | \(s.embedder) | \(s.crop) | \(s.normalization) | \(s.augmentation) | "
                + "\(s.minSideLabel)-\(s.maxSide)/\(s.minFaceSize) | \(s.rerank ? "on" : "off") | \(s.metric.rawValue) | "
                + "\(s.queryFace.rawValue) | " + String(format: "%.3f | %.3f-%.3f | %.3f | %.3f | ", r.top1,
                    r.top1Interval.lowerBound, r.top1Interval.upperBound, r.top5, r.top10)
                + "\(tar) | \(r.queries) | \(r.facesNotFound) | \(speed) |")
        }
        return lines.joined(separator: "\n")
    }

    /// A Markdown table of pair results: mean accuracy ± standard deviation over the folds, its bootstrap
    /// interval, AUC and TAR at FAR 1e-3; with the published figure when a protocol was run.
    static func pairs(_ results: [PairEvaluationResult], published: PublishedProtocol? = nil) -> String {
        var lines = ["| detector | embedder | crop | normalization | augmentation | detect | face | metric | mean subtracted | accuracy | 95% interval | AUC | TAR@FAR1e-3 | pairs | no face |",
                     "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in results {
            let s = r.setting, v = r.verification
            let fusion = s.fusion.map { $0 == ScoreFusion.sum.rawValue ? "" : " (\($0))" } ?? ""
            lines.append("| \(s.detector) | \(s.embedder)\(fusion) | \(s.crop) | \(s.normalization) | \(s.augmentation) | "
                + "\(s.minSideLabel)-\(s.maxSide)/\(s.minFaceSize) | \(s.queryFace.rawValue) | \(s.metric.rawValue) | "
                + "\(s.whitening.map { "whitened \($0)" } ?? (s.subtractMean ? "yes" : "no")) | "
                + String(format: "%.4f ± %.4f | %.4f-%.4f | %.4f | %.3f | ", v.meanAccuracy, v.standardDeviation,
                         v.accuracyInterval.lowerBound, v.accuracyInterval.upperBound, v.auc, v.tarAtFar1e3)
                + "\(v.pairs) | \(r.facesNotFound) |")
        }
        if let published {
            lines.append("")
            lines.append(String(format: "Published for the %@ protocol on LFW's own 6,000 pairs: %.4f (%@).",
                                published.name.rawValue, published.publishedLFWAccuracy, published.source))
        }
        return lines.joined(separator: "\n")
    }

    /// The cross-validated choice: per setting, its mean, its difference from the first with a paired 95%
    /// interval, and how many folds chose it; then the held-out result of choosing.
    static func choice(_ choice: Choice, labels: [String], measure: String) -> String {
        var lines = ["Choice by cross-validation over \(choice.folds) identity-disjoint folds: for each fold, the setting best on the other folds.",
                     "",
                     "| # | setting | \(measure) | fold means (mean ± sd) | difference from #1 (95% interval) | folds choosing it |",
                     "|---|---|---|---|---|---|"]
        for (i, label) in labels.enumerated() {
            let d = choice.differences[i]
            let difference = i == 0 ? "-" : String(format: "%+.4f (%+.4f to %+.4f)%@", choice.means[i] - choice.means[0],
                                                    d.lowerBound, d.upperBound, d.contains(0) ? "" : " *")
            lines.append(String(format: "| %d | %@ | %.4f | %.4f ± %.4f | %@ | %d |", i + 1, label, choice.means[i],
                                choice.foldMeans[i].mean, choice.foldMeans[i].deviation, difference,
                                choice.timesChosen[i]))
        }
        let s = choice.selection
        lines.append("")
        lines.append(String(format: "Held-out %@ of choosing this way: %.4f (95%% interval %.4f-%.4f). Chosen most often: #%d. "
                                + "* marks a difference whose interval excludes 0; any other is noise on this set.",
                            measure, s.heldOut, s.heldOutInterval.lowerBound, s.heldOutInterval.upperBound, s.winner + 1))
        return lines.joined(separator: "\n")
    }

    /// `evaluate --clusters`: one row per setting, BCubed F with its 95% interval (bootstrap over identities), and
    /// from the second row on its paired difference from the first.
    static func clusters(_ results: [ClusterEvaluation]) -> String {
        var lines = ["| setting | link from | neighbours | photos / faces | identities | clusters | BCubed P / R / F (95% interval) | vs the first row | pairwise P / R / F | seconds |",
                     "|---|---|---|---|---|---|---|---|---|---|"]
        for (n, r) in results.enumerated() {
            let s = r.scores
            var difference = ""
            if n > 0, let first = results.first, first.photoPaths == r.photoPaths {
                let d = ClusteringScores.bcubedFDifferenceInterval(r.photoClusters, first.photoClusters, labels: r.photoLabels)
                difference = String(format: "%+.4f (%+.4f to %+.4f)", s.bcubedF - first.scores.bcubedF, d.lowerBound, d.upperBound)
            }
            lines.append("| \(r.setting.label) | \(String(format: "%.3f", r.threshold)) | \(r.neighbours) | \(r.photos) / \(r.faces) | "
                + "\(s.labels) | \(s.clusters) | "
                + String(format: "%.4f / %.4f / **%.4f** (%.4f-%.4f) | %@ | %.4f / %.4f / %.4f | %.1f |", s.bcubedPrecision,
                         s.bcubedRecall, s.bcubedF, r.bcubedFInterval.lowerBound, r.bcubedFInterval.upperBound, difference,
                         s.pairwisePrecision, s.pairwiseRecall, s.pairwiseF, r.clusteringSeconds))
            if let i = r.incremental {
                lines.append("| the same, half clustered then the rest joined one by one | | | | \(i.labels) | \(i.clusters) | "
                    + String(format: "%.4f / %.4f / **%.4f** | | %.4f / %.4f / %.4f | |", i.bcubedPrecision, i.bcubedRecall,
                             i.bcubedF, i.pairwisePrecision, i.pairwiseRecall, i.pairwiseF))
            }
        }
        if results.count > 1, let first = results.first, results.allSatisfy({ $0.photoPaths == first.photoPaths }) {
            let choice = ClusteringScores.crossValidatedChoice(results.map(\.photoClusters), labels: first.photoLabels)
            lines.append("")
            lines.append(String(format: "Chosen by cross-validation over 10 identity-disjoint folds: row %d (by %d of 10 folds); "
                                    + "held-out BCubed F of choosing this way %.4f (95%% interval %.4f-%.4f).",
                                choice.winner + 1, choice.chosen.filter { $0 == choice.winner }.count, choice.heldOut,
                                choice.heldOutInterval.lowerBound, choice.heldOutInterval.upperBound))
        }
        return lines.joined(separator: "\n")
    }
}
