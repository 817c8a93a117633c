// Fuzzes the vector file reader (issue 25, item 5): `VectorIndex.open` on any bytes, then a search, row reads and
// `fileChange`; and `GalleryVectorFile` over a small real index: the bytes written as the index's vector file,
// opened, and searched. The first input byte chooses what the rest goes through:
// - bit 0: `VectorIndex.resealed` first (every checksum recomputed), so that mutations reach the checks behind
//   the checksums (header fields, layout, the subspace's sizes, ids and vectors against the index) instead of
//   stopping at a CRC;
// - bit 1: the header's tag set to the index's state (database id, counter, token), so that the file is taken as
//   current and searched, and every row it returns is checked against the index.
// Must hold: no crash, no allocation beyond the file's own size, and every match returned is a photo of the
// index with its true score (the file may be rebuilt on the way: a repair, never a wrong answer).
// `FUZZ_VECTOR_FILE_SEEDS=FOLDER` writes the seeds (the index's good file, under each mode) and exits.
import FaceFind
import Foundation
import FuzzSupport

/// 40 photos of one face each, 16-d (identity subspace, small files), float32: the index the files are checked
/// against. Written once per process.
let dimension = 16
let vectors: [[Float]] = (0..<40).map { i in
    var v = (0..<dimension).map { k in Float(sin(Double(i * 31 + k * 7) * 0.37)) }
    let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
    v = v.map { $0 / norm }
    return v
}
let store: SQLiteGalleryStore = {
    let path = (FuzzSupport.scratchFolder as NSString).appendingPathComponent("index.sqlite")
    try? FileManager.default.removeItem(atPath: path)
    let store = try! SQLiteGalleryStore(path: path)
    try! store.bind(IndexSettings(detector: "fuzz", detectorSHA256: "", embedder: "fuzz", embedderSHA256: "", crop: "none",
                                  normalization: "none", dimension: dimension, maxSide: 0, minSide: 0))
    try! store.write(vectors.enumerated().map { i, v in
        IndexedImage(path: "/fuzz/\(i).jpg", state: FileState(sha256: String(i), bytes: 1, modified: 0), width: 10,
                     height: 10, faces: [StoredFace(face: DetectedFace(box: Box(x: 0, y: 0, width: 10, height: 10), score: 1),
                                                    embedding: Embedding(v))])
    })
    try! GalleryVectorFile.build(store: store, precision: .float32, log: { _ in })
    if let folder = ProcessInfo.processInfo.environment["FUZZ_VECTOR_FILE_SEEDS"] {
        let good = try! Data(contentsOf: URL(fileURLWithPath: store.vectorFilePath))
        for mode: UInt8 in [0, 1, 3] {
            try! (Data([mode]) + good).write(to: URL(fileURLWithPath: folder + "/good-mode\(mode).ffvi"))
        }
        exit(0)
    }
    return store
}()
let state = try! store.faceChangeState()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let mode = data[0]
    var bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    if mode & 2 != 0, bytes.count >= 56 {
        // The owner's tag: bytes 32..<56 of the header.
        bytes.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: state.database, toByteOffset: 32, as: UInt64.self)
            raw.storeBytes(of: state.changes, toByteOffset: 40, as: UInt64.self)
            raw.storeBytes(of: state.token, toByteOffset: 48, as: UInt64.self)
        }
    }
    if mode & 1 != 0 { bytes = VectorIndex.resealed(bytes) }

    // 1. The reader alone.
    let raw = bytes.withUnsafeBufferPointer { FuzzSupport.writeScratch("raw.ffvi", $0.baseAddress ?? data, $0.count) }
    if let index = try? VectorIndex.open(path: raw) {
        precondition(index.fileBytes == bytes.count, "opened a file of another size than its layout")
        let query = [Float](repeating: 0.25, count: index.dimension)
        let found = index.search([query], k: 3, metric: .cosine, threads: 1)[0]
        precondition(found.count <= min(3, index.count) && found.allSatisfy { $0.row >= 0 && $0.row < index.count })
        if index.count > 0 {
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(index.payloadStride, 1), alignment: 16)
            defer { buffer.deallocate() }
            _ = index.readPayload(row: 0, into: buffer)
            _ = index.readPayload(row: index.count - 1, into: buffer)
            _ = index.vector(at: index.count - 1)
        }
        precondition(index.fileChange() == nil)
    }

    // 2. As the index's vector file.
    _ = bytes.withUnsafeBufferPointer { b in
        FuzzSupport.writeScratch("index.sqlite.vectors", b.baseAddress ?? data, b.count)
    }
    guard case .current(let file) = (try? GalleryVectorFile.open(store: store, log: { _ in })) else { return 0 }
    for q in [0, 17, 39] {
        guard let matches = try? file.rank(faces: [Embedding(vectors[q])], k: 3, metric: .cosine, threshold: nil) else {
            continue
        }
        for (match, _) in matches {
            // Honest: a photo of the index, scored as its own vector scores.
            guard let i = Int(match.path.dropFirst("/fuzz/".count).dropLast(".jpg".count)), match.path.hasPrefix("/fuzz/"),
                  vectors.indices.contains(i) else { preconditionFailure("a match that is not in the index: \(match.path)") }
            let truth = zip(vectors[q], vectors[i]).reduce(0) { $0 + $1.0 * $1.1 }
            precondition(abs(match.score - truth) < 1e-4, "match \(match.path) scored \(match.score), truly \(truth)")
        }
    }
    return 0
}

/// libFuzzer's driver, or (FUZZ_REPLAY builds) a replay of the files given as arguments.
@main
enum Main {
    static func main() {
        _ = store
        FuzzSupport.main(fuzz)
    }
}
