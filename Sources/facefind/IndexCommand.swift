import ArgumentParser
import FaceFind
import Foundation

struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Add a folder of photos to a gallery index (incremental; resumes after interruption).")

    @Argument(help: "Folder of photos (searched recursively for .jpg, .jpeg, .png, .webp).")
    var folder: String

    @Option(help: "Index file (SQLite; default facefind.sqlite).")
    var db: String?

    @OptionGroup var store: StoreOption

    @Option(help: "Faces per inference batch.")
    var batchSize = 16

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Flag(help: "Show the progress bar even when standard error is not a terminal.")
    var progress = false

    @OptionGroup var pipelineOptions: PipelineOptions
    @OptionGroup var runtime: RuntimeOptions

    func run() throws {
        runtime.bootstrapLogging()
        do {
            let pipeline = try FacePipeline(configuration: pipelineOptions.configuration, loader: try runtime.loader())
            let store = try self.store.open(db: db)
            try store.bind(pipeline.settings)
            let indexer = IndexingPipeline(
                finder: pipeline.finder, embedder: pipeline.embedder, store: store,
                options: IndexingOptions(workers: runtime.workerCount, batchSize: batchSize))
            let bar = ProgressBar(label: "indexing", enabled: progress || isatty(STDERR_FILENO) == 1)
            let report = try indexer.index(directory: folder) { bar.update($0) }
            bar.finish()
            if json {
                try printJSON(report)
            } else {
                let counts = try store.counts()
                print(String(format: "%d files: %d indexed, %d unchanged, %d removed, %d failed; %d faces (%d photos without a detected face, embedded whole) in %.1f s (%.1f images/s)",
                             report.files, report.indexed, report.unchanged, report.removed, report.failed.count,
                             report.faces, report.wholeImage, report.seconds, report.imagesPerSecond))
                print("index \(store.name): \(counts.images) photos, \(counts.faces) faces, \(counts.failed) unreadable")
                if !report.failed.isEmpty {
                    print("could not index:")
                    for failure in report.failed { print("  \(failure.path): \(failure.reason)") }
                }
            }
        } catch {
            throw fail(error)
        }
    }
}
