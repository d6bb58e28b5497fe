// The `acceptance-curves` experiment kind (config.json's "acceptanceCurves" block).

import Analytic
import Charts
import Decoding
import Files
import Foundation
import LinAlg
import Methods
import Transformer
import Validation

extension AcceptanceCurvesSpec: ExperimentKind {
    static let name = "acceptance-curves"
    static let block: String? = "acceptanceCurves"

    func run(_ context: ExperimentContext) throws -> [String] {
        let a = self
        let output = context.output
        let gamma = a.draftLength
        var table = CSVTable(columns: ["model", "position_or_length", "probability_accepted_exactly", "probability_accepted_at_least",
                                       "conditional", "tau"])
        var distributionLines: [ChartSeries] = []
        for alpha in a.alphas {
            let d = try AcceptanceModel.iid(alpha: alpha).distribution(draftLength: gamma)
            distributionLines.append(ChartSeries(title: "i.i.d. α = \(CSVTable.cell(alpha)) (τ = \(String(format: "%.2f", d.tau)))",
                                                 points: d.probabilities.enumerated().map { ChartPoint(x: Double($0.offset), y: $0.element) }))
            for (j, p) in d.probabilities.enumerated() {
                table.rows.append(["iid \(CSVTable.cell(alpha))", String(j), CSVTable.cell(p), "", "", CSVTable.cell(d.tau)])
            }
        }
        var positionLines: [ChartSeries] = []
        for profile in a.profiles {
            let length = min(gamma, profile.alphas.count)
            let d = try AcceptanceModel.perPosition(alphas: profile.alphas).distribution(draftLength: length)
            let unconditional = d.unconditional
            positionLines.append(ChartSeries(title: "\(profile.title): P(a ≥ k) (τ = \(String(format: "%.2f", d.tau)) at γ = \(length))",
                                             points: unconditional.enumerated().map { ChartPoint(x: Double($0.offset + 1), y: $0.element) }))
            positionLines.append(ChartSeries(title: "\(profile.title): conditional α_k",
                                             points: d.conditional.enumerated().map { ChartPoint(x: Double($0.offset + 1), y: $0.element) },
                                             dashed: true))
            for k in 0..<length {
                table.rows.append([profile.title, String(k + 1), CSVTable.cell(d.probabilities[k + 1]),
                                   CSVTable.cell(unconditional[k]), CSVTable.cell(d.conditional[k]), CSVTable.cell(d.tau)])
            }
            context.notes.append(String(format: "%@: τ = %.3f at γ = %d", profile.title, d.tau, length))
        }
        try table.write(to: output.appendingPathComponent("data.csv"))
        let distribution = Chart(title: "Accepted drafts per cycle under i.i.d. acceptance (γ = \(gamma))",
                                 subtitle: "P(a = j): geometric up to γ, the rest piled on a = γ (all drafts accepted)",
                                 xLabel: "accepted drafts a", yLabel: "probability", series: distributionLines,
                                 xRange: AxisRange(lower: -0.25, upper: Double(gamma) + 0.25), yRange: AxisRange(lower: 0),
                                 keyPosition: .topRight)
        let positions = Chart(title: context.chart.title, subtitle: context.chart.subtitle,
                              xLabel: "draft position k", yLabel: "acceptance probability", series: positionLines,
                              xRange: AxisRange(lower: 0.75, upper: Double(gamma) + 0.25), yRange: AxisRange(lower: 0, upper: 1),
                              keyPosition: .below)
        return ["data.csv"] + (try context.draw(distribution, baseName: "distribution"))
            + (try context.draw(positions, baseName: "per-position"))
    }
}
