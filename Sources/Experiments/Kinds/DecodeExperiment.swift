// The `decode` experiment kind (config.json's "decoding" block): methods
// decoded on a trained target, measured against plain decoding in the same
// run, each point also decoded on a calibration split of other prompts, and
// every point put to the engine (DecodeValidation).

import Analytic
import Charts
import Decoding
import Files
import Foundation
import LinAlg
import Methods
import Transformer
import Validation

extension DecodeSpec: ExperimentKind {
    static let name = "decode"
    var randomSeed: UInt64? { seed ?? 1 }
    static let reproducibility = Reproducibility.timed(what: "speedups, rates and the calibrated predictions are timings of this machine; τ, acceptance and outputs are fixed by the seed (drafters at a fixed thread count)")
    static let block: String? = "decoding"

    func run(_ context: ExperimentContext) throws -> [String] {
        let run = try DecodeExperimentRun(spec: self, context: context)
        for method in methods { try run.measure(method) }
        return try run.write()
    }
}

/// One decode experiment in progress: the loaded target and prompts, the tables and the chart series.
final class DecodeExperimentRun {
    let spec: DecodeSpec
    let context: ExperimentContext
    /// Paths in the config are relative to the repository root (experiments/NNN/../..).
    let root: URL
    let lengths: [Int]
    /// The engine calibrated on this machine in the same run ("predict": true).
    let calibrated: Hardware?
    let loaded: DecodeSession
    /// Even prompts are measured; odd ones form the calibration split the predictions of τ come from.
    let measuredPrompts: [[Int32]], calibrationPrompts: [[Int32]]
    var table = CSVTable(columns: ["title", "method", "temperature", "draft_length", "tau", "tokens_per_second",
                                   "ntp_tokens_per_second", "speedup", "decode_speedup", "target_forwards", "tokens_generated",
                                   "per_position_acceptance", "accepted_length_histogram", "lossless",
                                   "target_log_likelihood", "ntp_target_log_likelihood",
                                   // 95% bootstrap intervals over the prompts (paired with plain decoding for the speedup).
                                   "tau_low_95", "tau_high_95", "decode_speedup_low_95", "decode_speedup_high_95", "prompts"])
    var histogramTable = CSVTable(columns: ["title", "method", "draft_length", "accepted", "measured", "iid_calibrated",
                                            "per_position_calibrated", "empirical_calibrated"])
    var validation = CSVTable(columns: ["title", "method", "temperature", "draft_length", "measured_tau",
                                        "predicted_tau_calibration_prompts", "measured_decode_speedup",
                                        "predicted_speedup", "relative_error", "predicted_speedup_from_predicted_tau",
                                        "relative_error_from_predicted_tau", "note"])
    /// Per temperature: τ, measured speedup and speed-vs-quality series, plain decoding's quality, acceptance per depth.
    var tauLines: [Double: [ChartSeries]] = [:], speedupLines: [Double: [ChartSeries]] = [:]
    var qualityLines: [Double: [ChartSeries]] = [:], plainQuality: [Double: Double] = [:]
    var depthLines: [Double: [ChartSeries]] = [:]
    /// Per method: the measured accepted-length distribution and the models' predictions.
    var histogramCharts: [(title: String, depth: Int, series: [ChartSeries])] = []
    var validationLines: [ChartSeries] = []
    var trainedDrafters: Set<String> = []
    var files: [String] = []

