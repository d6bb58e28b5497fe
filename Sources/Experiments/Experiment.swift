// Experiments: a directory experiments/NNN-slug/ with README.md and
// config.json; running one writes results/NNN-slug/ (run.json, CSV, gnuplot
// scripts, PNG and SVG charts). The whole result directory is built under a
// temporary name and renamed into place, so an interrupted run leaves the
// previous result intact.

import Analytic
import Charts
import Files
import Foundation
import Methods
import Requests

/// Chart options of an experiment's config.json.
public struct ChartSpec: Codable, Sendable {
    public var title: String
    public var subtitle: String?
    public var xLabel: String?
    public var yLabel: String?
    public var logX: Bool?
    public var logY: Bool?
    public var logBase: Int?
    /// Horizontal guide lines, e.g. [{"y": 1, "title": "no speedup"}].
    public var referenceLines: [Guide]?
    public var key: String?
    /// Multiply y values (e.g. 1000 to plot milliseconds).
    public var yScale: Double?

    public struct Guide: Codable, Sendable {
        public var y: Double?
        public var x: Double?
        public var title: String
    }

    var guides: [ReferenceLine] {
        (referenceLines ?? []).compactMap { guide in
            if let y = guide.y { return .horizontal(y: y, title: guide.title) }
            if let x = guide.x { return .vertical(x: x, title: guide.title) }
            return nil
        }
    }

    var keyPosition: KeyPosition {
        switch key {
        case "top-left": return .topLeft
        case "top-right": return .topRight
        case "bottom-left": return .bottomLeft
        case "bottom-right": return .bottomRight
        case "outside": return .outsideRight
        case "below": return .below
        default: return .auto
        }
    }
}

/// One named configuration of a multi-series sweep.
public struct SeriesSpec: Codable, Sendable {
    public var title: String
    public var request: PredictRequest
}

/// The config.json of an experiment: what every kind has (title, suites, chart) and the kind's own settings.
public struct ExperimentSpec: Decodable, Sendable {
    /// The kind's name (ExperimentBody.names lists them).
    public var kind: String
    public var title: String
    /// Suites this experiment belongs to ("default" runs under `make run`).
    public var suites: [String]?
    public var chart: ChartSpec
    public var body: ExperimentBody

    enum CodingKeys: String, CodingKey { case kind, title, suites, chart }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decode(String.self, forKey: .kind)
        title = try c.decode(String.self, forKey: .title)
        suites = try c.decodeIfPresent([String].self, forKey: .suites)
        chart = try c.decode(ChartSpec.self, forKey: .chart)
        body = try ExperimentBody(kind: kind, from: decoder)
    }
}

/// The `batch-decode` kind: batched speculative decoding (B sequences per verify forward) against
/// batched plain decoding, measured and predicted by the engine calibrated in the same run.
public struct BatchDecodeSpec: Codable, Sendable {
    /// A checkpoint directory relative to the repository root, or "preset:NAME" for random weights (timing).
    public var target: String
    public var corpus: String
    public var methods: [Method]
    public var draftLength: Int
    public var batches: [Int]
    public var promptLength: Int
    public var maxTokens: Int
    public var seed: UInt64?
    /// A hardware preset for the prediction instead of calibrating this machine (for quick checks).
    public var hardware: String?

    public struct Method: Codable, Sendable {
        public var title: String
        /// Any batchable method of the registry, decoded greedily: "oracle" (the target's greedy continuation,
        /// each draft corrupted with probability 1 − alpha), "pld", or one with a trained drafter.
        public var method: String
        public var alpha: Double?
        /// The drafter to train for the target (as in a decode experiment; reused when its spec is unchanged).
        public var trainDrafter: DecodeSpec.DrafterSpec?
        /// Tree methods: the tree (a dynamic tree's size is its `size`).
        public var tree: TreeSpec?
        /// Its own draft length (the experiment's otherwise).
        public var draftLength: Int?
    }
}

