import ArgumentParser
import FaceFind
import Foundation

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Decide whether two photos show the same person.",
        discussion: """
            Prints the cosine similarity of the two photos' faces and the decision at the embedder's calibrated \
            threshold (the similarity that 1 in 1,000 different-person pairs of lfw-dev passes), or at \
            --match-threshold. Exit status 0 whatever the decision (it is in the output); 1 when a photo cannot \
            be read.

              facefind verify a.jpg b.jpg --json
            """)

    @Argument(help: "The first photo.")
    var first: String

    @Argument(help: "The second photo.")
    var second: String

    @Option(help: "Which face of each photo to compare: largest, center, score, prominent, or all (the closest pair).")
    var queryFace: QueryFaceChoice = .largest

    @Option(help: "Cosine similarity at and above which the faces are the same person (default: the embedder's calibrated one).")
    var matchThreshold: Float?

    @Flag(help: "Print the result as JSON.")
    var json = false

    @OptionGroup var pipelineOptions: PipelineOptions
    @OptionGroup var runtime: RuntimeOptions

    func run() throws {
        runtime.bootstrapLogging()
        do {
            let pipeline = try pipelineOptions.pipeline(loader: try runtime.loader())
            let decoder = ImageDecoder()
            let result = try pipeline.verify((first, try decoder.decode(contentsOf: first)),
                                             (second, try decoder.decode(contentsOf: second)),
                                             choice: queryFace, threshold: matchThreshold)
            if json {
                try printJSON(result)
            } else {
                let rate = result.falseAcceptRate.map { String(format: ", false-accept rate %g", $0) } ?? ""
                print(String(format: "%@: similarity %.4f, threshold %.4f (%@%@)",
                             result.samePerson ? "same person" : "different people", result.similarity,
                             result.threshold, result.embedder, rate))
            }
        } catch {
            throw fail(error)
        }
    }
}
