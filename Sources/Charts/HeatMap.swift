// Heat maps: a value per (x, y) grid cell, e.g. speedup over batch size x
// draft length. Cells sit at index positions, so non-uniform axes (powers of
// two, categories) still give equal, discrete rectangles; the ticks carry the
// real values.

import Foundation

/// Colour scale of a heat map.
public enum HeatMapPalette: Sendable, Equatable {
    /// Perceptually uniform dark purple -> yellow (matplotlib's viridis); readable in grey and by the colour-blind.
    case viridis
    /// Orange below `center`, white at it, purple above (ColorBrewer PuOr),
    /// e.g. speedup with centre 1. Each side spans its own data extreme (a
    /// "two-slope" scale, like matplotlib's TwoSlopeNorm), so white is always
    /// exactly the centre and both sides use their full colour range.
    case diverging(center: Double)
    /// White (low) -> black (high).
    case grayscale

    /// Colour stops, low to high, before placement.
    var stops: [String] {
        switch self {
        case .viridis:
            return ["#440154", "#472c7a", "#3b518b", "#2c718e", "#21908d",
                    "#27ad81", "#5cc863", "#aadc32", "#fde725"]
        case .diverging:
            return ["#b35806", "#f1a340", "#fee0b6", "#f7f7f7", "#d8daeb", "#998ec3", "#542788"]
        case .grayscale:
            return ["#ffffff", "#000000"]
        }
    }
}

extension HeatMapPalette {
    /// The stops at their positions (0 = bottom, 1 = top of the colour range)
    /// for a colour scale over `bounds`: evenly spaced, except that a diverging
    /// palette puts its middle (white) stop at the centre's position.
    func placedStops(bounds: (lower: Double, upper: Double), logScale: Bool) -> [(position: Double, color: String)] {
        let colors = stops
        let even = colors.enumerated().map { (Double($0.offset) / Double(colors.count - 1), $0.element) }
        guard case .diverging(let center) = self, center.isFinite, !logScale || center > 0 else { return even }
        let scale: (Double) -> Double = logScale ? { log($0) } : { $0 }
        let span = scale(bounds.upper) - scale(bounds.lower)
        guard span > 0 else { return even }
        let middle = min(max((scale(center) - scale(bounds.lower)) / span, 0), 1)
        let half = colors.count / 2  // index of the white stop
        var placed: [(position: Double, color: String)] = []
        if middle > 0 {
            for index in 0..<half { placed.append((middle * Double(index) / Double(half), colors[index])) }
        }
        placed.append((middle, colors[half]))
        if middle < 1 {
            for index in (half + 1)..<colors.count {
                placed.append((middle + (1 - middle) * Double(index - half) / Double(colors.count - 1 - half), colors[index]))
            }
        }
        return placed
    }
}

/// A grid of values drawn as coloured rectangles, one per (x, y) pair.
public struct HeatMap: ChartDocument {
    public var title: String
    public var subtitle: String?
    public var xLabel: String
    public var yLabel: String
    /// Label of the colour bar, with units, e.g. "speedup (x)".
    public var colorLabel: String
    /// Column coordinates, left to right (the tick labels unless `xTickLabels` is set).
    public var xValues: [Double]
    /// Row coordinates, bottom to top.
    public var yValues: [Double]
    /// `values[yIndex][xIndex]`; NaN or infinite cells are drawn hatched grey (missing).
    public var values: [[Double]]
    /// Tick labels replacing the x values, e.g. method names; one per column.
    public var xTickLabels: [String]?
    /// Tick labels replacing the y values; one per row.
    public var yTickLabels: [String]?
    /// Print each cell's value inside it (only when the grid is at most 15 x 15).
    public var showValues: Bool
    /// gnuplot `sprintf` format of the printed values, e.g. "%.2f".
    public var valueFormat: String
    public var palette: HeatMapPalette
    /// Logarithmic colour scale (non-positive cells become missing).
    public var logScaleColor: Bool
    /// Fixed colour-scale bounds; nil bounds come from the data (and the palette's centre).
    public var colorRange: AxisRange?
    public var size: ChartSize

