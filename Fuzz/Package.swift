// swift-tools-version:6.0
// libFuzzer targets for FaceFind (issue 9). Built by scripts/fuzz.sh:
//   fuzzers:  swift build --package-path Fuzz --scratch-path .build-fuzz/fuzzer \
//               -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
//   replay:   swift build --package-path Fuzz --scratch-path .build-fuzz/replay -Xswiftc -DFUZZ_REPLAY
// Each target defines `LLVMFuzzerTestOneInput` and an `@main` that calls `FuzzSupport.main`: with the sanitizer
// that runs libFuzzer's driver (LLVMFuzzerRunDriver: SwiftPM links the target's own entry point as `main`, so
// libFuzzer's `main` cannot be used), with FUZZ_REPLAY it runs the files and folders named on the command line
// through the same function (to replay crash files in an ordinary build).
import PackageDescription

let targets = ["FuzzImageDecoder", "FuzzEXIF", "FuzzMultipart", "FuzzSplit", "FuzzPairs", "FuzzONNX", "FuzzModelInstall",
               "FuzzVideo", "FuzzVectorFile"]

let package = Package(
    name: "FaceFindFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "FaceFind", path: "..")],
    targets: [
        // libFuzzer's driver entry point, declared for Swift (the definition comes from -sanitize=fuzzer).
        .target(name: "CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"]),
    ] + targets.map { name in
        .executableTarget(
            name: name,
            dependencies: [
                "FuzzSupport",
                name == "FuzzMultipart" ? .product(name: "FaceFindMultipart", package: "FaceFind")
                                        : .product(name: "FaceFind", package: "FaceFind"),
            ]
        )
    }
)
