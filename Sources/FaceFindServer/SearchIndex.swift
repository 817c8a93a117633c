import FaceFind
import Foundation
import Logging

/// The search behind the endpoints, kept equal to the store after every gallery change.
///
/// In memory (a SQLite store): a `LiveGallerySearch` snapshot, swapped after each change; its loaded part is the
/// index's vector file when it keeps one (`index --vector-file`), else the matrix of every vector. Searches take the
/// current snapshot (its arrays are copy-on-write, so taking it costs a reference count) and never wait for a
/// writer. Writers run one at a time: each writes the store, then loads only the faces of the images it
/// touched and applies them to a new snapshot, so an upload costs its own faces rather than a reload of the
/// gallery; the whole gallery is loaded again only once the changes pass `LiveGallerySearch.needsCompaction`.
/// The snapshot therefore always equals some committed state of the store.
///
/// On a store that searches where its vectors are (PostgreSQL + pgvector), that store is the searcher, and a
/// change is the store write alone.
final class SearchIndex: @unchecked Sendable {
    private let lock = NSLock()
    private var live: LiveGallerySearch?
    private var cachedCounts: (images: Int, faces: Int)
    private var wholeLoads = 0
    private let serverSide: (any GallerySearcher)?
    private let writeLock = NSLock()
    private let store: any GalleryStore

    /// `serverSide`: the searcher of a store that searches on its own server; nil to search the store's faces
    /// in memory.
    init(store: any GalleryStore, serverSide: (any GallerySearcher)? = nil) throws {
        self.store = store
        self.serverSide = serverSide
        if serverSide == nil {
            let loaded = try Self.load(store)
            live = loaded
            wholeLoads = 1
            cachedCounts = loaded.counts
        } else {
            let counts = try store.counts()
            cachedCounts = (counts.images, counts.faces)
        }
    }

    /// The search of `store` as it is: over its vector file when it keeps one (`index --vector-file`; a stale one
    /// is rewritten first), else its matrix loaded into memory.
    static func load(_ store: any GalleryStore) throws -> LiveGallerySearch {
        if let sqlite = store as? SQLiteGalleryStore,
           let file = try GalleryVectorFile.opened(store: sqlite, rebuild: true, log: { Logger(label: "facefind.serve").warning("\($0)") }) {
            return try LiveGallerySearch(file: file)
        }
        return LiveGallerySearch(matrix: try store.loadFaceMatrix())
    }

    var current: any GallerySearcher {
        serverSide ?? lock.withLock { live! }
    }

    /// Images and faces searched, as of the last change (never reads the store).
    var counts: (images: Int, faces: Int) {
        lock.withLock { cachedCounts }
    }

    /// How many times the whole gallery was loaded into memory (once at start; again at a compaction).
    var loadsOfTheWholeGallery: Int {
        lock.withLock { wholeLoads }
    }

    /// Runs `change` (a store write) with no other change in between, then brings the search up to date for the
    /// images at `paths` and those with `ids`: every image the change may add, replace or remove. The update
    /// happens even when `change` throws: the store may have changed before failing.
    func modify<T>(paths: [String] = [], ids: [Int64] = [], _ change: () throws -> T) throws -> T {
        try writeLock.withLock {
            guard let before = lock.withLock({ live }) else {
                defer { try? recount() }
                return try change()
            }
            // The images at these paths now; the change may replace them under new ids.
            let replaced = try store.loadFaceMatrix(paths: paths).images.map(\.id)
            defer { try? update(before, removed: Set(replaced + ids), paths: paths) }
            return try change()
        }
    }

    private func update(_ before: LiveGallerySearch, removed: Set<Int64>, paths: [String]) throws {
        let (next, reloaded) = try before.updated(from: store, removed: removed, paths: paths)
        let counts = next.counts
        lock.withLock {
            live = next
            cachedCounts = counts
            wholeLoads += reloaded ? 1 : 0
        }
    }

    private func recount() throws {
        let counts = try store.counts()
        lock.withLock { cachedCounts = (counts.images, counts.faces) }
    }
}
