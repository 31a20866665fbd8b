// swift-tools-version:6.0
import PackageDescription

// Kernels in the engine and the image pipeline run in tight loops; release builds
// drop exclusivity checks there (checked in debug builds and tests).
let hotLoopSettings: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))
]

let package = Package(
    name: "galaxy",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "galaxy", targets: ["GalaxyCLI"]),
        .executable(name: "galaxy-bench", targets: ["GalaxyBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Already in the graph through Hummingbird: the one lifecycle of `galaxy serve` and `galaxy web`.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // C libraries, each reached through exactly one Swift module.
        .systemLibrary(
            name: "CTurboJPEG", pkgConfig: "libturbojpeg",
            providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(
            name: "CJPEG", pkgConfig: "libjpeg",
            providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(
            name: "CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),
        .systemLibrary(
            name: "COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),

        // libjpeg's error handling needs setjmp/longjmp, which Swift cannot do: a few C functions
        // turn it into status codes (cropped and scaled decoding, encoder variants).
        .target(
            name: "CGalaxyJPEG", dependencies: ["CJPEG"],
            linkerSettings: [.linkedLibrary("jpeg")]),

        // The engine's GEMM micro-kernels, Winograd tile transforms and max pooling, compiled per
        // vector width and picked at load time; optimised in debug builds too, so that tests (and
        // AddressSanitizer runs) of the engine do not crawl.
        .target(name: "CGalaxyKernels", cSettings: [.unsafeFlags(["-O2"], .when(configuration: .debug))]),

        // Labels, progress reporting and the worker pool shared by every part.
        .target(name: "GalaxyCore"),
        // JPEG bytes -> preprocessed float tensor (and image encoding for tools).
        .target(
            name: "GalaxyImage",
            dependencies: ["GalaxyCore", "CTurboJPEG", "CJPEG", "CGalaxyJPEG"],
            swiftSettings: hotLoopSettings),
        // ONNX models: reading, writing, validating and running them.
        .target(
            name: "GalaxyEngine",
            dependencies: ["GalaxyCore", "GalaxyImage", "COpenBLAS", "CGalaxyKernels"],
            // The shipped default model (scripts/train-default-model), read by DefaultModel.
            resources: [.copy("Resources/galaxy-default.onnx")],
            swiftSettings: hotLoopSettings),
        // libpq, owned and made safe.
        .target(
            name: "GalaxyPostgres",
            dependencies: ["CLibPQ", .product(name: "Logging", package: "swift-log")]),
        // The one typed API over the galaxy schema: models, validation, activation, batches,
        // tokens, images, predictions, the queue and the daemon protocol; its SQL in one place.
        .target(name: "GalaxyStore", dependencies: ["GalaxyCore", "GalaxyPostgres"]),
        // Migrations, the retry policy, the lifecycle and the scoring daemon.
        .target(
            name: "GalaxyService",
            dependencies: [
                "GalaxyCore", "GalaxyImage", "GalaxyEngine", "GalaxyPostgres", "GalaxyStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // Synthetic Galaxy Zoo-like images and catalogs.
        .target(
            name: "GalaxySynth",
            dependencies: ["GalaxyCore", "GalaxyImage"],
            swiftSettings: hotLoopSettings),
        // Backpropagation, optimisers, training loop and reports.
        .target(
            name: "GalaxyTraining",
            dependencies: ["GalaxyCore", "GalaxyImage", "GalaxyEngine"],
            swiftSettings: hotLoopSettings),
        // HTTP API, upload page and metrics endpoint; the page's files are embedded in the binary.
        .target(
            name: "GalaxyWeb",
            dependencies: [
                "GalaxyCore", "GalaxyImage", "GalaxyPostgres", "GalaxyStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [
                .embedInCode("Page/index.html"), .embedInCode("Page/app.js"),
                .embedInCode("Page/style.css"), .embedInCode("Page/openapi.json"),
            ]),
        // The `galaxy` command.
        .executableTarget(
            name: "GalaxyCLI",
            dependencies: [
                "GalaxyCore", "GalaxyImage", "GalaxyEngine", "GalaxyPostgres",
                "GalaxyService", "GalaxyStore", "GalaxySynth", "GalaxyTraining", "GalaxyWeb",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // Benchmark programs driven by scripts/bench-*.
        .executableTarget(
            name: "GalaxyBench",
            dependencies: [
                "GalaxyCore", "GalaxyImage", "GalaxyEngine", "GalaxyTraining", "GalaxySynth",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: hotLoopSettings),
        // A real PostgreSQL cluster and fixtures for tests and benchmarks.
        .target(
            name: "GalaxyTestSupport",
            dependencies: ["GalaxyCore", "GalaxyImage", "GalaxyEngine", "GalaxyPostgres"]),

        .testTarget(name: "GalaxyCoreTests", dependencies: ["GalaxyCore"]),
        .testTarget(
            name: "GalaxyImageTests", dependencies: ["GalaxyImage", "GalaxyTestSupport"]),
        .testTarget(
            name: "GalaxyEngineTests",
            dependencies: ["GalaxyEngine", "GalaxyImage", "GalaxyTestSupport"]),
        .testTarget(
            name: "GalaxyPostgresTests", dependencies: ["GalaxyPostgres", "GalaxyTestSupport"]),
        .testTarget(
            name: "GalaxyServiceTests",
            dependencies: ["GalaxyService", "GalaxyStore", "GalaxyEngine", "GalaxyTestSupport"]),
        .testTarget(
            name: "GalaxySynthTests", dependencies: ["GalaxySynth", "GalaxyImage", "GalaxyCore"]),
        .testTarget(
            name: "GalaxyTrainingTests",
            dependencies: ["GalaxyTraining", "GalaxySynth", "GalaxyEngine", "GalaxyTestSupport"]),
        .testTarget(
            name: "GalaxyWebTests",
            dependencies: [
                "GalaxyWeb", "GalaxyService", "GalaxyStore", "GalaxyEngine", "GalaxyImage", "GalaxyTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
