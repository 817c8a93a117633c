// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "FaceFind",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "FaceFind", targets: ["FaceFind"]),
        .executable(name: "facefind", targets: ["facefind"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    ],
    targets: [
        // Our own declarations of the part of the ONNX Runtime C API we call, plus a dlopen loader.
        .target(name: "COnnxRuntime", linkerSettings: [.linkedLibrary("dl")]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg",
                       providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CWebP", pkgConfig: "libwebp",
                       providers: [.apt(["libwebp-dev"])]),
        .target(
            name: "FaceFind",
            dependencies: [
                "COnnxRuntime", "CTurboJPEG", "CPNG", "CWebP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .executableTarget(
            name: "facefind",
            dependencies: [
                "FaceFind",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "FaceFindTests", dependencies: ["FaceFind"]),
    ]
)
