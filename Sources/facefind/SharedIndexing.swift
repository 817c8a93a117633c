import FaceFind
import FaceFindPostgres
import Foundation
import Logging

/// `facefind index DIR --store postgres://… --workers-shared`: this process as one of several workers on one
/// folder (see `PostgresGalleryStore.joinSharedRun`). The first worker of a run plans it: removes the photos gone
/// from the folder and enqueues the new or changed files; every worker then claims files a batch at a time,
/// indexes them and marks them done; a worker that finds nothing to claim waits while other workers' claims are
/// open, since a killed worker's files come back when their lease runs out.
struct SharedIndexing {
    let store: PostgresGalleryStore
    let indexer: IndexingPipeline
    let lease: Double
    let logger = Logger(label: "facefind.index.shared")

    /// This worker's name in the queue (host, process, a random suffix), shown by `facefind status`.
    let worker = "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(6).lowercased())"

    func run(folder: String, progress: ProgressBar) throws -> IndexReport {
        let start = Date()
        let root = URL(fileURLWithPath: folder).standardizedFileURL.path
        // Read before joining: the plan runs inside the run's transaction, which holds the store's connection.
        let listing = try FolderListing(directory: root, includeVideos: true)
        let known = try store.fileStates()
        var gone: [String] = []
        let started = try store.joinSharedRun(root: root, worker: worker) {
            // Photos in a folder that could not be listed are kept, as `index` keeps them.
            gone = listing.missing(from: known, root: root).gone
            return listing.files.filter { path in
                known[path].map { FileState.sizeAndModificationTime(of: path) != ($0.bytes, $0.modified) } ?? true
            }
        }
        var report = IndexReport()
        report.unreadableFolders = listing.unreadable
        if started {
            try store.remove(paths: gone)
            report.removed = gone.count
            logger.info("started the shared run of \(root)")
        } else {
            logger.info("joined the shared run of \(root)")
        }
        let batch = max(8, indexer.options.workers * indexer.options.batchSize)
        while true {
            let claimed = try store.claim(root: root, worker: worker, limit: batch, lease: lease)
            if claimed.isEmpty {
                guard try store.sharedRunHasClaims(root: root) else { break }
                Thread.sleep(forTimeInterval: min(1, lease / 4))  // other workers' files, done or coming back
                continue
            }
            let part = try indexer.index(files: claimed, known: [:])
            try store.finish(root: root, worker: worker, paths: claimed)
            report.files += part.files
            report.indexed += part.indexed
            report.faces += part.faces
            report.wholeImage += part.wholeImage
            report.failed += part.failed
            progress.update(IndexProgress(done: report.files, total: report.files, failed: report.failed.count,
                                          faces: report.faces, elapsed: Date().timeIntervalSince(start)))
        }
        report.seconds = Date().timeIntervalSince(start)
        return report
    }
}
