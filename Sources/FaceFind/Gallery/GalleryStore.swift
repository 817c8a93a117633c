import Foundation

/// What produced the embeddings in a gallery. A store holds vectors of one setting only: opening it with
/// another is an error, never a silent mix of incomparable vectors.
public struct IndexSettings: Sendable, Hashable, Codable {
    public var detector: String
    public var detectorSHA256: String
    public var embedder: String
    public var embedderSHA256: String
    public var crop: String
    public var normalization: String
    public var dimension: Int
    public var maxSide: Int
    public var minSide: Int
    /// `Augmentation`'s raw value: "none", "flip" or "flip-concat".
    public var augmentation: String
    /// Faces narrower than this were not stored (except each photo's largest).
    public var minFaceSize: Int

    public init(detector: String, detectorSHA256: String, embedder: String, embedderSHA256: String,
                crop: String, normalization: String, dimension: Int, maxSide: Int, minSide: Int,
                augmentation: String = "none", minFaceSize: Int = 0) {
        self.detector = detector; self.detectorSHA256 = detectorSHA256
        self.embedder = embedder; self.embedderSHA256 = embedderSHA256
        self.crop = crop; self.normalization = normalization
        self.dimension = dimension; self.maxSide = maxSide; self.minSide = minSide
        self.augmentation = augmentation
        self.minFaceSize = minFaceSize
    }

    /// The settings as key-value rows, the one encoding that both stores write (snake_case keys, numbers in
    /// decimal), in a fixed order.
    public var fields: [(String, String)] {
        [("detector", detector), ("detector_sha256", detectorSHA256), ("embedder", embedder),
         ("embedder_sha256", embedderSHA256), ("crop", crop), ("normalization", normalization),
         ("dimension", String(dimension)), ("max_side", String(maxSide)), ("min_side", String(minSide)),
         ("augmentation", augmentation), ("min_face", String(minFaceSize))]
    }

    /// Codable's camelCase keys, which PostgreSQL stores wrote until 2026-11-30, and the key each became.
    static let legacyKeys = ["detectorSHA256": "detector_sha256", "embedderSHA256": "embedder_sha256",
                             "maxSide": "max_side", "minSide": "min_side", "minFaceSize": "min_face"]

    /// Settings from the rows `fields` writes, or from the camelCase rows of an older PostgreSQL store; nil when a
    /// required row is missing or not a number. Rows added after the first release (augmentation, minimum face)
    /// take the value that older indexes were built with.
    public init?(fields rows: [String: String]) {
        var fields = rows
        for (old, new) in Self.legacyKeys where fields[new] == nil { fields[new] = rows[old] }
        guard let d = fields["detector"], let ds = fields["detector_sha256"], let e = fields["embedder"],
              let es = fields["embedder_sha256"], let c = fields["crop"], let n = fields["normalization"],
              let dim = fields["dimension"].flatMap(Int.init), let m = fields["max_side"].flatMap(Int.init),
              let minSide = fields["min_side"].flatMap(Int.init)
        else { return nil }
        self.init(detector: d, detectorSHA256: ds, embedder: e, embedderSHA256: es, crop: c, normalization: n,
                  dimension: dim, maxSide: m, minSide: minSide, augmentation: fields["augmentation"] ?? "none",
                  minFaceSize: fields["min_face"].flatMap(Int.init) ?? 0)
    }

    /// Human-readable differences from `other`, empty when equal.
    public func differences(from other: IndexSettings) -> [String] {
        zip(fields, other.fields).compactMap { mine, theirs in
            mine.1 == theirs.1 ? nil : "\(mine.0): index has \(theirs.1), requested \(mine.1)"
        }
    }
}

public enum GalleryError: Error, CustomStringConvertible {
    case settingsMismatch(store: String, differences: [String])
    case storage(store: String, message: String)
    case notFound(String)
    /// A file or folder that exists but cannot be read.
    case unreadable(path: String, reason: String)
    /// A database file that is not a FaceFind index (or of a newer FaceFind): refused without writing to it.
    case notAnIndex(path: String, reason: String)

    public var description: String {
        switch self {
        case .settingsMismatch(let store, let differences):
            return "\(store) was built with other settings (\(differences.joined(separator: "; "))). "
                + "Use another --db, or the settings it was built with."
        case .storage(let store, let message):
            return "\(store): \(message)"
        case .notFound(let what):
            return "not found: \(what)"
        case .unreadable(let path, let reason):
            return "\(path): \(reason)"
        case .notAnIndex(let path, let reason):
            return "\(path) is not a FaceFind index: \(reason)"
        }
    }
}

