import Foundation
import Testing

/// The page in a real browser: `scripts/browser-test.py` drives Debian's headless Chromium against a live
/// `facefind serve`, uploads a query photo, clicks a face, checks the results grid and its first result,
/// pages the gallery and adds a photo, opens the People view of the clustered gallery, renames a person and merges
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

        let script = Process()
        script.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        script.arguments = [
            "python3", Fixture.packageRoot.appendingPathComponent("scripts/browser-test.py").path,
            "--url", server.baseURL, "--chromium", chromium, "--out", output, "--api-key", Fixture.apiKey,
            "--query", Fixture.photo("Tiger_Woods", 1), "--expect-label", "Tiger_Woods",
            "--add-photo", Fixture.photo("Jennifer_Aniston", 2), "--add-name", "Jennifer Aniston",
            "--people", "4", "--timeout", "150",
        ]
        let log = Pipe()
        script.standardOutput = log
        script.standardError = log
        let text = LockedText()
        log.fileHandleForReading.readabilityHandler = { handle in text.append(handle.availableData) }
        try script.run()
        // The script bounds itself (--timeout); this is the backstop.
        let deadline = Date().addingTimeInterval(200)
        while script.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        if script.isRunning { script.terminate() }
        script.waitUntilExit()
        log.fileHandleForReading.readabilityHandler = nil
        text.append(log.fileHandleForReading.readDataToEndOfFile())

        #expect(script.terminationStatus == 0, "browser test failed:\n\(text.text)")
        #expect(!text.text.contains("not ok"), "\(text.text)")
        #expect(FileManager.default.fileExists(atPath: output + "/search.png"))
        // What the page added is really in the gallery.
        let page = try await server.request("/v1/gallery?offset=12")
        #expect(String(decoding: page.body, as: UTF8.self).contains("Jennifer Aniston"))
    }
}
