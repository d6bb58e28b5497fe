// Runs gnuplot on a script written by ChartWriter, so that images appear
// atomically: gnuplot writes temporary files that are renamed when it succeeds.

import Files
import Foundation

/// Finds the gnuplot executable. Injectable so tests can simulate a machine without it.
public struct GnuplotLocator: Sendable, Equatable {
    /// Colon-separated directories searched first, like `$PATH`.
    public var searchPath: String
    /// Executables tried when the search path has none.
    public var fallbackExecutables: [String]

    /// Paths tried after the search path.
    public static let defaultFallbacks = ["/usr/bin/gnuplot", "/usr/local/bin/gnuplot", "/opt/homebrew/bin/gnuplot"]

    /// - Parameters:
    ///   - searchPath: directories separated by ":"; nil means this process's `$PATH`.
    ///   - fallbackExecutables: full paths tried when the search path has no gnuplot.
    public init(searchPath: String? = nil, fallbackExecutables: [String] = GnuplotLocator.defaultFallbacks) {
        self.searchPath = searchPath ?? ProcessInfo.processInfo.environment["PATH"] ?? ""
        self.fallbackExecutables = fallbackExecutables
    }

    /// The gnuplot executable.
    /// - Throws: `ChartError.gnuplotMissing` when there is none.
    public func locate() throws -> URL {
        let candidates = searchPath.split(separator: ":").map { "\($0)/gnuplot" } + fallbackExecutables
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ChartError.gnuplotMissing
        }
        return URL(fileURLWithPath: path)
    }

    /// Whether gnuplot can be found.
    public var isAvailable: Bool { (try? locate()) != nil }
}

/// Renders charts by running gnuplot.
public enum ChartRenderer {
    /// Runs `gnuplot NAME.gp` in the script's directory and returns what gnuplot
    /// printed on stderr (warnings; empty when all went well).
    ///
    /// Scripts from `ChartWriter` honour `ChartWriter.outputSuffixVariable`:
    /// gnuplot writes `NAME.png.partial-UUID`, which is renamed to `NAME.png`
    /// only after gnuplot exits successfully, and deleted otherwise. (Other
    /// scripts run unchanged and write their outputs directly.)
    /// - Throws: `ChartError.gnuplotMissing`, `ChartError.gnuplotFailed(stderr)`.
    @discardableResult
    public static func render(script: URL, locator: GnuplotLocator = GnuplotLocator()) throws -> String {
        let gnuplot = try locator.locate()
        let directory = script.deletingLastPathComponent()
        let suffix = ".partial-\(UUID().uuidString)"

        let process = Process()
        process.executableURL = gnuplot
        process.arguments = ["-e", "\(ChartWriter.outputSuffixVariable)='\(suffix)'", script.lastPathComponent]
        process.currentDirectoryURL = directory
        let stderrPipe = Pipe()
        process.standardError = stderrPipe
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let stderrData = stderrPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let stderr = String(decoding: stderrData, as: UTF8.self)

        let partials = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(suffix) }
            .map { directory.appendingPathComponent($0) }
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            for partial in partials { try? FileManager.default.removeItem(at: partial) }
            let status = process.terminationReason == .exit
                ? "exit status \(process.terminationStatus)" : "signal \(process.terminationStatus)"
            throw ChartError.gnuplotFailed(stderr.isEmpty ? status : stderr)
        }
        for partial in partials {
            let finalName = String(partial.lastPathComponent.dropLast(suffix.count))
            try AtomicFile.replace(directory.appendingPathComponent(finalName), with: partial)
        }
        return stderr
    }

    /// Renders written artifacts and checks that every image exists and is not empty.
    /// - Throws: as `render(script:)`, and `ChartError.imageMissing`.
    @discardableResult
    public static func render(_ artifacts: ChartArtifacts, locator: GnuplotLocator = GnuplotLocator()) throws -> String {
        let warnings = try render(script: artifacts.script, locator: locator)
        for image in artifacts.images {
            let size = (try? FileManager.default.attributesOfItem(atPath: image.path)[.size] as? Int) ?? 0
            if size == 0 { throw ChartError.imageMissing(image.path) }
        }
        return warnings
    }

    /// Writes `directory/baseName.{dat,gp}` and draws one image per format
    /// (`baseName.png`, `baseName.svg`) with a single script.
    @discardableResult
    public static func render(_ chart: some ChartDocument, directory: URL, baseName: String,
                              formats: [ChartFormat] = [.png, .svg],
                              locator: GnuplotLocator = GnuplotLocator()) throws -> ChartArtifacts {
        let artifacts = try ChartWriter.write(chart, directory: directory, baseName: baseName, formats: formats)
        try render(artifacts, locator: locator)
        return artifacts
    }

    /// Writes the data and script beside `outputFile` and draws it (format from the extension).
    @discardableResult
    public static func render(_ chart: some ChartDocument, to outputFile: URL,
                              locator: GnuplotLocator = GnuplotLocator()) throws -> ChartArtifacts {
        let artifacts = try ChartWriter.write(chart, to: outputFile)
        try render(artifacts, locator: locator)
        return artifacts
    }
}
