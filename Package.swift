// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "FaceFind",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "FaceFind", targets: ["FaceFind"]),
        .library(name: "FaceFindMultipart", targets: ["FaceFindMultipart"]),
        .executable(name: "facefind", targets: ["facefind"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.21.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        // Only for `swift package generate-documentation` (scripts/docs.sh); nothing links it.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // Our own declarations of the part of the ONNX Runtime C API we call, plus a dlopen loader.
        .target(name: "COnnxRuntime", linkerSettings: [.linkedLibrary("dl")]),
        // Search kernels (AVX-512 float32/float16/int8-VNNI dot products, top-k) with portable fallbacks.
        .target(name: "CSearchKernels"),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg",
                       providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CWebP", pkgConfig: "libwebp",
                       providers: [.apt(["libwebp-dev"])]),
        // HEIC (HEVC through libde265) and AVIF (AV1 through dav1d/libaom): libheif 1.15 on Debian 12.
        .systemLibrary(name: "CHeif", pkgConfig: "libheif",
                       providers: [.apt(["libheif-dev"])]),
        // Video: FFmpeg 5.1's libavformat, libavcodec, libswscale and libavutil on Debian 12 (one include folder,
        // so one pkg-config name finds them all; the module map links the four).
        .systemLibrary(name: "CFFmpeg", pkgConfig: "libavformat",
                       providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev"])]),
        .target(
            name: "FaceFind",
            dependencies: [
                "COnnxRuntime", "CSearchKernels", "CTurboJPEG", "CPNG", "CWebP", "CHeif", "CFFmpeg",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // multipart/form-data parsing, without dependencies: the server uses it and the fuzzers (Fuzz/) build it
        // without an HTTP stack.
        .target(name: "FaceFindMultipart"),
        // The HTTP service and web page (`facefind serve`), an opt-in module over the library.
        .target(
            name: "FaceFindServer",
            dependencies: [
                "FaceFind", "FaceFindMultipart",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // GalleryStore on PostgreSQL + pgvector (`--store postgres://...`).
        .target(
            name: "FaceFindPostgres",
            dependencies: [
                "FaceFind",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Measurement harnesses behind `facefind bench`: generated galleries, recall, the PostgreSQL search bench.
        .target(
            name: "FaceFindBench",
            dependencies: [
                "FaceFind", "FaceFindPostgres",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .executableTarget(
            name: "facefind",
            dependencies: [
                "FaceFind", "FaceFindServer", "FaceFindPostgres", "FaceFindBench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "FaceFindTests", dependencies: ["FaceFind", "FaceFindBench"]),
        .testTarget(name: "FaceFindPostgresTests", dependencies: [
            "FaceFindPostgres", "FaceFindBench",
            // Raw rows as older FaceFind versions wrote them.
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ]),
        .testTarget(
            name: "FaceFindServerTests",
            dependencies: [
                "FaceFindServer", "FaceFindMultipart", "FaceFindPostgres",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ]
)
