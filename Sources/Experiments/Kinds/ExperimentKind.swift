// Experiment kinds: one file per kind in this folder, each a type behind the
// `ExperimentKind` protocol; config.json's "kind" picks the case of
// `ExperimentBody`, whose associated value carries that kind's settings.

import Analytic
import Charts
import Decoding
import Files
import Foundation
import LinAlg
import Requests
import Transformer
import Validation

/// What a kind's run gets: where its config lives, where to write, whether to draw; notes accumulate here.
final class ExperimentContext {
    let slug: String
    let title: String
    let chart: ChartSpec
    /// experiments/NNN-slug/: relative paths in the config resolve against it.
    let experimentDirectory: URL
    /// The staging folder the run writes into (swapped into results/ whole).
    let output: URL
    /// A folder beside the results that outlives an interrupted run (a long training keeps its
    /// checkpoints there and continues from them); removed once the results are in place.
    let workDirectory: URL
    let plot: Bool
    var notes: [String] = []

    init(slug: String, title: String, chart: ChartSpec, experimentDirectory: URL, output: URL, workDirectory: URL,
         plot: Bool) {
        self.slug = slug; self.title = title; self.chart = chart
        self.experimentDirectory = experimentDirectory; self.output = output; self.workDirectory = workDirectory
        self.plot = plot
    }

    /// Writes a chart's data and script into the run's output, and draws it unless plotting is off.
    func draw(_ chart: some ChartDocument, baseName: String) throws -> [String] {
        try ExperimentContext.draw(chart, output: output, baseName: baseName, plot: plot)
    }

    static func draw(_ chart: some ChartDocument, output: URL, baseName: String, plot: Bool) throws -> [String] {
        if plot {
            let artifacts = try ChartRenderer.render(chart, directory: output, baseName: baseName)
            return ([artifacts.dataFile, artifacts.script] + artifacts.images).map(\.lastPathComponent)
        }
        let artifacts = try ChartWriter.write(chart, directory: output, baseName: baseName)
        return [artifacts.dataFile, artifacts.script].map(\.lastPathComponent)
    }
}

/// One kind of experiment: its settings (decoded from config.json) and its run.
protocol ExperimentKind: Decodable, Sendable {
    /// The kind's name in config.json.
    static var name: String { get }
    /// The config.json key of the kind's settings block; nil when they sit at the top level.
    static var block: String? { get }
    /// Writes the kind's data and charts into `context.output`; returns the file names.
    func run(_ context: ExperimentContext) throws -> [String]
    /// What of its output a rerun at the same commit reproduces (run.json records it).
    static var reproducibility: Reproducibility { get }
    /// The seed its random draws start from, defaults applied (nil: it draws nothing at random).
    var randomSeed: UInt64? { get }
}

/// Whether a rerun at the same commit, on the same machine, writes the same data.
enum Reproducibility: Sendable {
    /// Every number is a function of the config and the code (and of inputs already in the repository).
    case deterministic
    /// Some figures are wall-clock measurements of this machine; `what` names them and what stays fixed.
    case timed(what: String)
}

extension ExperimentKind {
    static var block: String? { nil }
    static var reproducibility: Reproducibility { .deterministic }
    var randomSeed: UInt64? { nil }

    /// The kind's settings from the whole config.json: the top level, or the kind's block.
    static func settings(from decoder: Decoder) throws -> any ExperimentKind {
        guard let block else { return try Self(from: decoder) }
        let container = try decoder.container(keyedBy: ConfigKey.self)
        guard let value = try container.decodeIfPresent(Self.self, forKey: ConfigKey(stringValue: block)) else {
            let article = ["a", "e", "i", "o", "u"].contains(name.prefix(1)) ? "an" : "a"
            throw AnalyticError("\(article) \(name) experiment needs \"\(block)\"")
        }
        return value
    }
}

/// A key of config.json by name.
private struct ConfigKey: CodingKey {
    var stringValue: String
    init(stringValue: String) { self.stringValue = stringValue }
    var intValue: Int? { nil }
    init?(intValue: Int) { nil }
}

/// The kind-specific part of an experiment's config.json: the settings of the kind it names.
/// Adding a kind is its file (a type conforming to `ExperimentKind`) and one entry in `kinds`.
public struct ExperimentBody: Sendable {
    /// Every kind a config.json may name.
    static let kinds: [any ExperimentKind.Type] = [
        SweepExperiment.self, LeviathanExperiment.self, StepTimeExperiment.self, FormulaComparisonExperiment.self,
        HeatmapExperiment.self, TrainSpec.self, DecodeSpec.self, StepTimeValidationSpec.self, TreeAcceptanceSpec.self,
        AcceptanceCurvesSpec.self, ReproductionExperiment.self, BatchDecodeSpec.self, ThresholdSweepSpec.self,
        FrontierSpec.self, KernelCrossCheckSpec.self, CrossValidationSpec.self,
    ]

    public static var names: [String] { kinds.map { $0.name } }

    /// The settings of the experiment.
    let kind: any ExperimentKind

