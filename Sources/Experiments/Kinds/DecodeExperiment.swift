// The `decode` experiment kind (config.json's "decoding" block).

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

    func run(_ context: ExperimentContext) throws -> [String] {
        let d = self
        let experimentDirectory = context.experimentDirectory, output = context.output, plot = context.plot
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
            context.notes += result.facts
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
                                                   trained: &trainedDrafters, notes: &context.notes)
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
                    context.notes.append(String(format: "%@, γ = %d: τ measured %.3f; predicted from the calibration prompts %.3f (per-position model, error %+.1f%%); accepted-length distribution off by TV %.3f (i.i.d.), %.3f (per-position), %.3f (empirical)",
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
            let tauChart = Chart(title: "\(context.chart.title): τ (tokens per target forward), T = \(t)", subtitle: subtitle,
                                 xLabel: "drafted tokens per cycle (chain length γ or tree nodes)",
                                 yLabel: "τ, tokens per target forward", series: tauLines[temperature] ?? [],
                                 keyPosition: .below, size: tall)
            let speedupChart = Chart(title: "\(context.chart.title): measured wall-clock speedup, T = \(t)",
                                     subtitle: subtitle, xLabel: "drafted tokens per cycle (chain length γ or tree nodes)",
                                     yLabel: "speedup over plain decoding (×)", series: speedupLines[temperature] ?? [],
                                     referenceLines: [.horizontal(y: 1, title: "no speedup")], keyPosition: .below, size: tall)
            files += try context.draw(tauChart, output: output, baseName: "tau-T\(t)", plot: plot)
            let plainPoint = plainQuality[temperature].map {
                [ChartSeries(title: "plain decoding of the target", points: [ChartPoint(x: 1, y: $0)], style: .points)]
            } ?? []
            let qualityChart = Chart(title: "\(context.chart.title): speed against quality, T = \(t)",
                                     subtitle: "\(d.samples) validation prompts × \(d.maxTokens) bytes; quality: the target's mean log-likelihood of the output",
                                     xLabel: "tokens per target forward", yLabel: "target log-likelihood of the output (nats per token)",
                                     series: (qualityLines[temperature] ?? []) + plainPoint, keyPosition: .below, size: tall)
            files += try context.draw(qualityChart, output: output, baseName: "speed-vs-quality-T\(t)", plot: plot)
            files += try context.draw(speedupChart, output: output, baseName: "speedup-T\(t)", plot: plot)
            if let lines = depthLines[temperature], !lines.isEmpty {
                let depthChart = Chart(title: "\(context.chart.title): acceptance at each depth, T = \(t)",
                                       subtitle: "T = \(t), \(d.samples) validation prompts × \(d.maxTokens) bytes; in brackets: the longest draft of each method",
                                       xLabel: "draft depth k (tokens after the root)",
                                       yLabel: "P(depth k accepted | depth k − 1 accepted)", series: lines,
                                       yRange: AxisRange(lower: 0, upper: 1), keyPosition: .below, size: tall)
                files += try context.draw(depthChart, output: output, baseName: "depth-acceptance-T\(t)", plot: plot)
            }
        }
        for (index, entry) in histogramCharts.enumerated() {
            let chart = Chart(title: "\(context.chart.title): accepted drafts per round, \(entry.title)",
                              subtitle: "deepest draft \(entry.depth), T = \(CSVTable.cell(d.temperatures.first ?? 0)); models fitted on other prompts of the validation split",
                              xLabel: "accepted drafts a", yLabel: "fraction of rounds", series: entry.series,
                              xRange: AxisRange(lower: -0.25, upper: Double(entry.depth) + 0.25), yRange: AxisRange(lower: 0),
                              keyPosition: .topRight)
            files += try context.draw(chart, output: output, baseName: String(format: "histogram-%02d", index + 1), plot: plot)
        }
        if !validation.rows.isEmpty {
            try validation.write(to: output.appendingPathComponent("validation.csv"))
            let errors = validation.rows.compactMap { Double($0[7]) }.map(abs).sorted()
            context.notes.append(String(format: "predicted vs measured speedup: %d points, median |error| %.1f%%, max %.1f%%",
                                errors.count, 100 * errors[errors.count / 2], 100 * (errors.last ?? 0)))
            let scatter = Chart(title: "\(context.chart.title): predicted vs measured decode-phase speedup",
                                subtitle: "wall clock of the rounds (prefill excluded); engine calibrated on this machine in the same run; acceptance = the measured τ",
                                xLabel: "measured speedup (×)", yLabel: "predicted speedup (×)", series: validationLines,
                                referenceLines: [.diagonal(title: "predicted = measured")], keyPosition: .below)
            files += ["validation.csv"] + (try context.draw(scatter, output: output, baseName: "validation", plot: plot))
        }
        return ["data.csv"] + files
    }
}
