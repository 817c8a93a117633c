import Foundation
import Testing
@testable import FaceFind
@testable import FaceFindPostgres

/// A video's faces on both stores: their times written and read back, a search's match given its time and the
/// person's appearances (`GalleryStore.withVideoTimes`), and a person counting a track once, however many of its
/// faces are kept. Vectors are made by hand, so every expected value is known.
@Suite("Video faces on both stores", .serialized)
struct VideoStoreTests {
    /// Unit vector of 128 dimensions along axis `i`, tilted slightly towards axis `j` by `tilt`.
    static func vector(_ i: Int, tilt: Float = 0, towards j: Int = 127) -> Embedding {
        var v = [Float](repeating: 0, count: 128)
        v[i] = 1; v[j] += tilt
        return Embedding.normalized(v)
    }

    static func face(x: Float, start: Double, end: Double, frame: Double, _ embedding: Embedding) -> StoredFace {
        StoredFace(face: DetectedFace(box: Box(x: x, y: 10, width: 80, height: 90), score: 0.9,
                                      time: FaceTime(start: start, end: end, frame: frame)), embedding: embedding)
    }

    @Test(arguments: PeopleStoreTests.Store.allCases)
    func timesAppearancesAndPersons(_ kind: PeopleStoreTests.Store) throws {
        let settings = IndexSettings(detector: "d", detectorSHA256: "x", embedder: "mobilefacenet", embedderSHA256: "y",
                                     crop: "c", normalization: "n", dimension: 128, maxSide: 0, minSide: 0)
        let store: any GalleryStore
        var cleanUp: () -> Void = {}
        switch kind {
        case .sqlite:
            let folder = try PostgresTestServer.folder(of: [], label: "video-sqlite")
            store = try SQLiteGalleryStore(path: folder + "/index.sqlite")
            cleanUp = { try? FileManager.default.removeItem(atPath: folder) }
        case .postgres:
            let postgres = try PostgresTestServer.store("video_faces")
            store = postgres
            cleanUp = { try? postgres.destroy() }
        }
        defer { cleanUp() }
        try store.bind(settings)
        // Person A on screen 0-3 s (three faces kept) and again 10-12 s (one face); person B 4-8 s (two faces);
        // a photo of A.
        let video = IndexedImage(path: "/v/clip.mp4", state: FileState(sha256: "s", bytes: 1, modified: 1), width: 640,
                                 height: 360, faces: [
            Self.face(x: 10, start: 0, end: 3, frame: 1, Self.vector(0, tilt: 0.05)),
            Self.face(x: 12, start: 0, end: 3, frame: 0, Self.vector(0, tilt: 0.10)),
            Self.face(x: 14, start: 0, end: 3, frame: 2, Self.vector(0, tilt: 0.15)),
            Self.face(x: 200, start: 4, end: 8, frame: 5, Self.vector(1, tilt: 0.05)),
            Self.face(x: 210, start: 4, end: 8, frame: 6, Self.vector(1, tilt: 0.10)),
            Self.face(x: 20, start: 10, end: 12, frame: 11, Self.vector(0, tilt: 0.02)),
        ])
        let photo = IndexedImage(path: "/v/a.jpg", state: FileState(sha256: "t", bytes: 1, modified: 1), width: 100,
                                 height: 100, faces: [StoredFace(face: DetectedFace(box: Box(x: 1, y: 1, width: 50, height: 50),
                                                                                     score: 0.9), embedding: Self.vector(0))])
        try store.write([video, photo])

        let matrix = try store.loadFaceMatrix(paths: ["/v/clip.mp4"])
        let faces = try store.faces(ofImage: try #require(matrix.images.first).id)
        #expect(faces.map(\.time) == video.faces.map(\.face.time))
        let photoMatrix = try store.loadFaceMatrix(paths: ["/v/a.jpg"])
        #expect(try store.faces(ofImage: photoMatrix.images[0].id).map(\.time) == [nil])

        // A query like A: the best face of the video is the one tilted least (0.02, at 11 s); A is on screen 0-3 and
        // 10-12 (each range with its best face's frame); B's track (cosine 0) is not.
        let query = Self.vector(0)
        let search = GallerySearch(matrix: try store.loadFaceMatrix())
        let matches = try store.withVideoTimes(search.search(query, k: 2), queries: [query, query], metric: .cosine,
                                               threshold: 0.5)
        let clip = try #require(matches.first { $0.path == "/v/clip.mp4" })
        #expect(clip.time == FaceTime(start: 10, end: 12, frame: 11))
        #expect(clip.appearances == [FaceTime(start: 0, end: 3, frame: 1), FaceTime(start: 10, end: 12, frame: 11)])
        let still = try #require(matches.first { $0.path == "/v/a.jpg" })
        #expect(still.time == nil && still.appearances == nil)
        // Euclidean: the same faces pass (distance √(2 - 2 cos) under the limit for cosine 0.5, which is 1).
        let euclidean = try store.withVideoTimes(search.search(query, k: 2, metric: .euclidean), queries: [query, query],
                                                 metric: .euclidean, threshold: 1)
        #expect(euclidean.first { $0.path == "/v/clip.mp4" }?.appearances == clip.appearances)

        // Clustered: A's five faces (two tracks and a photo) are three appearances in two files; B's track is one.
        _ = try PeopleClustering.clusterGallery(store, threshold: 0.5, minimumFaces: 2)
        let people = try PeopleClustering.people(of: store).people(includeHidden: true)
        #expect(people.map(\.faceCount) == [3, 1], "\(people)")
        #expect(people.map(\.photoCount) == [2, 1])
    }
}
