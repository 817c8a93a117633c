import CFFmpeg
import Foundation

// Video files through FFmpeg's libraries (libavformat for every container, libavcodec for every codec they decode,
// libswscale for the conversion to RGB). One `VideoReader` reads one file on the calling thread with one decoder
// thread: the indexing pipeline already runs one file per core, so a video is parallel with the photos and other
// videos beside it, and memory stays at one decoded frame per worker.

/// The file extensions of the videos that indexing picks up (content is then checked by FFmpeg, not by name).
public let videoFileExtensions: Set<String> = [
    "mp4", "m4v", "mov", "qt", "mkv", "webm", "avi", "3gp", "3g2", "mts", "m2ts", "ts", "mpg", "mpeg", "wmv", "flv",
    "ogv",
]

/// Whether `path` names a video by its extension.
public func isVideoPath(_ path: String) -> Bool {
    guard let dot = path.lastIndex(of: "."), !path[path.index(after: dot)...].contains("/") else { return false }
    return videoFileExtensions.contains(path[path.index(after: dot)...].lowercased())
}

/// FFmpeg logs every damaged packet to standard error; FaceFind reports problems itself (per file, with the
/// reason), so FFmpeg is silenced once for the process.
private let ffmpegQuiet: Void = av_log_set_level(AV_LOG_QUIET)

/// The largest single allocation FFmpeg's libraries may make (`av_max_alloc`, INT_MAX by default). Demuxers
/// allocate tables by the sizes a file declares: a 1.7 KB MP4 (a FuzzVideo seed with one bit changed) made
/// libavformat ask for 512 MB while opening it. A frame plane of `maxPixels` at 16 bits a sample is
/// `2 x maxPixels` bytes, and the largest real table a few MB (two hours at 60 fps: 1.7 MB), so `4 x maxPixels`
/// (200 MB at the default 50 MP), at least 64 MB, refuses such files as out of memory and lets every real one
/// through. Process-wide, so it is only ever raised: the largest `maxPixels` of any reader wins.
private final class FFmpegAllocationLimit: @unchecked Sendable {
    static let shared = FFmpegAllocationLimit()
    private let lock = NSLock()
    private var bytes = 0

    func allow(maxPixels: Int) {
        let wanted = max(64 << 20, min(maxPixels, Int(Int32.max) / 4) * 4)
        lock.withLock {
            guard wanted > bytes else { return }
            bytes = wanted
            av_max_alloc(wanted)
        }
    }
}

/// Which frames of a video are looked at for faces.
public struct VideoSampling: Sendable, Equatable, Codable {
    /// Seconds between sampled frames. One per second finds everyone who is on screen for a second or more at a
    /// thirtieth of the decoding's cost for detection and embedding.
    public var interval: Double
    /// Also sample the first frame after a cut, so that a shot shorter than `interval` is seen and a track never
    /// spans two shots.
    public var sceneChanges: Bool
    /// Mean absolute difference (0-255) between 32x18 grey thumbnails of two frames an eighth of a second apart
    /// above which the second starts a new shot. Pans and zooms of the test clips stay below 12 at that spacing;
    /// a cut between two different photos is above 40.
    public var cutThreshold: Double

    public init(interval: Double = 1, sceneChanges: Bool = true, cutThreshold: Double = 25) {
        self.interval = interval; self.sceneChanges = sceneChanges; self.cutThreshold = cutThreshold
    }
}

/// A sampled frame, upright.
public struct VideoFrame: Sendable {
    public var image: RGBImage
    /// Seconds from the start of the video.
    public var time: Double
    /// True for the first frame and for the first frame of each shot (after a cut).
    public var startsShot: Bool
}

/// What a `VideoReader` found in a file.
public struct VideoInfo: Sendable, Equatable, Codable {
    /// Frame size as shown, after the rotation.
    public var width: Int
    public var height: Int
    /// Seconds; 0 when the container does not say.
    public var duration: Double
    /// FFmpeg's name of the codec ("h264", "hevc", "vp9"...).
    public var codec: String
    /// Clockwise degrees applied to the decoded frames (the display matrix a phone records).
    public var rotation: Int
}