    init(spec: DecodeSpec, context: ExperimentContext) throws {
        self.spec = spec
        self.context = context
        root = context.experimentDirectory.deletingLastPathComponent().deletingLastPathComponent()
        lengths = try SweepAxis.parseValues(spec.draftLengths, for: .draftLength).compactMap { $0.number }.map { Int($0) }
        if spec.predict == true {
            let result = try Calibration.calibrate(threads: 1)
            calibrated = result.hardware
            context.notes += result.facts
            try Calibration.write(result.hardware, to: context.output.appendingPathComponent("cpu-local.json"))
        } else {
            calibrated = nil
        }
        // The target and the prompts are loaded once for every method, temperature and draft length.
        loaded = try DecodeSession(DecodeRequest(
            model: root.appendingPathComponent(spec.target), method: "ntp", drafter: nil, draftLength: 1, prompts: nil,
            corpus: spec.corpus, samples: 2 * spec.samples, promptLength: spec.promptLength, maxTokens: spec.maxTokens,
            settings: .greedy, seed: spec.seed ?? 1, baseline: true, threads: 1, confidenceThreshold: 0))
        measuredPrompts = loaded.prompts.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        calibrationPrompts = loaded.prompts.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
    }

    /// What one method decodes with: its descriptor, drafter, sessions on both splits and draft lengths.
    struct MethodRun {
        let spec: DecodeSpec.MethodSpec
        let descriptor: MethodDescriptor
        let drafter: URL?
        let session: DecodeSession
        let calibration: DecodeSession
        let lengths: [Int]
        /// The draft model's shape, for the engine (methods that draft with a separate model).
        let draftModel: ModelShape?
        /// A drafter trained with its own trunk decodes (and is scored by) that trunk.
        var ownTrunk: Bool { ["scratch", "joint"].contains(spec.trainDrafter?.trunk ?? "") }
    }

    func measure(_ method: DecodeSpec.MethodSpec) throws {
        var drafter: URL? = nil
        var model = loaded.model
        if let train = method.trainDrafter {
            drafter = try trainedDrafter(train, title: method.title, target: spec.target, corpus: spec.corpus, root: root,
                                         experimentDirectory: context.experimentDirectory, output: context.output,
                                         trained: &trainedDrafters, notes: &context.notes)
            if train.trunk == "scratch" || train.trunk == "joint" {
                model = InferenceModel(network: try Checkpoint.load(from: drafter!))
            }
        }
        let descriptor = try MethodRegistry.method(named: method.method)
        var draftModel: ModelShape? = nil
        if descriptor.drafter.kinds.contains("draft-model"), let drafter {
            draftModel = Calibration.modelShape(try Checkpoint.info(at: drafter).model)
        }
        let run = MethodRun(
            spec: method, descriptor: descriptor, drafter: drafter,
            session: DecodeSession(model: model, prompts: measuredPrompts, maxTokens: spec.maxTokens),
            calibration: DecodeSession(model: model, prompts: calibrationPrompts, maxTokens: spec.maxTokens),
            lengths: try method.draftLengths.map {
                try SweepAxis.parseValues($0, for: .draftLength).compactMap { $0.number }.map { Int($0) }
            } ?? lengths, draftModel: draftModel)
        for temperature in spec.temperatures { try measure(run, temperature: temperature) }
    }

    /// One decode point: the method at one draft length (or tree size) on both prompt splits.
    struct PointResult {
        let gamma: Int
        let tree: TreeSpec
        let report: DecodeReport
        let calibration: DecodeStats
    }

    func decodePoint(_ run: MethodRun, gamma: Int, settings: SamplingSettings) throws -> PointResult {
        // Dynamic trees and Medusa: the axis is the tree size; static trees: a chain of γ or a fixed shape.
        var tree = run.spec.tree ?? TreeSpec(shape: "chain")
        let sizeAxis = run.descriptor.tree == .dynamic || run.descriptor.tree == .sparse
            || (run.descriptor.tree == .staticOrDynamic && tree.shape == "dynamic")
        if sizeAxis { tree.size = gamma }
        let acceptance: AcceptanceRule = run.spec.typical == true ? .typical(epsilon: 0.09, delta: 0.3) : .lossless
        func decode(_ session: DecodeSession, baseline: Bool) throws -> DecodeReport {
            try session.measure(method: run.spec.method, drafter: run.drafter, draftLength: gamma, settings: settings,
                                seed: spec.seed ?? 1, baseline: baseline, tree: tree, acceptance: acceptance,
                                beamWidth: run.spec.beamWidth ?? 4)
        }
        let report = try decode(run.session, baseline: true)
        return PointResult(gamma: gamma, tree: tree, report: report, calibration: try decode(run.calibration, baseline: false).stats)
    }

