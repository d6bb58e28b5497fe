// The kinds of experiment a config.json can ask for. Each writes its CSV
// data and its chart into the staging directory and returns the file names.

import Analytic
import Charts
import Decoding
import Files
import Foundation
import Methods
import LinAlg
import Transformer
import Validation

public enum ExperimentKinds {
    /// Every kind an experiment's config.json may name.
    public static let names = ["sweep", "leviathan", "step-time", "formula-comparison", "heatmap", "train", "decode", "step-time-validation", "tree-acceptance", "acceptance-curves", "reproduction", "batch-decode", "threshold-sweep", "frontier", "kernel-crosscheck", "stack-crossvalidation"]

    static func run(_ spec: ExperimentSpec, slug: String, experimentDirectory: URL, output: URL, plot: Bool,
                    notes: inout [String]) throws -> [String] {
        switch spec.kind {
        case "sweep": return try sweep(spec, slug: slug, base: experimentDirectory, output: output, plot: plot, notes: &notes)
        case "leviathan": return try leviathan(spec, output: output, plot: plot, notes: &notes)
        case "step-time": return try stepTime(spec, base: experimentDirectory, output: output, plot: plot, notes: &notes)
        case "formula-comparison":
            return try formulaComparison(spec, base: experimentDirectory, output: output, plot: plot, notes: &notes)
        case "heatmap": return try heatmap(spec, base: experimentDirectory, output: output, plot: plot, notes: &notes)
        case "train": return try train(spec, output: output, plot: plot, notes: &notes)
        case "step-time-validation": return try stepTimeValidation(spec, output: output, plot: plot, notes: &notes)
        case "tree-acceptance": return try treeAcceptance(spec, output: output, plot: plot, notes: &notes)
        case "acceptance-curves": return try acceptanceCurves(spec, output: output, plot: plot, notes: &notes)
        case "decode": return try decode(spec, experimentDirectory: experimentDirectory, output: output, plot: plot,
                                         notes: &notes)
        case "reproduction": return try Reproduction.run(spec, experimentDirectory: experimentDirectory, output: output, plot: plot, notes: &notes)
        case "batch-decode": return try batchDecode(spec, experimentDirectory: experimentDirectory, output: output, plot: plot,
                                                    notes: &notes)
        case "threshold-sweep": return try thresholdSweep(spec, experimentDirectory: experimentDirectory, output: output,
                                                          plot: plot, notes: &notes)
        case "frontier": return try frontier(spec, experimentDirectory: experimentDirectory, output: output, plot: plot,
                                             notes: &notes)
        case "kernel-crosscheck": return try kernelCrossCheck(spec, experimentDirectory: experimentDirectory, output: output,
                                                              plot: plot, notes: &notes)
        case "stack-crossvalidation": return try StackCrossValidation.run(spec, experimentDirectory: experimentDirectory,
                                                                           output: output, plot: plot, notes: &notes)
        default:
            throw AnalyticError("experiment kind '\(spec.kind)' is unknown; valid: \(names.joined(separator: ", "))")
        }
    }

    /// Writes a chart's data and script, and draws it unless plotting is off.
    static func draw(_ chart: some ChartDocument, output: URL, baseName: String, plot: Bool) throws -> [String] {
        if plot {
            let artifacts = try ChartRenderer.render(chart, directory: output, baseName: baseName)
            return ([artifacts.dataFile, artifacts.script] + artifacts.images).map(\.lastPathComponent)
        }
        let artifacts = try ChartWriter.write(chart, directory: output, baseName: baseName)
        return [artifacts.dataFile, artifacts.script].map(\.lastPathComponent)
    }

    static func resolvedSeries(_ spec: ExperimentSpec, base: URL) throws -> [(title: String, config: PredictionConfig)] {
        let shared = spec.base ?? PredictRequest()
        if let series = spec.series, !series.isEmpty {
            return try series.map { ($0.title, try shared.merged(with: $0.request).resolve(baseDirectory: base)) }
        }
        return [("", try shared.resolve(baseDirectory: base))]
    }

    // MARK: sweep

    static func sweep(_ spec: ExperimentSpec, slug: String, base: URL, output: URL, plot: Bool,
                      notes: inout [String]) throws -> [String] {
        let axes = try (spec.axes ?? []).map(SweepAxis.parse)
        guard !axes.isEmpty else { throw AnalyticError("a sweep experiment needs \"axes\"") }
        let result = try SweepResult.run(named: try resolvedSeries(spec, base: base), axes: axes,
                                         optimizeDraftLength: spec.optimizeDraftLength, label: slug)
        try result.csv().write(to: output.appendingPathComponent("data.csv"))
        if result.skippedCount > 0 { notes.append("\(result.skippedCount) points skipped: the model does not fit in memory there") }
        let y = spec.y ?? "speedup"
        if axes[0].parameter == .batch, y == "speedup" {
            for series in result.series {
                if let crossing = series.points.first(where: { ($0.prediction?.speedup ?? 2) < 1 }) {
                    notes.append("\(series.title.isEmpty ? "speedup" : series.title): below 1 from batch \(crossing.values[0])")
                }
            }
        }
        let c = spec.chart
        let chart = try result.chart(y: y, title: c.title, subtitle: c.subtitle, xLabel: c.xLabel, yLabel: c.yLabel,
                                     logX: c.logX ?? false, logY: c.logY ?? false, logBase: c.logBase ?? 10,
                                     referenceLines: c.guides, key: c.keyPosition, yScale: c.yScale ?? 1)
        return ["data.csv"] + (try draw(chart, output: output, baseName: "chart", plot: plot))
    }

    // MARK: leviathan

    static func leviathan(_ spec: ExperimentSpec, output: URL, plot: Bool, notes: inout [String]) throws -> [String] {
        let alphas = spec.alphas ?? [0.5, 0.6, 0.7, 0.8, 0.9]
        let gammas = try SweepAxis.parseValues(spec.gammas ?? "0:10", for: .draftLength).compactMap { $0.number }.map { Int($0) }
        let c = spec.c ?? 0
        for alpha in alphas { try Check.probability(alpha, "alpha") }
        try Check.nonNegative(c, "c")
        let y = spec.y ?? "speedup"
        guard ["speedup", "expected_tokens", "ops_factor"].contains(y) else {
            throw AnalyticError("leviathan experiments plot speedup, expected_tokens or ops_factor, not '\(y)'")
        }
        var table = CSVTable(columns: ["alpha", "gamma", "c", "expected_tokens", "speedup", "ops_factor"])
        var lines: [ChartSeries] = []
        for alpha in alphas {
            var points: [ChartPoint] = []
            for gamma in gammas {
                let expected = Leviathan.expectedTokens(alpha: alpha, gamma: gamma)
                let speedup = Leviathan.walltimeImprovement(alpha: alpha, gamma: gamma, c: c)
                let ops = Leviathan.operationsFactor(alpha: alpha, gamma: gamma, cHat: c)
                table.rows.append([CSVTable.cell(alpha), String(gamma), CSVTable.cell(c), CSVTable.cell(expected),
                                   CSVTable.cell(speedup), CSVTable.cell(ops)])
                let value = y == "speedup" ? speedup : (y == "expected_tokens" ? expected : ops)
                points.append(ChartPoint(x: Double(gamma), y: value))
            }
            lines.append(ChartSeries(title: "α = \(alpha)", points: points))
            if y == "speedup", c > 0 {
                let best = Leviathan.optimalGamma(alpha: alpha, c: c, maxGamma: gammas.max() ?? 10)
                notes.append(String(format: "alpha %.2f: best gamma %d, speedup %.2f", alpha, best.gamma, best.speedup))
            }
        }
        try table.write(to: output.appendingPathComponent("data.csv"))
        let s = spec.chart
        let chart = Chart(title: s.title, subtitle: s.subtitle, xLabel: s.xLabel ?? "draft length γ (tokens)",
                          yLabel: s.yLabel ?? (y == "speedup" ? "walltime speedup (×)" : y == "expected_tokens"
                                               ? "expected tokens per target forward" : "arithmetic operations (× baseline)"),
                          series: lines, referenceLines: s.guides, logScaleY: s.logY ?? false,
                          keyPosition: s.keyPosition)
        return ["data.csv"] + (try draw(chart, output: output, baseName: "chart", plot: plot))
    }

    // MARK: step time

