import Foundation

/// A face-verification pair list in the format of LFW's `pairs.txt` (View 2).
///
/// The first line gives the number of folds and the number N of pairs of each kind per fold (`10 300` in LFW's
/// own file, `10 150` in `lfw-dev-pairs.txt`; tabs or spaces; a single number means one fold, as in LFW's
/// `pairsDevTrain.txt`). Then, for each fold, N same-person lines `Name i j` followed by N different-person lines
/// `NameA i NameB j`, where `i` and `j` are photo numbers: photo `i` of `Name` is `<Name>/<Name>_<iiii>.jpg`
/// (four digits, zero-padded) under the images folder.
///
/// Parsing is strict and bounded: every error names the line and what is wrong, counts are capped, names that
/// could leave the images folder (`/`, `..`, control characters) are refused, and no allocation depends on the
/// counts in the header, only on the input's actual size.
public struct PairsFile: Sendable, Equatable {
    /// One photo: a person's name and the photo's number (1-based, as in the file names).
    public struct Photo: Sendable, Hashable {
        public var name: String
        public var number: Int

        public init(name: String, number: Int) {
            self.name = name
            self.number = number
        }

        /// `<Name>/<Name>_<NNNN>.jpg`, relative to the images folder.
        public var relativePath: String { "\(name)/\(name)_\(String(format: "%04d", number)).jpg" }
    }

    /// One pair to verify.
    public struct Pair: Sendable, Hashable {
        public var first: Photo
        public var second: Photo
        /// Whether both photos show the same person (the label to predict).
        public var samePerson: Bool
        /// The fold (0-based) the pair belongs to.
        public var fold: Int
        /// The 1-based line of the file the pair came from.
        public var line: Int
    }

    /// The number of folds.
    public let folds: Int
    /// Same-person pairs per fold, and also different-person pairs per fold.
    public let pairsPerFold: Int
    /// All pairs in file order: fold 0's same-person pairs, fold 0's different-person pairs, fold 1's...
    public let pairs: [Pair]

    /// Limits that keep hostile headers from asking for absurd amounts of work.
    public static let maxFolds = 1_000
    public static let maxPairsPerFold = 1_000_000
    /// At most this many pairs in all (LFW's pairs.txt has 6,000).
    public static let maxPairs = 1_000_000
    public static let maxPhotoNumber = 9_999
    /// Files larger than this are refused before reading (LFW's pairs.txt is about 90 KB).
    public static let maxFileBytes = 64 << 20

    /// The pairs of one fold (0-based).
    public func pairs(inFold fold: Int) -> [Pair] { pairs.filter { $0.fold == fold } }

    /// Every distinct photo the file names, sorted by relative path.
    public var photos: [Photo] {
        Array(Set(pairs.flatMap { [$0.first, $0.second] })).sorted { $0.relativePath < $1.relativePath }
    }

    /// The absolute path of `photo` under `imagesFolder`.
    public static func path(of photo: Photo, in imagesFolder: String) -> String {
        URL(fileURLWithPath: imagesFolder, isDirectory: true).appendingPathComponent(photo.relativePath).path
    }

    /// The referenced photos that do not exist under `imagesFolder` (as absolute paths), empty when all do.
    public func missingPhotos(in imagesFolder: String) -> [String] {
        photos.map { Self.path(of: $0, in: imagesFolder) }.filter { !FileManager.default.fileExists(atPath: $0) }
    }

    // MARK: - Reading

    /// Reads and parses the file at `path`.
    public init(contentsOf path: String) throws(PairsFileError) {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard let attributes else {
            throw PairsFileError(file: path, line: nil, reason: "cannot read the file (missing or unreadable)")
        }
        if (attributes[.type] as? FileAttributeType) == .typeDirectory {
            throw PairsFileError(file: path, line: nil, reason: "is a directory, not a pairs file")
        }
        if let size = (attributes[.size] as? NSNumber)?.intValue, size > Self.maxFileBytes {
            throw PairsFileError(file: path, line: nil,
                                 reason: "file is \(size) bytes, more than the \(Self.maxFileBytes) accepted")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PairsFileError(file: path, line: nil, reason: "cannot read the file")
        }
        try self.init(data: data, source: path)
    }