    func measure(_ run: MethodRun, temperature: Double) throws {
        let settings = SamplingSettings(temperature: temperature)
        var tauPoints: [ChartPoint] = [], speedupPoints: [ChartPoint] = [], qualityPoints: [ChartPoint] = []
        var predictionPoints: [ChartPoint] = []
        var lossy = false
        var last: PointResult? = nil
        for gamma in run.lengths {
            let point = try decodePoint(run, gamma: gamma, settings: settings)
            let report = point.report, s = report.stats
            table.rows.append([run.spec.title, run.spec.method, CSVTable.cell(temperature), String(gamma), CSVTable.cell(s.tau),
                               CSVTable.cell(report.tokensPerSecond), CSVTable.cell(report.ntpTokensPerSecond ?? .nan),
                               CSVTable.cell(report.speedup ?? .nan), CSVTable.cell(report.decodeSpeedup ?? .nan),
                               String(s.targetForwards), String(s.tokensGenerated),
                               s.perPositionAcceptance.map { String(format: "%.4f", $0) }.joined(separator: " "),
                               s.acceptedLengthHistogram.map(String.init).joined(separator: " "),
                               String(report.lossless), CSVTable.cell(report.targetLogLikelihood),
                               CSVTable.cell(report.ntpTargetLogLikelihood ?? .nan),
                               CSVTable.cell(report.tauInterval?.lowerBound ?? .nan), CSVTable.cell(report.tauInterval?.upperBound ?? .nan),
                               CSVTable.cell(report.decodeSpeedupInterval?.lowerBound ?? .nan),
                               CSVTable.cell(report.decodeSpeedupInterval?.upperBound ?? .nan), String(report.samples)])
            tauPoints.append(ChartPoint(x: Double(gamma), y: s.tau))
            qualityPoints.append(ChartPoint(x: s.tau, y: report.targetLogLikelihood))
            speedupPoints.append(ChartPoint(x: Double(gamma), y: report.speedup ?? .nan))
            lossy = lossy || !report.lossless
            if let plain = report.ntpTargetLogLikelihood, !run.ownTrunk { plainQuality[temperature] = plain }
            if let predicted = try validate(run, point, temperature: temperature) { predictionPoints.append(predicted) }
            last = point
        }
        if !predictionPoints.isEmpty {
            validationLines.append(ChartSeries(title: "\(run.spec.title), T = \(CSVTable.cell(temperature))",
                                               points: predictionPoints, style: .points))
        }
        tauLines[temperature, default: []].append(ChartSeries(title: run.spec.title, points: tauPoints))
        speedupLines[temperature, default: []].append(ChartSeries(title: run.spec.title, points: speedupPoints))
        qualityLines[temperature, default: []].append(ChartSeries(
            title: run.spec.title + (lossy && !run.spec.title.contains("lossy") ? " (lossy)" : "")
                + (run.ownTrunk ? " (scored by its own target)" : ""),
            points: qualityPoints, style: .linesPoints))
        guard let last else { return }
        addDepthAcceptance(run, last, temperature: temperature)
        // Methods that keep their blocks unchecked accept nothing: they have no accepted-length distribution.
        if temperature == spec.temperatures.first, last.report.stats.rounds > 0, run.descriptor.ownAcceptance != .unverified {
            try compareAcceptedLengths(run, last)
        }
    }

