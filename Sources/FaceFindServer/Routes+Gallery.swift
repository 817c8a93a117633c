import FaceFind
import Foundation
import Hummingbird

extension FaceFindService {
    /// `POST /v1/gallery`: adds one or more photos (all or none), answered 201 with their records.
    func addImages(_ request: Request, context: ServerRequestContext) async throws -> Response {
        let upload = try await receive(request, context: context, maxImages: configuration.maxImagesPerUpload)
        let label = upload.fields["name"]
        let admission = try inference.admit()
        let engine = self.engine
        let added = try await admission.run { _ in try engine.add(upload.images, label: label) }
        return try JSON.response(added, status: .created)
    }

    /// `GET /v1/gallery?offset=&limit=`: one page of the gallery, in id order.
    func listGallery(_ request: Request) async throws -> Response {
        let fields = Self.query(request)
        let offset = try Self.integer(fields, "offset", default: 0, range: 0...Int(Int32.max))
        let limit = try Self.integer(fields, "limit", default: configuration.defaultPageSize,
                                     range: 1...configuration.maxPageSize)
        let engine = self.engine
        return try JSON.response(try await storage.run { _ in try engine.page(offset: offset, limit: limit) })
    }

    /// `GET /v1/gallery/{id}`: one image with its faces.
    func getImage(_ id: Int64) async throws -> Response {
        let engine = self.engine
        return try JSON.response(try await storage.run { _ in try engine.image(id: id) })
    }

    /// `DELETE /v1/gallery/{id}`.
    func deleteImage(_ id: Int64) async throws -> Response {
        let engine = self.engine
        try await storage.run { _ in try engine.delete(id: id) }
        return try JSON.response(DeletedJSON(deleted: id))
    }

    /// The largest `t` a thumbnail takes: a day of video, in milliseconds.
    static let longestVideoMillis = 86_400_000

    /// `GET /v1/gallery/{id}/thumbnail?size=&t=`: a JPEG, longest side `size`; for a video, the frame at `t`
    /// milliseconds (default 0). Revalidated by ETag on every use (`no-cache`) because ids can be reused after a
    /// delete.
    func thumbnail(_ request: Request, id: Int64) async throws -> Response {
        let fields = Self.query(request)
        let size = try Self.integer(fields, "size", default: configuration.thumbnailSize,
                                    range: 16...configuration.maxThumbnailSize)
        let millis = try Self.integer(fields, "t", default: 0, range: 0...Self.longestVideoMillis)
        let engine = self.engine
        let thumbnail = try await storage.run { _ in try engine.thumbnail(id: id, size: size, millis: millis) }
        let headers: HTTPFields = [.eTag: thumbnail.etag, .cacheControl: "private, no-cache"]
        if let match = request.headers[.ifNoneMatch], match.split(separator: ",")
            .contains(where: { $0.trimmingCharacters(in: .whitespaces) == thumbnail.etag }) {
            return Response(status: .notModified, headers: headers)
        }
        var response = headers
        response[.contentType] = thumbnail.contentType
        return Response(status: .ok, headers: response, body: ResponseBody(byteBuffer: ByteBuffer(bytes: thumbnail.bytes)))
    }
}