    static func stepTime(_ spec: ExperimentSpec, base: URL, output: URL, plot: Bool,
                         notes: inout [String]) throws -> [String] {
        var request = spec.base ?? PredictRequest()
        let hardwareNames = spec.hardware ?? [request.hardware ?? "h100-sxm"]
        let modelNames = spec.models ?? [request.model ?? "llama-3.1-8b"]
        // Tokens per sequence in one forward (prefill-sized too): whole numbers bounded like a context.
        let tokens = try SweepAxis.parseValues(spec.tokens ?? "1:4096:x2", for: .context).compactMap { $0.number }
        let normalized = spec.y == "normalized"
        var table = CSVTable(columns: ["hardware", "model", "tokens_per_sequence", "batch", "context", "seconds",
                                       "relative_to_one_token", "bound", "weight_bytes", "kv_bytes", "flops"])
        var lines: [ChartSeries] = []
        for name in hardwareNames {
          for modelName in modelNames {
            request.hardware = name
            request.hardwareFile = nil
            request.model = modelName
            request.modelFile = nil
            let config = try request.resolve(baseDirectory: base)
            let model = config.model
            // The engine's own pricing of the target's forward: measured kernels where the GPU has them.
            let predictor = try Predictor(config)
            func cost(_ k: Double) -> StepCost {
                predictor.targetForward(tokensPerSequence: Int(k), batch: config.batch, contextTokens: config.contextTokens)
            }
            let one = cost(1).seconds
            var points: [ChartPoint] = []
            var knee: Double? = nil
            for k in tokens {
                let step = cost(k)
                table.rows.append([name, model.name, CSVTable.cell(k), String(config.batch), String(config.contextTokens),
                                   CSVTable.cell(step.seconds), CSVTable.cell(step.seconds / one), step.bound.rawValue,
                                   CSVTable.cell(step.weightBytes), CSVTable.cell(step.kvCacheBytes), CSVTable.cell(step.flops)])
                points.append(ChartPoint(x: k, y: normalized ? step.seconds / one : step.seconds * (spec.chart.yScale ?? 1)))
                if knee == nil, step.seconds / one > 1.1 { knee = k }
            }
            let seriesName = modelNames.count > 1 && hardwareNames.count > 1 ? "\(model.name) on \(name)"
                : (modelNames.count > 1 ? model.name : name)
            lines.append(ChartSeries(title: seriesName, points: points))
            notes.append("\(seriesName): T(1) = \(String(format: "%.3f", one * 1e3)) ms; T(k) exceeds 1.1·T(1) from k = \(knee.map { String(Int($0)) } ?? "beyond the range") (\(predictor.pricedBy))")
          }
        }
        try table.write(to: output.appendingPathComponent("data.csv"))
        let s = spec.chart
        let chart = Chart(title: s.title, subtitle: s.subtitle,
                          xLabel: s.xLabel ?? "new tokens per sequence in one forward, k",
                          yLabel: s.yLabel ?? (normalized ? "T(k) / T(1)" : "forward time (s)"),
                          series: lines, referenceLines: s.guides, logScaleX: s.logX ?? true, logScaleY: s.logY ?? true,
                          logBase: s.logBase ?? 2, keyPosition: s.keyPosition)
        return ["data.csv"] + (try draw(chart, output: output, baseName: "chart", plot: plot))
    }

    // MARK: simplified vs exact

    static func formulaComparison(_ spec: ExperimentSpec, base: URL, output: URL, plot: Bool,
                                  notes: inout [String]) throws -> [String] {
        let batches = try (spec.axes ?? ["batch=1,64"]).map(SweepAxis.parse).first { $0.parameter == .batch }?
            .values.compactMap { $0.number }.map { Int($0) } ?? [1]
        var request = spec.base ?? PredictRequest()
        if request.alpha == nil, request.alphas == nil, request.tau == nil, request.acceptanceFile == nil { request.alpha = 0.5 }
        let predictor = try Predictor(try request.resolve(baseDirectory: base))
        let alphas = stride(from: 0.0, through: 1.0, by: 0.05).map { ($0 * 100).rounded() / 100 }
        var table = CSVTable(columns: ["batch", "alpha", "exact_speedup", "simplified_speedup", "draft_to_target_ratio",
                                       "verify_to_step_ratio"])
        var lines: [ChartSeries] = []
        for batch in batches {
            var exact: [ChartPoint] = [], simple: [ChartPoint] = []
            var worst = 0.0
            for alpha in alphas {
                let p = try predictor.predict(draftLength: 1, batch: batch, acceptance: .iid(alpha: alpha))
                let ratio = p.draftSecondsPerCycle / p.targetStepSeconds
                let simplified = Leviathan.simplifiedSpeedup(alpha: alpha, draftToTargetTimeRatio: ratio)
                exact.append(ChartPoint(x: alpha, y: p.speedup))
                simple.append(ChartPoint(x: alpha, y: simplified))
                worst = max(worst, abs(simplified - p.speedup) / p.speedup)
                table.rows.append([String(batch), CSVTable.cell(alpha), CSVTable.cell(p.speedup), CSVTable.cell(simplified),
                                   CSVTable.cell(ratio), CSVTable.cell(p.verifySeconds / p.targetStepSeconds)])
            }
            lines.append(ChartSeries(title: "exact cycle model, batch \(batch)", points: exact))
            lines.append(ChartSeries(title: "simplified (1+α)/(1+α·T_draft/T_target), batch \(batch)", points: simple, dashed: true))
            notes.append(String(format: "batch %d: simplified formula off by up to %.0f%% of the exact speedup", batch, worst * 100))
        }
        try table.write(to: output.appendingPathComponent("data.csv"))
        let s = spec.chart
        let chart = Chart(title: s.title, subtitle: s.subtitle, xLabel: s.xLabel ?? "acceptance rate α",
                          yLabel: s.yLabel ?? "speedup over plain decoding (×)", series: lines,
                          referenceLines: s.guides, xRange: AxisRange(lower: 0, upper: 1), keyPosition: s.keyPosition)
        return ["data.csv"] + (try draw(chart, output: output, baseName: "chart", plot: plot))
    }

    // MARK: train

    static func train(_ spec: ExperimentSpec, output: URL, plot: Bool, notes: inout [String]) throws -> [String] {
        guard let t = spec.training else { throw AnalyticError("a train experiment needs \"training\"") }
        let config = try ModelConfig.preset(named: t.preset)
        let settings = TrainingSettings(steps: t.steps, batchSize: t.batchSize ?? 16,
                                        sequenceLength: t.sequenceLength ?? min(128, config.contextLength),
                                        learningRate: t.learningRate ?? 3e-3, seed: t.seed ?? 1)
        let lines = try TrainingRun.run(TrainingRequest(preset: t.preset, corpus: t.corpus, output: output,
                                                        settings: settings, threads: t.threads ?? 1, plot: plot))
        notes += lines.filter { !$0.hasPrefix("checkpoint") && !$0.hasPrefix("loss curve") }
        var sample: [UInt8] = []
        let prompt = Array((t.samplePrompt ?? "#include <gsl/").utf8)
        try TrainingRun.generate(model: output, prompt: prompt, maxTokens: t.sampleTokens ?? 100,
                                 settings: .greedy, seed: 1) { sample.append($0) }
        try AtomicFile.write(Data(sample), to: output.appendingPathComponent("sample.txt"))
        return ["model.safetensors", "config.json", "training.csv", "loss.dat", "loss.gp"]
            + (plot ? ["loss.png", "loss.svg"] : []) + ["sample.txt"]
    }

