import Foundation

/// A person of a gallery: a group of faces, found by clustering or shaped by a user.
public struct Person: Sendable, Equatable, Codable {
    public var id: Int64
    public var name: String?
    /// Hidden persons (strangers, statues) are left out of lists unless asked for.
    public var hidden: Bool
    /// Appearances: each face in a photo, each track in a video (a track keeps a few faces; they count once).
    public var faceCount: Int
    /// Photos and videos.
    public var photoCount: Int
    /// The face that stands for the person in lists: the largest of its faces.
    public var representative: PersonFace?

    public init(id: Int64, name: String?, hidden: Bool, faceCount: Int, photoCount: Int,
                representative: PersonFace?) {
        self.id = id; self.name = name; self.hidden = hidden
        self.faceCount = faceCount; self.photoCount = photoCount; self.representative = representative
    }
}

/// One face as the people commands show it: where it is, and whose it is.
public struct PersonFace: Sendable, Equatable, Codable {
    public var faceID: Int64
    public var imageID: Int64
    public var path: String
    public var box: Box
    /// Nil when the face belongs to no person (not clustered yet, or alone in its cluster).
    public var person: Int64?
    /// True when a user put the face with its person (named, merged or split it).
    public var pinned: Bool
    /// The photo's size in pixels (what `box` is in).
    public var imageWidth: Int
    public var imageHeight: Int

    public init(faceID: Int64, imageID: Int64, path: String, box: Box, person: Int64?, pinned: Bool,
                imageWidth: Int = 0, imageHeight: Int = 0) {
        self.faceID = faceID; self.imageID = imageID; self.path = path; self.box = box
        self.person = person; self.pinned = pinned; self.imageWidth = imageWidth; self.imageHeight = imageHeight
    }
}

public enum PeopleError: Error, CustomStringConvertible, Equatable {
    case noSuchPerson(String)
    case nameTaken(name: String, by: Int64, asked: Int64)
    case badName(String)
    case notTheirFaces(person: Int64, faces: [Int64])
    case noClusterThreshold(embedder: String)

    public var description: String {
        switch self {
        case .noSuchPerson(let what):
            return "no person \(what) (facefind people list shows them; facefind people cluster makes them)"
        case .nameTaken(let name, let id, let asked):
            return "'\(name)' is already the name of person \(id); to make them one person: facefind people merge \(id) \(asked)"
        case .badName(let why):
            return "bad name: \(why)"
        case .notTheirFaces(let person, let faces):
            return "faces \(faces.map(String.init).joined(separator: ", ")) are not faces of person \(person)"
        case .noClusterThreshold(let embedder):
            return "the catalog has no measured clustering threshold for \(embedder); give --link-threshold"
        }
    }

    /// Longest person name, in characters (what a person sees) and in UTF-8 bytes (what is stored): 4 bytes a
    /// character, so that 200 characters of any script fit, while one letter carrying 10,000 combining marks
    /// (20,001 bytes, one character) does not.
    public static let maxNameCharacters = 200
    public static let maxNameBytes = 800

    /// A person name as stored: NFC (so that "é" typed two ways is one name), trimmed, 1 to 200 characters and at
    /// most 800 UTF-8 bytes; no control characters (a name is printed on one line and drawn on pictures), no
    /// bidirectional embeddings, overrides or isolates (U+202A-U+202E, U+2066-U+2069: they reorder the text
    /// around the name where it is shown), no line or paragraph separators (U+2028, U+2029) and no byte order
    /// mark (U+FEFF). The joiners that Persian, Indic and emoji names need (U+200C, U+200D) are kept. All digits
    /// is refused, because a person is named by id or by name.
    public static func checkedName(_ name: String) throws -> String {
        let trimmed = name.precomposedStringWithCanonicalMapping.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw PeopleError.badName("empty") }
        guard trimmed.count <= maxNameCharacters else {
            throw PeopleError.badName("longer than \(maxNameCharacters) characters")
        }
        guard trimmed.utf8.count <= maxNameBytes else {
            throw PeopleError.badName("longer than \(maxNameBytes) bytes in UTF-8 (\(trimmed.utf8.count))")
        }
        if let bad = trimmed.unicodeScalars.first(where: refusedInNames) {
            let code = "U+" + String(format: "%04X", bad.value)
            throw PeopleError.badName(bad.properties.generalCategory == .control ? "contains control characters"
                : "contains \(code), which would change how the text around the name is shown")
        }
        guard Int64(trimmed) == nil else { throw PeopleError.badName("'\(trimmed)' is a number; ids are numbers") }
        return trimmed
    }

    /// Control characters, bidirectional embeddings, overrides and isolates, line and paragraph separators and
    /// the byte order mark.
    private static func refusedInNames(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x202A...0x202E, 0x2066...0x2069, 0x2028, 0x2029, 0xFEFF: return true
        default: return scalar.properties.generalCategory == .control
        }
    }
}

