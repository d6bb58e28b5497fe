// The `reproduction` experiment kind: one published speedup table against
// the analytic engine (rows evaluated by the Validation module's
// `Reproduction`), written out as data.csv (one line per row: setting,
// published, predicted, relative error, every input used and the cycle's
// parts), table.md, the scatter chart predicted vs published with the y = x
// line (chart.*), one chart per curve set (Leviathan et al.'s Theorem 3.8
// against γ), and a verdict line per table and per group in the run notes.

import Analytic
import Charts
import Files
import Foundation
import Validation

enum ReproductionReport {
    static let csvColumns = [
        "setting", "group", "published", "predicted", "relative_error", "excluded",
        "mode", "hardware", "runtime", "devices", "layer_split", "model", "method", "draft_model", "draft_length",
        "tree_size", "tree_topk", "batch", "context", "source_length", "acceptance", "alpha", "gamma", "c_input",
        "calibration", "c", "tau", "target_step_ms", "draft_ms_per_cycle", "verify_ms", "host_ms_per_cycle",
        "cycle_ms", "cycle_over_target_step", "bound", "note",
    ]

    static func csv(_ rows: [ReproductionRow]) -> CSVTable {
        var table = CSVTable(columns: csvColumns)
        for row in rows {
            var fields = row.fields
            fields["setting"] = row.setting
            fields["group"] = row.group
            fields["published"] = CSVTable.cell(row.published)
            fields["predicted"] = CSVTable.cell(row.predicted)
            fields["relative_error"] = CSVTable.cell(row.relativeError)
            fields["excluded"] = row.excluded ?? ""
            fields["note"] = row.note ?? ""
            table.rows.append(csvColumns.map { fields[$0] ?? "" })
        }
        return table
    }

    static func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
    static func signedPercent(_ value: Double) -> String { String(format: "%+.1f%%", value * 100) }

    /// Groups in first-appearance order.
    static func groups(_ rows: [ReproductionRow]) -> [String] {
        var seen: [String] = []
        for row in rows where !seen.contains(row.group) { seen.append(row.group) }
        return seen
    }

    /// One verdict line: count, median and max |error|, rows over the flag, targets met or not.
    static func verdict(_ label: String, _ summary: ReproductionSummary, median target: Double, max limit: Double,
                        flag: Double) -> String {
        let met = summary.medianAbsoluteError <= target && summary.maxAbsoluteError <= limit
        return "\(label): \(summary.count) rows, median |error| \(percent(summary.medianAbsoluteError)), max \(percent(summary.maxAbsoluteError)) (\(summary.worstSetting)); \(summary.overFlag) over \(percent(flag)), \(summary.overMax) over \(percent(limit)); target (median ≤ \(percent(target)), every row ≤ \(percent(limit))) \(met ? "met" : "NOT met")"
    }

    static func markdown(_ spec: ReproductionSpec, rows: [ReproductionRow], verdicts: [String]) -> String {
        var out = "# \(spec.table): published vs predicted speedup\n\n"
        if let source = spec.source { out += "Published numbers: \(source). " }
        out += "Relative error = predicted / published − 1.\n\n"
        for line in verdicts { out += "- \(line)\n" }
        for entry in spec.calibration ?? [] {
            out += "- Calibrated: \(entry.hardware ?? "any hardware"), runtime \(entry.runtime): \(entry.parameter) = \(CSVTable.cell(entry.value)) — \(entry.reason)\n"
        }
        out += "\n| setting | published | predicted | rel. error | inputs |\n|---|---|---|---|---|\n"
        let flag = spec.flagAbove ?? 0.15
        for row in rows {
            let f = row.fields
            var inputs: [String] = []
            if let mode = f["mode"] { inputs.append(mode) }
            if let h = f["hardware"], !h.isEmpty {
                let runtime = f["runtime"] ?? ""
                let devices = f["devices"].flatMap { $0 == "1" ? nil : "× \($0) TP" } ?? ""
                inputs.append("\(h)\(devices.isEmpty ? "" : " " + devices), \(runtime)")
            }
            if let m = f["model"], !m.isEmpty {
                var method = f["method"] ?? ""
                if let d = f["draft_model"], !d.isEmpty { method += " (\(d))" }
                inputs.append("\(m), \(method)")
                var shape = "γ \(f["draft_length"] ?? "")"
                if let t = f["tree_size"], !t.isEmpty { shape += ", tree \(t)" }
                if let k = f["tree_topk"], !k.isEmpty { shape += ", top-K \(k)" }
                shape += ", batch \(f["batch"] ?? ""), context \(f["context"] ?? "")"
                inputs.append(shape)
            } else if let g = f["gamma"] {
                inputs.append("γ \(g)")
            }
            if let a = f["acceptance"], !a.isEmpty { inputs.append(a) } else if let a = f["alpha"] { inputs.append("α \(a)") }
            if let c = f["c"], let value = Double(c) { inputs.append(String(format: "c %.4f", value)) }
            if let cal = f["calibration"], !cal.isEmpty { inputs.append("calibrated \(cal)") }
            var error = signedPercent(row.relativeError)
            if row.excluded != nil { error += " (excluded)" } else if abs(row.relativeError) > flag { error = "**\(error)**" }
            var setting = row.setting
            if !row.group.isEmpty { setting = "\(row.group): \(setting)" }
            if let reason = row.excluded { inputs.append("excluded: \(reason)") }
            if let note = row.note { inputs.append(note) }
            out += "| \(setting) | \(String(format: "%.2f", row.published))× | \(String(format: "%.2f", row.predicted))× | \(error) | \(inputs.joined(separator: "; ")) |\n"
        }
        return out
    }

