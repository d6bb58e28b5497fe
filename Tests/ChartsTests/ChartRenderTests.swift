// Running gnuplot: images appear complete or not at all, and a missing or
// failing gnuplot is reported as a ChartError.

import Files
import Foundation
import Testing
@testable import Charts

/// PNG files start with these 8 bytes (PNG specification, section 5.2).
let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

@Suite("Locating gnuplot")
struct GnuplotLocatorTests {
    @Test("gnuplotMissing when neither the search path nor the fallbacks have gnuplot")
    func gnuplotMissingWhenPathIsEmpty() throws {
        let emptyDirectory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: emptyDirectory) }
        let locator = GnuplotLocator(searchPath: emptyDirectory.path, fallbackExecutables: [])
        #expect(!locator.isAvailable)
        #expect(throws: ChartError.gnuplotMissing) { try locator.locate() }
        let artifacts = try ChartWriter.write(speedupChart(), to: emptyDirectory.appendingPathComponent("s.png"))
        #expect(throws: ChartError.gnuplotMissing) { try ChartRenderer.render(artifacts, locator: locator) }
        // The script and data are still there for a later `gnuplot s.gp`.
        #expect(FileManager.default.fileExists(atPath: artifacts.script.path))
    }

    @Test("the search path is tried before the fallbacks")
    func searchPathFindsExecutable() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let fake = directory.appendingPathComponent("gnuplot")
        try AtomicFile.write("#!/bin/sh\nexit 0\n", to: fake)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake.path)
        let locator = GnuplotLocator(searchPath: "/nonexistent:\(directory.path)", fallbackExecutables: [])
        #expect(try locator.locate().path == fake.path)
    }
}

@Suite("Rendering with gnuplot", .enabled(if: gnuplotAvailable, gnuplotSkipMessage))
struct ChartRenderTests {
    @Test("a line chart renders to a PNG with the PNG signature")
    func rendersPNG() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let artifacts = try ChartRenderer.render(speedupChart(), to: directory.appendingPathComponent("speedup.png"))
        let png = try Data(contentsOf: artifacts.images[0])
        #expect(png.count > 1000)
        #expect(Array(png.prefix(8)) == pngSignature)
    }

    @Test("an SVG renders, with escaped titles drawn literally")
    func rendersSVG() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var chart = speedupChart()
        chart.series[0].title = "p_accept^2 @ 'q'"
        let artifacts = try ChartRenderer.render(chart, to: directory.appendingPathComponent("speedup.svg"))
        let svg = try String(contentsOf: artifacts.images[0], encoding: .utf8)
        #expect(svg.contains("<svg"))
        #expect(svg.contains("EAGLE_2 speedup over plain decoding"))
        #expect(svg.contains("p_accept^2 @ 'q'"))
        #expect(svg.contains("batch size (sequences)"))
    }

    @Test("one script draws both formats and leaves no partial files")
    func rendersBothFormatsAtomically() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let artifacts = try ChartRenderer.render(speedupChart(), directory: directory, baseName: "speedup")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == ["speedup.dat", "speedup.gp", "speedup.png", "speedup.svg"])
        #expect(Array(try Data(contentsOf: artifacts.images[0]).prefix(8)) == pngSignature)
        #expect(try String(contentsOf: artifacts.images[1], encoding: .utf8).contains("<svg"))
    }

    @Test("`cd dir && gnuplot NAME.gp` redraws the images without speclab")
    func scriptRerendersStandalone() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let artifacts = try ChartWriter.write(speedupChart(), directory: directory, baseName: "again")
        let process = Process()
        process.executableURL = try GnuplotLocator().locate()
        process.arguments = ["again.gp"]
        process.currentDirectoryURL = directory
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        for image in artifacts.images {
            #expect(FileManager.default.fileExists(atPath: image.path))
        }
    }

    @Test("a failing script throws gnuplotFailed and keeps the previous image")
    func failingScriptKeepsPreviousImage() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let artifacts = try ChartRenderer.render(speedupChart(), to: directory.appendingPathComponent("s.png"))
        let before = try Data(contentsOf: artifacts.images[0])
        // Opens the output (so gnuplot has started a file), then fails.
        try AtomicFile.write("""
            if (!exists("speclab_output_suffix")) speclab_output_suffix = ''
            set terminal pngcairo
            set output 's.png'.speclab_output_suffix
            plot no_such_function(x)
            """, to: artifacts.script)
        #expect {
            try ChartRenderer.render(script: artifacts.script)
        } throws: { error in
            guard case ChartError.gnuplotFailed(let stderr) = error else { return false }
            return stderr.contains("no_such_function") && !(error as! ChartError).description.contains("\n")
        }
        #expect(try Data(contentsOf: artifacts.images[0]) == before)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == ["s.dat", "s.gp", "s.png"])
    }

    @Test("a heat map renders to PNG and SVG")
    func heatMapRenders() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var heatMap = speedupHeatMap()
        heatMap.values[2][3] = .nan  // a missing cell must not break rendering
        let artifacts = try ChartRenderer.render(heatMap, directory: directory, baseName: "grid")
        #expect(Array(try Data(contentsOf: artifacts.images[0]).prefix(8)) == pngSignature)
        let svg = try String(contentsOf: artifacts.images[1], encoding: .utf8)
        #expect(svg.contains("<svg"))
        #expect(svg.contains("draft length γ (tokens)"))
        #expect(svg.contains(">128<"))  // a tick label with a real x value
    }

    @Test("a chart with reference lines of every kind and log-log axes renders")
    func referenceLinesRender() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let measured: [Double] = [0.8, 1.9, 4.2, 7.5, 17, 30]
        let predicted: [Double] = [1, 2, 4, 8, 16, 32]
        let chart = Chart(title: "Predicted vs measured step time", xLabel: "predicted (ms)", yLabel: "measured (ms)",
                          series: [ChartSeries(title: "tiny preset", x: predicted, y: measured, style: .points)],
                          referenceLines: [.diagonal(title: "predicted = measured"),
                                           .horizontal(y: 10, title: "budget"),
                                           .vertical(x: 5, title: "knee")],
                          logScaleX: true, logScaleY: true, logBase: 10)
        let artifacts = try ChartRenderer.render(chart, directory: directory, baseName: "pvm", formats: [.svg])
        let svg = try String(contentsOf: artifacts.images[0], encoding: .utf8)
        #expect(svg.contains("predicted = measured") && svg.contains("knee") && svg.contains("budget"))
    }
}

/// Writes the demo charts when SPECLAB_CHARTS_DEMO_DIR is set, e.g.
/// `SPECLAB_CHARTS_DEMO_DIR=/tmp/charts-demo swift test --filter ChartsTests`.
@Suite("Demo charts", .enabled(if: gnuplotAvailable && ProcessInfo.processInfo.environment["SPECLAB_CHARTS_DEMO_DIR"] != nil,
                              "set SPECLAB_CHARTS_DEMO_DIR to write the demo charts"))
struct DemoCharts {
    @Test("render the demo line chart and heat map")
    func renderDemo() throws {
        let directory = URL(fileURLWithPath: ProcessInfo.processInfo.environment["SPECLAB_CHARTS_DEMO_DIR"]!)
        try ChartRenderer.render(speedupChart(), directory: directory, baseName: "speedup-vs-batch")
        try ChartRenderer.render(speedupHeatMap(), directory: directory, baseName: "speedup-heatmap")
    }
}
