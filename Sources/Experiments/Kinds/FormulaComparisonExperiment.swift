// The `formula-comparison` experiment kind.

import Analytic
import Charts
import Decoding
import Files
import Foundation
import LinAlg
import Methods
import Requests
import Transformer
import Validation

/// The `formula-comparison` kind: the exact cycle model against the simplified speedup formula.
public struct FormulaComparisonExperiment: ExperimentKind {
    static let name = "formula-comparison"
    public var base: PredictRequest?
    public var axes: [String]?

    func run(_ context: ExperimentContext) throws -> [String] {
        let spec = self
        let base = context.experimentDirectory, output = context.output
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
            context.notes.append(String(format: "batch %d: simplified formula off by up to %.0f%% of the exact speedup", batch, worst * 100))
        }
        try table.write(to: output.appendingPathComponent("data.csv"))
        let s = context.chart
        let chart = Chart(title: s.title, subtitle: s.subtitle, xLabel: s.xLabel ?? "acceptance rate α",
                          yLabel: s.yLabel ?? "speedup over plain decoding (×)", series: lines,
                          referenceLines: s.guides, xRange: AxisRange(lower: 0, upper: 1), keyPosition: s.keyPosition)
        return ["data.csv"] + (try context.draw(chart, baseName: "chart"))
    }
}