/// Counts of one pass over a video.
public struct VideoReadSummary: Sendable, Equatable {
    public var decodedFrames = 0
    public var sampledFrames = 0
    /// Packets or frames the decoder rejected; the frames around them were still read.
    public var damagedPackets = 0
    /// Set when reading stopped before the end of the file (a read error other than a damaged packet).
    public var stoppedEarly: String?
    /// The time of the last decoded frame.
    public var lastTime: Double = 0
    /// Where the video read ends: the latest packet's or frame's time plus its duration (the decoded length).
    public var decodedEnd: Double = 0
    /// Packets of the video stream read (a frame each; counted whether or not the frame is decoded).
    public var packets = 0

    /// The video's length: the header's duration where the decoded frames agree with it (it may round up to
    /// the end of the last frame, or past a frame the decoder skipped: up to one second more than decoded), else
    /// the decoded end. A header that claims 1e12 s, or 10 s for two hours, is not reported (issue 25).
    public func length(header: Double) -> Double {
        header > 0 && header <= decodedEnd + 1 ? max(header, decodedEnd) : decodedEnd
    }
}

/// Bounds on one pass over a video (`VideoReader.read`), applied to what is read and decoded, never to what the
/// container says of itself: a Matroska Duration element can say 10 s over two hours of frames.
public struct VideoReadLimits: Sendable {
    /// Seconds of media time: a video-stream packet at or after this time ends the pass with an error. nil: none.
    public var maxSeconds: Double?
    /// Packets (frames) of the video stream; nil: `framesPerSecond` per second of `maxSeconds`, or none.
    public var maxFrames: Int?
    /// Shared by the videos of one request (the server's per-upload limit): each pass may use what is left,
    /// and uses up its decoded length.
    public var budget: VideoTimeBudget?
    /// Checked once per packet: true ends the pass at once with `CancellationError` (a server shutting down).
    public var isCancelled: (@Sendable () -> Bool)?

    /// The frame rate the frame bound allows for when only seconds are given: a phone's slow motion (240 fps).
    /// Timestamps can lie too (every frame at 0 s); this bounds the work of such a stream to what a real
    /// `maxSeconds` of video could cost.
    public static let framesPerSecond = 240.0

    public init(maxSeconds: Double? = nil, maxFrames: Int? = nil, budget: VideoTimeBudget? = nil,
                isCancelled: (@Sendable () -> Bool)? = nil) {
        self.maxSeconds = maxSeconds; self.maxFrames = maxFrames; self.budget = budget; self.isCancelled = isCancelled
    }

    /// The seconds one pass may read now: the smaller of `maxSeconds` and what is left of the budget.
    var effectiveSeconds: Double? {
        switch (maxSeconds, budget?.remaining) {
        case let (a?, b?): return min(a, b)
        case let (a, b): return a ?? b
        }
    }

    var effectiveFrames: Int? {
        if let maxFrames { return maxFrames }
        return effectiveSeconds.map { Int(($0 * Self.framesPerSecond).rounded(.up)) + 1 }
    }

    /// Whether an error's reason is one of these limits (the server answers 413 for them, as for pixels).
    public static func isExceeded(_ reason: String) -> Bool {
        reason.hasPrefix("the video runs past ") || reason.hasPrefix("the video has more than ")
    }
}

/// Seconds of video left to the passes that share it (one upload's videos), used up by their decoded lengths.
public final class VideoTimeBudget: @unchecked Sendable {
    private let lock = NSLock()
    private var left: Double
    public let total: Double

    public init(seconds: Double) { total = seconds; left = seconds }

    public var remaining: Double { lock.withLock { max(0, left) } }

    func use(_ seconds: Double) { lock.withLock { left -= seconds } }
}

