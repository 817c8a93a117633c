import FaceFind
import Foundation
import PostgresNIO

/// Persons in PostgreSQL: tables `persons(id, name UNIQUE, hidden)` and `face_persons(face_id → faces ON DELETE
/// CASCADE, person_id → persons, pinned)`, the SQLite index's tables with the same meaning (docs/People.md).
/// Clustering finds each face's nearest faces with the HNSW index, in the server (`NearestFacesStore`).
extension PostgresGalleryStore: NearestFacesStore {
    /// Creates the people tables (they reference `faces`, so they come with it).
    static func createPeopleTables(_ db: PostgresSession.Handle, schema: String) throws {
        try db.query(PostgresQuery(unsafeSQL: """
            CREATE TABLE IF NOT EXISTS \(schema).persons (
                id bigint PRIMARY KEY,
                name text UNIQUE,
                hidden boolean NOT NULL DEFAULT false
            )
            """))
        try db.query(PostgresQuery(unsafeSQL: """
            CREATE TABLE IF NOT EXISTS \(schema).face_persons (
                face_id bigint PRIMARY KEY REFERENCES \(schema).faces(id) ON DELETE CASCADE,
                person_id bigint NOT NULL REFERENCES \(schema).persons(id) ON DELETE CASCADE,
                pinned boolean NOT NULL DEFAULT false
            )
            """))
        try db.query(PostgresQuery(unsafeSQL: "CREATE INDEX IF NOT EXISTS face_persons_person ON \(schema).face_persons (person_id)"))
    }

    /// Assignments are written this many rows per statement (two bound arrays).
    private static var assignmentRowsPerStatement: Int { 50_000 }

    public func personAssignments() throws -> [Int64: PersonAssignment] {
        guard try layout() != nil else { return [:] }
        return try session.run { db in
            var result: [Int64: PersonAssignment] = [:]
            for row in try db.query("SELECT face_id, person_id, pinned FROM \(unescaped: schema).face_persons") {
                let (face, person, pinned) = try row.decode((Int64, Int64, Bool).self)
                result[face] = PersonAssignment(person: person, pinned: pinned)
            }
            return result
        }
    }

    public func saveClustering(_ assignments: [Int64: Int64]) throws {
        _ = try requirePeopleTables()
        let entries = assignments.sorted { $0.key < $1.key }
        try session.run(transaction: true) { db in
            try db.query("DELETE FROM \(unescaped: schema).face_persons WHERE NOT pinned")
            var start = 0
            while start < entries.count {
                let chunk = entries[start..<min(start + Self.assignmentRowsPerStatement, entries.count)]
                let faces = chunk.map(\.key), persons = chunk.map(\.value)
                try db.query("""
                    INSERT INTO \(unescaped: schema).persons (id) SELECT DISTINCT p FROM unnest(\(persons)::int8[]) AS u(p)
                    ON CONFLICT DO NOTHING
                    """)
                // Pinned faces keep theirs (the conflict); faces removed since the clustering are skipped (the join).
                try db.query("""
                    INSERT INTO \(unescaped: schema).face_persons (face_id, person_id, pinned)
                    SELECT u.f, u.p, false FROM unnest(\(faces)::int8[], \(persons)::int8[]) AS u(f, p)
                    JOIN \(unescaped: schema).faces f ON f.id = u.f
                    ON CONFLICT (face_id) DO NOTHING
                    """)
                start += chunk.count
            }
            try deleteEmptyPersons(db)
        }
    }

    public func assign(_ assignments: [Int64: Int64]) throws {
        guard !assignments.isEmpty else { return }
        _ = try requirePeopleTables()
        let entries = assignments.sorted { $0.key < $1.key }
        try session.run(transaction: true) { db in
            try db.query("""
                INSERT INTO \(unescaped: schema).face_persons (face_id, person_id, pinned)
                SELECT f.id, p.id, false FROM unnest(\(entries.map(\.key))::int8[], \(entries.map(\.value))::int8[]) AS u(f, p)
                JOIN \(unescaped: schema).faces f ON f.id = u.f JOIN \(unescaped: schema).persons p ON p.id = u.p
                ON CONFLICT (face_id) DO NOTHING
                """)
        }
    }

    public func nextPersonID() throws -> Int64 {
        guard try layout() != nil else { return 1 }
        return try session.run { db in
            try db.query("SELECT COALESCE(max(id), 0) + 1 FROM \(unescaped: schema).persons").first!.decode(Int64.self)
        }
    }

    public func people(includeHidden: Bool) throws -> [Person] {
        guard try layout() != nil else { return [] }
        return try session.run { db in try persons(db, includeHidden: includeHidden, only: nil) }
    }

