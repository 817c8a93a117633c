import FaceFind
import Foundation
import Hummingbird

extension FaceFindService {
    /// Every route of the service. Middleware order, outermost first: metrics (sees final statuses), JSON
    /// errors, then the API key check per group.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        router.add(middleware: ErrorMiddleware())

        let open = router.group()
        let reads = router.group()
            .add(middleware: APIKeyMiddleware(key: configuration.apiKey, required: configuration.protectReads))
        let writes = router.group()
            .add(middleware: APIKeyMiddleware(key: configuration.apiKey, required: true))

        addPageRoutes(open)
        open.get("/openapi.yaml") { _, _ in Self.text(OpenAPIDocument.yaml, type: "application/yaml; charset=utf-8") }
        open.get("/v1/health") { _, _ in try self.health() }

        reads.get("/v1/models") { _, _ in try self.models() }
        reads.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: self.metrics.render())))
        }
        reads.post("/v1/search") { request, _ in try await self.search(request) }
        reads.get("/v1/gallery") { request, _ in try await self.listGallery(request) }
        reads.get("/v1/gallery/{id}") { _, context in try await self.getImage(try Self.id(context)) }
        reads.get("/v1/gallery/{id}/thumbnail") { request, context in
            try await self.thumbnail(request, id: try Self.id(context))
        }

        writes.post("/v1/gallery") { request, _ in try await self.addImages(request) }
        writes.delete("/v1/gallery/{id}") { _, context in try await self.deleteImage(try Self.id(context)) }
        return router
    }

    // MARK: - Helpers shared by the route files

    static func id(_ context: BasicRequestContext) throws -> Int64 {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else {
            throw APIError.badRequest("the image id must be a positive integer", code: "bad_id")
        }
        return id
    }

    static func text(_ body: String, type: String, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = type
        return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// An integer parameter in `range`, `fallback` when absent; 400 naming the parameter otherwise.
    static func integer(_ fields: [String: String], _ name: String, default fallback: Int,
                        range: ClosedRange<Int>) throws -> Int {
        guard let text = fields[name], !text.isEmpty else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw APIError.badRequest("\(name) must be an integer from \(range.lowerBound) to \(range.upperBound), "
                                      + "got \"\(text.prefix(40))\"", code: "bad_parameter")
        }
        return value
    }

    /// Query parameters as a dictionary (the last of repeated names wins).
    static func query(_ request: Request) -> [String: String] {
        var fields: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { fields[String(key)] = String(value) }
        return fields
    }
}