    /// Parses file contents; `source` labels errors.
    public init(data: Data, source: String = "pairs file") throws(PairsFileError) {
        guard data.count <= Self.maxFileBytes else {
            throw PairsFileError(file: source, line: nil,
                                 reason: "\(data.count) bytes, more than the \(Self.maxFileBytes) accepted")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw PairsFileError(file: source, line: nil, reason: "not UTF-8 text")
        }
        try self.init(parsing: text, source: source)
    }

    /// Parses the text of a pairs file; `source` labels errors.
    public init(parsing text: String, source: String = "pairs file") throws(PairsFileError) {
        func fail(_ line: Int?, _ reason: String) -> PairsFileError {
            PairsFileError(file: source, line: line, reason: reason)
        }
        // One pass over the lines, keeping only the pairs: memory is bounded by the header's (capped) count.
        // Blank lines are skipped wherever they are (trailing newlines are common); "\r\n" is one Character in
        // Swift, hence both line separators.
        var rest = Substring(text)
        var number = 0
        var header: (folds: Int, perFold: Int, line: Int)?
        var expected = 0
        var pairs: [Pair] = []
        while !rest.isEmpty {
            let end = rest.firstIndex(where: { $0 == "\n" || $0 == "\r\n" }) ?? rest.endIndex
            let rawLine = rest[..<end]
            rest = end == rest.endIndex ? rest[end...] : rest[rest.index(after: end)...]
            number += 1
            let f = rawLine.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if f.isEmpty { continue }

            guard let h = header else {
                let folds: Int, perFold: Int
                switch f.count {
                case 1:
                    folds = 1
                    perFold = try Self.count(f[0], "pairs per fold", max: Self.maxPairsPerFold, line: number, fail)
                case 2:
                    folds = try Self.count(f[0], "number of folds", max: Self.maxFolds, line: number, fail)
                    perFold = try Self.count(f[1], "pairs per fold", max: Self.maxPairsPerFold, line: number, fail)
                default:
                    throw fail(number, "expected the header `FOLDS N` (two numbers), found \(f.count) fields")
                }
                // Both factors are capped, so this cannot overflow.
                expected = folds * perFold * 2
                guard expected <= Self.maxPairs else {
                    throw fail(number, "the header announces \(folds) folds x \(perFold) x 2 = \(expected) pairs, "
                                     + "more than the \(Self.maxPairs) accepted")
                }
                header = (folds, perFold, number)
                pairs.reserveCapacity(min(expected, 1 << 16))
                continue
            }
            guard pairs.count < expected else {
                throw fail(number, "more pairs than the header (line \(h.line)) announces "
                                 + "(\(h.folds) folds x \(h.perFold) x 2 = \(expected))")
            }
            let offset = pairs.count
            let fold = offset / (2 * h.perFold)
            if offset % (2 * h.perFold) < h.perFold {
                guard f.count == 3 else {
                    throw fail(number, "fold \(fold + 1): expected a same-person pair `Name i j` (3 fields), "
                                     + "found \(f.count) fields")
                }
                let name = try Self.name(f[0], line: number, fail)
                let i = try Self.photoNumber(f[1], line: number, fail)
                let j = try Self.photoNumber(f[2], line: number, fail)
                guard i != j else { throw fail(number, "same-person pair names photo \(i) of \(name) twice") }
                pairs.append(Pair(first: Photo(name: name, number: i), second: Photo(name: name, number: j),
                                  samePerson: true, fold: fold, line: number))
            } else {
                guard f.count == 4 else {
                    throw fail(number, "fold \(fold + 1): expected a different-person pair `NameA i NameB j` "
                                     + "(4 fields), found \(f.count) fields")
                }
                let a = try Self.name(f[0], line: number, fail)
                let i = try Self.photoNumber(f[1], line: number, fail)
                let b = try Self.name(f[2], line: number, fail)
                let j = try Self.photoNumber(f[3], line: number, fail)
                guard a != b else { throw fail(number, "different-person pair names \(a) twice") }
                pairs.append(Pair(first: Photo(name: a, number: i), second: Photo(name: b, number: j),
                                  samePerson: false, fold: fold, line: number))
            }
        }
        guard let h = header else { throw fail(nil, "empty file: expected a first line `FOLDS N`") }
        guard pairs.count == expected else {
            throw fail(number, "the header (line \(h.line)) announces \(h.folds) folds x \(h.perFold) x 2 = "
                             + "\(expected) pairs, but the file ends after \(pairs.count)")
        }
        self.folds = h.folds
        self.pairsPerFold = h.perFold
        self.pairs = pairs
    }

