import Foundation
import Testing
@testable import FaceFind
import CSearchKernels
import FaceFindBench

@Suite("Vector index and search kernels", .serialized)
struct VectorIndexTests {
    /// Four 3-d rows: hand-computable dot products and distances.
    static let rows: [[Float]] = [[1, 0, 0], [0.6, 0.8, 0], [0, 0, 1], [-1, 0, 0]]

    static func index(_ rows: [[Float]], _ precision: VectorPrecision, path: String? = nil) throws -> VectorIndex {
        try VectorIndex.build(count: rows.count, dimension: rows[0].count, precision: precision, path: path) { range, out in
            var i = 0
            for r in range { for v in rows[r] { out[i] = v; i += 1 } }
        }
    }

    @Test func float32RanksByHandComputedScores() throws {
        let index = try Self.index(Self.rows, .float32)
        // Query (0.6, 0.8, 0): dots 0.6, 1, 0, -0.6.
        let cosine = index.search([[0.6, 0.8, 0]], k: 4, metric: .cosine)[0]
        #expect(cosine.map(\.row) == [1, 0, 2, 3])
        let expected: [Float] = [1, 0.6, 0, -0.6]
        for (n, e) in zip(cosine, expected) { #expect(abs(n.score - e) < 1e-6) }
        // Euclidean from (1, 0, 0): 0, sqrt(0.16+0.64)=0.894, sqrt(2)=1.414, 2.
        let euclidean = index.search([[1, 0, 0]], k: 3, metric: .euclidean)[0]
        #expect(euclidean.map(\.row) == [0, 1, 2])
        for (n, e) in zip(euclidean, [Float(0), Float(0.8).squareRoot(), Float(2).squareRoot()]) { #expect(abs(n.score - e) < 1e-5) }
    }

    @Test func tiesKeepTheLowerRowAndKIsClamped() throws {
        let index = try Self.index([[1, 0], [0, 1], [1, 0], [1, 0]], .float32)
        let found = index.search([[1, 0]], k: 10)[0]
        #expect(found.map(\.row) == [0, 2, 3, 1])
    }

    @Test func storedValuesRoundTripPerPrecision() throws {
        let row: [Float] = [0.5, -0.25, 0.125, 1, -1, 0.3]
        #expect(try Self.index([row], .float32).vector(at: 0) == row)
        let half = try Self.index([row], .float16).vector(at: 0)
        for (a, b) in zip(half, row) { #expect(abs(a - b) < 1e-3) }
        // int8 step = 1/127: every value within half a step.
        let bytes = try Self.index([row], .int8).vector(at: 0)
        for (a, b) in zip(bytes, row) { #expect(abs(a - b) <= 0.5 / 127 + 1e-6) }
    }

    @Test func halfConversionMatchesIEEEValues() throws {
        // 1 → 0x3C00, -2 → 0xC000, 65504 → 0x7BFF (largest half), 0.1 → 0x2E66 (rounded to nearest).
        let index = try Self.index([[1, -2, 65504, 0.1]], .float16)
        let back = index.vector(at: 0)
        #expect(back[0] == 1 && back[1] == -2 && back[2] == 65504)
        #expect(back[3] == Float(bitPattern: 0x3DCC_C000)) // 0x2E66 as float: 0.0999755859375
    }

    /// The AVX-512 kernels and the portable loops give the same scores (int8: bit for bit, the integer
    /// arithmetic is exact) on a dimension and a query count that exercise the padding.
    @Test(arguments: VectorPrecision.allCases)
    func acceleratedKernelsMatchThePortableLoops(_ precision: VectorPrecision) throws {
        let gallery = SyntheticGallery(count: 1000, dimension: 100, seed: 3)
        let queries = gallery.queries(7)
        let index = try VectorIndex.build(count: 1000, dimension: 100, precision: precision) { gallery.fill($0, into: $1) }
        VectorIndex.usePortableKernels(true)
        let portable = index.search(queries, k: 20)
        VectorIndex.usePortableKernels(false)
        let accelerated = index.search(queries, k: 20)
        for (p, a) in zip(portable, accelerated) {
            #expect(p.map(\.row) == a.map(\.row))
            for (x, y) in zip(p, a) {
                if precision == .int8 { #expect(x.score == y.score) } else { #expect(abs(x.score - y.score) < 1e-5) }
            }
        }
        if !VectorIndex.accelerated { print("note: no AVX-512 VNNI here; both runs used the portable loops") }
    }

    /// float32 search is exact: the same top 10 as a brute-force scan, over threads and panel blocks.
    @Test func float32MatchesBruteForce() throws {
        let gallery = SyntheticGallery(count: 5003, dimension: 64, seed: 5)
        let index = try VectorIndex.build(count: gallery.count, dimension: 64, precision: .float32, blockRows: 1000) {
            gallery.fill($0, into: $1)
        }
        let rows = (0..<gallery.count).map(gallery.vector(at:))
        for (q, found) in zip(gallery.queries(9), index.search(gallery.queries(9), k: 10, threads: 2)) {
            let scores = rows.map { r in zip(r, q).reduce(Float(0)) { $0 + $1.0 * $1.1 } }
            #expect(found.map(\.row) == topK(scores, k: 10))
        }
    }

    /// Reduced precision keeps nearly all of the exact top 10 on clustered data.
    @Test func reducedPrecisionRecall() throws {
        let gallery = SyntheticGallery(count: 20000, dimension: 512, seed: 11)
        let queries = gallery.queries(64)
        func top10(_ p: VectorPrecision) throws -> [[Int]] {
            try VectorIndex.build(count: gallery.count, dimension: 512, precision: p) { gallery.fill($0, into: $1) }
                .search(queries, k: 10).map { $0.map(\.row) }
        }
        let exact = try top10(.float32)
        #expect(recall(found: try top10(.float16), truth: exact) >= 0.99)
        #expect(recall(found: try top10(.int8), truth: exact) >= 0.95)
    }

    @Test func fileRoundTripAndCorruptFiles() throws {
        let folder = try TestData.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/rows.ffvi"
        let built = try Self.index(Self.rows, .int8, path: path)
        let opened = try VectorIndex.open(path: path)
        #expect(opened.count == 4 && opened.dimension == 3 && opened.precision == .int8)
        #expect(opened.search([[0, 0, 1]], k: 2) == built.search([[0, 0, 1]], k: 2))

        let truncated = folder + "/truncated.ffvi"
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count - 7).write(to: URL(fileURLWithPath: truncated))
        #expect { try VectorIndex.open(path: truncated) } throws: { error in
            "\(error)".contains(truncated) && "\(error)".contains("size")
        }
        let text = folder + "/text.ffvi"
        try Data(repeating: 0x41, count: 200).write(to: URL(fileURLWithPath: text))
        #expect { try VectorIndex.open(path: text) } throws: { "\($0)".contains("not a FaceFind vector index") }
        #expect { try VectorIndex.open(path: folder + "/missing.ffvi") } throws: { "\($0)".contains("missing.ffvi") }

        // A build that dies half-way leaves a file of full size without its magic number: refused.
        struct Interrupted: Error {}
        let partial = folder + "/partial.ffvi"
        #expect(throws: Interrupted.self) {
            _ = try VectorIndex.build(count: 40, dimension: 3, precision: .float32, path: partial, blockRows: 16) { range, out in
                if range.lowerBound >= 16 { throw Interrupted() }
                for i in 0..<out.count { out[i] = 1 }
            }
        }
        #expect { try VectorIndex.open(path: partial) } throws: { "\($0)".contains("not a FaceFind vector index") }
    }

    /// The owner's sections round-trip (payload per row, tag, extra bytes), and a streamed index (panels read with
    /// `pread`) ranks exactly as the mapped one, for every precision and across the blocks of its scan.
    @Test func payloadTagExtraAndStreamedSearch() throws {
        let folder = try TestData.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let gallery = SyntheticGallery(count: 3_000, dimension: 40)
        let queries = gallery.queries(5)
        for precision in VectorPrecision.allCases {
            let path = folder + "/\(precision.rawValue).ffvi"
            let extra: [UInt8] = [1, 2, 3, 250]
            _ = try VectorIndex.build(count: gallery.count, dimension: 40, precision: precision, path: path, blockRows: 1000,
                                      payloadBytes: 8, tag: (7, UInt64.max, 9), extra: extra,
                                      fill: { gallery.fill($0, into: $1) },
                                      payload: { range, raw in
                                          for (i, row) in range.enumerated() {
                                              raw.storeBytes(of: Int64(row * 3), toByteOffset: i * 8, as: Int64.self)
                                          }
                                      })
            let mapped = try VectorIndex.open(path: path)
            let streamed = try VectorIndex.open(path: path, streamed: true)
            #expect(streamed.isStreamed && !mapped.isStreamed)
            #expect(mapped.tag == (7, UInt64.max, 9) && Array(mapped.extra) == extra && mapped.payloadBytes == 8)
            #expect(mapped.payloadStride == 16, "8 bytes, their checksum, zeros to a multiple of 8")
            var row8 = [UInt8](repeating: 0, count: 16)
            for row in [0, 999, 1_000, 2_999] {
                #expect(mapped.readPayload(row: row, into: &row8) && row8.withUnsafeBytes { $0.load(as: Int64.self) } == Int64(row * 3))
            }
            for metric in DistanceMetric.allCases {
                #expect(streamed.search(queries, k: 10, metric: metric, threads: 2)
                        == mapped.search(queries, k: 10, metric: metric, threads: 2), "\(precision) \(metric)")
            }
        }
    }

    /// CRC-32C: the standard check value, both paths, and chaining (issue 25's checksums).
    @Test func crc32cMatchesTheStandardCheckValue() {
        let digits = Array("123456789".utf8)
        let long = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var results: [[UInt32]] = []
        for portable in [false, true] {
            ff_crc32c_set_portable(portable ? 1 : 0)
            defer { ff_crc32c_set_portable(0) }
            let check = ff_crc32c(0, digits, digits.count)
            let whole = ff_crc32c(0, long, long.count)
            let chained = long.withUnsafeBytes { ff_crc32c(ff_crc32c(0, $0.baseAddress, 4_001), $0.baseAddress! + 4_001, 5_999) }
            results.append([check, whole, chained])
        }
        #expect(results[0][0] == 0xE306_9283, "CRC-32C of 123456789")
        #expect(results[0] == results[1], "SSE4.2 and table agree")
        #expect(results[0][1] == results[0][2], "chaining")
    }

    /// Every byte of a file is covered: a byte flipped anywhere in the header, panels, row steps and norms or
    /// extra bytes is refused at open with the section named; one in a payload row fails that row's read only; a
    /// row copied over another fails (rows are seeded with their number and the file's salt). Through `resealed`
    /// the same file opens again.
    @Test func aFlippedByteInAnySectionIsFound() throws {
        let folder = try TestData.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let gallery = SyntheticGallery(count: 100, dimension: 20)
        let path = folder + "/good.ffvi"
        _ = try VectorIndex.build(count: gallery.count, dimension: 20, precision: .int8, path: path, payloadBytes: 12,
                                  tag: (1, 2, 3), extra: [9, 8, 7, 6, 5],
                                  fill: { gallery.fill($0, into: $1) },
                                  payload: { range, raw in
                                      for (i, row) in range.enumerated() {
                                          raw.storeBytes(of: Int64(row), toByteOffset: i * 12, as: Int64.self)
                                      }
                                  })
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let l = VectorIndex.layout(count: 100, dimension: 20, precision: .int8, payloadBytes: 12, extraBytes: 5)
        #expect(good.count == l.total)
        let sections: [(String, Int)] = [("header", 100), ("panels", l.panelOffset + 77), ("row steps and norms", l.stepOffset + 3),
                                         ("row steps and norms", l.normOffset + 50), ("extra bytes", l.extraOffset + 2)]
        let damaged = folder + "/damaged.ffvi"
        for (section, offset) in sections {
            var bytes = good
            bytes[offset] ^= 0x10
            try Data(bytes).write(to: URL(fileURLWithPath: damaged))
            #expect { try VectorIndex.open(path: damaged) } throws: { error in
                "\(error)".contains(section) && "\(error)".contains("damaged")
            }
            // Resealed, the same change opens (the checks behind the checksums then decide).
            try Data(VectorIndex.resealed(bytes)).write(to: URL(fileURLWithPath: damaged))
            #expect(throws: Never.self) { _ = try VectorIndex.open(path: damaged) }
        }
        // Payload: row 40's byte flipped fails row 40 only; row 41 copied over row 40 fails too.
        var buffer = [UInt8](repeating: 0, count: 24)
        var flipped = good
        flipped[l.payloadOffset + 40 * l.payloadStride + 3] ^= 1
        var copied = good
        copied.replaceSubrange((l.payloadOffset + 40 * l.payloadStride)..<(l.payloadOffset + 41 * l.payloadStride),
                               with: good[(l.payloadOffset + 41 * l.payloadStride)..<(l.payloadOffset + 42 * l.payloadStride)])
        for bytes in [flipped, copied] {
            try Data(bytes).write(to: URL(fileURLWithPath: damaged))
            let opened = try VectorIndex.open(path: damaged)
            #expect(!opened.readPayload(row: 40, into: &buffer))
            #expect(opened.readPayload(row: 39, into: &buffer) && opened.readPayload(row: 41, into: &buffer))
        }
        // Truncated in place under an opened index: reads fail, nothing faults, and `fileChange` says so.
        try Data(good).write(to: URL(fileURLWithPath: damaged))
        let opened = try VectorIndex.open(path: damaged)
        #expect(opened.fileChange() == nil)
        #expect(truncate(damaged, off_t(l.payloadOffset + 10)) == 0)
        #expect(opened.fileChange()?.contains("size") == true)
        #expect(!opened.readPayload(row: 50, into: &buffer))
        #expect(opened.search([gallery.vector(at: 5)], k: 1)[0].first?.row == 5, "the panels are in memory")
        // The first format (no checksums) is named as such.
        var old = good
        old.withUnsafeMutableBytes { $0.storeBytes(of: VectorIndex.formerMagic, as: UInt64.self) }
        try Data(old).write(to: URL(fileURLWithPath: damaged))
        #expect { try VectorIndex.open(path: damaged) } throws: { "\($0)".contains("older FaceFind") }
    }