    /// Largest grid, per side, whose cells get printed values.
    public static let maxLabelledCells = 15

    public init(
        title: String,
        subtitle: String? = nil,
        xLabel: String,
        yLabel: String,
        colorLabel: String,
        xValues: [Double],
        yValues: [Double],
        values: [[Double]],
        xTickLabels: [String]? = nil,
        yTickLabels: [String]? = nil,
        showValues: Bool = true,
        valueFormat: String = "%.3g",
        palette: HeatMapPalette = .viridis,
        logScaleColor: Bool = false,
        colorRange: AxisRange? = nil,
        size: ChartSize = .standard
    ) {
        self.title = title
        self.subtitle = subtitle
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.colorLabel = colorLabel
        self.xValues = xValues
        self.yValues = yValues
        self.values = values
        self.xTickLabels = xTickLabels
        self.yTickLabels = yTickLabels
        self.showValues = showValues
        self.valueFormat = valueFormat
        self.palette = palette
        self.logScaleColor = logScaleColor
        self.colorRange = colorRange
        self.size = size
    }

    /// True when each cell's value is printed: `showValues` and a grid of at most 15 x 15.
    public var printsValues: Bool {
        showValues && xValues.count <= HeatMap.maxLabelledCells && yValues.count <= HeatMap.maxLabelledCells
    }

    public func gnuplotSource(dataFileName: String) throws -> GnuplotSource {
        try validate()
        let file = GnuplotText.fileName(dataFileName)
        let colorBounds = colorScaleBounds()
        let stops = palette.placedStops(bounds: colorBounds, logScale: logScaleColor)

        // Data: one line per cell, rows separated by a blank line (gnuplot grid format).
        var rows: [String] = []
        for (yIndex, row) in values.enumerated() {
            var lines: [String] = []
            for (xIndex, value) in row.enumerated() {
                let usable = value.isFinite && (!logScaleColor || value > 0)
                let cell = usable ? GnuplotText.number(value) : "?"
                let labelColor = usable ? labelRGB(for: value, bounds: colorBounds, stops: stops) : 0
                lines.append([String(xIndex), String(yIndex), cell,
                              GnuplotText.number(xValues[xIndex]), GnuplotText.number(yValues[yIndex]),
                              String(labelColor)].joined(separator: "\t"))
            }
            rows.append(lines.joined(separator: "\n") + "\n")
        }
        let data = """
            # SpecLab heat map data: \(GnuplotText.comment(title))
            # x: \(GnuplotText.comment(xLabel)); y: \(GnuplotText.comment(yLabel)); value: \(GnuplotText.comment(colorLabel))
            # One line per cell, one block per row (blank line between rows). '?' marks a missing value.
            # labelRGB is the colour (0xRRGGBB) that keeps the printed value readable on the cell.
            # xIndex\tyIndex\tvalue\tx\ty\tlabelRGB

            """ + rows.joined(separator: "\n")

        var settings = [
            "set encoding utf8",
            "set datafile missing '?'",
            titleCommand(title: title, subtitle: subtitle),
            "set xlabel \(GnuplotText.string(xLabel)) font ',12'",
            "set ylabel \(GnuplotText.string(yLabel)) font ',12'",
            "set cblabel \(GnuplotText.string(colorLabel)) font ',12'",
            "set border lw 1.2 lc rgb '#404040'",
            "unset grid",
            "unset key",
            "set tics nomirror out scale 0.7",
            "set xrange [-0.5:\(GnuplotText.number(Double(xValues.count) - 0.5))]",
            "set yrange [-0.5:\(GnuplotText.number(Double(yValues.count) - 0.5))]",
            "set xtics " + GnuplotText.ticList(ticks(labels: xTickLabels, values: xValues)),
            "set ytics " + GnuplotText.ticList(ticks(labels: yTickLabels, values: yValues)),
            "set palette defined (" + stops
                .map { "\(GnuplotText.rounded($0.position)) '\($0.color)'" }.joined(separator: ", ") + ")",
            "set cbrange [\(GnuplotText.number(colorBounds.lower)):\(GnuplotText.number(colorBounds.upper))]",
            "set cbtics nomirror",
            // Missing cells show this hatched background through the gap.
            "set object 1 rectangle from graph 0, graph 0 to graph 1, graph 1 behind "
                + "fillcolor rgb '#999999' fillstyle pattern 4 noborder",
            // White borders make every cell a separate rectangle.
            "set style fill solid 1.0 border lc rgb 'white'",
        ]
        if logScaleColor { settings.insert("set logscale cb 10", at: settings.count - 2) }

        var clauses = ["\(file) using 1:2:(0.5):(0.5):3 with boxxyerror lc palette lw 1.5 notitle"]
        if printsValues {
            let fontSize = max(xValues.count, yValues.count) <= 10 ? 10 : 8
            let format = GnuplotText.string(valueFormat, enhanced: false)
            clauses.append("\(file) using 1:2:(sprintf(\(format), $3)):6 with labels "
                + "tc rgb variable font ',\(fontSize)' notitle")
        }
        let plot = "plot \\\n    " + clauses.joined(separator: ", \\\n    ")
        return GnuplotSource(data: data, settings: settings.joined(separator: "\n"), plotCommand: plot)
    }

