import Foundation
import GRDB
import Testing
@testable import FaceFind

/// What cannot be read is never taken for gone, another program's database is never written, and names that
/// could forge output are escaped: the reliability issue's disk-side defects, each reproduced as it was found.
@Suite("Unreadable inputs and foreign files", .serialized)
struct UnreadableInputTests {
    /// Runs the `facefind` binary; as an unprivileged user (nobody) when the tests run as root, since root
    /// reads every file whatever its permissions and would hide the defect.
    static func facefind(_ arguments: [String], unprivileged: Bool = false) throws -> (status: Int32, output: String) {
        let binary = try EndToEndTests.facefindBinary()
        if unprivileged && getuid() == 0 {
            return try TestData.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--", binary]
                                    + arguments, environment: ["HOME": "/nonexistent", "PATH": "/usr/bin:/bin"])
        }
        return try TestData.run(binary, arguments)
    }

    /// A folder the unprivileged user can work in, with the ONNX Runtime library copied into it (the one set-up
    /// installed lives under root's home, which that user cannot read).
    static func sharedFolder(_ name: String = #function) throws -> (folder: String, ortLibrary: String) {
        let folder = try TestData.temporaryFolder(name)
        chmod(folder, 0o777)
        let library = folder + "/libonnxruntime.so"
        try FileManager.default.copyItem(atPath: try OnnxRuntime.shared().libraryPath, toPath: library)
        return (folder, library)
    }

    static func copy(_ relative: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: TestData.face("lfw-dev/" + relative), toPath: path)
    }

    @Test func anUnreadableFolderKeepsItsPhotosAndTheRunSaysSo() throws {
        let (base, library) = try Self.sharedFolder()
        let photos = base + "/photos", db = base + "/index.sqlite"
        try Self.copy("AJ_Cook/AJ_Cook_0001.jpg", to: photos + "/a/aj.jpg")
        try Self.copy("Abdullah_Gul/Abdullah_Gul_0001.jpg", to: photos + "/a/gul.jpg")
        try Self.copy("Tiger_Woods/Tiger_Woods_0001.jpg", to: photos + "/b/tiger1.jpg")
        try Self.copy("Tiger_Woods/Tiger_Woods_0002.jpg", to: photos + "/b/tiger2.jpg")
        let index = ["index", photos, "--db", db, "--models", TestData.models, "--ort-library", library]

        let first = try Self.facefind(index, unprivileged: true)
        #expect(first.status == 0, "\(first.output)")
        #expect(try SQLiteGalleryStore(path: db).counts().images == 4)

        // The defect: `chmod 000` on a subfolder made the next run remove its photos ("1 removed", exit 0).
        chmod(photos + "/b", 0)
        defer { chmod(photos + "/b", 0o755) }
        let hidden = try Self.facefind(index, unprivileged: true)
        #expect(hidden.status == 2, "some inputs failed: exit 2\n\(hidden.output)")
        #expect(hidden.output.contains("\(photos)/b: cannot list folder: Permission denied"), "\(hidden.output)")
        #expect(hidden.output.contains("0 removed"))
        let store = try SQLiteGalleryStore(path: db)
        #expect(try store.counts().images == 4, "nothing deleted because it could not be read")
        #expect(Set(try store.unavailableImages().keys) == [photos + "/b/tiger1.jpg", photos + "/b/tiger2.jpg"])

        // A new file that cannot be read is named, not stored; an indexed one that changed and cannot be read
        // keeps its row, marked unavailable.
        try Self.copy("Adam_Sandler/Adam_Sandler_0001.jpg", to: photos + "/a/new.jpg")
        chmod(photos + "/a/new.jpg", 0)
        try Data(try Data(contentsOf: URL(fileURLWithPath: photos + "/a/gul.jpg")) + Data([0])).write(
            to: URL(fileURLWithPath: photos + "/a/gul.jpg"))
        chmod(photos + "/a/gul.jpg", 0)
        chmod(photos + "/b", 0o755)
        let files = try Self.facefind(index, unprivileged: true)
        #expect(files.status == 2, "\(files.output)")
        #expect(files.output.contains("\(photos)/a/new.jpg: cannot open file: Permission denied"), "\(files.output)")
        #expect(files.output.contains("\(photos)/a/gul.jpg: cannot open file: Permission denied"))
        #expect(try store.fileStates()[photos + "/a/new.jpg"] == nil)
        #expect(try store.unavailableImages() == [photos + "/a/gul.jpg": "cannot open file: Permission denied"])
        #expect(try store.counts().images == 4)

        // Readable again: everything indexed, nothing marked, exit 0.
        chmod(photos + "/a/new.jpg", 0o644)
        chmod(photos + "/a/gul.jpg", 0o644)
        let healed = try Self.facefind(index, unprivileged: true)
        #expect(healed.status == 0, "\(healed.output)")
        #expect(try store.unavailableImages().isEmpty)
        #expect(try store.counts().images == 5)
    }

    @Test func pipesLinksAndDevicesAreNamedWithTheirReason() throws {
        let folder = try TestData.temporaryFolder()
        try Self.copy("AJ_Cook/AJ_Cook_0001.jpg", to: folder + "/good.jpg")
        #expect(mkfifo(folder + "/pipe.jpg", 0o644) == 0)
        try FileManager.default.createSymbolicLink(atPath: folder + "/dangling.jpg", withDestinationPath: folder + "/nowhere.jpg")
        try FileManager.default.createSymbolicLink(atPath: folder + "/loop.jpg", withDestinationPath: folder + "/loop.jpg")
        let pipeline = try FacePipeline(configuration: PipelineConfiguration(), loader: TestData.loader())
        let store = try SQLiteGalleryStore(path: folder + ".sqlite")
        try store.bind(pipeline.settings)
        let indexer = IndexingPipeline(finder: pipeline.finder, embedder: pipeline.embedder, store: store)
        // A named pipe used to block the run for ever (reading waited for a writer).
        let report = try indexer.index(directory: folder)
        #expect(report.indexed == 1)
        let reasons = Dictionary(uniqueKeysWithValues: report.failed.map { (URL(fileURLWithPath: $0.path).lastPathComponent, $0.reason) })
        #expect(reasons["pipe.jpg"] == "is a named pipe (FIFO), not an image file")
        #expect(reasons["dangling.jpg"] == "dangling symbolic link to \(folder)/nowhere.jpg")
        #expect(reasons["loop.jpg"]?.hasPrefix("symbolic link loop") == true, "\(reasons)")
        #expect(report.hasProblems)
    }

    @Test func aNewlineInAFileNameCannotSplitTheOutput() throws {
        let folder = try TestData.temporaryFolder()
        try Data("not a photo".utf8).write(to: URL(fileURLWithPath: folder + "/evil\nforged.jpg"))
        let result = try Self.facefind(["index", folder, "--db", folder + ".sqlite", "--models", TestData.models])
        #expect(result.status == 2)
        #expect(result.output.contains("\(folder)/evil\\nforged.jpg: not a JPEG, PNG, WebP, HEIC or AVIF image"), "\(result.output)")
        #expect(!result.output.split(separator: "\n").contains { $0.hasPrefix("forged.jpg") })
    }

    // MARK: - Whose database

    static func digest(_ path: String) throws -> String {
        SHA256.hex([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    /// Another program's database, its folder's listing and the file's hash before FaceFind sees it.
    static func foreignDatabase(_ sql: String, name: String = #function) throws -> (path: String, digest: String, listing: [String]) {
        let folder = try TestData.temporaryFolder(name)
        let path = folder + "/notes.sqlite"
        try DatabaseQueue(path: path).write { try $0.execute(sql: sql) }
        return (path, try digest(path), try FileManager.default.contentsOfDirectory(atPath: folder).sorted())
    }

    @Test func anotherProgramsDatabaseIsRefusedWithoutWritingAByte() throws {
        for sql in ["CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT); INSERT INTO notes (text) VALUES ('keep me')",
                    "CREATE TABLE images (id INTEGER PRIMARY KEY, url TEXT); INSERT INTO images (url) VALUES ('x')"] {
            let (path, before, listing) = try Self.foreignDatabase(sql)
            let error = #expect(throws: GalleryError.self) { try SQLiteGalleryStore(path: path) }
            #expect("\(error.map { "\($0)" } ?? "")".contains("is not a FaceFind index: it holds another program's tables"))
            #expect(try Self.digest(path) == before, "not a byte written")
            let folder = (path as NSString).deletingLastPathComponent
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == listing, "no journal left")

            // The same through the command line: a clear message, exit 1, the file untouched.
            let cli = try Self.facefind(["index", TestData.face("scenes/id01"), "--db", path, "--models", TestData.models])
            #expect(cli.status == 1 && cli.output.contains("is not a FaceFind index"), "\(cli.output)")
            #expect(try Self.digest(path) == before)
        }
    }

    /// Several processes opening one new index at once (two `index` runs, `serve` and `index`): each may find
    /// the file mid-creation, holding only GRDB's bookkeeping table, which is FaceFind's own creation, not
    /// another program's file. Found by the kill-and-resume test, whose poll opened the index as it was made.
    @Test func aNewIndexOpenedByManyAtOnceIsCreatedOnce() throws {
        let (mid, _, _) = try Self.foreignDatabase("CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
        _ = try SQLiteGalleryStore(path: mid)
        for round in 0..<20 {
            let path = try TestData.temporaryFolder("concurrent\(round)") + "/index.sqlite"
            let failures = Failures()
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                do { _ = try SQLiteGalleryStore(path: path) } catch { failures.add("\(error)") }
            }
            #expect(failures.list.isEmpty, "round \(round): \(failures.list)")
            #expect(try SQLiteGalleryStore(path: path).counts().images == 0)
        }
    }

    /// A new index whose writer is still open: its header marking (and the persons tables) sit in the write-ahead
    /// log, the file's own first page still says `application_id` 0 until a checkpoint. A second process opening
    /// it then (the kill-and-resume test's poll, `serve` beside `index`) must see FaceFind's index, not refuse it
    /// as another program's tables, which it did once schema 3 added tables the unmarked check did not know.
    @Test func anIndexMarkedOnlyInItsWriteAheadLogOpensFromAnotherConnection() throws {
        let path = try TestData.temporaryFolder() + "/index.sqlite"
        let writer = try SQLiteGalleryStore(path: path)
        let header = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)).prefix(100))
        #expect(header[68..<72].allSatisfy { $0 == 0 }, "the marking is still in the log, the case under test")
        let reader = try SQLiteGalleryStore(path: path, create: false)
        #expect(try reader.counts().images == 0 && writer.counts().images == 0)
    }

    @Test func aDirectoryOrAFileThatIsNotSQLiteIsRefused() throws {
        let folder = try TestData.temporaryFolder()
        let directory = #expect(throws: GalleryError.self) { try SQLiteGalleryStore(path: folder) }
        #expect("\(directory.map { "\($0)" } ?? "")".contains("it is a directory"))

        let photo = folder + "/photo.jpg"
        try Self.copy("AJ_Cook/AJ_Cook_0001.jpg", to: photo)
        let before = try Self.digest(photo)
        let notSQLite = #expect(throws: GalleryError.self) { try SQLiteGalleryStore(path: photo) }
        #expect("\(notSQLite.map { "\($0)" } ?? "")".contains("it is not an SQLite database"))
        #expect(try Self.digest(photo) == before)

        // Other programs that mark their files are told apart by the mark alone.
        let (marked, _, _) = try Self.foreignDatabase("PRAGMA application_id = 1234")
        let other = #expect(throws: GalleryError.self) { try SQLiteGalleryStore(path: marked) }
        #expect("\(other.map { "\($0)" } ?? "")".contains("application_id 0x000004d2"))
    }

    @Test func faceFindIndexesAreMarkedAndOldOnesAreAdopted() throws {
        let folder = try TestData.temporaryFolder()
        // A new index carries the mark and the schema version in its header.
        let path = folder + "/new.sqlite"
        _ = try SQLiteGalleryStore(path: path)
        let header = try #require(FileHandle(forReadingAtPath: path)?.readData(ofLength: 100))
        #expect(Array(header[68..<72]) == [0x46, 0x63, 0x46, 0x64], "application_id 'FcFd'")
        #expect(Array(header[60..<64]) == [0, 0, 0, 5], "user_version 5")

        // An index made before the mark (schema 1, application_id 0) opens, and is marked and upgraded.
        let old = folder + "/old.sqlite"
        try DatabaseQueue(path: old).write { db in
            try db.execute(sql: """
                CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                INSERT INTO grdb_migrations VALUES ('v1');
                CREATE TABLE settings (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                CREATE TABLE images (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, sha256 TEXT NOT NULL,
                    bytes INTEGER NOT NULL, modified REAL NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('ok', 'error')), error TEXT, indexed_at REAL NOT NULL);
                CREATE TABLE faces (id INTEGER PRIMARY KEY, image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
                    x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL, score REAL NOT NULL,
                    landmarks TEXT, whole_image INTEGER NOT NULL);
                CREATE INDEX faces_image ON faces(image_id);
                CREATE TABLE embeddings (face_id INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
                    model TEXT NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (face_id, model));
                INSERT INTO images VALUES (1, '/photos/a.jpg', 'abc', 10, 1.0, 20, 20, 'error', 'corrupt', 1.0);
                """)
        }
        let adopted = try SQLiteGalleryStore(path: old)
        #expect(try adopted.failedImages().map(\.path) == ["/photos/a.jpg"])
        try adopted.setUnavailable(["/photos/a.jpg": "gone for now"], under: "/photos")
        #expect(try adopted.unavailableImages() == ["/photos/a.jpg": "gone for now"])
        let version = try DatabaseQueue(path: old).read { db in
            (try Int32.fetchOne(db, sql: "PRAGMA application_id"), try Int32.fetchOne(db, sql: "PRAGMA user_version"))
        }
        #expect(version.0 == SQLiteGalleryStore.applicationID && version.1 == SQLiteGalleryStore.schemaVersion)
        #expect(try adopted.people(includeHidden: true).isEmpty, "upgraded with the persons' tables")

        // An index of a later FaceFind is refused rather than misread.
        try DatabaseQueue(path: path).write { try $0.execute(sql: "PRAGMA user_version = 99") }
        let newer = #expect(throws: GalleryError.self) { try SQLiteGalleryStore(path: path) }
        #expect("\(newer.map { "\($0)" } ?? "")".contains("made by a newer FaceFind (schema 99"))
    }
}

/// Errors collected from several threads.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [String] = []
    func add(_ error: String) { lock.withLock { errors.append(error) } }
    var list: [String] { lock.withLock { errors } }
}
