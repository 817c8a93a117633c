import Foundation
import Testing

/// The page in a real browser: `scripts/browser-test.py` drives Debian's headless Chromium against a live
/// `facefind serve`, uploads a query photo, clicks a face, checks the results grid and its first result,
/// pages the gallery and adds a photo (which joins its person), opens the People view of the clustered gallery, renames a person and merges
/// another into it, and saves screenshots under .build/test-output/browser.
@Suite(.serialized) struct BrowserTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test func searchesAndAddsFromThePage() async throws {
        let chromium = try #require(Self.chromium, "Chromium is not installed: run scripts/setup.sh (apt chromium)")
        let server = try LiveServer(clustered: true)
        defer { server.stop() }
        let output = Fixture.outputFolder + "/browser"
        try? FileManager.default.removeItem(atPath: output)

        let (status, text) = try await Self.runScript([
            "--url", server.baseURL, "--chromium", chromium, "--out", output, "--api-key", Fixture.apiKey,
            "--query", Fixture.photo("Tiger_Woods", 1), "--expect-label", "Tiger_Woods",
            "--add-photo", Fixture.photo("Tiger_Woods", 5), "--add-name", "Tiger at the Open", "--expect-joined", "1",
            "--people", "4", "--timeout", "150",
        ])
        #expect(status == 0, "browser test failed:\n\(text)")
        #expect(!text.contains("not ok"), "\(text)")
        #expect(FileManager.default.fileExists(atPath: output + "/search.png"))
        // What the page added is really in the gallery.
        let page = try await server.request("/v1/gallery?offset=12")
        #expect(String(decoding: page.body, as: UTF8.self).contains("Tiger at the Open"))
    }

    /// A gallery of two clips: the query's person is found in the second, whose card shows the matched frame with
    /// the face boxed and the times under it.
    @Test func showsAVideoResultAtItsFrameWithItsTimes() async throws {
        let chromium = try #require(Self.chromium, "Chromium is not installed: run scripts/setup.sh (apt chromium)")
        let (db, _, _) = try VideoAPITests.gallery()
        let server = try LiveServer(store: "sqlite:" + db)
        defer { server.stop() }
        let output = Fixture.outputFolder + "/browser-video"
        try? FileManager.default.removeItem(atPath: output)
        let (status, text) = try await Self.runScript([
            "--url", server.baseURL, "--chromium", chromium, "--out", output, "--api-key", Fixture.apiKey,
            "--query", Fixture.shared.path + "/faces/scenes/id04/img13.jpg", "--expect-video", "clip02-hevc.mp4",
            "--timeout", "120",
        ])
        #expect(status == 0 && !text.contains("not ok"), "browser test failed:\n\(text)")
        #expect(FileManager.default.fileExists(atPath: output + "/video.png"))
    }

    /// Runs scripts/browser-test.py with `arguments`; its exit status and output. The script bounds itself
    /// (--timeout); 200 s here is the backstop.
    static func runScript(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let script = Process()
        script.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        script.arguments = ["python3", Fixture.packageRoot.appendingPathComponent("scripts/browser-test.py").path] + arguments
        let log = Pipe()
        script.standardOutput = log
        script.standardError = log
        let text = LockedText()
        log.fileHandleForReading.readabilityHandler = { handle in text.append(handle.availableData) }
        try script.run()
        let deadline = Date().addingTimeInterval(200)
        while script.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        if script.isRunning { script.terminate() }
        script.waitUntilExit()
        log.fileHandleForReading.readabilityHandler = nil
        text.append(log.fileHandleForReading.readDataToEndOfFile())
        return (script.terminationStatus, text.text)
    }
}
