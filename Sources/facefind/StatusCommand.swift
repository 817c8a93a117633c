import ArgumentParser
import FaceFind
import FaceFindPostgres
import Foundation

/// `facefind status --store postgres://…`: the gallery's size and every shared indexing run's progress, per worker.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a gallery's size and the progress of its shared indexing runs (index --workers-shared).",
        discussion: "Exit status: 0, or 1 when the store cannot be opened.")

    @Option(help: "Index file (SQLite; default facefind.sqlite).")
    var db: String?

    @OptionGroup var store: StoreOption

    @Flag(help: "Print as JSON.")
    var json = false

    struct Status: Encodable {
        var store: String
        var images: Int
        var faces: Int
        var failed: Int
        var sharedRuns: [PostgresGalleryStore.SharedRun]
    }

    func validate() throws { try store.validate(db: db) }

    func run() throws {
        do {
            let gallery = try store.open(db: db)
            let counts = try gallery.counts()
            let runs = try (gallery as? PostgresGalleryStore)?.sharedRuns() ?? []
            let status = Status(store: gallery.name, images: counts.images, faces: counts.faces, failed: counts.failed,
                                sharedRuns: runs)
            if json { return try printJSON(status) }
            print("\(printable(status.store)): \(counts.images) photos, \(counts.faces) faces, \(counts.failed) unreadable")
            for run in runs {
                let state = run.finishedAt != nil ? "finished" : run.startedAt != nil ? "running" : "not started"
                print("shared run of \(printable(run.root)) (\(state)): \(run.done) done, \(run.claimed) claimed, "
                      + "\(run.expired) whose lease ran out, \(run.pending) pending")
                for worker in run.workers {
                    print("  \(printable(worker.worker)): \(worker.done) done, \(worker.claimed) claimed now")
                }
            }
        } catch {
            throw fail(error)
        }
    }
}
