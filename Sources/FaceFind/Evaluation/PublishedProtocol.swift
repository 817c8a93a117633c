/// A model's published LFW evaluation, as FaceFind settings: `facefind evaluate --protocol NAME` runs the model
/// the way its authors measured it, so that FaceFind's figure can be set beside theirs.
public struct PublishedProtocol: Sendable {
    public enum Name: String, Sendable, CaseIterable, Codable {
        case facenet, dlib
    }

    public var name: Name
    /// The pipeline: detector, embedder, crop, normalisation, augmentation and detection policy.
    public var configuration: PipelineConfiguration
    public var queryFace: QueryFaceChoice
    public var metric: DistanceMetric
    /// Whether the mean embedding of the training folds is subtracted before the cosine (pairs only).
    public var subtractMean: Bool
    /// The accuracy the authors publish on LFW's own 6,000 pairs with this protocol.
    public var publishedLFWAccuracy: Double
    /// Where the protocol is written down.
    public var source: String

    public static func named(_ name: Name) -> PublishedProtocol {
        switch name {
        case .facenet: return facenet
        case .dlib: return dlib
        }
    }

    /// facenet's `validate_on_lfw.py` for 20180408-102900 (its wiki, "Validate on LFW"): photos aligned by
    /// `align_dataset_mtcnn.py --image_size 160 --margin 32` (MTCNN at the photo's own size, minimum face 20 px,
    /// thresholds 0.6/0.7/0.7; of several faces the one with the largest area minus twice its squared offset from
    /// the centre; the box plus 16 px per side, clipped to the photo, resized to 160 x 160), then
    /// `--use_fixed_image_standardization --use_flipped_images --subtract_mean --distance_metric 1` (cosine).
    /// Published: 0.9905 (facenet's README, model table).
    public static let facenet = PublishedProtocol(
        name: .facenet,
        configuration: PipelineConfiguration(
            detector: "mtcnn", embedder: "facenet512", crop: .marginPixels(32), normalization: .fixed,
            detection: DetectionOptions(maxSide: 4096, minSide: 0, minFaceSize: 0), augmentation: .flipConcat),
        queryFace: .prominent, metric: .cosine, subtractMean: true, publishedLFWAccuracy: 0.9905,
        source: "https://github.com/davidsandberg/facenet/wiki/Validate-on-LFW")

    /// dlib's ResNet as face_recognition runs it (`face_encodings`, model "small"): dlib's 5-point shape
    /// predictor on the face box, dlib's 150 px face chip with padding 0.25, one jitter, euclidean distance. The
    /// boxes are YuNet's mapped to dlib's detector's convention (`DlibBoxCalibration`): face_recognition's HOG
    /// detector is not part of FaceFind. Published: 0.9938 (dlib-models, dlib_face_recognition_resnet_model_v1).
    public static let dlib = PublishedProtocol(
        name: .dlib,
        configuration: PipelineConfiguration(detector: "yunet", embedder: "dlib", crop: .dlibChip),
        queryFace: .prominent, metric: .euclidean, subtractMean: false, publishedLFWAccuracy: 0.9938,
        source: "http://dlib.net/face_recognition.py.html and https://github.com/davisking/dlib-models")
}
