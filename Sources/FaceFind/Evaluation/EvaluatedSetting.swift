/// What one row of an evaluation measured: the pipeline (one embedder, or a weighted fusion named `a+b:0.5`)
/// and the ranking or verification options. Shared by retrieval and pair results.
public struct EvaluatedSetting: Sendable, Codable, Hashable {
    public var detector: String
    /// One embedder, or several joined by "+" (with ":weight" where the weight is not 1) for score fusion.
    public var embedder: String
    /// The crop and normalisation names; "own" for a fusion (each member keeps its own).
    public var crop: String
    public var normalization: String
    /// `Augmentation`'s raw value.
    public var augmentation: String
    public var maxSide: Int
    /// The first member's detection size (`DetectionOptions.minSide`).
    public var minSide: Int
    /// A fusion's members' detection sizes, in order, when they differ (each embedder's own by default); else nil.
    public var minSides: [Int]?
    public var minFaceSize: Int
    public var metric: DistanceMetric
    public var queryFace: QueryFaceChoice
    public var rerank: Bool
    /// Pairs only: the training folds' mean embedding subtracted (facenet's protocol).
    public var subtractMean: Bool
    /// Pairs only: the whitening's shrinkage, when whitened (`EvaluationPlan.whitening`).
    public var whitening: Double?
    /// Pairs only: how a fusion's scores were combined (`ScoreFusion`'s raw value); nil for one embedder.
    public var fusion: String?

    /// The setting of `plan`, whose members were embedded with `settings`.
    init(_ settings: [IndexSettings], plan: EvaluationPlan) {
        let first = settings[0], weights = plan.members.map(\.weight)
        detector = first.detector
        if settings.count > 1 {
            embedder = zip(settings, weights).map { $1 == 1 ? $0.embedder : "\($0.embedder):\($1)" }.joined(separator: "+")
            crop = "own"
            normalization = "own"
        } else {
            embedder = first.embedder
            crop = first.crop
            normalization = first.normalization
        }
        augmentation = first.augmentation
        maxSide = first.maxSide
        minSide = first.minSide
        minSides = Set(settings.map(\.minSide)).count > 1 ? settings.map(\.minSide) : nil
        minFaceSize = first.minFaceSize
        metric = plan.metric
        queryFace = plan.queryFace
        rerank = plan.rerank
        subtractMean = plan.centres
        whitening = plan.whitening
        fusion = settings.count > 1 ? plan.fusion.rawValue : nil
    }

    /// The detection size(s): "448", or a fusion's members' "0+448".
    public var minSideLabel: String { minSides.map { $0.map(String.init).joined(separator: "+") } ?? String(minSide) }

    /// One line naming every choice, for tables and charts.
    public var label: String {
        var parts = ["\(detector)+\(embedder)", crop, normalization, "aug \(augmentation)",
                     "detect \(minSideLabel)-\(maxSide)", "min face \(minFaceSize)", metric.rawValue, "face \(queryFace.rawValue)"]
        if rerank { parts.append("rerank") }
        if let fusion, fusion != ScoreFusion.sum.rawValue { parts.append("fusion \(fusion)") }
        if let whitening { parts.append("whitened (shrinkage \(whitening))") } else if subtractMean { parts.append("mean subtracted") }
        return parts.joined(separator: ", ")
    }
}
