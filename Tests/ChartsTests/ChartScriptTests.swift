// What ChartWriter puts in NAME.gp and NAME.dat (no gnuplot needed).

import Files
import Foundation
import Testing
@testable import Charts

@Suite("Chart scripts and data files")
struct ChartScriptTests {
    @Test("script carries title, subtitle, labels, log scale and terminal")
    func scriptContainsTitleLabelsAndLogScale() throws {
        let files = try ChartWriter.files(for: speedupChart(), baseName: "speedup", formats: [.png])
        let script = files.script
        #expect(script.contains("set title 'EAGLE\\_2 speedup over plain decoding'"))
        #expect(script.contains("hardware H100-SXM, model llama-3-8B"))
        #expect(script.contains("set xlabel 'batch size (sequences)'"))
        #expect(script.contains("set ylabel 'speedup over next-token decoding (×)'"))
        #expect(script.contains("set logscale x 2\n"))
        #expect(!script.contains("set logscale y"))
        // Plain-number ticks at every power of two the data covers.
        #expect(script.contains("set xtics ('1' 1, '2' 2, '4' 4, '8' 8, '16' 16, '32' 32, '64' 64, '128' 128, '256' 256)"))
        #expect(script.contains("set terminal pngcairo enhanced font \"sans,11\" size 1000,650"))
        #expect(script.contains("set output 'speedup.png'.speclab_output_suffix"))
        #expect(script.contains("set datafile missing '?'"))
        #expect(script.contains("set grid"))
        #expect(script.contains("box") && script.contains("opaque"))
    }

    @Test("one plot clause per series and per reference line")
    func onePlotClausePerSeriesAndReferenceLine() throws {
        var chart = speedupChart()
        chart.logScaleX = false
        chart.referenceLines = [
            .horizontal(y: 1, title: "speedup = 1"),
            .vertical(x: 64, title: "compute knee"),
            .diagonal(title: "predicted = measured"),
        ]
        let files = try ChartWriter.files(for: chart, baseName: "c", formats: [.svg])
        let clauses = plotClauses(files.script)
        #expect(clauses.count == chart.series.count + chart.referenceLines.count)
        #expect(clauses[0].hasPrefix("'c.dat' index 0 using 1:2 with linespoints ls 1 dt 1"))
        #expect(clauses[1].hasPrefix("'c.dat' index 1 using 1:2 with linespoints ls 2 dt 1"))
        #expect(clauses[2].hasPrefix("'c.dat' index 2 using 1:2 with lines ls 3 dt 2"))  // dashed
        #expect(clauses[3] == "1 with lines ls 101 title 'speedup = 1'")
        #expect(clauses[4] == "keyentry with lines ls 102 title 'compute knee'")
        #expect(files.script.contains("set arrow 2 from 64, graph 0 to 64, graph 1 nohead ls 102"))
        #expect(clauses[5] == "'c.dat' index 3 using 1:2 with lines ls 103 title 'predicted = measured'")
        // The diagonal block spans the union of the x and y data ranges.
        let diagonal = parseDataBlocks(files.data)[3]
        let allValues = chart.series.flatMap { $0.points.flatMap { [$0.x, $0.y] } }
        #expect(diagonal.first! == [allValues.min()!, allValues.min()!])
        #expect(diagonal.last! == [allValues.max()!, allValues.max()!])
    }

