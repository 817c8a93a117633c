import CTurboJPEG
import FaceFind
import Foundation

/// An encoded thumbnail and the validator clients cache it by.
struct Thumbnail: Sendable {
    var bytes: [UInt8]
    var contentType: String
    /// Changes whenever the picture would: content hash of the source, size, encoder version.
    var etag: String
}

extension Engine {
    /// A JPEG of the gallery image, longest side `size`, from a memory cache when possible; for a video, its
    /// frame at `millis` milliseconds (a search result's matched frame). The picture is plain (no boxes drawn):
    /// the page draws the matched face over it, so one cached thumbnail serves every search.
    /// (`millis` is part of the cache key as given: a photo ignores it.)
    func thumbnail(id: Int64, size: Int, millis: Int = 0) throws -> Thumbnail {
        if let cached = thumbnails.get(id: id, size: size, millis: millis) { return cached }
        guard let record = try store.image(id: id) else { throw APIError.notFound("no gallery image with id \(id)") }
        let (thumbnail, _) = try timed("thumbnail") { () throws -> Thumbnail in
            let image: RGBImage
            do {
                image = try galleryDecoder.decodeMedia(contentsOf: record.path, at: Double(millis) / 1000)
            } catch let error as ImageDecodingError {
                throw APIError.notFound("the photo of gallery image \(id) cannot be read: \(error.reason)")
            }
            let small = image.width <= size && image.height <= size ? image : image.resized(maxSide: size).image
            return Thumbnail(bytes: try JPEGEncoder.encode(small, quality: 85), contentType: "image/jpeg",
                             etag: "\"\(record.sha256.prefix(16))-\(size)-\(millis)-1\"")
        }
        thumbnails.put(thumbnail, id: id, size: size, millis: millis)
        return thumbnail
    }
}

/// Encodes RGB images as JPEG with libturbojpeg (already linked for decoding). JPEG rather than PNG because
/// photo thumbnails are 5-10 times smaller, and a result grid loads a dozen of them.
enum JPEGEncoder {
    static func encode(_ image: RGBImage, quality: Int32) throws -> [UInt8] {
        guard let handle = tjInitCompress() else {
            throw APIError(.internalServerError, code: "jpeg", "cannot start the JPEG encoder")
        }
        defer { tjDestroy(handle) }
        var output: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let status = image.pixels.withUnsafeBufferPointer { pixels in
            tjCompress2(handle, pixels.baseAddress, Int32(image.width), 0, Int32(image.height), Int32(TJPF_RGB.rawValue),
                        &output, &size, Int32(TJSAMP_420.rawValue), quality, 0)
        }
        defer { if let output { tjFree(output) } }
        guard status == 0, let output else {
            let message = tjGetErrorStr2(handle).map { String(cString: $0) } ?? "unknown error"
            throw APIError(.internalServerError, code: "jpeg", "JPEG encoding failed: \(message)")
        }
        return Array(UnsafeBufferPointer(start: output, count: Int(size)))
    }
}

/// Recently served thumbnails, least recently used dropped first, bounded in bytes.
final class ThumbnailCache: @unchecked Sendable {
    private struct Key: Hashable {
        var id: Int64
        var size: Int
        /// A video's frame time in milliseconds, as asked for (0 by default).
        var millis: Int
    }

    private let lock = NSLock()
    private let capacityBytes: Int
    private var entries: [Key: (thumbnail: Thumbnail, used: UInt64)] = [:]
    private var bytes = 0
    private var clock: UInt64 = 0

    init(capacityBytes: Int) { self.capacityBytes = capacityBytes }

    func get(id: Int64, size: Int, millis: Int) -> Thumbnail? {
        lock.withLock {
            let key = Key(id: id, size: size, millis: millis)
            guard let entry = entries[key] else { return nil }
            clock += 1
            entries[key] = (entry.thumbnail, clock)
            return entry.thumbnail
        }
    }

    func put(_ thumbnail: Thumbnail, id: Int64, size: Int, millis: Int) {
        lock.withLock {
            guard thumbnail.bytes.count <= capacityBytes else { return }
            let key = Key(id: id, size: size, millis: millis)
            if let old = entries[key] { bytes -= old.thumbnail.bytes.count }
            clock += 1
            entries[key] = (thumbnail, clock)
            bytes += thumbnail.bytes.count
            // Eviction scans all entries: O(n), but only when over capacity, and n is a few thousand at most.
            while bytes > capacityBytes, let oldest = entries.min(by: { $0.value.used < $1.value.used }) {
                bytes -= oldest.value.thumbnail.bytes.count
                entries[oldest.key] = nil
            }
        }
    }

    /// Forgets every size of one image (deleted, or its id reused).
    func remove(id: Int64) {
        lock.withLock {
            for key in entries.keys where key.id == id {
                bytes -= entries[key]?.thumbnail.bytes.count ?? 0
                entries[key] = nil
            }
        }
    }
}
