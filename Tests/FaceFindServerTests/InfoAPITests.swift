import FaceFind
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import FaceFindServer

/// Health, models, metrics, the page and its assets, OpenAPI, unknown routes, and read protection.
@Suite struct InfoAPITests {
    /// `serve --precision` chooses a new index's precision; an existing index keeps its own, and asking for the
    /// other is refused at start (its vectors would mix with another model's), naming both.
    @Test func anExistingIndexKeepsItsPrecision() throws {
        #expect(throws: (any Error).self) { try Fixture.service { $0.precision = .int8 } }
        do {
            _ = try Fixture.service { $0.precision = .int8 }
        } catch {
            #expect("\(error)".contains("facenet512") && "\(error)".contains("--precision int8"), "\(error)")
        }
        _ = try Fixture.service { $0.precision = .fp32 }
    }

    @Test func reportsHealthAndModels() async throws {
        try await Fixture.service().test { client in
            let health = try await client.get("/v1/health")
            #expect(health.status == .ok)
            let body = try health.json(HealthJSON.self)
            #expect(body.status == "ok" && body.images == 12 && body.faces >= 12)
            #expect(body.queues.inference.workers == 2 && body.queues.inference.capacity == 64)
            #expect(body.queues.inference.running == 0 && body.queues.inference.waiting == 0)

            let models = try await client.get("/v1/models").json(ModelsJSON.self)
            #expect(models.index.detector == "yunet" && models.index.embedder == "facenet512")
            #expect(models.index.dimension == 512)
            #expect(Set(models.models.filter(\.inUse).map(\.name)) == ["yunet", "facenet512"])
            #expect(models.models.filter(\.inUse).allSatisfy { $0.installed })
            #expect(!models.onnxRuntime.isEmpty)
        }
    }

    @Test func exportsPrometheusMetrics() async throws {
        try await Fixture.service().test { client in
            _ = try await client.search(Fixture.photo("Tiger_Woods", 1))
            _ = try await client.get("/v1/gallery/99999")
            _ = try await client.get("/no/such/page")
            let response = try await client.get("/metrics")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = response.text
            for expected in [
                #"facefind_http_requests_total{method="POST",route="/v1/search",status="200"} 1"#,
                #"facefind_http_requests_total{method="GET",route="/v1/gallery/{id}",status="404"} 1"#,
                #"facefind_http_request_duration_seconds_count{method="POST",route="/v1/search"} 1"#,
                #"facefind_stage_duration_seconds_count{stage="decode"} 1"#,
                #"facefind_stage_duration_seconds_count{stage="detect_embed"} 1"#,
                #"facefind_stage_duration_seconds_count{stage="search"} 1"#,
                #"facefind_stage_duration_seconds_count{stage="queue_wait_inference"} 1"#,
                #"facefind_queue_depth{queue="inference"} 0.0"#,
                #"facefind_queue_running{queue="inference"} 0.0"#,
                "facefind_gallery_images 12.0",
                "# TYPE facefind_stage_duration_seconds histogram",
            ] {
                #expect(text.contains(expected), "\(expected)")
            }
            // Unknown paths share one label value, whatever they are.
            #expect(!text.contains("/no/such/page"))
            #expect(text.contains("process_resident_memory_bytes"))
        }
    }

    @Test func servesThePageWithoutExternalAssets() async throws {
        try await Fixture.service().test { client in
            let page = try await client.get("/")
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            let csp = try #require(page.headers[.contentSecurityPolicy])
            #expect(csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"))
            let html = page.text
            for id in ["query-file", "results", "query-faces", "gallery", "add-form", "api-key", "prev-page", "next-page"] {
                #expect(html.contains("id=\"\(id)\""), "\(id)")
            }
            #expect(html.contains("name=\"viewport\""))
            // No external assets, no inline script.
            #expect(!html.contains("http://") && !html.contains("https://"))
            #expect(!html.contains("<script>"))
            let script = try await client.get("/app.js")
            #expect(script.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(script.text.contains("/v1/search") && !script.text.contains("innerHTML"))
            let style = try await client.get("/app.css")
            #expect(style.headers[.contentType] == "text/css; charset=utf-8" && style.text.contains("@media"))
            let yaml = try await client.get("/openapi.yaml")
            #expect(yaml.headers[.contentType] == "application/yaml; charset=utf-8")
            #expect(yaml.text.hasPrefix("openapi: 3.1.0"))
        }
    }

    @Test func unknownRoutesAnswerJSON404() async throws {
        try await Fixture.service().test { client in
            let response = try await client.get("/v2/anything")
            #expect(response.status == .notFound)
            let error = try response.error()
            #expect(error.code == "not_found" && error.message.contains("/v2/anything"))
            #expect(try await client.execute(uri: "/v1/health", method: .delete).status == .notFound)
        }
    }

    @Test func protectsReadsWhenAsked() async throws {
        let service = try Fixture.service { $0.protectReads = true }
        try await service.test { client in
            let photo = Fixture.photo("Tiger_Woods", 1)
            #expect(try await client.search(photo).status == .unauthorized)
            for path in ["/v1/gallery", "/v1/gallery/1", "/v1/gallery/1/thumbnail", "/v1/models", "/metrics"] {
                #expect(try await client.get(path).status == .unauthorized, "\(path)")
                let allowed = try await client.get(path, headers: [.authorization: "Bearer \(Fixture.apiKey)"])
                #expect(allowed.status == .ok, "\(path)")
            }
            var form = MultipartBody()
            form.file("image", filename: "q.jpg", try Fixture.bytes(photo))
            #expect(try await client.post("/v1/search", form: form, key: Fixture.apiKey).status == .ok)
            // What a browser needs before it has the key, and probes, stay open.
            for path in ["/", "/app.js", "/app.css", "/openapi.yaml", "/v1/health"] {
                #expect(try await client.get(path).status == .ok, "\(path)")
            }
        }
    }
}
