import FaceFind
import Foundation
import Hummingbird

/// An error answered as JSON: `{"error": {"status": 400, "code": "not_an_image", "message": "..."}}`.
/// `code` is stable for programs; `message` says what was wrong in words a person can act on.
public struct APIError: Error, HTTPResponseError, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try JSON.response(ErrorBody(error: .init(status: status.code, code: code, message: message)),
                                         status: status)
        response.headers.append(contentsOf: headers)
        return response
    }

    struct ErrorBody: Codable {
        struct Detail: Codable {
            var status: Int
            var code: String
            var message: String
        }
        var error: Detail
    }

    // MARK: - The errors the API answers

    static func badRequest(_ message: String, code: String = "bad_request") -> APIError {
        APIError(.badRequest, code: code, message)
    }

    /// 400 for data that is not a decodable image; the decoder's reason says why (a GIF, HTML, truncated JPEG).
    static func notAnImage(_ reason: String, name: String) -> APIError {
        APIError(.badRequest, code: "not_an_image", "\(name) is not a usable image: \(reason)")
    }

    /// A client too slow to send its request (the connection is closed after this answer).
    static func requestTimeout(_ message: String) -> APIError {
        APIError(.requestTimeout, code: "request_timeout", message, headers: [.connection: "close"])
    }

    static func unauthorized(_ message: String) -> APIError {
        APIError(.unauthorized, code: "unauthorized", message, headers: [.wwwAuthenticate: "Bearer realm=\"facefind\""])
    }

    static func notFound(_ message: String) -> APIError {
        APIError(.notFound, code: "not_found", message)
    }

    static func tooLarge(_ message: String) -> APIError {
        APIError(.contentTooLarge, code: "too_large", message)
    }

    static func unsupportedMediaType(_ got: String) -> APIError {
        APIError(.unsupportedMediaType, code: "unsupported_media_type",
                 "content type \(got) is not accepted: send multipart/form-data with an `image` field, or the image "
                 + "itself as \(UploadRequest.imageTypes.joined(separator: ", ")) or application/octet-stream")
    }

    static func overloaded(retryAfter: Int, what: String) -> APIError {
        APIError(.serviceUnavailable, code: "overloaded",
                 "the \(what) queue is full; retry in \(retryAfter) s",
                 headers: [.retryAfter: String(retryAfter)])
    }

    static func shuttingDown() -> APIError {
        APIError(.serviceUnavailable, code: "shutting_down", "the server is shutting down",
                 headers: [.retryAfter: "5", .connection: "close"])
    }

    /// The API error for an image decoding failure: too many pixels is 413 (a limit, like the body size),
    /// anything else 400. The pixel limit is recognised by the decoder's wording, which a test pins down.
    static func from(_ error: ImageDecodingError, name: String) -> APIError {
        if error.reason.contains("exceeds the limit") {
            return tooLarge("\(name): \(error.reason)")
        }
        return notAnImage(error.reason, name: name)
    }

    /// 413 `too_many_faces`: a request asked for more faces of one photo than the server embeds
    /// (`ServerConfiguration.maxFacesPerRequest`).
    static func from(_ error: TooManyFacesError, name: String) -> APIError {
        APIError(.contentTooLarge, code: "too_many_faces",
                 "\(name) has \(error.faces) faces; the server embeds at most \(error.limit) faces of one photo per "
                 + "request (serve --max-faces); choose one face (face=largest, center, score, prominent or a number)")
    }
}

/// Turns every error thrown below it into a JSON answer, so clients never see an HTML page or an empty 500,
/// and unknown routes answer 404 in the same format as the rest.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as ImageDecodingError {
            return try APIError.from(error, name: "the image").response(from: request, context: context)
        } catch let error as TooManyFacesError {
            return try APIError.from(error, name: "the photo").response(from: request, context: context)
        } catch let error as HTTPResponseError {
            // Hummingbird's own errors: unknown route (404), body over the collect limit (413), ...
            var message = error.status.reasonPhrase
            if let http = error as? HTTPError, let body = http.body { message = body }
            if error.status == .notFound { message = "no such endpoint: \(request.method) \(request.uri.path)" }
            if error.status == .contentTooLarge { message = "request body is larger than the server accepts" }
            let code = error.status == .notFound ? "not_found"
                : error.status == .contentTooLarge ? "too_large" : "http_\(error.status.code)"
            return try APIError(error.status, code: code, message, headers: (error as? HTTPError)?.headers ?? [:])
                .response(from: request, context: context)
        } catch let error as GalleryError {
            if case .notFound(let what) = error {
                return try APIError.notFound("not found: \(what)").response(from: request, context: context)
            }
            context.logger.error("store error: \(error)")
            // The store's message without its name: the name is the index file's path on the server.
            let message = if case .storage(_, let message) = error { message } else { "\(error)" }
            return try APIError(.internalServerError, code: "storage", "storage error: \(message)")
                .response(from: request, context: context)
        } catch is CancellationError {
            // The server is past its shutdown grace period and closing this connection.
            return try APIError.shuttingDown().response(from: request, context: context)
        } catch {
            // Unexpected: log the details, answer without them (they may hold paths or internals).
            context.logger.error("unexpected error on \(request.method) \(request.uri.path): \(error)")
            return try APIError(.internalServerError, code: "internal", "internal error; see the server log")
                .response(from: request, context: context)
        }
    }
}
