// The `reproduction` experiment kind: one published speedup table, row by
// row, against the analytic engine (REFERENCES.md §3 for the tables, §4 for
// the metric conventions).
//
// Each row names a setting, the published speedup and how to predict it:
//   * `request` — the cycle model (`Predictor`) on the paper's hardware,
//     model, method, draft length / tree, batch, context and acceptance
//     (α, per-position α, or the published τ);
//   * `leviathan` — Leviathan et al.'s Theorem 3.8, (1 − α^{γ+1}) /
//     ((1 − α)(γc + 1)), with the published c, or with c taken from the
//     roofline of `request` (draft step / target step).
// Optional `curves` draw Theorem 3.8 against γ for several (α, c) pairs.
//
// Outputs: data.csv (one line per row: setting, published, predicted,
// relative error, every input used and the cycle's parts), table.md, the
// scatter chart predicted vs published with the y = x line (chart.*), one
// chart per curve set, and a verdict line per table and per group in the
// run notes.
//
// Calibration (the project's rule): at most ONE efficiency number per
// hardware/runtime pair may be set here, never per row; the config names it,
// its value and its reason, and this file refuses a second one.

import Analytic
import Charts
import Files
import Foundation

/// The `reproduction` block of an experiment's config.json.
public struct ReproductionSpec: Codable, Sendable {
    /// The table reproduced, e.g. "Leviathan et al. 2023, Table 4".
    public var table: String
    /// Where the published numbers are transcribed (e.g. "REFERENCES.md §3.1").
    public var source: String?
    /// Shared request: every row's `request` overrides it field by field.
    public var base: PredictRequest?
    /// At most one entry per (hardware, runtime).
    public var calibration: [Calibration]?
    public var rows: [Row]
    public var curves: CurveSet?
    /// Targets of the reproduction issue: median |error| ≤ 10 %, every row ≤ 25 %;
    /// a README must explain every row over 15 %.
    public var targetMedian: Double?
    public var targetMax: Double?
    public var flagAbove: Double?

    public struct Row: Codable, Sendable {
        /// The table's row/column label, e.g. "T=0 Vicuna 7B HumanEval".
        public var setting: String
        /// Series of the scatter chart and unit of the per-group statistics.
        public var group: String?
        /// The published speedup (×).
        public var published: Double
        public var request: PredictRequest?
        public var leviathan: LeviathanInputs?
        /// Hugging Face `device_map="auto"`: the layers are split over N GPUs
        /// that run one after another (no tensor parallelism): per-step time as
        /// one GPU, memory N times larger.
        public var layerSplit: Int?
        /// Reason to leave the row out of the statistics and the chart (kept in data.csv).
        public var exclude: String?
        public var note: String?
    }

    /// Theorem 3.8 inputs; `c` nil = c from the roofline of the row's request.
    public struct LeviathanInputs: Codable, Sendable {
        public var alpha: Double
        public var gamma: Int
        public var c: Double?
    }

    /// One calibrated number, applied to every row that runs on `hardware`
    /// (any hardware when nil) with runtime profile `runtime`.
    public struct Calibration: Codable, Sendable {
        public var hardware: String?
        public var runtime: String
        /// perForwardSeconds | perLayerSeconds | perCycleSeconds | perAllReduceSeconds |
        /// bandwidthEfficiency | computeEfficiency
        public var parameter: String
        public var value: Double
        public var reason: String
    }

    /// Theorem 3.8 curves against γ.
    public struct CurveSet: Codable, Sendable {
        /// γ values, e.g. "1:12".
        public var gammas: String
        public var charts: [CurveChart]
    }

    public struct CurveChart: Codable, Sendable {
        /// File base name of the chart, e.g. "curves-t0".
        public var name: String
        public var title: String
        public var subtitle: String?
        public var series: [Curve]
    }

    public struct Curve: Codable, Sendable {
        public var title: String
        public var alpha: Double
        /// c given; nil = from the roofline of `request` (merged with `base`).
        public var c: Double?
        public var request: PredictRequest?
        public var layerSplit: Int?
    }
}