    public func person(_ idOrName: String) throws -> Person {
        if try layout() != nil {
            let found = try session.run { db in
                try persons(db, includeHidden: true, only: Int64(idOrName).map { .id($0) } ?? .name(idOrName)).first
            }
            if let found { return found }
        }
        throw PeopleError.noSuchPerson("'\(idOrName)'")
    }

    public func faces(ofPerson id: Int64) throws -> [PersonFace] {
        guard try layout() != nil else { return [] }
        return try session.run { db in try personFaces(db, person: id) }
    }

    public func allFaces() throws -> [PersonFace] {
        guard try layout() != nil else { return [] }
        return try session.run { db in try personFaces(db, person: nil) }
    }

    public func name(person id: Int64, _ name: String?) throws {
        let name = try name.map(PeopleError.checkedName)
        _ = try requirePeopleTables()
        try session.run(transaction: true) { db in
            try requirePerson(db, id)
            if let name, let other = try db.query("""
                SELECT id FROM \(unescaped: schema).persons WHERE name = \(name) AND id <> \(id)
                """).first?.decode(Int64.self) {
                throw PeopleError.nameTaken(name: name, by: other, asked: id)
            }
            try db.query("UPDATE \(unescaped: schema).persons SET name = \(name) WHERE id = \(id)")
            try db.query("UPDATE \(unescaped: schema).face_persons SET pinned = true WHERE person_id = \(id)")
        }
    }

    public func merge(_ other: Int64, into person: Int64) throws {
        guard other != person else { return }
        _ = try requirePeopleTables()
        try session.run(transaction: true) { db in
            try requirePerson(db, person)
            try requirePerson(db, other)
            let otherName = try db.query("SELECT name FROM \(unescaped: schema).persons WHERE id = \(other)")
                .first?.decode(String?.self) ?? nil
            try db.query("""
                UPDATE \(unescaped: schema).face_persons SET person_id = \(person), pinned = true
                WHERE person_id IN (\(person), \(other))
                """)
            try db.query("DELETE FROM \(unescaped: schema).persons WHERE id = \(other)")
            if let otherName {
                try db.query("UPDATE \(unescaped: schema).persons SET name = COALESCE(name, \(otherName)) WHERE id = \(person)")
            }
        }
    }

    public func split(person: Int64, faces: [Int64]) throws -> Int64 {
        _ = try requirePeopleTables()
        return try session.run(transaction: true) { db in
            try requirePerson(db, person)
            let own = Set(try db.query("SELECT face_id FROM \(unescaped: schema).face_persons WHERE person_id = \(person)")
                .map { try $0.decode(Int64.self) })
            let strangers = faces.filter { !own.contains($0) }
            guard strangers.isEmpty, !faces.isEmpty else {
                throw PeopleError.notTheirFaces(person: person, faces: strangers)
            }
            let new = try db.query("SELECT COALESCE(max(id), 0) + 1 FROM \(unescaped: schema).persons").first!.decode(Int64.self)
            try db.query("INSERT INTO \(unescaped: schema).persons (id) VALUES (\(new))")
            try db.query("UPDATE \(unescaped: schema).face_persons SET pinned = true WHERE person_id = \(person)")
            try db.query("""
                UPDATE \(unescaped: schema).face_persons SET person_id = \(new) WHERE face_id = ANY(\(Array(Set(faces))))
                """)
            try deleteEmptyPersons(db)
            return new
        }
    }

    public func hide(person id: Int64, _ hidden: Bool) throws {
        _ = try requirePeopleTables()
        try session.run(transaction: true) { db in
            try requirePerson(db, id)
            try db.query("UPDATE \(unescaped: schema).persons SET hidden = \(hidden) WHERE id = \(id)")
        }
    }

    // MARK: - The store's own nearest-face search

    public func personNodes() throws -> [PersonNode] {
        guard try layout() != nil else { return [] }
        return try session.run { db in
            try db.query("""
                SELECT id, image_id, time_start IS NOT NULL FROM \(unescaped: schema).faces WHERE NOT whole_image ORDER BY id
                """).map { row in
                let (face, image, inVideo) = try row.decode((Int64, Int64, Bool).self)
                return PersonNode(face: face, image: image, inVideo: inVideo)
            }
        }
    }

    /// Each face's nearest faces, found by the server (the HNSW index when there is one; `hnsw.ef_search` from
    /// the URL): a thousand faces per statement, on two connections at once (the server searches on one core
    /// per connection), so no vector leaves the server.
    public func neighbourEdges(of faces: [Int64]?, k: Int, threshold: Float, centre: [Float]?, assignedOnly: Bool,
                               progress: (@Sendable (Int, Int) -> Void)?) throws -> [FaceEdge] {
        try neighbourEdges(of: faces, k: k, threshold: threshold, centre: centre, assignedOnly: assignedOnly,
                           batch: 1000, progress: progress)
    }

