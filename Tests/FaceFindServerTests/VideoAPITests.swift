import FaceFind
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import FaceFindServer

/// A gallery holding a video: `/v1/search` reports the matched frame and the times, and the thumbnail URL it gives
/// is that frame. The clips are made here by ffmpeg (scripts/video/make-clips.py) from the shared scene photos.
@Suite struct VideoAPITests {
    /// Two 6-second 640x360 clips (H.264: id01 then id02; H.265: id03 then id04, cut at 3 s), indexed into a new
    /// store with the library's indexer.
    static func gallery() throws -> (db: String, uploads: String, clips: String) {
        let folder = try Fixture.temporaryFolder("video")
        let clips = folder + "/clips"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Fixture.packageRoot.path + "/scripts/video/make-clips.py", clips, "--clips", "2",
                             "--size", "640x360", "--faces", Fixture.shared.path + "/faces"]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "make-clips.py (ffmpeg: scripts/setup.sh installs it)")
        let db = folder + "/gallery.sqlite"
        let store = try SQLiteGalleryStore(path: db)
        let pipeline = try FacePipeline(configuration: PipelineConfiguration(), loader: try Fixture.loader())
        try store.bind(pipeline.settings)
        let report = try IndexingPipeline(finder: pipeline.finder, embedder: pipeline.embedder, store: store)
            .index(directory: clips)
        #expect(report.videos == 2 && report.failed.isEmpty)
        return (db, folder + "/uploads", clips)
    }

    @Test func searchReportsTheMatchedFrameAndTheTimes() async throws {
        let (db, uploads, _) = try Self.gallery()
        let service = try FaceFindService(store: try SQLiteGalleryStore(path: db), loader: try Fixture.loader(),
                                          configuration: Fixture.configuration(uploads: uploads))
        try await service.test { client in
            // id04 is on screen from the cut at 3 s to the end of clip02; its query photo is in no clip.
            let response = try await client.search(Fixture.shared.path + "/faces/scenes/id04/img13.jpg", query: "?k=2")
            #expect(response.status == .ok)
            let result = try response.json(SearchJSON.self)
            let best = try #require(result.results.first)
            #expect(best.name == "clip02-hevc.mp4" && !best.unknown)
            let time = try #require(best.time)
            #expect(abs(time.start - 3) < 0.04 && abs(time.end - 6) < 0.04 && time.frame >= 3)
            #expect(best.appearances?.count == 1 && abs((best.appearances?[0].start ?? 0) - 3) < 0.04)
            #expect(best.width == 640 && best.height == 360)
            #expect(best.thumbnail == "/v1/gallery/\(best.id)/thumbnail?t=\(Int((time.frame * 1000).rounded()))")
            // The matched frame (id04) and the first frame (id03) are different pictures, each a JPEG.
            let frame = try await client.get(best.thumbnail)
            let start = try await client.get("/v1/gallery/\(best.id)/thumbnail")
            #expect(frame.status == .ok && start.status == .ok)
            #expect(frame.headers[.contentType] == "image/jpeg")
            #expect(Array(frame.body.readableBytesView.prefix(2)) == [0xFF, 0xD8])
            #expect(frame.headers[.eTag] != start.headers[.eTag])
            #expect(Array(frame.body.readableBytesView) != Array(start.body.readableBytesView))
            // A bad time is refused, naming the parameter.
            let bad = try await client.get("/v1/gallery/\(best.id)/thumbnail?t=-5")
            #expect(bad.status == .badRequest)
            #expect(String(buffer: bad.body).contains("t must be an integer"))
        }
    }
}
