import ArgumentParser
import FaceFind
import Foundation

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Rank the gallery photos that show the person in each query photo.")

    @Argument(help: "Query photos, or folders of them.")
    var queries: [String]

    @Option(help: "Index file (SQLite) made by `facefind index`.")
    var db = "facefind.sqlite"

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
            let store = try SQLiteGalleryStore(path: db)
            guard let settings = try store.settings() else {
                throw GalleryError.notFound("\(db) holds no index; run `facefind index FOLDER --db \(db)` first")
            }
            let configuration = PipelineConfiguration(matching: settings)
            let pipeline = try FacePipeline(configuration: configuration,
                                            loader: try runtime.loader(intraOpThreads: runtime.workerCount))
            let search = GallerySearch(matrix: try store.loadFaceMatrix())
            let threshold = self.threshold ?? (metric == .cosine
                ? ModelCatalog.spec(named: settings.embedder)?.embedder?.matchThreshold : nil)
            let decoder = ImageDecoder()
            var queryFiles: [String] = []
            for q in queries { queryFiles += try IndexingPipeline.imageFiles(under: q) }
            var results: [QueryResult] = []
            var submissionMap: [String: [String]] = [:]
            for (n, path) in queryFiles.enumerated() {
                do {
                    let image = try decoder.decode(contentsOf: path)
                    let faces = try pipeline.embedFaces(in: image)
                    let chosen = queryFace.choose(from: faces.map(\.face), imageWidth: image.width, imageHeight: image.height)
                    let matches = Evaluator.rank(faces: faces, choice: queryFace, search: search, metric: metric, k: k,
                                                 imageWidth: image.width, imageHeight: image.height, threshold: threshold)
                    results.append(QueryResult(query: path, faces: faces.map(\.face), chosenFaces: chosen, results: matches))
                    submissionMap[URL(fileURLWithPath: path).lastPathComponent] =
                        matches.map { URL(fileURLWithPath: $0.path).lastPathComponent }
                    if let montage {
                        let out = queryFiles.count == 1 ? montage : Self.numbered(montage, n + 1)
                        let picture = ResultMontage.render(
                            query: image, queryFace: faces[chosen.first ?? 0].face, matches: matches, metric: metric,
                            title: URL(fileURLWithPath: path).lastPathComponent,
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
                    if let error = r.error { print("\(r.query): \(error)"); continue }
                    let whole = r.faces.allSatisfy(\.isWholeImage) ? " (no face found: whole image used)" : ""
                    print("\(r.query): \(r.faces.count) face(s)\(whole)")
                    if let first = r.results.first, first.unknown {
                        print("  no gallery photo passes the match threshold: unknown person")
                    }
                    for m in r.results {
                        let b = m.box
                        print(String(format: "  %2d. %.4f  %@  [%.0f, %.0f, %.0f, %.0f]%@", m.rank, m.score, m.path,
                                     b.x, b.y, b.width, b.height, m.unknown ? "  (unknown person)" : ""))
                    }
                }
            }
            if results.contains(where: { $0.error != nil }) { throw ExitCode.failure }
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

extension DistanceMetric: ExpressibleByArgument {}
extension QueryFaceChoice: ExpressibleByArgument {}
