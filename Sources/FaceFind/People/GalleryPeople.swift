import Foundation

/// What `PeopleClustering.clusterGallery` did (`facefind people cluster --json` prints it).
public struct ClusteringSummary: Sendable, Codable, Equatable {
    /// Persons after the clustering.
    public var persons: Int
    /// Faces that can belong to a person (whole-image stand-ins left out).
    public var faces: Int
    /// Faces that belong to a person.
    public var assigned: Int
    /// Persons that kept an id they had before (and with it their name), and persons new.
    public var keptPersons: Int
    public var newPersons: Int
    /// The cosine similarity the faces were linked from.
    public var threshold: Float
    public var seconds: Double
}

extension PeopleClustering {
    /// The persons of `store`, or an error naming it when it keeps none.
    public static func people(of store: any GalleryStore) throws -> any PeopleStore {
        guard let people = store as? any PeopleStore else {
            throw GalleryError.storage(store: store.name, message: "this kind of store keeps no persons")
        }
        return people
    }

    /// Clusters every face of `store` into persons and saves them (`cluster`, keeping pinned faces and ids),
    /// through the store's own nearest-face search when it has one (`NearestFacesStore`: PostgreSQL's HNSW
    /// index, no vector leaves the server), else from its vectors in memory.
    ///
    /// - Parameters:
    ///   - store: an index with persons (SQLite or PostgreSQL).
    ///   - threshold: the cosine similarity from which faces are linked (centred, for an embedder with a
    ///     `clusterCentre`); nil for the embedder's calibrated clustering threshold (an embedder without one is
    ///     refused: `PeopleError.noClusterThreshold`).
    ///   - neighbours: nearest faces searched per face.
    ///   - minimumFaces: the smallest cluster that becomes a person.
    ///   - progress: called now and then with the faces searched and the faces to search (a store's own search).
    public static func clusterGallery(_ store: any GalleryStore, threshold: Float? = nil, neighbours: Int = PeopleClustering.defaultNeighbours,
                                      minimumFaces: Int = 2,
                                      progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> ClusteringSummary {
        let people = try people(of: store)
        guard let settings = try store.settings() else {
            throw GalleryError.notFound("\(store.name) holds no faces; run `facefind index FOLDER` on it first")
        }
        func clustering(faces: Int) throws -> PeopleClustering {
            let precision = searchPrecision(faces: faces)
            if let threshold {
                return PeopleClustering(threshold: threshold, neighbours: neighbours, minimumFaces: minimumFaces,
                                        precision: precision,
                                        centre: centre(of: settings.embedder, dimension: settings.dimension))
            }
            guard let calibrated = PeopleClustering(embedder: settings.embedder, dimension: settings.dimension,
                                                    neighbours: neighbours, minimumFaces: minimumFaces,
                                                    precision: precision) else {
                throw PeopleError.noClusterThreshold(embedder: settings.embedder)
            }
            return calibrated
        }
        let start = Date()
        let earlier = try people.personAssignments()
        let nextID = try people.nextPersonID()
        let assignments: [Int64: Int64]
        let faces: Int
        let used: PeopleClustering
        if let source = store as? any NearestFacesStore {
            let nodes = try source.personNodes()
            used = try clustering(faces: nodes.count)
            let edges = try source.neighbourEdges(of: nil, k: used.neighbours, threshold: used.threshold,
                                                centre: used.centre, assignedOnly: false, progress: progress)
            assignments = used.cluster(nodes, graph: FaceGraph(faces: nodes.map(\.face), edges: edges),
                                       previous: earlier, nextID: nextID)
            faces = nodes.count
        } else {
            let matrix = try store.loadFaceMatrix()
            used = try clustering(faces: matrix.faceCount)
            assignments = try used.cluster(matrix, previous: earlier, nextID: nextID)
            faces = matrix.faceIsWholeImage.filter { !$0 }.count
        }
        try people.saveClustering(assignments)
        let persons = Set(assignments.values)
        let before = Set(earlier.values.map(\.person))
        return ClusteringSummary(persons: persons.count, faces: faces, assigned: assignments.count,
                                 keptPersons: persons.intersection(before).count,
                                 newPersons: persons.subtracting(before).count, threshold: used.threshold,
                                 seconds: Date().timeIntervalSince(start))
    }

    /// After indexing: the new faces of a gallery that has persons join them where close enough
    /// (`assignNewFaces`, at the embedder's clustering threshold); returns how many joined. A store that searches
    /// itself searches each new face's nearest faces among those with a person.
    public static func assignNewFaces(in store: any GalleryStore) throws -> Int {
        guard let people = store as? any PeopleStore, let settings = try store.settings() else { return 0 }
        let previous = try people.personAssignments()
        guard !previous.isEmpty else { return 0 }
        let joined: [Int64: Int64]
        if let source = store as? any NearestFacesStore {
            guard let clustering = PeopleClustering(embedder: settings.embedder, dimension: settings.dimension)
            else { return 0 }
            let nodes = try source.personNodes()
            let waiting = nodes.filter { previous[$0.face] == nil }
            guard !waiting.isEmpty else { return 0 }
            let edges = try source.neighbourEdges(of: waiting.map(\.face), k: clustering.neighbours,
                                                threshold: clustering.threshold, centre: clustering.centre,
                                                assignedOnly: true, progress: nil)
            joined = clustering.join(waiting: waiting, assigned: nodes.filter { previous[$0.face] != nil },
                                     edges: edges, previous: previous)
        } else {
            let matrix = try store.loadFaceMatrix()
            guard let clustering = PeopleClustering(embedder: settings.embedder, dimension: settings.dimension,
                                                    precision: searchPrecision(faces: matrix.faceCount)) else { return 0 }
            joined = try clustering.assignNewFaces(matrix, previous: previous)
        }
        try people.assign(joined)
        return joined.count
    }

    /// After an upload: the faces of the images at `paths` join persons as `assignNewFaces(in:)` lets new faces
    /// join, without loading the gallery. Their nearest faces come from the store's own search when it has one
    /// (PostgreSQL), else from `searcher`, the gallery as it is searched (`facefind serve`'s live search): the
    /// faces with a person of a face's `4 × neighbours` nearest photos, compared as the clustering compares
    /// faces (`compared`), the `neighbours` most alike. Returns how many faces joined; 0 when the gallery has no
    /// persons yet.
    ///
    /// - Parameters:
    ///   - paths: images just indexed (their faces have no person yet).
    ///   - store: the index with persons.
    ///   - searcher: the search over the whole gallery, the new images included or not.
    public static func assignNewFaces(ofPaths paths: [String], in store: any GalleryStore,
                                      searcher: any GallerySearcher) throws -> Int {
        guard let people = store as? any PeopleStore, let settings = try store.settings(),
              let clustering = PeopleClustering(embedder: settings.embedder, dimension: settings.dimension)
        else { return 0 }
        let previous = try people.personAssignments()
        guard !previous.isEmpty else { return 0 }
        let added = try store.loadFaceMatrix(paths: paths)
        let rows = (0..<added.faceCount).filter { !added.faceIsWholeImage[$0] && previous[added.faceIDs[$0]] == nil }
        guard !rows.isEmpty else { return 0 }
        let edges: [FaceEdge]
        if let source = store as? any NearestFacesStore {
            edges = try source.neighbourEdges(of: rows.map { added.faceIDs[$0] }, k: clustering.neighbours,
                                              threshold: clustering.threshold, centre: clustering.centre,
                                              assignedOnly: true, progress: nil)
        } else {
            // Each new face's nearest photos; then the faces of all of them read in one go, and every face
            // compared once.
            let nearest = try rows.map { row in
                let face = Embedding(Array(added.vector(ofFace: row)))
                return Set(try searcher.rank(faces: [face], k: 4 * clustering.neighbours, metric: .cosine,
                                             threshold: nil).map(\.match.path))
            }
            let near = try store.loadFaceMatrix(paths: Array(nearest.reduce(into: Set<String>()) { $0.formUnion($1) }))
            let assigned = (0..<near.faceCount).filter { previous[near.faceIDs[$0]] != nil }
                .map { (row: $0, path: near.images[Int(near.faceImage[$0])].path,
                        vector: Embedding(clustering.compared(near.vector(ofFace: $0)))) }
            edges = zip(rows, nearest).flatMap { row, photos in
                let query = Embedding(clustering.compared(added.vector(ofFace: row)))
                return assigned.filter { photos.contains($0.path) }
                    .map { FaceEdge(face: added.faceIDs[row], neighbour: near.faceIDs[$0.row],
                                    similarity: query.similarity(to: $0.vector, metric: .cosine)) }
                    .filter { $0.similarity >= clustering.threshold }
                    .sorted { $0.similarity > $1.similarity }
                    .prefix(clustering.neighbours)
            }
        }
        let joined = clustering.join(waiting: added.personNodes(ofFaces: rows), assigned: [], edges: edges,
                                     previous: previous)
        try people.assign(joined)
        return joined.count
    }
}