    @Test("data file round-trips every number exactly")
    func dataFileRoundTripsNumbers() throws {
        // Shortest round-trip printing, so equality is exact, not within a tolerance.
        let xs: [Double] = [0.1, 1e-7, 3, 123456.789, -2.5, 1e300]
        let ys: [Double] = [1.0 / 3.0, -0.0, 2e-308, 7, 0.30000000000000004, -1e-12]
        let chart = Chart(title: "round trip", xLabel: "x (1)", yLabel: "y (1)", series: [
            ChartSeries(title: "a", x: xs, y: ys),
            ChartSeries(title: "b", x: ys, y: xs, style: .points),
        ])
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let artifacts = try ChartWriter.write(chart, to: directory.appendingPathComponent("rt.png"))
        #expect(artifacts.dataFile.lastPathComponent == "rt.dat")
        let blocks = parseDataBlocks(try String(contentsOf: artifacts.dataFile, encoding: .utf8))
        #expect(blocks.count == 2)
        #expect(blocks[0] == zip(xs, ys).map { [$0, $1] })
        #expect(blocks[1] == zip(ys, xs).map { [$0, $1] })
        let text = try String(contentsOf: artifacts.dataFile, encoding: .utf8)
        #expect(text.contains("# series 0: a\n# x\ty\n"))
        #expect(text.contains("# series 1: b\n"))
    }

    @Test("NaN and infinities become the missing value '?', never 'nan'")
    func nonFiniteValuesBecomeMissing() throws {
        let chart = Chart(title: "gaps", xLabel: "x (1)", yLabel: "y (1)", series: [
            ChartSeries(title: "with gaps", x: [1, 2, 3, 4, .nan], y: [1, .nan, .infinity, -.infinity, 5]),
            ChartSeries(title: "empty", points: []),
        ])
        let files = try ChartWriter.files(for: chart, baseName: "gaps", formats: [.png])
        let lowered = files.data.lowercased()
        #expect(!lowered.contains("nan"))
        #expect(!lowered.contains("inf"))
        let blocks = parseDataBlocks(files.data)
        // A row whose x is not finite is dropped; a non-finite y is kept as missing.
        #expect(blocks[0] == [[1, 1], [2, nil], [3, nil], [4, nil]])
        // An empty series keeps its block, so index numbers stay aligned with the series.
        #expect(blocks[1] == [[nil, nil]])
        #expect(plotClauses(files.script).count == 2)
    }

    @Test("non-positive values on a log axis become missing")
    func logAxisDropsNonPositiveValues() throws {
        let chart = Chart(title: "log", xLabel: "x (1)", yLabel: "y (1)",
                          series: [ChartSeries(title: "s", x: [0, 1, 2, 4], y: [1, -1, 0, 8])],
                          logScaleX: true, logScaleY: true, logBase: 2)
        let files = try ChartWriter.files(for: chart, baseName: "log", formats: [.png])
        #expect(parseDataBlocks(files.data)[0] == [[1, nil], [2, nil], [4, 8]])
        #expect(files.script.contains("set logscale x 2\n"))
        #expect(files.script.contains("set logscale y 2\n"))
    }

