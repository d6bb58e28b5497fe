// A published speedup table, row by row, against the analytic engine (the
// tables and their metric conventions: the Analytic catalog's "Published
// tables" article).
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
// This file evaluates rows; the `reproduction` experiment kind (Experiments)
// writes them out as data.csv, table.md and charts.
//
// Calibration (the project's rule): at most ONE efficiency number per
// hardware/runtime pair may be set here, never per row; the config names it,
// its value and its reason, and this file refuses a second one.

import Analytic
import Files
import Foundation
import Requests

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

        public init(hardware: String?, runtime: String, parameter: String, value: Double, reason: String) {
            self.hardware = hardware; self.runtime = runtime; self.parameter = parameter; self.value = value
            self.reason = reason
        }
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

    public init(setting: String, group: String, published: Double, predicted: Double, excluded: String? = nil,
                note: String? = nil, fields: [String: String] = [:]) {
        self.setting = setting; self.group = group; self.published = published; self.predicted = predicted
        self.excluded = excluded; self.note = note; self.fields = fields
    }
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
    public static func configuration(_ request: PredictRequest?, base: PredictRequest?, layerSplit: Int?,
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

    public static func evaluate(_ row: ReproductionSpec.Row, spec: ReproductionSpec,
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
}
