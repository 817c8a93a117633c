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
                try failureMontage(failures, metric: result.setting.metric, decoder: decoder)
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
                                        photo: { try? decoder.decode(contentsOf: $0.path) })
        }
        let width = rows.map(\.width).max() ?? 1
        var canvas = RGBImage(width: width, height: max(1, rows.reduce(0) { $0 + $1.height }), fill: .white)
        var y = 0
        for row in rows { canvas.paste(row, x: 0, y: y); y += row.height }
        return canvas
    }

    /// The CMC curves (k = 1...20) of all rows on one chart, one colour per row, with a legend.
    public static func cmcPlot(_ results: [EvaluationResult]) -> RGBImage {
        var chart = Chart(title: "CMC: fraction of queries with a correct photo within the top k",
                          legendRows: results.count,
                          yMin: Chart.axisStart(below: results.map { $0.cmc.first ?? 0 }.min() ?? 0),
                          position: { ($0 - 1) / 19 })
        chart.xTicks([1, 5, 10, 15, 20].map { (Double($0), "\($0)") }, name: "k")
        for (n, result) in results.enumerated() {
            let label = "\(result.setting.detector) + \(result.setting.embedder), \(result.setting.crop), \(result.setting.normalization), \(result.setting.metric.rawValue): top-1 \(String(format: "%.3f", result.top1))"
            chart.curve(result.cmc.enumerated().map { (Double($0.offset + 1), $0.element) }, row: n, legend: label)
        }
        return chart.canvas
    }
}