    @Test("the script names its data file and images relative to its own directory")
    func scriptReferencesFilesRelatively() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let artifacts = try ChartWriter.write(speedupChart(), directory: directory, baseName: "speedup",
                                              formats: [.png, .svg])
        let script = try String(contentsOf: artifacts.script, encoding: .utf8)
        #expect(!script.contains(directory.path))
        #expect(script.contains("'speedup.dat' index 0"))
        #expect(script.contains("set output 'speedup.png'.speclab_output_suffix"))
        #expect(script.contains("set output 'speedup.svg'.speclab_output_suffix"))
        #expect(script.contains("set terminal svg size 1000,650 dynamic enhanced font \"sans,11\""))
        #expect(script.contains("\nreplot\n"))
        #expect(artifacts.images.map(\.lastPathComponent) == ["speedup.png", "speedup.svg"])
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == ["speedup.dat", "speedup.gp"])
    }

    @Test("long line-and-point series get markers on about every n-th point")
    func longSeriesThinMarkers() throws {
        let xs = (1...100).map(Double.init)
        let chart = Chart(title: "long", xLabel: "step (1)", yLabel: "loss (nats)",
                          series: [ChartSeries(title: "loss", x: xs, y: xs.map { 1 / $0 })])
        let clauses = plotClauses(try ChartWriter.files(for: chart, baseName: "l", formats: [.png]).script)
        #expect(clauses == ["'l.dat' index 0 using 1:2 with linespoints ls 1 dt 1 pi 5 title 'loss'"])
    }

    @Test("output format follows the file extension")
    func formatFromExtension() throws {
        #expect(try ChartFormat(outputFile: URL(fileURLWithPath: "/tmp/a.png")) == .png)
        #expect(try ChartFormat(outputFile: URL(fileURLWithPath: "/tmp/a.SVG")) == .svg)
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let artifacts = try ChartWriter.write(speedupChart(), to: directory.appendingPathComponent("only.svg"))
        let script = try String(contentsOf: artifacts.script, encoding: .utf8)
        #expect(script.contains("set terminal svg") && !script.contains("pngcairo"))
        #expect(artifacts.images == [directory.appendingPathComponent("only.svg")])
        #expect(throws: ChartError.unsupportedFormat("pdf")) {
            try ChartWriter.write(speedupChart(), to: URL(fileURLWithPath: "/tmp/a.pdf"))
        }
    }

    @Test("titles are escaped for gnuplot's enhanced text")
    func titlesAreEscaped() {
        #expect(GnuplotText.string("p_accept") == "'p\\_accept'")
        #expect(GnuplotText.string("it's") == "'it''s'")
        #expect(GnuplotText.string("a^2 @b {c} ~d &e \\f") == "'a\\^2 \\@b \\{c\\} \\~d \\&e \\\\f'")
        #expect(GnuplotText.string("two\nlines") == "'two lines'")
        #expect(GnuplotText.string("say \"hi\"") == "'say \"hi\"'")
        #expect(GnuplotText.fileName("my_run's.dat") == "'my_run''s.dat'")
    }

    @Test("numbers are written plainly; non-finite numbers as '?'")
    func numberFormatting() {
        #expect(GnuplotText.number(256) == "256")
        #expect(GnuplotText.number(-0.0) == "0")
        #expect(GnuplotText.number(0.1) == "0.1")
        #expect(GnuplotText.number(.nan) == "?")
        #expect(GnuplotText.number(-.infinity) == "?")
        #expect(GnuplotText.tickLabel(1_048_576) == "1048576")
        #expect(GnuplotText.tickLabel(0.5) == "0.5")
    }

    @Test("log axes get plain-number ticks at powers of the base")
    func logAxisTicks() throws {
        let base2 = try #require(LogAxis(dataMin: 1, dataMax: 256, base: 2, fixedLower: nil, fixedUpper: nil))
        #expect(base2.ticks == [1, 2, 4, 8, 16, 32, 64, 128, 256])
        #expect(base2.lower < 1 && base2.upper > 256)  // padded so markers clear the border

        let narrow = try #require(LogAxis(dataMin: 3, dataMax: 700, base: 10, fixedLower: nil, fixedUpper: nil))
        #expect(narrow.ticks == [5, 10, 20, 50, 100, 200, 500])

        let wide = try #require(LogAxis(dataMin: 1, dataMax: 1_048_576, base: 2, fixedLower: nil, fixedUpper: nil))
        #expect(wide.ticks.count <= 16)
        #expect(wide.ticks.first == 1 && wide.ticks.contains(1_048_576))

        let tiny = try #require(LogAxis(dataMin: 3, dataMax: 4, base: 2, fixedLower: nil, fixedUpper: nil))
        #expect(tiny.ticks.count >= 2)
    }

    @Test("invalid charts are rejected with the offending field named")
    func invalidChartsAreRejected() {
        var chart = speedupChart()
        chart.logBase = 1
        #expect(throws: ChartError.invalidChart("logBase must be 2 or 10, not 1")) {
            try ChartWriter.files(for: chart, baseName: "x", formats: [.png])
        }
        chart = speedupChart()
        chart.yRange = AxisRange(lower: 2, upper: 1)
        #expect(throws: ChartError.self) { try ChartWriter.files(for: chart, baseName: "x", formats: [.png]) }
        #expect(throws: ChartError.invalidChart("no output format requested")) {
            try ChartWriter.files(for: speedupChart(), baseName: "x", formats: [])
        }
    }

    @Test("auto key goes to the corner the curves leave free")
    func autoKeyAvoidsCurves() throws {
        let rising = Chart(title: "rising", xLabel: "x (1)", yLabel: "y (1)",
                           series: [ChartSeries(title: "up", x: [1, 2, 3, 4, 5], y: [1, 2, 3, 4, 5])])
        #expect(rising.resolvedKeyPosition(xAxis: rising.axis(isX: true), yAxis: rising.axis(isX: false)) == .topLeft)
        let falling = Chart(title: "falling", xLabel: "x (1)", yLabel: "y (1)",
                            series: [ChartSeries(title: "down", x: [1, 2, 3, 4, 5], y: [5, 4, 3, 2, 1])])
        #expect(falling.resolvedKeyPosition(xAxis: falling.axis(isX: true), yAxis: falling.axis(isX: false)) == .topRight)
        let script = try ChartWriter.files(for: falling, baseName: "f", formats: [.png]).script
        #expect(script.contains("set key inside top right"))
        var fixed = falling
        fixed.keyPosition = .below
        // Below: pinned to the bottom edge with a bottom margin reserved for its one entry, so it cannot cover the x label.
        let below = try ChartWriter.files(for: fixed, baseName: "f", formats: [.png]).script
        #expect(below.contains("set key at screen 0.5, 0.01 center bottom"))
        #expect(below.contains("set bmargin 7"))
    }

    @Test("ChartError messages are single lines; gnuplotMissing says how to fix it")
    func errorMessagesAreOneLine() {
        #expect(ChartError.gnuplotMissing.description
            == "gnuplot not found: install it with 'apt-get install gnuplot-nox' or pass --no-plot")
        #expect(ChartError.gnuplotMissing.localizedDescription == ChartError.gnuplotMissing.description)
        let failed = ChartError.gnuplotFailed("\nplot foo(x)\n     ^\n\"c.gp\" line 3: undefined function: foo\n\n")
        #expect(failed.description == "gnuplot failed: plot foo(x) | \"c.gp\" line 3: undefined function: foo")
        for error in [ChartError.gnuplotMissing, failed, .unsupportedFormat("pdf"), .invalidChart("x"), .imageMissing("/a.png")] {
            #expect(!error.description.contains("\n"))
        }
    }
}

