import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    /// The API key header. A valid token literal, so the initializer cannot fail.
    static let apiKey = HTTPField.Name("X-API-Key")!
}

/// Requires the API key on the routes of its group: `X-API-Key: KEY` or `Authorization: Bearer KEY`.
/// A group for reads is built with `required: false` unless `--protect-reads` is on, so one middleware type
/// serves both levels.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: String
    let required: Bool

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        if required {
            guard let given = Self.presentedKey(request.headers) else {
                throw APIError.unauthorized("this endpoint needs the API key: send it as `X-API-Key: KEY` or "
                                            + "`Authorization: Bearer KEY`")
            }
            guard Self.constantTimeEqual(given, key) else {
                throw APIError.unauthorized("the API key is wrong")
            }
        }
        return try await next(request, context)
    }

    static func presentedKey(_ headers: HTTPFields) -> String? {
        if let key = headers[.apiKey], !key.isEmpty { return key }
        if let authorization = headers[.authorization], authorization.lowercased().hasPrefix("bearer ") {
            return String(authorization.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    /// Compares without an early exit, so response timing does not reveal how much of a guess was right.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(truncatingIfNeeded: x.count ^ y.count)
        for i in 0..<max(x.count, y.count) {
            difference |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return difference == 0 && x.count == y.count
    }
}