/// One evaluated row.
public struct ReproductionRow: Sendable {
    public var setting: String
    public var group: String
    public var published: Double
    public var predicted: Double
    /// predicted / published − 1.
    public var relativeError: Double { predicted / published - 1 }
    public var excluded: String?
    public var note: String?
    /// What was fed in and what came out, as CSV cells keyed by column.
    public var fields: [String: String]
}

/// Statistics of |relative error| over a set of rows.
public struct ReproductionSummary: Sendable, Equatable {
    public var count: Int
    public var medianAbsoluteError: Double
    public var maxAbsoluteError: Double
    public var worstSetting: String
    public var overFlag: Int
    public var overMax: Int

    public init?(_ rows: [ReproductionRow], flag: Double, max limit: Double) {
        let used = rows.filter { $0.excluded == nil }
        guard !used.isEmpty else { return nil }
        let errors = used.map { abs($0.relativeError) }.sorted()
        let n = errors.count
        count = n
        medianAbsoluteError = n % 2 == 1 ? errors[n / 2] : (errors[n / 2 - 1] + errors[n / 2]) / 2
        let worst = used.max { abs($0.relativeError) < abs($1.relativeError) }!
        maxAbsoluteError = abs(worst.relativeError)
        worstSetting = worst.setting
        overFlag = errors.filter { $0 > flag }.count
        overMax = errors.filter { $0 > limit }.count
    }
}

public enum Reproduction {
    static let csvColumns = [
        "setting", "group", "published", "predicted", "relative_error", "excluded",
        "mode", "hardware", "runtime", "devices", "layer_split", "model", "method", "draft_model", "draft_length",
        "tree_size", "tree_topk", "batch", "context", "source_length", "acceptance", "alpha", "gamma", "c_input",
        "calibration", "c", "tau", "target_step_ms", "draft_ms_per_cycle", "verify_ms", "host_ms_per_cycle",
        "cycle_ms", "cycle_over_target_step", "bound", "note",
    ]

    /// Parameters a calibration entry may set.
    static let calibratable = ["perForwardSeconds", "perLayerSeconds", "perCycleSeconds", "perAllReduceSeconds",
                               "bandwidthEfficiency", "computeEfficiency"]

    /// Reads the `reproduction` block of an experiment's config.json.
    public static func loadSpec(experimentDirectory: URL) throws -> ReproductionSpec {
        struct Wrapper: Decodable { var reproduction: ReproductionSpec? }
        let path = experimentDirectory.appendingPathComponent("config.json").path
        guard let spec = try JSONFiles.decode(Wrapper.self, from: path, what: "experiment config").reproduction else {
            throw AnalyticError("a reproduction experiment needs a \"reproduction\" block in \(path)")
        }
        return spec
    }

    static func validateCalibration(_ entries: [ReproductionSpec.Calibration]) throws {
        var seen: Set<String> = []
        for entry in entries {
            guard calibratable.contains(entry.parameter) else {
                throw AnalyticError("calibration parameter '\(entry.parameter)' is unknown; valid: \(calibratable.joined(separator: ", "))")
            }
            guard entry.value.isFinite, entry.value >= 0 else {
                throw AnalyticError("calibration value for \(entry.parameter) must be finite and >= 0, got \(entry.value)")
            }
            let key = "\(entry.hardware ?? "*")|\(entry.runtime)"
            guard seen.insert(key).inserted else {
                throw AnalyticError("at most one calibrated number per hardware/runtime: \(entry.hardware ?? "any hardware") with runtime \(entry.runtime) is calibrated twice")
            }
        }
        // An entry for any hardware would stack on a hardware-specific one of the same runtime.
        for entry in entries where entry.hardware == nil {
            if let other = entries.first(where: { $0.hardware != nil && $0.runtime == entry.runtime }) {
                throw AnalyticError("at most one calibrated number per hardware/runtime: runtime \(entry.runtime) is calibrated for any hardware and again for \(other.hardware!)")
            }
        }
    }

