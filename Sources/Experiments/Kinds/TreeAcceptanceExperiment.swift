// The `tree-acceptance` experiment kind (config.json's "treeAcceptance" block).

import Analytic
import Charts
import Decoding
import Files
import Foundation
import LinAlg
import Methods
import Transformer
import Validation

extension TreeAcceptanceSpec: ExperimentKind {
    static let name = "tree-acceptance"
    static let block: String? = "treeAcceptance"

    func run(_ context: ExperimentContext) throws -> [String] {
        let t = self
        let output = context.output
        var table = CSVTable(columns: ["decay", "width", "tree_nodes", "tau"])
        var lines: [ChartSeries] = []
        let chain = try RankAcceptance.geometric(topOne: t.topOne, ranks: 1, decay: 0)
        let chainTaus = try chain.bestTreeTaus(maxNodes: min(t.maxNodes, t.topOne.count), width: 1)
        lines.append(ChartSeries(title: "chain (top-1 only)", points: chainTaus.enumerated().map {
            ChartPoint(x: Double($0.offset + 1), y: $0.element) }))
        for (n, tau) in chainTaus.enumerated() { table.rows.append(["chain", "1", String(n + 1), CSVTable.cell(tau)]) }
        var staticPoints: [ChartPoint] = []
        for rho in t.decays {
            let q = try RankAcceptance.geometric(topOne: t.topOne, ranks: t.ranks, decay: rho)
            let taus = try q.bestTreeTaus(maxNodes: t.maxNodes, width: t.width)
            for (n, tau) in taus.enumerated() {
                table.rows.append([CSVTable.cell(rho), String(t.width), String(n + 1), CSVTable.cell(tau)])
            }
            lines.append(ChartSeries(title: "best tree, rank decay ρ = \(CSVTable.cell(rho))",
                                     points: taus.enumerated().map { ChartPoint(x: Double($0.offset + 1), y: $0.element) },
                                     style: .lines))
            let eagle = try q.tau(staticTree: RankAcceptance.eagle1Tree)
            staticPoints.append(ChartPoint(x: Double(RankAcceptance.eagle1Tree.count), y: eagle))
            let best25 = taus[min(24, taus.count - 1)]
            context.notes.append(String(format: "ρ = %.2f: EAGLE-1 static 25-node tree τ = %.3f, best 25-node tree τ = %.3f, best %d-node tree τ = %.3f",
                                rho, eagle, best25, t.maxNodes, taus.last ?? .nan))
        }
        lines.append(ChartSeries(title: "EAGLE-1 static 25-node tree (one per ρ)", points: staticPoints, style: .points))
        try table.write(to: output.appendingPathComponent("data.csv"))
        let c = context.chart
        let chart = Chart(title: c.title, subtitle: c.subtitle, xLabel: c.xLabel ?? "draft nodes verified (root excluded)",
                          yLabel: c.yLabel ?? "τ, expected tokens per target forward", series: lines,
                          logScaleX: c.logX ?? true, logBase: c.logBase ?? 2, keyPosition: .topLeft)
        return ["data.csv"] + (try context.draw(chart, baseName: "chart"))
    }
}
