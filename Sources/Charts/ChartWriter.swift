// Writes a chart's data file and gnuplot script side by side.

import Files
import Foundation

/// Writes `NAME.dat` and `NAME.gp` for a chart. The script reads the data file
/// and writes the images by their names relative to its own directory, so
/// `cd dir && gnuplot NAME.gp` redraws them. Nothing here runs gnuplot.
public enum ChartWriter {
    /// The gnuplot variable that, when set (with `gnuplot -e`), is appended to
    /// every output file name. `ChartRenderer` uses it to have gnuplot write
    /// temporary files that it then renames into place.
    public static let outputSuffixVariable = "speclab_output_suffix"

    /// Writes the data file and script for one image, `outputFile` (`.png` or
    /// `.svg`), beside it and with its base name.
    /// - Throws: `ChartError.unsupportedFormat`, `ChartError.invalidChart`, or a file-system error.
    @discardableResult
    public static func write(_ chart: some ChartDocument, to outputFile: URL) throws -> ChartArtifacts {
        let format = try ChartFormat(outputFile: outputFile)
        return try write(chart, directory: outputFile.deletingLastPathComponent(),
                         baseName: outputFile.deletingPathExtension().lastPathComponent, formats: [format])
    }

    /// Writes `directory/baseName.dat` and one script, `directory/baseName.gp`,
    /// that draws every requested format (`baseName.png`, `baseName.svg`).
    @discardableResult
    public static func write(_ chart: some ChartDocument, directory: URL, baseName: String,
                             formats: [ChartFormat] = [.png, .svg]) throws -> ChartArtifacts {
        let files = try files(for: chart, baseName: baseName, formats: formats)
        let dataFile = directory.appendingPathComponent("\(baseName).dat")
        let script = directory.appendingPathComponent("\(baseName).gp")
        try AtomicFile.write(files.data, to: dataFile)
        try AtomicFile.write(files.script, to: script)
        return ChartArtifacts(script: script, dataFile: dataFile,
                              images: uniqued(formats).map { directory.appendingPathComponent("\(baseName).\($0.fileExtension)") })
    }

    /// The text of `baseName.gp` and `baseName.dat`, without touching the disk.
    public static func files(for chart: some ChartDocument, baseName: String,
                             formats: [ChartFormat]) throws -> (script: String, data: String) {
        let formats = uniqued(formats)
        guard !formats.isEmpty else { throw ChartError.invalidChart("no output format requested") }
        guard !baseName.isEmpty, !baseName.contains("/") else {
            throw ChartError.invalidChart("base name '\(baseName)' must be a non-empty file name")
        }
        let dataFileName = "\(baseName).dat"
        let source = try chart.gnuplotSource(dataFileName: dataFileName)
        let imageNames = formats.map { "\(baseName).\($0.fileExtension)" }

        var script = """
            # SpecLab chart: \(GnuplotText.comment(chart.title))
            # Data: \(GnuplotText.comment(dataFileName)). Redraw from this directory with:
            #   gnuplot \(GnuplotText.comment(baseName)).gp      (writes \(GnuplotText.comment(imageNames.joined(separator: ", "))))
            # speclab sets \(outputSuffixVariable) so that gnuplot writes temporary files
            # that are renamed into place afterwards: no half-written images.
            if (!exists("\(outputSuffixVariable)")) \(outputSuffixVariable) = ''

            \(source.settings)

            """
        for (index, format) in formats.enumerated() {
            script += """

                \(format.terminalCommand(size: chart.size))
                set output \(GnuplotText.fileName(imageNames[index])).\(outputSuffixVariable)
                \(index == 0 ? source.plotCommand : "replot")

                """
        }
        script += "unset output\n"
        return (script, source.data)
    }

    static func uniqued(_ formats: [ChartFormat]) -> [ChartFormat] {
        var seen: Set<ChartFormat> = []
        return formats.filter { seen.insert($0).inserted }
    }
}
