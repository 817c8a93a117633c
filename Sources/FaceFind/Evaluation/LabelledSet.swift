import Foundation

/// A labelled retrieval experiment: query photos and gallery photos with identities. A query is a hit at k
/// when one of the k best-ranked gallery photos has the query's identity.
public struct LabelledSet: Sendable {
    public struct Item: Sendable, Hashable, Codable {
        /// Absolute path.
        public var path: String
        public var id: String

        public init(path: String, id: String) {
            self.path = path
            self.id = id
        }
    }

    public var queries: [Item]
    public var gallery: [Item]

    public init(queries: [Item], gallery: [Item]) {
        self.queries = queries
        self.gallery = gallery
    }

    /// Reads a split file `{"query": [{"path", "id"}], "gallery": [...]}`; paths are relative to its folder.
    public init(splitFile: String) throws {
        let url = URL(fileURLWithPath: splitFile)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw EvaluationError.badSplit(splitFile, "cannot read: \(error.localizedDescription)")
        }
        try self.init(splitData: data, baseFolder: url.deletingLastPathComponent().path, name: splitFile)
    }

    /// Parses the contents of a split file (see `init(splitFile:)`); paths are resolved against `baseFolder`,
    /// `name` labels errors. The file-free entry point, for the fuzzer (Fuzz/) and callers holding the bytes.
    public init(splitData data: Data, baseFolder: String, name: String = "split file") throws {
        struct SplitFile: Decodable {
            struct Entry: Decodable { var path: String; var id: String }
            var query: [Entry]
            var gallery: [Entry]
        }
        let decoded: SplitFile
        do { decoded = try JSONDecoder().decode(SplitFile.self, from: data) } catch {
            throw EvaluationError.badSplit(name, "not a split file (expected {\"query\": [...], \"gallery\": [...]}): \(error)")
        }
        let base = URL(fileURLWithPath: baseFolder, isDirectory: true)
        func resolve(_ e: SplitFile.Entry) -> Item {
            Item(path: base.appendingPathComponent(e.path).standardizedFileURL.path, id: e.id)
        }
        self.init(queries: decoded.query.map(resolve), gallery: decoded.gallery.map(resolve))
    }

    /// Queries and gallery from two folders; each photo's identity is the name of its parent folder.
    public init(queriesFolder: String, galleryFolder: String) throws {
        func items(_ folder: String) throws -> [Item] {
            try IndexingPipeline.imageFiles(under: folder).map {
                Item(path: $0, id: URL(fileURLWithPath: $0).deletingLastPathComponent().lastPathComponent)
            }
        }
        self.init(queries: try items(queriesFolder), gallery: try items(galleryFolder))
    }

    /// Every distinct photo path of the set.
    public var allPaths: [String] { Array(Set(queries.map(\.path) + gallery.map(\.path))).sorted() }
}

public enum EvaluationError: Error, CustomStringConvertible {
    case badSplit(String, String)
    case noQueries
    case fusionNotClustered
    case noCalibratedThreshold(String)

    public var description: String {
        switch self {
        case .badSplit(let file, let problem): return "\(file): \(problem)"
        case .noQueries: return "the labelled set has no queries"
        case .fusionNotClustered: return "clustering takes one embedder, not a fusion of several"
        case .noCalibratedThreshold(let embedder):
            return "\(embedder) has no calibrated clustering threshold in the catalog: give the similarity to link faces from"
        }
    }
}
