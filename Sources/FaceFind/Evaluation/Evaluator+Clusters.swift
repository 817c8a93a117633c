import Foundation

/// `evaluate --clusters`: a labelled set clustered into persons without its labels, then scored against them.
public struct ClusterEvaluation: Sendable, Codable {
    public var setting: EvaluatedSetting
    /// Similarity from which two faces are linked (the embedder's calibrated clustering threshold unless given).
    public var threshold: Float
    /// Neighbours searched per face for the graph.
    public var neighbours: Int
    /// Photos clustered (queries and gallery alike, each once).
    public var photos: Int
    /// Faces clustered: one per photo, or with `allFaces` every face (the scores still cover the labelled face
    /// of each photo only: the others, bystanders, have no label, but they can pull labelled faces together).
    public var faces: Int
    public var scores: ClusteringScores
    /// 95% interval of `scores.bcubedF`, by bootstrap over identities (`ClusteringScores.bcubedFInterval`).
    public var bcubedFInterval: ClosedRange<Double>
    /// Each photo's cluster and identity, by photo path (in path order): for paired comparisons between settings
    /// (`ClusteringScores.bcubedFDifferenceInterval`) and with other tools' clusterings of the same photos.
    public var photoPaths: [String] = []
    public var photoClusters: [Int] = []
    public var photoLabels: [String] = []
    /// With `incremental`: the same photos clustered half first (every other photo in path order), the rest then
    /// joined to those persons one by one (`PeopleClustering.assignNewFaces`; a photo that joins none counts as a
    /// cluster of its own), scored against the same labels. Nil otherwise.
    public var incremental: ClusteringScores?
    /// Graph and clustering, after the embeddings were made or read from the cache.
    public var clusteringSeconds: Double
}

extension Evaluator {
    /// Clusters every photo of the set, one face per photo (the photo's labelled person: the face `plan.queryFace`
    /// picks, the prominent one in `evaluate --clusters`), by Chinese Whispers over each face's `neighbours`
    /// nearest faces linked from `threshold` (default: the embedder's calibrated clustering threshold, a
    /// false-accept rate, never tuned on the clustering scores), and scores the clusters against the identities.
    public func clusters(_ plan: EvaluationPlan, neighbours: Int = PeopleClustering.defaultNeighbours, threshold: Float? = nil, incremental: Bool = false,
                         allFaces: Bool = false,
                         progress: (@Sendable (IndexProgress) -> Void)? = nil) throws -> ClusterEvaluation {
        guard plan.members.count == 1, let configuration = plan.members.first?.configuration else {
            throw EvaluationError.fusionNotClustered
        }
        // Refused before anything is embedded.
        guard let linkFrom = threshold
                ?? ModelCatalog.spec(named: configuration.embedderModel)?.embedder?.clusterThreshold else {
            throw EvaluationError.noCalibratedThreshold(configuration.embedderModel)
        }
        let run = try self.run(configuration, progress: progress)
        // As `people cluster` compares faces: centred on the embedder's mean face when it has one.
        let clustering = PeopleClustering(
            threshold: linkFrom, neighbours: neighbours, minimumFaces: 1,
            centre: PeopleClustering.centre(of: configuration.embedderModel, dimension: run.settings.dimension))
        let identity = Dictionary((set.queries + set.gallery).map { ($0.path, $0.id) }, uniquingKeysWith: { a, _ in a })
        let stored = try run.store.storedFaces(paths: Set(identity.keys))
        let start = Date()
        var vectors: [Float] = []
        var labels: [String] = []
        var paths: [String] = []
        var labelled: [Int] = []        // per photo, the row of its labelled face
        var cannotLink: [[Int]] = []    // with allFaces, per row, the other faces of its photo
        for (path, image) in stored.sorted(by: { $0.key < $1.key }) {
            guard let id = identity[path], let chosen = plan.queryFace.choose(
                from: image.faces.map(\.face), imageWidth: image.width, imageHeight: image.height).first else { continue }
            let rows = allFaces ? Array(image.faces.indices).filter { !image.faces[$0].face.isWholeImage || $0 == chosen } : [chosen]
            let first = cannotLink.count
            for (n, f) in rows.enumerated() {
                vectors += image.faces[f].embedding.vector
                if f == chosen { labelled.append(first + n) }
                cannotLink.append(rows.indices.filter { $0 != n }.map { first + $0 })
            }
            labels.append(id)
            paths.append(path)
        }
        let d = run.settings.dimension
        let compared = (0..<(vectors.count / d)).flatMap { clustering.compared(vectors[($0 * d)..<(($0 + 1) * d)]) }
        let index = try VectorIndex.inMemory(vectors: compared, dimension: d)
        let graph = FaceGraph.nearestNeighbours(of: index, k: neighbours, threshold: linkFrom)
        let clusters = ChineseWhispers.cluster(graph, cannotLink: allFaces ? cannotLink : [])
        let seconds = Date().timeIntervalSince(start)
        let photoClusters = labelled.map { clusters[$0] }
        return ClusterEvaluation(
            setting: EvaluatedSetting([run.settings], plan: plan), threshold: linkFrom, neighbours: neighbours,
            photos: labels.count, faces: cannotLink.count,
            scores: ClusteringScores(clusters: photoClusters, labels: labels),
            bcubedFInterval: ClusteringScores.bcubedFInterval(clusters: photoClusters, labels: labels),
            photoPaths: paths, photoClusters: photoClusters, photoLabels: labels,
            incremental: try incremental && !allFaces ? Self.halfThenRest(vectors: vectors, dimension: run.settings.dimension,
                labels: labels, clustering: clustering) : nil,
            clusteringSeconds: seconds)
    }

    /// `ClusterEvaluation.incremental`: photo i (one face, `vectors` row i) is face i of image i; the even rows are
    /// clustered, then the odd ones join them.
    static func halfThenRest(vectors: [Float], dimension: Int, labels: [String],
                             clustering: PeopleClustering) throws -> ClusteringScores {
        func matrix(_ rows: [Int]) -> FaceMatrix {
            var m = FaceMatrix(dimension: dimension)
            for i in rows {
                m.appendImage(id: Int64(i), path: String(i))
                m.appendFace(id: Int64(i), box: Box(x: 0, y: 0, width: 1, height: 1), isWholeImage: false,
                             vector: vectors[(i * dimension)..<((i + 1) * dimension)])
            }
            return m
        }
        let all = Array(labels.indices)
        let first = try clustering.cluster(matrix(all.filter { $0 % 2 == 0 }), nextID: 1)
        let joined = try clustering.assignNewFaces(matrix(all), previous: first.mapValues { PersonAssignment(person: $0) })
        let clusters = all.map { i in Int(first[Int64(i)] ?? joined[Int64(i)] ?? -Int64(i) - 1) }
        return ClusteringScores(clusters: clusters, labels: labels)
    }
}
