import Foundation
import Testing
@testable import FaceFind
@testable import FaceFindPostgres

/// `facefind people` on a real index, SQLite and PostgreSQL alike: five people, five lfw-dev photos each,
/// clustered, then corrected by hand the way a user would, and clustered again; a growing gallery's new photos
/// join their persons. On PostgreSQL the neighbours come from the server's HNSW index
/// (`PostgresGalleryStore.neighbourEdges`), checked against an exact search.
@Suite("People: persons in an index, on both stores", .serialized)
struct PeopleStoreTests {
    struct ExportedFace: Decodable { var face: Int64; var path: String; var person: Int64?; var name: String?; var pinned: Bool }

    enum Store: String, CaseIterable, CustomStringConvertible {
        case sqlite, postgres
        var description: String { rawValue }
    }

    static let identities = ["Hugo_Chavez", "Jacques_Chirac", "Arnold_Schwarzenegger", "Alejandro_Toledo", "Tom_Ridge"]

    /// "Hugo_Chavez" for ".../lfw-dev_Hugo_Chavez_Hugo_Chavez_0001.jpg" (the copies' names) or ".../Hugo_Chavez_0001.jpg".
    static func identity(_ path: String) -> String {
        let file = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let name = String(file[..<file.lastIndex(of: "_")!])
        return identities.first { name.hasSuffix($0) } ?? name
    }

    static func photos(_ numbers: ClosedRange<Int>) -> [String] {
        identities.flatMap { name in numbers.map { String(format: "lfw-dev/\(name)/\(name)_%04d.jpg", $0) } }
    }

