// `speclab validate [--quick]`: the analytic engine against the reference
// transformer on this machine, in one run. The engine is calibrated by probes
// in the same run (or read from a hardware file); then
//   - step time T(k) of a forward over k new tokens, measured vs the roofline,
//   - τ of the oracle drafter (i.i.d. acceptance α, free drafting) vs the
//     closed form (1 − α^{γ+1}) / (1 − α) (Leviathan et al. 2023, eq. 1),
//   - decode-phase wall-clock speedup (prefill excluded) over plain decoding at batch 1, 2, 4, … (the oracle
//     isolates the verify cost) vs the engine given the measured τ,
// each row with its relative error, charts of each, and the crossover batch.
// --quick runs the tiny preset (under a minute); the full run the large one.

import Analytic
import Charts
import Decoding
import Files
import Foundation
import LinAlg
import Methods
import Transformer
import Validation

public struct ValidateRequest: Sendable {
    public var quick: Bool
    /// A hardware JSON to predict with instead of calibrating in the run.
    public var hardware: URL?
    /// Multiplies the hardware's bandwidth (a deliberately mis-calibrated engine, to see the errors grow).
    public var bandwidthScale: Double
    public var output: URL
    public var plot: Bool

    public init(quick: Bool, hardware: URL? = nil, bandwidthScale: Double = 1, output: URL, plot: Bool = true) {
        self.quick = quick; self.hardware = hardware; self.bandwidthScale = bandwidthScale; self.output = output; self.plot = plot
    }
}

public struct ValidateResult: Sendable {
    public var rows: [ValidationRow]
    public var notes: [String]
    public var files: [String]

    /// Median |relative error| of a group.
    public func medianError(_ group: String) -> Double { ValidationRow.medianAbsoluteError(rows, group: group) }
}

public enum ValidateRun {
    public static let tauGroup = "τ, oracle drafter", speedupGroup = "speedup, oracle drafter"
    /// The step-time group of a preset.
    public static func stepGroup(_ preset: ModelConfig) -> String { "step time T(k), \(preset.name)" }

    struct Plan {
        /// Step time: presets (one whose weights fit the last-level cache, one beyond it) and their k.
        let stepPresets: [(ModelConfig, [Int])]
        /// Further (k, batch, context) settings of the last (beyond-cache) preset.
        var stepGrid: [(k: Int, batch: Int, context: Int)] = []
        /// The oracle decode: preset, acceptance rates, batches.
        let preset: ModelConfig, alphas: [Double], batches: [Int], prompts: Int, maxTokens: Int
        let draftLength: Int, repetitions: Int
    }

    static func plan(quick: Bool) -> Plan {
        quick ? Plan(stepPresets: [(.tiny, [1, 2, 4, 8, 16]), (.large, [1, 2, 4, 8])],
                     stepGrid: [(1, 4, 64), (1, 1, 512)], preset: .tiny, alphas: [0.8],
                     batches: [1, 2, 4], prompts: 8, maxTokens: 64, draftLength: 4, repetitions: 5)
              : Plan(stepPresets: [(.small, [1, 2, 4, 8, 16, 32, 48, 64, 128]), (.large, [1, 2, 4, 8, 16, 32, 48, 64, 128])],
                     stepGrid: [(1, 2, 64), (1, 4, 64), (4, 4, 64), (1, 8, 64), (1, 16, 64), (4, 16, 64),
                                (1, 1, 256), (1, 1, 512), (1, 1, 1024), (1, 1, 2048), (8, 1, 1024), (1, 4, 1024)],
                     preset: .large, alphas: [0.95, 0.8, 0.6], batches: [1, 2, 4, 8, 16], prompts: 16, maxTokens: 64,
                     draftLength: 4, repetitions: 7)
    }

    /// Runs the validation (stages shown on stderr when it is a terminal) and writes `request.output` whole, or not at all.
    public static func run(_ request: ValidateRequest) throws -> ValidateResult {
        try run(request, plan: plan(quick: request.quick))
    }

