import FaceFind
import Foundation
import Logging

/// The search behind the endpoints, kept equal to the store after every gallery change, whoever makes it.
///
/// In memory (a SQLite store): a `LiveGallerySearch` snapshot, swapped after each change; its loaded part is the
/// index's vector file when it keeps one (`index --vector-file`), else the matrix of every vector. Searches take the
/// current snapshot (its arrays are copy-on-write, so taking it costs a reference count) and never wait for a
/// writer of this server. Writers run one at a time: each writes the store, then loads only the faces of the
/// images it touched and applies them to a new snapshot, so an upload costs its own faces rather than a reload of
/// the gallery; the whole gallery is loaded again only once the changes pass `LiveGallerySearch.needsCompaction`.
///
/// Other processes write the same file (`facefind index --db X` beside `serve --db X`). The snapshot remembers
/// the store's face change state (`FaceChangeState`: a counter that triggers move on every face inserted or
/// deleted, by any process) it equals, read in the same transaction as the faces. Each search first reads the
/// store's state (one row) and, when another process moved it, loads the gallery again before searching. A
/// change of this server applies its own faces only when the counter moved by exactly the face rows that change
/// removed and inserted, that is when no other process wrote in between; otherwise it too loads the gallery again.
/// The snapshot therefore always equals some committed state of the store, and never one older than the
/// store's state when the search began.
///
/// On a store that searches where its vectors are (PostgreSQL + pgvector), that store is the searcher, and a
/// change is the store write alone; the counts are read from the store, at most `countsLifetime` old.
final class SearchIndex: @unchecked Sendable {
    private let lock = NSLock()
    private var live: LiveGallerySearch?
    /// The store's state that `live` equals (nil: not a SQLite store, or not searched in memory).
    private var known: FaceChangeState?
    private var cachedCounts: (images: Int, faces: Int)
    /// When `cachedCounts` was last read from the store (where they are not the snapshot's).
    private var countsRead = ContinuousClock.now
    private var wholeLoads = 0
    private var reloadsForOthers = 0
    private let serverSide: (any GallerySearcher)?
    private let writeLock = NSLock()
    private let store: any GalleryStore
    private let logger = Logger(label: "facefind.serve")

    /// How long counts read from the store (`/v1/health`) are reused: 1 s keeps a probe polling many times a
    /// second to one store read a second, and a dashboard at most a second behind.
    static let countsLifetime = Duration.seconds(1)

    /// `serverSide`: the searcher of a store that searches on its own server; nil to search the store's faces
    /// in memory.
    init(store: any GalleryStore, serverSide: (any GallerySearcher)? = nil) throws {
        self.store = store
        self.serverSide = serverSide
        cachedCounts = (0, 0)
        if serverSide == nil {
            let (loaded, state) = try Self.load(store)
            live = loaded
            known = state
            wholeLoads = 1
            cachedCounts = loaded.counts
        } else {
            try recount()
        }
    }

    /// The search of `store` as it is, and the change state it equals (nil for a store other than SQLite): over
    /// its vector file when it keeps one (`index --vector-file`; a stale one is rewritten first, and its state is
    /// the one read before, so that a change made meanwhile is seen by the next search), else its matrix loaded
    /// into memory in one transaction with the state.
    static func load(_ store: any GalleryStore) throws -> (search: LiveGallerySearch, state: FaceChangeState?) {
        guard let sqlite = store as? SQLiteGalleryStore else {
            return (LiveGallerySearch(matrix: try store.loadFaceMatrix()), nil)
        }
        let before = try sqlite.changeState()
        if let file = try GalleryVectorFile.opened(store: sqlite, rebuild: true,
                                                   log: { Logger(label: "facefind.serve").warning("\($0)") }) {
            return (try LiveGallerySearch(file: file), before)
        }
        let (matrix, state) = try sqlite.loadFaceMatrixWithChangeState()
        return (LiveGallerySearch(matrix: matrix), state)
    }

    /// The current snapshot as it is (no store read); `searcher()` for a search.
    var current: any GallerySearcher {
        serverSide ?? lock.withLock { live! }
    }

    /// The search to run a query on: the current snapshot, first brought up to date when another process has
    /// changed the store's faces since it was made (one one-row read when it has not).
    func searcher() throws -> any GallerySearcher {
        if let serverSide { return serverSide }
        try catchUp()
        return lock.withLock { live! }
    }

