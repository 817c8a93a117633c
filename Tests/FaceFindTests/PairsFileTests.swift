import Foundation
import Testing

@testable import FaceFind

// PairsFile: LFW's pairs.txt format (View 2), hand-written inputs and the real ../shared/faces/lfw-dev-pairs.txt.

@Suite("Evaluation: pairs files")
struct PairsFileTests {
    /// Parses `text`, expecting a failure; returns the error.
    private func failure(_ text: String) -> PairsFileError? {
        do {
            _ = try PairsFile(parsing: text, source: "t.txt")
            return nil
        } catch {
            return error
        }
    }

    @Test func readsTwoFolds() throws {
        let text = """
            2\t1
            Ann_Lee\t1\t2
            Ann_Lee\t3\tBob_Roe\t12
            Cy_Dee 4 5
            Cy_Dee 1 Ed_Fox 1

            """
        let file = try PairsFile(parsing: text)
        #expect(file.folds == 2 && file.pairsPerFold == 1 && file.pairs.count == 4)
        let p = file.pairs
        #expect(p[0] == .init(first: .init(name: "Ann_Lee", number: 1), second: .init(name: "Ann_Lee", number: 2),
                              samePerson: true, fold: 0, line: 2))
        #expect(p[1].samePerson == false && p[1].second == .init(name: "Bob_Roe", number: 12) && p[1].fold == 0)
        #expect(p[2].fold == 1 && p[2].samePerson && p[3].fold == 1 && !p[3].samePerson && p[3].line == 5)
        #expect(file.pairs(inFold: 1).map(\.line) == [4, 5])
        #expect(p[1].second.relativePath == "Bob_Roe/Bob_Roe_0012.jpg")
        #expect(PairsFile.path(of: p[0].first, in: "/data/lfw") == "/data/lfw/Ann_Lee/Ann_Lee_0001.jpg")
        #expect(file.photos.count == 8)
    }

    @Test func acceptsLFWHeaderSpacesCRLFAndSingleFoldHeader() throws {
        let lfw = try PairsFile(parsing: "1 2\r\nA 1 2\r\nB 1 3\r\nA 1 B 1\r\nA 2 C 4\r\n")
        #expect(lfw.folds == 1 && lfw.pairsPerFold == 2 && lfw.pairs.count == 4)
        #expect(lfw.pairs[3].second == .init(name: "C", number: 4))
        let dev = try PairsFile(parsing: "1\nA 1 2\nA 1 B 1")  // pairsDevTrain.txt style, no final newline
        #expect(dev.folds == 1 && dev.pairs.count == 2)
        let fromData = try PairsFile(data: Data("1 1\nA 1 2\nA 1 B 2\n".utf8))
        #expect(fromData.pairs.count == 2)
    }

    @Test func errorsNameTheLine() {
        let cases: [(String, Int?, String)] = [
            ("", nil, "empty file"),
            ("\n\n", nil, "empty file"),
            ("x 1\n", 1, "not a positive whole number"),
            ("1 2 3\n", 1, "two numbers"),
            ("0 5\n", 1, "not in 1...1000"),
            ("1 1\nA 1 2\n", 2, "ends after 1"),
            ("1 1\nA 1 2\nA 1 B 1\nC 1 2\n", 4, "more pairs than the header"),
            ("1 1\nA 1 B 2\nA 1 B 1\n", 2, "same-person pair `Name i j`"),
            ("1 1\nA 1 2\nA 1 2\n", 3, "different-person pair `NameA i NameB j`"),
            ("1 1\nA -1 2\nA 1 B 1\n", 2, "photo number '-1'"),
            ("1 1\nA +1 2\nA 1 B 1\n", 2, "photo number '+1'"),
            ("1 1\nA 1 10000\nA 1 B 1\n", 2, "not in 1...9999"),
            ("1 1\nA 0 2\nA 1 B 1\n", 2, "not in 1...9999"),
            ("1 1\nA 2 2\nA 1 B 1\n", 2, "twice"),
            ("1 1\nA 1 2\nA 1 A 3\n", 3, "names A twice"),
            ("1 1\n../etc 1 2\nA 1 B 1\n", 2, "path separator"),
            ("1 1\n.. 1 2\nA 1 B 1\n", 2, "contains '..'"),
            ("1 1\nA..B 1 2\nA 1 B 1\n", 2, "contains '..'"),
            ("1 1\nA 1 2\nA 1 B\\C 1\n", 3, "path separator"),
            // A combining mark after "/" or "\\" makes one Character with it: still a separator (FuzzPairs).
            ("1 1\na/\u{301}b 1 2\nA 1 B 1\n", 2, "path separator"),
            ("1 1\nA 1 2\nA 1 \\\u{5C1}x 1\n", 3, "path separator"),
            ("1 1\nA\u{1}B 1 2\nA 1 B 1\n", 2, "control characters"),
            ("1 1\n7 1 2\nA 1 B 1\n", 2, "expected a person's name"),
        ]
        for (text, line, reason) in cases {
            let error = failure(text)
            #expect(error != nil, "accepted: \(text.debugDescription)")
            #expect(error?.line == line, "\(text.debugDescription): \(String(describing: error))")
            #expect(error?.reason.contains(reason) == true, "\(text.debugDescription): \(String(describing: error))")
            #expect(error?.file == "t.txt")
        }
        #expect(failure("1 1\nA 1 2\nA 1 B 1\n") == nil)
    }

    @Test func refusesHostileCountsWithoutAllocating() {
        // Huge or overflowing counts are refused from the header; a large but allowed header with a short body
        // fails on the missing pairs (no allocation sized by the header; the file is read in one pass).
        #expect(failure("100000 1\n")?.reason.contains("not in 1...1000") == true)
        #expect(failure("1000000000 1\n")?.reason.contains("not a positive whole number") == true)
        #expect(failure("1 99999999999999999999\n")?.reason.contains("not a positive whole number") == true)
        #expect(failure("-10 300\n")?.reason.contains("not a positive whole number") == true)
        let big = failure("1000 1000000\nA 1 2\n")
        #expect(big?.reason.contains("2000000000 pairs, more than the 1000000 accepted") == true && big?.line == 1)
        let short = failure("10 50000\nA 1 2\n")
        #expect(short?.reason.contains("1000000 pairs, but the file ends after 1") == true && short?.line == 2)
        #expect(throws: PairsFileError.self) { try PairsFile(data: Data([0x31, 0x20, 0x31, 0x0A, 0xFF, 0xFE])) }
    }

    @Test func readsFromAFileAndReportsMissingOnes() throws {
        let folder = try TestData.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/pairs.txt"
        try "1 1\nA 1 2\nA 1 B 3\n".write(toFile: path, atomically: true, encoding: .utf8)
        let file = try PairsFile(contentsOf: path)
        #expect(file.pairs.count == 2)
        try FileManager.default.createDirectory(atPath: folder + "/A", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: folder + "/A/A_0001.jpg", contents: Data())
        #expect(file.missingPhotos(in: folder) == [folder + "/A/A_0002.jpg", folder + "/B/B_0003.jpg"])
        do {
            _ = try PairsFile(contentsOf: folder + "/nope.txt")
            Issue.record("read a missing file")
        } catch {
            #expect(error.file == folder + "/nope.txt" && error.line == nil)
        }
        #expect(throws: PairsFileError.self) { try PairsFile(contentsOf: folder) }
    }

    @Test func readsTheSharedLFWDevPairs() throws {
        let file = try PairsFile(contentsOf: TestData.face("lfw-dev-pairs.txt"))
        #expect(file.folds == 10 && file.pairsPerFold == 150)
        #expect(file.pairs.count == 3_000)
        for fold in 0..<10 {
            let pairs = file.pairs(inFold: fold)
            #expect(pairs.filter(\.samePerson).count == 150 && pairs.filter { !$0.samePerson }.count == 150)
        }
        #expect(file.missingPhotos(in: TestData.face("lfw-dev")).isEmpty)
        // Folds share no identity (LFW View 2).
        var foldOfName: [String: Int] = [:]
        for pair in file.pairs {
            for name in [pair.first.name, pair.second.name] {
                #expect(foldOfName[name, default: pair.fold] == pair.fold, "\(name) in two folds")
                foldOfName[name] = pair.fold
            }
        }
    }
}
