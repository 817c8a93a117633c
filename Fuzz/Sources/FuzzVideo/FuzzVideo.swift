// Fuzzes the video path (issue 25): FFmpeg's demuxers and decoders through `VideoReader` (container open with
// FaceFind's stream limit, stream choice, decode, the swscale conversions into RGB and grey thumbnails, the
// decoded-seconds and frame limits, seeking for a frame). FFmpeg opens files by path, so the input is written to
// a scratch file first. Limits are small so that each input costs milliseconds: 1 MP frames (FUZZ_VIDEO_MAX_PIXELS
// overrides it: scripts/video/memcheck.sh replays 1080x1920 clips), 10 s and 300 frames of decoding.
import FaceFind
import Foundation
import FuzzSupport

let maxPixels = ProcessInfo.processInfo.environment["FUZZ_VIDEO_MAX_PIXELS"].flatMap(Int.init) ?? 1_000_000
let limits = VideoReadLimits(maxSeconds: 10, maxFrames: 300)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzSupport.writeScratch("input", data, size)
    let reader: VideoReader
    do { reader = try VideoReader(path: path, maxPixels: maxPixels) } catch {
        precondition(error.file == path && !error.reason.isEmpty, "an open error names the file and the reason")
        return 0
    }
    let info = reader.info
    precondition(info.width > 0 && info.height > 0 && info.width * info.height <= maxPixels, "opened \(info)")
    precondition([0, 90, 180, 270].contains(info.rotation), "rotation \(info.rotation)")
    var last: VideoFrame?
    do {
        let summary = try reader.read(sampling: VideoSampling(interval: 0.5), limits: limits) { frame in
            let image = frame.image
            // A frame may change size mid-stream; whatever its size, the buffer is exactly width x height x 3.
            precondition(image.width > 0 && image.height > 0 && image.pixels.count == image.width * image.height * 3,
                         "frame \(image.width)x\(image.height) with \(image.pixels.count) bytes")
            precondition(image.width * image.height <= maxPixels, "a frame over the pixel limit was converted")
            precondition(frame.time >= 0 && frame.time.isFinite, "time \(frame.time)")
            last = frame
        }
        precondition(summary.packets <= limits.maxFrames!, "read \(summary.packets) packets past the frame limit")
        precondition(summary.sampledFrames <= summary.decodedFrames, "\(summary)")
        precondition(summary.length(header: info.duration) >= 0, "\(summary)")
    } catch let error as ImageDecodingError {
        precondition(error.file == path && !error.reason.isEmpty)
    } catch {
        preconditionFailure("unexpected error \(error)")
    }
    // Seeking: a frame at the last sampled time, and one past the end (the last frame, or an error).
    if let last {
        if let image = try? reader.frame(at: last.time, maxFrames: 300) {
            precondition(image.pixels.count == image.width * image.height * 3)
        }
        if let image = try? reader.frame(at: last.time + 1_000, maxFrames: 300) {
            precondition(image.pixels.count == image.width * image.height * 3)
        }
    }
    return 0
}

/// libFuzzer's driver, or (FUZZ_REPLAY builds) a replay of the files given as arguments.
@main
enum Main {
    static func main() { FuzzSupport.main(fuzz) }
}