    /// The scatter of predicted vs published speedup, one series per group, with y = x.
    static func scatter(_ rows: [ReproductionRow], chart: ChartSpec) -> Chart {
        let used = rows.filter { $0.excluded == nil }
        var series: [ChartSeries] = []
        for group in groups(used) {
            let points = used.filter { $0.group == group }.map { ChartPoint(x: $0.published, y: $0.predicted) }
            series.append(ChartSeries(title: group, points: points, style: .points))
        }
        let values = used.flatMap { [$0.published, $0.predicted] }
        let lower = max(0, ((values.min() ?? 1) * 0.9 * 4).rounded(.down) / 4)
        let upper = ((values.max() ?? 2) * 1.08 * 4).rounded(.up) / 4
        let range = AxisRange(lower: lower, upper: upper)
        return Chart(title: chart.title, subtitle: chart.subtitle,
                     xLabel: chart.xLabel ?? "published speedup (×, measured by the authors)",
                     yLabel: chart.yLabel ?? "predicted speedup (×, SpecLab)",
                     series: series, referenceLines: [.diagonal(title: "predicted = published")],
                     xRange: range, yRange: range, keyPosition: chart.keyPosition == .auto ? .topLeft : chart.keyPosition)
    }

    /// Theorem 3.8 curves: rows of the curves CSV and one chart per curve chart.
    static func curves(_ set: ReproductionSpec.CurveSet, spec: ReproductionSpec, baseDirectory: URL?) throws
        -> (table: CSVTable, charts: [(String, Chart)], notes: [String]) {
        let gammas = try SweepAxis.parseValues(set.gammas, for: .draftLength).compactMap { $0.number }.map { Int($0) }
        guard !gammas.isEmpty, gammas.allSatisfy({ $0 >= 1 }) else {
            throw AnalyticError("curves.gammas must list draft lengths >= 1, got '\(set.gammas)'")
        }
        let calibration = spec.calibration ?? []
        var table = CSVTable(columns: ["chart", "curve", "alpha", "c", "c_source", "gamma", "expected_tokens", "speedup"])
        var charts: [(String, Chart)] = []
        var notes: [String] = []
        for chartSpec in set.charts {
            var lines: [ChartSeries] = []
            var maxSpeedup = 1.0
            for curve in chartSpec.series {
                try Check.probability(curve.alpha, "curve alpha")
                let c: Double, source: String
                if let given = curve.c {
                    try Check.nonNegative(given, "curve c")
                    c = given; source = "given"
                } else {
                    let (config, _) = try Reproduction.configuration(curve.request, base: spec.base, layerSplit: curve.layerSplit,
                                                        calibration: calibration, alpha: curve.alpha,
                                                        baseDirectory: baseDirectory)
                    c = try Predictor(config).predict(draftLength: 1, acceptance: .iid(alpha: curve.alpha)).c
                    source = "roofline \(config.model.name) / \(config.draftModel?.name ?? config.method.name) on \(config.hardware.name)"
                }
                var points: [ChartPoint] = []
                for gamma in gammas {
                    let expected = Leviathan.expectedTokens(alpha: curve.alpha, gamma: gamma)
                    let speedup = Leviathan.walltimeImprovement(alpha: curve.alpha, gamma: gamma, c: c)
                    table.rows.append([chartSpec.name, curve.title, CSVTable.cell(curve.alpha), CSVTable.cell(c), source,
                                       String(gamma), CSVTable.cell(expected), CSVTable.cell(speedup)])
                    points.append(ChartPoint(x: Double(gamma), y: speedup))
                    maxSpeedup = max(maxSpeedup, speedup)
                }
                lines.append(ChartSeries(title: curve.title, points: points, dashed: curve.c == 0))
                if c > 0 {
                    let best = Leviathan.optimalGamma(alpha: curve.alpha, c: c, maxGamma: gammas.max()!)
                    notes.append("\(curve.title): c \(String(format: "%.4f", c)), best γ \(best.gamma) (speedup \(String(format: "%.2f", best.speedup))×)")
                } else {
                    notes.append("\(curve.title): c = 0, speedup = E[tokens] rises with γ to \(String(format: "%.2f", points.last!.y))× at γ \(gammas.last!) (limit 1/(1 − α) = \(String(format: "%.2f", 1 / (1 - curve.alpha)))×)")
                }
            }
            charts.append((chartSpec.name, Chart(
                title: chartSpec.title, subtitle: chartSpec.subtitle, xLabel: "draft length γ (tokens per cycle)",
                yLabel: "expected walltime speedup (×), Theorem 3.8", series: lines,
                referenceLines: [.horizontal(y: 1, title: "no speedup")],
                xRange: AxisRange(lower: Double(gammas.min()!), upper: Double(gammas.max()!)),
                // Head room above the curves for the key.
                yRange: AxisRange(lower: 0.5, upper: (maxSpeedup * 1.5 * 2).rounded(.up) / 2), keyPosition: .topLeft)))
        }
        return (table, charts, notes)
    }

