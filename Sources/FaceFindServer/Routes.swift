import FaceFind
import Foundation
import Hummingbird

extension FaceFindService {
    /// Every route of the service. Middleware order, outermost first: metrics (sees final statuses), JSON
    /// errors, then the API key check per group.
    public func makeRouter() -> Router<ServerRequestContext> {
        let router = Router(context: ServerRequestContext.self)
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
        reads.post("/v1/search") { request, context in try await self.search(request, context: context) }
        reads.post("/v1/verify") { request, context in try await self.verify(request, context: context) }
        reads.post("/v1/embed") { request, context in try await self.embed(request, context: context) }
        reads.get("/v1/gallery") { request, _ in try await self.listGallery(request) }
        reads.get("/v1/gallery/{id}") { _, context in try await self.getImage(try Self.id(context)) }
        reads.get("/v1/gallery/{id}/thumbnail") { request, context in
            try await self.thumbnail(request, id: try Self.id(context))
        }

        reads.get("/v1/people") { request, _ in try await self.listPeople(request) }
        reads.get("/v1/people/{id}") { _, context in try await self.getPerson(try Self.id(context)) }

        writes.post("/v1/gallery") { request, context in try await self.addImages(request, context: context) }
        writes.patch("/v1/people/{id}") { request, context in try await self.changePerson(request, id: try Self.id(context)) }
        writes.post("/v1/people/{id}/merge") { request, context in
            try await self.mergePerson(request, id: try Self.id(context))
        }
        writes.delete("/v1/gallery/{id}") { _, context in try await self.deleteImage(try Self.id(context)) }
        return router
    }

    // MARK: - Helpers shared by the route files

    /// The photos and fields of a search or an addition. Size and type are checked from the headers (413,
    /// 415), then the whole body is read within the deadline and minimum rate, and only then may the caller
    /// take a place in a work queue: a client that trickles its body holds a socket for seconds, never a queue
    /// place. A client too slow gets 408, is counted, and its connection is closed.
    func receive(_ request: Request, context: ServerRequestContext, maxImages: Int = 1) async throws -> UploadRequest {
        let metrics = self.metrics
        let channel = context.channel
        let logger = context.logger
        return try await UploadRequest.read(request, configuration: configuration, limits: BodyLimits(configuration),
                                            maxImages: maxImages) { reason in
            metrics.slowClient()
            logger.notice("closing a slow client's connection: \(reason)")
            // No more reading from this client: Hummingbird would otherwise wait for the rest of the body
            // before the next request. The 408 is still written, then the connection closes.
            channel.close(mode: .input, promise: nil)
        }
    }

    static func id(_ context: ServerRequestContext) throws -> Int64 {
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
