import Foundation

/// A gallery opened for use: its store, the settings its vectors were made with, and the pipeline that
/// reproduces them. The one way the command line and the server open a gallery (`FaceFindPostgres` adds
/// `Gallery.open(_:loader:precision:)` and `Gallery.store(at:create:)` for locations that may be `postgres://`
/// URLs).
public struct Gallery: Sendable {
    public let store: any GalleryStore
    public let settings: IndexSettings
    public let pipeline: FacePipeline
    /// The store's own search where its vectors are (PostgreSQL: HNSW on the database server); nil for a store
    /// searched in memory after `store.loadFaceMatrix()`.
    public let serverSearcher: (any GallerySearcher)?

    /// Opens an indexed gallery to search it: an error naming the store (and the command that fills it) when it
    /// holds no index yet.
    public init(searching store: any GalleryStore, serverSearcher: (any GallerySearcher)? = nil,
                loader: ModelLoader) throws {
        guard let settings = try store.settings() else {
            throw GalleryError.notFound("\(store.name) holds no index; run `facefind index FOLDER` on it first")
        }
        try self.init(store: store, settings: settings, serverSearcher: serverSearcher, loader: loader)
    }

    /// Opens a gallery to serve and add to: an empty store is bound to the default pipeline at `precision`
    /// (default: `Precision.preferred`, int8 where it pays); an existing one keeps the pipeline of its settings,
    /// and a `precision` other than its own is an error (its vectors would be mixed with incomparable ones). Also
    /// checks that the models installed here are those the store's vectors came from.
    public init(serving store: any GalleryStore, serverSearcher: (any GallerySearcher)? = nil, loader: ModelLoader,
                precision: Precision? = nil) throws {
        var fresh = PipelineConfiguration()
        fresh.precision = precision ?? Precision.preferred(for: fresh.embedder, repository: loader.repository)
        let existing = try store.settings()
        let configuration = try existing.map { try PipelineConfiguration(matching: $0) } ?? fresh
        if let precision, precision != configuration.precision {
            throw PipelineError.badOption("\(store.name) was built with the \(configuration.embedderModel) embedder "
                + "(\(configuration.precision.rawValue)); --precision \(precision.rawValue) would mix vectors")
        }
        let pipeline = try FacePipeline(configuration: configuration, loader: loader)
        try store.bind(pipeline.settings)
        self.store = store
        self.settings = pipeline.settings
        self.pipeline = pipeline
        self.serverSearcher = serverSearcher
    }

    private init(store: any GalleryStore, settings: IndexSettings, serverSearcher: (any GallerySearcher)?,
                 loader: ModelLoader) throws {
        self.store = store
        self.settings = settings
        pipeline = try FacePipeline(configuration: try PipelineConfiguration(matching: settings), loader: loader)
        self.serverSearcher = serverSearcher
    }
}