    static func run(_ request: ValidateRequest, plan: Plan) throws -> ValidateResult {
        guard request.bandwidthScale > 0, request.bandwidthScale.isFinite else {
            throw ModelError("--bandwidth-scale must be a positive number, got \(request.bandwidthScale)")
        }
        let reporter = ProgressReporter(label: "validate", total: 2 + plan.stepPresets.count + plan.alphas.count * plan.batches.count)
        var stage = 0
        func progress(_ what: String) {
            reporter.update(stage, detail: what)
            stage += 1
        }
        defer { reporter.finish() }
        // Written whole or not at all: the previous output stays until everything is written.
        return try ArtifactDirectory.write(to: request.output, kind: "validation", recognisedBy: ["validation.csv"]) { staging in
            try measure(request, plan: plan, into: staging, progress: progress)
        }
    }

    /// Calibrates, measures and predicts; writes the table, hardware file, notes and charts into `staging`.
    private static func measure(_ request: ValidateRequest, plan: Plan, into staging: URL,
                                progress: (String) -> Void) throws -> ValidateResult {
        var notes: [String] = [], files: [String] = []
        InferenceModel.productThreads = 1
        OpenBLAS.setThreads(1)
        let hardware = try engineHardware(request, progress: progress, notes: &notes)
        try Calibration.write(hardware, to: staging.appendingPathComponent("hardware.json"))
        files.append("hardware.json")
        let step = try stepTimes(plan, hardware: hardware, progress: progress)
        let oracle = try oracleDecodes(plan, hardware: hardware, progress: progress, notes: &notes)
        let rows = step.rows + oracle.rows
        let groups = plan.stepPresets.map { stepGroup($0.0) }
            + (plan.stepGrid.isEmpty ? [] : [stepGroup(plan.stepPresets.last!.0) + " (batch, context)"]) + [tauGroup, speedupGroup]
        files += try writeTable(rows, groups: groups, into: staging, notes: &notes)
        files += try drawCharts(rows, groups: groups, stepLines: step.lines, speedupLines: oracle.lines, plan: plan,
                                hardware: hardware, into: staging, plot: request.plot)
        try notes.joined(separator: "\n").appending("\n").write(to: staging.appendingPathComponent("notes.txt"),
                                                                atomically: true, encoding: .utf8)
        files.append("notes.txt")
        return ValidateResult(rows: rows, notes: notes, files: files)
    }

    /// The engine's hardware: a file, or this machine calibrated now; optionally mis-calibrated on purpose.
    private static func engineHardware(_ request: ValidateRequest, progress: (String) -> Void,
                                       notes: inout [String]) throws -> Hardware {
        var hardware: Hardware
        if let file = request.hardware {
            hardware = try Hardware.load(fromFile: file.path)
            notes.append("hardware: \(file.path)")
        } else {
            progress("calibrating (bandwidth, sgemm, kernel efficiencies, fixed costs)")
            let calibration = try Calibration.calibrate(threads: 1, repetitions: request.quick ? 3 : 5)
            hardware = calibration.hardware
            notes += calibration.facts
        }
        if request.bandwidthScale != 1 {
            hardware.memoryBytesPerSecond *= request.bandwidthScale
            hardware.cpu?.cache?.bytesPerSecond *= request.bandwidthScale
            hardware.name += " (bandwidth × \(request.bandwidthScale))"
            notes.append("deliberately mis-calibrated: bandwidth × \(request.bandwidthScale)")
        }
        return hardware
    }

