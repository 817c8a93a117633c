import FaceFind
import Foundation
import Hummingbird

extension FaceFindService {
    /// `GET /v1/people?hidden=true`: the persons, largest first.
    func listPeople(_ request: Request) async throws -> Response {
        let hidden = try Self.flag(Self.query(request), "hidden")
        let engine = self.engine
        return try JSON.response(try await storage.run { _ in try engine.persons(includeHidden: hidden ?? false) })
    }

    /// `GET /v1/people/{id}`: one person with its faces.
    func getPerson(_ id: Int64) async throws -> Response {
        let engine = self.engine
        return try JSON.response(try await storage.run { _ in try engine.person(id: id) })
    }

    /// `PATCH /v1/people/{id}?name=NAME&hidden=true|false`: renames (an empty name removes it) and/or hides.
    func changePerson(_ request: Request, id: Int64) async throws -> Response {
        let fields = Self.query(request)
        let name = fields["name"]
        let hidden = try Self.flag(fields, "hidden")
        guard name != nil || hidden != nil else { throw APIError.badRequest("give name= or hidden=") }
        let engine = self.engine
        return try JSON.response(try await storage.run { _ in try engine.change(person: id, name: name, hidden: hidden) })
    }

    /// `POST /v1/people/{id}/merge?from=OTHER`: person OTHER's faces become person id's.
    func mergePerson(_ request: Request, id: Int64) async throws -> Response {
        guard let text = Self.query(request)["from"], let other = Int64(text), other > 0 else {
            throw APIError.badRequest("give from=ID, the person whose faces join this one")
        }
        let engine = self.engine
        return try JSON.response(try await storage.run { _ in try engine.merge(other, into: id) })
    }

    /// A true/false query field (nil when absent).
    static func flag(_ fields: [String: String], _ name: String) throws -> Bool? {
        guard let text = fields[name] else { return nil }
        switch text {
        case "true", "1": return true
        case "false", "0": return false
        default: throw APIError.badRequest("\(name) must be true or false, not '\(text)'")
        }
    }
}
