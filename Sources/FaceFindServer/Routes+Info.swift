import FaceFind
import Foundation
import Hummingbird

extension FaceFindService {
    /// `GET /v1/health`: liveness plus what a dashboard wants at a glance; reads memory only, never the store,
    /// so it answers even when every worker is busy.
    func health() throws -> Response {
        let counts = engine.index.counts
        let body = HealthJSON(
            status: "ok", version: Self.version, images: counts.images,
            faces: counts.faces, uptimeSeconds: (ContinuousClock.now - started).seconds,
            queues: .init(inference: inference.stats, storage: storage.stats))
        return try JSON.response(body)
    }

    /// `GET /v1/models`: the pipeline the gallery was built with and the model catalog.
    func models() throws -> Response {
        let settings = engine.pipeline.settings
        let inUse: Set<String> = [settings.detector, settings.embedder]
        let models = ModelCatalog.all.map { spec in
            ModelsJSON.Model(name: spec.name, task: spec.task.rawValue, license: spec.license,
                             installed: engine.repository.isInstalled(spec), inUse: inUse.contains(spec.name),
                             summary: spec.summary)
        }
        return try JSON.response(ModelsJSON(index: settings, onnxRuntime: engine.runtimeVersion, models: models))
    }

    /// The page and its two assets. Separate files (not inline) so the Content-Security-Policy can forbid
    /// inline script: user-controlled text (names, labels) can then never run as code.
    func addPageRoutes(_ group: RouterGroup<ServerRequestContext>) {
        let security: HTTPFields = [
            .contentSecurityPolicy: "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; "
                + "base-uri 'none'; frame-ancestors 'none'",
            .xContentTypeOptions: "nosniff",
            .cacheControl: "no-cache",
        ]
        group.get("/") { _, _ in Self.text(WebPage.html, type: "text/html; charset=utf-8", headers: security) }
        group.get("/app.js") { _, _ in
            Self.text(WebPage.script, type: "text/javascript; charset=utf-8", headers: security)
        }
        group.get("/app.css") { _, _ in Self.text(WebPage.style, type: "text/css; charset=utf-8", headers: security) }
    }
}
