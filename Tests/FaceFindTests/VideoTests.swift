import Foundation
import Testing

@testable import FaceFind

// Video through FFmpeg's libraries. Every clip is made here, at test time, by the real encoders (ffmpeg with
// libx264, libx265 and libvpx-vp9) from the shared scene photos: scripts/video/make-clips.py, which also writes
// who is on screen when (manifest.json). Nothing is copied into the repository.

struct VideoSetupError: Error, CustomStringConvertible {
    let description: String
}

/// Test clips and the tools that make them.
enum TestVideo {
    struct Shot: Decodable { var photo: String; var identity: String; var start: Double; var end: Double }
    struct Clip: Decodable { var clip: String; var codec: String; var seconds: Double; var shots: [Shot] }
    struct Manifest: Decodable { var clips: [Clip] }

    /// Three 6-second 640x360 clips, one per codec (H.264, H.265, VP9), two or three shots each; made once per
    /// test run and shared (read-only) by the tests.
    static let standard: Result<(folder: String, manifest: Manifest), Error> = Result {
        let folder = NSTemporaryDirectory() + "facefind-clips-\(UUID().uuidString.prefix(8))"
        try makeClips(in: folder, count: 3, size: "640x360")
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/manifest.json")))
        return (folder, manifest)
    }

    static func makeClips(in folder: String, count: Int, size: String) throws {
        try run(["python3", TestData.packageRoot.path + "/scripts/video/make-clips.py", folder, "--clips", String(count),
                 "--size", size, "--faces", TestData.faces])
    }

    /// Runs a command (ffmpeg must be installed: scripts/setup.sh installs it; its absence fails, naming it).
    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let (status, output) = try TestData.run("/usr/bin/env", arguments)
        guard status == 0 else {
            throw VideoSetupError(description: "\(arguments.joined(separator: " ")) failed (\(status)): "
                                  + output + " (ffmpeg comes from the Debian package ffmpeg: scripts/setup.sh)")
        }
        return output
    }

    /// ffmpeg, quiet, overwriting.
    static func ffmpeg(_ arguments: [String]) throws {
        try run(["ffmpeg", "-nostdin", "-y", "-loglevel", "error"] + arguments)
    }
}

@Suite("Video decoding and sampling")
struct VideoReaderTests {
    @Test("one frame a second and the first frame of every shot, in every codec; pans and zooms are no cuts")
    func samplesEverySecondAndEachCut() throws {
        let (folder, manifest) = try TestVideo.standard.get()
        #expect(manifest.clips.map(\.codec) == ["h264", "hevc", "vp9"])
        for clip in manifest.clips {
            let reader = try VideoReader(path: folder + "/" + clip.clip)
            #expect(reader.info.codec == clip.codec)
            #expect(reader.info.width == 640 && reader.info.height == 360 && reader.info.rotation == 0)
            #expect(abs(reader.info.duration - clip.seconds) < 0.1, "\(clip.clip): \(reader.info.duration)")
            var frames: [(time: Double, startsShot: Bool)] = []
            let summary = try reader.read { frame in
                #expect(frame.image.width == 640 && frame.image.height == 360)
                frames.append((frame.time, frame.startsShot))
            }
            #expect(summary.damagedPackets == 0 && summary.stoppedEarly == nil)
            let cuts = frames.filter(\.startsShot).map(\.time)
            // The first frame, then each later shot's first frame within an eighth of a second (+ a frame).
            #expect(cuts.count == clip.shots.count, "\(clip.clip): shots start at \(clip.shots.map(\.start)), cuts seen at \(cuts)")
            for (shot, cut) in zip(clip.shots, cuts) {
                #expect(cut >= shot.start - 0.001 && cut <= shot.start + 0.125 + 1.0 / 30 + 0.001,
                        "\(clip.clip): shot at \(shot.start), cut seen at \(cut)")
            }
            // No gap between sampled frames longer than the interval and a frame.
            for (a, b) in zip(frames, frames.dropFirst()) {
                #expect(b.time - a.time <= 1 + 1.0 / 30 + 0.001, "\(clip.clip): \(a.time) → \(b.time)")
            }
            #expect(frames.last!.time >= clip.seconds - 1 - 1.0 / 30)
        }
    }
}

@Suite("Face tracking across sampled frames")
struct FaceTrackerTests {
    /// A unit embedding along axis `i` of 4, or between two axes.
    static func unit(_ values: [Float]) -> Embedding { Embedding.normalized(values) }
    static func sighting(x: Float, _ embedding: [Float], at time: Double, score: Float = 0.9, width: Float = 100) -> FrameFace {
        FrameFace(face: DetectedFace(box: Box(x: x, y: 0, width: width, height: width), score: score),
                  embedding: unit(embedding), time: time)
    }