    /// A gallery folder and the arguments that name its index on `store` (a fresh schema on PostgreSQL); the
    /// returned closure removes both.
    static func gallery(_ photos: [String], on store: Store, label: String = #function) throws
        -> (folder: String, location: [String], cleanUp: () -> Void) {
        let folder = try PostgresTestServer.folder(of: photos, label: label)
        switch store {
        case .sqlite:
            return (folder, ["--db", folder + "/index.sqlite"], { try? FileManager.default.removeItem(atPath: folder) })
        case .postgres:
            let postgres = try PostgresTestServer.store(label)
            let url = try PostgresTestServer.url(of: postgres)
            return (folder, ["--store", url], {
                try? postgres.destroy()
                try? FileManager.default.removeItem(atPath: folder)
            })
        }
    }

    @Test(arguments: Store.allCases)
    func clusterNameMergeSplitHideAndClusterAgain(store: Store) throws {
        let (folder, location, cleanUp) = try Self.gallery(Self.photos(1...5), on: store)
        defer { cleanUp() }
        func facefind(_ arguments: [String]) throws -> (status: Int32, output: Data, errors: String) {
            try PostgresTestServer.facefind(arguments + location)
        }
        func export() throws -> [ExportedFace] {
            let run = try facefind(["people", "export", "--json"])
            #expect(run.status == 0, "\(run.errors)")
            return try JSONDecoder().decode([ExportedFace].self, from: run.output)
        }
        #expect(try facefind(["index", folder, "--models", PostgresTestServer.models]).status == 0)
        let clustered = try facefind(["people", "cluster", "--json"])
        #expect(clustered.status == 0, "\(clustered.errors)")

        // Every person is one identity, and every identity is one person (25 photos, one face each).
        var faces = try export()
        let byPerson = Dictionary(grouping: faces.filter { $0.person != nil }, by: { $0.person! })
        #expect(byPerson.count == 5, "\(byPerson.mapValues { $0.map(\.path) })")
        for (person, members) in byPerson {
            #expect(Set(members.map { Self.identity($0.path) }).count == 1, "person \(person): \(members.map(\.path))")
        }
        #expect(faces.filter { $0.person != nil }.count >= 23, "at most two faces left alone")
        func personOf(_ name: String) -> Int64? {
            faces.first { Self.identity($0.path) == name && $0.person != nil }?.person
        }
        let hugo = try #require(personOf("Hugo_Chavez")), tom = try #require(personOf("Tom_Ridge"))
        let toledo = try #require(personOf("Alejandro_Toledo"))

        // Naming; a name is unique and checked.
        #expect(try facefind(["people", "name", String(hugo), "Hugo Chavez"]).status == 0)
        let taken = try facefind(["people", "name", String(tom), "Hugo Chavez"])
        #expect(taken.status == 1 && taken.errors.contains("already the name of person \(hugo)"), "\(taken.errors)")
        #expect(try facefind(["people", "name", String(tom), "bad\nname"]).status == 1)
        let found = try facefind(["search", "--person", "Hugo Chavez"])
        let paths = String(decoding: found.output, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(found.status == 0 && !paths.isEmpty && paths.allSatisfy { Self.identity($0) == "Hugo_Chavez" }, "\(paths)")

        // Merge two people by mistake, split them again by face ids.
        #expect(try facefind(["people", "merge", String(toledo), String(tom)]).status == 0)
        faces = try export()
        let tomFaces = faces.filter { Self.identity($0.path) == "Tom_Ridge" && $0.person != nil }
        #expect(!tomFaces.isEmpty && tomFaces.allSatisfy { $0.person == toledo && $0.pinned })
        let split = try facefind(["people", "split", String(toledo), "--faces", tomFaces.map { String($0.face) }.joined(separator: ",")])
        let newTom = try #require(Int64(String(decoding: split.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        let foreign = try facefind(["people", "split", String(toledo), "--faces", String(tomFaces[0].face)])
        #expect(foreign.status == 1 && foreign.errors.contains("not faces of person \(toledo)"), "\(foreign.errors)")

        // Hidden persons leave the list, not the index.
        #expect(try facefind(["people", "hide", String(newTom)]).status == 0)
        let listed = try facefind(["people", "list", "--json"]), all = try facefind(["people", "list", "--all", "--json"])
        #expect(try JSONDecoder().decode([Person].self, from: listed.output).count == 4)
        #expect(try JSONDecoder().decode([Person].self, from: all.output).contains { $0.id == newTom && $0.hidden })

        // Clustering again keeps every id, the name and what the user put where.
        #expect(try facefind(["people", "cluster"]).status == 0)
        let after = try export()
        for face in faces where face.person != nil {
            let now = after.first { $0.face == face.face }
            let expected = Self.identity(face.path) == "Tom_Ridge" ? newTom : face.person
            #expect(now?.person == expected, "\(face.path): \(String(describing: now?.person)), expected \(String(describing: expected))")
        }
        #expect(after.filter { $0.person == hugo }.allSatisfy { $0.name == "Hugo Chavez" })

        // A photo re-indexed after it changed leaves its person; a removed one too.
        let gone = try #require(try FileManager.default.contentsOfDirectory(atPath: folder)
            .first { $0.hasSuffix("Hugo_Chavez_0001.jpg") })
        try FileManager.default.removeItem(atPath: folder + "/" + gone)
        #expect(try facefind(["index", folder, "--models", PostgresTestServer.models]).status == 0)
        let shown = try facefind(["people", "show", "Hugo Chavez"])
        #expect(shown.status == 0 && !String(decoding: shown.output, as: UTF8.self).contains("Hugo_Chavez_0001"))
        #expect(try facefind(["people", "show", "nobody"]).status == 1)
    }

    /// A growing gallery: photos added after the clustering join their persons when `index` runs, and say so.
    @Test(arguments: Store.allCases)
    func newPhotosJoinTheirPersonsWhenIndexed(store: Store) throws {
        let (folder, location, cleanUp) = try Self.gallery(Self.photos(1...3), on: store)
        defer { cleanUp() }
        let models = ["--models", PostgresTestServer.models]
        #expect(try PostgresTestServer.facefind(["index", folder] + models + location).status == 0)
        #expect(try PostgresTestServer.facefind(["people", "cluster"] + location).status == 0)
        for name in Self.identities {
            try FileManager.default.copyItem(atPath: PostgresTestServer.faces + String(format: "/lfw-dev/\(name)/\(name)_%04d.jpg", 4),
                                             toPath: folder + String(format: "/\(name)_%04d.jpg", 4))
        }
        let indexed = try PostgresTestServer.facefind(["index", folder, "--json"] + models + location)
        struct Report: Decodable { var indexed: Int; var joinedPersons: Int }
        let report = try JSONDecoder().decode(Report.self, from: indexed.output)
        #expect(indexed.status == 0 && report.indexed == 5 && report.joinedPersons >= 4, "\(report)")
        let faces = try JSONDecoder().decode([ExportedFace].self,
                                             from: try PostgresTestServer.facefind(["people", "export"] + location).output)
        for new in faces where new.path.hasSuffix("_0004.jpg") && new.person != nil {
            let others = faces.filter { $0.person == new.person && $0.face != new.face }
            #expect(!others.isEmpty && others.allSatisfy { Self.identity($0.path) == Self.identity(new.path) }, "\(new.path)")
        }
    }

    /// The server's neighbours are the exact ones (25 faces: HNSW finds them all), in both of pgvector's
    /// distances, and clustering through them gives the persons that clustering the same vectors in memory gives.
    @Test(arguments: [HNSWMetric.cosine, .l2])
    func serverNeighboursAreTheExactOnes(metric: HNSWMetric) throws {
        let folder = try PostgresTestServer.folder(of: Self.photos(1...5))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try PostgresTestServer.store(parameters: "&hnsw=\(metric.rawValue)")
        defer { try? store.destroy() }
        let loader = try PostgresTestServer.loader()
        // The gallery binds the settings, creating the table and its index: the same URL parameters.
        let gallery = try Gallery.open(try PostgresTestServer.url(of: store) + "&hnsw=\(metric.rawValue)", loader: loader)
        _ = try IndexingPipeline(finder: gallery.pipeline.finder, embedder: gallery.pipeline.embedder, store: store)
            .index(directory: folder)
        #expect(try store.layout()?.hnsw == metric)

        let matrix = try store.loadFaceMatrix()
        let nodes = try store.personNodes()
        #expect(nodes.map(\.face) == matrix.faceIDs.enumerated().filter { !matrix.faceIsWholeImage[$0.offset] }.map(\.element).sorted())
        let k = 4
        let edges = try store.neighbourEdges(of: nil, k: k, threshold: -1, centre: nil, assignedOnly: false, progress: nil)
        #expect(edges.count == nodes.count * k)
        // Six statements over two connections, their progress counted: the same edges.
        let reported = Counter()
        let batched = try store.neighbourEdges(of: nil, k: k, threshold: -1, assignedOnly: false, batch: 5,
                                               progress: { done, total in reported.record(done, total) })
        #expect(batched == edges && reported.last == (nodes.count, nodes.count) && reported.calls == 6)
        let exact = try VectorIndex.build(count: matrix.faceCount, dimension: matrix.dimension, precision: .float32) { range, out in
            for (i, row) in range.enumerated() {
                matrix.vector(ofFace: row).withUnsafeBufferPointer { v in
                    _ = UnsafeMutableBufferPointer(rebasing: out[(i * matrix.dimension)..<((i + 1) * matrix.dimension)]).initialize(from: v)
                }
            }
        }
        for (row, face) in matrix.faceIDs.enumerated() {
            let expected = exact.search([Array(matrix.vector(ofFace: row))], k: k + 1, metric: .cosine)[0]
                .filter { $0.row != row }.prefix(k)
            let mine = edges.filter { $0.face == face }
            #expect(mine.map(\.neighbour).sorted() == expected.map { matrix.faceIDs[$0.row] }.sorted(), "face \(face)")
            for edge in mine {
                let truth = expected.first { matrix.faceIDs[$0.row] == edge.neighbour }?.score ?? .nan
                #expect(abs(edge.similarity - truth) < 1e-4, "face \(face) → \(edge.neighbour): \(edge.similarity) vs \(truth)")
            }
        }
        // A threshold drops the edges below it.
        let strong = try store.neighbourEdges(of: nil, k: k, threshold: 0.6, centre: nil, assignedOnly: false, progress: nil)
        #expect(strong.allSatisfy { $0.similarity >= 0.6 } && strong.count == edges.filter { $0.similarity >= 0.6 }.count)

        // Centred (the embedder's clustering centre): the same neighbours, each measured as the clustering in
        // memory measures it.
        let settings = try #require(try store.settings())
        let clustering = try #require(PeopleClustering(embedder: settings.embedder, dimension: settings.dimension))
        let centre = try #require(clustering.centre)
        let centred = try store.neighbourEdges(of: nil, k: k, threshold: -1, centre: centre, assignedOnly: false,
                                               progress: nil)
        func pairs(_ edges: [FaceEdge]) -> Set<[Int64]> { Set(edges.map { [$0.face, $0.neighbour] }) }
        #expect(pairs(centred) == pairs(edges))
        let rowOf = Dictionary(uniqueKeysWithValues: matrix.faceIDs.enumerated().map { ($1, $0) })
        for edge in centred {
            let truth = clustering.similarity(matrix.vector(ofFace: rowOf[edge.face]!), matrix.vector(ofFace: rowOf[edge.neighbour]!))
            #expect(abs(edge.similarity - truth) < 1e-4, "face \(edge.face) → \(edge.neighbour): \(edge.similarity) vs \(truth)")
        }
        // And centring moved them: the mean change from the similarities as stored.
        let moved = centred.map { edge in
            abs(edge.similarity - (edges.first { $0.face == edge.face && $0.neighbour == edge.neighbour }?.similarity ?? .nan))
        }
        #expect(moved.reduce(0, +) / Float(moved.count) > 0.01, "\(moved)")

        // The same persons as clustering the vectors in memory.
        let inMemory = try clustering.cluster(matrix, nextID: 1)
        _ = try PeopleClustering.clusterGallery(store)
        let saved = try store.personAssignments().mapValues(\.person)
        func partition(_ assignments: [Int64: Int64]) -> Set<Set<Int64>> {
            Set(Dictionary(grouping: assignments.keys, by: { assignments[$0]! }).values.map(Set.init))
        }
        #expect(partition(saved) == partition(inMemory) && saved.count >= 23)
    }
}

/// Progress calls, from whichever thread.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var state: (calls: Int, last: (Int, Int)) = (0, (0, 0))

    func record(_ done: Int, _ total: Int) {
        lock.withLock { state.calls += 1; state.last = (max(state.last.0, done), total) }
    }

    var calls: Int { lock.withLock { state.calls } }
    var last: (Int, Int) { lock.withLock { state.last } }
}
