import Foundation
import Testing

@testable import FaceFind

// Issue 25: what a video file can make FaceFind do. Every clip is made here by ffmpeg from a shared LFW photo.

enum HostileVideo {
    static let photo = TestData.face("lfw-dev/Abdullah_Gul/Abdullah_Gul_0001.jpg")

    /// A clip of the LFW photo at `width`x`height` (H.264, 4:2:0), `seconds` long at `fps` frames a second.
    static func clip(_ path: String, width: Int, height: Int, seconds: Int = 2, fps: Int = 2) throws {
        try TestVideo.ffmpeg(["-loop", "1", "-i", photo, "-t", String(seconds), "-r", String(fps),
                              "-vf", "scale=\(width):\(height),format=yuv420p", "-c:v", "libx264", "-preset", "ultrafast",
                              path])
    }

    /// Rewrites the Matroska Duration element (ID 44 89, an 8-byte big-endian float of milliseconds at the
    /// default TimestampScale) to say `seconds`, as a hostile or broken muxer may.
    static func rewriteMatroskaDuration(_ path: String, seconds: Double) throws {
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        guard let at = (0..<bytes.count - 11).first(where: { bytes[$0] == 0x44 && bytes[$0 + 1] == 0x89 && bytes[$0 + 2] == 0x88 }) else {
            throw VideoSetupError(description: "\(path): no 8-byte Matroska Duration element")
        }
        let value = (seconds * 1000).bitPattern.bigEndian
        withUnsafeBytes(of: value) { for (i, byte) in $0.enumerated() { bytes[at + 3 + i] = byte } }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// `count` copies of one tiny video stream in one Matroska file (ffmpeg -map 0:v, `count` times).
    static func streams(_ path: String, count: Int, folder: String) throws {
        let tiny = folder + "/tiny-\(count).mkv"
        try TestVideo.ffmpeg(["-f", "lavfi", "-i", "testsrc=s=64x64:d=1:r=2", "-c:v", "libx264", "-preset", "ultrafast", tiny])
        try TestVideo.ffmpeg(["-i", tiny] + Array(repeating: ["-map", "0:v"], count: count).flatMap { $0 } + ["-c", "copy", path])
    }

    /// Peak resident memory in MB of a child process running `arguments` (python's getrusage of its children).
    static func peakMegabytes(_ arguments: [String]) throws -> (status: Int32, megabytes: Int, output: String) {
        let script = "import resource,subprocess,sys; r=subprocess.run(sys.argv[1:], capture_output=True, text=True); "
            + "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024); print(r.stdout + r.stderr)"
        let output = try TestVideo.run(["python3", "-c", script] + arguments)
        let first = output.split(separator: "\n").first?.split(separator: " ") ?? []
        guard first.count == 2, let status = Int32(first[0]), let megabytes = Int(first[1]) else {
            throw VideoSetupError(description: "cannot read the peak memory from \(output)")
        }
        return (status, megabytes, output)
    }
}

@Suite("Hostile videos (issue 25)", .serialized)
struct VideoLimitTests {
    /// swscale stores whole SIMD words past the end of a row; into a packed width*3 buffer that overran the heap
    /// block at these widths ("malloc(): invalid size", exit 134 from `facefind index`). Run in a child
    /// process, since an abort would take the test runner with it; every frame of every clip must come out.
    @Test("clips at the widths that overran swscale's output are indexed (no abort)")
    func awkwardWidthsDoNotOverrun() throws {
        let folder = try TestData.temporaryFolder()
        let sizes = [(202, 250), (248, 250), (250, 250), (252, 250), (330, 250), (360, 250), (426, 240), (1000, 250),
                     (1080, 1920)]
        for (width, height) in sizes {
            try HostileVideo.clip(folder + "/w\(width)x\(height).mkv", width: width, height: height)
        }
        let db = try TestData.temporaryFolder() + "/index.sqlite"
        let index = try TestData.run(try EndToEndTests.facefindBinary(),
                                     ["index", folder, "--db", db, "--models", TestData.models])
        #expect(index.status == 0, "\(index.output)")
        #expect(index.output.contains("of which \(sizes.count) videos: "), "\(index.output)")
        // And in this process, frame by frame: every sampled frame has the clip's size.
        for (width, height) in sizes {
            let reader = try VideoReader(path: folder + "/w\(width)x\(height).mkv")
            var frames = 0
            let summary = try reader.read(sampling: VideoSampling(interval: 0.5)) { frame in
                #expect(frame.image.width == width && frame.image.height == height)
                #expect(frame.image.pixels.count == width * height * 3)
                frames += 1
            }
            // 4 frames at 0, 0.5, 1, 1.5 s (a frame no other refers to may be skipped: at least 3).
            #expect(frames >= 3 && summary.stoppedEarly == nil, "\(width)x\(height): \(frames) frames")
        }
    }