    @Test func syntheticGalleryIsDeterministicAndClustered() {
        let gallery = SyntheticGallery(count: 4000, dimension: 512, identities: 50, seed: 1)
        #expect(gallery.vector(at: 123) == SyntheticGallery(count: 4000, dimension: 512, identities: 50, seed: 1).vector(at: 123))
        let faces = (0..<400).map(gallery.vector(at:))
        #expect(faces.allSatisfy { abs($0.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4 })
        var same: [Float] = [], other: [Float] = []
        for i in 0..<faces.count {
            for j in (i + 1)..<faces.count {
                let c = zip(faces[i], faces[j]).reduce(Float(0)) { $0 + $1.0 * $1.1 }
                if gallery.identity(of: i) == gallery.identity(of: j) { same.append(c) } else { other.append(c) }
            }
        }
        let meanSame = same.reduce(0, +) / Float(max(same.count, 1))
        let meanOther = other.reduce(0, +) / Float(other.count)
        #expect(same.count > 1000 && abs(meanSame - 0.65) < 0.05, "\(meanSame)")
        #expect(abs(meanOther) < 0.02, "\(meanOther)")
    }

    /// Unrelated faces spread as real FaceNet-512 embeddings do (cosine standard deviation 0.136 on lfw-dev,
    /// 1/sqrt(effective dimension)), not as random directions in 512-d (1/sqrt(512) = 0.044).
    @Test func syntheticGallerySpreadsLikeRealEmbeddings() {
        func unrelatedSpread(_ gallery: SyntheticGallery) -> Float {
            let centres = (0..<300).map { gallery.vector(at: $0) }
            var values: [Float] = []
            for i in 0..<centres.count {
                for j in (i + 1)..<centres.count where gallery.identity(of: i) != gallery.identity(of: j) {
                    values.append(zip(centres[i], centres[j]).reduce(Float(0)) { $0 + $1.0 * $1.1 })
                }
            }
            let mean = values.reduce(0, +) / Float(values.count)
            return (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(values.count)).squareRoot()
        }
        let realistic = unrelatedSpread(SyntheticGallery(count: 30000, dimension: 512, seed: 2))
        let isotropic = unrelatedSpread(SyntheticGallery(count: 30000, dimension: 512, seed: 2, effectiveDimension: nil))
        #expect(abs(realistic - 0.136) < 0.02, "\(realistic)")
        #expect(abs(isotropic - 0.044) < 0.005, "\(isotropic)")
    }