@Suite("Heat map scripts and data files")
struct HeatMapScriptTests {
    @Test("cells sit at index positions with the real values as tick labels")
    func heatMapUsesIndexPositions() throws {
        let heatMap = speedupHeatMap()
        let files = try ChartWriter.files(for: heatMap, baseName: "grid", formats: [.png])
        #expect(files.script.contains("set xtics ('1' 0, '2' 1, '4' 2, '8' 3, '16' 4, '32' 5, '64' 6, '128' 7)"))
        #expect(files.script.contains("set ytics ('1' 0, '2' 1, '3' 2, '4' 3, '6' 4, '8' 5)"))
        #expect(files.script.contains("set xrange [-0.5:7.5]"))
        #expect(files.script.contains("set yrange [-0.5:5.5]"))
        #expect(files.script.contains("set cblabel 'speedup (×)'"))
        let clauses = plotClauses(files.script)
        #expect(clauses.count == 2)
        #expect(clauses[0].contains("using 1:2:(0.5):(0.5):3 with boxxyerror lc palette"))
        #expect(clauses[1].contains("sprintf('%.2f', $3)"))
        #expect(clauses[1].contains("with labels tc rgb variable"))

        // Data: one row per cell, xIndex yIndex value x y labelRGB; values round-trip.
        let rows = parseDataBlocks(files.data)[0]
        #expect(rows.count == 6 * 8)
        for row in rows {
            let xIndex = Int(row[0]!), yIndex = Int(row[1]!)
            #expect(row[2] == heatMap.values[yIndex][xIndex])
            #expect(row[3] == heatMap.xValues[xIndex])
            #expect(row[4] == heatMap.yValues[yIndex])
            #expect(row[5] == 0 || row[5] == 0xFFFFFF)
        }
    }

