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
        let clips = try makeClips(in: folder)
        let db = folder + "/gallery.sqlite"
        let store = try SQLiteGalleryStore(path: db)
        let pipeline = try FacePipeline(configuration: PipelineConfiguration(), loader: try Fixture.loader())
        try store.bind(pipeline.settings)
        let report = try IndexingPipeline(finder: pipeline.finder, embedder: pipeline.embedder, store: store)
            .index(directory: clips)
        #expect(report.videos == 2 && report.failed.isEmpty)
        return (db, folder + "/uploads", clips)
    }

    /// The two clips, made in `folder`/clips by scripts/video/make-clips.py (ffmpeg).
    static func makeClips(in folder: String) throws -> String {
        let clips = folder + "/clips"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Fixture.packageRoot.path + "/scripts/video/make-clips.py", clips, "--clips", "2",
                             "--size", "640x360", "--faces", Fixture.shared.path + "/faces"]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "make-clips.py (ffmpeg: scripts/setup.sh installs it)")
        return clips
    }

    /// A video uploaded to the photo gallery is saved under its container's extension, indexed as `index` indexes
    /// videos, and found with its times; a damaged video (the first half of the file) is refused naming it, and
    /// nothing of that request is added; a video longer than the server's limit is refused (413).
    @Test func aVideoUploadIsIndexedAndFoundWithItsTimes() async throws {
        let clips = try Self.makeClips(in: try Fixture.temporaryFolder("video-upload"))
        let clip = try Fixture.bytes(clips + "/clip02-hevc.mp4")
        #expect(Engine.videoExtension(clip) == "mp4")
        #expect(Engine.videoExtension(try Fixture.bytes(Fixture.query("Tiger_Woods"))) == nil)
        // A HEIC or AVIF photo starts with an ISO media `ftyp` box as an MP4 does; its brands make it a photo.
        func ftyp(_ brands: String...) -> [UInt8] {
            [0, 0, 0, UInt8(8 + 4 * (brands.count + 1))] + Array("ftyp".utf8) + Array(brands[0].utf8) + [0, 0, 0, 0]
                + brands.dropFirst().flatMap { Array($0.utf8) }
        }
        #expect(Engine.videoExtension(ftyp("heic", "mif1", "heic")) == nil)
        #expect(Engine.videoExtension(ftyp("avif", "mif1", "avif")) == nil)
        #expect(Engine.videoExtension(ftyp("isom", "isom", "mp41")) == "mp4")
        #expect(Engine.videoExtension(ftyp("qt  ", "qt  ")) == "mov")
        let service = try Fixture.service()
        try await service.test { client in
            var form = MultipartBody()
            form.file("image", filename: "holiday.mp4", type: "video/mp4", clip)
            let response = try await client.post("/v1/gallery", form: form, key: Fixture.apiKey)
            #expect(response.status == .created, "\(String(buffer: response.body))")
            let added = try #require(try response.json(AddedJSON.self).added.first)
            #expect(added.name.hasSuffix("holiday.mp4") && added.path.hasSuffix(".mp4") && added.width == 640 && added.height == 360 && added.faceCount >= 2)

            let found = try await client.search(Fixture.shared.path + "/faces/scenes/id04/img13.jpg", query: "?k=3")
                .json(SearchJSON.self)
            let best = try #require(found.results.first)
            #expect(best.id == added.id && !best.unknown)
            let time = try #require(best.time)
            #expect(abs(time.start - 3) < 0.04 && abs(time.end - 6) < 0.04)

            var damaged = MultipartBody()
            damaged.file("image", filename: "broken.mp4", type: "video/mp4", Array(clip.prefix(clip.count / 2)))
            damaged.file("image", filename: "fine.jpg", try Fixture.bytes(Fixture.query("Nicole_Kidman")))
            let refused = try await client.post("/v1/gallery", form: damaged, key: Fixture.apiKey)
            #expect(refused.status == .badRequest && String(buffer: refused.body).contains("broken.mp4"),
                    "\(String(buffer: refused.body))")
            let total = try await client.get("/v1/gallery?limit=1").json(GalleryPageJSON.self).total
            #expect(total == 13)
        }
        // Bytes do not bound a video's indexing time; its duration does: a 6-second clip where 5 are allowed.
        let short = try Fixture.service { $0.maxVideoSeconds = 5 }
        try await short.test { client in
            var form = MultipartBody()
            form.file("image", filename: "long.mp4", type: "video/mp4", clip)
            let refused = try await client.post("/v1/gallery", form: form, key: Fixture.apiKey)
            #expect(refused.status == .contentTooLarge && String(buffer: refused.body).contains("at most 5 s"),
                    "\(String(buffer: refused.body))")
        }
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