    /// The validation row of one point; the (measured, predicted) speedup pair when the engine predicted it.
    func validate(_ run: MethodRun, _ point: PointResult, temperature: Double) throws -> ChartPoint? {
        let row = DecodeValidation.row(DecodeValidation.Point(
            method: run.descriptor, measured: point.report.stats, calibration: point.calibration,
            measuredSpeedup: point.report.decodeSpeedup, draftLength: point.gamma, treeTopK: point.tree.topK,
            beamWidth: run.spec.beamWidth ?? 4, target: run.session.model.config, draftModel: run.draftModel,
            contextTokens: spec.promptLength + spec.maxTokens / 2), hardware: calibrated)
        func cell(_ value: Double?) -> String { value.map { CSVTable.cell($0) } ?? "" }
        var fromPredicted: Double? = nil
        if let predicted = row.predictedSpeedupFromPredictedTau, let measured = row.measuredSpeedup {
            fromPredicted = (predicted - measured) / measured
        }
        validation.rows.append([run.spec.title, run.spec.method, CSVTable.cell(temperature), String(point.gamma),
                                CSVTable.cell(row.measuredTau), cell(row.predictedTau), cell(row.measuredSpeedup),
                                cell(row.predictedSpeedup), cell(row.relativeError), cell(row.predictedSpeedupFromPredictedTau),
                                cell(fromPredicted), row.note ?? ""])
        guard let measured = row.measuredSpeedup, let predicted = row.predictedSpeedup else { return nil }
        return ChartPoint(x: measured, y: predicted)
    }

    /// EAGLE's per-depth acceptance: P(depth k accepted | depth k − 1 accepted), at the longest draft.
    func addDepthAcceptance(_ run: MethodRun, _ last: PointResult, temperature: Double) {
        let s = last.report.stats
        guard s.maxDraftDepth >= 2 else { return }
        let reached = [s.rounds] + s.acceptedAtLeast
        let points = (1...s.maxDraftDepth).compactMap { k -> ChartPoint? in
            guard reached[k - 1] > 0 else { return nil }
            return ChartPoint(x: Double(k), y: Double(k < reached.count ? reached[k] : 0) / Double(reached[k - 1]))
        }
        depthLines[temperature, default: []].append(ChartSeries(title: "\(run.spec.title) (\(last.gamma))", points: points,
                                                                style: .linesPoints))
    }

    /// Accepted-length distribution at the longest draft, measured vs the i.i.d., per-position and empirical
    /// models fitted on the calibration prompts (the first temperature).
    func compareAcceptedLengths(_ run: MethodRun, _ last: PointResult) throws {
        let s = last.report.stats, fit = last.calibration
        // The accepted length runs up to the deepest draft (γ for a chain, the depth of a tree).
        let gamma = max(1, s.maxDraftDepth)
        var counts = s.acceptedLengthHistogram
        counts += [Int](repeating: 0, count: max(0, gamma + 1 - counts.count))
        let measured = counts.prefix(gamma + 1).map { Double($0) / Double(s.rounds) }
        let iid = try AcceptanceModel.meanAcceptedLength(tau: min(max(fit.tau, 1), Double(gamma + 1)))
            .distribution(draftLength: gamma)
        var rates = fit.perPositionAcceptance
        rates += [Double](repeating: 0, count: max(0, gamma - rates.count))
        let perPosition = try MetricConventions.distribution(unconditional: Array(rates.prefix(gamma)))
        // The calibration rounds' own histogram. With A_k = P(a ≥ k) counted over every round (DecodeStats),
        // the per-position model rebuilds exactly this distribution: the two agree by construction, and the
        // i.i.d. model is the one that differs.
        var fitCounts = fit.acceptedLengthHistogram.map(Double.init)
        fitCounts += [Double](repeating: 0, count: max(0, gamma + 1 - fitCounts.count))
        let empirical = try AcceptanceModel.empirical(counts: fitCounts).distribution(draftLength: gamma)
        for j in 0...gamma {
            histogramTable.rows.append([run.spec.title, run.spec.method, String(gamma), String(j), CSVTable.cell(measured[j]),
                                        CSVTable.cell(iid.probabilities[j]), CSVTable.cell(perPosition.probabilities[j]),
                                        CSVTable.cell(empirical.probabilities[j])])
        }
        // Every model fitted here carries the calibration τ (the i.i.d. α is solved from it), so they differ in
        // the shape of the distribution: total variation from the measured one.
        func distance(_ model: AcceptedLengthDistribution) -> Double {
            (0...gamma).reduce(0) { $0 + abs(model.probabilities[$1] - measured[$1]) } / 2
        }
        context.notes.append(String(format: "%@, γ = %d: τ measured %.3f; predicted from the calibration prompts %.3f (per-position model, error %+.1f%%); accepted-length distribution off by TV %.3f (i.i.d.), %.3f (per-position), %.3f (empirical)",
                                    run.spec.title, gamma, s.tau, perPosition.tau, 100 * (perPosition.tau - s.tau) / s.tau,
                                    distance(iid), distance(perPosition), distance(empirical)))
        let points = { (p: [Double]) in p.enumerated().map { ChartPoint(x: Double($0.offset), y: $0.element) } }
        histogramCharts.append((run.spec.title, gamma, [
            ChartSeries(title: "measured (\(spec.samples) prompts)", points: points(measured), style: .linesPoints),
            ChartSeries(title: "i.i.d. model fitted on the calibration prompts", points: points(iid.probabilities), dashed: true),
            ChartSeries(title: "per-position model fitted on the calibration prompts",
                        points: points(perPosition.probabilities), style: .points),
        ]))
    }
}