/// The `threshold-sweep` kind: threshold (adaptive) generation with MTP heads (ALGORITHMS.md §14) — per-token
/// and cumulative stopping, verified (lossless) and unverified (lossy) — over thresholds: tokens per target
/// forward measured and predicted by the engine's threshold model fitted on a calibration split, and the
/// output's quality as the target scores it, against plain greedy and sampled decoding.
public struct ThresholdSweepSpec: Codable, Sendable {
    /// Target checkpoint directory, relative to the repository root.
    public var target: String
    public var corpus: String
    /// The heads (kind mtp-parallel or mtp-sequential), trained inside the experiment or reused.
    public var drafter: DecodeSpec.DrafterSpec
    public var draftLength: Int
    public var thresholds: [Double]
    /// Prefix beam search over the same heads (blocks of 1 … draftLength + 1 tokens) at these widths, for the
    /// speed-against-quality chart.
    public var prefixBeamWidths: [Int]?
    public var samples: Int
    public var promptLength: Int
    public var maxTokens: Int
    public var seed: UInt64?
}

/// The `frontier` kind: every decoding method of other experiments' results on one speed-against-quality
/// chart per temperature — each method at its fastest measured setting (tokens per target forward against
/// the target's log-likelihood of its output relative to plain decoding of the same prompts, since the
/// experiments decode different prompts); lossless methods lie on plain decoding's quality.
public struct FrontierSpec: Codable, Sendable {
    /// Result directories (relative to the repository root) of `decode` or `threshold-sweep` experiments.
    public var sources: [String]
    public var temperatures: [Double]
}

/// The `decode` kind: methods measured on a trained target over draft lengths.
public struct DecodeSpec: Codable, Sendable {
    /// Target checkpoint directory, relative to the repository root (e.g. results/008-train-tiny).
    public var target: String
    public var corpus: String
    public var methods: [MethodSpec]
    public var draftLengths: String
    public var samples: Int
    public var promptLength: Int
    public var maxTokens: Int
    /// Each temperature is measured for every method (0 = greedy, V1; > 0: V2 for sampled chains, V3 otherwise).
    public var temperatures: [Double]
    public var seed: UInt64?
    /// Also predict every measured speedup with the analytic engine calibrated to
    /// this machine (`speclab calibrate`) from the measured τ, and compare.
    public var predict: Bool?

    public struct MethodSpec: Codable, Sendable {
        public var title: String
        public var method: String
        /// Drafter trained inside the experiment: {"kind": "blockwise", "heads": 4, "steps": 300} or
        /// {"kind": "draft-model", "preset": "draft", "steps": 300}.
        public var trainDrafter: DrafterSpec?
        /// This method's draft lengths (default: the experiment's), e.g. "1:3" for three heads.
        /// For eagle2 and medusa they are tree sizes (drafted nodes per cycle).
        public var draftLengths: String?
        /// Tree settings of the tree methods (eagle1's static shape; eagle2's top-K and depth).
        public var tree: TreeSpec?
        /// Medusa's typical acceptance (lossy) instead of a lossless verifier.
        public var typical: Bool?
        /// mtad, mtjd: beams kept at each depth (default 4).
        public var beamWidth: Int?
    }

    public struct DrafterSpec: Codable, Sendable {
        public var kind: String
        public var heads: Int?
        public var preset: String?
        public var steps: Int
        public var learningRate: Float?
        /// MTP kinds: "frozen" (heads on the target, the default) or "scratch" (trunk and heads trained
        /// jointly from scratch; the method then decodes the jointly trained model).
        public var trunk: String?
        /// Training window (default 64 bytes); a trunk that trains needs the target's own (RoPE positions
        /// beyond the window are never seen in training).
        public var sequenceLength: Int?
        /// masked-mtp: LoRA rank (default 8).
        public var rank: Int?
    }
}

/// The `acceptance-curves` kind: accepted-length distributions and per-position acceptance.
public struct AcceptanceCurvesSpec: Codable, Sendable {
    public var draftLength: Int
    /// i.i.d. α values for the accepted-length distribution chart.
    public var alphas: [Double]
    /// Named conditional per-position profiles (EAGLE's n-α), for the per-position chart.
    public var profiles: [Profile]

