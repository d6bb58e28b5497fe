// speclab calibrate / model-shape: the analytic engine, calibrated to this machine and the reference model.

import Analytic
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