    /// The rotation: H4 · (1, 2, 3, 4) by hand.
    @Test func walshHadamardTransform() {
        var values: [Float] = [1, 2, 3, 4]
        SyntheticGallery.walshHadamard(&values)
        #expect(values == [10, -2, -4, 0])
        var unit: [Float] = [0, 0, 1, 0, 0, 0, 0, 0]
        SyntheticGallery.walshHadamard(&unit)
        #expect(unit == [1, 1, -1, -1, 1, 1, -1, -1])
    }

    /// A gallery of images with one to three faces: the indexed search returns the same images, faces and
    /// scores as the plain loop, for both metrics and a threshold.
    @Test func indexedGallerySearchMatchesThePlainLoop() throws {
        let gallery = SyntheticGallery(count: 30000, dimension: 128, identities: 300, seed: 9)
        var matrix = FaceMatrix(dimension: 128)
        var face = 0
        var image = 0
        while face < gallery.count {
            matrix.appendImage(id: Int64(image), path: "image-\(image)")
            for _ in 0..<min(1 + image % 3, gallery.count - face) {
                matrix.appendFace(id: Int64(face), box: Box(x: 0, y: 0, width: 1, height: 1), isWholeImage: false,
                                  vector: gallery.vector(at: face))
                face += 1
            }
            image += 1
        }
        let indexed = GallerySearch(matrix: matrix)
        #expect(indexed.index != nil)
        let plain = GallerySearch(matrix: matrix, indexFrom: .max)
        #expect(plain.index == nil)
        for q in gallery.queries(5) {
            for metric in DistanceMetric.allCases {
                let a = indexed.search(Embedding(q), k: 25, metric: metric, threshold: 0.5)
                let b = plain.search(Embedding(q), k: 25, metric: metric, threshold: 0.5)
                #expect(a.map(\.imageID) == b.map(\.imageID))
                #expect(a.map(\.faceID) == b.map(\.faceID))
                #expect(a.map(\.unknown) == b.map(\.unknown))
                for (x, y) in zip(a, b) { #expect(abs(x.score - y.score) < 1e-4) }
            }
        }
    }

    @Test func recallCountsOverlap() {
        #expect(recall(found: [[1, 2, 3, 4]], truth: [[1, 2, 5, 6]]) == 0.5)
        #expect(recall(found: [[1], [2]], truth: [[1], [3]]) == 0.5)
    }
}
