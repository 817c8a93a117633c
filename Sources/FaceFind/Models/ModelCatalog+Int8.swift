extension ModelCatalog {
    /// Int8 models: each its float parent quantized by scripts/int8/quantize.sh (ONNX Runtime 1.32's
    /// `quantize_static`), calibrated on the 256 photos of scripts/int8/calibration.txt fed exactly as FaceFind
    /// feeds the parent. Not published anywhere: `facefind models install NAME-int8 --from-source` builds them,
    /// and the output is byte-deterministic (two runs, same sha256), so the sha256 here is checked like any other.
    /// Detectors only where int8 pays on this CPU and keeps the faces (docs/ModelMatrix.md, "Int8 models"): not
    /// YuNet (5.5 to 8.9 ms at 448 px) nor YOLOv5-face (6.4 to 5.8 ms); not RetinaFace, whose int8 file loses faces
    /// its float parent finds at score 0.94, whatever the calibration or the layers kept in float.
    public static let quantized: [ModelSpec] = [
        int8(of: embedders.first { $0.name == "facenet512" }!, path: "int8/facenet512_casia_20180408.int8.onnx",
             sha256: "f86aac915d0cdf86aca52c3be0c7ebf7ea6326472125287192f6ea0f75ea10a6",
             cost: "lfw-dev split top-1 0.952 to 0.951; lfw-dev pairs 0.9840 to 0.9830 (prominent face)"),
        int8(of: embedders.first { $0.name == "mobilefacenet" }!, path: "int8/mobilefacenet_128.int8.onnx",
             sha256: "52f9386314dbd8840472a10fdfca3835b65026bf9d0072a6b665db019ca2ca32",
             cost: "lfw-dev split top-1 0.989 to 0.989; lfw-dev pairs 0.9927 to 0.9917 (prominent face)"),
        int8(of: dlibEmbedder, path: "int8/dlib_resnet_v1.int8.onnx",
             sha256: "531c3c6cfe85a9762e1cd903c6d5448a8b727bd82aaa439b3cfbf988c0e32ceb",
             keptInFloat: "Mul, Add",
             cost: "lfw-dev split top-1 0.924 to 0.920 (0.916 with every layer in int8); lfw-dev pairs 0.9860 to 0.9857"),
        int8(of: detector("scrfd-500m"), path: "int8/scrfd_500m_bnkps.int8.onnx",
             sha256: "9372108183c9bd80b267ea84e1aeaaeb03372b97df76b3b584e2fb5cdb751ba5",
             cost: "with MobileFaceNet behind it: lfw-dev split top-1 0.992 to 0.991; lfw-dev pairs 0.9913 to 0.9907"),
        int8(of: detector("scrfd-2.5g"), path: "int8/scrfd_2.5g_kps_640.int8.onnx",
             sha256: "87e3ce3d61ab2af9549672c8c9d7c88dc6aa69497be88b1cedc3f559f21b860e",
             cost: "with MobileFaceNet behind it: lfw-dev split top-1 0.989 to 0.989; lfw-dev pairs 0.9930 to 0.9913"),
    ]

    private static func detector(_ name: String) -> ModelSpec { moreDetectors.first { $0.name == name }! }

    static let int8Method = "onnxruntime 1.32.0 quantize_static after quant_pre_process: QDQ, per-channel int8 "
        + "weights, uint8 activations, MinMax calibration"

    /// `parent` at int8: the same input, crop and output; its own file (the parent's other files, such as
    /// dlib's shape predictor, are shared).
    static func int8(of parent: ModelSpec, path: String, sha256: String, keptInFloat: String? = nil,
                     cost: String) -> ModelSpec {
        var spec = parent
        spec.name = Precision.int8.modelName(parent.name)
        spec.summary = parent.summary + "; int8"
        spec.files = [ModelFile(path: path, sha256: sha256)] + parent.files.dropFirst()
        spec.quantization = Quantization(
            parent: parent.name,
            calibration: parent.task == .detector
                ? "256 lfw-dev gallery photos (scripts/int8/calibration.txt), each photo's whole input as FaceFind "
                    + "feeds the parent at a detection size of 448 px"
                : "256 lfw-dev gallery photos (scripts/int8/calibration.txt), each face through FaceFind's "
                    + "default detector at 448 px and the parent's own crop and normalisation",
            method: int8Method + (keptInFloat.map { "; the \($0) nodes that pre-processing left kept in float" } ?? ""),
            accuracyCost: cost)
        return spec
    }
}