/// Where a gallery's persons live, beside its faces. Every change is one transaction; a face that is re-indexed
/// or removed leaves its person with it.
public protocol PeopleStore: Sendable {
    /// Every face's person, by face id (faces of no person are absent).
    func personAssignments() throws -> [Int64: PersonAssignment]
    /// Replaces every assignment a user did not make with `assignments` (face id → person id; pinned faces keep
    /// theirs), creates the persons new ids name, and deletes the persons left without faces.
    func saveClustering(_ assignments: [Int64: Int64]) throws
    /// Adds `assignments` (face id → an existing person's id) for faces of no person; others are left as they are.
    func assign(_ assignments: [Int64: Int64]) throws
    /// The first id free for a new person.
    func nextPersonID() throws -> Int64
    /// The persons, largest first (then by id); hidden ones only when asked for.
    func people(includeHidden: Bool) throws -> [Person]
    /// The person with this id, or this name.
    func person(_ idOrName: String) throws -> Person
    /// A person's faces, by photo path.
    func faces(ofPerson id: Int64) throws -> [PersonFace]
    /// Every face of the gallery (whole-image stand-ins excepted) with its person, by photo path.
    func allFaces() throws -> [PersonFace]
    /// Names a person (nil removes the name) and pins its faces: a named person keeps them.
    func name(person id: Int64, _ name: String?) throws
    /// Moves every face of `other` to `person`, pinned, and deletes `other`; `person` keeps its name, or takes
    /// `other`'s when it has none.
    func merge(_ other: Int64, into person: Int64) throws
    /// Moves `faces` of `person` to a new person, returned; both keep their faces pinned.
    func split(person: Int64, faces: [Int64]) throws -> Int64
    func hide(person id: Int64, _ hidden: Bool) throws
}

/// A face that can belong to a person, as clustering sees it: its id and its photo's (two faces of one photo are
/// never one person).
public struct PersonNode: Sendable, Equatable {
    public var face: Int64
    /// The group whose faces are never one person: the photo's id. A face of a video is a group of its own
    /// (minus its face id): one person is on screen many times in one video, and the faces kept of one track are
    /// all that person.
    public var image: Int64

    public init(face: Int64, image: Int64, inVideo: Bool = false) {
        self.face = face
        self.image = inVideo ? -face : image
    }
}

/// A store that finds each face's nearest faces itself (PostgreSQL: through its HNSW index), so that clustering a
/// gallery never loads its vectors into this process. Other stores are clustered from `loadFaceMatrix()`.
public protocol NearestFacesStore: PeopleStore {
    /// Every face that can belong to a person (whole-image stand-ins never do), by face id.
    func personNodes() throws -> [PersonNode]

    /// The nearest faces of each face of `faces` (every face of `personNodes()` when nil).
    ///
    /// - Parameters:
    ///   - faces: the faces whose neighbours are wanted, by id; nil for all.
    ///   - k: how many nearest faces are searched per face (the face itself not counted).
    ///   - threshold: the smallest similarity returned.
    ///   - centre: the mean face subtracted before the similarity is measured (`PeopleClustering.compared`); the
    ///     nearest faces are still found as they are stored (on lfw-dev the 20 nearest so found, then measured
    ///     centred, give the same persons as a search in the centred space: docs/People.md).
    ///   - assignedOnly: search only among faces that belong to a person (the incremental join).
    ///   - progress: called now and then with the faces done and the faces to do.
    /// - Returns: one edge per face and neighbour found, by face id.
    func neighbourEdges(of faces: [Int64]?, k: Int, threshold: Float, centre: [Float]?, assignedOnly: Bool,
                      progress: (@Sendable (Int, Int) -> Void)?) throws -> [FaceEdge]
}
