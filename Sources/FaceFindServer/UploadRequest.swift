import FaceFind
import FaceFindMultipart
import Foundation
import Hummingbird

/// The images and parameters of a request that carries photos: `multipart/form-data` (image fields plus text
/// fields such as `k` or `name`), or one photo as the raw body with parameters in the query string.
struct UploadRequest: Sendable {
    var images: [ImageUpload]
    /// Query parameters, overridden by form text fields of the same name.
    var fields: [String: String]

    /// The image media types a raw body may name: the decoders' formats. The error message and the OpenAPI
    /// document list them from here.
    static let imageTypes = ["image/jpeg", "image/png", "image/webp", "image/heic", "image/heif", "image/avif"]

    /// Raw bodies must say they are an image, or say nothing; anything else (JSON, a form, text) is 415 before
    /// a byte of it is read.
    static let rawTypes = Set(imageTypes + ["", "image/jpg", "application/octet-stream"])

    /// Checks size and type from the headers alone (413, 415), so that callers can refuse a request before
    /// queueing it; returns the multipart boundary, nil for a raw body.
    @discardableResult
    static func check(_ request: Request, configuration: ServerConfiguration) throws -> String? {
        let limit = configuration.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw APIError.tooLarge("request body is \(length) bytes; the limit is \(limit) bytes")
        }
        let contentType = request.headers[.contentType] ?? ""
        let boundary = Multipart.boundary(contentType: contentType)
        let mediaType = MediaType.parse(contentType).type
        if boundary == nil && !rawTypes.contains(mediaType) {
            throw APIError.unsupportedMediaType(mediaType.isEmpty ? contentType : mediaType)
        }
        return boundary
    }

    /// Checks the headers, then reads the body within `limits` (size, deadline, rate) and parses it. Only the
    /// field `image` may carry a photo: a file in any other field is refused (400 naming the field), so a client
    /// that misnames its field learns why instead of having some other part taken for the photo.
    static func read(_ request: Request, configuration: ServerConfiguration, limits: BodyLimits,
                     maxImages: Int = 1, onTimeout: @escaping @Sendable (String) -> Void) async throws -> UploadRequest {
        let boundary = try check(request, configuration: configuration)

        var fields: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { fields[String(key)] = String(value) }

        let buffer = try await BodyReader.collect(request.body, limits: limits, onTimeout: onTimeout)
        let body = Array(buffer.readableBytesView)

        var images: [ImageUpload] = []
        if let boundary {
            let parts: [MultipartPart]
            do { parts = try Multipart.parse(body, boundary: boundary) } catch let error as MultipartError {
                throw APIError.badRequest(error.description, code: "bad_multipart")
            }
            for part in parts {
                if part.name == imageField {
                    images.append(ImageUpload(name: part.filename.map { $0.isEmpty ? "upload" : $0 } ?? part.name,
                                              bytes: Array(part.body)))
                } else if part.filename != nil {
                    throw APIError.badRequest("the form field `\(part.name.prefix(60))` holds a file; send the photo "
                                              + "in a field named `\(imageField)`", code: "unexpected_file_field")
                } else {
                    fields[part.name] = part.text
                }
            }
            guard !images.isEmpty else {
                throw APIError.badRequest("the form has no image: send the photo in a field named `\(imageField)`",
                                          code: "no_image")
            }
        } else {
            guard !body.isEmpty else {
                throw APIError.badRequest("the request has no image: send the photo as the body, or as a form "
                                          + "field named `\(imageField)`", code: "no_image")
            }
            images = [ImageUpload(name: fields["filename"] ?? "upload", bytes: body)]
        }
        guard images.count <= maxImages else {
            throw APIError.badRequest("\(images.count) images in one request; at most \(maxImages) accepted here",
                                      code: "too_many_images")
        }
        return UploadRequest(images: images, fields: fields)
    }

    /// The one form field that carries photos.
    static let imageField = "image"
}