    /// `neighbourEdges`, `batch` faces per statement.
    func neighbourEdges(of faces: [Int64]?, k: Int, threshold: Float, centre: [Float]? = nil, assignedOnly: Bool,
                        batch: Int, progress: (@Sendable (Int, Int) -> Void)?) throws -> [FaceEdge] {
        guard let layout = try layout() else { return [] }
        let ids = try faces ?? personNodes().map(\.face)
        guard !ids.isEmpty, k > 0 else { return [] }
        if let centre, centre.count != layout.dimension {
            throw GalleryError.storage(store: name, message: "a clustering centre of \(centre.count) dimensions for vectors of \(layout.dimension)")
        }
        let metric = layout.hnsw ?? .cosine
        let op = metric.distanceOperator
        // Unit vectors: cosine similarity is 1 - cosine distance, or 1 - d² / 2 from the euclidean distance.
        // Centred: the cosine of the two vectors minus the centre ($4), measured on the neighbours the index found.
        let similarity = centre != nil ? "1 - n.c" : metric == .cosine ? "1 - n.d" : "1 - n.d * n.d / 2"
        let centred = centre == nil ? "" : """
            , ((g.embedding - $4::real[]::\(layout.vectorType)) <=> (q.embedding - $4::real[]::\(layout.vectorType)))::float8 AS c
            """
        let sql = """
            SELECT q.id, n.id, (\(similarity))::float4
            FROM \(schema).faces q CROSS JOIN LATERAL (
                SELECT g.id, (g.embedding \(op) q.embedding)::float8 AS d\(centred) FROM \(schema).faces g
                WHERE NOT g.whole_image AND g.id <> q.id
                \(assignedOnly ? "AND EXISTS (SELECT 1 FROM \(schema).face_persons fp WHERE fp.face_id = g.id)" : "")
                ORDER BY g.embedding \(op) q.embedding LIMIT $2) n
            WHERE q.id = ANY($1) AND \(similarity) >= $3
            """
        let batches = stride(from: 0, to: ids.count, by: batch).map { Array(ids[$0..<min($0 + batch, ids.count)]) }
        let workers = min(2, batches.count)
        let sessions = [session] + (try (1..<max(1, workers)).map { _ in try session.sibling() })
        defer { for extra in sessions.dropFirst() { extra.close() } }

        let work = NeighbourWork(batches: batches.count)
        DispatchQueue.concurrentPerform(iterations: sessions.count) { worker in
            let session = sessions[worker]
            while let b = work.claim() {
                do {
                    var bindings = PostgresBindings(capacity: 4)
                    bindings.append(batches[b])
                    bindings.append(Int32(k))
                    bindings.append(threshold)
                    if let centre { bindings.append(Float4Array(centre)) }
                    let edges = try session.run { db in
                        try db.set("enable_indexscan", "on")
                        try db.set("hnsw.ef_search", String(min(1000, max(options.efSearch, k + 1))))
                        // Filtered searches (only faces with a person) continue the index scan past ef_search.
                        try db.set("hnsw.iterative_scan", assignedOnly ? "relaxed_order" : "off")
                        return try db.query(PostgresQuery(unsafeSQL: sql, binds: bindings)).map { row in
                            let (face, neighbour, similarity) = try row.decode((Int64, Int64, Float).self)
                            return FaceEdge(face: face, neighbour: neighbour, similarity: similarity)
                        }
                    }
                    // Recorded first: `progress?(work.finish(…))` would skip the recording when there is no progress.
                    let done = work.finish(b, edges, faces: batches[b].count)
                    progress?(done, ids.count)
                } catch {
                    work.fail(error)
                    return
                }
            }
        }
        return try work.edges()
    }

    // MARK: - Helpers

    private enum PersonKey { case id(Int64), name(String) }

    /// The layout, or an error when no settings are bound yet (then there are no faces and no persons).
    private func requirePeopleTables() throws -> Layout {
        guard let layout = try layout() else {
            throw GalleryError.notFound("\(name) holds no faces yet; run `facefind index FOLDER --store URL` first")
        }
        return layout
    }

    private func requirePerson(_ db: PostgresSession.Handle, _ id: Int64) throws {
        guard try db.query("SELECT 1 FROM \(unescaped: schema).persons WHERE id = \(id)").first != nil else {
            throw PeopleError.noSuchPerson(String(id))
        }
    }

    /// A person without faces is gone, name and all: every face it had was re-indexed, removed or moved.
    private func deleteEmptyPersons(_ db: PostgresSession.Handle) throws {
        try db.query("""
            DELETE FROM \(unescaped: schema).persons p
            WHERE NOT EXISTS (SELECT 1 FROM \(unescaped: schema).face_persons fp WHERE fp.person_id = p.id)
            """)
    }

