// swift-tools-version:6.0
// SpecLab: analytic model and reference simulator of speculative decoding and
// multi-token prediction. Module graph (one-way):
//   CGSL -> LinAlg -> Transformer -> Decoding -> Validation   (numerics; the reference model; decoding; calibration)
//   Validation also uses Analytic (it writes the analytic engine's presets)
//   Analytic, Charts          (pure Swift, Foundation only)
//   Analytic + Charts -> Experiments -> speclab (CLI, no logic)
import PackageDescription

let optimisedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "SpecLab",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "speclab", targets: ["speclab"]),
        .library(name: "SpecLabAnalytic", targets: ["Analytic"]),
        .library(name: "SpecLabLinAlg", targets: ["LinAlg"]),
        .library(name: "SpecLabCharts", targets: ["Charts"]),
        .library(name: "SpecLabTransformer", targets: ["Transformer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // GSL linked against OpenBLAS's cblas, never gslcblas (see DESIGN.md):
        // no pkgConfig, because gsl.pc adds -lgslcblas.
        .systemLibrary(name: "CGSL", path: "Sources/CGSL",
                       providers: [.apt(["libgsl-dev", "libopenblas-dev"])]),
        // The numeric modules are optimised in debug builds too: the tests (run on a debug build)
        // decode, train and time the reference model, which unoptimised code runs 10–50× slower.
        .target(name: "LinAlg", dependencies: ["CGSL"], swiftSettings: optimisedInDebug),
        // Output safety: atomic files and artifact folders swapped in whole (no dependencies).
        .target(name: "Files"),
        .target(name: "Transformer", dependencies: ["CGSL", "LinAlg", "Files"], swiftSettings: optimisedInDebug),
        .target(name: "Decoding", dependencies: ["Transformer", "LinAlg", "Files"], swiftSettings: optimisedInDebug),
        .target(name: "Validation", dependencies: ["Decoding", "Transformer", "LinAlg", "Analytic", "Files", "Methods"]),
        // Measured GPU kernel tables (tools/aiconfigurator/convert_kernels.py) ship as resources.
        .target(name: "Analytic", dependencies: ["Files"], resources: [.copy("Resources/kernels")]),
        .target(name: "Charts", dependencies: ["Files"]),
        // The registry of decoding methods: one descriptor per method (reference-model drafter, verifier,
        // tree, losslessness, engine workload).
        .target(name: "Methods", dependencies: ["Analytic", "Decoding", "Transformer"]),
        .target(name: "Experiments", dependencies: ["Analytic", "Charts", "Files", "LinAlg", "Transformer", "Decoding", "Methods",
                                                    "Validation"]),
        .executableTarget(name: "speclab", dependencies: [
            "Analytic", "Charts", "Experiments", "Files", "Methods", "Transformer", "Validation",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "LinAlgTests", dependencies: ["LinAlg"]),
        .testTarget(name: "AnalyticTests", dependencies: ["Analytic"]),
        .testTarget(name: "TransformerTests", dependencies: ["Transformer", "LinAlg"]),
        .testTarget(name: "DecodingTests", dependencies: ["Decoding", "Transformer", "LinAlg"]),
        .testTarget(name: "ValidationTests", dependencies: ["Validation", "Analytic", "Transformer"]),
        .testTarget(name: "ChartsTests", dependencies: ["Charts", "Files"]),
        .testTarget(name: "FilesTests", dependencies: ["Files"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Analytic", "Charts", "Files", "Transformer", "Decoding", "Methods", "Validation"]),
    ]
)
