import FaceFind
import Foundation

// The JSON bodies of the API. Field names are the Swift names (camelCase); /openapi.yaml describes the
// same fields, and a test checks that the two agree.

/// A face found in a photo.
struct FaceJSON: Codable, Sendable, Equatable {
    /// Position in the photo's face list (what `face=` takes).
    var index: Int
    var box: Box
    /// Eyes, nose tip, mouth corners, when the detector gives them.
    var landmarks: [Point2]?
    /// Detector confidence; 0 for the whole-image stand-in.
    var score: Float
    /// True when no face was found and the whole photo stood in for one.
    var wholeImage: Bool

    init(index: Int, face: DetectedFace) {
        self.index = index
        box = face.box
        landmarks = face.landmarks?.points
        score = face.score
        wholeImage = face.isWholeImage
    }
}

/// A gallery image as listed and returned.
struct ImageJSON: Codable, Sendable, Equatable {
    var id: Int64
    var path: String
    /// File name (for uploads, the name it was sent with).
    var name: String
    /// The folder the photo is in; for uploads the name given to the person (`name` field).
    var label: String
    var sha256: String
    var bytes: Int
    var width: Int
    var height: Int
    var faceCount: Int
    /// Why the image could not be indexed; absent when it was.
    var error: String?
    var thumbnail: String
    /// The faces, only in `GET /v1/gallery/{id}`.
    var faces: [FaceJSON]?
}

struct GalleryPageJSON: Codable, Sendable {
    var images: [ImageJSON]
    var offset: Int
    var limit: Int
    var total: Int
    /// Offset of the next page; absent on the last page.
    var nextOffset: Int?
}

struct AddedJSON: Codable, Sendable {
    var added: [ImageJSON]
    /// New faces that joined an existing person (0 when the gallery has no persons yet).
    var joinedPersons: Int = 0
}

struct DeletedJSON: Codable, Sendable {
    var deleted: Int64
}

/// One ranked gallery image for the chosen query face(s).
struct ResultJSON: Codable, Sendable, Equatable {
    var rank: Int
    var id: Int64
    var path: String
    var name: String
    var label: String
    /// Cosine similarity (higher is closer) or euclidean distance (lower is closer).
    var score: Float
    /// True when the score does not pass the threshold: probably not the same person.
    var unknown: Bool
    /// The matched face in the gallery image, in that image's pixels.
    var box: Box
    var faceId: Int64
    var wholeImage: Bool
    /// Which face of the query matched (differs between results with `face=all`).
    var queryFace: Int
    var width: Int
    var height: Int
    /// For a video, the thumbnail is the matched frame.
    var thumbnail: String
    /// For a video: the matched face's time range and frame, in seconds.
    var time: FaceTime?
    /// For a video: where the query's person is on screen (tracks passing the threshold, merged).
    var appearances: [FaceTime]?
}

struct SearchJSON: Codable, Sendable {
    struct Query: Codable, Sendable {
        var name: String
        var width: Int
        var height: Int
    }

    struct Timings: Codable, Sendable {
        var queueMs: Double
        var decodeMs: Double
        var detectEmbedMs: Double
        var searchMs: Double
    }

    var query: Query
    var faces: [FaceJSON]
    /// Indices into `faces` of the face(s) searched with.
    var chosenFaces: [Int]
    var metric: DistanceMetric
    var k: Int
    var threshold: Float
    /// True when no result passes the threshold: nobody in the gallery is this person.
    var unknown: Bool
    var results: [ResultJSON]
    var timings: Timings
}

struct HealthJSON: Codable, Sendable {
    struct Queues: Codable, Sendable {
        var inference: WorkQueue.Stats
        var storage: WorkQueue.Stats
    }

    /// "ok" whenever the server answers.
    var status: String
    var version: String
    var images: Int
    var faces: Int
    var uptimeSeconds: Double
    var queues: Queues
}

struct ModelsJSON: Codable, Sendable {
    struct Model: Codable, Sendable {
        var name: String
        var task: String
        var license: String
        var installed: Bool
        var inUse: Bool
        var summary: String
    }

    /// What produced the gallery's vectors; queries go through the same pipeline.
    var index: IndexSettings
    var onnxRuntime: String
    var models: [Model]
}

/// A person of `/v1/people`: its faces only in `GET /v1/people/{id}`.
struct PersonJSON: Codable, Sendable, Equatable {
    var id: Int64
    var name: String?
    var hidden: Bool
    var faceCount: Int
    var photoCount: Int
    /// The face that shows the person (a named or pinned one first, then the largest).
    var representative: PersonFaceJSON?
    var faces: [PersonFaceJSON]?
}

/// One face of a person, in its gallery photo.
struct PersonFaceJSON: Codable, Sendable, Equatable {
    var faceId: Int64
    var imageId: Int64
    var path: String
    var box: Box
    /// Put there by the user (named, merged, split): kept there by the next clustering.
    var pinned: Bool
    /// The photo's size (what `box` is in).
    var width: Int
    var height: Int
    var thumbnail: String
}