extension DecodeExperimentRun {
    /// Writes the tables and draws every chart; returns the file names.
    func write() throws -> [String] {
        let output = context.output
        try table.write(to: output.appendingPathComponent("data.csv"))
        try histogramTable.write(to: output.appendingPathComponent("histograms.csv"))
        files.append("histograms.csv")
        for temperature in spec.temperatures { try drawCharts(temperature: temperature) }
        for (index, entry) in histogramCharts.enumerated() {
            let chart = Chart(title: "\(context.chart.title): accepted drafts per round, \(entry.title)",
                              subtitle: "deepest draft \(entry.depth), T = \(CSVTable.cell(spec.temperatures.first ?? 0)); models fitted on other prompts of the validation split",
                              xLabel: "accepted drafts a", yLabel: "fraction of rounds", series: entry.series,
                              xRange: AxisRange(lower: -0.25, upper: Double(entry.depth) + 0.25), yRange: AxisRange(lower: 0),
                              keyPosition: .topRight)
            files += try context.draw(chart, baseName: String(format: "histogram-%02d", index + 1))
        }
        try writeValidation()
        return ["data.csv"] + files
    }

    /// τ, measured speedup, speed against quality and acceptance per depth at one temperature.
    func drawCharts(temperature: Double) throws {
        let title = context.chart.title
        let tall = ChartSize(width: 1000, height: 780)
        let t = CSVTable.cell(temperature)
        let subtitle = "target \(spec.target), \(spec.samples) validation prompts × \(spec.maxTokens) bytes, T = \(t)"
            + (temperature == 0 ? " (greedy, V1)" : "") + ", 1 thread"
        let tauChart = Chart(title: "\(title): τ (tokens per target forward), T = \(t)", subtitle: subtitle,
                             xLabel: "drafted tokens per cycle (chain length γ or tree nodes)",
                             yLabel: "τ, tokens per target forward", series: tauLines[temperature] ?? [],
                             keyPosition: .below, size: tall)
        let speedupChart = Chart(title: "\(title): measured wall-clock speedup, T = \(t)",
                                 subtitle: subtitle, xLabel: "drafted tokens per cycle (chain length γ or tree nodes)",
                                 yLabel: "speedup over plain decoding (×)", series: speedupLines[temperature] ?? [],
                                 referenceLines: [.horizontal(y: 1, title: "no speedup")], keyPosition: .below, size: tall)
        files += try context.draw(tauChart, baseName: "tau-T\(t)")
        let plainPoint = plainQuality[temperature].map {
            [ChartSeries(title: "plain decoding of the target", points: [ChartPoint(x: 1, y: $0)], style: .points)]
        } ?? []
        let qualityChart = Chart(title: "\(title): speed against quality, T = \(t)",
                                 subtitle: "\(spec.samples) validation prompts × \(spec.maxTokens) bytes; quality: the target's mean log-likelihood of the output",
                                 xLabel: "tokens per target forward", yLabel: "target log-likelihood of the output (nats per token)",
                                 series: (qualityLines[temperature] ?? []) + plainPoint, keyPosition: .below, size: tall)
        files += try context.draw(qualityChart, baseName: "speed-vs-quality-T\(t)")
        files += try context.draw(speedupChart, baseName: "speedup-T\(t)")
        if let lines = depthLines[temperature], !lines.isEmpty {
            let depthChart = Chart(title: "\(title): acceptance at each depth, T = \(t)",
                                   subtitle: "T = \(t), \(spec.samples) validation prompts × \(spec.maxTokens) bytes; in brackets: the longest draft of each method",
                                   xLabel: "draft depth k (tokens after the root)",
                                   yLabel: "P(depth k accepted | depth k − 1 accepted)", series: lines,
                                   yRange: AxisRange(lower: 0, upper: 1), keyPosition: .below, size: tall)
            files += try context.draw(depthChart, baseName: "depth-acceptance-T\(t)")
        }
    }

