// The `kernel-crosscheck` kind: the engine's GPU step time from measured kernels against NVIDIA
// aiconfigurator's own estimate over a grid of models, parallel mappings, batches and contexts
// (the reference CSV that tools/aiconfigurator/reference_grid.py writes), against every published
// plain-decoding step time it may use, and the verify cost T(k, b)/T(1, b) beside the roofline's.

import Analytic
import Charts
import Files
import Foundation
import Validation

/// What a kernel-crosscheck experiment reads.
public struct KernelCrossCheckSpec: Codable, Sendable {
    /// aiconfigurator's reference grid (CSV), relative to the experiment directory.
    public var reference: String
    /// Published plain-decoding step times (CSV), relative to the experiment directory.
    public var published: String
    /// The reference's own per-model assumptions the engine takes as inputs (routing skew, KV dtype).
    public var assumptions: [KernelCrossCheck.Assumption]
    /// Context of the error-vs-batch and verify-cost charts.
    public var chartContext: Int
}

extension KernelCrossCheckSpec: ExperimentKind {
    static let name = "kernel-crosscheck"
    static let block: String? = "kernelCrossCheck"

    func run(_ context: ExperimentContext) throws -> [String] {
        let steps = try records(reference, context).map(KernelCrossCheck.ReferenceStep.init)
        let (compared, skipped) = try KernelCrossCheck.compare(steps, assumptions: assumptions)
        var files = try writeComparison(compared, context)
        let plain = compared.filter { $0.reference.queryTokens == 1 }
        let verify = compared.filter { $0.reference.queryTokens > 1 }
        let settings = Self.orderedUnique(plain.map { "\($0.reference.system) \($0.reference.framework) \($0.reference.setting)" })
        summarize(plain: plain, verify: verify, skipped: skipped, settings: settings, context)
        files += try drawPlain(plain, settings: settings, context)
        files += try drawVerify(compared, verify: verify, context)
        files += try comparePublished(context)
        return files
    }

    /// A CSV of the experiment folder as records keyed by column.
    func records(_ name: String, _ context: ExperimentContext) throws -> [[String: String]] {
        let table = try CSVTable.read(from: context.experimentDirectory.appendingPathComponent(name))
        return table.rows.filter { $0.count == table.columns.count }.map { Dictionary(uniqueKeysWithValues: zip(table.columns, $0)) }
    }

    /// Median, 90th percentile and maximum |error|, and the share within 25%.
    func summary(_ errors: [Double]) -> String {
        let sorted = errors.map(abs).sorted()
        guard !sorted.isEmpty else { return "no points" }
        let within = Double(sorted.filter { $0 <= 0.25 }.count) / Double(sorted.count)
        return String(format: "median |error| %.1f%%, 90th percentile %.1f%%, max %.1f%%, %.0f%% of %d points within 25%%",
                      100 * sorted[sorted.count / 2], 100 * sorted[min(sorted.count - 1, Int(0.9 * Double(sorted.count)))],
                      100 * sorted.last!, 100 * within, sorted.count)
    }

    /// data.csv: every reference point with the engine's split beside aiconfigurator's.
    func writeComparison(_ compared: [KernelCrossCheck.Comparison], _ context: ExperimentContext) throws -> [String] {
        // Every reference point, with the engine's split beside aiconfigurator's.
        let classes: [OperationClass] = [.gemm, .attention, .moe, .communication, .other]
        var table = CSVTable(columns: ["setting", "system", "framework", "version", "batch", "context", "query_tokens",
                                       "reference_ms", "engine_ms", "engine_roofline_ms", "relative_error", "roofline_relative_error"]
                             + classes.flatMap { ["reference_\($0.name)_ms", "engine_\($0.name)_ms"] } + ["engine_runtime_ms"])
        for c in compared {
            let r = c.reference
            var row = [r.setting, r.system, r.framework, r.version, String(r.batch), String(r.context), String(r.queryTokens),
                       CSVTable.cell(r.stepSeconds * 1e3), CSVTable.cell(c.measured.seconds * 1e3), CSVTable.cell(c.roofline.seconds * 1e3),
                       CSVTable.cell(c.relativeError), CSVTable.cell(c.rooflineRelativeError)]
            for (i, kind) in classes.enumerated() {
                row += [CSVTable.cell(r.classSeconds[i] * 1e3), CSVTable.cell(c.measured.breakdown.seconds(kind) * 1e3)]
            }
            row.append(CSVTable.cell(c.measured.breakdown.seconds(.runtime) * 1e3))
            table.rows.append(row)
        }
        try table.write(to: context.output.appendingPathComponent("data.csv"))
        return ["data.csv"]

    }

