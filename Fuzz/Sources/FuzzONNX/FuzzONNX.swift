// Fuzzes FaceFind's path from an ONNX file to a described session, and the catalog's checks of a model's
// signature: the bytes are written to a file, loaded with InferenceSession (ONNX Runtime through dlopen, from
// $FACEFIND_ORT_LIBRARY or ~/.facefind/lib), its inputs and outputs are described (names, element types,
// shapes), and every catalog detector and embedder is constructed on it, which checks the session against the
// catalog entry. ONNX Runtime itself is not instrumented: coverage counts FaceFind's Swift code only.
import FaceFind
import Foundation
import FuzzSupport

let runtime: OnnxRuntime = {
    do { return try OnnxRuntime.shared() } catch {
        FileHandle.standardError.write(Data("FuzzONNX: cannot load ONNX Runtime: \(error)\n".utf8))
        exit(2)
    }
}()
let options = SessionOptions(intraOpThreads: 1)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzSupport.writeScratch("model.onnx", data, size)
    let session: InferenceSession
    do {
        session = try InferenceSession(modelPath: path, options: options, runtime: runtime)
    } catch {
        _ = "\(error)"
        return 0
    }
    for info in session.inputs + session.outputs {
        precondition(info.shape.allSatisfy { $0 >= -1 }, "bad dimension in \(info.shape)")
    }
    _ = try? session.input(named: nil)
    _ = try? session.output(named: nil)
    _ = try? session.input(named: session.inputs.first?.name)
    for spec in ModelCatalog.all {
        do {
            switch (spec.task, spec.detector?.family) {
            case (.embedder, _): _ = try OnnxEmbedder(spec: spec, session: session)
            case (_, .yunet?): _ = YuNetDetector(spec: spec, session: session)
            case (_, .scrfd?): _ = try SCRFDDetector(spec: spec, session: session)
            case (_, .retinaface?): _ = try RetinaFaceDetector(spec: spec, session: session)
            case (_, .yolo?): _ = try YOLOFaceDetector(spec: spec, session: session)
            case (_, .blazeface?): _ = try BlazeFaceDetector(spec: spec, session: session)
            case (_, .ultraface?): _ = try UltraFaceDetector(spec: spec, session: session)
            case (_, .mtcnn?): _ = try MTCNNDetector(pnet: session, rnet: session, onet: session)
            default: break
            }
        } catch {
            _ = "\(error)"
        }
    }
    return 0
}

/// libFuzzer's driver, or (FUZZ_REPLAY builds) a replay of the files given as arguments.
@main
enum Main {
    static func main() { FuzzSupport.main(fuzz) }
}
