// Sweep results as CSV tables and line charts.

import Analytic
import Charts
import Files
import Foundation
import Methods
import Requests

/// The points of one or more sweeps over the same axes, grouped in named series.
public struct SweepResult: Sendable {
    public struct Series: Sendable {
        public var title: String
        public var points: [SweepPoint]
    }
    public var axes: [SweepAxis]
    public var series: [Series]

    public var skippedCount: Int { series.reduce(0) { $0 + $1.points.filter { $0.prediction == nil }.count } }

    /// Runs one sweep per named base configuration.
    public static func run(named bases: [(title: String, config: PredictionConfig)], axes: [SweepAxis],
                           optimizeDraftLength: Int? = nil, label: String = "sweep") throws -> SweepResult {
        let perSeries = Sweep.pointCount(axes)
        let progress = ProgressReporter(label: label, total: perSeries * bases.count)
        var done = 0
        var series: [Series] = []
        for base in bases {
            let points = try Sweep.run(base: base.config, axes: axes, optimizeDraftLength: optimizeDraftLength,
                                       methods: { try MethodRegistry.workload(named: $0) }) { n, _ in
                progress.update(done + n)
            }
            done += perSeries
            series.append(Series(title: base.title, points: points))
        }
        progress.finish()
        return SweepResult(axes: axes, series: series)
    }

    /// CSV: [series] + one column per axis + draft_length + every prediction field + note.
    public func csv() -> CSVTable {
        let named = series.count > 1 || !(series.first?.title.isEmpty ?? true)
        var columns = named ? ["series"] : []
        columns += axes.map(\.parameter.rawValue)
        columns += ["draft_length"] + PredictionFields.keys + ["note"]
        var table = CSVTable(columns: columns)
        table.rows.reserveCapacity(series.reduce(0) { $0 + $1.points.count })
        for s in series {
            for point in s.points {
                var row = named ? [s.title] : []
                row += point.values.map(\.description)
                row.append(String(point.draftLength))
                if let p = point.prediction {
                    for key in PredictionFields.keys {
                        row.append(key == "bound" ? p.bound.rawValue : CSVTable.cell(PredictionFields.numeric(p, key: key)!))
                    }
                    row.append("")
                } else {
                    row += [String](repeating: "", count: PredictionFields.keys.count)
                    row.append(point.skippedReason ?? "")
                }
                table.rows.append(row)
            }
        }
        return table
    }

    static func metric(_ point: SweepPoint, _ key: String) -> Double? {
        if key == "draft_length" { return point.prediction == nil ? nil : Double(point.draftLength) }
        return point.prediction.flatMap { PredictionFields.numeric($0, key: key) }
    }

    /// A line chart: x = the first axis, one line per series and per value
    /// combination of the other axes (at most `maxLines`, evenly subsampled).
    public func chart(y: String, title: String, subtitle: String? = nil, xLabel: String? = nil,
                      yLabel: String? = nil, logX: Bool = false, logY: Bool = false, logBase: Int = 10,
                      referenceLines: [ReferenceLine] = [], key: KeyPosition = .auto,
                      maxLines: Int = 10, yScale: Double = 1) throws -> Chart {
        guard let xAxis = axes.first else { throw AnalyticError("a chart needs at least one sweep axis") }
        guard xAxis.parameter.isNumeric else {
            throw AnalyticError("the first sweep axis is the chart's x axis and must be numeric, not \(xAxis.parameter.rawValue)")
        }
        guard PredictionFields.plottable.contains(y) else {
            throw AnalyticError("unknown metric '\(y)'; plottable: \(PredictionFields.plottable.joined(separator: ", "))")
        }
        var lines: [ChartSeries] = []
        for s in series {
            // Group points by the values of the non-x axes, keeping first-seen order.
            var order: [String] = []
            var groups: [String: [ChartPoint]] = [:]
            for point in s.points {
                let rest = zip(axes.dropFirst(), point.values.dropFirst())
                    .map { "\($0.0.parameter.rawValue) \($0.1)" }.joined(separator: ", ")
                let name = [s.title, rest].filter { !$0.isEmpty }.joined(separator: ", ")
                if groups[name] == nil { order.append(name); groups[name] = [] }
                if let value = Self.metric(point, y), let x = point.values[0].number {
                    groups[name]!.append(ChartPoint(x: x, y: value * yScale))
                }
            }
            for name in order where !(groups[name]!.isEmpty) {
                lines.append(ChartSeries(title: name.isEmpty ? y : name, points: groups[name]!))
            }
        }
        var note: String? = subtitle
        if lines.count > maxLines {
            let step = Double(lines.count - 1) / Double(maxLines - 1)
            let kept = (0..<maxLines).map { lines[Int((Double($0) * step).rounded())] }
            note = [subtitle, "\(maxLines) of \(lines.count) lines shown"].compactMap { $0 }.joined(separator: "; ")
            lines = kept
        }
        return Chart(title: title, subtitle: note, xLabel: xLabel ?? xAxis.parameter.label,
                     yLabel: yLabel ?? PredictionFields.label(y), series: lines, referenceLines: referenceLines,
                     logScaleX: logX, logScaleY: logY, logBase: logBase, keyPosition: key)
    }
}