    @Test("two people, a missed frame, a cut: tracks and ranges as computed by hand")
    func tracksAndRanges() {
        var tracker = FaceTracker(linkSimilarity: 0.5)  // overlapping boxes link from 0.3
        let a: [Float] = [1, 0, 0, 0], b: [Float] = [0, 1, 0, 0]
        // t=0 (first frame): A at x=0, B at x=300.
        tracker.add([Self.sighting(x: 0, a, at: 0), Self.sighting(x: 300, b, at: 0)], at: 0, startsShot: true)
        // t=1: A turned (cosine 0.6 to A: linked by the embedding alone), B moved 20 px (IoU 0.67) and blurred to
        // cosine 0.4 (linked by overlap, 0.4 ≥ 0.3).
        tracker.add([Self.sighting(x: 0, [0.6, 0, 0.8, 0], at: 1, score: 0.95, width: 120),
                     Self.sighting(x: 320, [0, 0.4, 0, 0.9165], at: 1)], at: 1, startsShot: false)
        // t=2: B not detected (one miss is allowed); A still there.
        tracker.add([Self.sighting(x: 0, a, at: 2, width: 90)], at: 2, startsShot: false)
        // t=3: B back, A gone (A's first miss).
        tracker.add([Self.sighting(x: 300, b, at: 3)], at: 3, startsShot: false)
        // t=3.5: a cut; C appears (orthogonal to both: a new track starting at the cut). Every open track ends at
        // 3.5, except A, which ends at its first miss, 3.
        tracker.add([Self.sighting(x: 0, [0, 0, 0, 1], at: 3.5)], at: 3.5, startsShot: true)
        // t=4.5: nobody; C's first miss. The video ends at 5.
        tracker.add([], at: 4.5, startsShot: false)
        let tracks = tracker.finish(at: 5)
        #expect(tracks.count == 3)
        #expect(tracks.map(\.start) == [0, 0, 3.5])
        #expect(tracks.map(\.end) == [3, 3.5, 4.5])
        #expect(tracks.map(\.sightings) == [3, 3, 1])
        // A's kept faces, best first: quality = score × √width: 0.95·√120 = 10.41 > 0.9·√100 = 9 > 0.9·√90 = 8.54.
        #expect(tracks[0].best.map(\.time) == [1, 0, 2])
        let stored = tracks[0].storedFaces
        #expect(stored.map(\.face.time) == [FaceTime(start: 0, end: 3, frame: 1), FaceTime(start: 0, end: 3, frame: 0),
                                            FaceTime(start: 0, end: 3, frame: 2)])
    }

    @Test("a face that appears mid-shot starts after the previous sampled frame; only the best three are kept")
    func lateAppearanceAndKeptFaces() {
        var tracker = FaceTracker(linkSimilarity: 0.5)
        tracker.add([], at: 0, startsShot: true)
        for t in 1...5 {
            tracker.add([Self.sighting(x: 0, [1, 0, 0, 0], at: Double(t), score: 0.5 + Float(t) / 10)], at: Double(t),
                        startsShot: false)
        }
        let tracks = tracker.finish(at: 5.5)
        #expect(tracks.count == 1)
        #expect(tracks[0].start == 0 && tracks[0].end == 5.5 && tracks[0].sightings == 5)
        #expect(tracks[0].best.map(\.time) == [5, 4, 3])
    }

    @Test("two people passing each other are not swapped: the embedding decides over the boxes")
    func crossingPeopleKeepTheirTracks() {
        var tracker = FaceTracker(linkSimilarity: 0.5)
        let a: [Float] = [1, 0, 0, 0], b: [Float] = [0, 1, 0, 0]
        tracker.add([Self.sighting(x: 0, a, at: 0), Self.sighting(x: 60, b, at: 0)], at: 0, startsShot: true)
        // They swapped places: A's box now overlaps B's old one.
        tracker.add([Self.sighting(x: 60, a, at: 1), Self.sighting(x: 0, b, at: 1)], at: 1, startsShot: false)
        let tracks = tracker.finish(at: 2)
        #expect(tracks.count == 2)
        for track in tracks { #expect(Set(track.best.map { $0.embedding.vector }).count == 1) }
    }

    @Test("ranges merge where they overlap, each keeping the frame of its best face")
    func mergedRanges() {
        let merged = FaceTime.merged([(FaceTime(start: 5, end: 8, frame: 6), 0.7), (FaceTime(start: 0, end: 2, frame: 1), 0.9),
                                      (FaceTime(start: 7, end: 9, frame: 8), 0.8)])
        #expect(merged == [FaceTime(start: 0, end: 2, frame: 1), FaceTime(start: 5, end: 9, frame: 8)])
        #expect(FaceTime(start: 65, end: 72.04, frame: 70).rangeText == "1:05.0-1:12.0")
    }
}

