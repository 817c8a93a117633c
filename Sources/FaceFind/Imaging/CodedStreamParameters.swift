// The frame size a video decoder will allocate for a stream, read from the stream's own parameters: the HEVC
// sequence parameter set and the AV1 sequence header, as far as their frame size and no further. Used by
// `HEIFCodedSize` to check a HEIC or AVIF image against the pixel limit before any decoding.

/// Reads bits most significant first, with the exponential-Golomb code of H.265 (AV1's uvlc is the same).
struct BitReader {
    private let bytes: [UInt8]
    private var bit = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func bits(_ n: Int) throws(HEIFStructureError) -> Int {
        guard n <= 32 else { throw HEIFStructureError("a \(n)-bit field") }
        var value = 0
        for _ in 0..<n {
            guard bit < bytes.count * 8 else { throw HEIFStructureError("parameter set ends early") }
            value = value << 1 | Int(bytes[bit >> 3] >> (7 - UInt8(bit & 7)) & 1)
            bit += 1
        }
        return value
    }
    mutating func flag() throws(HEIFStructureError) -> Bool { try bits(1) == 1 }
    mutating func skip(_ n: Int) throws(HEIFStructureError) {
        guard n >= 0, bit + n <= bytes.count * 8 else { throw HEIFStructureError("parameter set ends early") }
        bit += n
    }

    /// ue(v) of H.265 9.2, which is also AV1's uvlc() (4.10.3): leading zeros, a one, then as many bits.
    mutating func unsignedGolomb() throws(HEIFStructureError) -> Int {
        var zeros = 0
        while try bits(1) == 0 {
            zeros += 1
            guard zeros < 32 else { throw HEIFStructureError("an exp-Golomb code longer than 32 bits") }
        }
        return (1 << zeros) - 1 + (try bits(zeros))
    }
}

enum HEVCParameters {
    /// pic_width_in_luma_samples and pic_height_in_luma_samples of the first sequence parameter set in an `hvcC`
    /// box's payload (ISO/IEC 14496-15 8.3.3.1), the size libde265 allocates whatever `ispe` says.
    static func frameSize(hvcC: ArraySlice<UInt8>) throws(HEIFStructureError) -> (Int, Int) {
        var r = ByteReader(hvcC)
        try r.skip(22)
        for _ in 0..<(try r.u8()) {
            let type = try r.u8() & 0x3F
            for _ in 0..<(try r.u16()) {
                let length = Int(try r.u16())
                let start = r.position
                try r.skip(length)
                if type == 33 { return try frameSize(sps: Array(hvcC[start..<r.position])) }
            }
        }
        throw HEIFStructureError("the HEVC configuration holds no sequence parameter set")
    }

    /// The frame size of one SPS NAL unit (two header bytes, then the RBSP with emulation prevention bytes).
    static func frameSize(sps nal: [UInt8]) throws(HEIFStructureError) -> (Int, Int) {
        guard nal.count > 2 else { throw HEIFStructureError("an empty sequence parameter set") }
        var r = BitReader(rbsp(nal.dropFirst(2)))
        try r.skip(4)  // sps_video_parameter_set_id
        let subLayers = try r.bits(3)  // sps_max_sub_layers_minus1
        try r.skip(1)
        // profile_tier_level (7.3.3): 96 bits of general profile and level, then per sub-layer flags and fields.
        try r.skip(96)
        var present: [(profile: Bool, level: Bool)] = []
        for _ in 0..<subLayers { present.append((try r.flag(), try r.flag())) }
        if subLayers > 0 { try r.skip(2 * (8 - subLayers)) }
        for layer in present {
            if layer.profile { try r.skip(88) }
            if layer.level { try r.skip(8) }
        }
        _ = try r.unsignedGolomb()  // sps_seq_parameter_set_id
        if try r.unsignedGolomb() == 3 { try r.skip(1) }  // chroma_format_idc, separate_colour_plane_flag
        let width = try r.unsignedGolomb(), height = try r.unsignedGolomb()
        return (width, height)
    }

    /// The RBSP of a NAL unit's payload: each 0x000003 loses its 0x03 (H.265 7.4.2).
    static func rbsp(_ payload: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count)
        var zeros = 0
        for byte in payload {
            if zeros >= 2 && byte == 3 { zeros = 0; continue }
            zeros = byte == 0 ? zeros + 1 : 0
            out.append(byte)
        }
        return out
    }
}

enum AV1Parameters {
    /// max_frame_width_minus_1 + 1 and max_frame_height_minus_1 + 1 of the first sequence header OBU in `obus`
    /// (AV1 5.3 and 5.5): the largest frame the stream may hold, what dav1d allocates for.
    static func frameSize(obus: [UInt8]) throws(HEIFStructureError) -> (Int, Int) {
        var r = ByteReader(obus)
        while !r.rest.isEmpty {
            let header = try r.u8()
            let type = Int(header >> 3 & 15)
            if header & 4 != 0 { try r.skip(1) }  // extension
            var size = r.rest.count
            if header & 2 != 0 {
                size = 0
                for i in 0..<8 {
                    let byte = try r.u8()
                    size |= Int(byte & 0x7F) << (7 * i)
                    if byte & 0x80 == 0 { break }
                }
            }
            let start = r.position
            try r.skip(size)
            if type == 1 { return try frameSize(sequenceHeader: Array(obus[start..<r.position])) }
        }
        throw HEIFStructureError("the AV1 data holds no sequence header")
    }

    static func frameSize(sequenceHeader: [UInt8]) throws(HEIFStructureError) -> (Int, Int) {
        var r = BitReader(sequenceHeader)
        try r.skip(4)  // seq_profile, still_picture
        if try r.flag() {  // reduced_still_picture_header
            try r.skip(5)
        } else {
            var bufferDelayBits = 0
            let decoderModel: Bool
            if try r.flag() {  // timing_info_present_flag
                try r.skip(64)
                if try r.flag() { _ = try r.unsignedGolomb() }  // equal_picture_interval: uvlc()
                decoderModel = try r.flag()
                if decoderModel {
                    bufferDelayBits = try r.bits(5) + 1
                    try r.skip(32 + 5 + 5)
                }
            } else {
                decoderModel = false
            }
            let initialDisplayDelay = try r.flag()
            for _ in 0...(try r.bits(5)) {  // operating points
                try r.skip(12)
                if try r.bits(5) > 7 { try r.skip(1) }  // seq_tier
                if decoderModel, try r.flag() { try r.skip(2 * bufferDelayBits + 1) }
                if initialDisplayDelay, try r.flag() { try r.skip(4) }
            }
        }
        let widthBits = try r.bits(4) + 1, heightBits = try r.bits(4) + 1
        return (try r.bits(widthBits) + 1, try r.bits(heightBits) + 1)
    }
}
