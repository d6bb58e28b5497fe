// The `threshold-sweep` experiment kind (config.json's "thresholdSweep" block).

import Analytic
import Charts
import Decoding
import Files
import Foundation
import LinAlg
import Methods
import Transformer
import Validation

extension ThresholdSweepSpec: ExperimentKind {
    static let name = "threshold-sweep"
    var randomSeed: UInt64? { seed ?? 1 }
    static let reproducibility = Reproducibility.timed(what: "speedups are timings of this machine; τ and outputs are fixed by the seed")
    static let block: String? = "thresholdSweep"

    func run(_ context: ExperimentContext) throws -> [String] {
        let run = try ThresholdSweepRun(spec: self, context: context)
        for policy in ThresholdPolicy.allCases {
            for verified in [true, false] { try run.sweep(policy: policy, verified: verified) }
        }
        if let widths = prefixBeamWidths, !widths.isEmpty, drafter.kind == "mtp-parallel" { try run.prefixBeam(widths: widths) }
        return try run.write()
    }
}

/// One threshold sweep in progress: the drafter, both prompt splits, the calibration fit and the references.
final class ThresholdSweepRun {
    let t: ThresholdSweepSpec
    let context: ExperimentContext
    let drafter: URL
    let measured: DecodeSession
    /// The calibration run at θ = 0 (every head drafted, verified): its rounds' confidences and accepted counts.
    let fit: DecodeReport
    let histogram: ConfidenceHistogram
    let replay: [(confidences: [Double], accepted: Int)]
    /// Plain greedy decoding (what every lossless run produces) and plain sampling at T = 1.
    let greedy: DecodeReport, sampled: DecodeReport
    var seed: UInt64 { t.seed ?? 1 }
    var table = CSVTable(columns: ["policy", "verified", "threshold", "tokens_per_forward", "predicted_independent",
                                  "relative_error_independent", "predicted_empirical", "relative_error_empirical",
                                  "mean_drafts", "decode_speedup", "target_log_likelihood", "lossless"])
    var sweepLines: [Bool: [ChartSeries]] = [:], frontier: [ChartSeries] = []
    var errors: [Double] = [], empiricalErrors: [Double] = []

    init(spec t: ThresholdSweepSpec, context: ExperimentContext) throws {
        guard ["mtp-parallel", "mtp-sequential"].contains(t.drafter.kind) else {
            throw AnalyticError("thresholdSweep.drafter.kind must be mtp-parallel or mtp-sequential, got \(t.drafter.kind)")
        }
        guard !t.thresholds.isEmpty, t.thresholds.allSatisfy({ (0...1).contains($0) }) else {
            throw AnalyticError("thresholdSweep.thresholds must be values in [0, 1]")
        }
        self.t = t
        self.context = context
        let experimentDirectory = context.experimentDirectory
        let root = experimentDirectory.deletingLastPathComponent().deletingLastPathComponent()
        var trained: Set<String> = []
        drafter = try trainedDrafter(t.drafter, title: "heads", target: t.target, corpus: t.corpus, root: root,
                                     experimentDirectory: experimentDirectory, output: context.output, trained: &trained,
                                     notes: &context.notes)
        // A trunk trained with the heads is the target they decode.
        let targetURL = t.drafter.trunk == "scratch" || t.drafter.trunk == "joint" ? drafter : root.appendingPathComponent(t.target)
        let loaded = try DecodeSession(DecodeRequest(
            model: targetURL, method: "ntp", drafter: nil, draftLength: 1, prompts: nil, corpus: t.corpus,
            samples: 2 * t.samples, promptLength: t.promptLength, maxTokens: t.maxTokens, settings: .greedy,
            seed: t.seed ?? 1, baseline: false, threads: 1, confidenceThreshold: 0))
        // Even prompts are measured; the odd ones calibrate the threshold model.
        measured = DecodeSession(model: loaded.model, prompts: loaded.prompts.enumerated().filter { $0.offset % 2 == 0 }.map(\.element),
                                 maxTokens: t.maxTokens)
        let calibration = DecodeSession(model: loaded.model, prompts: loaded.prompts.enumerated().filter { $0.offset % 2 == 1 }.map(\.element),
                                        maxTokens: t.maxTokens)
        let seed = t.seed ?? 1
        fit = try calibration.measure(method: "threshold", drafter: drafter, draftLength: t.draftLength, settings: .greedy,
                                      seed: seed, baseline: false)
        histogram = fit.confidenceHistogram(positions: t.draftLength)
        replay = fit.stats.confidenceRounds.map { (confidences: $0.confidences, accepted: $0.accepted) }
        greedy = try measured.measure(method: "ntp", drafter: nil, draftLength: 1, settings: .greedy, seed: seed, baseline: false)
        sampled = try measured.measure(method: "ntp", drafter: nil, draftLength: 1, settings: SamplingSettings(temperature: 1),
                                       seed: seed, baseline: false)
        context.notes.append(String(format: "plain decoding: target log-likelihood %.4f nats/token greedy, %.4f sampled at T = 1",
                                    greedy.targetLogLikelihood, sampled.targetLogLikelihood))
    }

