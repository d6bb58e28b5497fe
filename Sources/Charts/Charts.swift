// Charts: turns SpecLab results into gnuplot charts.
//
// For every chart it writes, side by side and with one base name, a data file
// (`NAME.dat`), a gnuplot script (`NAME.gp`) that reads it by its relative
// name, and, when asked to render, the images (`NAME.png`, `NAME.svg`). The
// script stays editable: `cd dir && gnuplot NAME.gp` redraws the images.
// Every file is written atomically (temp file + rename), images included.
//
// Depends on Foundation and Files only (and on the `gnuplot` executable at render time);
// it must not import any other SpecLab module.
//
// Tour: `Chart` (lines/points + reference lines) and `HeatMap` describe what
// to draw; `ChartWriter` writes the data and script; `ChartRenderer` runs
// gnuplot (files written with the Files module's `AtomicFile`); `GnuplotText`
// quotes strings and numbers for gnuplot.

import Foundation

/// An image format gnuplot can draw, chosen by the output file's extension.
public enum ChartFormat: String, Sendable, CaseIterable, Codable {
    case png
    case svg

    /// The file extension, without the dot.
    public var fileExtension: String { rawValue }

    /// The format for a file extension such as `"png"` or `"SVG"`; nil if unsupported.
    public init?(fileExtension: String) {
        self.init(rawValue: fileExtension.lowercased())
    }

    /// The format of an output file, from its extension.
    /// - Throws: `ChartError.unsupportedFormat` when the extension is neither png nor svg.
    public init(outputFile: URL) throws {
        guard let format = ChartFormat(fileExtension: outputFile.pathExtension) else {
            throw ChartError.unsupportedFormat(outputFile.pathExtension)
        }
        self = format
    }

    /// The gnuplot `set terminal` command for this format at a pixel size.
    public func terminalCommand(size: ChartSize) -> String {
        switch self {
        case .png:
            return "set terminal pngcairo enhanced font \"sans,11\" size \(size.width),\(size.height)"
        case .svg:
            return "set terminal svg size \(size.width),\(size.height) dynamic enhanced "
                + "font \"sans,11\" background rgb 'white'"
        }
    }
}

/// Image size in pixels (the SVG uses the same numbers as its nominal size).
public struct ChartSize: Sendable, Equatable, Codable {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// 1000 x 650 px: readable on a laptop screen and in a README.
    public static let standard = ChartSize(width: 1000, height: 650)
}

/// The files one chart consists of. All URLs are absolute; the script refers
/// to the data file and the images by their names relative to its directory.
public struct ChartArtifacts: Sendable, Equatable {
    /// `NAME.gp`: the gnuplot script.
    public var script: URL
    /// `NAME.dat`: the data the script plots.
    public var dataFile: URL
    /// The images the script draws, one per requested format (`NAME.png`, `NAME.svg`).
    public var images: [URL]

    public init(script: URL, dataFile: URL, images: [URL]) {
        self.script = script
        self.dataFile = dataFile
        self.images = images
    }
}

/// What can go wrong while writing or rendering a chart. Every message is one line.
public enum ChartError: Error, Equatable, Sendable, LocalizedError, CustomStringConvertible {
    /// No `gnuplot` executable on the search path nor at the fallback locations.
    case gnuplotMissing
    /// gnuplot exited with a non-zero status; the payload is its full stderr.
    case gnuplotFailed(String)
    /// The output file's extension is not a supported `ChartFormat`.
    case unsupportedFormat(String)
    /// The chart description is inconsistent; the payload names the field and the problem.
    case invalidChart(String)
    /// gnuplot succeeded but did not write an image it should have (its path).
    case imageMissing(String)

    public var description: String {
        switch self {
        case .gnuplotMissing:
            return "gnuplot not found: install it with 'apt-get install gnuplot-nox' or pass --no-plot"
        case .gnuplotFailed(let stderr):
            let oneLine = stderr
                .split(whereSeparator: \.isNewline)
                .map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
                .filter { !$0.isEmpty && $0 != "^" }
                .joined(separator: " | ")
            return "gnuplot failed: " + (oneLine.isEmpty ? "no message on stderr" : oneLine)
        case .unsupportedFormat(let fileExtension):
            return "unsupported chart format '.\(fileExtension)': use .png or .svg"
        case .invalidChart(let problem):
            return "invalid chart: \(problem)"
        case .imageMissing(let path):
            return "gnuplot did not write \(path)"
        }
    }

    public var errorDescription: String? { description }
}

/// A chart ChartWriter can write: it supplies its data file and the gnuplot
/// commands that draw it; the writer adds the header, terminals and outputs.
/// `Chart` and `HeatMap` conform.
public protocol ChartDocument: Sendable {
    /// Image size in pixels.
    var size: ChartSize { get }
    /// The chart's title (used in the script's header comment).
    var title: String { get }
    /// The data file text and the commands that plot it, reading the data
    /// file by `dataFileName` (relative to the script's directory).
    /// - Throws: `ChartError.invalidChart` naming the inconsistent field.
    func gnuplotSource(dataFileName: String) throws -> GnuplotSource
}

/// The gnuplot text of one chart, before terminals and outputs are chosen.
public struct GnuplotSource: Sendable, Equatable {
    /// Contents of `NAME.dat`.
    public var data: String
    /// `set ...` commands that come before the plot command.
    public var settings: String
    /// The `plot ...` command (may span lines with `\` continuations).
    public var plotCommand: String

    public init(data: String, settings: String, plotCommand: String) {
        self.data = data
        self.settings = settings
        self.plotCommand = plotCommand
    }
}
