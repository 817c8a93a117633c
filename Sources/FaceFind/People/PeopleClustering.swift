import Foundation

/// Which person a stored face belongs to, and whether a user put it there (named, merged or split it): such a
/// face stays where the user put it whatever later clusterings find.
public struct PersonAssignment: Sendable, Equatable, Codable {
    public var person: Int64
    public var pinned: Bool

    public init(person: Int64, pinned: Bool = false) {
        self.person = person
        self.pinned = pinned
    }
}

/// Groups a gallery's faces into persons: each face linked to its nearest faces from the embedder's calibrated
/// clustering threshold (`FaceGraph`), then Chinese Whispers with the faces of one photo kept apart and the faces
/// a user placed held where they are. A re-clustering keeps person ids: a new cluster takes the id of the earlier
/// person most of whose faces it holds.
public struct PeopleClustering: Sendable {
    /// Cosine similarity from which two faces are linked: `EmbedderSettings.clusterThreshold` by default.
    public var threshold: Float
    /// Nearest faces searched per face for the graph.
    public var neighbours: Int

    /// 20 nearest faces per face. Chosen by cross-validation over 10 identity-disjoint folds of lfw-dev against
    /// 10 and 40 (`facefind evaluate --split ../shared/faces/lfw-dev-split.json --clusters --embedder NAME
    /// --neighbours 10,20,40`): 20 in 19 of the 20 folds of MobileFaceNet and FaceNet-512 (BCubed F 0.9846 → 0.9872
    /// and 0.9528 → 0.9615, centred; paired intervals +0.0000 to +0.0085 and +0.0000 to +0.0231), 40 no better, dlib
    /// unchanged. Both intervals touch 0, so the gain alone is not established; 20 is kept because no fold got
    /// worse and the cause is known: ten neighbours cannot hold a person of dozens of photos together (lfw-dev's
    /// largest identities, a photo library's family members).
    public static let defaultNeighbours = 20
    /// Clusters with fewer faces stay unassigned: a face seen once is no "person" to list, and most single
    /// faces of a photo library are strangers (lfw-dev: 1,797 identities, 1,119 of them with one photo).
    public var minimumFaces: Int
    /// The precision of the search that finds each face's neighbours (exact at that precision): float32, or int8
    /// (VNNI) for large galleries, whose search is several times faster and whose similarities are within about
    /// 0.005 of float32 (`facefind bench --synthetic N --people` measures both).
    public var precision: VectorPrecision
    /// The mean face subtracted before faces are compared (`EmbedderSettings.clusterCentre`), nil for none: each
    /// face is compared as `normalise(normalise(e) - centre)`, and `threshold` is a similarity in that space.
    public var centre: [Float]?

    public init(threshold: Float, neighbours: Int = PeopleClustering.defaultNeighbours, minimumFaces: Int = 2,
                precision: VectorPrecision = .float32, centre: [Float]? = nil) {
        self.threshold = threshold
        self.neighbours = max(1, neighbours)
        self.minimumFaces = max(1, minimumFaces)
        self.precision = precision
        self.centre = centre
    }

    /// The clustering of `embedder`'s calibrated threshold, nil when the catalog has none measured.
    public init?(embedder: String, dimension: Int, neighbours: Int = PeopleClustering.defaultNeighbours,
                 minimumFaces: Int = 2, precision: VectorPrecision = .float32) {
        guard let threshold = ModelCatalog.spec(named: embedder)?.embedder?.clusterThreshold else { return nil }
        self.init(threshold: threshold, neighbours: neighbours, minimumFaces: minimumFaces, precision: precision,
                  centre: Self.centre(of: embedder, dimension: dimension))
    }

    /// The mean face subtracted from `embedder`'s vectors of `dimension` before they are compared: the catalog's
    /// `clusterCentre`, when the vectors have its dimension (an index of flip-concatenated vectors has twice as
    /// many, and is clustered as it is).
    public static func centre(of embedder: String, dimension: Int) -> [Float]? {
        guard let centre = ModelCatalog.spec(named: embedder)?.embedder?.clusterCentre, centre.count == dimension
        else { return nil }
        return centre
    }

    /// The neighbour search's precision for a gallery of `faces`: int8 from 20,000 faces where the CPU has VNNI,
    /// else float32. At 100,000 generated faces int8 clusters in 23.1 s and 390 MiB against float32's 70.8 s and
    /// 536 MiB, BCubed F 0.9414 against 0.9415 (`facefind bench --synthetic 100000 --people`); below 20,000 faces
    /// float32 takes seconds, and stays exact.
    public static func searchPrecision(faces: Int) -> VectorPrecision {
        faces >= 20_000 && Precision.cpuHasVNNI ? .int8 : .float32
    }

