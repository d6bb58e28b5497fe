// The `sweep` experiment kind.

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

/// The `sweep` kind: predictions over a grid of axes, one series per named request.
public struct SweepExperiment: ExperimentKind {
    static let name = "sweep"
    public var base: PredictRequest?
    public var axes: [String]?
    public var series: [SeriesSpec]?
    public var y: String?
    public var optimizeDraftLength: Int?

    func run(_ context: ExperimentContext) throws -> [String] {
        let spec = self
        let slug = context.slug, base = context.experimentDirectory, output = context.output
        let axes = try (spec.axes ?? []).map(SweepAxis.parse)
        guard !axes.isEmpty else { throw AnalyticError("a sweep experiment needs \"axes\"") }
        let result = try SweepResult.run(named: try resolvedSeries(spec, base: base), axes: axes,
                                         optimizeDraftLength: spec.optimizeDraftLength, label: slug)
        try result.csv().write(to: output.appendingPathComponent("data.csv"))
        if result.skippedCount > 0 { context.notes.append("\(result.skippedCount) points skipped: the model does not fit in memory there") }
        let y = spec.y ?? "speedup"
        if axes[0].parameter == .batch, y == "speedup" {
            for series in result.series {
                if let crossing = series.points.first(where: { ($0.prediction?.speedup ?? 2) < 1 }) {
                    context.notes.append("\(series.title.isEmpty ? "speedup" : series.title): below 1 from batch \(crossing.values[0])")
                }
            }
        }
        let c = context.chart
        let chart = try result.chart(y: y, title: c.title, subtitle: c.subtitle, xLabel: c.xLabel, yLabel: c.yLabel,
                                     logX: c.logX ?? false, logY: c.logY ?? false, logBase: c.logBase ?? 10,
                                     referenceLines: c.guides, key: c.keyPosition, yScale: c.yScale ?? 1)
        return ["data.csv"] + (try context.draw(chart, baseName: "chart"))
    }
}