    func validate() throws {
        if xValues.isEmpty || yValues.isEmpty {
            throw ChartError.invalidChart("heat map '\(title)' needs at least one x value and one y value")
        }
        if values.count != yValues.count {
            throw ChartError.invalidChart("values has \(values.count) rows but yValues has \(yValues.count)")
        }
        if let row = values.firstIndex(where: { $0.count != xValues.count }) {
            throw ChartError.invalidChart(
                "values[\(row)] has \(values[row].count) entries but xValues has \(xValues.count)")
        }
        if let labels = xTickLabels, labels.count != xValues.count {
            throw ChartError.invalidChart("xTickLabels has \(labels.count) labels for \(xValues.count) columns")
        }
        if let labels = yTickLabels, labels.count != yValues.count {
            throw ChartError.invalidChart("yTickLabels has \(labels.count) labels for \(yValues.count) rows")
        }
        if size.width <= 0 || size.height <= 0 {
            throw ChartError.invalidChart("size must be positive, not \(size.width)x\(size.height)")
        }
        if let lower = colorRange?.lower, let upper = colorRange?.upper, !(lower < upper) {
            throw ChartError.invalidChart("colorRange lower bound \(lower) must be below upper bound \(upper)")
        }
    }

    /// At most 16 labelled ticks per axis (every n-th cell when there are more).
    func ticks(labels: [String]?, values: [Double]) -> [(label: String, position: Double)] {
        let texts = labels ?? values.map(GnuplotText.tickLabel)
        let stride = max(1, Int((Double(texts.count) / 16).rounded(.up)))
        return texts.enumerated().filter { $0.offset % stride == 0 }.map { ($0.element, Double($0.offset)) }
    }

    /// The colour-scale range: the data range (stretched to include a
    /// diverging palette's centre), overridden by `colorRange`.
    func colorScaleBounds() -> (lower: Double, upper: Double) {
        let finite = values.joined().filter { $0.isFinite && (!logScaleColor || $0 > 0) }
        var lower = finite.min() ?? (logScaleColor ? 1 : 0)
        var upper = finite.max() ?? (logScaleColor ? 10 : 1)
        if case .diverging(let center) = palette, center.isFinite, !logScaleColor || center > 0 {
            (lower, upper) = (min(lower, center), max(upper, center))
        }
        if !(lower < upper) {
            (lower, upper) = logScaleColor ? (lower / 2, upper * 2) : (lower - 0.5, upper + 0.5)
        }
        return (colorRange?.lower ?? lower, colorRange?.upper ?? upper)
    }

    /// Black on light cells, white on dark ones, from the cell's palette colour.
    func labelRGB(for value: Double, bounds: (lower: Double, upper: Double),
                  stops: [(position: Double, color: String)]) -> Int {
        let fraction = logScaleColor
            ? log(value / bounds.lower) / log(bounds.upper / bounds.lower)
            : (value - bounds.lower) / (bounds.upper - bounds.lower)
        return RGBColor.interpolate(stops, at: fraction).luma > 0.5 ? 0x000000 : 0xFFFFFF
    }
}
