// The `leviathan` experiment kind.

import Analytic
import Charts
import Decoding
import Files
import Foundation
import LinAlg
import Methods
import Transformer
import Validation

/// The `leviathan` kind: Leviathan et al.'s closed forms over α and γ.
public struct LeviathanExperiment: ExperimentKind {
    static let name = "leviathan"
    public var alphas: [Double]?
    public var gammas: String?
    public var c: Double?
    public var y: String?

    func run(_ context: ExperimentContext) throws -> [String] {
        let spec = self
        let output = context.output
        let alphas = spec.alphas ?? [0.5, 0.6, 0.7, 0.8, 0.9]
        let gammas = try SweepAxis.parseValues(spec.gammas ?? "0:10", for: .draftLength).compactMap { $0.number }.map { Int($0) }
        let c = spec.c ?? 0
        for alpha in alphas { try Check.probability(alpha, "alpha") }
        try Check.nonNegative(c, "c")
        let y = spec.y ?? "speedup"
        guard ["speedup", "expected_tokens", "ops_factor"].contains(y) else {
            throw AnalyticError("leviathan experiments plot speedup, expected_tokens or ops_factor, not '\(y)'")
        }
        var table = CSVTable(columns: ["alpha", "gamma", "c", "expected_tokens", "speedup", "ops_factor"])
        var lines: [ChartSeries] = []
        for alpha in alphas {
            var points: [ChartPoint] = []
            for gamma in gammas {
                let expected = Leviathan.expectedTokens(alpha: alpha, gamma: gamma)
                let speedup = Leviathan.walltimeImprovement(alpha: alpha, gamma: gamma, c: c)
                let ops = Leviathan.operationsFactor(alpha: alpha, gamma: gamma, cHat: c)
                table.rows.append([CSVTable.cell(alpha), String(gamma), CSVTable.cell(c), CSVTable.cell(expected),
                                   CSVTable.cell(speedup), CSVTable.cell(ops)])
                let value = y == "speedup" ? speedup : (y == "expected_tokens" ? expected : ops)
                points.append(ChartPoint(x: Double(gamma), y: value))
            }
            lines.append(ChartSeries(title: "α = \(alpha)", points: points))
            if y == "speedup", c > 0 {
                let best = Leviathan.optimalGamma(alpha: alpha, c: c, maxGamma: gammas.max() ?? 10)
                context.notes.append(String(format: "alpha %.2f: best gamma %d, speedup %.2f", alpha, best.gamma, best.speedup))
            }
        }
        try table.write(to: output.appendingPathComponent("data.csv"))
        let s = context.chart
        let chart = Chart(title: s.title, subtitle: s.subtitle, xLabel: s.xLabel ?? "draft length γ (tokens)",
                          yLabel: s.yLabel ?? (y == "speedup" ? "walltime speedup (×)" : y == "expected_tokens"
                                               ? "expected tokens per target forward" : "arithmetic operations (× baseline)"),
                          series: lines, referenceLines: s.guides, logScaleY: s.logY ?? false,
                          keyPosition: s.keyPosition)
        return ["data.csv"] + (try context.draw(chart, baseName: "chart"))
    }
}