    /// The notes: plain decode steps overall and per setting, verify forwards, skipped points.
    func summarize(plain: [KernelCrossCheck.Comparison], verify: [KernelCrossCheck.Comparison],
                   skipped: [(KernelCrossCheck.ReferenceStep, String)], settings: [String], _ context: ExperimentContext) {
        // Summary: the plain decoding steps (one query token) of the grid, then the verify forwards.
        context.notes.append("Plain decode steps vs aiconfigurator (measured kernels): " + summary(plain.map(\.relativeError)))
        context.notes.append("Plain decode steps vs aiconfigurator (roofline, same settings): " + summary(plain.map(\.rooflineRelativeError)))
        for setting in settings {
            let rows = plain.filter { "\($0.reference.system) \($0.reference.framework) \($0.reference.setting)" == setting }
            context.notes.append("  \(setting): " + summary(rows.map(\.relativeError)))
        }
        if !verify.isEmpty {
            context.notes.append("Verify forwards (k = 2…8 tokens per sequence) vs aiconfigurator: " + summary(verify.map(\.relativeError))
                         + " — aiconfigurator prices k queries per sequence as k separate sequences (the KV cache read k times), the engine as one multi-query kernel reading it once")
        }
        for (step, reason) in skipped.prefix(1) {
            context.notes.append("\(skipped.count) reference points not compared (\(step.setting) on \(step.system)): \(reason)")
        }

    }

    /// The plain decode points: engine against aiconfigurator, and the error over batch at one context.
    func drawPlain(_ plain: [KernelCrossCheck.Comparison], settings: [String], _ context: ExperimentContext) throws -> [String] {
        let k = self
        var files: [String] = []
        // Chart 1: engine vs aiconfigurator, every plain decode point.
        var scatter: [ChartSeries] = []
        for setting in settings {
            let rows = plain.filter { "\($0.reference.system) \($0.reference.framework) \($0.reference.setting)" == setting }
            scatter.append(ChartSeries(title: setting, points: rows.map { ChartPoint(x: $0.reference.stepSeconds * 1e3, y: $0.measured.seconds * 1e3) },
                                       style: .points))
        }
        let scatterChart = Chart(title: "\(context.chart.title): decode step, engine vs aiconfigurator",
                                 subtitle: "batch 1–512, context 128–32k; measured-kernel tables of the same GPU and framework",
                                 xLabel: "aiconfigurator's step (ms)", yLabel: "SpecLab's step (ms)", series: scatter,
                                 referenceLines: [.diagonal(title: "equal")], logScaleX: true, logScaleY: true, logBase: 10,
                                 keyPosition: .outsideRight, size: ChartSize(width: 1300, height: 700))
        files += try context.draw(scatterChart, baseName: "scatter")

        // Chart 2: relative error over batch at one context, measured kernels (solid) and roofline (dashed).
        var errorSeries: [ChartSeries] = []
        for setting in settings {
            let rows = plain.filter { "\($0.reference.system) \($0.reference.framework) \($0.reference.setting)" == setting
                && $0.reference.context == k.chartContext }.sorted { $0.reference.batch < $1.reference.batch }
            guard !rows.isEmpty else { continue }
            errorSeries.append(ChartSeries(title: setting, points: rows.map { ChartPoint(x: Double($0.reference.batch), y: 100 * $0.relativeError) }))
        }
        let errorChart = Chart(title: "\(context.chart.title): step-time error over batch",
                               subtitle: "context \(k.chartContext); (SpecLab − aiconfigurator) / aiconfigurator",
                               xLabel: "batch (sequences)", yLabel: "relative error (%)", series: errorSeries,
                               referenceLines: [.horizontal(y: 10, title: "±10%"), .horizontal(y: -10, title: "")],
                               logScaleX: true, logBase: 2, keyPosition: .outsideRight, size: ChartSize(width: 1300, height: 700))
        files += try context.draw(errorChart, baseName: "error-vs-batch")

        return files
    }

