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
        let palette: [RGB] = [.blue, .red, .green, RGB(160, 60, 200), RGB(240, 140, 20), RGB(20, 160, 170),
                              RGB(120, 80, 40), .grey]
        let left = 60, top = 30, plotW = 560, plotH = 360, legendLine = 14
        var canvas = RGBImage(width: left + plotW + 30, height: top + plotH + 50 + legendLine * results.count,
                              fill: .white)
        canvas.drawText("ROC: same-person pairs accepted against different-person pairs accepted", x: left, y: 8,
                        color: .black)
        let curves = results.map { VerificationMetrics.roc($0.scores) }
        // The TAR axis starts just below the lowest TAR at FAR 1e-3, so close curves stay apart.
        let low = curves.compactMap { $0.first { $0.far >= 1e-3 }?.tar }.min() ?? 0
        let yMin = max(0, ((low - 0.05) * 20).rounded(.down) / 20)
        let decades = 3.0
        func px(_ far: Double) -> Float { Float(left) + Float((log10(max(far, 1e-3)) + decades) / decades) * Float(plotW) }
        func py(_ tar: Double) -> Float { Float(top) + Float((1 - max(tar, yMin)) / max(1 - yMin, 1e-6)) * Float(plotH) }
        canvas.strokeRect(x: left, y: top, width: plotW + 1, height: plotH + 1, color: .black, thickness: 1)
        var tick = yMin
        while tick <= 1.0001 {
            let y = Int(py(tick))
            canvas.drawLine(from: Point2(Float(left - 4), Float(y)), to: Point2(Float(left), Float(y)), color: .black)
            canvas.drawText(String(format: "%.2f", tick), x: 8, y: y - 4, color: .black)
            tick += 0.05
        }
        for (far, label) in [(1e-3, "1e-3"), (1e-2, "1e-2"), (1e-1, "0.1"), (1.0, "1")] {
            let x = Int(px(far))
            canvas.drawLine(from: Point2(Float(x), Float(top + plotH)), to: Point2(Float(x), Float(top + plotH + 4)),
                            color: .black)
            canvas.drawText(label, x: x - 8, y: top + plotH + 8, color: .black)
        }
        canvas.drawText("false-accept rate", x: left + plotW / 2 - 50, y: top + plotH + 22, color: .black)
        for (n, (result, curve)) in zip(results, curves).enumerated() {
            let colour = palette[n % palette.count]
            for (a, b) in zip(curve, curve.dropFirst()) where b.far >= 1e-3 {
                canvas.drawLine(from: Point2(px(a.far), py(a.tar)), to: Point2(px(b.far), py(b.tar)), color: colour,
                                thickness: 2)
            }
            let v = result.verification
            // ASCII only: the bitmap font has no "±".
            let label = "\(result.detector)+\(result.embedder), \(result.queryFace.rawValue): accuracy "
                + String(format: "%.4f +/- %.4f, AUC %.4f", v.meanAccuracy, v.standardDeviation, v.auc)
            canvas.drawText(label, x: left, y: top + plotH + 36 + n * legendLine, color: colour)
        }
        return canvas
    }
}
