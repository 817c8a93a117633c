import FaceFind
import Foundation
import PostgresNIO

/// Nearest-neighbour search on the server: the faces nearest the query come from the HNSW index (or, with
/// `exact`, from a full scan with the index disabled), and each gallery image takes the score of its best
/// face, as `GallerySearch` does in memory.
extension PostgresGalleryStore {
    /// The `k` best gallery images for `query`. Cosine scores are similarities (1 − pgvector's cosine
    /// distance), euclidean scores distances. `efSearch` overrides the URL's `ef_search`. With a `threshold`,
    /// matches worse than it are flagged `unknown`.
    public func search(_ query: Embedding, k: Int, metric: DistanceMetric = .cosine, exact: Bool = false,
                       efSearch: Int? = nil, threshold: Float? = nil) throws -> [Match] {
        try search(faces: [query], k: k, metric: metric, exact: exact, efSearch: efSearch, threshold: threshold)
    }

    /// The `k` best gallery images for several faces of one query photo: an image's score is its best over all
    /// query faces and gallery faces.
    public func search(faces queries: [Embedding], k: Int, metric: DistanceMetric = .cosine, exact: Bool = false,
                       efSearch: Int? = nil, threshold: Float? = nil) throws -> [Match] {
        try rank(faces: queries, k: k, metric: metric, threshold: threshold, exact: exact, efSearch: efSearch).map(\.match)
    }

    /// As `GallerySearcher.rank`, with the HNSW index off (`exact`) or its candidate list set (`efSearch`).
    public func rank(faces queries: [Embedding], k: Int, metric: DistanceMetric, threshold: Float?, exact: Bool,
                     efSearch: Int?) throws -> [(match: Match, list: Int)] {
        guard k > 0, !queries.isEmpty, let layout = try layout() else { return [] }
        let lists = try queries.map { query in
            try nearestImages(query.vector, k: k, metric: metric, exact: exact, efSearch: efSearch ?? options.efSearch,
                              layout: layout)
        }
        return Match.bestPerImage(lists, metric: metric, k: k, threshold: threshold)
    }

    /// The best face of each of at least `k` images (fewer when the gallery has fewer), nearest first. Fetches
    /// the nearest faces and widens the fetch until they cover k distinct images.
    private func nearestImages(_ vector: [Float], k: Int, metric: DistanceMetric, exact: Bool, efSearch: Int,
                               layout: Layout) throws -> [Match] {
        guard vector.count == layout.dimension else {
            throw GalleryError.storage(store: name, message: "query has \(vector.count) dimensions, gallery \(layout.dimension)")
        }
        let op = HNSWMetric(metric).distanceOperator
        let schema = Self.quoted(options.schema)
        var limit = max(2 * k, k + 8)
        while true {
            let sql = """
                SELECT n.id, n.image_id, n.distance, i.path, n.x, n.y, n.w, n.h, n.whole_image
                FROM (SELECT id, image_id, x, y, w, h, whole_image, (embedding \(op) $1::real[]::\(layout.vectorType))::float8 AS distance
                      FROM \(schema).faces ORDER BY embedding \(op) $1::real[]::\(layout.vectorType) LIMIT $2) n
                JOIN \(schema).images i ON i.id = n.image_id
                """
            var bindings = PostgresBindings(capacity: 2)
            bindings.append(Float4Array(vector))
            bindings.append(limit)
            let rows: [Match] = try session.run { db in
                try configure(db, exact: exact, efSearch: efSearch, limit: limit)
                return try db.query(PostgresQuery(unsafeSQL: sql, binds: bindings)).map { row in
                    let (faceID, imageID, distance, path, x, y, w, h, whole) =
                        try row.decode((Int64, Int64, Double, String, Float, Float, Float, Float, Bool).self)
                    let score = metric == .cosine ? Float(1 - distance) : Float(distance)
                    return Match(rank: 0, imageID: imageID, path: path, score: score, faceID: faceID,
                                 box: Box(x: x, y: y, width: w, height: h), isWholeImage: whole)
                }
            }
            // HNSW returns faces in about, not exactly, distance order: sort, then keep each image's first.
            var seen = Set<Int64>()
            let images = rows.sorted { $0.ranks(before: $1, metric: metric) }.filter { seen.insert($0.imageID).inserted }
            if images.count >= k || rows.count < limit { return images }
            limit *= 4
        }
    }