    /// The person of every face of `matrix` that belongs to one (whole-image stand-ins never do), by face id.
    ///
    /// - Parameters:
    ///   - matrix: the gallery's faces and embeddings (`GalleryStore.loadFaceMatrix()`).
    ///   - previous: the assignments the store holds now, by face id. Pinned faces keep their person; the others
    ///     are clustered afresh, and their old persons lend their ids to the new clusters that hold most of them.
    ///   - nextID: the first id free for a new person (larger than every id in use).
    public func cluster(_ matrix: FaceMatrix, previous: [Int64: PersonAssignment] = [:],
                        nextID: Int64) throws -> [Int64: Int64] {
        let rows = (0..<matrix.faceCount).filter { !matrix.faceIsWholeImage[$0] }
        guard !rows.isEmpty else { return [:] }
        let graph = FaceGraph.nearestNeighbours(of: try index(matrix, rows: rows), k: neighbours, threshold: threshold)
        let nodes = matrix.personNodes(ofFaces: rows)
        return cluster(nodes, graph: graph, previous: previous, nextID: nextID)
    }

    /// The person of every face of `nodes`, by face id, from `graph` (node i is `nodes[i]`): Chinese Whispers
    /// with the faces of one photo kept apart and pinned faces held where they are, then ids (`assignIDs`).
    ///
    /// - Parameters:
    ///   - nodes: the faces to cluster (whole-image stand-ins left out).
    ///   - graph: their nearest-neighbour graph, from `threshold` up.
    ///   - previous: the assignments the store holds now, by face id (see `cluster(_:previous:nextID:)`).
    ///   - nextID: the first id free for a new person.
    public func cluster(_ nodes: [PersonNode], graph: FaceGraph, previous: [Int64: PersonAssignment] = [:],
                        nextID: Int64) -> [Int64: Int64] {
        precondition(graph.count == nodes.count, "a graph of \(graph.count) nodes for \(nodes.count) faces")
        guard !nodes.isEmpty else { return [:] }
        // Two faces of one photo are never one person.
        var byImage: [Int64: [Int]] = [:]
        for (node, face) in nodes.enumerated() { byImage[face.image, default: []].append(node) }
        var cannotLink = [[Int]](repeating: [], count: nodes.count)
        for members in byImage.values where members.count > 1 {
            for node in members { cannotLink[node] = members.filter { $0 != node } }
        }
        // Pinned faces start, and stay, under one label per person.
        var pinnedPerson: [Int: Int64] = [:]
        var labelOfPerson: [Int64: Int] = [:]
        for (node, face) in nodes.enumerated() {
            guard let assignment = previous[face.face], assignment.pinned else { continue }
            pinnedPerson[node] = assignment.person
            if labelOfPerson[assignment.person] == nil { labelOfPerson[assignment.person] = labelOfPerson.count }
        }
        let labels = ChineseWhispers.cluster(graph, cannotLink: cannotLink,
                                             fixed: pinnedPerson.mapValues { labelOfPerson[$0]! })

        // Labels are numbered in node order, so new ids follow the gallery's order: the same gallery always gets
        // the same ids.
        var clusters = [[Int]](repeating: [], count: (labels.max() ?? -1) + 1)
        for (node, label) in labels.enumerated() { clusters[label].append(node) }
        return assignIDs(clusters: clusters, faceIDs: nodes.map(\.face),
                         pinnedPerson: pinnedPerson, previous: previous, nextID: nextID)
    }

    /// A search index over `rows` of `matrix` (centred, when `centre` is set), filled block by block (no second
    /// copy of the vectors).
    func index(_ matrix: FaceMatrix, rows: [Int]) throws -> VectorIndex {
        let d = matrix.dimension
        return try VectorIndex.build(count: rows.count, dimension: d, precision: precision) { range, out in
            for (i, row) in range.enumerated() {
                compared(matrix.vector(ofFace: rows[row])).withUnsafeBufferPointer { v in
                    _ = UnsafeMutableBufferPointer(rebasing: out[(i * d)..<((i + 1) * d)]).initialize(from: v)
                }
            }
        }
    }

    /// A face's vector as the clustering compares it: `normalise(normalise(v) - centre)`, or `normalise(v)`
    /// without a centre (the search is by cosine either way).
    public func compared(_ v: ArraySlice<Float>) -> [Float] {
        guard let centre else { return Embedding.normalized(v).vector }
        precondition(centre.count == v.count, "a centre of \(centre.count) dimensions for vectors of \(v.count)")
        let unit = Embedding.normalized(v).vector
        return Embedding.normalized(zip(unit, centre).map { $0 - $1 }).vector
    }

    /// The cosine similarity of two faces as the clustering compares them (vectors as stored).
    public func similarity(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
        Embedding(compared(a)).similarity(to: Embedding(compared(b)), metric: .cosine)
    }

