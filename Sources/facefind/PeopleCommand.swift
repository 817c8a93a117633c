import ArgumentParser
import FaceFind
import Foundation

/// `facefind people …`: the gallery's faces grouped into persons, and the user's corrections.
struct PeopleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "people",
        abstract: "Group the indexed faces into persons, then list, show, name, merge, split, hide and export them.",
        discussion: """
            facefind people cluster --db photos.sqlite      # after each `facefind index`
            facefind people list
            facefind people name 3 "Ada Lovelace"
            facefind search --person "Ada Lovelace"         # every photo of her
            A face a user named, merged or split stays where the user put it when the gallery is clustered again,
            and a person keeps its id (and name) while most of its faces stay together.
            """,
        subcommands: [Cluster.self, List.self, Show.self, Name.self, Merge.self, Split.self, Hide.self, Export.self])
}

/// The index the people commands work on: a SQLite file (`--db`) or a PostgreSQL store (`--store`).
struct PeopleIndexOptions: ParsableArguments {
    @Option(help: "Index file (SQLite) made by `facefind index` (default facefind.sqlite).")
    var db: String?

    @OptionGroup var store: StoreOption

    func validate() throws { try store.validate(db: db) }

    /// The indexed gallery; never created (a mistyped name must not leave an empty index behind).
    func open() throws -> any GalleryStore { try Gallery.store(at: store.location(db: db), create: false) }

    /// The gallery's persons.
    func people() throws -> any PeopleStore { try PeopleClustering.people(of: open()) }
}

/// Runs a people command's body: a failure is one line naming the problem and exit status 1.
private func peopleRun(_ body: () throws -> Void) throws {
    do { try body() } catch let exit as ExitCode { throw exit } catch { throw fail(error) }
}

extension PeopleCommand {
    struct Cluster: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cluster every indexed face into persons (again after new photos are indexed).")

        @OptionGroup var index: PeopleIndexOptions

        @Option(help: "Cosine similarity from which two faces are linked, measured centred for embedders the clustering centres (FaceNet-512, MobileFaceNet) (default: the embedder's calibrated clustering threshold, its similarity at a false-accept rate of 1e-5).")
        var linkThreshold: Float?

        @Option(help: "Nearest faces searched per face.")
        var neighbours = PeopleClustering.defaultNeighbours

        @Option(help: "Smallest cluster that becomes a person; smaller ones stay unassigned.")
        var minFaces = 2

        @Flag(help: "Print the summary as JSON.")
        var json = false

        func validate() throws {
            if let linkThreshold, !(-1...1).contains(linkThreshold) {
                throw ValidationError("--link-threshold is a cosine similarity, from -1 to 1")
            }
            guard neighbours >= 1 else { throw ValidationError("--neighbours must be at least 1") }
            guard minFaces >= 1 else { throw ValidationError("--min-faces must be at least 1") }
        }