    /// Step time of each preset over k, and over batch and context on the beyond-cache preset.
    private static func stepTimes(_ plan: Plan, hardware: Hardware, progress: (String) -> Void) throws
        -> (rows: [ValidationRow], lines: [ChartSeries]) {
        var rows: [ValidationRow] = []
        // Step time.
        var stepLines: [ChartSeries] = []
        for (preset, ks) in plan.stepPresets {
            progress("step time of \(preset.name) over k = \(ks.map(String.init).joined(separator: ", "))")
            let steps = try StepTimeValidation.run(preset: preset, hardware: hardware, ks: ks, context: 64, threads: 1,
                                                   repetitions: plan.repetitions)
            for p in steps {
                rows.append(ValidationRow(group: stepGroup(preset), setting: "k = \(p.tokens)", predicted: p.predictedSeconds,
                                          measured: p.measuredSeconds))
            }
            let m1 = steps.first?.measuredSeconds ?? 1, p1 = steps.first?.predictedSeconds ?? 1
            let bytes = Calibration.modelShape(preset).weightBytes
            let regime = hardware.cpu?.cache.map { bytes <= $0.bytes ? "in cache" : "beyond cache" } ?? ""
            stepLines.append(ChartSeries(title: "\(preset.name) (\(String(format: "%.1f", bytes / 1e6)) MB \(regime)): measured",
                                         points: steps.map { ChartPoint(x: Double($0.tokens), y: $0.measuredSeconds / m1) },
                                         style: .linesPoints))
            stepLines.append(ChartSeries(title: "\(preset.name): predicted (roofline)", points: steps.map {
                ChartPoint(x: Double($0.tokens), y: $0.predictedSeconds / p1) }, dashed: true))
        }

        // Step time over batch and context, on the beyond-cache preset.
        if let (preset, _) = plan.stepPresets.last, !plan.stepGrid.isEmpty {
            progress("step time of \(preset.name) over batch and context")
            let network = try Network<Float>(config: preset)
            network.initialize(seed: 1)
            let model = InferenceModel(network: network)
            for setting in plan.stepGrid {
                let p = StepTimeValidation.point(model: model, hardware: hardware, tokens: setting.k, batch: setting.batch,
                                                 context: setting.context, repetitions: plan.repetitions)
                rows.append(ValidationRow(group: stepGroup(preset) + " (batch, context)",
                                          setting: "k = \(p.tokens), batch \(p.batch), context \(p.context)",
                                          predicted: p.predictedSeconds, measured: p.measuredSeconds))
            }
        }

        return (rows, stepLines)
    }

    /// The oracle drafter at each α and batch: τ against the closed form, speedup against the engine.
    private static func oracleDecodes(_ plan: Plan, hardware: Hardware, progress: (String) -> Void,
                                      notes: inout [String]) throws -> (rows: [ValidationRow], lines: [ChartSeries]) {
        var rows: [ValidationRow] = []
        // Oracle drafter at each α and batch: τ and speedup.
        let network = try Network<Float>(config: plan.preset)
        network.initialize(seed: 1)
        let model = InferenceModel(network: network)
        var prompts: [[Int32]] = []
        for b in 0..<plan.prompts {
            prompts.append((0..<32).map { (i: Int) -> Int32 in Int32((i * 37 + b * 101 + 11) % 256) })
        }
        let session = DecodeSession(model: model, prompts: prompts, maxTokens: plan.maxTokens)
        var speedupLines: [ChartSeries] = []
        for alpha in plan.alphas {
            var points: [BatchSpeedupPoint] = []
            for batch in plan.batches {
                progress("oracle drafter α \(alpha), batch \(batch)")
                let point = try BatchSpeedupValidation.point(
                    session, .init(method: "oracle", draftLength: plan.draftLength, oracleAlpha: alpha), batch: batch,
                    seed: 1, hardware: hardware, contextTokens: 32 + plan.maxTokens / 2)
                let setting = "α \(alpha), γ \(plan.draftLength), batch \(batch)"
                let closedForm = try AcceptanceModel.iid(alpha: alpha).distribution(draftLength: plan.draftLength).tau
                rows.append(ValidationRow(group: tauGroup, setting: setting, predicted: closedForm, measured: point.tau))
                guard let speedup = point.measuredSpeedup else { continue }
                rows.append(ValidationRow(group: speedupGroup, setting: setting, predicted: point.predictedSpeedup,
                                          measured: speedup))
                points.append(point)
            }
            let curves = speedupOverBatch("α = \(alpha)", points)
            notes.append("α \(alpha): \(curves.crossover)")
            speedupLines += curves.lines
        }

        return (rows, speedupLines)
    }

