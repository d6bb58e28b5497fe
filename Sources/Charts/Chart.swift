// Line and point charts: series of (x, y) points, reference lines, optional
// logarithmic axes, and the gnuplot data file and commands that draw them.

import Foundation

/// One (x, y) point of a series.
public struct ChartPoint: Sendable, Equatable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// One curve of a chart: a titled list of points drawn in one style.
public struct ChartSeries: Sendable, Equatable {
    /// How the points are drawn.
    public enum Style: String, Sendable, Equatable {
        /// A line through the points, no markers.
        case lines
        /// A line through the points with a marker on each (thinned to about 20 markers).
        case linesPoints
        /// Markers only.
        case points
    }

    /// Key entry; an empty title leaves the series out of the key.
    public var title: String
    public var points: [ChartPoint]
    public var style: Style
    /// Draw the line dashed (e.g. predicted curves next to measured ones).
    public var dashed: Bool

    public init(title: String, points: [ChartPoint], style: Style = .linesPoints, dashed: Bool = false) {
        self.title = title
        self.points = points
        self.style = style
        self.dashed = dashed
    }

    /// A series from parallel arrays of x and y values (they must have the same length).
    public init(title: String, x: [Double], y: [Double], style: Style = .linesPoints, dashed: Bool = false) {
        precondition(x.count == y.count, "ChartSeries '\(title)': \(x.count) x values but \(y.count) y values")
        self.init(title: title, points: zip(x, y).map { ChartPoint(x: $0, y: $1) }, style: style, dashed: dashed)
    }
}

/// A straight guide line drawn in grey, dashed, with its own key entry.
public enum ReferenceLine: Sendable, Equatable {
    /// y = constant across the whole x range, e.g. "speedup = 1".
    case horizontal(y: Double, title: String)
    /// x = constant across the whole y range, e.g. "compute knee".
    case vertical(x: Double, title: String)
    /// y = x spanning the data range, e.g. "predicted = measured".
    case diagonal(title: String)

    public var title: String {
        switch self {
        case .horizontal(_, let title), .vertical(_, let title), .diagonal(let title): return title
        }
    }
}

/// Fixed bounds for an axis; a nil bound is chosen from the data.
public struct AxisRange: Sendable, Equatable {
    public var lower: Double?
    public var upper: Double?

    public init(lower: Double? = nil, upper: Double? = nil) {
        self.lower = lower
        self.upper = upper
    }

    public init(_ range: ClosedRange<Double>) {
        self.init(lower: range.lowerBound, upper: range.upperBound)
    }
}

/// Where the key (legend) goes. It always has an opaque, boxed background.
public enum KeyPosition: String, Sendable, Equatable {
    /// The inside corner that the curves cross least; outside right when the key is large.
    case auto
    case topLeft, topRight, bottomLeft, bottomRight
    /// Right of the plot area, top aligned.
    case outsideRight
    /// Below the plot area, entries side by side.
    case below
    /// No key.
    case hidden
}

/// A line/point chart. Labels carry units, e.g. "batch size (sequences)".
public struct Chart: ChartDocument {
    public var title: String
    /// A second, smaller title line (e.g. the hardware and model preset).
    public var subtitle: String?
    public var xLabel: String
    public var yLabel: String
    public var series: [ChartSeries]
    public var referenceLines: [ReferenceLine]
    public var logScaleX: Bool
    public var logScaleY: Bool
    /// Base of the logarithmic axes: 2 (ticks 1 2 4 8 ...) or 10 (ticks 1 10 100 ...).
    public var logBase: Int
    public var xRange: AxisRange?
    public var yRange: AxisRange?
    public var keyPosition: KeyPosition
    public var size: ChartSize

    public init(
        title: String,
        subtitle: String? = nil,
        xLabel: String,
        yLabel: String,
        series: [ChartSeries],
        referenceLines: [ReferenceLine] = [],
        logScaleX: Bool = false,
        logScaleY: Bool = false,
        logBase: Int = 10,
        xRange: AxisRange? = nil,
        yRange: AxisRange? = nil,
        keyPosition: KeyPosition = .auto,
        size: ChartSize = .standard
    ) {
        self.title = title
        self.subtitle = subtitle
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.referenceLines = referenceLines
        self.logScaleX = logScaleX
        self.logScaleY = logScaleY
        self.logBase = logBase
        self.xRange = xRange
        self.yRange = yRange
        self.keyPosition = keyPosition
        self.size = size
    }

