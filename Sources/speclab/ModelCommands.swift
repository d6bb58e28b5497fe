// speclab train / generate / bench-model: the reference transformer.

import ArgumentParser
import Experiments
import Foundation
import Transformer

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a reference-model preset on a corpus; writes a checkpoint, training.csv and a loss chart.",
        discussion: "Presets: \(ModelConfig.presets.map(\.name).joined(separator: ", ")). Corpora: gsl (the GSL headers, C), prose (fortunes), or a file/directory path.")

    @Option(help: "Model preset.") var preset = "tiny"
    @Option(help: "gsl, prose, or a path to a file or directory of text.") var corpus = "gsl"
    @Option(help: "Optimizer steps.") var steps = 1000
    @Option(help: "Output directory for the checkpoint.") var out: String
    @Option(help: "Random seed (initialisation and batches).") var seed: UInt64 = 1
    @Option(name: .customLong("batch-size"), help: "Windows per step.") var batchSize = 16
    @Option(name: .customLong("sequence-length"), help: "Bytes per window (default: min(128, the preset's context)).") var sequenceLength: Int?
    @Option(name: .customLong("learning-rate"), help: "Peak AdamW learning rate.") var learningRate: Float = 3e-3
    @Option(help: "BLAS threads (results are bitwise reproducible at a fixed count).") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Flag(name: .customLong("no-plot"), help: "Write the loss data and gnuplot script without running gnuplot.") var noPlot = false

    func run() throws {
        let config = try ModelConfig.preset(named: preset)
        let settings = TrainingSettings(steps: steps, batchSize: batchSize,
                                        sequenceLength: sequenceLength ?? min(128, config.contextLength),
                                        learningRate: learningRate, seed: seed)
        let lines = try TrainingRun.run(TrainingRequest(preset: preset, corpus: corpus, output: URL(fileURLWithPath: out),
                                                        settings: settings, threads: threads, plot: !noPlot))
        for line in lines { say(line) }
    }
}

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate bytes from a trained checkpoint.")

    @Option(help: "Checkpoint directory (from 'speclab train').") var model: String
    @Option(help: "The prompt text.") var prompt: String?
    @Option(name: .customLong("prompt-file"), help: "Read the prompt's raw bytes from a file (any bytes, not only UTF-8).") var promptFile: String?
    @Option(name: .customLong("max-tokens"), help: "Bytes to generate.") var maxTokens = 200
    @Option(help: "0 = greedy.") var temperature = 0.0
    @Option(name: .customLong("top-k"), help: "Keep the k most likely bytes (0 = off).") var topK = 0
    @Option(name: .customLong("top-p"), help: "Nucleus mass (1 = off).") var topP = 1.0
    @Option(help: "Sampling seed.") var seed: UInt64 = 1

    func run() throws {
        let settings = SamplingSettings(temperature: temperature, topK: topK, topP: topP)
        try settings.validate()
        let bytes: [UInt8]
        switch (prompt, promptFile) {
        case (let text?, nil): bytes = Array(text.utf8)
        case (nil, let path?):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ModelError("cannot read --prompt-file '\(path)'")
            }
            bytes = Array(data)
        default: throw ModelError("give --prompt TEXT or --prompt-file PATH (one of them)")
        }
        try TrainingRun.generate(model: URL(fileURLWithPath: model), prompt: bytes, maxTokens: maxTokens,
                                 settings: settings, seed: seed) { byte in
            FileHandle.standardOutput.write(Data([byte]))
        }
        FileHandle.standardOutput.write(Data("\n".utf8))
    }
}

struct BenchModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-model",
        abstract: "Decode time, T(k)/T(1) and training throughput of a reference-model preset against this machine's measured limits.")

    @Option(help: "Model preset (large: weights far beyond the L3 cache).") var preset = "large"
    @Option(help: "Threads for products and probes.") var threads = ProcessInfo.processInfo.activeProcessorCount

    func run() throws {
        for line in try ModelBenchmark.run(preset: preset, threads: threads) { say(line) }
    }
}
