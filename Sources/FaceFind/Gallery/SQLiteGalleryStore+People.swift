import Foundation
import GRDB

/// Persons in the SQLite index: tables `persons` and `face_persons` (schema 3).
extension SQLiteGalleryStore: PeopleStore {
    public func personAssignments() throws -> [Int64: PersonAssignment] {
        try wrap {
            try pool.read { db in
                var result: [Int64: PersonAssignment] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT face_id, person_id, pinned FROM face_persons") {
                    result[row["face_id"]] = PersonAssignment(person: row["person_id"], pinned: row["pinned"])
                }
                return result
            }
        }
    }

    public func saveClustering(_ assignments: [Int64: Int64]) throws {
        try wrap {
            try pool.write { db in
                try db.execute(sql: "DELETE FROM face_persons WHERE pinned = 0")
                let pinned = Set(try Int64.fetchAll(db, sql: "SELECT face_id FROM face_persons"))
                for person in Set(assignments.values) {
                    try db.execute(sql: "INSERT OR IGNORE INTO persons (id) VALUES (?)", arguments: [person])
                }
                // Faces removed since the clustering was computed are skipped (no row to point at).
                for (face, person) in assignments where !pinned.contains(face) {
                    try db.execute(sql: """
                        INSERT INTO face_persons (face_id, person_id, pinned)
                        SELECT id, ?, 0 FROM faces WHERE id = ?
                        """, arguments: [person, face])
                }
                try Self.deleteEmptyPersons(db)
            }
        }
    }

    public func assign(_ assignments: [Int64: Int64]) throws {
        try wrap {
            try pool.write { db in
                for (face, person) in assignments {
                    try db.execute(sql: """
                        INSERT OR IGNORE INTO face_persons (face_id, person_id, pinned)
                        SELECT f.id, p.id, 0 FROM faces f, persons p WHERE f.id = ? AND p.id = ?
                        """, arguments: [face, person])
                }
            }
        }
    }

    public func nextPersonID() throws -> Int64 {
        try wrap { try pool.read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) + 1 FROM persons") ?? 1 } }
    }

    /// One value per appearance of a face of `faces f`: its id in a photo, its video and track in a video (the
    /// few faces kept of one track count once).
    static let appearanceKey = "COALESCE(f.image_id || ':' || f.time_start || ':' || f.time_end, f.id)"

    public func people(includeHidden: Bool) throws -> [Person] {
        try wrap {
            try pool.read { db in
                let rows = try Row.fetchAll(db, sql: """
                    SELECT p.id, p.name, p.hidden, COUNT(DISTINCT \(Self.appearanceKey)) AS faces,
                           COUNT(DISTINCT f.image_id) AS photos
                    FROM persons p JOIN face_persons fp ON fp.person_id = p.id JOIN faces f ON f.id = fp.face_id
                    \(includeHidden ? "" : "WHERE p.hidden = 0")
                    GROUP BY p.id ORDER BY faces DESC, p.id
                    """)
                return try rows.map { row in
                    let id: Int64 = row["id"]
                    return Person(id: id, name: row["name"], hidden: row["hidden"], faceCount: row["faces"],
                                  photoCount: row["photos"], representative: try Self.personFaces(db, person: id,
                                      order: "f.w * f.h DESC, f.id", limit: 1).first)
                }
            }
        }
    }

    public func person(_ idOrName: String) throws -> Person {
        let all = try people(includeHidden: true)
        if let id = Int64(idOrName), let found = all.first(where: { $0.id == id }) { return found }
        if let found = all.first(where: { $0.name == idOrName }) { return found }
        throw PeopleError.noSuchPerson("'\(idOrName)'")
    }

    public func faces(ofPerson id: Int64) throws -> [PersonFace] {
        try wrap { try pool.read { db in try Self.personFaces(db, person: id, order: "i.path, f.id") } }
    }

    public func allFaces() throws -> [PersonFace] {
        try wrap { try pool.read { db in try Self.personFaces(db, person: nil, order: "i.path, f.id") } }
    }

    public func name(person id: Int64, _ name: String?) throws {
        let name = try name.map(PeopleError.checkedName)
        try wrap {
            try pool.write { db in
                try Self.requirePerson(db, id)
                if let name, let other = try Int64.fetchOne(db, sql: "SELECT id FROM persons WHERE name = ? AND id != ?",
                                                              arguments: [name, id]) {
                    throw PeopleError.nameTaken(name: name, by: other, asked: id)
                }
                try db.execute(sql: "UPDATE persons SET name = ? WHERE id = ?", arguments: [name, id])
                try db.execute(sql: "UPDATE face_persons SET pinned = 1 WHERE person_id = ?", arguments: [id])
            }
        }
    }

    public func merge(_ other: Int64, into person: Int64) throws {
        guard other != person else { return }
        try wrap {
            try pool.write { db in
                try Self.requirePerson(db, person)
                try Self.requirePerson(db, other)
                let otherName = try String.fetchOne(db, sql: "SELECT name FROM persons WHERE id = ?", arguments: [other])
                try db.execute(sql: "UPDATE face_persons SET person_id = ?, pinned = 1 WHERE person_id IN (?, ?)",
                               arguments: [person, person, other])
                try db.execute(sql: "DELETE FROM persons WHERE id = ?", arguments: [other])
                if let otherName {
                    try db.execute(sql: "UPDATE persons SET name = COALESCE(name, ?) WHERE id = ?",
                                   arguments: [otherName, person])
                }
            }
        }
    }

    public func split(person: Int64, faces: [Int64]) throws -> Int64 {
        try wrap {
            try pool.write { db in
                try Self.requirePerson(db, person)
                let own = Set(try Int64.fetchAll(db, sql: "SELECT face_id FROM face_persons WHERE person_id = ?",
                                                 arguments: [person]))
                let strangers = faces.filter { !own.contains($0) }
                guard strangers.isEmpty, !faces.isEmpty else {
                    throw PeopleError.notTheirFaces(person: person, faces: strangers)
                }
                let new = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) + 1 FROM persons") ?? 1
                try db.execute(sql: "INSERT INTO persons (id) VALUES (?)", arguments: [new])
                try db.execute(sql: "UPDATE face_persons SET pinned = 1 WHERE person_id = ?", arguments: [person])
                for face in Set(faces) {
                    try db.execute(sql: "UPDATE face_persons SET person_id = ? WHERE face_id = ?", arguments: [new, face])
                }
                try Self.deleteEmptyPersons(db)
                return new
            }
        }
    }

    public func hide(person id: Int64, _ hidden: Bool) throws {
        try wrap {
            try pool.write { db in
                try Self.requirePerson(db, id)
                try db.execute(sql: "UPDATE persons SET hidden = ? WHERE id = ?", arguments: [hidden, id])
            }
        }
    }

    private static func requirePerson(_ db: Database, _ id: Int64) throws {
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM persons WHERE id = ?", arguments: [id]) != nil else {
            throw PeopleError.noSuchPerson(String(id))
        }
    }

    /// A person without faces is gone, name and all: every face it had was re-indexed, removed or moved.
    private static func deleteEmptyPersons(_ db: Database) throws {
        try db.execute(sql: "DELETE FROM persons WHERE id NOT IN (SELECT person_id FROM face_persons)")
    }

    /// The faces of `person` (every real face when nil, with its person if any), in `order`.
    private static func personFaces(_ db: Database, person: Int64?, order: String, limit: Int? = nil) throws -> [PersonFace] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT f.id AS face_id, f.image_id, i.path, i.width, i.height, f.x, f.y, f.w, f.h, fp.person_id, fp.pinned
            FROM faces f JOIN images i ON i.id = f.image_id
            \(person == nil ? "LEFT JOIN" : "JOIN") face_persons fp ON fp.face_id = f.id
            WHERE f.whole_image = 0 \(person == nil ? "" : "AND fp.person_id = ?")
            ORDER BY \(order)\(limit.map { " LIMIT \($0)" } ?? "")
            """, arguments: StatementArguments(person.map { [$0] } ?? []))
        return rows.map { row in
            PersonFace(faceID: row["face_id"], imageID: row["image_id"], path: row["path"],
                       box: Box(x: row["x"], y: row["y"], width: row["w"], height: row["h"]),
                       person: row["person_id"], pinned: row["pinned"] ?? false, imageWidth: row["width"],
                       imageHeight: row["height"])
        }
    }
}
