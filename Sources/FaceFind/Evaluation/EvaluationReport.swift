import Foundation

/// Pictures and files of an evaluation: the CMC curve of every row and a montage of failed queries.
public enum EvaluationReport {
    /// Writes `summary.json`, `queries-N.json` (per-query outcomes of row N), `cmc.png` and
    /// `failures-N.png` (failed queries of row N with their top 5) into `directory`.
    public static func write(_ results: [EvaluationResult], to directory: String, decoder: ImageDecoder = ImageDecoder()) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var summary = results
        for i in summary.indices { summary[i].outcomes = [] }
        try encoder.encode(summary).write(to: URL(fileURLWithPath: "\(directory)/summary.json"))
        for (n, result) in results.enumerated() {
            try encoder.encode(result.outcomes).write(to: URL(fileURLWithPath: "\(directory)/queries-\(n + 1).json"))
            let failures = result.outcomes.filter { $0.firstHitRank != 1 }
            if !failures.isEmpty {
                try failureMontage(failures, metric: result.metric, decoder: decoder)
                    .writePNG(to: "\(directory)/failures-\(n + 1).png")
            }
        }
        try cmcPlot(results).writePNG(to: "\(directory)/cmc.png")
    }

    /// Rows of failed queries (at most `limit`): the query face, then its top 5 with the matched faces boxed.
    public static func failureMontage(_ failures: [QueryOutcome], metric: DistanceMetric, limit: Int = 40,
                                      decoder: ImageDecoder = ImageDecoder()) throws -> RGBImage {
        let rows: [RGBImage] = failures.prefix(limit).compactMap { outcome in
            guard let query = try? decoder.decode(contentsOf: outcome.path) else { return nil }
            let face = outcome.queryFace ?? .wholeImage(width: query.width, height: query.height)
            let matches = outcome.top.prefix(5).enumerated().map { i, item in
                Match(rank: i + 1, imageID: 0, path: item.path, score: item.score, faceID: 0, box: item.box,
                      isWholeImage: false)
            }
            let rank = outcome.firstHitRank.map { "first hit at rank \($0)" } ?? "not in top 20"
            let title = "\(outcome.id) (\(URL(fileURLWithPath: outcome.path).lastPathComponent)): \(rank)"
            return ResultMontage.render(query: query, queryFace: face, matches: matches, metric: metric, title: title,
                                        photo: { try? decoder.decode(contentsOf: $0) })
        }
        let width = rows.map(\.width).max() ?? 1
        var canvas = RGBImage(width: width, height: max(1, rows.reduce(0) { $0 + $1.height }), fill: .white)
        var y = 0
        for row in rows { canvas.paste(row, x: 0, y: y); y += row.height }
        return canvas
    }

    /// The CMC curves (k = 1...20) of all rows on one chart, one colour per row, with a legend.
    public static func cmcPlot(_ results: [EvaluationResult]) -> RGBImage {
        let palette: [RGB] = [.blue, .red, .green, RGB(160, 60, 200), RGB(240, 140, 20), RGB(20, 160, 170),
                              RGB(120, 80, 40), .grey]
        let left = 60, top = 30, plotW = 560, plotH = 360, legendLine = 14
        var canvas = RGBImage(width: left + plotW + 30, height: top + plotH + 50 + legendLine * results.count,
                              fill: .white)
        canvas.drawText("CMC: fraction of queries with a correct photo within the top k", x: left, y: 8, color: .black)
        // The y axis spans from just below the lowest top-1 to 1, so close curves stay distinguishable.
        let low = max(0, (results.map { $0.cmc.first ?? 0 }.min() ?? 0) - 0.05)
        let yMin = (low * 20).rounded(.down) / 20
        func px(_ k: Int) -> Float { Float(left) + Float(k - 1) / 19 * Float(plotW) }
        func py(_ v: Double) -> Float { Float(top) + Float((1 - v) / max(1 - yMin, 1e-6)) * Float(plotH) }
        canvas.strokeRect(x: left, y: top, width: plotW + 1, height: plotH + 1, color: .black, thickness: 1)
        var tick = yMin
        while tick <= 1.0001 {
            let y = Int(py(tick))
            canvas.drawLine(from: Point2(Float(left - 4), Float(y)), to: Point2(Float(left), Float(y)), color: .black)
            canvas.drawText(String(format: "%.2f", tick), x: 8, y: y - 4, color: .black)
            tick += 0.05
        }
        for k in [1, 5, 10, 15, 20] {
            let x = Int(px(k))
            canvas.drawLine(from: Point2(Float(x), Float(top + plotH)), to: Point2(Float(x), Float(top + plotH + 4)), color: .black)
            canvas.drawText("\(k)", x: x - 4, y: top + plotH + 8, color: .black)
        }
        canvas.drawText("k", x: left + plotW / 2, y: top + plotH + 22, color: .black)
        for (n, result) in results.enumerated() {
            let colour = palette[n % palette.count]
            for k in 1..<result.cmc.count {
                canvas.drawLine(from: Point2(px(k), py(result.cmc[k - 1])), to: Point2(px(k + 1), py(result.cmc[k])),
                                color: colour, thickness: 2)
            }
            let label = "\(result.detector) + \(result.embedder), \(result.crop), \(result.normalization), \(result.metric.rawValue): top-1 \(String(format: "%.3f", result.top1))"
            canvas.drawText(label, x: left, y: top + plotH + 36 + n * legendLine, color: colour)
        }
        return canvas
    }
}
