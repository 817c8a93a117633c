import ArgumentParser
import FaceFind
import Foundation

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Measure retrieval (top-1/5/10 on a query/gallery set) or verification (the LFW pairs protocol).",
        discussion: """
            Options marked "list" take comma-separated values; every combination is evaluated, and with more \
            than one the output ends with the choice among them by cross-validation over identity-disjoint \
            folds (the pairs file's own folds with --pairs), with 95% bootstrap intervals: list today's default \
            first. Embeddings are cached per setting, so a sweep embeds each photo once per setting and a second \
            run is fast.
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

    @Option(help: "Run a model by its authors' published evaluation (\(PublishedProtocol.Name.allCases.map(\.rawValue).joined(separator: ", "))): it sets the detector, embedder, crop, normalisation, augmentation, detection sizes, face choice, metric and mean subtraction, replacing those options.")
    var `protocol`: PublishedProtocol.Name?

    @Option(help: "Detectors (list).")
    var detector = Sweep([PipelineConfiguration.defaultDetector])

    @Option(help: "Embedders (list); join several with '+' to fuse their scores, with optional weights: facenet512+dlib:0.5+mobilefacenet.")
    var embedder = PipelineConfiguration.defaultEmbedder

    @Option(help: "Test-time augmentation (list of none, flip, flip-concat).")
    var augmentation = Sweep<Augmentation>([.none])

    @Option(help: "Embedder precisions (list of fp32, int8): int8 runs each embedder's int8 model (NAME-int8).")
    var precision = Sweep<Precision>([.fp32])

    @Option(help: "Re-ranking by query expansion (list of off, on).")
    var rerank = Sweep<Switch>([.off])

    @Option(help: "Crops (list of margin, marginN, align5, dlib-chip; 'default' = the embedder's own).")
    var crop = Sweep<OrDefault<CropChoice>>([.embedderDefault])

    @Option(help: "Normalisations (list of fixed, per-image, unit, none, symmetric; 'default' = the embedder's).")
    var normalization = Sweep<OrDefault<PixelNormalization>>([.embedderDefault])

    @Option(help: "Metrics (list of cosine, euclidean).")
    var metric = Sweep<DistanceMetric>([.cosine])

    @Option(help: "Which face of a query (or pair) photo to use (list of largest, center, score, prominent, all; default largest, with --clusters prominent).")
    var queryFace: Sweep<QueryFaceChoice>?

    @Flag(help: "Cluster every photo of the labelled set into persons (one face per photo) without the labels, and score the clusters against them: BCubed and pairwise precision, recall and F.")
    var clusters = false

    @Flag(help: "With --clusters: cluster every face of every photo (two faces of one photo never one person), still scoring each photo's labelled face.")
    var allFaces = false

    @Flag(help: "With --clusters: also cluster half of the photos (every other one) and join the rest to those persons one by one, as a growing gallery does, and score that too.")
    var incremental = false

    @Option(help: "With --clusters: nearest faces searched per face for the graph (default 20; a list sweeps).")
    var neighbours: Sweep<Int>?

    @Option(help: "With --clusters: cosine similarity from which two faces are linked, measured centred for embedders the clustering centres (FaceNet-512, MobileFaceNet) (default: the embedder's calibrated clustering threshold, its similarity at a false-accept rate of 1e-5; a list sweeps).")
    var linkThreshold: Sweep<Float>?

    @Flag(help: "With --pairs: subtract the training folds' mean embedding before the cosine (facenet's protocol).")
    var subtractMean = false

    @Option(help: "With --pairs: also whiten, learned on the training folds' photos without their labels; list of shrinkages from 0 (full whitening) to 1 (centring alone).")
    var whiten: Sweep<Double>?

    @Option(help: "With --pairs: how a fusion's embedders combine their similarities (list of sum, z-score, learned): z-score standardises each on the training folds' pairs, learned also weights them by a linear discriminant fitted there.")
    var fusion = Sweep<ScoreFusion>([.sum])

    @Option(help: "Detect on a copy whose longer side is at most this many pixels (list).")
    var maxSide = Sweep([960])

    @Option(help: "Enlarge smaller photos for detection until the longer side is this many pixels (list; 0: never). Default: each embedder's own (FaceNet-512: 0; the others: 448).")
    var minSide: Sweep<Int>?

    @Option(help: "Drop faces narrower than this many pixels, except each photo's largest (list; 0: keep all).")
    var minFace = Sweep<Float>([40])

    @Option(help: "Detector confidence threshold (default: the detector's own).")
    var threshold: Float?

    @Option(help: "Identity-disjoint folds for the cross-validated choice among retrieval settings.")
    var folds = 10

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
        } else if subtractMean || whiten != nil || fusion.values != [.sum] {
            throw ValidationError("--subtract-mean, --whiten and --fusion are part of the pairs protocol; use them with --pairs")
        }
        if let whiten, !whiten.values.allSatisfy({ (0...1).contains($0) }) {
            throw ValidationError("--whiten takes shrinkages from 0 to 1")
        }
        if self.protocol != nil, precision.values.count > 1 {
            throw ValidationError("--protocol runs one setting: give one --precision")
        }
        guard folds >= 2 else { throw ValidationError("--folds must be at least 2") }
        if clusters, pairs != nil { throw ValidationError("--clusters works on a labelled set (--split, or --queries and --gallery), not --pairs") }
        if !clusters, linkThreshold != nil || neighbours != nil || incremental || allFaces {
            throw ValidationError("--link-threshold, --neighbours, --incremental and --all-faces are for --clusters")
        }
        if incremental, allFaces {
            throw ValidationError("--incremental measures one face per photo; give it without --all-faces")
        }
        if let linkThreshold, !linkThreshold.values.allSatisfy({ (-1...1).contains($0) }) {
            throw ValidationError("--link-threshold is a cosine similarity, from -1 to 1")
        }
        if let neighbours, !neighbours.values.allSatisfy({ $0 >= 1 }) { throw ValidationError("--neighbours must be at least 1") }
        _ = try plans()
    }

    func run() throws {
        runtime.bootstrapLogging()
        do {
            if let pairs, let images {
                try runPairs(try PairsFile(contentsOf: pairs), images: images)
            } else {
                let set = try split.map { try LabelledSet(splitFile: $0) }
                    ?? LabelledSet(queriesFolder: queries ?? "", galleryFolder: gallery ?? "")
                if clusters { try runClusters(set) } else { try runRetrieval(set) }
            }
        } catch let error as ValidationError {
            throw error
        } catch {
            throw fail(error)
        }
    }

    private func runRetrieval(_ set: LabelledSet) throws {
        let evaluator = try makeEvaluator(set)
        var results: [EvaluationResult] = []
        for (label, plan) in try plans() {
            let bar = ProgressBar(label: label)
            results.append(try evaluator.evaluate(plan) { bar.update($0) })
            bar.finish()
        }
        if let report { try EvaluationReport.write(results, to: report) }
        let choice = results.count > 1
            ? EvaluationTables.Choice(results.map(\.top1Hits),
                                      folds: CrossValidation.identityFolds(set.queries.map(\.id), folds: folds),
                                      foldCount: folds)
            : nil
        if json {
            try printJSON(EvaluationTables.RetrievalJSON(
                results: results.map { var r = $0; r.outcomes = []; return r }, crossValidation: choice))
        } else {
            print(EvaluationTables.retrieval(results))
            if let choice { print("\n" + EvaluationTables.choice(choice, labels: results.map(EvaluationTables.label), measure: "top-1")) }
        }
    }

    /// `--clusters`: every setting of the sweep clusters the whole set; one row each.
    private func runClusters(_ set: LabelledSet) throws {
        let evaluator = try makeEvaluator(set)
        var results: [ClusterEvaluation] = []
        for (label, plan) in try plans() {
            for k in neighbours?.values ?? [PeopleClustering.defaultNeighbours] {
                for threshold in linkThreshold?.values.map(Optional.some) ?? [nil] {
                    let bar = ProgressBar(label: label)
                    results.append(try evaluator.clusters(plan, neighbours: k, threshold: threshold,
                                                          incremental: incremental, allFaces: allFaces) {
                        bar.update($0)
                    })
                    bar.finish()
                }
            }
        }
        if json { try printJSON(results) } else { print(EvaluationTables.clusters(results)) }
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
        let choice = results.count > 1
            ? EvaluationTables.Choice(results.map(\.correct), folds: file.pairs.map(\.fold), foldCount: file.folds)
            : nil
        if json {
            try printJSON(EvaluationTables.PairsJSON(results: results.map { var r = $0; r.scores = []; return r },
                                                     crossValidation: choice))
        } else {
            print(EvaluationTables.pairs(results, published: self.protocol.map(PublishedProtocol.named)))
            if let choice { print("\n" + EvaluationTables.choice(choice, labels: results.map(EvaluationTables.label), measure: "accuracy")) }
        }
    }

    private func makeEvaluator(_ set: LabelledSet) throws -> Evaluator {
        Evaluator(set: set, loader: try runtime.loader(),
                  cacheDirectory: cache ?? FaceFindHome.directory.appendingPathComponent("cache").path,
                  indexing: IndexingOptions(workers: runtime.workerCount))
    }

    /// Every combination of the swept options, each with a label for its progress bar; or the one setting of
    /// `--protocol`.
    private func plans() throws -> [(label: String, plan: EvaluationPlan)] {
        if let name = self.protocol {
            let p = PublishedProtocol.named(name)
            var configuration = p.configuration
            configuration.precision = precision.values[0]
            var plan = EvaluationPlan(members: [(configuration, 1)], metric: p.metric, queryFace: p.queryFace)
            plan.subtractMean = p.subtractMean && pairs != nil
            return [("\(name.rawValue) protocol", plan)]
        }
        // The detection policies first (in option order), so that the pipeline loop nests only what it must. A nil
        // minimum side is each member embedder's own.
        var detections: [(maxSide: Int, minSide: Int?, minFace: Float)] = []
        for maxSide in maxSide.values {
            for minSide in minSide?.values.map(Optional.some) ?? [nil] {
                for minFace in minFace.values { detections.append((maxSide, minSide, minFace)) }
            }
        }
        var configurations: [(label: String, members: [(configuration: PipelineConfiguration, weight: Float)])] = []
        for d in detector.values {
            for (e, precision) in try list(embedder).flatMap({ e in precision.values.map { (e, $0) } }) {
                let members = try Self.fusionMembers(e)
                for c in crop.values {
                    for n in normalization.values {
                        for a in augmentation.values {
                            for detection in detections {
                                let sides = detection.minSide.map(String.init)
                                    ?? members.map { String(PipelineConfiguration.defaultMinSide(embedder: $0.0)) }
                                        .joined(separator: "+")
                                configurations.append((
                                    "\(d)+\(e) \(precision.rawValue) \(c.defaultValueDescription) \(n.defaultValueDescription) \(a.rawValue) "
                                        + "\(sides)-\(detection.maxSide)/\(Int(detection.minFace))",
                                    members.map { name, weight in
                                        (PipelineConfiguration(
                                            detector: d, embedder: name, crop: c.chosen, normalization: n.chosen,
                                            detection: DetectionOptions(
                                                threshold: threshold, maxSide: detection.maxSide,
                                                minSide: detection.minSide ?? PipelineConfiguration.defaultMinSide(embedder: name),
                                                minFaceSize: detection.minFace),
                                            augmentation: a, precision: precision), weight)
                                    }))
                            }
                        }
                    }
                }
            }
        }
        var plans: [(String, EvaluationPlan)] = []
        for (label, members) in configurations {
            for r in rerank.values {
                for m in metric.values {
                    for q in queryFace?.values ?? [clusters ? .prominent : .largest] {
                        for w in whiten.map({ $0.values.map(Optional.some) }) ?? [nil] {
                            // Fusion methods only differ for two or more members.
                            for f in members.count > 1 ? fusion.values : [.sum] {
                                var plan = EvaluationPlan(members: members, metric: m, queryFace: q, rerank: r.isOn)
                                plan.subtractMean = subtractMean
                                plan.whitening = w
                                plan.fusion = f
                                plans.append((label, plan))
                            }
                        }
                    }
                }
            }
        }
        return plans
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
}