        func run() throws {
            try peopleRun {
                let store = try index.open()
                let bar = ProgressBar(label: "neighbours")
                let summary = try PeopleClustering.clusterGallery(
                    store, threshold: linkThreshold, neighbours: neighbours, minimumFaces: minFaces,
                    progress: { done, total in bar.update(done: done, total: total, unit: "faces") })
                bar.finish()
                if json { try printJSON(summary); return }
                print("\(summary.persons) persons (\(summary.keptPersons) kept, \(summary.newPersons) new) hold "
                      + "\(summary.assigned) of \(summary.faces) faces; linked from cosine "
                      + String(format: "%.3f", summary.threshold) + String(format: "; %.1f s", summary.seconds))
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The persons, largest first, with a representative face.")

        @OptionGroup var index: PeopleIndexOptions

        @Flag(help: "Include hidden persons.")
        var all = false

        @Flag(help: "Print the persons as JSON.")
        var json = false

        func run() throws {
            try peopleRun {
                let people = try index.people().people(includeHidden: all)
                if json { try printJSON(people); return }
                for p in people {
                    let name = p.name.map { "\"\(printable($0))\"" } ?? "-"
                    print("\(p.id)\t\(name)\t\(p.faceCount) faces\t\(p.photoCount) photos"
                          + (p.hidden ? "\thidden" : "") + "\t\(printable(p.representative?.path ?? ""))")
                }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One person's faces (photo and box), optionally drawn.")

        @OptionGroup var index: PeopleIndexOptions

        @Argument(help: "The person's id or name.")
        var person: String

        @Option(help: "Write a picture of the person's faces (PNG, the first 64).")
        var montage: String?

        @Flag(help: "Print the faces as JSON.")
        var json = false

        func run() throws {
            try peopleRun {
                let store = try index.people()
                let person = try store.person(self.person)
                let faces = try store.faces(ofPerson: person.id)
                if let montage {
                    let decoder = ImageDecoder()
                    let title = "person \(person.id)" + (person.name.map { " \($0)" } ?? "")
                        + ": \(person.faceCount) faces in \(person.photoCount) photos"
                    try PersonMontage.render(title: title, faces: faces) { try? decoder.decode(contentsOf: $0) }
                        .writePNG(to: montage)
                }
                if json { try printJSON(faces); return }
                for face in faces {
                    let b = face.box
                    print("\(face.faceID)\t\(printable(face.path))\t" + String(format: "%.0f,%.0f %.0fx%.0f", b.x, b.y, b.width, b.height)
                          + (face.pinned ? "\tpinned" : ""))
                }
            }
        }
    }

    struct Name: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Name a person (its faces then stay with it when clustered again).")

        @OptionGroup var index: PeopleIndexOptions

        @Argument(help: "The person's id or current name.")
        var person: String

        @Argument(help: "The new name (unique in the index; not all digits).")
        var name: String

        func run() throws {
            try peopleRun {
                let store = try index.people()
                try store.name(person: try store.person(person).id, name)
            }
        }
    }

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make two persons one: B's faces join A, and B is gone.")

        @OptionGroup var index: PeopleIndexOptions

        @Argument(help: "The person that stays (id or name).")
        var a: String

        @Argument(help: "The person merged into it (id or name).")
        var b: String

        func run() throws {
            try peopleRun {
                let store = try index.people()
                try store.merge(try store.person(b).id, into: try store.person(a).id)
            }
        }
    }

    struct Split: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move some faces of a person to a new person (face ids from `people show`).")

        @OptionGroup var index: PeopleIndexOptions

        @Argument(help: "The person's id or name.")
        var person: String

        @Option(help: "The face ids to move, comma-separated.")
        var faces: Sweep<Int64>

        func run() throws {
            try peopleRun {
                let store = try index.people()
                let new = try store.split(person: try store.person(person).id, faces: faces.values)
                print(new)
            }
        }
    }

    struct Hide: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Hide a person from lists (or show it again with --unhide).")

        @OptionGroup var index: PeopleIndexOptions

        @Argument(help: "The person's id or name.")
        var person: String

        @Flag(help: "Show the person again.")
        var unhide = false

        func run() throws {
            try peopleRun {
                let store = try index.people()
                try store.hide(person: try store.person(person).id, !unhide)
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every face with its photo, box, person id and name, as JSON.")

        @OptionGroup var index: PeopleIndexOptions

        @Flag(help: "JSON, the one format (accepted so that `people export --json` reads as it does).")
        var json = false

        struct Row: Encodable {
            var face: Int64
            var path: String
            var box: Box
            var person: Int64?
            var name: String?
            var pinned: Bool
        }

        func run() throws {
            try peopleRun {
                let store = try index.people()
                let names = Dictionary(try store.people(includeHidden: true).map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
                try printJSON(try store.allFaces().map { f in
                    Row(face: f.faceID, path: f.path, box: f.box, person: f.person,
                        name: f.person.flatMap { names[$0] ?? nil }, pinned: f.pinned)
                })
            }
        }
    }
}