@Suite("Videos in the gallery", .serialized)
struct VideoIndexingTests {
    static func pipeline() throws -> FacePipeline {
        try FacePipeline(configuration: PipelineConfiguration(), loader: TestData.loader())
    }

    /// The three test clips and two LFW photos indexed; each scene identity's query photo (never in a clip)
    /// searched: its clip comes first, and the time range of the match and of the appearances holds the shot.
    @Test("a query photo finds its clip, with a time range that holds the person's shot")
    func queryFindsTheClipAndTheShot() throws {
        let (clips, manifest) = try TestVideo.standard.get()
        let folder = try TestData.folder(withLFWPhotos: ["AJ_Cook/AJ_Cook_0001.jpg", "Abdullah/Abdullah_0001.jpg"])
        for clip in manifest.clips { try FileManager.default.copyItem(atPath: clips + "/" + clip.clip, toPath: folder + "/" + clip.clip) }
        let pipeline = try Self.pipeline()
        let store = try SQLiteGalleryStore(path: folder + "/index.sqlite")
        try store.bind(pipeline.settings)
        let report = try IndexingPipeline(finder: pipeline.finder, embedder: pipeline.embedder, store: store)
            .index(directory: folder)
        #expect(report.indexed == 5 && report.failed.isEmpty && report.videos == 3)
        #expect(abs(report.videoSeconds - 18) < 0.2)
        // A few faces per shot, not one per sampled frame.
        let shots = manifest.clips.map(\.shots.count).reduce(0, +)
        #expect(report.faces - 2 >= shots && report.faces - 2 <= 3 * shots)

        let search = GallerySearch(matrix: try store.loadFaceMatrix())
        struct Split: Decodable { struct Entry: Decodable { var path: String; var id: String }; var query: [Entry] }
        let split = try JSONDecoder().decode(Split.self, from: Data(contentsOf: URL(fileURLWithPath: TestData.faces + "/scenes-split.json")))
        let queries = Dictionary(split.query.map { ($0.id, $0.path) }, uniquingKeysWith: { a, _ in a })
        let threshold = Verification.threshold(for: pipeline.settings.embedder).value
        var found = 0
        for clip in manifest.clips {
            for shot in clip.shots {
                let image = try ImageDecoder().decode(contentsOf: TestData.face(queries[shot.identity]!))
                let faces = try pipeline.embedFaces(in: image)
                let query = faces[QueryFaceChoice.largest.choose(from: faces.map(\.face), imageWidth: image.width,
                                                                 imageHeight: image.height)[0]].embedding
                let matches = try store.withVideoTimes(search.search(query, k: 3), queries: [query, query, query],
                                                       metric: .cosine, threshold: threshold)
                let first = try #require(matches.first)
                #expect(first.path.hasSuffix("/" + clip.clip), "\(shot.identity): \(first.path)")
                let time = try #require(first.time)
                // The track's range holds the shot (a frame of slack) and no more than the shot.
                #expect(time.start <= shot.start + 0.04 && time.end >= shot.end - 0.04, "\(shot.identity): \(time) for \(shot)")
                #expect(time.start >= shot.start - 0.04 && time.end <= shot.end + 0.04, "\(shot.identity): \(time) for \(shot)")
                #expect(time.frame >= shot.start - 0.04 && time.frame <= shot.end)
                if !DistanceMetric.cosine.isUnknown(first.score, threshold: threshold) {
                    found += 1
                    #expect(first.appearances?.contains { $0.start <= shot.start + 0.04 && $0.end >= shot.end - 0.04 } == true)
                } else {
                    #expect(first.appearances == [])
                }
                // The frame the match names shows the face where the box says.
                let frame = try ImageDecoder().decodeMedia(contentsOf: first.path, at: time.frame)
                let again = try pipeline.finder.confidentFaces(in: frame)
                #expect(again.contains { $0.box.iou(first.box) > 0.7 }, "\(shot.identity) at \(time.frame)")
            }
        }
        // id02's query photo scores below the match threshold even against its own photo (0.24); the others pass.
        #expect(found >= shots - 2)
        // Photos are passed unchanged.
        let all = try store.withVideoTimes(search.search(Embedding(Array(search.matrix.vector(ofFace: 0))), k: 5),
                                           queries: [], metric: .cosine, threshold: threshold)
        #expect(all.count == 5)
        for match in all { #expect((match.time == nil) == !isVideoPath(match.path)) }
        #expect(all.filter { !isVideoPath($0.path) }.allSatisfy { $0.appearances == nil })
    }
}

@Suite("Bad video input", .serialized)
struct BadVideoTests {
    /// A folder with one good clip, one good photo and every kind of bad video: each is named with its reason,
    /// the run goes on, the damaged clip keeps the faces before and after its damage.
    @Test("each bad video is named with its reason and the run goes on")
    func badVideosAreNamedAndTheRunGoesOn() throws {
        let (clips, manifest) = try TestVideo.standard.get()
        let folder = try TestData.folder(withLFWPhotos: ["AJ_Cook/AJ_Cook_0001.jpg"])
        let good = manifest.clips[0]  // H.264, shots 0-3 s and 3-6 s
        let source = clips + "/" + good.clip
        try FileManager.default.copyItem(atPath: source, toPath: folder + "/good.mp4")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: source)))
        // 0 bytes; text under a video's name; cut in half (its index, written last, is lost).
        #expect(FileManager.default.createFile(atPath: folder + "/empty.mp4", contents: Data()))
        try Data("<html>not found</html>".utf8).write(to: URL(fileURLWithPath: folder + "/page.mp4"))
        try Data(bytes.prefix(bytes.count / 2)).write(to: URL(fileURLWithPath: folder + "/truncated.mp4"))
        // Garbage over the middle fifth of the coded frames (around the cut): the frames before and after decode.
        var damaged = bytes
        var generator = SplitMix64(seed: 7)
        for i in (bytes.count * 2 / 5)..<(bytes.count * 3 / 5) { damaged[i] = UInt8(truncatingIfNeeded: generator.next()) }
        try Data(damaged).write(to: URL(fileURLWithPath: folder + "/damaged.mp4"))
        // Sound only; a single 8192x8192 frame (67 MP, over the 50 MP limit).
        try TestVideo.ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", folder + "/sound.mp4"])
        try TestVideo.ffmpeg(["-f", "lavfi", "-i", "color=c=gray:s=8192x8192:d=0.04", "-frames:v", "1", "-c:v", "libx264",
                              "-preset", "ultrafast", folder + "/huge.mp4"])

        let pipeline = try VideoIndexingTests.pipeline()
        let store = try SQLiteGalleryStore(path: folder + "/index.sqlite")
        try store.bind(pipeline.settings)
        let report = try IndexingPipeline(finder: pipeline.finder, embedder: pipeline.embedder, store: store)
            .index(directory: folder)
        let reasons = Dictionary(uniqueKeysWithValues: report.failed.map { (URL(fileURLWithPath: $0.path).lastPathComponent, $0.reason) })
        #expect(Set(reasons.keys) == ["empty.mp4", "page.mp4", "truncated.mp4", "sound.mp4", "huge.mp4"], "\(reasons)")
        #expect(reasons["empty.mp4"] == "empty file (0 bytes)")
        #expect(reasons["page.mp4"]?.hasPrefix("not a video FFmpeg can read") == true)
        #expect(reasons["truncated.mp4"]?.hasPrefix("not a video FFmpeg can read") == true, "\(reasons["truncated.mp4"] ?? "")")
        #expect(reasons["sound.mp4"] == "no video stream in the file (audio only, or not a video)")
        #expect(reasons["huge.mp4"] == "8192x8192 h264 frames = 67.1 MP exceed the limit of 50.0 MP")
        #expect(report.indexed == 3)  // the photo, good.mp4, damaged.mp4

        let records = try store.images(offset: 0, limit: 100)
        let damagedRecord = try #require(records.first { $0.path.hasSuffix("/damaged.mp4") })
        let goodRecord = try #require(records.first { $0.path.hasSuffix("/good.mp4") })
        #expect(damagedRecord.error == nil && goodRecord.error == nil)
        // Faces were seen from the first second to the last (the tracks' ranges; the kept faces may all come from
        // the middle, where the concealed damage blends the two shots).
        let times = try store.faces(ofImage: damagedRecord.id).compactMap(\.time)
        #expect(times.contains { $0.start < 1 } && times.contains { $0.end > 5 }, "faces at \(times)")
        // Failed files are recorded (not retried until they change) and never take the good ones with them.
        #expect(records.count == 8)
    }

    @Test("a stream whose frames exceed the pixel limit is refused before a frame is decoded")
    func pixelLimit() throws {
        let (clips, manifest) = try TestVideo.standard.get()
        #expect(throws: ImageDecodingError(file: clips + "/" + manifest.clips[1].clip,
                                           reason: "640x360 hevc frames = 0.2 MP exceed the limit of 0.1 MP")) {
            try VideoReader(path: clips + "/" + manifest.clips[1].clip, maxPixels: 100_000)
        }
    }

    /// A phone records its rotation in the stream's display matrix; the frames come out upright, as ffmpeg
    /// itself shows them (it applies the matrix too).
    @Test("rotation metadata is applied, in the direction ffmpeg applies it")
    func rotationIsApplied() throws {
        let (clips, manifest) = try TestVideo.standard.get()
        let folder = try TestData.temporaryFolder()
        for degrees in [90, 180, 270] {
            let rotated = folder + "/rotated\(degrees).mp4"
            try TestVideo.ffmpeg(["-i", clips + "/" + manifest.clips[0].clip, "-c", "copy",
                                  "-metadata:s:v:0", "rotate=\(degrees)", rotated])
            let reader = try VideoReader(path: rotated)
            // ffmpeg 5.1 writes the `rotate` tag as a display matrix turning the other way round (the reader's
            // rotation is the clockwise turn that makes the frame upright); what counts is the pixel check below.
            #expect(reader.info.rotation == (360 - degrees) % 360)
            #expect(degrees == 180 ? (reader.info.width == 640 && reader.info.height == 360)
                                   : (reader.info.width == 360 && reader.info.height == 640))
            let ours = try reader.frame(at: 1.5)
            let reference = folder + "/reference\(degrees).png"
            try TestVideo.ffmpeg(["-ss", "1.5", "-i", rotated, "-frames:v", "1", "-pix_fmt", "rgb24", reference])
            let theirs = try ImageDecoder().decode(contentsOf: reference)
            #expect(theirs.width == ours.width && theirs.height == ours.height)
            var total = 0
            for i in ours.pixels.indices { total += abs(Int(ours.pixels[i]) - Int(theirs.pixels[i])) }
            let mean = Double(total) / Double(ours.pixels.count)
            #expect(mean < 4, "\(degrees)°: mean difference \(mean) from ffmpeg's upright frame")
        }
    }
}