    /// Persons with faces, largest first (then by id), each with its largest face: all, or the one `only` names.
    private func persons(_ db: PostgresSession.Handle, includeHidden: Bool, only: PersonKey?) throws -> [Person] {
        var conditions = includeHidden ? [] : ["NOT p.hidden"]
        var bindings = PostgresBindings(capacity: 1)
        switch only {
        case .id(let id): conditions.append("p.id = $1"); bindings.append(id)
        case .name(let name): conditions.append("p.name = $1"); bindings.append(name)
        case nil: break
        }
        let sql = """
            SELECT p.id, p.name, p.hidden, c.faces, c.photos,
                   r.face_id, r.image_id, r.path, r.width, r.height, r.x, r.y, r.w, r.h, r.pinned
            FROM \(schema).persons p
            JOIN (SELECT fp.person_id,
                         count(DISTINCT COALESCE(f.image_id || ':' || f.time_start || ':' || f.time_end, f.id::text)) AS faces,
                         count(DISTINCT f.image_id) AS photos
                  FROM \(schema).face_persons fp JOIN \(schema).faces f ON f.id = fp.face_id
                  GROUP BY fp.person_id) c ON c.person_id = p.id
            JOIN (SELECT DISTINCT ON (fp.person_id) fp.person_id, f.id AS face_id, f.image_id, i.path, i.width,
                         i.height, f.x, f.y, f.w, f.h, fp.pinned
                  FROM \(schema).face_persons fp JOIN \(schema).faces f ON f.id = fp.face_id
                  JOIN \(schema).images i ON i.id = f.image_id
                  WHERE NOT f.whole_image
                  ORDER BY fp.person_id, f.w * f.h DESC, f.id) r ON r.person_id = p.id
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY c.faces DESC, p.id
            """
        return try db.query(PostgresQuery(unsafeSQL: sql, binds: bindings)).map { row in
            let columns = try row.decode((Int64, String?, Bool, Int, Int, Int64, Int64, String, Int32, Int32,
                                          Float, Float, Float, Float, Bool).self)
            let face = PersonFace(faceID: columns.5, imageID: columns.6, path: columns.7,
                                  box: Box(x: columns.10, y: columns.11, width: columns.12, height: columns.13),
                                  person: columns.0, pinned: columns.14, imageWidth: Int(columns.8), imageHeight: Int(columns.9))
            return Person(id: columns.0, name: columns.1, hidden: columns.2, faceCount: columns.3, photoCount: columns.4,
                          representative: face)
        }
    }

    /// The faces of `person` (every real face when nil, with its person if any), by photo path.
    private func personFaces(_ db: PostgresSession.Handle, person: Int64?) throws -> [PersonFace] {
        var bindings = PostgresBindings(capacity: 1)
        if let person { bindings.append(person) }
        let sql = """
            SELECT f.id, f.image_id, i.path, i.width, i.height, f.x, f.y, f.w, f.h, fp.person_id, fp.pinned
            FROM \(schema).faces f JOIN \(schema).images i ON i.id = f.image_id
            \(person == nil ? "LEFT JOIN" : "JOIN") \(schema).face_persons fp ON fp.face_id = f.id
            WHERE NOT f.whole_image \(person == nil ? "" : "AND fp.person_id = $1")
            ORDER BY i.path, f.id
            """
        return try db.query(PostgresQuery(unsafeSQL: sql, binds: bindings)).map { row in
            let (face, image, path, width, height, x, y, w, h, personID, pinned) =
                try row.decode((Int64, Int64, String, Int32, Int32, Float, Float, Float, Float, Int64?, Bool?).self)
            return PersonFace(faceID: face, imageID: image, path: path, box: Box(x: x, y: y, width: w, height: h),
                              person: personID, pinned: pinned ?? false, imageWidth: Int(width), imageHeight: Int(height))
        }
    }
}

/// The shared state of `neighbourEdges`' workers: the next batch to claim, each batch's edges, the first error.
private final class NeighbourWork: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [[FaceEdge]]
    private var next = 0, done = 0
    private var failure: (any Error)?

    init(batches: Int) { results = Array(repeating: [], count: batches) }

    /// The next batch to search, nil when all are claimed or one failed.
    func claim() -> Int? {
        lock.withLock {
            guard failure == nil, next < results.count else { return nil }
            defer { next += 1 }
            return next
        }
    }

    /// Records batch `b`'s edges; returns the faces done so far.
    func finish(_ b: Int, _ edges: [FaceEdge], faces: Int) -> Int {
        lock.withLock { results[b] = edges; done += faces; return done }
    }

    func fail(_ error: any Error) { lock.withLock { if failure == nil { failure = error } } }

    /// Every batch's edges in batch order, or the first error.
    func edges() throws -> [FaceEdge] {
        try lock.withLock {
            if let failure { throw failure }
            return results.flatMap { $0 }
        }
    }
}
