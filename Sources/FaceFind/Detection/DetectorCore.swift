import Foundation

/// What every single-network detector family shares: the catalog entry's input and settings, the session, the
/// outputs it reads, and the two ends of detection (fit the photo to the input and run the network; map the
/// decoded faces back to the photo and suppress overlaps). A family keeps only its own decoding.
struct DetectorCore: Sendable {
    let name: String
    let session: InferenceSession
    let input: InputSpec
    let settings: DetectorSettings
    let outputNames: [String]

    /// `outputCounts` gives the numbers of outputs the family accepts, which may depend on its settings
    /// (SCRFD: two or three per stride).
    init(spec: ModelSpec, session: InferenceSession,
         outputCounts: (DetectorSettings) throws -> [Int]) throws {
        let settings = try DetectorInput.require(spec.detector, "detector", spec)
        self.name = spec.name
        self.session = session
        self.input = spec.input
        self.settings = settings
        self.outputNames = try DetectorInput.outputNames(spec, session: session, count: try outputCounts(settings))
    }

    /// The network's outputs for `image` fitted to its input, and where the photo sits in that input; nil for
    /// an empty image.
    func run(_ image: RGBImage) throws -> (outputs: [Tensor], placement: InputPlacement)? {
        guard image.width > 0, image.height > 0 else { return nil }
        let (tensor, placement) = DetectorInput.tensor(for: image, input: input, settings: settings)
        return (try session.run(tensor, inputName: input.name, outputNames: outputNames), placement)
    }

    /// Faces decoded in tensor pixels, mapped to the photo, after non-maximum suppression.
    func finish(_ faces: [DetectedFace], _ placement: InputPlacement) -> [DetectedFace] {
        DetectorInput.finish(faces, placement: placement, nmsThreshold: settings.nmsThreshold)
    }
}
