import ArgumentParser
import FaceFind
import Foundation

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Measure retrieval (top-1/5/10 on a query/gallery set) or verification (the LFW pairs protocol).",
        discussion: """
            --detector, --embedder, --crop, --normalization and --metric take comma-separated lists; every
            combination is evaluated. Embeddings are cached per setting, so a sweep embeds each photo once per
            setting and a second run is fast.
            """)

    @Option(help: "Split file: {\"query\": [{\"path\", \"id\"}], \"gallery\": [...]}.")
    var split: String?

    @Option(help: "Folder of query photos (identity = parent folder name); use with --gallery.")
    var queries: String?

    @Option(help: "Folder of gallery photos (identity = parent folder name).")
    var gallery: String?

    @Option(help: "Pairs file in LFW's pairs.txt format: measure verification by the LFW protocol (10-fold thresholds).")
    var pairs: String?

    @Option(help: "With --pairs: the folder holding <Name>/<Name>_NNNN.jpg.")
    var images: String?

    @Option(help: "Detectors (comma list).")
    var detector = PipelineConfiguration.defaultDetector

    @Option(help: "Embedders (comma list); join several with '+' to fuse their scores, with optional weights: facenet512+dlib:0.5+mobilefacenet.")
    var embedder = PipelineConfiguration.defaultEmbedder

    @Option(help: "Mirrored test-time augmentation: off, on, or off,on to measure both.")
    var flip = "off"

    @Option(help: "Re-ranking by query expansion: off, on, or off,on to measure both.")
    var rerank = "off"

    @Option(help: "Crops (comma list of margin, align5; 'default' = the embedder's own).")
    var crop = "default"

    @Option(help: "Normalisations (comma list of fixed, per-image, unit, none, symmetric; 'default' = the embedder's).")
    var normalization = "default"

    @Option(help: "Metrics (comma list of cosine, euclidean).")
    var metric = "cosine"

    @Option(help: "Which face of a query (or pair) photo to use: largest, center, score, prominent or all.")
    var queryFace: QueryFaceChoice = .largest

    @Option(help: "Detect on a copy whose longer side is at most this many pixels.")
    var maxSide = 960

    @Option(help: "Enlarge smaller photos for detection until the longer side is this many pixels (0: never).")
    var minSide = 448

    @Option(help: "Drop faces narrower than this many pixels, except each photo's largest (0: keep all).")
    var minFace: Float = 40

    @Option(help: "Detector confidence threshold (default: the detector's own).")
    var threshold: Float?

    @Option(help: "Folder for cached embeddings (default ~/.facefind/cache).")
    var cache: String?

    @Option(help: "Write per-query results, a CMC curve and a montage of failed queries into this folder.")
    var report: String?

    @Flag(help: "Print results as JSON.")
    var json = false

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if pairs != nil {
            guard images != nil else { throw ValidationError("--pairs needs --images DIR (the folder of <Name>/<Name>_NNNN.jpg)") }
            guard split == nil, queries == nil, gallery == nil else {
                throw ValidationError("--pairs measures verification; --split, --queries and --gallery measure retrieval: give one")
            }
        } else if split == nil && (queries == nil || gallery == nil) {
            throw ValidationError("give --split FILE, --queries DIR and --gallery DIR, or --pairs FILE and --images DIR")
        }
    }

    func run() throws {
        runtime.bootstrapLogging()
        do {
            if let pairs, let images {
                try runPairs(try PairsFile(contentsOf: pairs), images: images)
                return
            }
            let set = try split.map { try LabelledSet(splitFile: $0) }
                ?? LabelledSet(queriesFolder: queries ?? "", galleryFolder: gallery ?? "")
            var results: [EvaluationResult] = []
            let evaluator = try makeEvaluator(set)
            for (label, plan) in try plans() {
                let bar = ProgressBar(label: label)
                results.append(try evaluator.evaluate(plan) { bar.update($0) })
                bar.finish()
            }
            if let report { try EvaluationReport.write(results, to: report) }
            if json {
                var summary = results
                for i in summary.indices { summary[i].outcomes = [] }
                try printJSON(summary)
            } else {
                print(Self.table(results))
            }
        } catch let error as ValidationError {
            throw error
        } catch {
            throw fail(error)
        }
    }

    /// The LFW protocol on a pairs file, for every setting of the sweep.
    private func runPairs(_ file: PairsFile, images: String) throws {
        let missing = file.missingPhotos(in: images)
        guard missing.isEmpty else {
            throw ValidationError("\(missing.count) photo(s) of the pairs file are not in \(images), such as \(missing[0])")
        }
        let evaluator = try makeEvaluator(Evaluator.photoSet(of: file, imagesFolder: images))
        var results: [PairEvaluationResult] = []
        for (label, plan) in try plans() {
            let bar = ProgressBar(label: label)
            results.append(try evaluator.evaluatePairs(file, imagesFolder: images, plan: plan) { bar.update($0) })
            bar.finish()
        }
        if let report { try PairReport.write(results, to: report) }
        if json {
            try printJSON(results.map { var r = $0; r.scores = []; return r })
        } else {
            print(Self.pairTable(results))
        }
    }

    private func makeEvaluator(_ set: LabelledSet) throws -> Evaluator {
        Evaluator(set: set, loader: try runtime.loader(),
                  cacheDirectory: cache ?? FaceFindHome.directory.appendingPathComponent("cache").path,
                  indexing: IndexingOptions(workers: runtime.workerCount))
    }

    /// Every combination of the swept options, each with a label for its progress bar.
    private func plans() throws -> [(label: String, plan: EvaluationPlan)] {
        let metrics = try list(metric).map { name in
            guard let m = DistanceMetric(rawValue: name) else { throw ValidationError("unknown metric \(name)") }
            return m
        }
        var plans: [(String, EvaluationPlan)] = []
        for d in try list(detector) {
            for e in try list(embedder) {
                for c in try list(crop) {
                    for n in try list(normalization) {
                        for f in try switches(flip, "flip") {
                            let members = try Self.fusionMembers(e).map { name, weight in
                                (configuration: PipelineConfiguration(
                                    detector: d, embedder: name, crop: c == "default" ? nil : c,
                                    normalization: n == "default" ? nil : n,
                                    detection: DetectionOptions(threshold: threshold, maxSide: maxSide, minSide: minSide,
                                                                minFaceSize: minFace),
                                    flip: f), weight: weight)
                            }
                            for r in try switches(rerank, "rerank") {
                                for m in metrics {
                                    plans.append(("\(d)+\(e) \(c) \(n)\(f ? " flip" : "")",
                                                  EvaluationPlan(members: members, metric: m, queryFace: queryFace, rerank: r)))
                                }
                            }
                        }
                    }
                }
            }
        }
        return plans
    }

    /// "off", "on" or "off,on" as booleans.
    func switches(_ value: String, _ name: String) throws -> [Bool] {
        try list(value).map { item in
            switch item {
            case "off", "no", "false": return false
            case "on", "yes", "true": return true
            default: throw ValidationError("--\(name) takes off, on or off,on")
            }
        }
    }

    /// "a+b:0.5+c" as (name, weight) pairs; weight 1 where none is given.
    static func fusionMembers(_ value: String) throws -> [(String, Float)] {
        try value.split(separator: "+").map { part in
            let pieces = part.split(separator: ":")
            guard let name = pieces.first, pieces.count <= 2 else { throw ValidationError("bad embedder '\(part)'") }
            guard let weight = pieces.count == 2 ? Float(pieces[1]) : 1 else {
                throw ValidationError("bad weight in '\(part)'")
            }
            return (String(name), weight)
        }
    }

    func list(_ value: String) throws -> [String] {
        let items = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !items.isEmpty else { throw ValidationError("empty list '\(value)'") }
        return items
    }

    /// A Markdown table of pair results: mean accuracy ± standard deviation over the folds, its bootstrap
    /// interval, AUC and TAR at FAR 1e-3.
    static func pairTable(_ results: [PairEvaluationResult]) -> String {
        var lines = ["| detector | embedder | crop | normalization | flip | face | metric | accuracy | 95% interval | AUC | TAR@FAR1e-3 | pairs | no face |",
                     "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in results {
            let v = r.verification
            lines.append(String(format: "| %@ | %@ | %@ | %@ | %@ | %@ | %@ | %.4f ± %.4f | %.4f-%.4f | %.4f | %.3f | %d | %d |",
                                r.detector, r.embedder, r.crop, r.normalization, r.flip ? "on" : "off",
                                r.queryFace.rawValue, r.metric.rawValue, v.meanAccuracy, v.standardDeviation,
                                v.accuracyInterval.lowerBound, v.accuracyInterval.upperBound, v.auc, v.tarAtFar1e3,
                                v.pairs, r.facesNotFound))
        }
        return lines.joined(separator: "\n")
    }

    /// A Markdown table, the shape of the founding report's Table 1, with the open-set figures after it.
    static func table(_ results: [EvaluationResult]) -> String {
        var lines = ["| detector | embedder | crop | normalization | flip | rerank | metric | top-1 | top-5 | top-10 | TAR@FAR1e-3 | queries | no face | images/s |",
                     "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in results {
            let speed = r.imagesPerSecond.map { String(format: "%.1f", $0) } ?? "cached"
            let tar = r.verification.map { String(format: "%.3f", $0.tarAtFar1e3) } ?? "-"
            lines.append(String(format: "| %@ | %@ | %@ | %@ | %@ | %@ | %@ | %.3f | %.3f | %.3f | %@ | %d | %d | %@ |",
                                r.detector, r.embedder, r.crop, r.normalization, r.flip ? "on" : "off",
                                r.rerank ? "on" : "off", r.metric.rawValue, r.top1, r.top5, r.top10, tar, r.queries,
                                r.facesNotFound, speed))
        }
        return lines.joined(separator: "\n")
    }
}
