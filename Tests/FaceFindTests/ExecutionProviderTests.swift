import Foundation
import Testing
@testable import FaceFind

/// The GPU path cannot run here (no GPU, and the CPU wheel's library has no CUDA provider); what can be
/// tested is that asking for it falls back to the CPU and gives the CPU's results.
@Suite("Execution providers")
struct ExecutionProviderTests {
    @Test func cudaFallsBackToTheCPUWithTheSameOutputs() throws {
        let runtime = try OnnxRuntime.shared()
        let model = TestData.models + "/mobilefacenet_128.onnx"
        let cpu = try InferenceSession(modelPath: model, options: SessionOptions(intraOpThreads: 1), runtime: runtime)
        let cuda = try InferenceSession(modelPath: model, options: SessionOptions(intraOpThreads: 1, provider: .cuda(device: 0)),
                                        runtime: runtime)
        #expect(cpu.provider == "CPUExecutionProvider")
        if try runtime.availableProviders().contains("CUDAExecutionProvider") {
            Issue.record("this test expects the CPU-only library; the loaded one has CUDA (\(runtime.libraryPath))")
            return
        }
        #expect(cuda.provider == "CPUExecutionProvider")
        #expect(runtime.providersInUse == ["CPUExecutionProvider"])

        // A real face chip, not a constant: the outputs of both sessions must agree exactly.
        let image = try TestData.decode("lfw-dev/AJ_Cook/AJ_Cook_0001.jpg")
        let chip = image.resized(width: 112, height: 112)
        var data = [Float](repeating: 0, count: 3 * 112 * 112)
        for y in 0..<112 { for x in 0..<112 { for c in 0..<3 {
            data[c * 112 * 112 + y * 112 + x] = (Float(chip.pixels[(y * 112 + x) * 3 + c]) - 127.5) / 128
        } } }
        let input = Tensor(shape: [1, 3, 112, 112], data: data)
        let a = try cpu.run(input)
        let b = try cuda.run(input)
        #expect(a.first?.data.count == 128)
        #expect(a == b)
    }

    @Test func providerNames() {
        #expect(ExecutionProvider.cpu.name == "CPUExecutionProvider")
        #expect(ExecutionProvider.cuda(device: 1).name == "CUDAExecutionProvider")
    }

    /// `--provider` spellings: cpu, cuda (GPU 0), cuda:N; anything else is refused.
    @Test func providerSpellings() {
        #expect(ExecutionProvider(spelling: "cpu") == .cpu && ExecutionProvider(spelling: "CUDA") == .cuda(device: 0))
        #expect(ExecutionProvider(spelling: "cuda:3") == .cuda(device: 3))
        for bad in ["gpu", "cuda:", "cuda:-1", "cuda:x", "cpu:0", "cuda:1:2", ""] {
            #expect(ExecutionProvider(spelling: bad) == nil, "\(bad)")
        }
        for provider in [ExecutionProvider.cpu, .cuda(device: 2)] {
            #expect(ExecutionProvider(spelling: provider.spelling) == provider)
        }
    }
}
