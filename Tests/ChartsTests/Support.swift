// Shared fixtures for the Charts tests: temporary directories, a data-file
// parser, and the sample charts.

import Foundation
import Testing
@testable import Charts

/// gnuplot is needed only by the render tests; they are skipped without it.
let gnuplotAvailable = GnuplotLocator().isAvailable
let gnuplotSkipMessage: Comment = "gnuplot not on PATH: install it with 'apt-get install gnuplot-nox'"

/// A fresh, empty directory under the system temporary directory.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("speclab-charts-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The numeric rows of each gnuplot data block (blocks are separated by two
/// blank lines; `#` lines are comments; `?` is a missing value -> nil).
func parseDataBlocks(_ text: String) -> [[[Double?]]] {
    text.components(separatedBy: "\n\n\n").map { block in
        block.split(separator: "\n")
            .filter { !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            .map { line in line.split(separator: "\t").map { $0 == "?" ? nil : Double($0) } }
    }
}

/// The clauses of the script's first `plot` command (one per line, joined by ", \").
func plotClauses(_ script: String) -> [String] {
    guard let start = script.range(of: "plot \\\n") else { return [] }
    var clauses: [String] = []
    for line in script[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.hasSuffix(", \\") {
            clauses.append(String(trimmed.dropLast(3)))
        } else {
            clauses.append(trimmed)
            break
        }
    }
    return clauses
}

/// Speedup over batch size for three draft lengths: the demo's line chart.
func speedupChart() -> Chart {
    let batchSizes: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256]
    func speedups(peak: Double, knee: Double) -> [Double] {
        batchSizes.map { batch in peak / (1 + pow(batch / knee, 1.3)) + 0.55 }
    }
    return Chart(
        title: "EAGLE_2 speedup over plain decoding",
        subtitle: "hardware H100-SXM, model llama-3-8B, context 4096 tokens",
        xLabel: "batch size (sequences)",
        yLabel: "speedup over next-token decoding (×)",
        series: [
            ChartSeries(title: "draft length γ = 2", x: batchSizes, y: speedups(peak: 1.4, knee: 48)),
            ChartSeries(title: "draft length γ = 4", x: batchSizes, y: speedups(peak: 2.0, knee: 24)),
            ChartSeries(title: "draft length γ = 8 (predicted)", x: batchSizes,
                        y: speedups(peak: 2.4, knee: 10), style: .lines, dashed: true),
        ],
        referenceLines: [.horizontal(y: 1, title: "speedup = 1")],
        logScaleX: true,
        logBase: 2)
}

/// Speedup over batch size x draft length: the demo's heat map (6 rows x 8 columns).
func speedupHeatMap() -> HeatMap {
    let batchSizes: [Double] = [1, 2, 4, 8, 16, 32, 64, 128]
    let draftLengths: [Double] = [1, 2, 3, 4, 6, 8]
    let values = draftLengths.map { gamma in
        batchSizes.map { batch in
            (1 + 0.35 * gamma) / (1 + pow(batch / (64 / gamma), 1.2)) + 0.4
        }
    }
    return HeatMap(
        title: "Speedup by batch size and draft length",
        subtitle: "analytic model, H100-SXM, llama-3-8B",
        xLabel: "batch size (sequences)",
        yLabel: "draft length γ (tokens)",
        colorLabel: "speedup (×)",
        xValues: batchSizes,
        yValues: draftLengths,
        values: values,
        valueFormat: "%.2f",
        palette: .diverging(center: 1))
}
