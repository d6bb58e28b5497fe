// swift-tools-version:6.0
// SpecLab: analytic model and reference simulator of speculative decoding and
// multi-token prediction. Module graph (one-way; each target's list below is exactly what it imports):
//   Files                                        (atomic outputs, checked inputs, CSV)
//   CGSL -> LinAlg -> Transformer -> Decoding    (numerics; the reference model; decoding)
//   Files -> Analytic, Charts                    (the engine; gnuplot charts)
//   Analytic + Decoding -> Methods -> Requests   (the method registry; user requests resolved for the engine)
//   Methods + Requests -> Validation             (calibration; predicted against measured)
//   all of them -> Experiments -> speclab        (experiment kinds and runs; the CLI, no logic)
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
        .target(name: "Validation", dependencies: ["Decoding", "Transformer", "LinAlg", "Analytic", "Files", "Methods",
                                                   "Requests"]),
        // Measured GPU kernel tables (tools/aiconfigurator/convert_kernels.py) ship as resources.
        .target(name: "Analytic", dependencies: ["Files"], resources: [.copy("Resources/kernels")]),
        .target(name: "Charts", dependencies: ["Files"]),
        // The registry of decoding methods: one descriptor per method (reference-model drafter, verifier,
        // tree, losslessness, engine workload), and decoding a prompt set with a method named there.
        .target(name: "Methods", dependencies: ["Analytic", "Decoding", "Files", "LinAlg", "Transformer"]),
        // A prediction request (flags or config.json) resolved into the engine's configuration.
        .target(name: "Requests", dependencies: ["Analytic", "Files", "Methods"]),
        .target(name: "Experiments", dependencies: ["Analytic", "Charts", "Files", "LinAlg", "Transformer", "Decoding", "Methods",
                                                    "Requests", "Validation"]),
        .executableTarget(name: "speclab", dependencies: [
            "Analytic", "Charts", "Experiments", "Files", "Methods", "Requests", "Transformer", "Validation",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "LinAlgTests", dependencies: ["LinAlg"]),
        .testTarget(name: "AnalyticTests", dependencies: ["Analytic"]),
        .testTarget(name: "TransformerTests", dependencies: ["Transformer", "LinAlg"]),
        .testTarget(name: "DecodingTests", dependencies: ["Decoding", "Transformer", "LinAlg"]),
        .testTarget(name: "ValidationTests", dependencies: ["Validation", "Analytic", "Transformer"]),
        .testTarget(name: "ChartsTests", dependencies: ["Charts", "Files"]),
        .testTarget(name: "FilesTests", dependencies: ["Files"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Analytic", "Charts", "Files", "Transformer", "Decoding", "Methods", "Requests", "Validation"]),
    ]
)