    /// Images and faces searched. In memory: the snapshot's, unless another process has changed the store since
    /// (then the store's, as `serverSide` stores always give them), read at most `countsLifetime` ago. One small
    /// read, never a load, so that `/v1/health` stays cheap.
    var counts: (images: Int, faces: Int) {
        if let sqlite = store as? SQLiteGalleryStore, let loaded = lock.withLock({ self.known }),
           (try? sqlite.changeState()) == loaded {
            return lock.withLock { live?.counts ?? cachedCounts }
        }
        if lock.withLock({ ContinuousClock.now - countsRead > Self.countsLifetime }) {
            try? recount()
        }
        return lock.withLock { cachedCounts }
    }

    /// How many times the whole gallery was loaded into memory (once at start; again at a compaction or after
    /// another process changed the store).
    var loadsOfTheWholeGallery: Int {
        lock.withLock { wholeLoads }
    }

    /// How many of those loads followed a change made by another process.
    var reloadsAfterOtherWriters: Int {
        lock.withLock { reloadsForOthers }
    }

    /// Runs `change` (a store write) with no other change of this server in between, then brings the search up
    /// to date for the images at `paths` and those with `ids`: every image the change may add, replace or remove.
    /// The update happens even when `change` throws: the store may have changed before failing.
    func modify<T>(paths: [String] = [], ids: [Int64] = [], _ change: () throws -> T) throws -> T {
        try writeLock.withLock {
            guard let before = lock.withLock({ live }) else {
                defer { try? recount() }
                return try change()
            }
            guard let sqlite = store as? SQLiteGalleryStore else {
                // The images at these paths now; the change may replace them under new ids.
                let replaced = try store.loadFaceMatrix(paths: paths).images.map(\.id)
                defer { try? update(before, removed: Set(replaced + ids), paths: paths) }
                return try change()
            }
            // What the change will replace or remove, with the state it starts from, in one read.
            let prior = try sqlite.imagesWithChangeState(paths: paths, ids: ids)
            let upToDate = prior.state == lock.withLock { known }
            defer {
                do {
                    try update(before, in: sqlite, prior: prior, upToDate: upToDate, paths: paths)
                } catch {
                    // The next search reads the state again and loads the gallery then.
                    logger.error("the search could not follow a gallery change: \(error)")
                    lock.withLock { known = nil }
                }
            }
            return try change()
        }
    }

    /// After a change of this server to `sqlite`: its faces applied to `before` when the counter moved by exactly
    /// the face rows the change deleted (`prior.faceRows`) and inserted, which no other writer can have touched in
    /// between; else the whole gallery loaded again.
    private func update(_ before: LiveGallerySearch, in sqlite: SQLiteGalleryStore,
                        prior: (ids: Set<Int64>, faceRows: Int, state: FaceChangeState), upToDate: Bool,
                        paths: [String]) throws {
        if upToDate {
            let after = try sqlite.loadFaceMatrixWithChangeState(paths: paths)
            let expected = prior.state.changes &+ UInt64(prior.faceRows + after.faceRows)
            if after.state.database == prior.state.database, after.state.changes == expected {
                let next = before.applying(removed: prior.ids, added: after.matrix)
                if !next.needsCompaction {
                    let counts = next.counts
                    lock.withLock {
                        live = next
                        known = after.state
                        cachedCounts = counts
                    }
                    return
                }
                return try reload(becauseOfOthers: false)
            }
        }
        logger.info("another process changed \(store.name) during this server's change; loading the gallery again")
        try reload(becauseOfOthers: true)
    }

    /// Loads the search again when the store's state is not the snapshot's. Waits for a change or load of this
    /// server in progress, which may already have caught up.
    private func catchUp() throws {
        guard let sqlite = store as? SQLiteGalleryStore else { return }
        let state = try sqlite.changeState()
        guard state != lock.withLock({ known }) else { return }
        try writeLock.withLock {
            let state = try sqlite.changeState()
            let known = lock.withLock { self.known }
            guard state != known else { return }
            let from = known.map { "\($0)" } ?? "an unknown state"
            logger.info("\(store.name) was changed by another process (\(from) → \(state)); loading the gallery again")
            try reload(becauseOfOthers: true)
        }
    }

    /// The whole gallery loaded again (or its vector file rewritten); the caller holds `writeLock`.
    private func reload(becauseOfOthers: Bool) throws {
        let (next, state) = try Self.load(store)
        let counts = next.counts
        lock.withLock {
            live = next
            known = state
            cachedCounts = counts
            wholeLoads += 1
            reloadsForOthers += becauseOfOthers ? 1 : 0
        }
    }

    /// A store other than SQLite searched in memory: this server is its only writer.
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
        lock.withLock {
            cachedCounts = (counts.images, counts.faces)
            countsRead = .now
        }
    }
}