    /// Session settings for one search: the index on or off, and a candidate list long enough for `limit`
    /// rows (beyond pgvector's maximum ef_search of 1000, its iterative scan continues the search).
    private func configure(_ db: PostgresSession.Handle, exact: Bool, efSearch: Int, limit: Int) throws {
        try db.set("enable_indexscan", exact ? "off" : "on")
        guard !exact else { return }
        try db.set("hnsw.ef_search", String(min(1000, max(efSearch, limit))))
        if limit > 1000 { try db.set("hnsw.iterative_scan", "relaxed_order") }
    }

    /// For each query, the ids of its `limit` nearest faces, nearest first — all queries in one statement
    /// (one round trip), each answered by its own index scan. For measuring batched throughput and recall.
    public func nearestFaces(_ queries: [[Float]], limit: Int, metric: DistanceMetric = .cosine, exact: Bool = false,
                             efSearch: Int? = nil) throws -> [[Int64]] {
        guard !queries.isEmpty, limit > 0 else { return queries.map { _ in [] } }
        let layout = try requireLayoutForSearch()
        let d = layout.dimension
        var flat: [Float] = []
        flat.reserveCapacity(queries.count * d)
        for q in queries {
            guard q.count == d else {
                throw GalleryError.storage(store: name, message: "query has \(q.count) dimensions, gallery \(d)")
            }
            flat += q
        }
        let op = HNSWMetric(metric).distanceOperator
        let schema = Self.quoted(options.schema)
        let sql = """
            SELECT q.n, nn.id
            FROM generate_series(0, $2 - 1) AS q(n)
            CROSS JOIN LATERAL (
                SELECT id FROM \(schema).faces
                ORDER BY embedding \(op) (($1::real[])[q.n * $3 + 1 : (q.n + 1) * $3])::\(layout.vectorType)
                LIMIT $4) nn
            """
        var bindings = PostgresBindings(capacity: 4)
        bindings.append(Float4Array(flat))
        bindings.append(Int32(queries.count))
        bindings.append(Int32(d))
        bindings.append(Int32(limit))
        let rows = try session.run { db in
            try configure(db, exact: exact, efSearch: efSearch ?? options.efSearch, limit: limit)
            return try db.query(PostgresQuery(unsafeSQL: sql, binds: bindings))
        }
        var result = [[Int64]](repeating: [], count: queries.count)
        for row in rows {
            let (n, id) = try row.decode((Int32, Int64).self)
            result[Int(n)].append(id)
        }
        return result
    }

    /// The plan the server picks for a nearest-faces query (to check that the HNSW index is used).
    public func explainNearest(dimension: Int, exact: Bool = false, metric: DistanceMetric = .cosine) throws -> String {
        let layout = try requireLayoutForSearch()
        let op = HNSWMetric(metric).distanceOperator
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(Float4Array([Float](repeating: 0.1, count: dimension)))
        let sql = "EXPLAIN SELECT id FROM \(Self.quoted(options.schema)).faces ORDER BY embedding \(op) $1::real[]::\(layout.vectorType) LIMIT 10"
        return try session.run { db in
            try configure(db, exact: exact, efSearch: options.efSearch, limit: 10)
            return try db.query(PostgresQuery(unsafeSQL: sql, binds: bindings)).map { try $0.decode(String.self) }
                .joined(separator: "\n")
        }
    }

    private func requireLayoutForSearch() throws -> Layout {
        guard let layout = try layout() else {
            throw GalleryError.storage(store: name, message: "holds no index yet (no settings bound)")
        }
        return layout
    }
}

/// The store searched where its vectors are: `facefind serve --store postgres://…` ranks through this, with the
/// URL's HNSW settings.
extension PostgresGalleryStore: GallerySearcher {
    public func rank(faces: [Embedding], k: Int, metric: DistanceMetric, threshold: Float?) throws -> [(match: Match, list: Int)] {
        try rank(faces: faces, k: k, metric: metric, threshold: threshold, exact: false, efSearch: nil)
    }
}
