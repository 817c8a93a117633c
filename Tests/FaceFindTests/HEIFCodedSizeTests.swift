import Foundation
import Testing

@testable import FaceFind

// The coded sizes of HEIC and AVIF images, read from the streams' own parameter sets before decoding (issue 25,
// item 3: an `ispe` box saying 1000x1000 in front of a 16000x16000 HEVC stream made libheif decode 256 MP before
// the pixel limit applied). Hand-made bit strings for the parsers; real heif-enc output for the container walk.

/// Bytes from a string of '0' and '1' (spaces ignored), padded with zero bits to a whole byte.
private func bits(_ text: String) -> [UInt8] {
    let digits = text.filter { $0 == "0" || $0 == "1" }
    var bytes = [UInt8](repeating: 0, count: (digits.count + 7) / 8)
    for (i, digit) in digits.enumerated() where digit == "1" { bytes[i / 8] |= 0x80 >> UInt8(i % 8) }
    return bytes
}

private func fixture(_ relative: String) throws -> [UInt8] {
    let path = TestData.packageRoot.appendingPathComponent(relative).path
    return [UInt8](try #require(FileManager.default.contents(atPath: path), "missing \(relative)"))
}

@Suite("HEIF coded sizes")
struct HEIFCodedSizeTests {
    @Test func expGolombAndEmulationPrevention() throws {
        // ue(v): 1 -> 0, 010 -> 1, 011 -> 2, 00111 -> 6, and 1920 + 1 = 11110000001 behind ten zeros.
        var r = BitReader(bits("1 010 011 00111 0000000000 11110000001"))
        #expect(try r.unsignedGolomb() == 0)
        #expect(try r.unsignedGolomb() == 1)
        #expect(try r.unsignedGolomb() == 2)
        #expect(try r.unsignedGolomb() == 6)
        #expect(try r.unsignedGolomb() == 1920)
        // 32 leading zeros is no code at all.
        var long = BitReader([0, 0, 0, 0, 0xFF])
        #expect(throws: HEIFStructureError.self) { try long.unsignedGolomb() }
        // 00 00 03 loses its 03; a lone 03 stays.
        #expect(HEVCParameters.rbsp([0, 0, 3, 1, 3, 0, 0, 3, 0][...]) == [0, 0, 1, 3, 0, 0, 0])
    }

    @Test func hevcSequenceParameterSet() throws {
        // NAL header (type 33), vps id 0, one sub-layer, nesting 1, 96 bits of profile/tier/level, sps id 0,
        // chroma 4:2:0 (1), then width 16000 and height 12000 as ue(v).
        // 16001 = 11111010000001 (14 bits, 13 zeros); 12001 = 10111011100001 (14 bits, 13 zeros).
        let sps = [0x42, 0x01] + bits("0000 000 1" + String(repeating: "0", count: 96) + " 1 010 "
                                      + "0000000000000 11111010000001 0000000000000 10111011100001")
        #expect(try HEVCParameters.frameSize(sps: sps) == (16000, 12000))
        // Two sub-layers: sub_layer flags (profile present, level absent) for one, six reserved pairs, 88 bits
        // of its profile; chroma 4:4:4 (3) adds the separate-colour-plane flag. 250 x 250: 251 = 11111011.
        let two = [0x42, 0x01] + bits("0000 001 1" + String(repeating: "0", count: 96) + " 10 " + String(repeating: "00", count: 7)
                                      + String(repeating: "1", count: 88) + " 1 00100 0 0000000 11111011 0000000 11111011")
        #expect(try HEVCParameters.frameSize(sps: two) == (250, 250))
        // Cut short: an error, not a guess.
        #expect(throws: HEIFStructureError.self) { try HEVCParameters.frameSize(sps: Array(sps.prefix(10))) }
    }

    @Test func av1SequenceHeader() throws {
        // A reduced still-picture header: profile 0, still, reduced, level 0, 16-bit width and height fields
        // holding 15999 and 11999.
        let header = bits("000 1 1 00000 1111 1111 0011111001111111 0010111011011111")
        #expect(try AV1Parameters.frameSize(sequenceHeader: header) == (16000, 12000))
        // Framed as an OBU (type 1, has_size_field) after a temporal delimiter OBU (type 2, size 0).
        let obus: [UInt8] = [0x12, 0x00, 0x0A, UInt8(header.count)] + header
        #expect(try AV1Parameters.frameSize(obus: obus) == (16000, 12000))
        // A full header: no timing info, no initial display delay, one operating point of level 8 (seq_tier
        // follows), 8-bit fields holding 249.
        let full = bits("000 0 0 0 0 00000 000000000000 01000 0 0111 0111 11111001 11111001")
        #expect(try AV1Parameters.frameSize(sequenceHeader: full) == (250, 250))
    }

    @Test func gridAndOverlayCanvas() throws {
        // Grid: version 0, flags 0 (16-bit fields), 2 rows, 3 columns, 4000 x 3000.
        #expect(try HEIFCodedSize.canvasSize([0, 0, 1, 2, 0x0F, 0xA0, 0x0B, 0xB8], overlay: false) == (4000, 3000))
        // Flags 1: 32-bit fields.
        #expect(try HEIFCodedSize.canvasSize([0, 1, 0, 0, 0, 0, 0x3E, 0x80, 0, 0, 0x3E, 0x80], overlay: false)
                == (16000, 16000))
        // Overlay: four 16-bit fill colour values before the size.
        #expect(try HEIFCodedSize.canvasSize([0, 0] + [UInt8](repeating: 0xFF, count: 8) + [0, 100, 0, 50], overlay: true)
                == (100, 50))
    }

    @Test func realFilesGiveTheirCodedSizes() throws {
        // heif-enc's output: an 8x8 photo is a grid over one 64x64 HEVC tile (x265's smallest), and with alpha a
        // second grid and tile for the alpha plane; AVIF codes the image as it is.
        let grid = try HEIFCodedSize.sizes(of: fixture("Fuzz/Corpus/FuzzImageDecoder/heic-8bit.heic"))
        #expect(grid.map { [$0.width, $0.height] } == [[8, 8], [64, 64]])
        let alpha = try HEIFCodedSize.sizes(of: fixture("Fuzz/Corpus/FuzzImageDecoder/heic-alpha.heic"))
        #expect(alpha.count == 4 && alpha.allSatisfy { [8, 64].contains($0.width) })
        let avif = try HEIFCodedSize.sizes(of: fixture("Fuzz/Corpus/FuzzImageDecoder/avif-8bit.avif"))
        #expect(avif.map { [$0.width, $0.height] } == [[8, 8]])
        #expect(throws: HEIFStructureError.self) {
            try HEIFCodedSize.sizes(of: fixture("Fuzz/Corpus/FuzzImageDecoder/heic-truncated.heic"))
        }
    }

    /// The reproduction: `ispe` rewritten to 1000x1000 over a 16000x16000 stream (heif-enc -q 20 of a white PNG).
    /// Refused before decoding, naming the coded size; libheif itself reads the header size.
    @Test func aLyingIspeIsRefusedBeforeDecoding() throws {
        let bytes = try fixture("Fuzz/Regressions/FuzzImageDecoder/heic-ispe-1000-coded-16000.heic")
        #expect(try HEIFCodedSize.sizes(of: bytes).map { [$0.width, $0.height] } == [[16000, 16000]])
        do {
            _ = try ImageDecoder().decode(bytes, name: "lying.heic")
            Issue.record("a 256 MP image was decoded under a 50 MP limit")
        } catch {
            #expect(error.reason.contains("coded at 16000x16000"), "\(error)")
            #expect(error.reason.contains("exceeds the limit"), "\(error)")  // what the server answers 413 to
        }
    }

    /// FuzzImageDecoder's find: an overlay canvas of 3537097941 x 3604469977 (two unsigned 32-bit fields) whose
    /// area passes Int.max trapped the size check; it is refused as over the limit.
    @Test func aCanvasPastIntMaxPixelsIsRefused() throws {
        let bytes = try fixture("Fuzz/Regressions/FuzzImageDecoder/crash-avif-iovl-canvas-overflow.avif")
        let error = #expect(throws: ImageDecodingError.self) { try ImageDecoder().decode(bytes, name: "overflow.avif") }
        #expect(error?.reason.contains("3537097941x3604469977") == true, "\(String(describing: error))")
        #expect(error?.reason.contains("exceeds the limit") == true, "\(String(describing: error))")
    }

    /// The same through `facefind verify` (the CLI path the issue names), its peak memory measured by
    /// /usr/bin/time: decoding the file took 1.5 GB (heif-convert's maxrss); refused from the stream's header,
    /// verify stays at what loading its models costs.
    @Test func verifyRefusesItWithinItsUsualMemory() throws {
        let lying = TestData.packageRoot.appendingPathComponent(
            "Fuzz/Regressions/FuzzImageDecoder/heic-ispe-1000-coded-16000.heic").path
        let photo = TestData.face("lfw-dev/Abdullah_Gul/Abdullah_Gul_0001.jpg")
        let run = try TestData.run("/usr/bin/time", ["-f", "maxrss-kib %M", try EndToEndTests.facefindBinary(),
                                                     "verify", lying, photo])
        #expect(run.status != 0, "\(run.output)")
        #expect(run.output.contains("coded at 16000x16000"), "\(run.output)")
        let kib = try #require(run.output.split(separator: "\n").last { $0.hasPrefix("maxrss-kib ") }
            .flatMap { Int($0.dropFirst("maxrss-kib ".count)) }, "\(run.output)")
        #expect(kib < 600 << 10, "verify peaked at \(kib >> 10) MiB")
    }
}