    /// validation.csv and each group's summary in the notes.
    private static func writeTable(_ rows: [ValidationRow], groups: [String], into staging: URL,
                                   notes: inout [String]) throws -> [String] {
        // The table and its summary.
        var table = CSVTable(columns: ["group", "setting", "predicted", "measured", "relative_error"])
        for row in rows {
            table.rows.append([row.group, row.setting, CSVTable.cell(row.predicted), CSVTable.cell(row.measured),
                               CSVTable.cell(row.relativeError)])
        }
        try table.write(to: staging.appendingPathComponent("validation.csv"))
        let result = ValidateResult(rows: rows, notes: [], files: [])
        for group in groups {
            let errors = rows.filter { $0.group == group }.map { abs($0.relativeError) }
            notes.append(String(format: "%@: %d rows, median |error| %.1f%%, max %.1f%%", group, errors.count,
                                100 * result.medianError(group), 100 * (errors.max() ?? .nan)))
        }

        return ["validation.csv"]
    }

    /// Predicted against measured, the step-time ratios and the oracle's speedup over batch.
    private static func drawCharts(_ rows: [ValidationRow], groups: [String], stepLines: [ChartSeries],
                                   speedupLines: [ChartSeries], plan: Plan, hardware: Hardware, into staging: URL,
                                   plot: Bool) throws -> [String] {
        var files: [String] = []
        // Charts.
        let subtitle = "random weights, 1 thread; engine: \(hardware.name)"
        let scatter = Chart(title: "Predicted vs measured on this machine",
                            subtitle: subtitle + "; each point relative to the measured value",
                            xLabel: "measured (relative to the group's first measurement)",
                            yLabel: "predicted (same scale)",
                            series: groups.map { group in
                                let own = rows.filter { $0.group == group }
                                let scale = own.first?.measured ?? 1
                                return ChartSeries(title: group, points: own.map {
                                    ChartPoint(x: $0.measured / scale, y: $0.predicted / scale) }, style: .points)
                            },
                            referenceLines: [.diagonal(title: "predicted = measured")], logScaleX: true, logScaleY: true,
                            logBase: 2, keyPosition: .topLeft)
        let stepChart = Chart(title: "Forward over k new tokens relative to one: measured vs roofline",
                              subtitle: subtitle + ", context 64",
                              xLabel: "new tokens in one forward, k", yLabel: "T(k) / T(1)", series: stepLines,
                              logScaleX: true, logBase: 2, yRange: AxisRange(lower: 0), keyPosition: .topLeft)
        let batchChart = Chart(title: "Speedup of the oracle drafter vs batch: measured vs predicted",
                               subtitle: "\(plan.preset.name) preset, " + subtitle + ", γ = \(plan.draftLength), \(plan.prompts) prompts × \(plan.maxTokens) tokens",
                               xLabel: "batch (sequences per verify forward)", yLabel: "decode-phase speedup over batched plain decoding (×)",
                               series: speedupLines, referenceLines: [.horizontal(y: 1, title: "no speedup")],
                               logScaleX: true, logBase: 2, keyPosition: .below)
        for (chart, name) in [(scatter, "predicted-vs-measured"), (stepChart, "step-time"), (batchChart, "speedup-vs-batch")] {
            files += try ExperimentContext.draw(chart, output: staging, baseName: name, plot: plot)
        }
        return files
    }
}

/// The measured (solid) and predicted (dashed) speedup-over-batch curves of the points that have a measured
/// speedup, and where each crosses 1.
func speedupOverBatch(_ title: String, _ points: [BatchSpeedupPoint]) -> (lines: [ChartSeries], crossover: String) {
    let measured = points.compactMap { p in p.measuredSpeedup.map { (batch: p.batch, speedup: $0) } }
    let predicted = points.filter { $0.measuredSpeedup != nil }.map { (batch: $0.batch, speedup: $0.predictedSpeedup) }
    func chartPoints(_ curve: [(batch: Int, speedup: Double)]) -> [ChartPoint] {
        curve.map { ChartPoint(x: Double($0.batch), y: $0.speedup) }
    }
    let lines = [ChartSeries(title: "\(title): measured", points: chartPoints(measured), style: .linesPoints),
                 ChartSeries(title: "\(title): predicted", points: chartPoints(predicted), dashed: true)]
    return (lines, "crossover batch measured \(BatchSpeedupValidation.crossoverBatch(measured)), predicted \(BatchSpeedupValidation.crossoverBatch(predicted))")
}