    /// Resolves a request (merged with the base) into a configuration, with the
    /// layer split and the calibration applied. Returns the calibration label.
    /// `alpha` is the acceptance used when neither request names one (Theorem 3.8 rows and curves).
    static func configuration(_ request: PredictRequest?, base: PredictRequest?, layerSplit: Int?,
                              calibration: [ReproductionSpec.Calibration], alpha: Double? = nil,
                              baseDirectory: URL?, stacks: [String: RuntimeOverhead] = [:]) throws -> (PredictionConfig, String) {
        var merged = (base ?? PredictRequest()).merged(with: request ?? PredictRequest())
        if let alpha, merged.alpha == nil, merged.alphas == nil, merged.tau == nil, merged.acceptanceFile == nil {
            merged.alpha = alpha
        }
        var config = try merged.resolve(baseDirectory: baseDirectory)
        let hardwareName = config.hardware.name
        var overhead = config.overhead ?? config.hardware.overhead
        // A stack replaced as a whole (cross-validation's fitted constants) before any calibration entry.
        if let replacement = stacks[overhead.name] { overhead = replacement }
        var label = ""
        for entry in calibration where entry.runtime == overhead.name && (entry.hardware == nil || entry.hardware == hardwareName) {
            switch entry.parameter {
            case "perForwardSeconds": overhead.perForwardSeconds = entry.value
            case "perLayerSeconds": overhead.perLayerSeconds = entry.value
            case "perCycleSeconds": overhead.perCycleSeconds = entry.value
            case "perAllReduceSeconds": overhead.perAllReduceSeconds = entry.value
            case "bandwidthEfficiency": config.hardware.bandwidthEfficiency = entry.value
            case "computeEfficiency": config.hardware.computeEfficiency = entry.value
            default: break
            }
            label = "\(overhead.name).\(entry.parameter)=\(CSVTable.cell(entry.value))"
        }
        config.overhead = overhead
        config.hardware.overhead = overhead
        if let split = layerSplit {
            try Check.atLeast(split, 1, "layerSplit")
            guard config.devices == 1 else {
                throw AnalyticError("layerSplit (layers over GPUs in sequence) and devices (tensor parallel) cannot be combined")
            }
            config.hardware.memoryBytes *= Double(split)
            config.hardware.name = "\(split) × \(hardwareName) (layers split)"
        }
        try config.validate()
        return (config, label)
    }

    /// Evaluates every row of a spec.
    /// `stacks` replaces runtime profiles by name (the constants a cross-validation fitted).
    public static func evaluate(_ spec: ReproductionSpec, baseDirectory: URL?,
                                stacks: [String: RuntimeOverhead] = [:]) throws -> [ReproductionRow] {
        let calibration = spec.calibration ?? []
        try validateCalibration(calibration)
        var rows: [ReproductionRow] = []
        for row in spec.rows {
            do {
                rows.append(try evaluate(row, spec: spec, calibration: calibration, baseDirectory: baseDirectory, stacks: stacks))
            } catch let error as AnalyticError {
                throw AnalyticError("row '\(row.setting)': \(error.message)")
            }
        }
        return rows
    }