/// One face of a gallery image with its embedding.
public struct StoredFace: Sendable, Equatable {
    public var face: DetectedFace
    public var embedding: Embedding

    public init(face: DetectedFace, embedding: Embedding) { self.face = face; self.embedding = embedding }
}

/// An image's size and its faces.
public struct StoredImage: Sendable {
    public var width: Int
    public var height: Int
    public var faces: [StoredFace]
}

/// The identity of a file's content as last indexed, for incremental re-indexing.
public struct FileState: Sendable, Equatable {
    public var sha256: String
    public var bytes: Int
    public var modified: Double

    public init(sha256: String, bytes: Int, modified: Double) {
        self.sha256 = sha256; self.bytes = bytes; self.modified = modified
    }
}

/// The outcome of indexing one file: its faces, or why it could not be read.
public struct IndexedImage: Sendable {
    public var path: String
    public var state: FileState
    public var width: Int
    public var height: Int
    public var faces: [StoredFace]
    /// Set when the file could not be indexed; then `faces` is empty.
    public var error: String?

    public init(path: String, state: FileState, width: Int = 0, height: Int = 0, faces: [StoredFace] = [],
                error: String? = nil) {
        self.path = path; self.state = state; self.width = width; self.height = height
        self.faces = faces; self.error = error
    }
}

/// A row of the gallery's image list.
public struct ImageRecord: Sendable, Equatable, Codable {
    public var id: Int64
    public var path: String
    public var sha256: String
    public var bytes: Int
    public var width: Int
    public var height: Int
    public var faceCount: Int
    /// Nil when indexed; the reason otherwise.
    public var error: String?

    public init(id: Int64, path: String, sha256: String, bytes: Int, width: Int, height: Int, faceCount: Int,
                error: String?) {
        self.id = id; self.path = path; self.sha256 = sha256; self.bytes = bytes
        self.width = width; self.height = height; self.faceCount = faceCount; self.error = error
    }
}

/// Where gallery images, faces and embeddings live. Writes are atomic per call: after a crash the store holds
/// exactly the images of the calls that returned.
public protocol GalleryStore: Sendable {
    /// A name for messages (file path or URL without password).
    var name: String { get }
    /// The settings recorded in the store, nil for an empty store.
    func settings() throws -> IndexSettings?
    /// Records `settings` in an empty store, or checks they equal the recorded ones.
    func bind(_ settings: IndexSettings) throws
    /// Path → content state of every image (indexed or failed).
    func fileStates() throws -> [String: FileState]
    /// Inserts or replaces these images with their faces, in one transaction.
    func write(_ images: [IndexedImage]) throws
    /// Updates the modification time of unchanged files, so the next run skips them without hashing.
    func touch(_ states: [String: FileState]) throws
    func remove(paths: [String]) throws
    /// Marks the images in `reasons` (path → why it could not be read) as unavailable, keeping them and their
    /// faces, and clears the mark from every other image under `folder` (an indexing run saw those).
    func setUnavailable(_ reasons: [String: String], under folder: String) throws
    /// Images marked unavailable by the last indexing run that covered them: path → reason.
    func unavailableImages() throws -> [String: String]
    func images(offset: Int, limit: Int) throws -> [ImageRecord]
    /// One image by id, nil when there is none.
    func image(id: Int64) throws -> ImageRecord?
    /// The faces of one image, in detection order.
    func faces(ofImage id: Int64) throws -> [DetectedFace]
    /// Removes images (and their faces) by id; returns how many existed.
    @discardableResult
    func remove(ids: [Int64]) throws -> Int
    func failedImages() throws -> [ImageRecord]
    func counts() throws -> (images: Int, faces: Int, failed: Int)
    /// Every face embedding, for exact search.
    func loadFaceMatrix() throws -> FaceMatrix
    /// The face embeddings of the images at `paths` (those indexed; any other path is left out): what a search
    /// held in memory needs after a change to those images, instead of loading the whole gallery again.
    func loadFaceMatrix(paths: [String]) throws -> FaceMatrix
    /// The first and the last path, in byte order, of the images (indexed or failed) whose path does not start
    /// with `prefix`; nil when there are none. Their common folder holds all of those images.
    func pathBounds(excludingPrefix prefix: String) throws -> (first: String, last: String)?
}
