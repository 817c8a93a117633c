import FaceFind
import Foundation
import ServiceLifecycle

extension Engine {
    /// Smallest side accepted for a gallery photo, as `facefind index` does.
    static let minSide = 16

    /// Adds photos and videos to the gallery, all or none: every photo is decoded and every video opened, and each
    /// checked, before anything is written, so one bad file in a batch is reported (400, naming it) and nothing is
    /// added. Each file is saved in the uploads folder as `<label>/<first 16 hex of its sha256>-<name>` with the
    /// extension of its real format (a video's container, told by its first bytes),
    /// then indexed by the library's `IndexingPipeline` exactly as `facefind index` would index that folder
    /// (same detection, same batch embedding, one store transaction). A second upload of the same bytes and
    /// name replaces the first instead of duplicating it. When the gallery has persons, the new faces then join
    /// those close enough (`PeopleClustering.assignNewFaces(ofPaths:in:searcher:)`, as `facefind index` joins
    /// them); the others wait for the next `facefind people cluster`.
    func add(_ uploads: [ImageUpload], label: String?) throws -> AddedJSON {
        let folder = Self.sanitize(label ?? "", fallback: "unnamed")
        var files: [(path: String, bytes: [UInt8])] = []
        var videoSeconds = 0.0
        for upload in uploads {
            let ext: String
            let size: (width: Int, height: Int)
            if let video = Self.videoExtension(upload.bytes) {
                let info = try probeVideo(upload, extension: video)
                // The header's duration refuses an honest over-long upload before anything is written. What holds
                // is the decoded time (`videoLimits` below): a header can say 10 s over two hours, or nothing.
                videoSeconds += info.duration
                guard videoSeconds <= Double(configuration.maxVideoSeconds) else {
                    throw APIError.tooLarge("\(upload.name): the videos of this upload last "
                        + "\(Int(videoSeconds.rounded(.up))) s; the server takes at most "
                        + "\(configuration.maxVideoSeconds) s per upload (serve --max-video-seconds)")
                }
                size = (info.width, info.height)
                ext = video
            } else {
                let image = try decode(upload)
                let format = ImageDecoder.sniff(upload.bytes) ?? .jpeg
                size = (image.width, image.height)
                ext = format == .jpeg ? "jpg" : format.rawValue
            }
            guard size.width >= Self.minSide, size.height >= Self.minSide else {
                throw APIError.badRequest("\(upload.name) is too small (\(size.width)x\(size.height)); at least "
                                          + "\(Self.minSide)x\(Self.minSide) pixels are needed", code: "too_small")
            }
            let stem = Self.sanitize((upload.name as NSString).deletingPathExtension, fallback: "photo")
            files.append(("\(uploadsDirectory)/\(folder)/\(SHA256.hex(upload.bytes).prefix(16))-\(stem).\(ext)",
                          upload.bytes))
        }
        let paths = files.map(\.path)

        // Files first, then the store in one transaction: a crash in between leaves at most unreferenced
        // files, never a gallery entry without its photo.
        var created: [String] = []
        var options = IndexingOptions(workers: 1, batchSize: 16, commitEvery: max(1, files.count), minSide: Self.minSide)
        let stop = videoStop
        options.videoLimits = VideoReadLimits(budget: VideoTimeBudget(seconds: Double(configuration.maxVideoSeconds)),
                                              isCancelled: { stop.isSet })
        let indexer = IndexingPipeline(finder: pipeline.finder, embedder: pipeline.embedder, store: store,
                                       decoder: uploadDecoder, options: options)
        let report: IndexReport
        do {
            for file in files {
                let existed = FileManager.default.fileExists(atPath: file.path)
                _ = try timed("file_write") { try Self.writeAtomically(file.bytes, to: file.path) }
                if !existed { created.append(file.path) }
            }
            // `known: [:]`: index these files even if the same path was indexed before (a re-upload).
            report = try timed("detect_embed_store") {
                try index.modify(paths: paths) { try indexer.index(files: paths, known: [:]) }
            }.0
        } catch {
            for path in created { try? FileManager.default.removeItem(atPath: path) }
            throw error
        }
        func undo() {
            try? index.modify(paths: paths) { try store.remove(paths: paths) }
            for path in created { try? FileManager.default.removeItem(atPath: path) }
        }
        let names = Dictionary(zip(paths, uploads.map(\.name)), uniquingKeysWith: { a, _ in a })
        if !report.failed.isEmpty {
            undo()
            try Self.refuseVideo(report.failed, names: names, stopping: videoStop.isSet,
                                 maxSeconds: configuration.maxVideoSeconds)
            // Photos were decoded above, so this is an inference failure: the whole request is undone.
            let reasons = report.failed.map { "\(URL(fileURLWithPath: $0.path).lastPathComponent): \($0.reason)" }
            throw APIError(.internalServerError, code: "indexing_failed",
                           "could not index: " + reasons.joined(separator: "; "))
        }
        // A video where no sampled frame shows a face has no face to stand in for it (a photo has itself): it
        // would be a gallery entry that no search can find.
        let indexed = try store.loadFaceMatrix(paths: paths).images
        if let faceless = paths.first(where: { path in isVideoPath(path) && !indexed.contains { $0.path == path } }) {
            undo()
            throw APIError.badRequest("\(names[faceless] ?? faceless): no face was found in any sampled frame of the "
                                      + "video; nothing of this upload was added", code: "no_faces")
        }
        updateGalleryGauges()
        // The photos are in the gallery now; a failure to join persons (they can be clustered later) must not
        // undo the upload, so it is logged, not thrown.
        var joined = 0
        do {
            joined = try timed("people_join") {
                try PeopleClustering.assignNewFaces(ofPaths: paths, in: store, searcher: try index.searcher())
            }.0
        } catch {
            logger.error("the uploaded faces could not join persons: \(error)")
        }

        // Every indexed image has at least one face (the whole image standing in when none is found), so the
        // faces of these paths give their new ids.
        let ids = Dictionary(indexed.map { ($0.path, $0.id) },
                             uniquingKeysWith: { a, _ in a })
        var seen = Set<Int64>()
        let added = try paths.compactMap { path -> ImageJSON? in
            guard let id = ids[path], seen.insert(id).inserted, let record = try store.image(id: id) else { return nil }
            thumbnails.remove(id: id)  // an id can be reused after a delete
            return json(record)
        }
        return AddedJSON(added: added, joinedPersons: joined)
    }

