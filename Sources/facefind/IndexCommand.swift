import ArgumentParser
import FaceFind
import FaceFindPostgres
import Foundation
import Logging

struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Add a folder of photos to a gallery index (incremental; resumes after interruption).",
        discussion: """
            Exit status: 0 when every file was indexed; 2 when the run finished but some files or folders could \
            not be read or indexed (listed at the end; photos already indexed are never removed because they \
            could not be read); 1 on a fatal error (nothing more could be done); 64 for a usage error.
            """)

    @Argument(help: "Folder of photos (searched recursively for .jpg, .jpeg, .png, .webp, .heic, .heif, .hif, .avif).")
    var folder: String

    @Option(help: "Index file (SQLite; default facefind.sqlite).")
    var db: String?

    @OptionGroup var store: StoreOption

    @Flag(help: "With --store postgres://…: share the folder's work with every other `index --workers-shared` process on the same store and folder (other machines too); files are claimed through the database with a lease.")
    var workersShared = false

    @Option(help: "With --workers-shared: seconds a claimed batch stays this worker's; a killed worker's files are claimed again after it.")
    var lease = 120.0

    @Option(help: "Faces per inference batch.")
    var batchSize = 16

    @Option(help: "Videos: seconds between the frames searched for faces (the first frame of every shot is searched too).")
    var videoInterval = 1.0

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Flag(help: "Show the progress bar even when standard error is not a terminal.")
    var progress = false

    @Option(help: "SQLite index: keep its vectors in a file beside it (INDEX.vectors) at this precision (int8, float16, float32), which `search` reads without loading the vectors into memory: for galleries larger than RAM. Later runs keep an existing vector file up to date.")
    var vectorFile: VectorPrecision?

    @OptionGroup var pipelineOptions: PipelineOptions
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        try store.validate(db: db)
        guard vectorFile == nil || !store.isPostgres else {
            throw ValidationError("--vector-file is for SQLite indexes; PostgreSQL searches where its vectors are")
        }
        guard !workersShared || store.isPostgres else {
            throw ValidationError("--workers-shared needs --store postgres://…: the workers share the work through the database")
        }
        guard lease > 0 else { throw ValidationError("--lease must be positive") }
        guard videoInterval > 0, videoInterval.isFinite else { throw ValidationError("--video-interval must be a positive number of seconds") }
    }

    func run() throws {
        runtime.bootstrapLogging()
        do {
            let store = try self.store.open(db: db)
            let pipeline = try pipelineOptions.pipeline(loader: try runtime.loader(), existing: try store.settings())
            try store.bind(pipeline.settings)
            let indexer = IndexingPipeline(
                finder: pipeline.finder, embedder: pipeline.embedder, store: store,
                options: IndexingOptions(workers: runtime.workerCount, batchSize: batchSize,
                                         videoSampling: VideoSampling(interval: videoInterval)))
            let bar = ProgressBar(label: "indexing", enabled: progress || isatty(STDERR_FILENO) == 1)
            var report: IndexReport
            if workersShared, let shared = store as? PostgresGalleryStore {
                report = try SharedIndexing(store: shared, indexer: indexer, lease: lease).run(folder: folder, progress: bar)
            } else {
                report = try indexer.index(directory: folder) { bar.update($0) }
            }
            bar.finish()
            report.joinedPersons = try PeopleClustering.assignNewFaces(in: store)
            if let sqlite = store as? SQLiteGalleryStore { try updateVectorFile(of: sqlite) }
            if json {
                try printJSON(report)
            } else {
                try printSummary(report, store: store)
            }
            if report.hasProblems { throw ExitStatus.partial }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail(error)
        }
    }

    /// Writes the vector file `--vector-file` asks for, or brings an existing one up to date with this run.
    private func updateVectorFile(of store: SQLiteGalleryStore) throws {
        let logger = Logger(label: "facefind.index")
        guard let precision = vectorFile else {
            _ = try GalleryVectorFile.opened(store: store, rebuild: true) { logger.info("\($0)") }
            return
        }
        if case .current(let file) = try GalleryVectorFile.open(store: store), file.precision == precision { return }
        let file = try GalleryVectorFile.build(store: store, precision: precision)
        logger.info("wrote \(file.path): \(file.count) faces, \(precision.rawValue)")
    }

    private func printSummary(_ report: IndexReport, store: any GalleryStore) throws {
        let counts = try store.counts()
        print(String(format: "%d files: %d indexed, %d unchanged, %d removed, %d failed; %d faces (%d photos without a detected face, embedded whole) in %.1f s (%.1f images/s)",
                     report.files, report.indexed, report.unchanged, report.removed, report.failed.count,
                     report.faces, report.wholeImage, report.seconds, report.imagesPerSecond))
        if report.videos > 0 {
            print(String(format: "of which %d videos: %.1f s, %d frames searched, %.1fx real time", report.videos,
                         report.videoSeconds, report.videoFrames, report.videoRealTimeFactor))
        }
        print("index \(printable(store.name)): \(counts.images) photos, \(counts.faces) faces, \(counts.failed) unreadable")
        if report.joinedPersons > 0 {
            print("\(report.joinedPersons) new face(s) joined their persons (the others wait for `facefind people cluster`)")
        }
        if !report.unreadableFolders.isEmpty {
            print("could not read these folders (their indexed photos are kept, marked unavailable):")
            for failure in report.unreadableFolders { print("  \(printable(failure.path)): \(failure.reason)") }
        }
        if report.unavailable > 0 {
            print("\(report.unavailable) indexed photo(s) could not be read in this run and are kept, marked unavailable")
        }
        if !report.failed.isEmpty {
            print("could not index:")
            for failure in report.failed { print("  \(printable(failure.path)): \(failure.reason)") }
        }
    }
}
