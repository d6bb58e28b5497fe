// The `step-time-validation` experiment kind (config.json's "stepTimeValidation" block).

import Analytic
import Charts
import Decoding
import Files
import Foundation
import LinAlg
import Methods
import Transformer
import Validation

extension StepTimeValidationSpec: ExperimentKind {
    static let name = "step-time-validation"
    static let reproducibility = Reproducibility.timed(what: "step times and the calibration are timings of this machine")
    static let block: String? = "stepTimeValidation"

    func run(_ context: ExperimentContext) throws -> [String] {
        let v = self
        let output = context.output
        let config = try ModelConfig.preset(named: v.preset)
        let ks = try SweepAxis.parseValues(v.tokens, for: .context).compactMap { $0.number }.map { Int($0) }
        let calibration = try Calibration.calibrate(threads: v.threads)
        context.notes += calibration.facts
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
            context.notes.append(String(format: "T(k) for k ≤ 16: median |error| %.1f%%, max %.1f%% (target: within 10%%)",
                                100 * upTo16[upTo16.count / 2], 100 * (upTo16.last ?? 0)))
        }
        let measured = ChartSeries(title: "measured (median of 7)", points: points.map { ChartPoint(x: Double($0.tokens), y: $0.measuredSeconds * 1e3) })
        let predicted = ChartSeries(title: "predicted (roofline, calibrated cpu-local)", points: points.map {
            ChartPoint(x: Double($0.tokens), y: $0.predictedSeconds * 1e3) }, dashed: true)
        let chart = Chart(title: "\(context.chart.title): forward time of \(config.name) over k new tokens",
                          subtitle: "\(v.threads) threads, context \(v.context); prediction from probes measured in the same run",
                          xLabel: "new tokens in one forward, k", yLabel: "forward time (ms)", series: [measured, predicted],
                          logScaleX: true, logScaleY: true, logBase: 2, keyPosition: .topLeft)
        var files = ["data.csv", "cpu-local.json", "model.json"] + (try context.draw(chart, baseName: "chart"))
        if tree {
            // Where verifying a tree stops being (nearly) free: its forward relative to one token's.
            let relative = [
                ChartSeries(title: "measured T(m)/T(1)", points: points.map { ChartPoint(x: Double($0.tokens), y: $0.measuredSeconds / m1) },
                            style: .linesPoints),
                ChartSeries(title: "predicted T(m)/T(1) (roofline)", points: points.map {
                    ChartPoint(x: Double($0.tokens), y: $0.predictedSeconds / p1) }, dashed: true),
            ]
            let ratio = Chart(title: "\(context.chart.title): tree verify forward of \(config.name) relative to one token",
                              subtitle: "binary token tree with ancestor mask, context \(v.context), \(v.threads) threads",
                              xLabel: "tree nodes verified in one forward, m", yLabel: "T(m) / T(1)", series: relative,
                              referenceLines: [.horizontal(y: 1.5, title: "1.5: the tree is still nearly free")],
                              logScaleX: true, logBase: 2, keyPosition: .topLeft)
            files += try context.draw(ratio, baseName: "relative")
            for p in points where p.tokens > 1 {
                context.notes.append(String(format: "m = %d: measured T(m)/T(1) %.2f, predicted %.2f", p.tokens, p.measuredSeconds / m1,
                                    p.predictedSeconds / p1))
            }
        }
        return files
    }
}
