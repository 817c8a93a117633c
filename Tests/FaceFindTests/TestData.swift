import Foundation
@testable import FaceFind

/// Where the shared test data lives: `../shared` beside the package root (three levels above this file).
enum TestData {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let shared = packageRoot.deletingLastPathComponent().appendingPathComponent("shared").standardized
    static let faces = shared.appendingPathComponent("faces").path
    static let models = shared.appendingPathComponent("models").path

    static func face(_ relative: String) -> String { faces + "/" + relative }

    /// Loads models straight from the shared folder (tests never depend on what set-up installed).
    static func loader(intraOpThreads: Int = 1) throws -> ModelLoader {
        ModelLoader(repository: ModelRepository(directory: models), runtime: try OnnxRuntime.shared(),
                    sessionOptions: SessionOptions(intraOpThreads: intraOpThreads))
    }

    static func decode(_ relative: String) throws -> RGBImage {
        try ImageDecoder().decode(contentsOf: face(relative))
    }

    /// A fresh folder holding copies of the given lfw-dev photos ("AJ_Cook/AJ_Cook_0001.jpg"), by file name.
    static func folder(withLFWPhotos photos: [String], _ name: String = #function) throws -> String {
        let folder = try temporaryFolder(name)
        for photo in photos {
            try FileManager.default.copyItem(atPath: face("lfw-dev/" + photo),
                                             toPath: folder + "/" + URL(fileURLWithPath: photo).lastPathComponent)
        }
        return folder
    }

    /// A fresh empty folder under the system temporary folder.
    static func temporaryFolder(_ name: String = #function) throws -> String {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        let path = NSTemporaryDirectory() + "facefind-tests-\(safe)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Runs `executable` with `arguments` (and `environment` instead of this process's, when given); its exit
    /// status and its standard output and error together.
    static func run(_ executable: String, _ arguments: [String],
                    environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}
