// speclab experiment list | run SLUG | run-suite SUITE; speclab bench.

import Analytic
import ArgumentParser
import Experiments
import Foundation

struct ExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment", abstract: "List and run the experiments under experiments/.",
        subcommands: [List.self, Run.self, RunSuite.self])

    struct Location: ParsableArguments {
        @Option(name: .customLong("experiments-dir"), help: "Where experiments live.") var experimentsDirectory = "experiments"
        @Option(name: .customLong("results-dir"), help: "Where results are written.") var resultsDirectory = "results"
        var paths: ExperimentPaths {
            ExperimentPaths(experimentsDirectory: URL(fileURLWithPath: experimentsDirectory),
                            resultsDirectory: URL(fileURLWithPath: resultsDirectory))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List experiments and their suites.")
        @OptionGroup var location: Location
        func run() throws {
            for slug in try location.paths.slugs() {
                let spec = try location.paths.spec(slug)
                say("\(slug)  [\((spec.suites ?? []).joined(separator: ","))]  \(spec.title)")
            }
        }
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run one experiment; writes results/SLUG/.")
        @Argument(help: "The experiment directory name, e.g. 001-speedup-vs-draft-length.") var slug: String
        @OptionGroup var location: Location
        @Flag(name: .customLong("no-plot"), help: "Write data and gnuplot scripts without running gnuplot.") var noPlot = false
        func run() throws {
            report(try ExperimentRunner.run(slug: slug, paths: location.paths, plot: !noPlot))
        }
    }

    struct RunSuite: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run-suite", abstract: "Run every experiment of a suite ('default', or 'all').")
        @Argument(help: "Suite name.") var suite = "default"
        @OptionGroup var location: Location
        @Flag(name: .customLong("no-plot"), help: "Write data and gnuplot scripts without running gnuplot.") var noPlot = false
        func run() throws {
            try ExperimentRunner.runSuite(suite, paths: location.paths, plot: !noPlot, report: report)
        }
    }
}

func report(_ outcome: ExperimentOutcome) {
    say("\(outcome.slug): wrote \(outcome.directory.path)/{\(outcome.files.joined(separator: ","))}")
    for note in outcome.notes { say("  \(note)") }
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmark the analytic engine: predictions per second and a 50,000-point sweep with CSV and chart.")
    @Option(parsing: .unconditional, help: "Predictions to time.") var predictions = 2_000_000
    @Option(name: .customLong("output-dir"), help: "Where the sweep's CSV and chart go.") var outputDirectory = "results/bench"

    func run() throws {
        try Check.atLeast(predictions, 1000, "--predictions")
        let report = try Benchmark.run(predictions: predictions, outputDirectory: URL(fileURLWithPath: outputDirectory))
        for line in report { say(line) }
    }
}
