import FaceFind
import Foundation
import Hummingbird
import Testing

@testable import FaceFindServer

/// Keeps /openapi.yaml in step with the code: the same routes, and schemas that list exactly the fields the
/// server encodes.
@Suite struct OpenAPITests {
    /// The document's `paths`: path → methods.
    static func documentedRoutes() -> [String: Set<String>] {
        var routes: [String: Set<String>] = [:]
        var inPaths = false
        var current: String?
        for line in OpenAPIDocument.yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" { inPaths = true; continue }
            if inPaths, !line.isEmpty, !line.hasPrefix(" ") { break }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), !line.hasPrefix("   ") {
                current = String(line.dropFirst(2).dropLast())
                routes[current ?? ""] = []
            } else if let path = current, line.hasPrefix("    "), !line.hasPrefix("     ") {
                let key = line.trimmingCharacters(in: .whitespaces).dropLast()
                if ["get", "post", "put", "patch", "delete"].contains(String(key)) {
                    routes[path, default: []].insert(key.uppercased())
                }
            }
        }
        return routes
    }

    /// `components.schemas`: schema name → property names.
    static func documentedSchemas() -> [String: Set<String>] {
        var schemas: [String: Set<String>] = [:]
        var inSchemas = false
        var current: String?
        var inProperties = false
        for line in OpenAPIDocument.yaml.split(separator: "\n") {
            if line == "  schemas:" { inSchemas = true; continue }
            guard inSchemas else { continue }
            let indent = line.prefix { $0 == " " }.count
            if indent < 4 { break }
            let key = line.trimmingCharacters(in: .whitespaces)
            if indent == 4 {
                current = String(key.dropLast())
                schemas[current ?? ""] = []
                inProperties = false
            } else if indent == 6 {
                inProperties = key == "properties:"
            } else if indent == 8, inProperties, let name = current, key.hasSuffix(":") {
                schemas[name, default: []].insert(String(key.dropLast()))
            }
        }
        return schemas
    }

    @Test func documentsExactlyTheRouterRoutes() throws {
        let service = try Fixture.service()
        defer { service.shutdown() }
        var served: [String: Set<String>] = [:]
        for route in service.makeRouter().routes {
            // The router writes captures as `{id}` (like OpenAPI) or `:id`; normalise to the OpenAPI form.
            let path = route.path.description.split(separator: "/", omittingEmptySubsequences: false).map {
                $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0)
            }.joined(separator: "/")
            served[path.isEmpty ? "/" : path, default: []].insert(route.method.rawValue)
        }
        let documented = Self.documentedRoutes()
        #expect(documented == served, "document: \(documented.sorted { $0.key < $1.key }), router: \(served.sorted { $0.key < $1.key })")
        #expect(documented.count == 16)
    }

    @Test func schemasNameTheFieldsTheServerSends() throws {
        let box = Box(x: 1, y: 2, width: 3, height: 4)
        let face = FaceJSON(index: 0, face: DetectedFace(box: box, score: 0.9,
                                                         landmarks: Landmarks5((0..<5).map { _ in Point2(1, 2) })))
        let image = ImageJSON(id: 1, path: "/p.jpg", name: "p.jpg", label: "x", sha256: "s", bytes: 1, width: 2,
                              height: 3, faceCount: 1, error: "e", thumbnail: "/t", faces: [face])
        let result = ResultJSON(rank: 1, id: 1, path: "/p", name: "p", label: "l", score: 0.5, unknown: false,
                                box: box, faceId: 1, wholeImage: false, queryFace: 0, width: 1, height: 1,
                                thumbnail: "/t", time: FaceTime(start: 0, end: 2, frame: 1),
                                appearances: [FaceTime(start: 0, end: 2, frame: 1)])
        let search = SearchJSON(query: .init(name: "q", width: 1, height: 1), faces: [face], chosenFaces: [0],
                                metric: .cosine, k: 1, threshold: 0.6, unknown: false, results: [result],
                                timings: .init(queueMs: 0, decodeMs: 0, detectEmbedMs: 0, searchMs: 0))
        let stats = WorkQueue.Stats(workers: 1, capacity: 1, running: 0, waiting: 0)
        let health = HealthJSON(status: "ok", version: "v", images: 1, faces: 1, uptimeSeconds: 1,
                                queues: .init(inference: stats, storage: stats))
        // The real settings of a pipeline, so that a field the library adds shows up here.
        let service = try Fixture.service()
        defer { service.shutdown() }
        let settings = service.engine.pipeline.settings
        let model = ModelsJSON.Model(name: "n", task: "detector", license: "l", installed: true, inUse: true,
                                     summary: "s")
        let error = APIError.ErrorBody(error: .init(status: 400, code: "c", message: "m"))
        let embedded = EmbedJSON(name: "a.jpg", width: 1, height: 1, embedder: "e",
                                 faces: [EmbedJSON.Face(face: face, embedding: [0.5])])
        let side = Verification.Photo(name: "a.jpg", width: 1, height: 1, faces: [face.asDetected], chosenFace: 0)
        let verification = VerifyJSON(Verification(first: side, second: side, embedder: "e", similarity: 0.9,
                                                   threshold: 0.5, falseAcceptRate: 1e-3, samePerson: true),
                                      falseAcceptRate: 1e-3)
        let personFace = PersonFaceJSON(faceId: 1, imageId: 1, path: "p", box: box, pinned: true, width: 2, height: 3,
                                        thumbnail: "/t")
        let samples: [String: any Encodable] = [
            "Box": box, "Point": Point2(1, 2), "Face": face, "Image": image, "Result": result, "SearchResult": search,
            "Query": search.query, "Timings": search.timings,
            "GalleryPage": GalleryPageJSON(images: [image], offset: 0, limit: 1, total: 2, nextOffset: 1),
            "Added": AddedJSON(added: [image]), "Deleted": DeletedJSON(deleted: 1), "QueueStats": stats,
            "Queues": health.queues, "Health": health, "IndexSettings": settings, "Model": model,
            "Models": ModelsJSON(index: settings, onnxRuntime: "1", models: [model]),
            "Error": error, "ErrorDetail": error.error, "Verification": verification, "VerifiedPhoto": verification.first,
            "Embedded": embedded, "EmbeddedFace": embedded.faces[0],
            "Person": PersonJSON(id: 1, name: "n", hidden: false, faceCount: 1, photoCount: 1, representative: personFace,
                                 faces: [personFace]),
            "PersonFace": personFace, "FaceTime": FaceTime(start: 0, end: 2, frame: 1),
        ]
        let documented = Self.documentedSchemas()
        #expect(Set(documented.keys) == Set(samples.keys))
        for (name, sample) in samples {
            let object = try JSONSerialization.jsonObject(with: try JSON.encoder().encode(sample)) as? [String: Any]
            let keys = Set(object?.keys.map { $0 } ?? [])
            #expect(documented[name] == keys, "schema \(name): document \(documented[name] ?? []), server \(keys)")
        }
    }

    @Test func everyReferenceResolves() {
        let yaml = OpenAPIDocument.yaml
        let references = yaml.components(separatedBy: "$ref: \"#/components/").dropFirst().compactMap {
            $0.split(separator: "\"").first.map(String.init)
        }
        #expect(!references.isEmpty)
        for reference in Set(references) {
            let parts = reference.split(separator: "/")
            guard parts.count == 2 else { Issue.record("odd reference \(reference)"); continue }
            #expect(yaml.contains("\n  \(parts[0]):\n") && yaml.contains("\n    \(parts[1]):\n"), "\(reference)")
        }
    }
}

extension FaceJSON {
    var asDetected: DetectedFace {
        DetectedFace(box: box, score: score, landmarks: landmarks.map { Landmarks5($0) }, isWholeImage: wholeImage)
    }
}
