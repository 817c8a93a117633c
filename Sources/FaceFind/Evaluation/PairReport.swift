import Foundation

/// Files of a pairs evaluation: `summary.json`, `pairs-N.json` (every pair's score of row N) and `roc.png`.
public enum PairReport {
    public static func write(_ results: [PairEvaluationResult], to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(results.map { var r = $0; r.scores = []; return r })
            .write(to: URL(fileURLWithPath: "\(directory)/summary.json"))
        for (n, result) in results.enumerated() {
            try encoder.encode(result.scores).write(to: URL(fileURLWithPath: "\(directory)/pairs-\(n + 1).json"))
        }
        try rocPlot(results).writePNG(to: "\(directory)/roc.png")
    }

    /// The ROC curves of all rows: true-accept rate against false-accept rate on a log scale from 1e-3 to 1
    /// (where verification thresholds are set), one colour per row, with a legend.
    public static func rocPlot(_ results: [PairEvaluationResult]) -> RGBImage {
        let curves = results.map { VerificationMetrics.roc($0.scores) }
        // The TAR axis starts below the lowest TAR at FAR 1e-3.
        let low = curves.compactMap { $0.first { $0.far >= 1e-3 }?.tar }.min() ?? 0
        var chart = Chart(title: "ROC: same-person pairs accepted against different-person pairs accepted",
                          legendRows: results.count, yMin: Chart.axisStart(below: low),
                          position: { (log10(max($0, 1e-3)) + 3) / 3 })
        chart.xTicks([(1e-3, "1e-3"), (1e-2, "1e-2"), (1e-1, "0.1"), (1.0, "1")], name: "false-accept rate")
        for (n, (result, curve)) in zip(results, curves).enumerated() {
            let v = result.verification
            // ASCII only: the bitmap font has no "±".
            let label = "\(result.setting.detector)+\(result.setting.embedder), \(result.setting.queryFace.rawValue): accuracy "
                + String(format: "%.4f +/- %.4f, AUC %.4f", v.meanAccuracy, v.standardDeviation, v.auc)
            // From the last point left of 1e-3 (drawn at the axis), so the curve starts at the left edge.
            let first = max(0, (curve.firstIndex { $0.far >= 1e-3 } ?? curve.count) - 1)
            chart.curve(curve[first...].map { ($0.far, $0.tar) }, row: n, legend: label)
        }
        return chart.canvas
    }
}
