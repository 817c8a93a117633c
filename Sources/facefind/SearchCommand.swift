import ArgumentParser
import FaceFind
import FaceFindPostgres
import Foundation
import Logging

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Rank the gallery photos that show the person in each query photo.")

    @Argument(help: "Query photos, or folders of them.")
    var queries: [String] = []

    @Option(help: "Instead of query photos: every photo of this person (a name or id from `facefind people list`).")
    var person: String?

    @Option(help: "Index file (SQLite) made by `facefind index` (default facefind.sqlite); several, comma-separated (one per embedder, same photos), fuse their scores.")
    var db: String?

    @OptionGroup var store: StoreOption
    @OptionGroup var serverSearch: ServerSearchOptions

    @Option(help: "Fusion weights, comma-separated, one per --db (default: all 1).")
    var weights: Sweep<Float>?

    @Flag(help: "Re-rank by query expansion with the best matches' own faces.")
    var rerank = false

    @Option(name: .short, help: "How many gallery photos to return per query.")
    var k = 10

    @Option(help: "cosine or euclidean.")
    var metric: DistanceMetric = .cosine

    @Option(help: "Matches scoring worse than this are flagged unknown (cosine similarity, or euclidean distance); default: the embedder's calibrated threshold for cosine.")
    var threshold: Float?

    @Option(help: "Which face of a query photo to search with: largest, center, score or all.")
    var queryFace: QueryFaceChoice = .largest

    @Option(help: "Write a picture of the query face and its top-k photos (PNG); with several queries, one file per query (-1, -2, ... before the extension).")
    var montage: String?

    @Option(help: "Write {\"query file\": [\"gallery file\", ...]} for all queries (competition format).")
    var submission: String?

    @Flag(help: "Print results as JSON.")
    var json = false

    @OptionGroup var runtime: RuntimeOptions

    struct QueryResult: Encodable {
        var query: String
        var faces: [DetectedFace]
        var chosenFaces: [Int]
        var results: [Match]
        var error: String?
    }

    func validate() throws {
        if person != nil, !queries.isEmpty { throw ValidationError("give query photos or --person, not both") }
        if person == nil, queries.isEmpty { throw ValidationError("give query photos, or --person NAME") }
    }

    func run() throws {
        runtime.bootstrapLogging()
        if let person { return try searchPerson(person) }
        do {
            let gallery = try SearchedGallery(db: db, store: store, weights: weights?.values, rerank: rerank,
                                              runtime: runtime)
            let threshold = self.threshold ?? (gallery.members.count == 1 && metric == .cosine
                ? ModelCatalog.spec(named: gallery.members[0].settings.embedder)?.embedder?.matchThreshold : nil)
            var queryFiles: [String] = []
            for q in queries { queryFiles += try IndexingPipeline.imageFiles(under: q) }
            let decoder = ImageDecoder()
            let results = queryFiles.enumerated().map { n, path in
                search(path, in: gallery, threshold: threshold, decoder: decoder,
                       montage: montage.map { queryFiles.count == 1 ? $0 : Self.numbered($0, n + 1) })
            }
            if let submission { try Self.writeSubmission(results, to: submission) }
            if json { try printJSON(results) } else { Self.printText(results) }
            // Some queries could not be used (each is named above): the run finished, not everything was done.
            if results.contains(where: { $0.error != nil }) { throw ExitStatus.partial }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail(error)
        }
    }

    /// `--person`: the photos holding the person's faces, by path, each with its faces' boxes.
    private func searchPerson(_ name: String) throws {
        struct PersonPhoto: Encodable { var path: String; var boxes: [Box] }
        do {
            let store = try PeopleClustering.people(of: try Gallery.store(at: store.location(db: db), create: false))
            let person = try store.person(name)
            var photos: [PersonPhoto] = []
            for face in try store.faces(ofPerson: person.id) {
                if photos.last?.path == face.path { photos[photos.count - 1].boxes.append(face.box) } else {
                    photos.append(PersonPhoto(path: face.path, boxes: [face.box]))
                }
            }
            if json { try printJSON(photos) } else { for photo in photos { print(printable(photo.path)) } }
        } catch {
            throw fail(error)
        }
    }

    /// One query photo: its faces through each index's pipeline, the chosen ones searched, the montage drawn;
    /// a photo that cannot be used gives a result with its error.
    private func search(_ path: String, in gallery: SearchedGallery, threshold: Float?, decoder: ImageDecoder,
                        montage: String?) -> QueryResult {
        do {
            let image = try decoder.decode(contentsOf: path)
            var vectors: [[Embedding]] = []
            var firstFaces: [StoredFace] = []
            var chosen: [Int] = []
            for member in gallery.members {
                let faces = try member.pipeline.embedFaces(in: image)
                let picked = queryFace.choose(from: faces.map(\.face), imageWidth: image.width, imageHeight: image.height)
                if firstFaces.isEmpty { firstFaces = faces; chosen = picked }
                vectors.append(picked.map { faces[$0].embedding })
            }
            var matches: [Match]
            if let server = gallery.server {
                matches = try server.search(faces: vectors[0], k: k, metric: metric, exact: serverSearch.exact,
                                            efSearch: serverSearch.efSearch, threshold: threshold)
            } else if let file = gallery.vectorFile {
                matches = try file.rank(faces: vectors[0], k: k, metric: metric, threshold: threshold).map(\.match)
            } else {
                matches = gallery.ranking.matches(queries: vectors, metric: metric, k: k, threshold: threshold,
                                                  expansion: rerank ? FusedRanking.Expansion() : nil,
                                                  paths: gallery.paths)
            }
            // With one query face, a video's appearances are the tracks that face matches.
            let query = vectors[0].count == 1 ? vectors[0][0] : nil
            matches = try gallery.members[0].gallery.store.withVideoTimes(
                matches, queries: Array(repeating: query, count: matches.count), metric: metric, threshold: threshold)
            if let montage {
                let picture = ResultMontage.render(
                    query: image, queryFace: firstFaces[chosen.first ?? 0].face, matches: matches, metric: metric,
                    title: URL(fileURLWithPath: path).lastPathComponent,
                    photo: { try? decoder.decodeMedia(contentsOf: $0.path, at: $0.time?.frame) })
                try picture.writePNG(to: montage)
            }
            return QueryResult(query: path, faces: firstFaces.map(\.face), chosenFaces: chosen, results: matches)
        } catch {
            return QueryResult(query: path, faces: [], chosenFaces: [], results: [], error: "\(error)")
        }
    }

    /// `{"query file": ["gallery file", ...]}` (file names only), the competition format. A video is named with
    /// the matched face's track as a media fragment (W3C Media Fragments URI: `clip.mp4#t=3.0,6.0`, seconds).
    private static func writeSubmission(_ results: [QueryResult], to path: String) throws {
        var map: [String: [String]] = [:]
        for r in results where r.error == nil {
            map[URL(fileURLWithPath: r.query).lastPathComponent] = r.results.map { match in
                URL(fileURLWithPath: match.path).lastPathComponent
                    + (match.time.map { String(format: "#t=%.1f,%.1f", $0.start, $0.end) } ?? "")
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(map).write(to: URL(fileURLWithPath: path))
    }

    private static func printText(_ results: [QueryResult]) {
        for r in results {
            if let error = r.error { print("\(printable(r.query)): \(printable(error))"); continue }
            let whole = r.faces.allSatisfy(\.isWholeImage) ? " (no face found: whole image used)" : ""
            print("\(printable(r.query)): \(r.faces.count) face(s)\(whole)")
            if let first = r.results.first, first.unknown {
                print("  no gallery photo passes the match threshold: unknown person")
            }
            for m in r.results {
                let b = m.box
                print(String(format: "  %2d. %.4f  %@  [%.0f, %.0f, %.0f, %.0f]%@%@", m.rank, m.score, printable(m.path),
                             b.x, b.y, b.width, b.height, Self.videoText(m), m.unknown ? "  (unknown person)" : ""))
            }
        }
    }

    /// " at 0:03.0 (0:03.0-0:06.0; on screen 0:03.0-0:06.0, 0:12.0-0:15.5)" for a video, "" for a photo.
    static func videoText(_ match: Match) -> String {
        guard let time = match.time else { return "" }
        let appearances = (match.appearances ?? []).map(\.rangeText).joined(separator: ", ")
        return " at \(FaceTime.clock(time.frame)) (\(time.rangeText)\(appearances.isEmpty ? "" : "; on screen \(appearances)"))"
    }

    static func numbered(_ path: String, _ n: Int) -> String {
        let url = URL(fileURLWithPath: path)
        let ext = url.pathExtension
        return url.deletingPathExtension().path + "-\(n)" + (ext.isEmpty ? "" : ".\(ext)")
    }
}

/// What `search` searches: a PostgreSQL store (searched on the server: HNSW, or `--exact`), one SQLite index
/// with a vector file (searched in that file, its vectors never loaded), or one or more SQLite indexes of the same
/// photos (one per embedder) loaded into memory, their photos united by path and their scores fused with `weights`.
struct SearchedGallery {
    let members: [SearchMember]
    /// The one store searched where its vectors are (PostgreSQL), nil for indexes searched in memory.
    let server: PostgresGalleryStore?
    /// The vector file of the one SQLite index searched, when it has one (`index --vector-file`).
    let vectorFile: GalleryVectorFile?
    let ranking: FusedRanking
    /// The photos of all members, in the ranking's order.
    let paths: [String]

    init(db: String?, store: StoreOption, weights: [Float]?, rerank: Bool, runtime: RuntimeOptions) throws {
        let loader = try runtime.loader(intraOpThreads: runtime.workerCount)
        if store.isPostgres {
            guard !rerank else {
                throw ValidationError("--rerank needs the vectors in memory: not available with --store postgres://")
            }
            let gallery = try Gallery.openIndexed(try store.location(db: db), loader: loader)
            members = [SearchMember(gallery: gallery, search: GallerySearch(matrix: FaceMatrix(dimension: gallery.settings.dimension)))]
            vectorFile = nil
        } else {
            let databases = store.databaseList(db: db).split(separator: ",")
            var file: GalleryVectorFile?
            members = try databases.map { path in
                let gallery = try Gallery.openIndexed("sqlite:" + path, loader: loader)
                if databases.count == 1, !rerank, let sqlite = gallery.store as? SQLiteGalleryStore {
                    file = try Self.vectorFile(of: sqlite)
                    if file != nil { return SearchMember(gallery: gallery, search: GallerySearch(matrix: FaceMatrix(dimension: 0))) }
                }
                return SearchMember(gallery: gallery, search: GallerySearch(matrix: try gallery.store.loadFaceMatrix()))
            }
            vectorFile = file
        }
        server = members[0].gallery.serverSearcher as? PostgresGalleryStore
        let weights = weights ?? [Float](repeating: 1, count: members.count)
        guard weights.count == members.count else { throw ValidationError("give one weight per --db") }
        var positions: [String: Int] = [:]
        var paths: [String] = []
        for member in members {
            for image in member.search.matrix.images where positions[image.path] == nil {
                positions[image.path] = paths.count
                paths.append(image.path)
            }
        }
        self.paths = paths
        ranking = FusedRanking(
            members: zip(members, weights).map { FusedRanking.Member(search: $0.search, paths: positions, weight: $1) },
            imageCount: paths.count)
    }
}

extension SearchedGallery {
    /// The current vector file of `store`: a stale one is rebuilt (the index is the truth), or, where that fails
    /// (a read-only folder), passed over for the vectors in memory, with a warning.
    static func vectorFile(of store: SQLiteGalleryStore) throws -> GalleryVectorFile? {
        let logger = Logger(label: "facefind.search")
        do {
            return try GalleryVectorFile.opened(store: store, rebuild: true) { logger.warning("\($0)") }
        } catch {
            logger.warning("\(error); searching the index in memory instead")
            return nil
        }
    }
}

/// One index opened for searching, and its matrix in memory (empty for a store searched on its server).
struct SearchMember {
    let gallery: Gallery
    let search: GallerySearch

    var settings: IndexSettings { gallery.settings }
    var pipeline: FacePipeline { gallery.pipeline }
}

extension DistanceMetric: ExpressibleByArgument {}
extension QueryFaceChoice: ExpressibleByArgument {}
extension Augmentation: ExpressibleByArgument {}
