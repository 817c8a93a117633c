// Fuzzes what `facefind models install --from FILE` and `models verify` do with a model file: copy into a
// staging file, zip detection and member extraction (Info-ZIP unzip, for model packs), sha256 check against the
// catalog's pin, move into place, verify, installedPath. The bytes are the source file, installed for a copy of
// a catalog entry twice: with the catalog's pinned sha256 (refused unless it matches) and with none pinned
// (accepted, then verified). Also checks that SHA256's incremental update matches the one-shot hash.
import FaceFind
import Foundation
import FuzzSupport

let base = ModelCatalog.spec(named: "yunet")!
let modelsFolder = (FuzzSupport.scratchFolder as NSString).appendingPathComponent("models")
let repository = ModelRepository(directory: modelsFolder)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    // SHA256: one update equals two updates split anywhere.
    let whole = SHA256.hex(bytes)
    var split = SHA256()
    let cut = size == 0 ? 0 : Int(bytes[0]) % (size + 1)
    split.update(bytes[..<cut])
    split.update(bytes[cut...])
    precondition(split.finalize().map { String(format: "%02x", $0) }.joined() == whole, "SHA256 split mismatch")

    let source = FuzzSupport.writeScratch("source.onnx", data, size)
    // First with the catalog's pinned hash (refused unless the bytes match), then with no pinned hash (accepted
    // when a file can be staged, then verified).
    for pinned in [true, false] {
        var spec = base
        spec.files = [ModelFile(path: "sub/yunet_s_dynamic.onnx", sha256: pinned ? base.files[0].sha256 : "")]
        let target = repository.path(of: spec.files[0])
        try? FileManager.default.removeItem(atPath: target)
        do {
            _ = try repository.install(spec, from: source)
            try repository.verify(spec)
            let installed = try repository.installedPath(spec)
            precondition(installed == target)
            if pinned {
                let actual = try SHA256.hex(fileAt: target)
                precondition(actual == base.files[0].sha256, "wrong file installed")
            }
        } catch {
            _ = "\(error)"
            // A failed install never leaves a file in place (the staged ".part" copy may remain).
            precondition(!FileManager.default.fileExists(atPath: target), "failed install left \(target)")
        }
    }
    return 0
}

/// libFuzzer's driver, or (FUZZ_REPLAY builds) a replay of the files given as arguments.
@main
enum Main {
    static func main() { FuzzSupport.main(fuzz) }
}