    /// validation.csv (every point of every method, a note where the engine has no prediction), its summary
    /// in the notes and the predicted-vs-measured chart.
    func writeValidation() throws {
        guard !validation.rows.isEmpty else { return }
        try validation.write(to: context.output.appendingPathComponent("validation.csv"))
        files.append("validation.csv")
        func summary(_ column: Int, _ what: String) -> String? {
            let errors = validation.rows.compactMap { Double($0[column]) }.map(abs).sorted()
            guard !errors.isEmpty else { return nil }
            return String(format: "%@: %d points, median |error| %.1f%%, max %.1f%%",
                          what, errors.count, 100 * errors[errors.count / 2], 100 * (errors.last ?? 0))
        }
        let tauErrors = validation.rows.compactMap { row -> Double? in
            guard let measured = Double(row[4]), let predicted = Double(row[5]) else { return nil }
            return abs(predicted - measured) / measured
        }.sorted()
        if !tauErrors.isEmpty {
            context.notes.append(String(format: "τ on the calibration prompts vs measured: %d points, median |error| %.1f%%, max %.1f%%",
                                        tauErrors.count, 100 * tauErrors[tauErrors.count / 2], 100 * (tauErrors.last ?? 0)))
        }
        if let line = summary(8, "predicted vs measured speedup at the measured τ") { context.notes.append(line) }
        if let line = summary(10, "predicted vs measured speedup from the calibration prompts' τ") { context.notes.append(line) }
        let unpredicted = Set(validation.rows.filter { !$0[11].isEmpty }.map { "\($0[0]): \($0[11])" })
        if !unpredicted.isEmpty { context.notes.append("no speedup prediction — " + unpredicted.sorted().joined(separator: "; ")) }
        guard !validationLines.isEmpty else { return }
        let scatter = Chart(title: "\(context.chart.title): predicted vs measured decode-phase speedup",
                            subtitle: "decode phase (prefill excluded); engine calibrated here in the same run, at the measured τ",
                            xLabel: "measured speedup (×)", yLabel: "predicted speedup (×)", series: validationLines,
                            referenceLines: [.diagonal(title: "predicted = measured")], keyPosition: .below)
        files += try context.draw(scatter, baseName: "validation")
    }
}
