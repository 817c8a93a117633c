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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw VideoSetupError(description: "\(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): "
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
