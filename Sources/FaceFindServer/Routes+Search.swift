import FaceFind
import Foundation
import Hummingbird

extension FaceFindService {
    /// `POST /v1/search`: the faces of the query photo and the gallery images ranked for the chosen face.
    func search(_ request: Request, context: ServerRequestContext) async throws -> Response {
        let upload = try await receive(request, context: context)
        let options = try searchOptions(upload.fields)
        // Every face of the photo searched: bulk work, kept to its share of the workers.
        let admission = try inference.admit(options.face == .choice(.all) ? .bulk : .normal)
        let image = upload.images[0]
        let engine = self.engine
        let result = try await admission.run { waited in
            try engine.search(image, options: options, waited: waited)
        }
        return try JSON.response(result)
    }

    /// k, metric, face and threshold from the query string or form fields; 400 naming a bad one.
    func searchOptions(_ fields: [String: String]) throws -> SearchOptions {
        let k = try Self.integer(fields, "k", default: configuration.defaultK, range: 1...configuration.maxK)
        var metric = DistanceMetric.cosine
        if let text = fields["metric"], !text.isEmpty {
            guard let value = DistanceMetric(rawValue: text.lowercased()) else {
                throw APIError.badRequest("metric must be cosine or euclidean, got \"\(text.prefix(40))\"",
                                          code: "bad_parameter")
            }
            metric = value
        }
        var face = FaceSelection.choice(.largest)
        if let text = fields["face"], !text.isEmpty {
            guard let value = FaceSelection(text) else {
                throw APIError.badRequest("face must be largest, center, score, prominent, all or a face number from 0, "
                                          + "got \"\(text.prefix(40))\"", code: "bad_parameter")
            }
            face = value
        }
        var threshold: Float?
        if let text = fields["threshold"], !text.isEmpty {
            guard let value = Float(text), value.isFinite else {
                throw APIError.badRequest("threshold must be a number, got \"\(text.prefix(40))\"",
                                          code: "bad_parameter")
            }
            threshold = value
        }
        return SearchOptions(k: k, metric: metric, face: face, threshold: threshold)
    }
}
