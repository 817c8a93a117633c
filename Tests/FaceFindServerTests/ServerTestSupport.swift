import FaceFind
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import FaceFindServer

/// Paths, fixtures and HTTP helpers shared by the server tests. Photos and models are read from `../shared`
/// beside the package root; nothing is copied into the repository.
enum Fixture {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let shared = packageRoot.deletingLastPathComponent().appendingPathComponent("shared").standardized
    static let models = shared.appendingPathComponent("models").path
    static let lfw = shared.appendingPathComponent("faces/lfw-dev").path
    /// Where tests write what a person may want to look at (screenshots); under the ignored .build folder.
    static let outputFolder = packageRoot.appendingPathComponent(".build/test-output").path

    static let apiKey = "test-key-0123"

    /// Four people, photos 2-4 of each in the gallery; `query(person)` is another photo of them.
    static let people = ["George_Robertson", "Julianne_Moore", "Nicole_Kidman", "Tiger_Woods"]
    /// Photo 5: one face, clearly the person (photo 1 of Julianne Moore shows someone larger beside her).
    static func query(_ person: String) -> String { photo(person, 5) }
    static func photo(_ person: String, _ number: Int) -> String {
        "\(lfw)/\(person)/\(person)_\(String(format: "%04d", number)).jpg"
    }
    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func loader() throws -> ModelLoader {
        ModelLoader(repository: ModelRepository(directory: models), runtime: try OnnxRuntime.shared(),
                    sessionOptions: SessionOptions(intraOpThreads: 1))
    }

    static func temporaryFolder(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "facefind-server-tests-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The 12-photo gallery, indexed once per test run with the library's own indexer; every test works on a
    /// copy, so tests that add or delete never disturb the others.
    static let baseGallery: Result<String, any Error> = Result {
        let folder = try temporaryFolder("base")
        let db = folder + "/base.sqlite"
        try {
            let store = try SQLiteGalleryStore(path: db)
            let pipeline = try FacePipeline(configuration: PipelineConfiguration(), loader: try loader())
            try store.bind(pipeline.settings)
            let indexer = IndexingPipeline(finder: pipeline.finder, embedder: pipeline.embedder, store: store,
                                           options: IndexingOptions(workers: 2))
            let files = people.flatMap { person in (2...4).map { photo(person, $0) } }
            let report = try indexer.index(files: files)
            guard report.indexed == files.count else {
                throw APIError.badRequest("test gallery: \(report.failed)")
            }
        }()  // the store closes here, folding its write-ahead log into the file we copy
        return db
    }

    /// A fresh copy of the test gallery: the index file and an empty uploads folder beside it.
    static func gallery(_ name: String = #function) throws -> (db: String, uploads: String) {
        let base = try baseGallery.get()
        let folder = try temporaryFolder(name.filter { $0.isLetter })
        let db = folder + "/gallery.sqlite"
        try FileManager.default.copyItem(atPath: base, toPath: db)
        return (db, folder + "/uploads")
    }

    static func configuration(uploads: String, _ change: (inout ServerConfiguration) -> Void = { _ in })
        -> ServerConfiguration {
        var configuration = ServerConfiguration(apiKey: apiKey, uploadsDirectory: uploads)
        configuration.inferenceWorkers = 2
        change(&configuration)
        return configuration
    }

    /// A service over a fresh copy of the test gallery.
    static func service(_ name: String = #function,
                        _ change: (inout ServerConfiguration) -> Void = { _ in }) throws -> FaceFindService {
        let (db, uploads) = try gallery(name)
        return try FaceFindService(store: try SQLiteGalleryStore(path: db), loader: try loader(),
                                   configuration: configuration(uploads: uploads, change))
    }
}

/// A multipart/form-data body as browsers send it.
struct MultipartBody {
    let boundary = "----FaceFindTest\(UUID().uuidString.prefix(12))"
    private(set) var bytes: [UInt8] = []

    mutating func field(_ name: String, _ value: String) {
        bytes += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
    }

    mutating func file(_ name: String, filename: String, type: String = "image/jpeg", _ content: [UInt8]) {
        bytes += Array(("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\n"
                        + "Content-Type: \(type)\r\n\r\n").utf8)
        bytes += content
        bytes += Array("\r\n".utf8)
    }

    var finished: [UInt8] { bytes + Array("--\(boundary)--\r\n".utf8) }
    var contentType: String { "multipart/form-data; boundary=\(boundary)" }
}

extension FaceFindService {
    /// Runs `body` against this service through HummingbirdTesting's router client (no sockets).
    func test<T: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        let app = Application(router: makeRouter())
        defer { shutdown() }
        return try await app.test(.router, body)
    }
}

extension TestClientProtocol {
    /// POST a multipart form.
    func post(_ uri: String, form: MultipartBody, key: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: form.contentType]
        if let key { headers[.apiKey] = key }
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(bytes: form.finished))
    }

    /// POST a raw body.
    func post(_ uri: String, bytes: [UInt8], type: String?, key: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let type { headers[.contentType] = type }
        if let key { headers[.apiKey] = key }
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(bytes: bytes))
    }

    func get(_ uri: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await execute(uri: uri, method: .get, headers: headers)
    }

    /// Search with one photo sent as the form field `image`.
    func search(_ path: String, query: String = "", fields: [String: String] = [:]) async throws -> TestResponse {
        var form = MultipartBody()
        form.file("image", filename: URL(fileURLWithPath: path).lastPathComponent, try Fixture.bytes(path))
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) { form.field(name, value) }
        return try await post("/v1/search" + query, form: form)
    }
}

extension TestResponse {
    func json<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))
    }

    /// The error body's code and message, checking it has the JSON error shape.
    func error() throws -> (status: Int, code: String, message: String) {
        let detail = try json(APIError.ErrorBody.self).error
        return (detail.status, detail.code, detail.message)
    }

    var text: String { String(decoding: body.readableBytesView, as: UTF8.self) }
}