    /// Every θ under one policy, verified or not: measured tokens per forward against both models' predictions.
    func sweep(policy: ThresholdPolicy, verified: Bool) throws {
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

    /// Prefix beam search over the same heads at each width: tokens per target forward and quality.
    func prefixBeam(widths: [Int]) throws {
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
            context.notes.append(String(format: "prefix beam search, width %d: %.2f tokens per target forward, target log-likelihood %.4f",
                                        width, perForward, report.targetLogLikelihood))
        }
        frontier.append(ChartSeries(title: "prefix beam search over the heads (widths \(widths.map(String.init).joined(separator: ", ")))",
                                    points: points, style: .linesPoints))
    }

    /// data.csv, the models' errors in the notes, and the charts.
    func write() throws -> [String] {
        let output = context.output
        frontier.append(ChartSeries(title: "plain decoding, greedy", points: [ChartPoint(x: 1, y: greedy.targetLogLikelihood)], style: .points))
        frontier.append(ChartSeries(title: "plain decoding, sampled at T = 1", points: [ChartPoint(x: 1, y: sampled.targetLogLikelihood)],
                                    style: .points))
        try table.write(to: output.appendingPathComponent("data.csv"))
        for (name, list) in [("positions independent", errors), ("calibration rounds replayed", empiricalErrors)] {
            let sorted = list.sorted()
            context.notes.append(String(format: "tokens per forward predicted from %d calibration rounds at θ = 0, %@: median |error| %.1f%%, max %.1f%% over %d points",
                                        fit.stats.rounds, name, 100 * sorted[sorted.count / 2], 100 * (sorted.last ?? 0), sorted.count))
        }
        let subtitle = "\(t.drafter.kind) heads, up to \(t.draftLength) drafts, \(t.samples) prompts × \(t.maxTokens) bytes, greedy"
        var files = ["data.csv"]
        for verified in [true, false] {
            let sweep = Chart(title: "\(context.chart.title), \(verified ? "verified (lossless)" : "unverified (lossy)")",
                              subtitle: subtitle + "; models fitted at θ = 0 on other prompts",
                              xLabel: "threshold θ on the heads' top probability (per-token) or its running product (cumulative)",
                              yLabel: "tokens per target forward", series: sweepLines[verified] ?? [], keyPosition: .below,
                              size: ChartSize(width: 1000, height: 720))
            files += try context.draw(sweep, baseName: "tokens-vs-threshold-\(verified ? "verified" : "unverified")")
        }
        let quality = Chart(title: "\(context.chart.title): speed against quality",
                            subtitle: subtitle + "; verified runs output the greedy text",
                            xLabel: "tokens per target forward", yLabel: "target log-likelihood of the output (nats per token)",
                            series: frontier, keyPosition: .below, size: ChartSize(width: 1000, height: 760))
        return files + (try context.draw(quality, baseName: "speed-vs-quality"))
    }
}