    /// Decodes the body of kind `name` from the whole config.json.
    init(kind name: String, from decoder: Decoder) throws {
        guard let type = Self.kinds.first(where: { $0.name == name }) else {
            throw AnalyticError("experiment kind '\(name)' is unknown; valid: \(ExperimentBody.names.joined(separator: ", "))")
        }
        kind = try type.settings(from: decoder)
    }
}

/// A drafter trained inside an experiment: reused from the previous run of the same experiment, or from
/// another experiment's results, when its spec, corpus and target are the same and its weights are present
/// (training is deterministic), else trained;
/// `trained` holds the names already in `output` this run (methods sharing a drafter train it once).
func trainedDrafter(_ train: DecodeSpec.DrafterSpec, title: String, target: String, corpus: String, root: URL,
                           experimentDirectory: URL, output: URL, trained trainedDrafters: inout Set<String>,
                           notes: inout [String]) throws -> URL {
    let targetURL = root.appendingPathComponent(target)
    // One directory per distinct drafter: methods sharing a drafter (eagle1 and eagle2) train it once.
    let name = [train.kind, train.heads.map(String.init) ?? "", String(train.steps), train.trunk ?? "frozen"]
        .filter { !$0.isEmpty }.joined(separator: "-")
    let directory = output.appendingPathComponent("drafter-\(name)")
    // A drafter trained by an earlier run from the same spec and target — of this experiment, or of another
    // that trains the same drafter for the same target — is reused (training is deterministic): reruns of
    // the measurements need not retrain.
    let specText = "kind=\(train.kind) heads=\(train.heads ?? 4) preset=\(train.preset ?? "draft") steps=\(train.steps) "
        + "learning_rate=\(train.learningRate.map { String($0) } ?? "default") trunk=\(train.trunk ?? "frozen") "
        + "sequence_length=\(train.sequenceLength ?? 64) target=\(target)" + (train.rank.map { " rank=\($0)" } ?? "")
        // The target's weights, not only its path: a retrained target needs its drafters retrained.
        + " target_content_id=\((try? Checkpoint.contentId(at: targetURL)).flatMap { $0 } ?? "unknown")"
        + (corpus == "gsl" ? "" : " corpus=\(corpus)")
    let results = root.appendingPathComponent("results")
    let others = ((try? FileManager.default.contentsOfDirectory(atPath: results.path)) ?? []).sorted()
        .filter { $0 != experimentDirectory.lastPathComponent }
    let candidates = ([experimentDirectory.lastPathComponent] + others).map {
        results.appendingPathComponent($0).appendingPathComponent("drafter-\(name)")
    }
    // Only with its weights: a fresh clone has the spec and notes of a drafter but not its (ignored) weights.
    func reusable(_ previous: URL) -> Bool {
        let hasWeights = ((try? FileManager.default.contentsOfDirectory(atPath: previous.path)) ?? [])
            .contains { $0.hasSuffix(".safetensors") }
        return hasWeights && (try? String(contentsOf: previous.appendingPathComponent("spec.txt"), encoding: .utf8)) == specText
    }
    if !trainedDrafters.contains(name), let previous = candidates.first(where: reusable) {
        try FileManager.default.copyItem(at: previous, to: directory)
        let source = previous.deletingLastPathComponent().lastPathComponent
        notes.append("\(title): drafter reused from \(source == experimentDirectory.lastPathComponent ? "the previous run" : "results/\(source)") (same spec and target); its training:")
        notes += ((try? String(contentsOf: directory.appendingPathComponent("training.txt"), encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
        trainedDrafters.insert(name)
    }
    if !trainedDrafters.contains(name) {
        let training = TrainingSettings(steps: train.steps, batchSize: 16, sequenceLength: train.sequenceLength ?? 64,
                                        learningRate: train.learningRate ?? 3e-3, seed: 1)
        let lines = try DrafterTraining.run(DrafterTrainingRequest(
            target: targetURL, kind: train.kind, heads: train.heads ?? 4, corpus: corpus, output: directory,
            settings: training, threads: ProcessInfo.processInfo.activeProcessorCount,
            preset: train.preset ?? "draft", trunk: train.trunk ?? "frozen", rank: train.rank ?? 8))
        OpenBLAS.setThreads(1)
        let kept = lines.filter {
            $0.hasPrefix("  head") || $0.hasPrefix("  step") || $0.hasPrefix("  mask") || $0.hasPrefix("validation") || $0.hasPrefix("head 1") || $0.hasPrefix("fine-tuned")
                || $0.hasPrefix("rank accuracies")
        }
        notes += ["\(title):"] + kept
        try kept.joined(separator: "\n").write(to: directory.appendingPathComponent("training.txt"), atomically: true,
                                               encoding: .utf8)
        try specText.write(to: directory.appendingPathComponent("spec.txt"), atomically: true, encoding: .utf8)
        trainedDrafters.insert(name)
    }
    return directory
}

func resolvedSeries(_ spec: SweepExperiment, base: URL) throws -> [(title: String, config: PredictionConfig)] {
    let shared = spec.base ?? PredictRequest()
    if let series = spec.series, !series.isEmpty {
        return try series.map { ($0.title, try shared.merged(with: $0.request).resolve(baseDirectory: base)) }
    }
    return [("", try shared.resolve(baseDirectory: base))]
}