    @Test("a diverging palette is centred; missing cells are '?'; large grids print no values")
    func heatMapPaletteMissingAndLargeGrid() throws {
        var heatMap = HeatMap(title: "t", xLabel: "x (1)", yLabel: "y (1)", colorLabel: "v (1)",
                              xValues: [1, 2], yValues: [1, 2], values: [[0.5, 1.2], [.nan, 1.1]],
                              palette: .diverging(center: 1))
        let bounds = heatMap.colorScaleBounds()
        #expect(bounds == (0.5, 1.2))
        // White sits exactly at the centre: (1 - 0.5) / (1.2 - 0.5) of the way up.
        let stops = heatMap.palette.placedStops(bounds: bounds, logScale: false)
        let white = try #require(stops.first { $0.color == "#f7f7f7" })
        #expect(abs(white.position - 0.5 / 0.7) < 1e-12)  // a few ulps of rounding in one division
        #expect(stops.first?.position == 0 && stops.last?.position == 1)
        let files = try ChartWriter.files(for: heatMap, baseName: "h", formats: [.svg])
        #expect(files.script.contains("set cbrange [0.5:1.2]"))
        // All values above the centre: the scale starts at the centre, in white.
        heatMap.values = [[1.5, 2], [3, 4]]
        #expect(heatMap.colorScaleBounds() == (1, 4))
        #expect(heatMap.palette.placedStops(bounds: (1, 4), logScale: false).first! == (0, "#f7f7f7"))
        #expect(!files.data.lowercased().contains("nan"))
        #expect(parseDataBlocks(files.data)[0].contains { $0[0] == 0 && $0[1] == 1 && $0[2] == nil })

        heatMap.xValues = (1...16).map(Double.init)
        heatMap.yValues = [1]
        heatMap.values = [(1...16).map(Double.init)]
        #expect(!heatMap.printsValues)
        #expect(plotClauses(try ChartWriter.files(for: heatMap, baseName: "h", formats: [.png]).script).count == 1)
    }

    @Test("a heat map whose values do not match its axes is rejected")
    func heatMapShapeMismatch() {
        let heatMap = HeatMap(title: "t", xLabel: "x", yLabel: "y", colorLabel: "v",
                              xValues: [1, 2, 3], yValues: [1, 2], values: [[1, 2, 3], [4, 5]])
        #expect(throws: ChartError.invalidChart("values[1] has 2 entries but xValues has 3")) {
            try ChartWriter.files(for: heatMap, baseName: "h", formats: [.png])
        }
    }
}

@Suite("Atomic file writes")
struct AtomicFileTests {
    @Test("writing replaces the file and leaves no temporary files")
    func atomicWriteLeavesNoTempFiles() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let target = directory.appendingPathComponent("run.json")
        try AtomicFile.write("first", to: target)
        try AtomicFile.write("second, longer", to: target)
        #expect(try String(contentsOf: target, encoding: .utf8) == "second, longer")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["run.json"])
    }

    @Test("a failed write leaves the directory as it was")
    func failedWriteLeavesNoTempFiles() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let target = directory.appendingPathComponent("occupied")
        try FileManager.default.createDirectory(at: target.appendingPathComponent("child"),
                                                withIntermediateDirectories: true)
        #expect(throws: (any Error).self) { try AtomicFile.write(Data("x".utf8), to: target) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["occupied"])
    }

    @Test("missing parent directories are created")
    func createsParentDirectories() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let target = directory.appendingPathComponent("a/b/c.txt")
        try AtomicFile.write(Data([1, 2, 3]), to: target)
        #expect(try Data(contentsOf: target) == Data([1, 2, 3]))
    }
}