    /// Person ids for `clusters` (lists of nodes; `faceIDs[node]` is the face): a cluster holding pinned faces is
    /// their person; otherwise it takes the id of an earlier person more than half of whose faces (among those
    /// still present) it holds, largest overlaps first, each id once; otherwise a new id, if it has at least
    /// `minimumFaces` faces.
    func assignIDs(clusters: [[Int]], faceIDs: [Int64], pinnedPerson: [Int: Int64],
                   previous: [Int64: PersonAssignment], nextID: Int64) -> [Int64: Int64] {
        var result: [Int64: Int64] = [:]
        var taken = Set(pinnedPerson.values)
        var open: [Int] = []
        for (c, nodes) in clusters.enumerated() {
            if let person = nodes.lazy.compactMap({ pinnedPerson[$0] }).first {
                for node in nodes { result[faceIDs[node]] = person }
            } else {
                open.append(c)
            }
        }
        var presentFaces: [Int64: Int] = [:]
        for id in faceIDs { if let p = previous[id], !p.pinned { presentFaces[p.person, default: 0] += 1 } }
        var candidates: [(cluster: Int, person: Int64, overlap: Int)] = []
        for c in open {
            var overlap: [Int64: Int] = [:]
            for node in clusters[c] {
                if let p = previous[faceIDs[node]], !p.pinned { overlap[p.person, default: 0] += 1 }
            }
            for (person, n) in overlap where 2 * n > presentFaces[person, default: 0] {
                candidates.append((c, person, n))
            }
        }
        candidates.sort { ($0.overlap, $1.person) > ($1.overlap, $0.person) }
        var named: [Int: Int64] = [:]
        for candidate in candidates where named[candidate.cluster] == nil && !taken.contains(candidate.person) {
            named[candidate.cluster] = candidate.person
            taken.insert(candidate.person)
        }
        var next = nextID
        for c in open {
            let person: Int64
            if let kept = named[c] {
                person = kept
            } else if clusters[c].count >= minimumFaces {
                person = next
                next += 1
            } else {
                continue
            }
            for node in clusters[c] { result[faceIDs[node]] = person }
        }
        return result
    }
}

extension PeopleClustering {
    /// Incremental assignment, between clusterings: each face of no person joins the person of its nearest
    /// assigned faces, when one of its `neighbours` nearest assigned faces is at least `threshold` alike; the
    /// person with the largest sum of such similarities wins, never one that another face of the same photo
    /// already has. Faces with no such neighbour wait for the next `cluster`. Returns the new assignments only.
    public func assignNewFaces(_ matrix: FaceMatrix, previous: [Int64: PersonAssignment]) throws -> [Int64: Int64] {
        let real = (0..<matrix.faceCount).filter { !matrix.faceIsWholeImage[$0] }
        let assigned = real.filter { previous[matrix.faceIDs[$0]] != nil }
        let waiting = real.filter { previous[matrix.faceIDs[$0]] == nil }
        guard !assigned.isEmpty, !waiting.isEmpty else { return [:] }
        let found = try index(matrix, rows: assigned).search(waiting.map { compared(matrix.vector(ofFace: $0)) }, k: neighbours,
                                                             metric: .cosine)
        var edges: [FaceEdge] = []
        for (row, list) in zip(waiting, found) {
            for n in list where n.score >= threshold {
                edges.append(FaceEdge(face: matrix.faceIDs[row], neighbour: matrix.faceIDs[assigned[n.row]], similarity: n.score))
            }
        }
        return join(waiting: matrix.personNodes(ofFaces: waiting), assigned: matrix.personNodes(ofFaces: assigned),
                    edges: edges, previous: previous)
    }

    /// The vote of `assignNewFaces`: each of `waiting` (in order) joins the person whose faces among its `edges`
    /// (to assigned faces, similarity at least `threshold`) add up to the most, never a person another face of
    /// its photo has, counting the faces that joined before it.
    func join(waiting: [PersonNode], assigned: [PersonNode], edges: [FaceEdge],
              previous: [Int64: PersonAssignment]) -> [Int64: Int64] {
        var inPhoto: [Int64: Set<Int64>] = [:]
        for face in assigned { if let p = previous[face.face] { inPhoto[face.image, default: []].insert(p.person) } }
        var edgesOf: [Int64: [FaceEdge]] = [:]
        for edge in edges where edge.similarity >= threshold { edgesOf[edge.face, default: []].append(edge) }
        var result: [Int64: Int64] = [:]
        for face in waiting {
            let taken = inPhoto[face.image] ?? []
            var votes: [Int64: Float] = [:]
            for edge in edgesOf[face.face] ?? [] {
                guard let person = previous[edge.neighbour]?.person, !taken.contains(person) else { continue }
                votes[person, default: 0] += edge.similarity
            }
            guard let best = votes.max(by: { ($0.value, $1.key) < ($1.value, $0.key) }) else { continue }
            result[face.face] = best.key
            inPhoto[face.image, default: []].insert(best.key)
        }
        return result
    }
}

extension FaceMatrix {
    /// Faces `rows` as clustering sees them (a face of a video by its file name, told once per file: see
    /// `PersonNode.image`).
    func personNodes(ofFaces rows: [Int]) -> [PersonNode] {
        let inVideo = images.map { isVideoPath($0.path) }
        return rows.map { row in
            let slot = Int(faceImage[row])
            return PersonNode(face: faceIDs[row], image: Int64(slot), inVideo: inVideo[slot])
        }
    }
}
