// Fuzzes the split-file reader (LabelledSet(splitData:baseFolder:), the JSON behind --split) and the path
// resolution of its entries.
import FaceFind
import Foundation
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    do {
        let set = try LabelledSet(splitData: bytes, baseFolder: "/fuzz/faces", name: "fuzz.json")
        for item in set.queries + set.gallery { precondition(item.path.hasPrefix("/"), "relative path \(item.path)") }
        _ = set.allPaths
    } catch let error as EvaluationError {
        _ = error.description
    } catch {
        preconditionFailure("unexpected error type \(type(of: error))")
    }
    return 0
}

/// libFuzzer's driver, or (FUZZ_REPLAY builds) a replay of the files given as arguments.
@main
enum Main {
    static func main() { FuzzSupport.main(fuzz) }
}