    /// A drafter trained inside an experiment: reused from the previous run of the same experiment when its
    /// spec and target are the same and its weights are present (training is deterministic), else trained;
    /// `trained` holds the names already in `output` this run (methods sharing a drafter train it once).
    static func trainedDrafter(_ train: DecodeSpec.DrafterSpec, title: String, target: String, corpus: String, root: URL,
                               experimentDirectory: URL, output: URL, trained trainedDrafters: inout Set<String>,
                               notes: inout [String]) throws -> URL {
        let targetURL = root.appendingPathComponent(target)
        // One directory per distinct drafter: methods sharing a drafter (eagle1 and eagle2) train it once.
        let name = [train.kind, train.heads.map(String.init) ?? "", String(train.steps), train.trunk ?? "frozen"]
            .filter { !$0.isEmpty }.joined(separator: "-")
        let directory = output.appendingPathComponent("drafter-\(name)")
        // A drafter trained by an earlier run of this experiment from the same spec and target is reused
        // (training is deterministic): reruns of the measurements need not retrain.
        let previous = root.appendingPathComponent("results").appendingPathComponent(experimentDirectory.lastPathComponent)
            .appendingPathComponent("drafter-\(name)")
        let specText = "kind=\(train.kind) heads=\(train.heads ?? 4) preset=\(train.preset ?? "draft") steps=\(train.steps) "
            + "learning_rate=\(train.learningRate.map { String($0) } ?? "default") trunk=\(train.trunk ?? "frozen") "
            + "sequence_length=\(train.sequenceLength ?? 64) target=\(target)" + (train.rank.map { " rank=\($0)" } ?? "")
        // Only with its weights: a fresh clone has the spec and notes of a drafter but not its (ignored) weights.
        let hasWeights = ((try? FileManager.default.contentsOfDirectory(atPath: previous.path)) ?? [])
            .contains { $0.hasSuffix(".safetensors") }
        if !trainedDrafters.contains(name), hasWeights,
           (try? String(contentsOf: previous.appendingPathComponent("spec.txt"), encoding: .utf8)) == specText {
            try FileManager.default.copyItem(at: previous, to: directory)
            notes.append("\(title): drafter reused from the previous run (same spec); its training:")
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

    // MARK: decode

    static func decode(_ spec: ExperimentSpec, experimentDirectory: URL, output: URL, plot: Bool,
                       notes: inout [String]) throws -> [String] {
        guard let d = spec.decoding else { throw AnalyticError("a decode experiment needs \"decoding\"") }
        // Paths in the config are relative to the repository root (experiments/NNN/../..).
        let root = experimentDirectory.deletingLastPathComponent().deletingLastPathComponent()
        let target = root.appendingPathComponent(d.target)
        let lengths = try SweepAxis.parseValues(d.draftLengths, for: .draftLength).compactMap { $0.number }.map { Int($0) }
        var table = CSVTable(columns: ["title", "method", "temperature", "draft_length", "tau", "tokens_per_second",
                                       "ntp_tokens_per_second", "speedup", "decode_speedup", "target_forwards", "tokens_generated",
                                       "per_position_acceptance", "accepted_length_histogram", "lossless",
                                       "target_log_likelihood", "ntp_target_log_likelihood"])
        // One τ chart and one speedup chart per temperature (a dozen methods do not fit one key).
        var tauLines: [Double: [ChartSeries]] = [:], speedupLines: [Double: [ChartSeries]] = [:]
        // Speed against quality per temperature: (τ, the target's log-likelihood of the output) of every point,
        // and plain decoding's quality at that temperature.
        var qualityLines: [Double: [ChartSeries]] = [:], plainQuality: [Double: Double] = [:]
        // Per temperature: each method's acceptance rate at each depth, at its longest draft.
        var depthLines: [Double: [ChartSeries]] = [:]
        // Per method: the measured accepted-length distribution and the two models' predictions.
        var histogramCharts: [(title: String, depth: Int, series: [ChartSeries])] = []
        var files: [String] = []
        // Prediction of each measured speedup: the engine calibrated here, the measured τ.
        var calibrated: Hardware? = nil
        var validation = CSVTable(columns: ["title", "method", "temperature", "draft_length", "tau", "measured_decode_speedup",
                                            "predicted_speedup", "relative_error"])
        var validationLines: [ChartSeries] = []
        if d.predict == true {
            let result = try Calibration.calibrate(threads: 1)
            calibrated = result.hardware
            notes += result.facts
            try Calibration.write(result.hardware, to: output.appendingPathComponent("cpu-local.json"))
        }
        // The target and the prompts are loaded once for every method, temperature and draft length.
        // Twice the prompts are drawn: even ones are measured, odd ones form a calibration split
        // from which the acceptance models predict the measured accepted-length distribution.
        let loaded = try DecodeSession(DecodeRequest(
            model: target, method: "ntp", drafter: nil, draftLength: 1, prompts: nil, corpus: d.corpus,
            samples: 2 * d.samples, promptLength: d.promptLength, maxTokens: d.maxTokens, settings: .greedy,
            seed: d.seed ?? 1, baseline: true, threads: 1, confidenceThreshold: 0))
        let measuredPrompts = loaded.prompts.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        let calibrationPrompts = loaded.prompts.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
        var histogramTable = CSVTable(columns: ["title", "method", "draft_length", "accepted", "measured", "iid_calibrated",
                                                "per_position_calibrated", "empirical_calibrated"])
        var trainedDrafters: Set<String> = []
        for method in d.methods {
            let descriptor = try MethodRegistry.method(named: method.method)
            var predictionPoints: [ChartPoint] = []
            var drafter: URL? = nil
            var session = DecodeSession(model: loaded.model, prompts: measuredPrompts, maxTokens: d.maxTokens)
            if let train = method.trainDrafter {
                let directory = try trainedDrafter(train, title: method.title, target: d.target, corpus: d.corpus, root: root,
                                                   experimentDirectory: experimentDirectory, output: output,
                                                   trained: &trainedDrafters, notes: &notes)
                drafter = directory
                if train.trunk == "scratch" || train.trunk == "joint" {
                    // Trunk and heads trained together: this method decodes (and its baseline is) that model.
                    session = DecodeSession(model: InferenceModel(network: try Checkpoint.load(from: directory)),
                                            prompts: measuredPrompts, maxTokens: d.maxTokens)
                }
            }
            let targetConfig = session.model.config
            let calibration = DecodeSession(model: session.model, prompts: calibrationPrompts, maxTokens: d.maxTokens)
            let methodLengths = try method.draftLengths.map {
                try SweepAxis.parseValues($0, for: .draftLength).compactMap { $0.number }.map { Int($0) }
            } ?? lengths
            for temperature in d.temperatures {
                let settings = SamplingSettings(temperature: temperature)
                var tauPoints: [ChartPoint] = [], speedupPoints: [ChartPoint] = [], qualityPoints: [ChartPoint] = []
                var lossy = false
                var last: DecodeStats? = nil
                var lastPoint: (gamma: Int, tree: TreeSpec, acceptance: AcceptanceRule)? = nil
                for gamma in methodLengths {
                    // Dynamic trees and Medusa: the axis is the tree size; static trees: a chain of γ or a fixed shape.
                    var tree = method.tree ?? TreeSpec(shape: "chain")
                    let sizeAxis = descriptor.tree == .dynamic || descriptor.tree == .sparse
                        || (descriptor.tree == .staticOrDynamic && tree.shape == "dynamic")
                    if sizeAxis {
                        tree.size = gamma
                    }
                    let acceptance: AcceptanceRule = method.typical == true ? .typical(epsilon: 0.09, delta: 0.3) : .lossless
                    let report = try session.measure(method: method.method, drafter: drafter, draftLength: gamma,
                                                     settings: settings, seed: d.seed ?? 1, baseline: true, tree: tree,
                                                     acceptance: acceptance, beamWidth: method.beamWidth ?? 4)
                    let s = report.stats
                    table.rows.append([method.title, method.method, CSVTable.cell(temperature), String(gamma), CSVTable.cell(s.tau),
                                       CSVTable.cell(report.tokensPerSecond), CSVTable.cell(report.ntpTokensPerSecond ?? .nan),
                                       CSVTable.cell(report.speedup ?? .nan), CSVTable.cell(report.decodeSpeedup ?? .nan),
                                       String(s.targetForwards),
                                       String(s.tokensGenerated),
                                       s.perPositionAcceptance.map { String(format: "%.4f", $0) }.joined(separator: " "),
                                       s.acceptedLengthHistogram.map(String.init).joined(separator: " "),
                                       String(report.lossless), CSVTable.cell(report.targetLogLikelihood),
                                       CSVTable.cell(report.ntpTargetLogLikelihood ?? .nan)])
                    tauPoints.append(ChartPoint(x: Double(gamma), y: s.tau))
                    qualityPoints.append(ChartPoint(x: s.tau, y: report.targetLogLikelihood))
                    lossy = lossy || !report.lossless
                    if let plain = report.ntpTargetLogLikelihood, !["scratch", "joint"].contains(method.trainDrafter?.trunk ?? "") {
                        plainQuality[temperature] = plain
                    }
                    speedupPoints.append(ChartPoint(x: Double(gamma), y: report.speedup ?? .nan))
                    last = s
                    lastPoint = (gamma, tree, acceptance)
                    if let hardware = calibrated, let measured = report.decodeSpeedup,
                       let analyticMethod = descriptor.engine.workload(beamWidth: method.beamWidth ?? 4) {
                        var draftShape: ModelShape? = nil
                        if analyticMethod.drafter == .draftModel, let directory = drafter {
                            draftShape = Calibration.modelShape(try Checkpoint.info(at: directory).model)
                        }
                        // Trees: depth = the deepest draft, verify tokens = the mean nodes per cycle (root included).
                        let isTree = analyticMethod.supportsTree && (s.drafted != s.maxDraftDepth * s.rounds)
                        let depth = isTree ? max(1, s.maxDraftDepth) : gamma
                        let nodes = Int((Double(s.drafted) / Double(max(s.rounds, 1))).rounded()) + 1
                        let config = PredictionConfig(
                            hardware: hardware, model: Calibration.modelShape(targetConfig), method: analyticMethod,
                            draftModel: draftShape, draftLength: depth, treeSize: isTree ? max(nodes, depth + 1) : nil,
                            treeTopK: tree.topK, batch: 1, contextTokens: d.promptLength + d.maxTokens / 2,
                            acceptance: .meanAcceptedLength(tau: min(s.tau, Double(depth + 1))))
                        let predicted = try Predictor(config).predict().speedup
                        validation.rows.append([method.title, method.method, CSVTable.cell(temperature), String(gamma), CSVTable.cell(s.tau),
                                                CSVTable.cell(measured), CSVTable.cell(predicted),
                                                CSVTable.cell((predicted - measured) / measured)])
                        predictionPoints.append(ChartPoint(x: measured, y: predicted))
                    }
                }
                let label = "\(method.title), T = \(CSVTable.cell(temperature))"
                if !predictionPoints.isEmpty {
                    validationLines.append(ChartSeries(title: label, points: predictionPoints, style: .points))
                    predictionPoints = []
                }
                tauLines[temperature, default: []].append(ChartSeries(title: method.title, points: tauPoints))
                speedupLines[temperature, default: []].append(ChartSeries(title: method.title, points: speedupPoints))
                qualityLines[temperature, default: []].append(ChartSeries(
                    title: method.title + (lossy && !method.title.contains("lossy") ? " (lossy)" : "")
                        + (["scratch", "joint"].contains(method.trainDrafter?.trunk ?? "") ? " (scored by its own target)" : ""),
                    points: qualityPoints, style: .linesPoints))
                // EAGLE's per-depth acceptance: P(depth k accepted | depth k − 1 accepted), at the longest draft.
                if let s = last, s.maxDraftDepth >= 2 {
                    let reached = [s.rounds] + s.acceptedAtLeast
                    let points = (1...s.maxDraftDepth).compactMap { k -> ChartPoint? in
                        guard reached[k - 1] > 0 else { return nil }
                        return ChartPoint(x: Double(k), y: Double(k < reached.count ? reached[k] : 0) / Double(reached[k - 1]))
                    }
                    depthLines[temperature, default: []].append(ChartSeries(title: "\(method.title) (\(lastPoint.map { String($0.gamma) } ?? ""))",
                                                                            points: points, style: .linesPoints))
                }
                // Accepted-length distribution at the longest draft, measured vs the analytic engine's
                // i.i.d. and per-position acceptance models fitted on the calibration prompts, at the first temperature.
                if temperature == d.temperatures.first, let s = last, s.rounds > 0 {
                    // The accepted length runs up to the deepest draft (γ for a chain, the depth of a tree).
                    let gamma = max(1, s.maxDraftDepth)
                    let point = lastPoint!
                    let fit = try calibration.measure(method: method.method, drafter: drafter, draftLength: point.gamma,
                                                      settings: settings, seed: d.seed ?? 1, baseline: false,
                                                      tree: point.tree, acceptance: point.acceptance,
                                                      beamWidth: method.beamWidth ?? 4).stats
                    var counts = s.acceptedLengthHistogram
                    counts += [Int](repeating: 0, count: max(0, gamma + 1 - counts.count))
                    let measured = counts.prefix(gamma + 1).map { Double($0) / Double(s.rounds) }
                    let iid = try AcceptanceModel.meanAcceptedLength(tau: min(max(fit.tau, 1), Double(gamma + 1)))
                        .distribution(draftLength: gamma)
                    var rates = fit.perPositionAcceptance
                    rates += [Double](repeating: 0, count: max(0, gamma - rates.count))
                    let perPosition = try MetricConventions.distribution(unconditional: Array(rates.prefix(gamma)))
                    // The calibration rounds' own histogram. With A_k = P(a ≥ k) counted over every round
                    // (DecodeStats), the per-position model rebuilds exactly this distribution: the two
                    // columns agree by construction, and the i.i.d. model is the one that differs.
                    var fitCounts = fit.acceptedLengthHistogram.map(Double.init)
                    fitCounts += [Double](repeating: 0, count: max(0, gamma + 1 - fitCounts.count))
                    let empirical = try AcceptanceModel.empirical(counts: fitCounts).distribution(draftLength: gamma)
                    for j in 0...gamma {
                        histogramTable.rows.append([method.title, method.method, String(gamma), String(j), CSVTable.cell(measured[j]),
                                                    CSVTable.cell(iid.probabilities[j]), CSVTable.cell(perPosition.probabilities[j]),
                                                    CSVTable.cell(empirical.probabilities[j])])
                    }
                    // Every model fitted here carries the calibration τ (the i.i.d. α is solved from it), so they
                    // differ in the shape of the distribution: total variation from the measured one.
                    func distance(_ model: AcceptedLengthDistribution) -> Double {
                        (0...gamma).reduce(0) { $0 + abs(model.probabilities[$1] - measured[$1]) } / 2
                    }
                    notes.append(String(format: "%@, γ = %d: τ measured %.3f; predicted from the calibration prompts %.3f (per-position model, error %+.1f%%); accepted-length distribution off by TV %.3f (i.i.d.), %.3f (per-position), %.3f (empirical)",
                                        method.title, gamma, s.tau, perPosition.tau, 100 * (perPosition.tau - s.tau) / s.tau,
                                        distance(iid), distance(perPosition), distance(empirical)))
                    let points = { (p: [Double]) in p.enumerated().map { ChartPoint(x: Double($0.offset), y: $0.element) } }
                    histogramCharts.append((method.title, gamma, [
                        ChartSeries(title: "measured (\(d.samples) prompts)", points: points(measured), style: .linesPoints),
                        ChartSeries(title: "i.i.d. model fitted on the calibration prompts", points: points(iid.probabilities),
                                    dashed: true),
                        ChartSeries(title: "per-position model fitted on the calibration prompts",
                                    points: points(perPosition.probabilities), style: .points),
                    ]))
                }
            }
        }
        try table.write(to: output.appendingPathComponent("data.csv"))
        try histogramTable.write(to: output.appendingPathComponent("histograms.csv"))
        files.append("histograms.csv")
        let tall = ChartSize(width: 1000, height: 780)
        for temperature in d.temperatures {
            let t = CSVTable.cell(temperature)
            let subtitle = "target \(d.target), \(d.samples) validation prompts × \(d.maxTokens) bytes, T = \(t)"
                + (temperature == 0 ? " (greedy, V1)" : "") + ", 1 thread"
            let tauChart = Chart(title: "\(spec.chart.title): τ (tokens per target forward), T = \(t)", subtitle: subtitle,
                                 xLabel: "drafted tokens per cycle (chain length γ or tree nodes)",
                                 yLabel: "τ, tokens per target forward", series: tauLines[temperature] ?? [],
                                 keyPosition: .below, size: tall)
            let speedupChart = Chart(title: "\(spec.chart.title): measured wall-clock speedup, T = \(t)",
                                     subtitle: subtitle, xLabel: "drafted tokens per cycle (chain length γ or tree nodes)",
                                     yLabel: "speedup over plain decoding (×)", series: speedupLines[temperature] ?? [],
                                     referenceLines: [.horizontal(y: 1, title: "no speedup")], keyPosition: .below, size: tall)
            files += try draw(tauChart, output: output, baseName: "tau-T\(t)", plot: plot)
            let plainPoint = plainQuality[temperature].map {
                [ChartSeries(title: "plain decoding of the target", points: [ChartPoint(x: 1, y: $0)], style: .points)]
            } ?? []
            let qualityChart = Chart(title: "\(spec.chart.title): speed against quality, T = \(t)",
                                     subtitle: "\(d.samples) validation prompts × \(d.maxTokens) bytes; quality: the target's mean log-likelihood of the output",
                                     xLabel: "tokens per target forward", yLabel: "target log-likelihood of the output (nats per token)",
                                     series: (qualityLines[temperature] ?? []) + plainPoint, keyPosition: .below, size: tall)
            files += try draw(qualityChart, output: output, baseName: "speed-vs-quality-T\(t)", plot: plot)
            files += try draw(speedupChart, output: output, baseName: "speedup-T\(t)", plot: plot)
            if let lines = depthLines[temperature], !lines.isEmpty {
                let depthChart = Chart(title: "\(spec.chart.title): acceptance at each depth, T = \(t)",
                                       subtitle: "T = \(t), \(d.samples) validation prompts × \(d.maxTokens) bytes; in brackets: the longest draft of each method",
                                       xLabel: "draft depth k (tokens after the root)",
                                       yLabel: "P(depth k accepted | depth k − 1 accepted)", series: lines,
                                       yRange: AxisRange(lower: 0, upper: 1), keyPosition: .below, size: tall)
                files += try draw(depthChart, output: output, baseName: "depth-acceptance-T\(t)", plot: plot)
            }
        }
        for (index, entry) in histogramCharts.enumerated() {
            let chart = Chart(title: "\(spec.chart.title): accepted drafts per round, \(entry.title)",
                              subtitle: "deepest draft \(entry.depth), T = \(CSVTable.cell(d.temperatures.first ?? 0)); models fitted on other prompts of the validation split",
                              xLabel: "accepted drafts a", yLabel: "fraction of rounds", series: entry.series,
                              xRange: AxisRange(lower: -0.25, upper: Double(entry.depth) + 0.25), yRange: AxisRange(lower: 0),
                              keyPosition: .topRight)
            files += try draw(chart, output: output, baseName: String(format: "histogram-%02d", index + 1), plot: plot)
        }
        if !validation.rows.isEmpty {
            try validation.write(to: output.appendingPathComponent("validation.csv"))
            let errors = validation.rows.compactMap { Double($0[7]) }.map(abs).sorted()
            notes.append(String(format: "predicted vs measured speedup: %d points, median |error| %.1f%%, max %.1f%%",
                                errors.count, 100 * errors[errors.count / 2], 100 * (errors.last ?? 0)))
            let scatter = Chart(title: "\(spec.chart.title): predicted vs measured decode-phase speedup",
                                subtitle: "wall clock of the rounds (prefill excluded); engine calibrated on this machine in the same run; acceptance = the measured τ",
                                xLabel: "measured speedup (×)", yLabel: "predicted speedup (×)", series: validationLines,
                                referenceLines: [.diagonal(title: "predicted = measured")], keyPosition: .below)
            files += ["validation.csv"] + (try draw(scatter, output: output, baseName: "validation", plot: plot))
        }
        return ["data.csv"] + files
    }

    // MARK: batch decode

    static func batchDecode(_ spec: ExperimentSpec, experimentDirectory: URL, output: URL, plot: Bool,
                            notes: inout [String]) throws -> [String] {
        guard let b = spec.batchDecoding else { throw AnalyticError("a batch-decode experiment needs \"batchDecoding\"") }
        let batches = b.batches.sorted()
        guard let largest = batches.last, batches.first ?? 0 >= 1 else { throw AnalyticError("batches must be >= 1") }
        let root = experimentDirectory.deletingLastPathComponent().deletingLastPathComponent()
        InferenceModel.productThreads = 1
        OpenBLAS.setThreads(1)
        let network: Network<Float>
        if b.target.hasPrefix("preset:") {
            network = try Network<Float>(config: try ModelConfig.preset(named: String(b.target.dropFirst("preset:".count))))
            network.initialize(seed: 1)
        } else {
            network = try Checkpoint.load(from: root.appendingPathComponent(b.target))
        }
        let model = InferenceModel(network: network)
        let config = network.config
        // The engine calibrated here, in the same run, predicts every point (or a named preset, for quick checks).
        let hardware: Hardware
        var files = ["data.csv"]
        if let name = b.hardware {
            hardware = try Hardware.preset(named: name)
        } else {
            let calibration = try Calibration.calibrate(threads: 1)
            notes += calibration.facts
            try Calibration.write(calibration.hardware, to: output.appendingPathComponent("cpu-local.json"))
            hardware = calibration.hardware
            files.append("cpu-local.json")
        }
        let request = DecodeRequest(model: root, method: "ntp", drafter: nil, draftLength: b.draftLength, prompts: nil,
                                    corpus: b.corpus, samples: largest, promptLength: b.promptLength, maxTokens: b.maxTokens,
                                    settings: .greedy, seed: b.seed ?? 1, baseline: true, threads: 1, confidenceThreshold: 0)
        let prompts = try DecodeRun.loadPrompts(request, contextLength: config.contextLength)
        guard prompts.count >= largest else {
            throw ModelError("corpus '\(b.corpus)' gives \(prompts.count) prompts; batch \(largest) needs as many")
        }
        let session = DecodeSession(model: model, prompts: prompts, maxTokens: b.maxTokens)
        let shape = Calibration.modelShape(config)
        var table = CSVTable(columns: ["method", "alpha", "batch", "tau", "round_tokens_per_second", "ntp_round_tokens_per_second",
                                       "measured_decode_speedup", "predicted_speedup", "relative_error"])
        var lines: [ChartSeries] = []
        for method in b.methods {
            var measuredPoints: [ChartPoint] = [], predictedPoints: [ChartPoint] = []
            for batch in batches {
                // Every batch size decodes the same `largest` prompts, `batch` at a time.
                let report = try session.measure(method: method.method, drafter: nil, draftLength: b.draftLength,
                                                 settings: .greedy, seed: b.seed ?? 1, baseline: true, batch: batch,
                                                 oracleAlpha: method.alpha ?? 0.8)
                guard let measured = report.decodeSpeedup else { continue }
                let tau = report.stats.tau
                let predicted = try OracleSpeedup.predicted(hardware: hardware, model: shape, draftLength: b.draftLength,
                                                            batch: batch, contextTokens: b.promptLength + b.maxTokens / 2,
                                                            tau: tau)
                table.rows.append([method.method, method.alpha.map { CSVTable.cell($0) } ?? "", String(batch), CSVTable.cell(tau),
                                   CSVTable.cell(report.roundTokensPerSecond), CSVTable.cell(report.ntpRoundTokensPerSecond ?? .nan),
                                   CSVTable.cell(measured), CSVTable.cell(predicted),
                                   CSVTable.cell((predicted - measured) / measured)])
                measuredPoints.append(ChartPoint(x: Double(batch), y: measured))
                predictedPoints.append(ChartPoint(x: Double(batch), y: predicted))
            }
            notes.append("\(method.title): crossover batch measured \(Crossover.batch(measuredPoints)), predicted \(Crossover.batch(predictedPoints))")
            lines.append(ChartSeries(title: "\(method.title): measured", points: measuredPoints, style: .linesPoints))
            lines.append(ChartSeries(title: "\(method.title): predicted", points: predictedPoints, dashed: true))
        }
        try table.write(to: output.appendingPathComponent("data.csv"))
        let chart = Chart(title: spec.chart.title,
                          subtitle: "\(config.name) target, γ = \(b.draftLength), \(largest) prompts × \(b.maxTokens) tokens, greedy, 1 thread; dashed: engine calibrated in the same run",
                          xLabel: "batch (sequences per verify forward)", yLabel: "decode-phase speedup over batched plain decoding (×)",
                          series: lines, referenceLines: [.horizontal(y: 1, title: "no speedup")], logScaleX: true, logBase: 2,
                          keyPosition: .below)
        return files + (try draw(chart, output: output, baseName: "speedup-vs-batch", plot: plot))
    }

    // MARK: threshold sweep

    static func thresholdSweep(_ spec: ExperimentSpec, experimentDirectory: URL, output: URL, plot: Bool,
                               notes: inout [String]) throws -> [String] {
        guard let t = spec.thresholdSweep else { throw AnalyticError("a threshold-sweep experiment needs \"thresholdSweep\"") }
        guard ["mtp-parallel", "mtp-sequential"].contains(t.drafter.kind) else {
            throw AnalyticError("thresholdSweep.drafter.kind must be mtp-parallel or mtp-sequential, got \(t.drafter.kind)")
        }
        guard !t.thresholds.isEmpty, t.thresholds.allSatisfy({ (0...1).contains($0) }) else {
            throw AnalyticError("thresholdSweep.thresholds must be values in [0, 1]")
        }
        let root = experimentDirectory.deletingLastPathComponent().deletingLastPathComponent()
        var trained: Set<String> = []
        let drafter = try trainedDrafter(t.drafter, title: "heads", target: t.target, corpus: t.corpus, root: root,
                                         experimentDirectory: experimentDirectory, output: output, trained: &trained,
                                         notes: &notes)
        // A trunk trained with the heads is the target they decode.
        let targetURL = t.drafter.trunk == "scratch" || t.drafter.trunk == "joint" ? drafter : root.appendingPathComponent(t.target)
        let loaded = try DecodeSession(DecodeRequest(
            model: targetURL, method: "ntp", drafter: nil, draftLength: 1, prompts: nil, corpus: t.corpus,
            samples: 2 * t.samples, promptLength: t.promptLength, maxTokens: t.maxTokens, settings: .greedy,
            seed: t.seed ?? 1, baseline: false, threads: 1, confidenceThreshold: 0))
        // Even prompts are measured; the odd ones calibrate the threshold model.
        let measured = DecodeSession(model: loaded.model, prompts: loaded.prompts.enumerated().filter { $0.offset % 2 == 0 }.map(\.element),
                                     maxTokens: t.maxTokens)
        let calibration = DecodeSession(model: loaded.model, prompts: loaded.prompts.enumerated().filter { $0.offset % 2 == 1 }.map(\.element),
                                        maxTokens: t.maxTokens)
        let seed = t.seed ?? 1
        // Calibration: every head drafted (θ = 0), verified; each round's confidences and accepted count.
        let fit = try calibration.measure(method: "threshold", drafter: drafter, draftLength: t.draftLength, settings: .greedy,
                                          seed: seed, baseline: false)
        var histogram = ConfidenceHistogram(positions: t.draftLength)
        for round in fit.stats.confidenceRounds { histogram.record(confidences: round.confidences, accepted: round.accepted) }
        let replay = fit.stats.confidenceRounds.map { (confidences: $0.confidences, accepted: $0.accepted) }
        // References: plain greedy decoding (what every lossless run produces) and plain sampling at T = 1.
        let greedy = try measured.measure(method: "ntp", drafter: nil, draftLength: 1, settings: .greedy, seed: seed, baseline: false)
        let sampled = try measured.measure(method: "ntp", drafter: nil, draftLength: 1, settings: SamplingSettings(temperature: 1),
                                           seed: seed, baseline: false)
        notes.append(String(format: "plain decoding: target log-likelihood %.4f nats/token greedy, %.4f sampled at T = 1",
                            greedy.targetLogLikelihood, sampled.targetLogLikelihood))
        var table = CSVTable(columns: ["policy", "verified", "threshold", "tokens_per_forward", "predicted_independent",
                                       "relative_error_independent", "predicted_empirical", "relative_error_empirical",
                                       "mean_drafts", "decode_speedup", "target_log_likelihood", "lossless"])
        var sweepLines: [Bool: [ChartSeries]] = [:], frontier: [ChartSeries] = []
        var errors: [Double] = [], empiricalErrors: [Double] = []
        for policy in ThresholdPolicy.allCases {
            for verified in [true, false] {
                var measuredPoints: [ChartPoint] = [], predictedPoints: [ChartPoint] = [], empiricalPoints: [ChartPoint] = []
                var qualityPoints: [ChartPoint] = []
                for theta in t.thresholds {
                    let report = try measured.measure(method: "threshold", drafter: drafter, draftLength: t.draftLength,
                                                      settings: .greedy, seed: seed, baseline: true, confidenceThreshold: theta,
                                                      cumulativeThreshold: policy == .cumulative,
                                                      acceptance: verified ? .lossless : .unverified)
                    let s = report.stats
                    let predicted = try ThresholdModel.tokensPerForward(histogram, policy: policy, threshold: theta, verified: verified)
                    let empirical = try ThresholdModel.tokensPerForward(rounds: replay, policy: policy, threshold: theta, verified: verified)
                    let error = (predicted - s.tau) / s.tau, empiricalError = (empirical - s.tau) / s.tau
                    errors.append(abs(error))
                    empiricalErrors.append(abs(empiricalError))
                    table.rows.append([policy.rawValue, String(verified), CSVTable.cell(theta), CSVTable.cell(s.tau), CSVTable.cell(predicted),
                                       CSVTable.cell(error), CSVTable.cell(empirical), CSVTable.cell(empiricalError),
                                       CSVTable.cell(Double(s.drafted) / Double(max(s.rounds, 1))),
                                       CSVTable.cell(report.decodeSpeedup ?? .nan), CSVTable.cell(report.targetLogLikelihood),
                                       String(report.lossless)])
                    measuredPoints.append(ChartPoint(x: theta, y: s.tau))
                    predictedPoints.append(ChartPoint(x: theta, y: predicted))
                    empiricalPoints.append(ChartPoint(x: theta, y: empirical))
                    qualityPoints.append(ChartPoint(x: s.tau, y: report.targetLogLikelihood))
                }
                let label = "\(policy.rawValue), \(verified ? "verified" : "unverified")"
                sweepLines[verified, default: []] += [
                    ChartSeries(title: "\(policy.rawValue): measured", points: measuredPoints, style: .linesPoints),
                    ChartSeries(title: "\(policy.rawValue): predicted, positions independent", points: predictedPoints, dashed: true),
                    ChartSeries(title: "\(policy.rawValue): predicted, calibration rounds replayed", points: empiricalPoints, style: .points),
                ]
                frontier.append(ChartSeries(title: "threshold, \(label) (θ \(CSVTable.cell(t.thresholds.first!))…\(CSVTable.cell(t.thresholds.last!)))",
                                            points: qualityPoints, style: .linesPoints))
            }
        }
        if let widths = t.prefixBeamWidths, !widths.isEmpty, t.drafter.kind == "mtp-parallel" {
            var points: [ChartPoint] = []
            for width in widths {
                let report = try measured.measure(method: "prefix-beam", drafter: drafter, draftLength: t.draftLength,
                                                  settings: .greedy, seed: seed, baseline: true, beamWidth: width)
                let s = report.stats
                let perForward = Double(s.tokensGenerated - measured.prompts.count) / Double(max(s.targetForwards, 1))
                table.rows.append(["prefix-beam-\(width)", "false", "", CSVTable.cell(perForward), "", "", "", "",
                                   CSVTable.cell(Double(s.tokensGenerated) / Double(max(s.targetForwards, 1)) - 1),
                                   CSVTable.cell(report.decodeSpeedup ?? .nan), CSVTable.cell(report.targetLogLikelihood),
                                   String(report.lossless)])
                points.append(ChartPoint(x: perForward, y: report.targetLogLikelihood))
                notes.append(String(format: "prefix beam search, width %d: %.2f tokens per target forward, target log-likelihood %.4f",
                                    width, perForward, report.targetLogLikelihood))
            }
            frontier.append(ChartSeries(title: "prefix beam search over the heads (widths \(widths.map(String.init).joined(separator: ", ")))",
                                        points: points, style: .linesPoints))
        }
        frontier.append(ChartSeries(title: "plain decoding, greedy", points: [ChartPoint(x: 1, y: greedy.targetLogLikelihood)], style: .points))
        frontier.append(ChartSeries(title: "plain decoding, sampled at T = 1", points: [ChartPoint(x: 1, y: sampled.targetLogLikelihood)],
                                    style: .points))
        try table.write(to: output.appendingPathComponent("data.csv"))
        for (name, list) in [("positions independent", errors), ("calibration rounds replayed", empiricalErrors)] {
            let sorted = list.sorted()
            notes.append(String(format: "tokens per forward predicted from %d calibration rounds at θ = 0, %@: median |error| %.1f%%, max %.1f%% over %d points",
                                fit.stats.rounds, name, 100 * sorted[sorted.count / 2], 100 * (sorted.last ?? 0), sorted.count))
        }
        let subtitle = "\(t.drafter.kind) heads, up to \(t.draftLength) drafts, \(t.samples) prompts × \(t.maxTokens) bytes, greedy"
        var files = ["data.csv"]
        for verified in [true, false] {
            let sweep = Chart(title: "\(spec.chart.title), \(verified ? "verified (lossless)" : "unverified (lossy)")",
                              subtitle: subtitle + "; models fitted at θ = 0 on other prompts",
                              xLabel: "threshold θ on the heads' top probability (per-token) or its running product (cumulative)",
                              yLabel: "tokens per target forward", series: sweepLines[verified] ?? [], keyPosition: .below,
                              size: ChartSize(width: 1000, height: 720))
            files += try draw(sweep, output: output, baseName: "tokens-vs-threshold-\(verified ? "verified" : "unverified")", plot: plot)
        }
        let quality = Chart(title: "\(spec.chart.title): speed against quality",
                            subtitle: subtitle + "; verified runs output the greedy text",
                            xLabel: "tokens per target forward", yLabel: "target log-likelihood of the output (nats per token)",
                            series: frontier, keyPosition: .below, size: ChartSize(width: 1000, height: 760))
        return files + (try draw(quality, output: output, baseName: "speed-vs-quality", plot: plot))
    }

    // MARK: frontier

    static func frontier(_ spec: ExperimentSpec, experimentDirectory: URL, output: URL, plot: Bool,
                         notes: inout [String]) throws -> [String] {
        guard let f = spec.frontier, !f.sources.isEmpty else { throw AnalyticError("a frontier experiment needs \"frontier\" with sources") }
        let root = experimentDirectory.deletingLastPathComponent().deletingLastPathComponent()
        var table = CSVTable(columns: ["source", "method", "temperature", "setting", "tokens_per_target_forward",
                                       "target_log_likelihood", "relative_to_plain", "lossless"])
        var files = ["data.csv"]
        for temperature in f.temperatures {
            var lossless: [ChartPoint] = [], lossy: [ChartSeries] = []
            for source in f.sources {
                let data = try CSVTable.read(from: root.appendingPathComponent(source).appendingPathComponent("data.csv"))
                let name = URL(fileURLWithPath: source).lastPathComponent
                if let titles = data.column("title"), let temperatures = data.column("temperature"), let taus = data.column("tau"),
                   let qualities = data.column("target_log_likelihood"), let flags = data.column("lossless"),
                   let methods = data.column("method"), let lengths = data.column("draft_length") {
                    // A decode experiment: each method at its fastest setting (largest τ). MTJD is left out: its
                    // τ counts verify forwards only, while its beam runs on the target too.
                    var best: [String: Int] = [:]
                    for i in titles.indices where Double(temperatures[i]) == temperature && methods[i] != "mtjd"
                        && Double(qualities[i]) != nil {
                        if let j = best[titles[i]], (Double(taus[j]) ?? 0) >= (Double(taus[i]) ?? 0) { continue }
                        best[titles[i]] = i
                    }
                    let plain = data.column("ntp_target_log_likelihood") ?? []
                    for (title, i) in best.sorted(by: { $0.key < $1.key }) {
                        guard let tau = Double(taus[i]), let quality = Double(qualities[i]),
                              i < plain.count, let reference = Double(plain[i]) else { continue }
                        // Jointly trained trunks decode (and are scored by) their own model: not comparable here.
                        if title.contains("scratch") || title.contains("joint fine") { continue }
                        let relative = quality - reference
                        table.rows.append([name, title, CSVTable.cell(temperature), "γ or nodes \(lengths[i])", CSVTable.cell(tau),
                                           CSVTable.cell(quality), CSVTable.cell(relative), flags[i]])
                        if flags[i] == "true" {
                            lossless.append(ChartPoint(x: tau, y: relative))
                        } else {
                            lossy.append(ChartSeries(title: "\(title) (\(name.prefix(3)))", points: [ChartPoint(x: tau, y: relative)],
                                                     style: .points))
                        }
                    }
                } else if temperature == 0, let policies = data.column("policy"), let verified = data.column("verified"),
                          let thresholds = data.column("threshold"), let speeds = data.column("tokens_per_forward"),
                          let qualities = data.column("target_log_likelihood") {
                    // A threshold sweep (greedy): each unverified curve and prefix beam search as lines, relative to
                    // the verified runs' quality (their output is plain greedy decoding's).
                    guard let reference = policies.indices.first(where: { verified[$0] == "true" }).flatMap({ Double(qualities[$0]) })
                    else { continue }
                    var curves: [String: [ChartPoint]] = [:]
                    for i in policies.indices {
                        guard let x = Double(speeds[i]), let quality = Double(qualities[i]) else { continue }
                        let y = quality - reference
                        if verified[i] == "true" { lossless.append(ChartPoint(x: x, y: y)); continue }
                        let label = policies[i].hasPrefix("prefix-beam") ? "prefix beam search, widths 1–8"
                            : "threshold \(policies[i]), unverified, θ 0–0.95"
                        curves[label, default: []].append(ChartPoint(x: x, y: y))
                        table.rows.append([name, policies[i], "0", thresholds[i].isEmpty ? policies[i] : "θ \(thresholds[i])",
                                           speeds[i], qualities[i], CSVTable.cell(y), "false"])
                    }
                    for (label, points) in curves.sorted(by: { $0.key < $1.key }) {
                        lossy.append(ChartSeries(title: "\(label) (\(name.prefix(3)))", points: points.sorted { $0.x < $1.x },
                                                 style: .linesPoints))
                    }
                }
            }
            let t = CSVTable.cell(temperature)
            var series = [ChartSeries(title: "lossless methods (the target's own output law)", points: lossless, style: .points)]
            series += lossy
            series.append(ChartSeries(title: "plain decoding", points: [ChartPoint(x: 1, y: 0)], style: .points))
            let chart = Chart(title: "\(spec.chart.title), T = \(t)",
                              subtitle: "each method at its fastest setting; quality relative to plain decoding of the same prompts",
                              xLabel: "tokens per target forward",
                              yLabel: "target log-likelihood minus plain decoding's (nats per token)",
                              series: series, keyPosition: .below, size: ChartSize(width: 1000, height: 900))
            files += try draw(chart, output: output, baseName: "frontier-T\(t)", plot: plot)
            notes.append("T = \(t): \(lossless.count) lossless points, \(lossy.count) lossy series")
        }
        try table.write(to: output.appendingPathComponent("data.csv"))
        return files
    }

    // MARK: acceptance curves

    static func acceptanceCurves(_ spec: ExperimentSpec, output: URL, plot: Bool, notes: inout [String]) throws -> [String] {
        guard let a = spec.acceptanceCurves else { throw AnalyticError("an acceptance-curves experiment needs \"acceptanceCurves\"") }
        let gamma = a.draftLength
        var table = CSVTable(columns: ["model", "position_or_length", "probability_accepted_exactly", "probability_accepted_at_least",
                                       "conditional", "tau"])
        var distributionLines: [ChartSeries] = []
        for alpha in a.alphas {
            let d = try AcceptanceModel.iid(alpha: alpha).distribution(draftLength: gamma)
            distributionLines.append(ChartSeries(title: "i.i.d. α = \(CSVTable.cell(alpha)) (τ = \(String(format: "%.2f", d.tau)))",
                                                 points: d.probabilities.enumerated().map { ChartPoint(x: Double($0.offset), y: $0.element) }))
            for (j, p) in d.probabilities.enumerated() {
                table.rows.append(["iid \(CSVTable.cell(alpha))", String(j), CSVTable.cell(p), "", "", CSVTable.cell(d.tau)])
            }
        }
        var positionLines: [ChartSeries] = []
        for profile in a.profiles {
            let length = min(gamma, profile.alphas.count)
            let d = try AcceptanceModel.perPosition(alphas: profile.alphas).distribution(draftLength: length)
            let unconditional = d.unconditional
            positionLines.append(ChartSeries(title: "\(profile.title): P(a ≥ k) (τ = \(String(format: "%.2f", d.tau)) at γ = \(length))",
                                             points: unconditional.enumerated().map { ChartPoint(x: Double($0.offset + 1), y: $0.element) }))
            positionLines.append(ChartSeries(title: "\(profile.title): conditional α_k",
                                             points: d.conditional.enumerated().map { ChartPoint(x: Double($0.offset + 1), y: $0.element) },
                                             dashed: true))
            for k in 0..<length {
                table.rows.append([profile.title, String(k + 1), CSVTable.cell(d.probabilities[k + 1]),
                                   CSVTable.cell(unconditional[k]), CSVTable.cell(d.conditional[k]), CSVTable.cell(d.tau)])
            }
            notes.append(String(format: "%@: τ = %.3f at γ = %d", profile.title, d.tau, length))
        }
        try table.write(to: output.appendingPathComponent("data.csv"))
        let distribution = Chart(title: "Accepted drafts per cycle under i.i.d. acceptance (γ = \(gamma))",
                                 subtitle: "P(a = j): geometric up to γ, the rest piled on a = γ (all drafts accepted)",
                                 xLabel: "accepted drafts a", yLabel: "probability", series: distributionLines,
                                 xRange: AxisRange(lower: -0.25, upper: Double(gamma) + 0.25), yRange: AxisRange(lower: 0),
                                 keyPosition: .topRight)
        let positions = Chart(title: spec.chart.title, subtitle: spec.chart.subtitle,
                              xLabel: "draft position k", yLabel: "acceptance probability", series: positionLines,
                              xRange: AxisRange(lower: 0.75, upper: Double(gamma) + 0.25), yRange: AxisRange(lower: 0, upper: 1),
                              keyPosition: .below)
        return ["data.csv"] + (try draw(distribution, output: output, baseName: "distribution", plot: plot))
            + (try draw(positions, output: output, baseName: "per-position", plot: plot))
    }

    // MARK: tree acceptance

    static func treeAcceptance(_ spec: ExperimentSpec, output: URL, plot: Bool, notes: inout [String]) throws -> [String] {
        guard let t = spec.treeAcceptance else { throw AnalyticError("a tree-acceptance experiment needs \"treeAcceptance\"") }
        var table = CSVTable(columns: ["decay", "width", "tree_nodes", "tau"])
        var lines: [ChartSeries] = []
        let chain = try RankAcceptance.geometric(topOne: t.topOne, ranks: 1, decay: 0)
        let chainTaus = try chain.bestTreeTaus(maxNodes: min(t.maxNodes, t.topOne.count), width: 1)
        lines.append(ChartSeries(title: "chain (top-1 only)", points: chainTaus.enumerated().map {
            ChartPoint(x: Double($0.offset + 1), y: $0.element) }))
        for (n, tau) in chainTaus.enumerated() { table.rows.append(["chain", "1", String(n + 1), CSVTable.cell(tau)]) }
        var staticPoints: [ChartPoint] = []
        for rho in t.decays {
            let q = try RankAcceptance.geometric(topOne: t.topOne, ranks: t.ranks, decay: rho)
            let taus = try q.bestTreeTaus(maxNodes: t.maxNodes, width: t.width)
            for (n, tau) in taus.enumerated() {
                table.rows.append([CSVTable.cell(rho), String(t.width), String(n + 1), CSVTable.cell(tau)])
            }
            lines.append(ChartSeries(title: "best tree, rank decay ρ = \(CSVTable.cell(rho))",
                                     points: taus.enumerated().map { ChartPoint(x: Double($0.offset + 1), y: $0.element) },
                                     style: .lines))
            let eagle = try q.tau(staticTree: RankAcceptance.eagle1Tree)
            staticPoints.append(ChartPoint(x: Double(RankAcceptance.eagle1Tree.count), y: eagle))
            let best25 = taus[min(24, taus.count - 1)]
            notes.append(String(format: "ρ = %.2f: EAGLE-1 static 25-node tree τ = %.3f, best 25-node tree τ = %.3f, best %d-node tree τ = %.3f",
                                rho, eagle, best25, t.maxNodes, taus.last ?? .nan))
        }
        lines.append(ChartSeries(title: "EAGLE-1 static 25-node tree (one per ρ)", points: staticPoints, style: .points))
        try table.write(to: output.appendingPathComponent("data.csv"))
        let c = spec.chart
        let chart = Chart(title: c.title, subtitle: c.subtitle, xLabel: c.xLabel ?? "draft nodes verified (root excluded)",
                          yLabel: c.yLabel ?? "τ, expected tokens per target forward", series: lines,
                          logScaleX: c.logX ?? true, logBase: c.logBase ?? 2, keyPosition: .topLeft)
        return ["data.csv"] + (try draw(chart, output: output, baseName: "chart", plot: plot))
    }

    // MARK: step-time validation

    static func stepTimeValidation(_ spec: ExperimentSpec, output: URL, plot: Bool, notes: inout [String]) throws -> [String] {
        guard let v = spec.stepTimeValidation else { throw AnalyticError("a step-time-validation experiment needs \"stepTimeValidation\"") }
        let config = try ModelConfig.preset(named: v.preset)
        let ks = try SweepAxis.parseValues(v.tokens, for: .context).compactMap { $0.number }.map { Int($0) }
        let calibration = try Calibration.calibrate(threads: v.threads)
        notes += calibration.facts
        try Calibration.write(calibration.hardware, to: output.appendingPathComponent("cpu-local.json"))
        try Calibration.write(Calibration.modelShape(config), to: output.appendingPathComponent("model.json"))
        let tree = v.tree ?? false
        let points = try StepTimeValidation.run(preset: config, hardware: calibration.hardware, ks: ks, context: v.context,
                                                threads: v.threads, tree: tree)
        var table = CSVTable(columns: ["tokens", "measured_seconds", "predicted_seconds", "relative_error",
                                       "measured_relative_to_one", "predicted_relative_to_one", "predicted_bound"])
        let m1 = points[0].measuredSeconds, p1 = points[0].predictedSeconds
        for p in points {
            table.rows.append([String(p.tokens), CSVTable.cell(p.measuredSeconds), CSVTable.cell(p.predictedSeconds),
                               CSVTable.cell(p.relativeError), CSVTable.cell(p.measuredSeconds / m1),
                               CSVTable.cell(p.predictedSeconds / p1), p.bound.rawValue])
        }
        try table.write(to: output.appendingPathComponent("data.csv"))
        let upTo16 = points.filter { $0.tokens <= 16 }.map { abs($0.relativeError) }.sorted()
        if !upTo16.isEmpty {
            notes.append(String(format: "T(k) for k ≤ 16: median |error| %.1f%%, max %.1f%% (target: within 10%%)",
                                100 * upTo16[upTo16.count / 2], 100 * (upTo16.last ?? 0)))
        }
        let measured = ChartSeries(title: "measured (median of 7)", points: points.map { ChartPoint(x: Double($0.tokens), y: $0.measuredSeconds * 1e3) })
        let predicted = ChartSeries(title: "predicted (roofline, calibrated cpu-local)", points: points.map {
            ChartPoint(x: Double($0.tokens), y: $0.predictedSeconds * 1e3) }, dashed: true)
        let chart = Chart(title: "\(spec.chart.title): forward time of \(config.name) over k new tokens",
                          subtitle: "\(v.threads) threads, context \(v.context); prediction from probes measured in the same run",
                          xLabel: "new tokens in one forward, k", yLabel: "forward time (ms)", series: [measured, predicted],
                          logScaleX: true, logScaleY: true, logBase: 2, keyPosition: .topLeft)
        var files = ["data.csv", "cpu-local.json", "model.json"] + (try draw(chart, output: output, baseName: "chart", plot: plot))
        if tree {
            // Where verifying a tree stops being (nearly) free: its forward relative to one token's.
            let relative = [
                ChartSeries(title: "measured T(m)/T(1)", points: points.map { ChartPoint(x: Double($0.tokens), y: $0.measuredSeconds / m1) },
                            style: .linesPoints),
                ChartSeries(title: "predicted T(m)/T(1) (roofline)", points: points.map {
                    ChartPoint(x: Double($0.tokens), y: $0.predictedSeconds / p1) }, dashed: true),
            ]
            let ratio = Chart(title: "\(spec.chart.title): tree verify forward of \(config.name) relative to one token",
                              subtitle: "binary token tree with ancestor mask, context \(v.context), \(v.threads) threads",
                              xLabel: "tree nodes verified in one forward, m", yLabel: "T(m) / T(1)", series: relative,
                              referenceLines: [.horizontal(y: 1.5, title: "1.5: the tree is still nearly free")],
                              logScaleX: true, logBase: 2, keyPosition: .topLeft)
            files += try draw(ratio, output: output, baseName: "relative", plot: plot)
            for p in points where p.tokens > 1 {
                notes.append(String(format: "m = %d: measured T(m)/T(1) %.2f, predicted %.2f", p.tokens, p.measuredSeconds / m1,
                                    p.predictedSeconds / p1))
            }
        }
        return files
    }

    // MARK: heat map

    static func heatmap(_ spec: ExperimentSpec, base: URL, output: URL, plot: Bool,
                        notes: inout [String]) throws -> [String] {
        let axes = try (spec.axes ?? []).map(SweepAxis.parse)
        guard axes.count == 2, axes.allSatisfy(\.parameter.isNumeric) else {
            throw AnalyticError("a heatmap experiment needs two numeric axes: x then y")
        }
        let y = spec.y ?? "speedup"
        let config = try (spec.base ?? PredictRequest()).resolve(baseDirectory: base)
        let points = try Sweep.run(base: config, axes: [axes[1], axes[0]], optimizeDraftLength: spec.optimizeDraftLength,
                                   methods: { try MethodRegistry.workload(named: $0) })
        var table = CSVTable(columns: [axes[0].parameter.rawValue, axes[1].parameter.rawValue, y, "bound"])
        let columns = axes[0].values.count
        var grid: [[Double]] = []
        for (i, point) in points.enumerated() {
            if i % columns == 0 { grid.append([]) }
            let value = SweepResult.metric(point, y) ?? .nan
            grid[grid.count - 1].append(value)
            table.rows.append([point.values[1].description, point.values[0].description, CSVTable.cell(value),
                               point.prediction?.bound.rawValue ?? ""])
        }
        try table.write(to: output.appendingPathComponent("data.csv"))
        let s = spec.chart
        let map = HeatMap(title: s.title, subtitle: s.subtitle, xLabel: s.xLabel ?? axes[0].parameter.label,
                          yLabel: s.yLabel ?? axes[1].parameter.label, colorLabel: PredictionFields.label(y),
                          xValues: axes[0].values.compactMap(\.number), yValues: axes[1].values.compactMap(\.number),
                          values: grid, valueFormat: "%.2f",
                          palette: y == "speedup" ? .diverging(center: 1) : .viridis)
        return ["data.csv"] + (try draw(map, output: output, baseName: "chart", plot: plot))
    }
}
