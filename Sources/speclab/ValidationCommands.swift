// speclab calibrate / model-shape / validate: the analytic engine, calibrated to this machine and the reference model,
// and checked against it.

import Analytic
import Experiments
import ArgumentParser
import Foundation
import Transformer
import Validation

struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure this machine and write a 'cpu-local' hardware preset (--hardware-file) for the analytic engine.")

    @Option(help: "Output JSON file.") var out: String
    @Option(help: "Threads for the probes (the count the reference model will decode with).") var threads = ProcessInfo.processInfo.activeProcessorCount

    func run() throws {
        let result = try Calibration.calibrate(threads: threads)
        try Calibration.write(result.hardware, to: URL(fileURLWithPath: out))
        for fact in result.facts { say(fact) }
        say("wrote \(out): use it with --hardware-file \(out)")
    }
}

struct ModelShapeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model-shape",
        abstract: "Write a reference-model preset or checkpoint as an analytic-engine model file (--model-file).")

    @Option(help: "Reference-model preset (tiny, small, large, draft).") var preset: String?
    @Option(help: "Checkpoint directory (its config.json).") var checkpoint: String?
    @Option(help: "Output JSON file.") var out: String

    func run() throws {
        let config: ModelConfig
        switch (preset, checkpoint) {
        case (let name?, nil): config = try ModelConfig.preset(named: name)
        case (nil, let directory?): config = try Checkpoint.info(at: URL(fileURLWithPath: directory)).model
        default: throw ModelError("give --preset NAME or --checkpoint DIR (one of them)")
        }
        let shape = Calibration.modelShape(config)
        try Calibration.write(shape, to: URL(fileURLWithPath: out))
        say("wrote \(out): \(shape.name), \(Int(shape.totalParameters)) parameters, float32")
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The analytic engine against the reference transformer on this machine: step time, τ and speedup vs batch, predicted and measured, with errors and charts.")

    @Flag(help: "The tiny preset and a few settings (under a minute) instead of the large preset (about half an hour).") var quick = false
    @Option(name: .customLong("hardware-file"), help: "Predict with this hardware JSON instead of calibrating in the run.") var hardwareFile: String?
    @Option(name: .customLong("bandwidth-scale"), parsing: .unconditional, help: "Multiply the hardware's bandwidth (a deliberately mis-calibrated engine).") var bandwidthScale = 1.0
    @Option(help: "Output directory (default: results/031-validation, or results/validation-quick with --quick).") var out: String?
    @Flag(name: .customLong("no-plot"), help: "Write the chart data and scripts but do not run gnuplot.") var noPlot = false

    func run() throws {
        let output = URL(fileURLWithPath: out ?? (quick ? "results/validation-quick" : "results/031-validation"))
        let result = try ValidateRun.run(ValidateRequest(quick: quick, hardware: hardwareFile.map { URL(fileURLWithPath: $0) },
                                                         bandwidthScale: bandwidthScale, output: output, plot: !noPlot))
        for row in result.rows {
            say(String(format: "%@  %@: predicted %.4g, measured %.4g (%+.1f%%)", row.group, row.setting, row.predicted,
                       row.measured, 100 * row.relativeError))
        }
        for note in result.notes { say(note) }
        say("wrote \(output.path)/: \(result.files.joined(separator: ", "))")
    }
}

struct Fit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit a serving stack's constants to your own measurements (GSL nonlinear least squares) and write a runtime file for --runtime-file.",
        discussion: """
        The CSV has the columns hardware,model,method,draft_length,tree_size,batch,context,tau and one
        measured column, tpot_ms (per sequence, decode phase) or speedup. Plain-decoding rows have method
        ntp and empty draft_length, tree_size and tau. Optional columns: devices, draft_model, tree_topk,
        draft_kv_budget, draft_devices, kernels. Example:
          hardware,model,method,draft_length,tree_size,batch,context,tau,tpot_ms
          h100-sxm,llama-3.1-8b,ntp,,,1,300,,7.07
          h100-sxm,llama-3.1-8b,eagle3,2,,1,300,2.36,4.32
          h100-sxm,llama-3.1-8b,eagle3,6,,1,300,3.46,4.20
        """)

    @Option(help: "Measurements CSV.") var measurements: String
    @Option(help: "The stack whose constants are fitted: \(RuntimeOverhead.presetNames.joined(separator: ", ")).") var stack: String
    @Option(help: "Write the fitted runtime profile (JSON) here.") var out: String
    @Option(help: "Constants to fit, comma-separated (default: those the rows can tell apart, at most rows − 1): \(StackConstant.allCases.map(\.rawValue).joined(separator: ", ")).") var free: String?
    @Option(help: "Name of the fitted profile (default: <stack>-fit).") var name: String?
    @Flag(help: "Replace --out if it exists.") var force = false

    func run() throws {
        let base = try RuntimeOverhead.preset(named: stack)
        let rows = try StackFitRun.readMeasurements(path: measurements)
        let constants = try free.map(StackConstant.parseList) ?? StackFitRun.defaultConstants(for: rows)
        if FileManager.default.fileExists(atPath: out), !force {
            throw AnalyticError("--out \(out) exists: choose another path, or add --force to replace it")
        }
        let result = try StackFitRun.run(rows: rows, stack: base, constants: constants, name: name ?? "\(stack)-fit",
                                         source: "speclab fit: \(rows.count) rows of \((measurements as NSString).lastPathComponent) on \(stack)")
        for line in StackFitRun.report(result, baseStack: stack) { say(line) }
        try Calibration.write(result.stack, to: URL(fileURLWithPath: out))
        say("wrote \(out): use it with --runtime-file \(out)")
    }
}
