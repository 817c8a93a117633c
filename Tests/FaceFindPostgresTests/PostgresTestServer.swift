import Foundation
@testable import FaceFind
import FaceFindPostgres

/// The PostgreSQL server the tests run against: `$FACEFIND_TEST_POSTGRES_URL`, set by scripts/test.sh after
/// scripts/postgres/start.sh. Missing or unreachable is a failure with the command to run, never a skip.
enum PostgresTestServer {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let scripts = packageRoot.appendingPathComponent("scripts/postgres").path
    static let shared = packageRoot.deletingLastPathComponent().appendingPathComponent("shared").standardized
    static let faces = shared.appendingPathComponent("faces").path
    static let models = shared.appendingPathComponent("models").path

    static let setUpCommand =
        "export FACEFIND_PG_INSTANCE=test && scripts/postgres/install.sh && export FACEFIND_TEST_POSTGRES_URL=$(scripts/postgres/start.sh) (scripts/test.sh does this)"

    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["FACEFIND_TEST_POSTGRES_URL"], !url.isEmpty else {
            throw Unavailable(description: "FACEFIND_TEST_POSTGRES_URL is not set: the PostgreSQL tests need a server with pgvector. Run: \(setUpCommand)")
        }
        return url
    }

    /// A store in a fresh schema of its own; `destroy()` it at the end.
    static func store(_ label: String = #function, parameters: String = "") throws -> PostgresGalleryStore {
        let url = try url()
        let schema = "t_" + label.lowercased().filter { $0.isLetter || $0.isNumber }.prefix(30)
            + "_" + UUID().uuidString.prefix(8).lowercased()
        let separator = url.contains("?") ? "&" : "?"
        do {
            return try PostgresGalleryStore(url: url + separator + "schema=" + schema + parameters)
        } catch {
            throw Unavailable(description: "cannot use the PostgreSQL test server at \(PostgresLocation.redact(url)): \(error). Start it with: \(setUpCommand)")
        }
    }

    /// The URL of the schema of `store` (to open a second store object on it).
    static func url(of store: PostgresGalleryStore) throws -> String {
        let url = try url()
        return url + (url.contains("?") ? "&" : "?") + "schema=" + store.options.schema
    }

    /// Runs scripts/postgres/NAME with arguments; returns its standard output.
    @discardableResult
    static func script(_ name: String, _ arguments: String...) throws -> String {
        let run = try spawn("\(scripts)/\(name)", arguments)
        guard run.status == 0 else {
            throw Unavailable(description: "scripts/postgres/\(name) \(arguments.joined(separator: " ")) failed (status \(run.status)): \(run.errors)")
        }
        return String(decoding: run.output, as: UTF8.self)
    }

    /// Runs the `facefind` binary with `arguments`: its exit status, standard output and standard error.
    static func facefind(_ arguments: [String]) throws -> (status: Int32, output: Data, errors: String) {
        try spawn(try facefindBinary(), arguments)
    }

    /// Runs `path` with `arguments` to its end, its output and errors in files (no pipe to fill up). posix_spawn
    /// and waitpid: Foundation's `Process.waitUntilExit` was seen to hang here when called off the main thread.
    /// The status is the exit status, or 128 + the signal that ended it.
    static func spawn(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: Data, errors: String) {
        let base = NSTemporaryDirectory() + "facefind-pg-run-\(UUID().uuidString)"
        let outputPath = base + ".out", errorPath = base + ".err"
        defer { for file in [outputPath, errorPath] { try? FileManager.default.removeItem(atPath: file) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw Unavailable(description: "cannot run \(path): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let output = (try? Data(contentsOf: URL(fileURLWithPath: outputPath))) ?? Data()
        let errors = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
        // Exited normally (low 7 bits 0): the status is in the next 8 bits.
        let code = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (code, output, errors)
    }

    /// The `facefind` binary built beside the test bundle, else the release build.
    static func facefindBinary() throws -> String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [beside.appendingPathComponent("facefind").path,
                          beside.deletingLastPathComponent().appendingPathComponent("facefind").path,
                          packageRoot.appendingPathComponent(".build/release/facefind").path]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Unavailable(description: "no facefind binary at \(candidates); build it (scripts/setup.sh)")
        }
        return found
    }

    static func loader() throws -> ModelLoader {
        ModelLoader(repository: ModelRepository(directory: models), runtime: try OnnxRuntime.shared(),
                    sessionOptions: SessionOptions(intraOpThreads: 1))
    }

    /// A fresh folder holding copies of these photos (relative to ../shared/faces).
    static func folder(of photos: [String], label: String = #function) throws -> String {
        let path = NSTemporaryDirectory() + "facefind-pg-\(label.filter { $0.isLetter })-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for photo in photos {
            try FileManager.default.copyItem(atPath: "\(faces)/\(photo)",
                                             toPath: "\(path)/\(photo.replacingOccurrences(of: "/", with: "_"))")
        }
        return path
    }

    /// The first `count` photos of lfw-dev, sorted by path.
    static func lfwPhotos(_ count: Int) throws -> [String] {
        let root = "\(faces)/lfw-dev"
        let people = try FileManager.default.contentsOfDirectory(atPath: root).sorted()
        var photos: [String] = []
        for person in people {
            for file in try FileManager.default.contentsOfDirectory(atPath: "\(root)/\(person)").sorted() where file.hasSuffix(".jpg") {
                photos.append("lfw-dev/\(person)/\(file)")
                if photos.count == count { return photos }
            }
        }
        return photos
    }
}
