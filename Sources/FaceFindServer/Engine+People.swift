import FaceFind
import Foundation

/// The persons of the gallery (`facefind people cluster` makes them): what `/v1/people` answers and changes.
extension Engine {
    /// The store's persons (SQLite and PostgreSQL stores both keep them).
    private var people: any PeopleStore {
        get throws { try PeopleClustering.people(of: store) }
    }

    /// Persons, largest first; hidden ones only when asked for.
    func persons(includeHidden: Bool) throws -> [PersonJSON] {
        try Self.answering { try people.people(includeHidden: includeHidden).map { json($0, faces: nil) } }
    }

    /// One person with its faces.
    func person(id: Int64) throws -> PersonJSON {
        try Self.answering {
            let people = try self.people
            return json(try people.person(String(id)), faces: try people.faces(ofPerson: id))
        }
    }

    /// Names (an empty name removes it) and/or hides a person; answers it as it is after. The store checks the
    /// name and that the person exists.
    func change(person id: Int64, name: String?, hidden: Bool?) throws -> PersonJSON {
        try Self.answering {
            let people = try self.people
            if let name { try people.name(person: id, name.isEmpty ? nil : name) }
            if let hidden { try people.hide(person: id, hidden) }
            return try person(id: id)
        }
    }

    /// Moves every face of `other` to person `id` (see `PeopleStore.merge`, which checks that both exist).
    func merge(_ other: Int64, into id: Int64) throws -> PersonJSON {
        try Self.answering {
            guard other != id else { throw APIError.badRequest("a person cannot be merged into itself") }
            try self.people.merge(other, into: id)
            return try person(id: id)
        }
    }

    private func json(_ person: Person, faces: [PersonFace]?) -> PersonJSON {
        PersonJSON(id: person.id, name: person.name, hidden: person.hidden, faceCount: person.faceCount,
                   photoCount: person.photoCount, representative: person.representative.map(json),
                   faces: faces?.map(json))
    }

    private func json(_ face: PersonFace) -> PersonFaceJSON {
        PersonFaceJSON(faceId: face.faceID, imageId: face.imageID, path: clientPath(face.path), box: face.box,
                       pinned: face.pinned, width: face.imageWidth, height: face.imageHeight,
                       thumbnail: "/v1/gallery/\(face.imageID)/thumbnail")
    }

    /// `body` with the people errors as API errors: an unknown person 404, a name taken 409, a bad name 400.
    private static func answering<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as PeopleError {
            switch error {
            case .noSuchPerson: throw APIError.notFound("\(error)")
            case .nameTaken: throw APIError(.conflict, code: "name_taken", "\(error)")
            default: throw APIError.badRequest("\(error)", code: "bad_person_change")
            }
        }
    }
}