    /// A 60 s clip at 1 fps whose Matroska header says 10 s: the reader's seconds hold on the frames read. At
    /// 60 s (frames at 0...59 s) it passes; at 59 s the frame at 59 s ends the pass, naming both times.
    @Test("the decoded-seconds limit holds on the frames, not on the header's duration")
    func secondsLimitHoldsOnDecodedFrames() throws {
        let folder = try TestData.temporaryFolder()
        let path = folder + "/liar.mkv"
        try HostileVideo.clip(path, width: 64, height: 64, seconds: 60, fps: 1)
        try HostileVideo.rewriteMatroskaDuration(path, seconds: 10)
        let reader = try VideoReader(path: path)
        #expect(abs(reader.info.duration - 10) < 0.01, "the header's claim: \(reader.info.duration)")

        let summary = try reader.read(limits: VideoReadLimits(maxSeconds: 60)) { _ in }
        #expect(summary.packets == 60 && abs(summary.decodedEnd - 60) < 0.01, "\(summary)")
        // Reported length: the decoded 60 s, not the header's 10 s.
        #expect(abs(summary.length(header: reader.info.duration) - 60) < 0.01)

        let again = try VideoReader(path: path)
        #expect(throws: ImageDecodingError(file: path, reason: "the video runs past 59 s, the limit, although its header "
                                           + "says 10 s (a frame at 59 s)")) {
            try again.read(limits: VideoReadLimits(maxSeconds: 59)) { _ in }
        }
        // Frames: 60 pass, 59 do not.
        #expect(try VideoReader(path: path).read(limits: VideoReadLimits(maxFrames: 60)) { _ in }.packets == 60)
        #expect(throws: ImageDecodingError.self) {
            try VideoReader(path: path).read(limits: VideoReadLimits(maxFrames: 59)) { _ in }
        }
        // A budget shared by the videos of one request: the first uses up its 60 s, the second has 10 left.
        let budget = VideoTimeBudget(seconds: 70)
        _ = try VideoReader(path: path).read(limits: VideoReadLimits(budget: budget)) { _ in }
        #expect(abs(budget.remaining - 10) < 0.01)
        #expect(throws: ImageDecodingError.self) {
            try VideoReader(path: path).read(limits: VideoReadLimits(budget: budget)) { _ in }
        }
        // Cancelled: ends at the next packet.
        #expect(throws: CancellationError.self) {
            try VideoReader(path: path).read(limits: VideoReadLimits(isCancelled: { true })) { _ in }
        }
    }

    /// A header claiming 1e12 s is not what the index reports: the decoded length is.
    @Test("the reported video length is the decoded one")
    func reportedLengthIsDecoded() throws {
        let folder = try TestData.temporaryFolder()
        try HostileVideo.clip(folder + "/claims.mkv", width: 160, height: 160, seconds: 4, fps: 2)
        try HostileVideo.rewriteMatroskaDuration(folder + "/claims.mkv", seconds: 1e12)
        let pipeline = try VideoIndexingTests.pipeline()
        let store = try SQLiteGalleryStore(path: folder + "/index.sqlite")
        try store.bind(pipeline.settings)
        let report = try IndexingPipeline(finder: pipeline.finder, embedder: pipeline.embedder, store: store)
            .index(directory: folder)
        #expect(report.videos == 1 && report.failed.isEmpty, "\(report.failed)")
        #expect(abs(report.videoSeconds - 4) < 0.01, "\(report.videoSeconds)")
        // Track ends are within the decoded video too.
        let record = try #require(try store.images(offset: 0, limit: 10).first)
        #expect(try store.faces(ofImage: record.id).compactMap(\.time).allSatisfy { $0.end <= 4.01 })
    }

    /// 1,000 streams cost about 1.5 GB to open (a decoder probed for each). At most 64 are opened; the stream
    /// that is decoded is chosen before the probe and the others discarded. Measured peaks of `facefind index`
    /// with the 1,000-stream file (4.8 MB) against one clip of a stream: the difference stays under 150 MB.
    @Test("a container of 1,000 streams is refused with bounded memory; 64 streams open, 65 do not")
    func streamLimit() throws {
        let folder = try TestData.temporaryFolder()
        for count in [64, 65] { try HostileVideo.streams(folder + "/s\(count).mkv", count: count, folder: folder) }
        let opened = try VideoReader(path: folder + "/s64.mkv")
        #expect(opened.info.width == 64 && opened.info.codec == "h264")
        #expect(try opened.read { _ in }.sampledFrames >= 1)
        #expect(throws: ImageDecodingError(file: folder + "/s65.mkv", reason: "not a video FaceFind reads (more than 64 "
                                           + "streams, or out of memory opening the container)")) {
            try VideoReader(path: folder + "/s65.mkv")
        }

        let many = try TestData.temporaryFolder("many"), one = try TestData.temporaryFolder("one")
        try HostileVideo.streams(many + "/s1000.mkv", count: 1000, folder: folder)
        try HostileVideo.streams(one + "/s1.mkv", count: 1, folder: folder)
        let binary = try EndToEndTests.facefindBinary()
        // The 1,000-stream file is refused, named with its reason, and the run goes on: exit 2 ("some files could
        // not be read", README's exit status); the one-stream clip is indexed.
        func peak(_ clips: String, status: Int32, saying: String) throws -> Int {
            let run = try HostileVideo.peakMegabytes([binary, "index", clips, "--db", clips + "/index.sqlite",
                                                      "--models", TestData.models])
            #expect(run.status == status && run.output.contains(saying), "\(run.output)")
            return run.megabytes
        }
        let manyPeak = try peak(many, status: 2, saying: "more than 64 streams")
        let onePeak = try peak(one, status: 0, saying: "1 indexed")
        #expect(manyPeak - onePeak < 150, "1,000 streams: \(manyPeak) MB; one stream: \(onePeak) MB")
    }

    /// FuzzVideo's find: a 1.7 KB MP4 (a seed with one bit changed) made libavformat ask for one block of
    /// 512 MB while opening it (the size of a table its header declares). FFmpeg's single allocations are
    /// bounded (av_max_alloc, 4 x maxPixels, 200 MB at the default 50 MP): the file is refused and named.
    @Test("a container cannot make FFmpeg allocate past the frame-size bound")
    func allocationBound() throws {
        let path = TestData.packageRoot.appendingPathComponent(
            "Fuzz/Regressions/FuzzVideo/oom-mp4-open-512mb.mp4").path
        let error = #expect(throws: ImageDecodingError.self) { try VideoReader(path: path) }
        #expect(error?.file == path && error?.reason.contains("out of memory") == true, "\(String(describing: error))")
    }
}