    /// Removes an image from the gallery; its file too when it is an upload (files elsewhere belong to the
    /// user's photo collection and are never touched). The upload's file goes first: when it cannot be removed
    /// the answer is 500 naming the reason and the entry stays, so the gallery never silently keeps a photo
    /// that the client was told is gone, and the delete can be retried.
    func delete(id: Int64) throws {
        guard let record = try store.image(id: id) else {
            throw APIError.notFound("no gallery image with id \(id)")
        }
        if URL(fileURLWithPath: record.path).standardizedFileURL.path.hasPrefix(uploadsDirectory + "/"),
           unlink(record.path) != 0, errno != ENOENT {
            let reason = String(cString: strerror(errno))
            logger.error("cannot delete the uploaded file of gallery image \(id) (\(record.path)): \(reason)")
            throw APIError(.internalServerError, code: "file_not_removed",
                           "the photo file of gallery image \(id) cannot be removed (\(reason)); the image stays "
                           + "in the gallery")
        }
        let removed = try timed("store_write") { try index.modify(ids: [id]) { try store.remove(ids: [id]) } }.0
        guard removed > 0 else { throw APIError.notFound("no gallery image with id \(id)") }
        thumbnails.remove(id: id)
        updateGalleryGauges()
    }

    func page(offset: Int, limit: Int) throws -> GalleryPageJSON {
        let records = try store.images(offset: offset, limit: limit)
        let counts = try store.counts()
        let total = counts.images + counts.failed
        return GalleryPageJSON(images: records.map { json($0) }, offset: offset, limit: limit, total: total,
                               nextOffset: offset + records.count < total ? offset + records.count : nil)
    }

    func image(id: Int64) throws -> ImageJSON {
        guard let record = try store.image(id: id) else { throw APIError.notFound("no gallery image with id \(id)") }
        return json(record, faces: try store.faces(ofImage: id))
    }