    /// The experiment kind: evaluates the rows and writes data.csv, table.md,
    /// the scatter chart and any curve charts.
    static func run(chart: ChartSpec, experimentDirectory: URL, output: URL, plot: Bool,
                    notes: inout [String]) throws -> [String] {
        let reproduction = try Reproduction.loadSpec(experimentDirectory: experimentDirectory)
        let rows = try Reproduction.evaluate(reproduction, baseDirectory: experimentDirectory)
        let target = reproduction.targetMedian ?? 0.10
        let limit = reproduction.targetMax ?? 0.25
        let flag = reproduction.flagAbove ?? 0.15
        var verdicts: [String] = []
        if let all = ReproductionSummary(rows, flag: flag, max: limit) {
            verdicts.append(verdict(reproduction.table, all, median: target, max: limit, flag: flag))
            let names = groups(rows.filter { $0.excluded == nil })
            if names.count > 1 {
                for group in names {
                    if let summary = ReproductionSummary(rows.filter { $0.group == group }, flag: flag, max: limit) {
                        verdicts.append(verdict("\(reproduction.table) [\(group)]", summary, median: target, max: limit, flag: flag))
                    }
                }
            }
        }
        let excluded = rows.filter { $0.excluded != nil }
        if !excluded.isEmpty {
            verdicts.append("excluded from the statistics: " + excluded.map { "\($0.setting) (\($0.excluded!))" }.joined(separator: "; "))
        }
        for entry in reproduction.calibration ?? [] {
            notes.append("calibrated \(entry.hardware ?? "any hardware") / \(entry.runtime): \(entry.parameter) = \(CSVTable.cell(entry.value)) (\(entry.reason))")
        }
        notes += verdicts
        var files: [String] = []
        if !rows.isEmpty {
            try csv(rows).write(to: output.appendingPathComponent("data.csv"))
            try AtomicFile.write(markdown(reproduction, rows: rows, verdicts: verdicts),
                                 to: output.appendingPathComponent("table.md"))
            files += ["data.csv", "table.md"]
            if rows.contains(where: { $0.excluded == nil }) {
                files += try ExperimentContext.draw(scatter(rows, chart: chart), output: output, baseName: "chart", plot: plot)
            }
        }
        if let set = reproduction.curves {
            let result = try curves(set, spec: reproduction, baseDirectory: experimentDirectory)
            try result.table.write(to: output.appendingPathComponent("curves.csv"))
            files.append("curves.csv")
            notes += result.notes
            for (name, chart) in result.charts {
                files += try ExperimentContext.draw(chart, output: output, baseName: name, plot: plot)
            }
        }
        guard !files.isEmpty else { throw AnalyticError("a reproduction experiment needs rows or curves") }
        return files
    }
}

/// The `reproduction` kind: its rows and curves come from the experiment folder's reproduction.json.
public struct ReproductionExperiment: ExperimentKind {
    static let name = "reproduction"

    func run(_ context: ExperimentContext) throws -> [String] {
        try ReproductionReport.run(chart: context.chart, experimentDirectory: context.experimentDirectory, output: context.output,
                             plot: context.plot, notes: &context.notes)
    }
}
