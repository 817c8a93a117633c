/// Test-time augmentation: whether a face's mirror image is embedded too, and how the two vectors are combined.
/// Faces are near-symmetric, so the mirror image is a second view of the same person that cancels some pose
/// and lighting noise. Stored in an index's settings (`IndexSettings.augmentation`, the raw value): vectors of
/// different augmentations are never compared.
public enum Augmentation: String, Sendable, Hashable, Codable, CaseIterable {
    /// The face as it is.
    case none
    /// The face and its mirror image, the two unit vectors averaged (then normalised): same dimension.
    case flip
    /// facenet's LFW evaluation (`validate_on_lfw.py --use_flipped_images`): the two unit vectors concatenated,
    /// twice the dimension. The cosine of two such vectors is the mean of the two views' cosines.
    case flipConcat = "flip-concat"

    /// Whether the mirror image is embedded.
    public var usesMirror: Bool { self != .none }

    /// The embedding length for a network whose output has `dimension` values.
    public func dimension(ofNetworkOutput dimension: Int) -> Int { self == .flipConcat ? 2 * dimension : dimension }
}