/// Reads the frames of one video file. Not thread-safe: one reader per thread.
public final class VideoReader {
    public let path: String
    public let info: VideoInfo
    private let maxPixels: Int
    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var codec: UnsafeMutablePointer<AVCodecContext>?
    private let streamIndex: Int32
    private let timeBase: Double
    /// Seconds a frame lasts at the stream's average frame rate, 0 when unknown (for the decoded length when
    /// packets carry no duration).
    private let frameDuration: Double
    private let startTimestamp: Int64
    private var rgbScaler: OpaquePointer?
    private var greyScaler: OpaquePointer?
    /// The container's stream limit (see FACEFIND_MAX_STREAMS in shim.h: about 1 MB of memory per stream).
    public static let maxStreams = Int32(FACEFIND_MAX_STREAMS)

    /// Opens `path` and its best video stream. Throws an `ImageDecodingError` naming the file and the reason:
    /// empty, not a container FFmpeg knows, no video stream, no decoder for the codec, larger than `maxPixels`.
    public init(path: String, maxPixels: Int = 50_000_000) throws(ImageDecodingError) {
        _ = ffmpegQuiet
        FFmpegAllocationLimit.shared.allow(maxPixels: maxPixels)
        self.path = path
        self.maxPixels = maxPixels
        func failure(_ reason: String) -> ImageDecodingError { ImageDecodingError(file: path, reason: reason) }

        let (bytes, _) = FileState.sizeAndModificationTime(of: path)
        if bytes == 0 && FileManager.default.isReadableFile(atPath: path) { throw failure("empty file (0 bytes)") }
        var context: UnsafeMutablePointer<AVFormatContext>?
        var status = facefind_open_input(&context, path, Self.maxStreams)
        guard status >= 0, let context else {
            if status == facefind_averror_enomem() {
                throw failure("not a video FaceFind reads (more than \(Self.maxStreams) streams, or out of memory "
                              + "opening the container)")
            }
            throw failure("not a video FFmpeg can read (\(Self.message(status)))")
        }
        format = context
        // Choose the stream before probing when the header names it (Matroska, MP4, AVI), and discard the others:
        // the probe then decodes nothing of them and reading drops their packets. Containers that declare
        // streams only as their packets come (MPEG-TS) are chosen after the probe.
        var index = av_find_best_stream(context, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
        if index >= 0 { facefind_discard_other_streams(context, index) }
        status = avformat_find_stream_info(context, nil)
        guard status >= 0 else {
            avformat_close_input(&format)
            throw failure("cannot read the streams of the video (\(Self.message(status)))")
        }
        if index < 0 {
            index = av_find_best_stream(context, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
            if index >= 0 { facefind_discard_other_streams(context, index) }
        }
        guard index >= 0, let stream = context.pointee.streams[Int(index)], let parameters = stream.pointee.codecpar else {
            avformat_close_input(&format)
            throw failure("no video stream in the file (audio only, or not a video)")
        }
        streamIndex = index
        let codecName = String(cString: avcodec_get_name(parameters.pointee.codec_id))
        let width = Int(parameters.pointee.width), height = Int(parameters.pointee.height)
        guard width > 0, height > 0 else {
            avformat_close_input(&format)
            throw failure("the video stream has no frame size (\(codecName))")
        }
        guard width * height <= maxPixels else {
            avformat_close_input(&format)
            let mp = { (n: Int) in String(format: "%.1f", Double(n) / 1e6) }
            throw failure("\(width)x\(height) \(codecName) frames = \(mp(width * height)) MP exceed the limit of \(mp(maxPixels)) MP")
        }
        guard let decoder = avcodec_find_decoder(parameters.pointee.codec_id) else {
            avformat_close_input(&format)
            throw failure("no decoder for \(codecName) in this FFmpeg (Debian: the package libavcodec59 decodes it)")
        }
        guard let codecContext = avcodec_alloc_context3(decoder) else {
            avformat_close_input(&format)
            throw failure("out of memory creating a decoder")
        }
        codec = codecContext
        avcodec_parameters_to_context(codecContext, parameters)
        codecContext.pointee.pkt_timebase = stream.pointee.time_base
        // One decoding thread: the pipeline's workers are the parallelism (one file per core).
        codecContext.pointee.thread_count = 1
        // The size checked above is the container's; the coded stream can switch to another mid-way (a new H.264
        // sequence parameter set). The decoder refuses frames over the limit before allocating them.
        codecContext.pointee.max_pixels = Int64(maxPixels)
        status = avcodec_open2(codecContext, decoder, nil)
        guard status >= 0 else {
            avcodec_free_context(&codec)
            avformat_close_input(&format)
            throw failure("cannot open the \(codecName) decoder (\(Self.message(status)))")
        }
        timeBase = av_q2d(stream.pointee.time_base)
        let rate = av_q2d(stream.pointee.avg_frame_rate)
        frameDuration = rate > 0 && rate.isFinite ? 1 / rate : 0
        startTimestamp = stream.pointee.start_time == facefind_nopts_value() ? 0 : stream.pointee.start_time
        let rotation = Int(facefind_stream_rotation(stream))
        let duration: Double
        if stream.pointee.duration != facefind_nopts_value() && stream.pointee.duration > 0 {
            duration = Double(stream.pointee.duration) * timeBase
        } else if context.pointee.duration > 0 {
            duration = Double(context.pointee.duration) / Double(AV_TIME_BASE)
        } else {
            duration = 0
        }
        let turned = rotation == 90 || rotation == 270
        info = VideoInfo(width: turned ? height : width, height: turned ? width : height, duration: duration,
                         codec: codecName, rotation: rotation)
    }

    deinit {
        sws_freeContext(rgbScaler)
        sws_freeContext(greyScaler)
        avcodec_free_context(&codec)
        avformat_close_input(&format)
    }

    /// FFmpeg's text for an error code.
    static func message(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        facefind_error_string(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Decodes the whole video once and calls `body` with the sampled frames, in order: one every
    /// `sampling.interval` seconds and, with `sampling.sceneChanges`, the first frame of each shot. Damaged
    /// packets are skipped and counted (the frames before and after them still come); a read error ends the pass
    /// early with the reason in the summary. Frames that no later frame depends on are not decoded at all (about
    /// a third of an H.264 stream's frames; the sampled times move by at most a frame).
    ///
    /// `limits` hold on what is read: a packet at or past `maxSeconds` of media time, or one packet more than
    /// `maxFrames`, ends the pass with an `ImageDecodingError` ("the video runs past ..."), whatever the header
    /// says; `isCancelled` is asked once per packet and ends it with `CancellationError`.
    public func read(sampling: VideoSampling = VideoSampling(), limits: VideoReadLimits = VideoReadLimits(),
                     _ body: (VideoFrame) throws -> Void) throws -> VideoReadSummary {
        guard let format, let codec else { return VideoReadSummary() }
        codec.pointee.skip_frame = AVDISCARD_NONREF
        defer { codec.pointee.skip_frame = AVDISCARD_DEFAULT }
        var summary = VideoReadSummary()
        defer { limits.budget?.use(summary.decodedEnd) }
        let maxSeconds = limits.effectiveSeconds
        let maxFrames = limits.effectiveFrames
        var nextSample = 0.0
        var nextCheck = 0.0
        var previousThumbnail: [UInt8]?
        let checkSpacing = 0.125

        func handle(_ frame: UnsafeMutablePointer<AVFrame>) throws {
            summary.decodedFrames += 1
            let time = self.time(of: frame)
            summary.lastTime = time
            let duration = facefind_frame_duration(frame) > 0 ? Double(facefind_frame_duration(frame)) * timeBase : frameDuration
            summary.decodedEnd = max(summary.decodedEnd, time + duration)
            guard Int(frame.pointee.width) * Int(frame.pointee.height) <= maxPixels else { return }
            let due = summary.sampledFrames == 0 || time >= nextSample
            var cut = false
            // Checked every eighth of a second, and on every frame about to be sampled (a cut on that very frame
            // must mark it as the new shot's first).
            if sampling.sceneChanges && (time >= nextCheck || due) {
                nextCheck = time + checkSpacing
                let current = greyThumbnail(frame)
                if let previous = previousThumbnail, let current {
                    cut = Self.meanAbsoluteDifference(previous, current) > sampling.cutThreshold
                }
                previousThumbnail = current
            }
            guard due || cut, let image = rgbImage(frame) else { return }
            let first = summary.sampledFrames == 0
            summary.sampledFrames += 1
            nextSample = time + sampling.interval
            try body(VideoFrame(image: image, time: time, startsShot: first || cut))
        }

        /// Counts the packet; throws when it takes the pass past a limit.
        func check(_ packet: UnsafeMutablePointer<AVPacket>) throws {
            summary.packets += 1
            if let maxFrames, summary.packets > maxFrames {
                throw ImageDecodingError(file: path, reason: "the video has more than \(maxFrames) frames, the most read "
                    + "for \(Self.seconds(maxSeconds ?? 0)) s of video (its header says \(Self.seconds(info.duration)) s)")
            }
            var timestamp = packet.pointee.pts
            if timestamp == facefind_nopts_value() { timestamp = packet.pointee.dts }
            guard timestamp != facefind_nopts_value() else { return }
            let time = Double(timestamp - startTimestamp) * timeBase
            let duration = packet.pointee.duration > 0 ? Double(packet.pointee.duration) * timeBase : frameDuration
            summary.decodedEnd = max(summary.decodedEnd, time + duration)
            if let maxSeconds, time >= maxSeconds {
                throw ImageDecodingError(file: path, reason: "the video runs past \(Self.seconds(maxSeconds)) s, the "
                    + "limit, although its header says \(Self.seconds(info.duration)) s (a frame at \(Self.seconds(time)) s)")
            }
        }

        var packet = av_packet_alloc()
        var frame = av_frame_alloc()
        defer { av_packet_free(&packet); av_frame_free(&frame) }
        guard let packet, let frame else { return summary }
        var draining = false
        while !draining {
            if let isCancelled = limits.isCancelled, isCancelled() { throw CancellationError() }
            let status = av_read_frame(format, packet)
            if status < 0 {
                if status != facefind_averror_eof() { summary.stoppedEarly = Self.message(status) }
                draining = true
                avcodec_send_packet(codec, nil)
            } else {
                defer { av_packet_unref(packet) }
                guard packet.pointee.stream_index == streamIndex else { continue }
                try check(packet)
                let sent = avcodec_send_packet(codec, packet)
                if sent < 0 && sent != facefind_averror_eagain() { summary.damagedPackets += 1; continue }
            }
            while true {
                let received = avcodec_receive_frame(codec, frame)
                if received == facefind_averror_eagain() || received == facefind_averror_eof() { break }
                if received < 0 { summary.damagedPackets += 1; break }
                defer { av_frame_unref(frame) }
                try handle(frame)
            }
        }
        return summary
    }

    /// Seconds for messages: whole seconds as "300", others to a tenth ("9.5").
    static func seconds(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.1f", value)
    }

    /// The upright frame at `time` seconds (the first frame at or after it; the last frame when `time` is past
    /// the end), for thumbnails and montages of a search result. At most `maxFrames` packets are read a pass.
    public func frame(at time: Double, maxFrames: Int = 1_000_000) throws(ImageDecodingError) -> RGBImage {
        guard let format, let codec else { throw ImageDecodingError(file: path, reason: "the video is closed") }
        let target = startTimestamp + Int64((max(0, min(time, 1e9)) / timeBase).rounded(.down))
        var packet = av_packet_alloc()
        var frame = av_frame_alloc()
        // The latest frame decoded, kept for a time past the end.
        var latest = av_frame_alloc()
        defer { av_packet_free(&packet); av_frame_free(&frame); av_frame_free(&latest) }
        guard let packet, let frame, let latest else { throw ImageDecodingError(file: path, reason: "out of memory") }
        // A seek past the last key frame lands on it (AVSEEK_FLAG_BACKWARD), or fails, or leaves nothing to read
        // for some demuxers; a second pass then reads from the start, keeping the last frame.
        for start in [target, startTimestamp] {
            if av_seek_frame(format, streamIndex, start, AVSEEK_FLAG_BACKWARD) >= 0 { avcodec_flush_buffers(codec) }
            var draining = false
            var packets = 0
            while !draining {
                if packets >= maxFrames || av_read_frame(format, packet) < 0 {
                    draining = true
                    avcodec_send_packet(codec, nil)
                } else {
                    defer { av_packet_unref(packet) }
                    guard packet.pointee.stream_index == streamIndex else { continue }
                    packets += 1
                    _ = avcodec_send_packet(codec, packet)
                }
                while avcodec_receive_frame(codec, frame) == 0 {
                    defer { av_frame_unref(frame) }
                    // Half a frame of slack: a frame's time rounds to the time base.
                    if self.time(of: frame) + 0.02 >= time, let image = rgbImage(frame) { return image }
                    av_frame_unref(latest)
                    av_frame_move_ref(latest, frame)
                }
            }
            if latest.pointee.width > 0, let image = rgbImage(latest) { return image }
        }
        throw ImageDecodingError(file: path, reason: "no frame could be decoded at \(String(format: "%.2f", time)) s")
    }

    /// Seconds from the stream's start of a decoded frame.
    private func time(of frame: UnsafeMutablePointer<AVFrame>) -> Double {
        var timestamp = frame.pointee.best_effort_timestamp
        if timestamp == facefind_nopts_value() { timestamp = frame.pointee.pts }
        if timestamp == facefind_nopts_value() { return 0 }
        return max(0, Double(timestamp - startTimestamp) * timeBase)
    }

    /// The frame as upright 8-bit RGB.
    private func rgbImage(_ frame: UnsafeMutablePointer<AVFrame>) -> RGBImage? {
        let width = Int(frame.pointee.width), height = Int(frame.pointee.height)
        guard width > 0, height > 0,
              let scaler = scaler(&rgbScaler, frame, width: width, height: height, to: AV_PIX_FMT_RGB24, flags: SWS_BILINEAR)
        else { return nil }
        // The scaler writes into a padded buffer and the rows are copied here (shim.h: swscale overran a packed
        // buffer by 8 bytes at some widths).
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let rows = pixels.withUnsafeMutableBufferPointer {
            facefind_scale_frame(scaler, frame, $0.baseAddress, Int32(width), Int32(height), 3)
        }
        guard rows == Int32(height) else { return nil }
        let image = RGBImage(width: width, height: height, pixels: pixels)
        // EXIF orientations 6, 3 and 8 are the clockwise turns by 90, 180 and 270 degrees.
        switch info.rotation {
        case 90: return image.applyingEXIFOrientation(6)
        case 180: return image.applyingEXIFOrientation(3)
        case 270: return image.applyingEXIFOrientation(8)
        default: return image
        }
    }

    static let thumbnailWidth = 32, thumbnailHeight = 18

    /// A 32x18 grey copy of the frame (area-averaged), for telling cuts from motion.
    private func greyThumbnail(_ frame: UnsafeMutablePointer<AVFrame>) -> [UInt8]? {
        let (w, h) = (Self.thumbnailWidth, Self.thumbnailHeight)
        guard let scaler = scaler(&greyScaler, frame, width: w, height: h, to: AV_PIX_FMT_GRAY8, flags: SWS_AREA) else {
            return nil
        }
        var pixels = [UInt8](repeating: 0, count: w * h)
        let rows = pixels.withUnsafeMutableBufferPointer {
            facefind_scale_frame(scaler, frame, $0.baseAddress, Int32(w), Int32(h), 1)
        }
        return rows == Int32(h) ? pixels : nil
    }

    private func scaler(_ cached: inout OpaquePointer?, _ frame: UnsafeMutablePointer<AVFrame>, width: Int, height: Int,
                        to output: AVPixelFormat, flags: Int32) -> OpaquePointer? {
        cached = sws_getCachedContext(cached, frame.pointee.width, frame.pointee.height,
                                      AVPixelFormat(rawValue: frame.pointee.format), Int32(width), Int32(height),
                                      output, flags, nil, nil, nil)
        return cached
    }

    /// The mean absolute difference of two equally long grey images.
    static func meanAbsoluteDifference(_ a: [UInt8], _ b: [UInt8]) -> Double {
        guard a.count == b.count, !a.isEmpty else { return 0 }
        var total = 0
        for i in a.indices { total += abs(Int(a[i]) - Int(b[i])) }
        return Double(total) / Double(a.count)
    }
}
