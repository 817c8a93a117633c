import FaceFind
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import FaceFindServer

/// Person names (issue 25, item 8): `PeopleError.checkedName`, the one check behind `facefind people name` and
/// `PATCH /v1/people/{id}` on both stores.
@Suite struct PersonNameTests {
    static func refusal(_ name: String) -> String? {
        do {
            _ = try PeopleError.checkedName(name)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func namesAreStoredInNFC() throws {
        // "é" as e + combining acute (what macOS file names and some keyboards give) is stored as U+00E9.
        let decomposed = "Rene\u{301}e"
        let stored = try PeopleError.checkedName(decomposed)
        #expect(stored == "Ren\u{E9}e" && Array(stored.unicodeScalars) == Array("Ren\u{E9}e".unicodeScalars))
        #expect(stored.utf8.count == 6)
    }

    @Test(arguments: [
        ("right-to-left override", "Alice\u{202E}ecilA"),
        ("left-to-right embedding", "\u{202A}Bob"),
        ("pop directional formatting", "Bob\u{202C}"),
        ("right-to-left isolate", "Bob\u{2067}x"),
        ("pop directional isolate", "Bob\u{2069}"),
        ("line separator", "Bob\u{2028}Smith"),
        ("paragraph separator", "Bob\u{2029}Smith"),
        ("byte order mark", "\u{FEFF}Bob"),
        ("byte order mark inside", "Bo\u{FEFF}b"),
        ("control character", "Bob\u{7}"),
    ])
    func formattingThatReordersOrBreaksTheTextIsRefused(what: String, name: String) {
        let refused = Self.refusal(name)
        #expect(refused != nil, "\(what) accepted")
        #expect(refused?.contains("bad name") == true, "\(what): \(refused ?? "")")
    }

    @Test func joinersThatNamesNeedAreKept() throws {
        // Persian with a zero-width non-joiner (U+200C), Devanagari with a zero-width joiner (U+200D), and an emoji
        // family joined by U+200D.
        for name in ["\u{645}\u{6CC}\u{200C}\u{646}\u{627}", "\u{915}\u{94D}\u{200D}\u{937}", "\u{1F469}\u{200D}\u{1F467}"] {
            #expect(try PeopleError.checkedName(name) == name.precomposedStringWithCanonicalMapping)
        }
    }

    @Test func lengthIsBoundInCharactersAndBytes() throws {
        // Characters: 200 pass, 201 do not.
        #expect(try PeopleError.checkedName(String(repeating: "a", count: 200)).count == 200)
        #expect(Self.refusal(String(repeating: "a", count: 201))?.contains("200 characters") == true)
        // Bytes: 200 four-byte emoji are 800 bytes and pass; 199 of them and one letter with two combining marks
        // (q + 2 x U+0307: 5 bytes, no precomposed form) are 801 bytes in 200 characters, refused.
        let emoji = String(repeating: "\u{1F600}", count: 200)
        #expect(try PeopleError.checkedName(emoji).utf8.count == PeopleError.maxNameBytes)
        let over = String(repeating: "\u{1F600}", count: 199) + "q\u{307}\u{307}"
        #expect(over.count == 200 && over.utf8.count == 801)
        #expect(Self.refusal(over)?.contains("800 bytes") == true)
        // The report: 10,000 combining marks on one letter, 20,001 bytes in one character.
        let zalgo = "a" + String(repeating: "\u{301}", count: 10_000)
        #expect(zalgo.count == 1)
        #expect(Self.refusal(zalgo)?.contains("800 bytes") == true)
    }

    /// Through the API: 400 bad_person_change for an override, the NFC name answered for a decomposed one.
    @Test func theAPIRefusesAndNormalises() async throws {
        let (service, cleanUp) = try PeopleAPITests.clusteredService()
        defer { cleanUp() }
        try await service.test { client in
            let person = try #require(try await client.get("/v1/people").json([PersonJSON].self).first)
            func rename(_ name: String) async throws -> TestResponse {
                let query = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                return try await client.execute(uri: "/v1/people/\(person.id)?name=\(query)", method: .patch,
                                                headers: [.apiKey: Fixture.apiKey])
            }
            for bad in ["Alice\u{202E}ecilA", "Bob\u{2028}Smith", "\u{FEFF}Bob", "a" + String(repeating: "\u{301}", count: 10_000)] {
                let refused = try await rename(bad)
                #expect(refused.status == .badRequest)
                #expect(try refused.error().code == "bad_person_change")
            }
            let named = try await rename("Rene\u{301}e").json(PersonJSON.self)
            // Scalars compared: Swift's == holds for canonically equivalent strings.
            #expect(named.name.map { Array($0.unicodeScalars) } == Array("Ren\u{E9}e".unicodeScalars))
        }
    }
}