    static func evaluate(_ row: ReproductionSpec.Row, spec: ReproductionSpec,
                         calibration: [ReproductionSpec.Calibration], baseDirectory: URL?,
                         stacks: [String: RuntimeOverhead] = [:]) throws -> ReproductionRow {
        try Check.positive(row.published, "published")
        var fields: [String: String] = [:]
        let predicted: Double
        if let inputs = row.leviathan {
            try Check.probability(inputs.alpha, "leviathan.alpha")
            try Check.atLeast(inputs.gamma, 1, "leviathan.gamma")
            fields["alpha"] = CSVTable.cell(inputs.alpha)
            fields["gamma"] = String(inputs.gamma)
            let c: Double
            if let given = inputs.c {
                guard row.request == nil else {
                    throw AnalyticError("give leviathan.c or a request to derive c from, not both")
                }
                try Check.nonNegative(given, "leviathan.c")
                c = given
                fields["mode"] = "theorem-3.8, published c"
                fields["c_input"] = CSVTable.cell(given)
            } else {
                guard row.request != nil || spec.base != nil else {
                    throw AnalyticError("leviathan rows need c or a request whose roofline gives c")
                }
                let (config, label) = try configuration(row.request, base: spec.base, layerSplit: row.layerSplit,
                                                        calibration: calibration, alpha: inputs.alpha,
                                                        baseDirectory: baseDirectory, stacks: stacks)
                let prediction = try Predictor(config).predict(draftLength: inputs.gamma, acceptance: .iid(alpha: inputs.alpha))
                c = prediction.c
                fields["mode"] = "theorem-3.8, roofline c"
                fields["calibration"] = label
                describe(config, prediction, into: &fields)
                fields["acceptance"] = "alpha=\(CSVTable.cell(inputs.alpha))"
            }
            fields["c"] = CSVTable.cell(c)
            fields["tau"] = CSVTable.cell(Leviathan.expectedTokens(alpha: inputs.alpha, gamma: inputs.gamma))
            predicted = Leviathan.walltimeImprovement(alpha: inputs.alpha, gamma: inputs.gamma, c: c)
        } else {
            guard row.request != nil || spec.base != nil else {
                throw AnalyticError("a row needs a request (cycle model) or leviathan inputs (Theorem 3.8)")
            }
            let (config, label) = try configuration(row.request, base: spec.base, layerSplit: row.layerSplit,
                                                    calibration: calibration, baseDirectory: baseDirectory, stacks: stacks)
            let merged = (spec.base ?? PredictRequest()).merged(with: row.request ?? PredictRequest())
            let prediction: Prediction
            if let input = merged.inputLength, let output = merged.outputLength {
                // End to end (prefill included), as serving benchmarks report it.
                let request = try Predictor(config).endToEnd(inputTokens: input, outputTokens: output)
                prediction = request.decode
                predicted = request.speedup
                fields["mode"] = "cycle model, end to end (input \(input), output \(output))"
            } else {
                prediction = try Predictor(config).predict()
                predicted = prediction.speedup
                fields["mode"] = "cycle model"
            }
            fields["calibration"] = label
            describe(config, prediction, into: &fields)
            fields["acceptance"] = config.acceptance.label
            if case .iid(let alpha) = config.acceptance { fields["alpha"] = CSVTable.cell(alpha) }
            fields["gamma"] = String(config.draftLength)
        }
        fields["layer_split"] = row.layerSplit.map(String.init) ?? ""
        return ReproductionRow(setting: row.setting, group: row.group ?? "", published: row.published,
                               predicted: predicted, excluded: row.exclude, note: row.note, fields: fields)
    }

    static func describe(_ config: PredictionConfig, _ p: Prediction, into fields: inout [String: String]) {
        fields["hardware"] = config.hardware.name
        fields["runtime"] = (config.overhead ?? config.hardware.overhead).name
        fields["devices"] = String(config.devices)
        fields["model"] = config.model.name
        fields["method"] = config.method.name
        fields["draft_model"] = config.draftModel?.name ?? ""
        fields["draft_length"] = String(config.draftLength)
        fields["tree_size"] = config.treeSize.map(String.init) ?? ""
        fields["tree_topk"] = config.method.dynamicTree && config.treeSize != nil ? String(config.treeTopK) : ""
        fields["batch"] = String(config.batch)
        fields["context"] = String(config.contextTokens)
        fields["source_length"] = config.sourceTokens.map(String.init) ?? ""
        fields["c"] = CSVTable.cell(p.c)
        fields["tau"] = CSVTable.cell(p.tau)
        fields["target_step_ms"] = CSVTable.cell(p.targetStepSeconds * 1e3)
        fields["draft_ms_per_cycle"] = CSVTable.cell(p.draftSecondsPerCycle * 1e3)
        fields["verify_ms"] = CSVTable.cell(p.verifySeconds * 1e3)
        fields["host_ms_per_cycle"] = CSVTable.cell(p.hostSecondsPerCycle * 1e3)
        fields["cycle_ms"] = CSVTable.cell(p.cycleSeconds * 1e3)
        fields["cycle_over_target_step"] = CSVTable.cell(p.cycleSeconds / p.targetStepSeconds)
        fields["bound"] = p.bound.rawValue
    }

    // MARK: outputs

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
                    let (config, _) = try configuration(curve.request, base: spec.base, layerSplit: curve.layerSplit,
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
        let reproduction = try loadSpec(experimentDirectory: experimentDirectory)
        let rows = try evaluate(reproduction, baseDirectory: experimentDirectory)
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
        try Reproduction.run(chart: context.chart, experimentDirectory: context.experimentDirectory, output: context.output,
                             plot: context.plot, notes: &context.notes)
    }
}