    /// Okabe & Ito, "Color Universal Design" (2008): eight colours that stay
    /// distinct under the common colour-vision deficiencies. Yellow is last
    /// because it is faint on white.
    public static let seriesColors = ["#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                      "#E69F00", "#56B4E9", "#000000", "#F0E442"]
    /// gnuplot point types, filled shapes first: circle, square, triangles, diamond, pentagon.
    static let pointTypes = [7, 5, 9, 11, 13, 15, 6, 4, 8, 10]
    /// Dash types for reference lines: dashed, dotted, dash-dot, dash-dot-dot.
    static let referenceDashTypes = [2, 3, 4, 5]
    static let referenceColor = "#4d4d4d"
    /// gnuplot line style numbers: series i uses i + 1; reference line j uses this + j.
    static let referenceStyleBase = 101

    public func gnuplotSource(dataFileName: String) throws -> GnuplotSource {
        try validate()
        let file = GnuplotText.fileName(dataFileName)
        let xAxis = axis(isX: true)
        let yAxis = axis(isX: false)

        // Data: one block per series, then one per diagonal reference line.
        var blocks: [String] = []
        for (index, series) in series.enumerated() {
            var lines = ["# series \(index): \(GnuplotText.comment(series.title))", "# x\ty"]
            for point in series.points {
                guard let x = plottable(point.x, log: logScaleX) else { continue }
                lines.append("\(x)\t\(plottable(point.y, log: logScaleY) ?? "?")")
            }
            if lines.count == 2 { lines.append("?\t?") }  // keep the block (and index numbering)
            blocks.append(lines.joined(separator: "\n") + "\n")
        }
        var diagonalBlockIndex: [Int: Int] = [:]  // reference line index -> data block index
        for (index, line) in referenceLines.enumerated() {
            guard case .diagonal(let title) = line, let ends = diagonalEnds() else { continue }
            diagonalBlockIndex[index] = blocks.count
            var lines = ["# reference line: \(GnuplotText.comment(title)) (y = x)", "# x\ty"]
            for value in diagonalSamples(from: ends.lower, to: ends.upper) {
                let text = GnuplotText.number(value)
                lines.append("\(text)\t\(text)")
            }
            blocks.append(lines.joined(separator: "\n") + "\n")
        }
        let header = """
            # SpecLab chart data: \(GnuplotText.comment(title))
            # x: \(GnuplotText.comment(xLabel)); y: \(GnuplotText.comment(yLabel))
            # One block per series, separated by two blank lines (gnuplot: index 0, 1, ...).
            # '?' marks a missing or non-finite value.


            """
        let data = header + blocks.joined(separator: "\n\n")

        // Settings.
        var settings = [
            "set encoding utf8",
            "set datafile missing '?'",
            titleCommand(title: title, subtitle: subtitle),
            "set xlabel \(GnuplotText.string(xLabel)) font ',12'",
            "set ylabel \(GnuplotText.string(yLabel)) font ',12'",
            "set border lw 1.2 lc rgb '#404040'",
            "set grid xtics ytics lt 1 lw 1 lc rgb '#dcdcdc'",
            "set tics nomirror out scale 0.7",
        ]
        for index in series.indices {
            let color = Chart.seriesColors[index % Chart.seriesColors.count]
            let pointType = Chart.pointTypes[index % Chart.pointTypes.count]
            settings.append("set style line \(index + 1) lc rgb '\(color)' lw 2 pt \(pointType) ps 1.3")
        }
        for index in referenceLines.indices {
            let dash = Chart.referenceDashTypes[index % Chart.referenceDashTypes.count]
            settings.append("set style line \(Chart.referenceStyleBase + index) "
                + "lc rgb '\(Chart.referenceColor)' lw 1.5 dt \(dash)")
        }
        settings.append(keyCommand(resolvedKeyPosition(xAxis: xAxis, yAxis: yAxis)))
        settings += axisCommands(name: "x", axis: xAxis, range: xRange)
        settings += axisCommands(name: "y", axis: yAxis, range: yRange)
        // Breathing room around autoscaled linear axes so markers do not sit on the border.
        let xPad = logScaleX || xRange != nil ? "0" : "graph 0.02"
        let yPad = logScaleY || yRange != nil ? "0" : "graph 0.04"
        settings.append("set offsets \(xPad), \(xPad), \(yPad), \(yPad)")
        // Draw line segments whose two ends both lie outside the axis ranges (a y = x line spanning
        // both data ranges on fixed axes); gnuplot drops them by default.
        settings.append("set clip two")

        // Plot clauses: one per series, one per reference line.
        var clauses: [String] = []
        for (index, series) in series.enumerated() {
            let with: String
            var interval = ""  // markers on every n-th point only, about 20 per curve
            switch series.style {
            case .lines: with = "lines"
            case .points: with = "points"
            case .linesPoints:
                with = "linespoints"
                let every = Int((Double(series.points.count) / 20).rounded(.up))
                if every > 1 { interval = " pi \(every)" }
            }
            clauses.append("\(file) index \(index) using 1:2 with \(with) ls \(index + 1) "
                + "dt \(series.dashed ? 2 : 1)\(interval) \(keyTitle(series.title))")
        }
        for (index, line) in referenceLines.enumerated() {
            let style = "ls \(Chart.referenceStyleBase + index) \(keyTitle(line.title))"
            switch line {
            case .horizontal(let y, _):
                guard let value = plottable(y, log: logScaleY) else { continue }
                clauses.append("\(value) with lines \(style)")
            case .vertical(let x, _):
                guard let value = plottable(x, log: logScaleX) else { continue }
                settings.append("set arrow \(index + 1) from \(value), graph 0 to \(value), graph 1 "
                    + "nohead ls \(Chart.referenceStyleBase + index) back")
                clauses.append("keyentry with lines \(style)")
            case .diagonal:
                guard let block = diagonalBlockIndex[index] else { continue }
                clauses.append("\(file) index \(block) using 1:2 with lines \(style)")
            }
        }
        if clauses.isEmpty { clauses.append("NaN notitle") }
        let plot = "plot \\\n    " + clauses.joined(separator: ", \\\n    ")
        return GnuplotSource(data: data, settings: settings.joined(separator: "\n"), plotCommand: plot)
    }

    // MARK: - Checks and helpers

    func validate() throws {
        if (logScaleX || logScaleY) && logBase < 2 {
            throw ChartError.invalidChart("logBase must be 2 or 10, not \(logBase)")
        }
        if size.width <= 0 || size.height <= 0 {
            throw ChartError.invalidChart("size must be positive, not \(size.width)x\(size.height)")
        }
        for (name, range) in [("xRange", xRange), ("yRange", yRange)] {
            if let lower = range?.lower, let upper = range?.upper, !(lower < upper) {
                throw ChartError.invalidChart("\(name) lower bound \(lower) must be below upper bound \(upper)")
            }
        }
    }

    /// The value as data-file text, or nil when it cannot be drawn (non-finite,
    /// or not positive on a log axis).
    func plottable(_ value: Double, log: Bool) -> String? {
        guard value.isFinite, !log || value > 0 else { return nil }
        return GnuplotText.number(value)
    }

    /// Finite data extent on one axis (positive values only on a log axis),
    /// including reference lines that fix a value on that axis.
    func dataExtent(isX: Bool) -> (lower: Double, upper: Double)? {
        let log = isX ? logScaleX : logScaleY
        var values = series.flatMap { $0.points.map { isX ? $0.x : $0.y } }
        for line in referenceLines {
            switch line {
            case .horizontal(let y, _) where !isX: values.append(y)
            case .vertical(let x, _) where isX: values.append(x)
            default: break
            }
        }
        let usable = values.filter { $0.isFinite && (!log || $0 > 0) }
        guard let lower = usable.min(), let upper = usable.max() else { return nil }
        return (lower, upper)
    }

    /// An axis as drawn: its bounds (for the key placement) and, if logarithmic, its ticks.
    struct Axis {
        var lower: Double
        var upper: Double
        var isLog: Bool
        var logTicks: LogAxis?

        /// Position of `value` across the axis, 0 at the lower bound and 1 at the upper.
        func fraction(_ value: Double) -> Double? {
            guard value.isFinite, !isLog || value > 0 else { return nil }
            let (a, b, v) = isLog ? (log(lower), log(upper), log(value)) : (lower, upper, value)
            return b > a ? (v - a) / (b - a) : 0.5
        }
    }

    func axis(isX: Bool) -> Axis? {
        let log = isX ? logScaleX : logScaleY
        let range = isX ? xRange : yRange
        let extent = dataExtent(isX: isX)
        if log {
            guard let logAxis = LogAxis(dataMin: extent?.lower ?? range?.lower ?? 1,
                                        dataMax: extent?.upper ?? range?.upper ?? 1,
                                        base: Double(logBase),
                                        fixedLower: range?.lower, fixedUpper: range?.upper)
            else { return nil }
            return Axis(lower: logAxis.lower, upper: logAxis.upper, isLog: true, logTicks: logAxis)
        }
        guard let lower = range?.lower ?? extent?.lower, let upper = range?.upper ?? extent?.upper else { return nil }
        return Axis(lower: lower, upper: upper, isLog: false, logTicks: nil)
    }

    func axisCommands(name: String, axis: Axis?, range: AxisRange?) -> [String] {
        let isLog = name == "x" ? logScaleX : logScaleY
        if isLog {
            var commands = ["set logscale \(name) \(logBase)"]
            if let ticks = axis?.logTicks {
                commands.append("set \(name)range [\(GnuplotText.rounded(ticks.lower)):\(GnuplotText.rounded(ticks.upper))]")
                commands.append("set \(name)tics " + GnuplotText.ticList(ticks.ticks.map { (GnuplotText.tickLabel($0), $0) }))
            } else {
                commands.append("set format \(name) '%g'")
            }
            return commands
        }
        guard let range, range.lower != nil || range.upper != nil else { return [] }
        let lower = range.lower.map(GnuplotText.number) ?? "*"
        let upper = range.upper.map(GnuplotText.number) ?? "*"
        return ["set \(name)range [\(lower):\(upper)]"]
    }

    /// The y = x line runs over the union of the x and y data ranges.
    func diagonalEnds() -> (lower: Double, upper: Double)? {
        let bounds = [dataExtent(isX: true), dataExtent(isX: false)].compactMap { $0 }
        guard let lower = bounds.map(\.lower).min(), let upper = bounds.map(\.upper).max() else { return nil }
        if (logScaleX || logScaleY) && lower <= 0 { return nil }
        return (lower, upper)
    }

    /// Two points draw y = x when both axes share a scale; with one log axis it
    /// is a curve, so it gets 101 points spaced evenly along the x axis.
    func diagonalSamples(from lower: Double, to upper: Double) -> [Double] {
        if logScaleX == logScaleY || lower == upper { return [lower, upper] }
        return (0...100).map { step in
            let t = Double(step) / 100
            return logScaleX ? lower * pow(upper / lower, t) : lower + (upper - lower) * t
        }
    }

    func keyTitle(_ title: String) -> String {
        title.isEmpty ? "notitle" : "title \(GnuplotText.string(title))"
    }

    var keyEntryCount: Int {
        series.filter { !$0.title.isEmpty }.count + referenceLines.filter { !$0.title.isEmpty }.count
    }

    /// `.auto` becomes the inside corner whose key-sized box the curves cross
    /// least (ties: top left, top right, bottom right, bottom left), or
    /// outside right when the key would cover more than half the plot.
    func resolvedKeyPosition(xAxis: Axis?, yAxis: Axis?) -> KeyPosition {
        guard keyPosition == .auto else { return keyPosition }
        guard keyEntryCount > 0 else { return .hidden }
        // Rough plot-area and key sizes in pixels at the terminal font "sans,11".
        let plotWidth = Double(max(size.width - 160, 100))
        let plotHeight = Double(max(size.height - 140, 100))
        let longestTitle = (series.map(\.title) + referenceLines.map(\.title)).map(\.count).max() ?? 0
        let keyWidth = (Double(longestTitle) * 7.5 + 70) / plotWidth
        let keyHeight = (Double(keyEntryCount) * 19 + 14) / plotHeight
        if keyWidth > 0.5 || keyHeight > 0.6 { return .outsideRight }
        guard let xAxis, let yAxis else { return .topLeft }

        // Sample every drawn line and marker in plot-fraction coordinates.
        var samples: [(Double, Double)] = []
        func addSegment(_ a: (Double, Double), _ b: (Double, Double)) {
            for step in 0...24 {
                let t = Double(step) / 24
                samples.append((a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t))
            }
        }
        for series in series {
            let placed = series.points.map { point -> (Double, Double)? in
                guard let x = xAxis.fraction(point.x), let y = yAxis.fraction(point.y) else { return nil }
                return (x, y)
            }
            for (index, point) in placed.enumerated() {
                guard let point else { continue }
                samples.append(point)
                if series.style != .points, index + 1 < placed.count, let next = placed[index + 1] {
                    addSegment(point, next)
                }
            }
        }
        for line in referenceLines {
            switch line {
            case .horizontal(let y, _):
                if let y = yAxis.fraction(y) { addSegment((0, y), (1, y)) }
            case .vertical(let x, _):
                if let x = xAxis.fraction(x) { addSegment((x, 0), (x, 1)) }
            case .diagonal:
                guard let ends = diagonalEnds() else { break }
                let points = diagonalSamples(from: ends.lower, to: ends.upper).compactMap { value -> (Double, Double)? in
                    guard let x = xAxis.fraction(value), let y = yAxis.fraction(value) else { return nil }
                    return (x, y)
                }
                for (a, b) in zip(points, points.dropFirst()) { addSegment(a, b) }
            }
        }
        let corners: [(KeyPosition, ClosedRange<Double>, ClosedRange<Double>)] = [
            (.topLeft, 0...keyWidth, (1 - keyHeight)...1),
            (.topRight, (1 - keyWidth)...1, (1 - keyHeight)...1),
            (.bottomRight, (1 - keyWidth)...1, 0...keyHeight),
            (.bottomLeft, 0...keyWidth, 0...keyHeight),
        ]
        let margin = 0.03
        let crowding = corners.map { corner in
            samples.filter { sample in
                sample.0 >= corner.1.lowerBound - margin && sample.0 <= corner.1.upperBound + margin
                    && sample.1 >= corner.2.lowerBound - margin && sample.1 <= corner.2.upperBound + margin
            }.count
        }
        let best = crowding.indices.min { crowding[$0] < crowding[$1] } ?? 0
        return corners[best].0
    }

    func keyCommand(_ position: KeyPosition) -> String {
        let placement: String
        switch position {
        case .hidden: return "unset key"
        case .auto, .topLeft: placement = "inside top left"
        case .topRight: placement = "inside top right"
        case .bottomLeft: placement = "inside bottom left"
        case .bottomRight: placement = "inside bottom right"
        case .outsideRight: placement = "outside right top"
        case .below:
            // gnuplot's own "below" placement can cover the x label; reserve a bottom
            // margin for the entries (one per line) and pin the key to the bottom edge.
            let entries = series.count + referenceLines.count
            return "set bmargin \(Int(Double(entries) * 1.3) + 6)\n"
                + "set key at screen 0.5, 0.01 center bottom vertical Left reverse box lw 1 lc rgb '#a0a0a0' opaque "
                + "samplen 3 spacing 1.2 width 1"
        }
        return "set key \(placement) Left reverse box lw 1 lc rgb '#a0a0a0' opaque "
            + "samplen 3 spacing 1.2 width 1 height 0.6"
    }
}

/// `set title` with an optional smaller second line.
func titleCommand(title: String, subtitle: String?) -> String {
    var text = GnuplotText.string(title)
    if let subtitle, !subtitle.isEmpty {
        text += ".\"\\n\".'{/*0.8 '." + GnuplotText.string(subtitle) + ".'}'"
    }
    return "set title \(text) font ',15'"
}
