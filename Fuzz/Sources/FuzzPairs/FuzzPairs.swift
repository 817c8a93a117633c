// Fuzzes the LFW pairs.txt reader (PairsFile) and the image paths it resolves.
import FaceFind
import Foundation
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do {
        let file = try PairsFile(data: Data(bytes: data, count: size), source: "fuzz.txt")
        precondition(file.pairs.count == file.folds * file.pairsPerFold * 2, "pair count does not match the header")
        for pair in file.pairs {
            precondition(pair.fold < file.folds)
            precondition(pair.samePerson == (pair.first.name == pair.second.name))
            for photo in [pair.first, pair.second] {
                // Byte level (String's hasPrefix/contains compare Characters, which combining marks can merge
                // with "/"): the path is /images/<name>/<name>_NNNN.jpg, with no "/", "..", "." in the names.
                let path = PairsFile.path(of: photo, in: "/images")
                let components = Array(path.utf8).split(separator: 0x2F, omittingEmptySubsequences: false)
                precondition(components.count == 4 && components[0].isEmpty
                             && Array(components[1]) == Array("images".utf8), "path escapes: \(path)")
                for component in components.dropFirst() {
                    precondition(Array(component) != [0x2E] && Array(component) != [0x2E, 0x2E], "dot component: \(path)")
                }
            }
        }
    } catch {
        precondition(!error.reason.isEmpty)
        if let line = error.line { precondition(line >= 1) }
    }
    return 0
}

/// libFuzzer's driver, or (FUZZ_REPLAY builds) a replay of the files given as arguments.
@main
enum Main {
    static func main() { FuzzSupport.main(fuzz) }
}
