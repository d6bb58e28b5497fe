// The `heatmap` experiment kind.

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

/// The `heatmap` kind: one metric over two numeric axes.
public struct HeatmapExperiment: ExperimentKind {
    static let name = "heatmap"
    public var base: PredictRequest?
    public var axes: [String]?
    public var y: String?
    public var optimizeDraftLength: Int?

    func run(_ context: ExperimentContext) throws -> [String] {
        let spec = self
        let base = context.experimentDirectory, output = context.output
        let axes = try (spec.axes ?? []).map(SweepAxis.parse)
        guard axes.count == 2, axes.allSatisfy(\.parameter.isNumeric) else {
            throw AnalyticError("a heatmap experiment needs two numeric axes: x then y")
        }
        let y = spec.y ?? "speedup"
        let config = try (spec.base ?? PredictRequest()).resolve(baseDirectory: base)
        let points = try Sweep.run(base: config, axes: [axes[1], axes[0]], optimizeDraftLength: spec.optimizeDraftLength,
                                   methods: { try MethodRegistry.workload(named: $0) })
        var table = CSVTable(columns: [axes[0].parameter.rawValue, axes[1].parameter.rawValue, y, "bound"])
        let columns = axes[0].values.count
        var grid: [[Double]] = []
        for (i, point) in points.enumerated() {
            if i % columns == 0 { grid.append([]) }
            let value = SweepResult.metric(point, y) ?? .nan
            grid[grid.count - 1].append(value)
            table.rows.append([point.values[1].description, point.values[0].description, CSVTable.cell(value),
                               point.prediction?.bound.rawValue ?? ""])
        }
        try table.write(to: output.appendingPathComponent("data.csv"))
        let s = context.chart
        let map = HeatMap(title: s.title, subtitle: s.subtitle, xLabel: s.xLabel ?? axes[0].parameter.label,
                          yLabel: s.yLabel ?? axes[1].parameter.label, colorLabel: PredictionFields.label(y),
                          xValues: axes[0].values.compactMap(\.number), yValues: axes[1].values.compactMap(\.number),
                          values: grid, valueFormat: "%.2f",
                          palette: y == "speedup" ? .diverging(center: 1) : .viridis)
        return ["data.csv"] + (try context.draw(map, baseName: "chart"))
    }
}