    public struct Profile: Codable, Sendable {
        public var title: String
        public var alphas: [Double]
    }
}

/// The `tree-acceptance` kind: τ of the best tree of each size from per-depth rank acceptance.
public struct TreeAcceptanceSpec: Codable, Sendable {
    /// Top-1 conditional acceptance per depth (e.g. EAGLE's n-α).
    public var topOne: [Double]
    public var ranks: Int
    /// ρ values: how much of the leftover mass each next rank keeps.
    public var decays: [Double]
    public var maxNodes: Int
    public var width: Int
}

/// The `step-time-validation` kind: calibrate, then predicted vs measured T(k) of a reference preset.
public struct StepTimeValidationSpec: Codable, Sendable {
    public var preset: String
    public var tokens: String
    public var context: Int
    public var threads: Int
    /// Time tree verify forwards (a binary token tree with its ancestor mask) instead of chains.
    public var tree: Bool?
}

/// The `train` kind: a reference-model preset on a corpus, then a greedy sample.
public struct TrainSpec: Codable, Sendable {
    public var preset: String
    public var corpus: String
    public var steps: Int
    public var batchSize: Int?
    public var sequenceLength: Int?
    public var learningRate: Float?
    public var seed: UInt64?
    /// BLAS threads (fixed, so the run is bitwise reproducible on a machine).
    public var threads: Int?
    public var samplePrompt: String?
    public var sampleTokens: Int?
}

/// Where experiments and results live.
public struct ExperimentPaths: Sendable {
    public var experimentsDirectory: URL
    public var resultsDirectory: URL

    public init(experimentsDirectory: URL, resultsDirectory: URL) {
        self.experimentsDirectory = experimentsDirectory
        self.resultsDirectory = resultsDirectory
    }

    public static var current: ExperimentPaths {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        return ExperimentPaths(experimentsDirectory: cwd.appendingPathComponent("experiments"),
                               resultsDirectory: cwd.appendingPathComponent("results"))
    }

    /// Where a run of `slug` keeps what must outlive an interruption (`.work-SLUG` beside the results).
    public func workDirectory(_ slug: String) -> URL {
        resultsDirectory.appendingPathComponent(".work-\(slug)", isDirectory: true)
    }

    /// Experiment slugs (directories with a config.json), sorted.
    public func slugs() throws -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: experimentsDirectory.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw AnalyticError("no experiments folder at '\(experimentsDirectory.path)'; run from the repository's top level or give --experiments-dir")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: experimentsDirectory.path)) ?? []
        return names.filter {
            FileManager.default.fileExists(atPath: experimentsDirectory.appendingPathComponent($0)
                .appendingPathComponent("config.json").path)
        }.sorted()
    }

    public func spec(_ slug: String) throws -> ExperimentSpec {
        let directory = experimentsDirectory.appendingPathComponent(slug)
        guard FileManager.default.fileExists(atPath: directory.path) else {
            let known = (try? slugs()) ?? []
            throw AnalyticError("no experiment '\(slug)' in \(experimentsDirectory.path); known: \(known.joined(separator: ", "))")
        }
        return try JSONFiles.decode(ExperimentSpec.self, from: directory.appendingPathComponent("config.json").path,
                                    what: "experiment config")
    }
}

/// What one run produced.
public struct ExperimentOutcome: Sendable {
    public var slug: String
    public var directory: URL
    public var files: [String]
    public var notes: [String]
}