    /// A decimal count in 1...max.
    private static func count(_ field: Substring, _ what: String, max: Int, line: Int,
                              _ fail: (Int?, String) -> PairsFileError) throws(PairsFileError) -> Int {
        guard let value = decimal(field) else {
            throw fail(line, "\(what) '\(field.prefix(40))' is not a positive whole number")
        }
        guard value >= 1, value <= max else { throw fail(line, "\(what) \(field.prefix(40)) is not in 1...\(max)") }
        return value
    }

    private static func photoNumber(_ field: Substring, line: Int,
                                    _ fail: (Int?, String) -> PairsFileError) throws(PairsFileError) -> Int {
        guard let value = decimal(field) else {
            throw fail(line, "photo number '\(field.prefix(40))' is not a positive whole number")
        }
        guard value >= 1, value <= maxPhotoNumber else {
            throw fail(line, "photo number \(field.prefix(40)) is not in 1...\(maxPhotoNumber)")
        }
        return value
    }

    /// ASCII digits only (no sign, no spaces), at most 9 of them so the value cannot overflow; nil otherwise.
    private static func decimal(_ field: Substring) -> Int? {
        let utf8 = field.utf8
        guard !utf8.isEmpty, utf8.count <= 9, utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return utf8.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    /// A person's name as used in folder and file names: refused when it could leave the images folder or is
    /// not a plain file-name component.
    private static func name(_ field: Substring, line: Int,
                             _ fail: (Int?, String) -> PairsFileError) throws(PairsFileError) -> String {
        let name = String(field)
        let shown = name.prefix(60).unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : String($0) }
            .joined()
        if let digits = decimal(field) {
            throw fail(line, "expected a person's name, found the number \(digits)")
        }
        guard name.utf8.count <= 200 else { throw fail(line, "name '\(shown)...' is longer than 200 bytes") }
        // Byte-level checks: String's own `contains` compares Characters, and a combining mark after "/" makes
        // "/\u{301}" one Character that is not "/" (found by FuzzPairs, see Fuzz/Regressions/FuzzPairs/).
        let bytes = Array(name.utf8)
        guard !bytes.contains(0x2F), !bytes.contains(0x5C) else {
            throw fail(line, "name '\(shown)' contains a path separator")
        }
        guard !zip(bytes, bytes.dropFirst()).contains(where: { $0 == 0x2E && $1 == 0x2E }), bytes != [0x2E] else {
            throw fail(line, "name '\(shown)' contains '..'")
        }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.value == 0 }) else {
            throw fail(line, "name '\(shown)' contains control characters")
        }
        return name
    }
}

/// Why a pairs file was refused: the file, the 1-based line when one is at fault, and what is wrong.
public struct PairsFileError: Error, CustomStringConvertible, Equatable, Sendable {
    public let file: String
    public let line: Int?
    public let reason: String

    public init(file: String, line: Int?, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String { line.map { "\(file):\($0): \(reason)" } ?? "\(file): \(reason)" }
}