    /// Verify cost T(k, b)/T(1, b) over batch, per GPU with verify points.
    func drawVerify(_ compared: [KernelCrossCheck.Comparison], verify: [KernelCrossCheck.Comparison],
                    _ context: ExperimentContext) throws -> [String] {
        let k = self, output = context.output
        var files: [String] = []
        // Chart 3: verify cost T(k, b)/T(1, b) over batch, per GPU with verify points.
        for system in Self.orderedUnique(verify.map(\.reference.system)) {
            let rows = compared.filter { $0.reference.system == system && $0.reference.context == k.chartContext
                && $0.reference.model == verify.first!.reference.model }
            func base(_ c: KernelCrossCheck.Comparison) -> KernelCrossCheck.Comparison? {
                rows.first { $0.reference.queryTokens == 1 && $0.reference.batch == c.reference.batch }
            }
            var series: [ChartSeries] = []
            var ratioTable = CSVTable(columns: ["query_tokens", "batch", "engine_ratio", "roofline_ratio", "aiconfigurator_ratio"])
            for tokens in [2, 4, 8] {
                let points = rows.filter { $0.reference.queryTokens == tokens }.sorted { $0.reference.batch < $1.reference.batch }
                    .compactMap { c -> (Double, Double, Double, Double)? in
                        guard let one = base(c) else { return nil }
                        return (Double(c.reference.batch), c.measured.seconds / one.measured.seconds,
                                c.roofline.seconds / one.roofline.seconds, c.reference.stepSeconds / one.reference.stepSeconds)
                    }
                guard !points.isEmpty else { continue }
                for p in points {
                    ratioTable.rows.append([String(tokens), CSVTable.cell(p.0), CSVTable.cell(p.1), CSVTable.cell(p.2), CSVTable.cell(p.3)])
                }
                series.append(ChartSeries(title: "k = \(tokens): measured kernels", points: points.map { ChartPoint(x: $0.0, y: $0.1) }))
                series.append(ChartSeries(title: "k = \(tokens): roofline", points: points.map { ChartPoint(x: $0.0, y: $0.2) }, dashed: true))
                series.append(ChartSeries(title: "k = \(tokens): aiconfigurator", points: points.map { ChartPoint(x: $0.0, y: $0.3) }, style: .points))
                if let last = points.last {
                    context.notes.append(String(format: "%@, k = %d, batch %.0f: T(k)/T(1) measured kernels %.2f, roofline %.2f, aiconfigurator %.2f",
                                        system, tokens, last.0, last.1, last.2, last.3))
                }
            }
            guard !series.isEmpty else { continue }
            let name = "verify-cost-\(KernelCrossCheck.hardwareNames[system] ?? system)"
            try ratioTable.write(to: output.appendingPathComponent(name + ".csv"))
            files.append(name + ".csv")
            let chart = Chart(title: "\(context.chart.title): verify cost of k tokens per sequence, \(verify.first!.reference.model) on \(KernelCrossCheck.hardwareNames[system] ?? system)",
                              subtitle: "T(k, b) / T(1, b), context \(k.chartContext): measured-kernel engine, today's roofline, aiconfigurator",
                              xLabel: "batch (sequences)", yLabel: "T(k, b) / T(1, b)", series: series,
                              logScaleX: true, logBase: 2, keyPosition: .outsideRight, size: ChartSize(width: 1300, height: 700))
            files += try context.draw(chart, baseName: name)
        }

        return files
    }

    /// Published plain-decoding step times against the engine.
    func comparePublished(_ context: ExperimentContext) throws -> [String] {
        let output = context.output
        // Published plain-decoding step times.
        let published = try records(self.published, context).map(KernelCrossCheck.PublishedStep.init)
        var publishedTable = CSVTable(columns: ["source", "hardware", "model", "devices", "batch", "context", "runtime",
                                                "published_ms", "engine_ms", "relative_error", "priced_by", "note"])
        var publishedErrors: [Double] = []
        for p in published {
            let (prediction, pricedBy) = try KernelCrossCheck.predict(p)
            let error = prediction.targetStepSeconds / p.stepSeconds - 1
            publishedErrors.append(error)
            publishedTable.rows.append([p.source, p.hardware, p.model, String(p.devices), String(p.batch), String(p.context), p.runtime,
                                        CSVTable.cell(p.stepSeconds * 1e3), CSVTable.cell(prediction.targetStepSeconds * 1e3),
                                        CSVTable.cell(error), pricedBy, p.note])
            context.notes.append(String(format: "published %@: %@ on %d × %@, batch %d: %.2f ms, engine %.2f ms (%+.1f%%, %@)", p.source, p.model, p.devices,
                                p.hardware, p.batch, p.stepSeconds * 1e3, prediction.targetStepSeconds * 1e3, 100 * error, pricedBy))
        }
        try publishedTable.write(to: output.appendingPathComponent("published.csv"))
        context.notes.append("Published plain-decode steps: " + summary(publishedErrors))
        return ["published.csv"]
    }

    static func orderedUnique(_ values: [String]) -> [String] {
        var seen = Set<String>(), out: [String] = []
        for v in values where seen.insert(v).inserted { out.append(v) }
        return out
    }
}
