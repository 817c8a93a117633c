#if !FUZZ_REPLAY
import CLibFuzzer
#endif
import Foundation

/// Shared helpers for the fuzz targets.
///
/// Each target exposes `LLVMFuzzerTestOneInput` and an `@main` that calls `FuzzSupport.main(fuzz)`. Built with
/// `-sanitize=fuzzer`, that runs libFuzzer's driver with the command-line arguments. Built with `-DFUZZ_REPLAY`
/// (no sanitizer), it calls `replay`, which feeds every file named on the command line (folders: every file
/// inside, recursively, in name order) through the same function, so a crash file found by the fuzzer can be
/// reproduced and debugged in an ordinary build.
public enum FuzzSupport {
    public typealias Entry = @convention(c) (UnsafePointer<UInt8>, Int) -> CInt

    /// The program: libFuzzer's driver, or the replay of files in FUZZ_REPLAY builds.
    public static func main(_ entry: Entry) -> Never {
        #if FUZZ_REPLAY
        exit(replay(Array(CommandLine.arguments.dropFirst()), entry))
        #else
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, entry))
        #endif
    }

    /// Runs `body` on the bytes of each file under `arguments`; returns the exit status (0, or 1 when no input).
    public static func replay(_ arguments: [String],
                              _ body: (UnsafePointer<UInt8>, Int) -> CInt) -> Int32 {
        var files: [String] = []
        for argument in arguments where !argument.hasPrefix("-") {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("replay: no such file \(argument)\n".utf8))
                return 1
            }
            if isDirectory.boolValue {
                let names = (FileManager.default.enumerator(atPath: argument)?.allObjects as? [String]) ?? []
                for name in names.sorted() {
                    let path = (argument as NSString).appendingPathComponent(name)
                    var sub: ObjCBool = false
                    if FileManager.default.fileExists(atPath: path, isDirectory: &sub), !sub.boolValue {
                        files.append(path)
                    }
                }
            } else {
                files.append(argument)
            }
        }
        guard !files.isEmpty else {
            FileHandle.standardError.write(Data("usage: \(CommandLine.arguments[0]) FILE_OR_FOLDER...\n".utf8))
            return 1
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                FileHandle.standardError.write(Data("replay: cannot read \(file)\n".utf8))
                return 1
            }
            print("replay: \(file) (\(data.count) bytes)")
            let bytes = [UInt8](data)
            // A non-null pointer even for empty input, as libFuzzer passes.
            let status = bytes.isEmpty ? body(UnsafePointer(bitPattern: 1)!, 0)
                                       : bytes.withUnsafeBufferPointer { body($0.baseAddress!, $0.count) }
            if status != 0 { print("replay: \(file) returned \(status)") }
        }
        print("replay: \(files.count) input(s) ran without a crash")
        return 0
    }

    /// A per-process scratch folder for targets whose API reads files.
    public static let scratchFolder: String = {
        let base = ProcessInfo.processInfo.environment["FUZZ_SCRATCH"] ?? NSTemporaryDirectory()
        let path = (base as NSString).appendingPathComponent("facefind-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// Writes `bytes` to `scratchFolder/name` (replacing it) and returns the path.
    public static func writeScratch(_ name: String, _ data: UnsafePointer<UInt8>, _ size: Int) -> String {
        let path = (scratchFolder as NSString).appendingPathComponent(name)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        precondition(fd >= 0, "cannot create \(path)")
        var written = 0
        while written < size {
            let n = write(fd, data + written, size - written)
            precondition(n > 0 || errno == EINTR, "cannot write \(path)")
            if n > 0 { written += n }
        }
        close(fd)
        return path
    }
}