public enum ExperimentRunner {
    /// Runs one experiment and writes results/slug/ atomically.
    public static func run(slug: String, paths: ExperimentPaths, plot: Bool = true) throws -> ExperimentOutcome {
        let spec = try paths.spec(slug)
        let experimentDirectory = paths.experimentsDirectory.appendingPathComponent(slug)
        let final = paths.resultsDirectory.appendingPathComponent(slug)
        let work = paths.workDirectory(slug)
        var notes: [String] = []
        let artifacts = try ArtifactDirectory.write(to: final, kind: "experiment result", recognisedBy: ["run.json"]) { staging in
            let context = ExperimentContext(slug: slug, title: spec.title, chart: spec.chart,
                                            experimentDirectory: experimentDirectory, output: staging,
                                            workDirectory: work, plot: plot)
            let artifacts = try spec.body.kind.run(context)
            notes = context.notes
            let configText = (try? String(contentsOf: experimentDirectory.appendingPathComponent("config.json"), encoding: .utf8)) ?? "{}"
            try AtomicFile.write(Provenance.runJSON(slug: slug, configJSON: configText, notes: notes, kind: spec.body.kind),
                                 to: staging.appendingPathComponent("run.json"))
            return artifacts
        }
        // The results are in place: what the run kept for a restart is no longer needed.
        if FileManager.default.fileExists(atPath: work.path) { try? FileManager.default.removeItem(at: work) }
        return ExperimentOutcome(slug: slug, directory: final, files: artifacts + ["run.json"], notes: notes)
    }

    /// Runs every experiment whose `suites` contains `suite` ("all" = every experiment).
    public static func runSuite(_ suite: String, paths: ExperimentPaths, plot: Bool = true,
                                report: (ExperimentOutcome) -> Void) throws {
        let slugs = try paths.slugs().filter { slug in
            suite == "all" || ((try? paths.spec(slug).suites) ?? nil)?.contains(suite) == true
        }
        guard !slugs.isEmpty else {
            throw AnalyticError("no experiments in suite '\(suite)' under \(paths.experimentsDirectory.path)")
        }
        for slug in slugs { report(try run(slug: slug, paths: paths, plot: plot)) }
    }
}

/// run.json: the config, the code version and the machine.
enum Provenance {
    static func runJSON(slug: String, configJSON: String, notes: [String], kind: any ExperimentKind) -> String {
        let info = ProcessInfo.processInfo
        let date = ISO8601DateFormatter().string(from: Date())
        var uts = utsname()
        uname(&uts)
        let machine = withUnsafePointer(to: &uts.machine) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
        return """
        {
          "experiment": \(JSONText.string(slug)),
          "date": \(JSONText.string(date)),
          "git_commit": \(JSONText.string(gitCommit())),
          "source_modified": \(sourceModified().map { $0 ? "true" : "false" } ?? "null"),
          "host": {"os": \(JSONText.string(info.operatingSystemVersionString)), "machine": \(JSONText.string(machine)), "cores": \(info.processorCount), "memory_bytes": \(info.physicalMemory)},
          "seed": \(kind.randomSeed.map(String.init) ?? "null"),
          \(reproducibility(type(of: kind).reproducibility))
          "notes": [\(notes.map(JSONText.string).joined(separator: ", "))],
          "config": \(configJSON.trimmingCharacters(in: .whitespacesAndNewlines))
        }

        """
    }

    /// "deterministic": true, or false with what varies between reruns.
    static func reproducibility(_ value: Reproducibility) -> String {
        switch value {
        case .deterministic: return "\"deterministic\": true,"
        case .timed(let what): return "\"deterministic\": false,\n  \"not_reproduced\": \(JSONText.string(what)),"
        }
    }

    /// Whether the code or experiment configs differ from the commit (tracked files under Sources,
    /// experiments or Package.swift modified); nil outside a git checkout.
    static func sourceModified() -> Bool? {
        git(["status", "--porcelain", "--untracked-files=no", "--", "Sources", "experiments", "Package.swift"]).map { !$0.isEmpty }
    }

    static func gitCommit() -> String {
        git(["rev-parse", "--short", "HEAD"]).flatMap { $0.isEmpty ? nil : $0 } ?? "unknown"
    }

    /// A git command's trimmed output, nil when git is missing or fails.
    static func git(_ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return process.terminationStatus == 0 ? text : nil
    }
}