@Suite("Videos through the command line", .serialized)
struct VideoCommandTests {
    /// `facefind index` on the clips at two frames a second, then `search --json`: the clip with the query's person,
    /// its time and appearances; the summary line counts the videos.
    @Test func indexAndSearchSayWhen() throws {
        let (clips, manifest) = try TestVideo.standard.get()
        let db = try TestData.temporaryFolder() + "/index.sqlite"
        let binary = try EndToEndTests.facefindBinary()
        let index = try TestData.run(binary, ["index", clips, "--db", db, "--video-interval", "0.5", "--models", TestData.models])
        #expect(index.status == 0, "\(index.output)")
        // Two frames a second over 18 s, the cuts falling on sampled frames or between them.
        let line = try #require(index.output.split(separator: "\n").first { $0.hasPrefix("of which 3 videos: 18.0 s, ") })
        let frames = Int(line.split(separator: " ")[6])!
        #expect((33...44).contains(frames), "\(line)")
        let shot = manifest.clips[2].shots[1]  // VP9, id06 from 2 s to 4 s
        let submission = db + "-submission.json"
        let search = try TestData.run(binary, ["search", TestData.face("scenes/id06/img18.jpg"), "--db", db, "-k", "1",
                                               "--json", "--submission", submission, "--models", TestData.models])
        #expect(search.status == 0, "\(search.output)")
        struct Result: Decodable {
            struct M: Decodable { var path: String; var time: FaceTime?; var appearances: [FaceTime]? }
            var results: [M]
        }
        let first = try #require(try JSONDecoder().decode([Result].self, from: Data(search.output.utf8)).first?.results.first)
        #expect(first.path.hasSuffix(manifest.clips[2].clip))
        let time = try #require(first.time)
        #expect(abs(time.start - shot.start) < 0.04 && abs(time.end - shot.end) < 0.04, "\(time)")
        #expect(first.appearances?.count == 1)
        // The submission names the clip with the track as a media fragment.
        let named = try JSONDecoder().decode([String: [String]].self, from: Data(contentsOf: URL(fileURLWithPath: submission)))
        #expect(named == ["img18.jpg": [manifest.clips[2].clip + String(format: "#t=%.1f,%.1f", time.start, time.end)]])
        let bad = try TestData.run(binary, ["index", clips, "--db", db, "--video-interval", "0"])
        #expect(bad.status != 0 && bad.output.contains("--video-interval must be a positive number of seconds"))
    }
}
