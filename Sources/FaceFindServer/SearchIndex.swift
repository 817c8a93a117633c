import FaceFind
import Foundation

/// The in-memory search structure over the store's faces, swapped whole after every gallery change.
///
/// Searches take a snapshot (a `GallerySearch` value whose arrays are copy-on-write, so taking it costs a
/// reference count) and never wait for a writer; writers run one at a time, write the store, then rebuild from
/// the store, so the snapshot always equals some committed state of the store.
final class SearchIndex: @unchecked Sendable {
    private let lock = NSLock()
    private var search: GallerySearch
    private let writeLock = NSLock()
    private let store: any GalleryStore

    init(store: any GalleryStore) throws {
        self.store = store
        search = GallerySearch(matrix: try store.loadFaceMatrix())
    }

    var current: GallerySearch {
        lock.withLock { search }
    }

    /// Runs `change` (a store write) with no other change in between, then reloads the search matrix. The
    /// reload happens even when `change` throws: the store may have changed before failing.
    func modify<T>(_ change: () throws -> T) throws -> T {
        try writeLock.withLock {
            defer { try? reload() }
            return try change()
        }
    }

    private func reload() throws {
        let fresh = GallerySearch(matrix: try store.loadFaceMatrix())
        lock.withLock { search = fresh }
    }
}
