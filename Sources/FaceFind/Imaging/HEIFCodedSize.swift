// The sizes that decoding a HEIF file's primary image will make its decoders allocate, read from the coded streams
// themselves rather than from the container's `ispe` boxes. libheif 1.15 checks its size limit against `ispe`
// alone, and libde265 and dav1d allocate what the stream's own parameter sets say: a 16000x16000 HEVC stream
// behind an `ispe` of 1000x1000 (58 KB) took 4.8 s and 1.66 GB before the pixel limit refused its decoded result.
// So before anything is decoded, this walks the container (ISO/IEC 14496-12 boxes, the HEIF item boxes of
// ISO/IEC 23008-12) to every coded item the primary image is made of, and reads each one's frame size from its
// HEVC sequence parameter set (ITU-T H.265 7.3.2.2) or AV1 sequence header (AV1 5.5), plus the output size of a
// grid or overlay. Only the fields up to the frame size are parsed.

/// A HEIF structure that cannot be read far enough to know what decoding it would allocate.
struct HEIFStructureError: Error, Equatable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Frame sizes of the coded images a HEIF primary image is decoded from (see the file's comment).
enum HEIFCodedSize {
    struct Size: Equatable, CustomStringConvertible {
        var width: Int
        var height: Int
        /// What the size is of ("HEVC stream of item 1", "grid item 5").
        var what: String
        var description: String { "\(width)x\(height) (\(what))" }
    }

    /// Every size decoding the primary image of `bytes` allocates: each coded item it is made of (itself, the
    /// tiles of a grid or overlay, an alpha or depth plane that refers to it) and the canvas of a grid or overlay.
    static func sizes(of bytes: [UInt8]) throws(HEIFStructureError) -> [Size] {
        let file = try HEIFItems(bytes)
        var sizes: [Size] = []
        var seen: Set<UInt32> = []
        var pending = [file.primary] + file.references(to: file.primary, type: "auxl")
        while let item = pending.popLast() {
            guard seen.insert(item).inserted else { continue }
            guard seen.count <= 4096 else { throw HEIFStructureError("more than 4096 items make up the image") }
            let type = file.types[item] ?? "?"
            switch type {
            case "hvc1":
                let config = try file.property("hvcC", of: item)
                let (w, h) = try HEVCParameters.frameSize(hvcC: config)
                sizes.append(Size(width: w, height: h, what: "HEVC stream of item \(item)"))
            case "av01":
                let config = try file.property("av1C", of: item)
                // The sequence header is in av1C's configOBUs when the writer put it there, else in the item's data.
                var size: (Int, Int)?
                if config.count > 4 { size = try? AV1Parameters.frameSize(obus: Array(config.dropFirst(4))) }
                if size == nil { size = try AV1Parameters.frameSize(obus: file.data(of: item, limit: 4096)) }
                let (w, h) = size ?? (0, 0)
                sizes.append(Size(width: w, height: h, what: "AV1 stream of item \(item)"))
            case "grid", "iovl":
                let (w, h) = try canvasSize(file.data(of: item, limit: 64), overlay: type == "iovl")
                sizes.append(Size(width: w, height: h, what: "\(type) item \(item)"))
                pending += file.references(from: item, type: "dimg")
            case "iden":
                pending += file.references(from: item, type: "dimg")
            default:
                throw HEIFStructureError("item \(item) is coded as '\(type)', which FaceFind does not decode")
            }
        }
        return sizes
    }

    /// The output size of a grid (ISO/IEC 23008-12 6.6.2.3) or an overlay (6.6.2.2) from its item data.
    static func canvasSize(_ data: [UInt8], overlay: Bool) throws(HEIFStructureError) -> (Int, Int) {
        var reader = ByteReader(data)
        _ = try reader.u8()  // version
        let wide = try reader.u8() & 1 != 0
        if overlay { try reader.skip(8) } else { try reader.skip(2) }  // fill colour, or rows and columns
        let w = wide ? Int(try reader.u32()) : Int(try reader.u16())
        let h = wide ? Int(try reader.u32()) : Int(try reader.u16())
        return (w, h)
    }
}

/// The item boxes of a HEIF file's `meta` box: types, references, properties and locations.
struct HEIFItems {
    private let bytes: [UInt8]
    private(set) var primary: UInt32 = 0
    private(set) var types: [UInt32: String] = [:]
    /// (type, from, to) for every reference.
    private var links: [(String, UInt32, UInt32)] = []
    /// The property boxes in `ipco`, in order (index 1 is the first), as (type, payload).
    private var properties: [(String, ArraySlice<UInt8>)] = []
    private var associations: [UInt32: [Int]] = [:]
    private var iloc: ArraySlice<UInt8> = []
    private var idat: ArraySlice<UInt8> = []

    init(_ bytes: [UInt8]) throws(HEIFStructureError) {
        self.bytes = bytes
        guard let meta = try ISOBox.children(of: bytes[...]).first(where: { $0.type == "meta" }) else {
            throw HEIFStructureError("no 'meta' box")
        }
        var pitm: UInt32?
        for box in try ISOBox.children(of: meta.payload.dropFirst(4)) {
            var r = ByteReader(box.payload)
            switch box.type {
            case "pitm":
                let version = try r.u8(); try r.skip(3)
                pitm = version == 0 ? UInt32(try r.u16()) : try r.u32()
            case "iinf":
                let version = try r.u8(); try r.skip(3)
                try r.skip(version == 0 ? 2 : 4)
                for entry in try ISOBox.children(of: r.rest) where entry.type == "infe" {
                    var e = ByteReader(entry.payload)
                    let v = try e.u8(); try e.skip(3)
                    guard v >= 2 else { continue }  // versions 0 and 1 name no item type
                    let id = v == 2 ? UInt32(try e.u16()) : try e.u32()
                    try e.skip(2)
                    types[id] = try e.fourCC()
                }
            case "iref":
                let version = try r.u8(); try r.skip(3)
                for reference in try ISOBox.children(of: r.rest) {
                    var e = ByteReader(reference.payload)
                    let from = version == 0 ? UInt32(try e.u16()) : try e.u32()
                    for _ in 0..<(try e.u16()) {
                        links.append((reference.type, from, version == 0 ? UInt32(try e.u16()) : try e.u32()))
                    }
                }
            case "iprp":
                for child in try ISOBox.children(of: box.payload) {
                    if child.type == "ipco" {
                        properties = try ISOBox.children(of: child.payload).map { ($0.type, $0.payload) }
                    } else if child.type == "ipma" {
                        try readAssociations(child.payload)
                    }
                }
            case "iloc":
                iloc = box.payload
            case "idat":
                idat = box.payload
            default:
                continue
            }
        }
        guard let pitm else { throw HEIFStructureError("no primary item ('pitm')") }
        primary = pitm
    }

    private mutating func readAssociations(_ payload: ArraySlice<UInt8>) throws(HEIFStructureError) {
        var r = ByteReader(payload)
        let version = try r.u8()
        let wideIndex = try r.sized(3) & 1 != 0  // flags: 24 bits; the low one makes indices 15 bits wide
        for _ in 0..<(try r.u32()) {
            let item = version < 1 ? UInt32(try r.u16()) : try r.u32()
            var indices: [Int] = []
            for _ in 0..<(try r.u8()) {
                indices.append(wideIndex ? Int(try r.u16() & 0x7FFF) : Int(try r.u8() & 0x7F))
            }
            associations[item, default: []] += indices
        }
    }

    /// The extents (offset, length) of `item` from the `iloc` box, and whether they are offsets into `idat`. Read
    /// only when an item's data is needed (a grid's canvas, an AV1 header outside av1C), as libheif does: a file
    /// whose `iloc` has odd field sizes still decodes when nothing needs it.
    private func location(of item: UInt32) throws(HEIFStructureError) -> (extents: [(Int, Int)], inIdat: Bool) {
        var r = ByteReader(iloc)
        let version = try r.u8(); try r.skip(3)
        let sizes = try r.u8(), more = try r.u8()
        let offsetSize = Int(sizes >> 4), lengthSize = Int(sizes & 15), baseSize = Int(more >> 4)
        let indexSize = version == 1 || version == 2 ? Int(more & 15) : 0
        let count = version < 2 ? Int(try r.u16()) : Int(try r.u32())
        for _ in 0..<count {
            let id = version < 2 ? UInt32(try r.u16()) : try r.u32()
            var method = 0
            if version == 1 || version == 2 { method = Int(try r.u16() & 15) }
            try r.skip(2)  // data_reference_index
            let base = try r.sized(baseSize)
            var extents: [(Int, Int)] = []
            for _ in 0..<(try r.u16()) {
                _ = try r.sized(indexSize)
                let offset = try r.sized(offsetSize)
                extents.append((base.addingReportingOverflow(offset).partialValue, try r.sized(lengthSize)))
            }
            if id == item { return (extents, method == 1) }
        }
        throw HEIFStructureError("item \(item) has no location")
    }

    /// Items that `item` refers to with references of `type`.
    func references(from item: UInt32, type: String) -> [UInt32] {
        links.filter { $0.0 == type && $0.1 == item }.map(\.2)
    }

    /// Items that refer to `item` with references of `type` (an alpha plane's `auxl` points at its image).
    func references(to item: UInt32, type: String) -> [UInt32] {
        links.filter { $0.0 == type && $0.2 == item }.map(\.1)
    }

    /// The payload of the property box of `type` associated with `item`.
    func property(_ type: String, of item: UInt32) throws(HEIFStructureError) -> ArraySlice<UInt8> {
        for index in associations[item] ?? [] where index >= 1 && index <= properties.count {
            if properties[index - 1].0 == type { return properties[index - 1].1 }
        }
        throw HEIFStructureError("item \(item) has no '\(type)' property")
    }

    /// The first `limit` bytes of the item's data (its extents in order).
    func data(of item: UInt32, limit: Int) throws(HEIFStructureError) -> [UInt8] {
        let location = try location(of: item)
        let source = location.inIdat ? idat : bytes[...]
        var out: [UInt8] = []
        for (offset, length) in location.extents where out.count < limit {
            guard offset >= 0, length >= 0, offset <= source.count, length <= source.count - offset else {
                throw HEIFStructureError("item \(item)'s data lies outside the file")
            }
            let start = source.startIndex + offset
            // A length of 0 means "to the end" (ISO/IEC 14496-12 8.11.3.3).
            let end = length == 0 ? source.endIndex : start + length
            out += source[start..<min(end, start + limit - out.count)]
        }
        return out
    }
}

/// An ISO base media box: its type and what follows its header.
struct ISOBox {
    var type: String
    var payload: ArraySlice<UInt8>

    /// The boxes one after the other in `data`.
    static func children(of data: ArraySlice<UInt8>) throws(HEIFStructureError) -> [ISOBox] {
        var boxes: [ISOBox] = []
        var r = ByteReader(data)
        while !r.rest.isEmpty {
            let start = r.position
            var size = Int(try r.u32())
            let type = try r.fourCC()
            if size == 1 {
                let large = try r.u64()
                guard large <= UInt64(Int.max) else { throw HEIFStructureError("'\(type)' box size overflows") }
                size = Int(large)
            } else if size == 0 {
                size = data.endIndex - start
            }
            let header = r.position - start
            guard size >= header, size <= data.endIndex - start else {
                throw HEIFStructureError("'\(type)' box of \(size) bytes runs past its container")
            }
            boxes.append(ISOBox(type: type, payload: data[r.position..<(start + size)]))
            try r.skip(size - header)
        }
        return boxes
    }
}

/// Big-endian reads over a byte slice, each failing at the end of the data.
struct ByteReader {
    private let data: ArraySlice<UInt8>
    private(set) var position: Int
    init(_ data: ArraySlice<UInt8>) { self.data = data; position = data.startIndex }
    init(_ data: [UInt8]) { self.init(data[...]) }

    var rest: ArraySlice<UInt8> { data[position...] }

    mutating func skip(_ n: Int) throws(HEIFStructureError) {
        guard n >= 0, n <= data.endIndex - position else { throw HEIFStructureError("truncated structure") }
        position += n
    }
    /// An unsigned big-endian number of `n` bytes (0 to 8).
    mutating func sized(_ n: Int) throws(HEIFStructureError) -> Int {
        guard n <= 8 else { throw HEIFStructureError("a \(n)-byte field") }
        let start = position
        try skip(n)
        var value: UInt64 = 0
        for byte in data[start..<position] { value = value << 8 | UInt64(byte) }
        guard value <= UInt64(Int.max) else { throw HEIFStructureError("a field too large") }
        return Int(value)
    }
    mutating func u8() throws(HEIFStructureError) -> UInt8 { UInt8(try sized(1)) }
    mutating func u16() throws(HEIFStructureError) -> UInt16 { UInt16(try sized(2)) }
    mutating func u32() throws(HEIFStructureError) -> UInt32 { UInt32(try sized(4)) }
    mutating func u64() throws(HEIFStructureError) -> UInt64 {
        let high = UInt64(try u32()), low = UInt64(try u32())
        return high << 32 | low
    }
    mutating func fourCC() throws(HEIFStructureError) -> String {
        let start = position
        try skip(4)
        return String(decoding: data[start..<position].map { (0x20...0x7E).contains($0) ? $0 : 0x3F }, as: UTF8.self)
    }
}