    /// The extension a video upload is saved with, told by its container's first bytes (ISO media: MP4 or
    /// QuickTime; Matroska or WebM; AVI), nil for anything else (a photo, or not a video FaceFind reads). HEIC and
    /// AVIF photos are ISO media too: a format the image decoder knows by its brands is a photo.
    static func videoExtension(_ bytes: [UInt8]) -> String? {
        guard ImageDecoder.sniff(bytes) == nil else { return nil }
        func text(_ range: Range<Int>) -> String? {
            bytes.count >= range.upperBound ? String(decoding: bytes[range], as: UTF8.self) : nil
        }
        if text(4..<8) == "ftyp" { return text(8..<12) == "qt  " ? "mov" : "mp4" }
        if bytes.starts(with: [0x1A, 0x45, 0xDF, 0xA3]) {
            // The EBML header names its document type near the start: "webm" or "matroska".
            return String(decoding: bytes.prefix(64), as: UTF8.self).contains("webm") ? "webm" : "mkv"
        }
        if text(0..<4) == "RIFF", text(8..<12) == "AVI " { return "avi" }
        return nil
    }

    /// Throws the answer for failed video uploads, if one failed (else returns): 503 when the server is shutting
    /// down (a video's decoding stops at once then), 413 past the decoded-time limit, 400 naming the file for a
    /// video with no decodable frame.
    static func refuseVideo(_ failed: [IndexReport.Failure], names: [String: String], stopping: Bool,
                            maxSeconds: Int) throws {
        guard let video = failed.first(where: { isVideoPath($0.path) }) else { return }
        if stopping { throw APIError.shuttingDown() }
        let name = names[video.path] ?? URL(fileURLWithPath: video.path).lastPathComponent
        if VideoReadLimits.isExceeded(video.reason) {
            throw APIError.tooLarge("\(name): \(video.reason); the server takes at most \(maxSeconds) s of video per "
                                    + "upload (serve --max-video-seconds)")
        }
        throw APIError.notAnImage(video.reason, name: name)
    }

    /// A video upload opened as the indexer will open it (container, video stream, pixel limit), from a temporary
    /// file that is removed after; its size and duration, or 400/413 naming it.
    private func probeVideo(_ upload: ImageUpload, extension ext: String) throws -> VideoInfo {
        try FileManager.default.createDirectory(atPath: uploadsDirectory, withIntermediateDirectories: true)
        let probe = "\(uploadsDirectory)/.probe-\(UUID().uuidString).\(ext)"
        defer { try? FileManager.default.removeItem(atPath: probe) }
        try Data(upload.bytes).write(to: URL(fileURLWithPath: probe))
        do {
            let reader = try timed("decode") { try VideoReader(path: probe, maxPixels: uploadDecoder.maxPixels) }.0
            return reader.info
        } catch let error as ImageDecodingError {
            throw APIError.from(error, name: upload.name)
        }
    }

    /// A name made safe as one path component: no separators, control characters or leading dots, at most
    /// 100 characters; `fallback` when nothing is left.
    static func sanitize(_ name: String, fallback: String) -> String {
        var cleaned = String(name.unicodeScalars.map { scalar -> Character in
            if scalar == "/" || scalar == "\\" || scalar.properties.generalCategory == .control { return "_" }
            return Character(scalar)
        })
        cleaned = cleaned.trimmingCharacters(in: .whitespacesAndNewlines)
        while cleaned.hasPrefix(".") { cleaned.removeFirst() }
        cleaned = String(cleaned.prefix(100)).trimmingCharacters(in: .whitespacesAndNewlines)
        return cleaned.isEmpty ? fallback : cleaned
    }

    /// Writes through a temporary file and a rename, so a reader never sees half a photo; returns the mtime.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws -> Double {
        let folder = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let temporary = "\(folder)/.upload-\(UUID().uuidString)"
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: temporary))
            // rename(2) replaces an existing file atomically.
            guard rename(temporary, path) == 0 else {
                throw APIError(.internalServerError, code: "storage",
                               "cannot save the upload: \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
    }
}

/// Set when the server starts shutting down: video decoding checks it per packet and stops, so that SIGTERM
/// never waits for a long video (issue 25: a 2-hour video held shutdown past 60 s).
final class ShutdownFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var set = false

    var isSet: Bool { lock.withLock { set } }

    func raise() { lock.withLock { set = true } }
}

/// The last service of the group, so the first told of a graceful shutdown: raises the flag, then ends.
struct VideoStopService: Service {
    let flag: ShutdownFlag

    func run() async throws {
        try? await gracefulShutdown()
        flag.raise()
    }
}
