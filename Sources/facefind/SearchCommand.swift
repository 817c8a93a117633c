import ArgumentParser
import FaceFind
import Foundation

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Rank the gallery photos that show the person in each query photo.")

    @Argument(help: "Query photos, or folders of them.")
    var queries: [String]

    @Option(help: "Index file (SQLite) made by `facefind index` (default facefind.sqlite); several, comma-separated (one per embedder, same photos), fuse their scores.")
    var db: String?

    @OptionGroup var store: StoreOption
    @OptionGroup var serverSearch: ServerSearchOptions

    @Option(help: "Fusion weights, comma-separated, one per --db (default: all 1).")
    var weights: String?

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

    func run() throws {
        runtime.bootstrapLogging()
        do {
            // A PostgreSQL store is searched on the server (HNSW, or --exact); SQLite files in memory.
            let server = try store.openServerSearch(db: db)
            if server != nil, rerank { throw ValidationError("--rerank needs the vectors in memory: not available with --store postgres://") }
            let members = try server.map { [try SearchMember(serverStore: $0, runtime: runtime)] }
                ?? store.databaseList(db: db).split(separator: ",").map { try SearchMember(path: String($0), runtime: runtime) }
            var weightList = [Float](repeating: 1, count: members.count)
            if let weights {
                weightList = try weights.split(separator: ",").map { item -> Float in
                    guard let w = Float(item) else { throw ValidationError("bad weight '\(item)'") }
                    return w
                }
            }
            guard weightList.count == members.count else { throw ValidationError("give one weight per --db") }
            // One list of gallery photos across the indexes, by path.
            var positions: [String: Int] = [:]
            var galleryPaths: [String] = []
            for member in members {
                for image in member.search.matrix.images where positions[image.path] == nil {
                    positions[image.path] = galleryPaths.count
                    galleryPaths.append(image.path)
                }
            }
            let ranking = FusedRanking(
                members: zip(members, weightList).map { FusedRanking.Member(search: $0.search, paths: positions, weight: $1) },
                imageCount: galleryPaths.count)
            let single = members.count == 1
            let threshold = self.threshold ?? (single && metric == .cosine
                ? ModelCatalog.spec(named: members[0].settings.embedder)?.embedder?.matchThreshold : nil)
            let decoder = ImageDecoder()
            var queryFiles: [String] = []
            for q in queries { queryFiles += try IndexingPipeline.imageFiles(under: q) }
            var results: [QueryResult] = []
            var submissionMap: [String: [String]] = [:]
            for (n, path) in queryFiles.enumerated() {
                do {
                    let image = try decoder.decode(contentsOf: path)
                    var vectors: [[Embedding]] = []
                    var firstFaces: [StoredFace] = []
                    var chosen: [Int] = []
                    for member in members {
                        let faces = try member.pipeline.embedFaces(in: image)
                        let picked = queryFace.choose(from: faces.map(\.face), imageWidth: image.width, imageHeight: image.height)
                        if firstFaces.isEmpty { firstFaces = faces; chosen = picked }
                        vectors.append(picked.map { faces[$0].embedding })
                    }
                    let matches: [Match]
                    if let server {
                        matches = try server.search(faces: vectors[0], k: k, metric: metric, exact: serverSearch.exact,
                                                    efSearch: serverSearch.efSearch, threshold: threshold)
                    } else {
                        let (combined, faceIndex) = ranking.scores(queries: vectors, metric: metric,
                                                                   expansion: rerank ? FusedRanking.Expansion() : nil)
                        matches = topK(combined, k: k).enumerated().map { rank, image -> Match in
                            let m = ranking.members.indices.first { faceIndex[$0][image] >= 0 } ?? 0
                            let face = faceIndex[m][image]
                            let matrix = ranking.members[m].search.matrix
                            let score = single && metric == .euclidean ? (-combined[image]).squareRoot() : combined[image]
                            // A fused score is a weighted sum of similarities: higher is closer, whatever the metric.
                            let unknown = (single ? metric : .cosine).isUnknown(score, threshold: threshold)
                            return Match(rank: rank + 1, imageID: matrix.images[Int(matrix.faceImage[face])].id,
                                         path: galleryPaths[image], score: score, faceID: matrix.faceIDs[face],
                                         box: matrix.faceBoxes[face], isWholeImage: matrix.faceIsWholeImage[face],
                                         unknown: unknown)
                        }
                    }
                    results.append(QueryResult(query: path, faces: firstFaces.map(\.face), chosenFaces: chosen, results: matches))
                    submissionMap[URL(fileURLWithPath: path).lastPathComponent] =
                        matches.map { URL(fileURLWithPath: $0.path).lastPathComponent }
                    if let montage {
                        let out = queryFiles.count == 1 ? montage : Self.numbered(montage, n + 1)
                        let picture = ResultMontage.render(
                            query: image, queryFace: firstFaces[chosen.first ?? 0].face, matches: matches,
                            metric: metric, title: URL(fileURLWithPath: path).lastPathComponent,
                            photo: { try? decoder.decode(contentsOf: $0) })
                        try picture.writePNG(to: out)
                    }
                } catch {
                    results.append(QueryResult(query: path, faces: [], chosenFaces: [], results: [], error: "\(error)"))
                }
            }
            if let submission {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                try encoder.encode(submissionMap).write(to: URL(fileURLWithPath: submission))
            }
            if json {
                try printJSON(results)
            } else {
                for r in results {
                    if let error = r.error { print("\(printable(r.query)): \(printable(error))"); continue }
                    let whole = r.faces.allSatisfy(\.isWholeImage) ? " (no face found: whole image used)" : ""
                    print("\(printable(r.query)): \(r.faces.count) face(s)\(whole)")
                    if let first = r.results.first, first.unknown {
                        print("  no gallery photo passes the match threshold: unknown person")
                    }
                    for m in r.results {
                        let b = m.box
                        print(String(format: "  %2d. %.4f  %@  [%.0f, %.0f, %.0f, %.0f]%@", m.rank, m.score, printable(m.path),
                                     b.x, b.y, b.width, b.height, m.unknown ? "  (unknown person)" : ""))
                    }
                }
            }
            // Some queries could not be used (each is named above): the run finished, not everything was done.
            if results.contains(where: { $0.error != nil }) { throw ExitStatus.partial }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail(error)
        }
    }

    static func numbered(_ path: String, _ n: Int) -> String {
        let url = URL(fileURLWithPath: path)
        let ext = url.pathExtension
        return url.deletingPathExtension().path + "-\(n)" + (ext.isEmpty ? "" : ".\(ext)")
    }
}

/// One index opened for searching: its settings, the pipeline that reproduces its embeddings, its matrix.
struct SearchMember {
    let settings: IndexSettings
    let pipeline: FacePipeline
    let search: GallerySearch

    init(path: String, runtime: RuntimeOptions) throws {
        let store = try SQLiteGalleryStore(path: path)
        guard let settings = try store.settings() else {
            throw GalleryError.notFound("\(path) holds no index; run `facefind index FOLDER --db \(path)` first")
        }
        self.settings = settings
        pipeline = try FacePipeline(configuration: try PipelineConfiguration(matching: settings),
                                    loader: try runtime.loader(intraOpThreads: runtime.workerCount))
        search = GallerySearch(matrix: try store.loadFaceMatrix())
    }
}

extension DistanceMetric: ExpressibleByArgument {}
extension QueryFaceChoice: ExpressibleByArgument {}
extension Augmentation: ExpressibleByArgument {}
