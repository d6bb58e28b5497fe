// `speclab train` and `speclab generate`: orchestration around the reference
// model — corpus, initialisation, training with progress, checkpoints, the
// loss curve as CSV and chart.

import Charts
import Files
import Foundation
import LinAlg
import Transformer

public struct TrainingRequest: Sendable {
    public var preset: String
    public var corpus: String
    public var output: URL
    public var settings: TrainingSettings
    public var threads: Int
    public var plot: Bool
    /// Continue the run whose checkpoint is in `output` from its last evaluation.
    public var resume: Bool

    public init(preset: String, corpus: String, output: URL, settings: TrainingSettings, threads: Int, plot: Bool,
                resume: Bool = false) {
        self.preset = preset
        self.corpus = corpus
        self.output = output
        self.settings = settings
        self.threads = threads
        self.plot = plot
        self.resume = resume
    }
}

public enum TrainingRun {
    /// Trains a preset on a corpus; writes the checkpoint, the optimizer state and training.csv at every
    /// evaluation (the last good weights survive a later divergence, and an interrupted run continues
    /// from there with `resume`), then loss.png/svg into the output directory. Returns lines to print.
    public static func run(_ request: TrainingRequest) throws -> [String] {
        try ThreadCount.check(request.threads)
        let config = try ModelConfig.preset(named: request.preset)
        try request.settings.validate(for: config)
        // The output folder is checked before any work: a file in its place is refused now, not after training.
        try ArtifactDirectory.checkFolder(request.output, for: "checkpoint")
        let corpus = try Corpus.load(request.corpus)
        OpenBLAS.setThreads(request.threads)
        let (network, resume) = try start(request, config: config, corpus: corpus.name)
        let objective = NextTokenObjective(network: network)
        let progress = ProgressReporter(label: "train \(config.name)", total: request.settings.steps)
        var lastLoss = 0.0
        var savedId = ""
        let metadata: (TrainingPoint) -> [String: String] = { point in
            ["corpus": corpus.name, "steps": String(point.step), "seed": String(request.settings.seed),
             "validation_bits_per_byte": String(format: "%.4f", point.validationBitsPerByte ?? .nan),
             "date": ISO8601DateFormatter().string(from: Date()), "threads": String(request.threads)]
        }
        let report = try Trainer.train(
            objective: objective, config: config, corpus: corpus, settings: request.settings, resume: resume,
            onStep: { point in
                lastLoss = point.trainLoss
                progress.update(point.step, detail: String(format: "loss %.3f  %.0f tok/s", point.trainLoss, point.tokensPerSecond))
            },
            onEvaluation: { point in
                savedId = try Checkpoint.save(network, to: request.output, metadata: metadata(point))
            },
            // Also writes training.csv: the last step always evaluates, so its save holds the whole log.
            onCheckpoint: { state in
                try TrainingStateFile.save(state, settings: request.settings, corpus: corpus.name, threads: request.threads,
                                           contentId: savedId, to: request.output)
            })
        progress.finish()
        var lines = [
            "\(config.name): \(network.parameterCount) parameters, corpus \(corpus.name) (\(corpus.train.count) train / \(corpus.validation.count) validation bytes)",
            String(format: "%d steps in %.1f s%@, %.0f tokens/s, %.2f GFLOP/s (6·N·tokens); last train loss %.3f nats",
                   request.settings.steps - (resume?.step ?? 0), report.seconds,
                   resume.map { " (resumed at step \($0.step))" } ?? "", Double(report.tokens) / report.seconds,
                   report.flopsPerSecond / 1e9, lastLoss),
            String(format: "validation: %.4f bits per byte", report.finalValidationBitsPerByte),
            "checkpoint: \(request.output.path)/{\(Checkpoint.weightsFile),\(Checkpoint.configFile)}, training.csv",
        ]
        lines += try drawLoss(report.points, network: network, corpus: corpus.name, request: request)
        return lines
    }

    /// The summary of a run that already took all its steps in `request.output` (an earlier, interrupted
    /// process finished training there), its loss chart drawn; nil when the run there is not finished.
    public static func finished(_ request: TrainingRequest) throws -> [String]? {
        let config = try ModelConfig.preset(named: request.preset)
        guard FileManager.default.fileExists(atPath: request.output.appendingPathComponent(TrainingStateFile.optimizerFile).path),
              let network = try? Checkpoint.load(from: request.output), network.config == config else { return nil }
        let corpus = try Corpus.load(request.corpus)
        let state = try TrainingStateFile.load(from: request.output, settings: request.settings, corpus: corpus.name,
                                               threads: request.threads, contentId: Checkpoint.contentId(of: network))
        guard state.step == request.settings.steps, let last = state.points.last else { return nil }
        return [
            "\(config.name): \(network.parameterCount) parameters, corpus \(corpus.name) (\(corpus.train.count) train / \(corpus.validation.count) validation bytes)",
            String(format: "%d steps, finished by an earlier run that stopped before its results were written; last train loss %.3f nats",
                   state.step, last.trainLoss),
            String(format: "validation: %.4f bits per byte", last.validationBitsPerByte ?? .nan),
        ] + (try drawLoss(state.points, network: network, corpus: corpus.name, request: request))
    }

    /// loss.dat/.gp (and .png/.svg when plotting) in the output folder.
    static func drawLoss(_ points: [TrainingPoint], network: Network<Float>, corpus: String,
                         request: TrainingRequest) throws -> [String] {
        let train = ChartSeries(title: "train (batch)", points: points.map {
            ChartPoint(x: Double($0.step), y: $0.trainLoss / log(2.0)) }, style: .lines)
        let validation = ChartSeries(title: "validation", points: points.compactMap { p in
            p.validationBitsPerByte.map { ChartPoint(x: Double(p.step), y: $0) } })
        let chart = Chart(title: "Training loss: \(network.config.name) on \(corpus)",
                          subtitle: "\(network.parameterCount) parameters, batch \(request.settings.batchSize) × \(request.settings.sequenceLength) bytes, seed \(request.settings.seed)",
                          xLabel: "step", yLabel: "loss (bits per byte)", series: [train, validation],
                          xRange: AxisRange(lower: 0), keyPosition: .topRight)
        guard request.plot else {
            try ChartWriter.write(chart, directory: request.output, baseName: "loss")
            return []
        }
        do {
            try ChartRenderer.render(chart, directory: request.output, baseName: "loss")
            return ["loss curve: \(request.output.path)/loss.png"]
        } catch let error as ChartError {
            try ChartWriter.write(chart, directory: request.output, baseName: "loss")
            return ["loss curve not drawn: \(error.description)"]
        }
    }

    /// The network to train: fresh from the seed, or, resuming, the checkpoint in the output folder with
    /// the optimizer state and log saved beside it.
    static func start(_ request: TrainingRequest, config: ModelConfig, corpus: String) throws -> (Network<Float>, TrainingResume?) {
        guard request.resume else {
            let network = try Network<Float>(config: config)
            network.initialize(seed: request.settings.seed)
            return (network, nil)
        }
        guard FileManager.default.fileExists(atPath: request.output.appendingPathComponent(Checkpoint.configFile).path) else {
            throw ModelError("--resume: '\(request.output.path)' holds no checkpoint to continue; run without --resume")
        }
        let network = try Checkpoint.load(from: request.output)
        guard network.config == config else {
            throw ModelError("--resume: the checkpoint in '\(request.output.path)' is a \(network.config.name) model, not \(config.name); give its --preset")
        }
        let resume = try TrainingStateFile.load(from: request.output, settings: request.settings, corpus: corpus,
                                                threads: request.threads, contentId: Checkpoint.contentId(of: network))
        return (network, resume)
    }

    /// Generates from a checkpoint; streams bytes through `onByte`.
    public static func generate(model directory: URL, prompt: [UInt8], maxTokens: Int, settings: SamplingSettings,
                                seed: UInt64, echoPrompt: Bool = true, onByte: @escaping (UInt8) -> Void) throws {
        guard maxTokens >= 0 else { throw ModelError("--max-tokens must be >= 0") }
        let network = try Checkpoint.load(from: directory)
        try settings.validate()
        guard !prompt.isEmpty else { throw ModelError("the prompt is empty: give at least one byte") }
        guard prompt.count + maxTokens <= network.config.contextLength else {
            throw ModelError("prompt (\(prompt.count) bytes) + --max-tokens \(maxTokens) exceed the model's context of \(network.config.contextLength) bytes; shorten the prompt or ask for fewer tokens")
        }
        if echoPrompt { for byte in prompt { onByte(byte) } }
        let generator = Generator(model: InferenceModel(network: network))
        _ = try generator.generate(prompt: prompt, maxTokens: maxTokens, settings: settings, seed: seed,
                                   onToken: onByte)
    }
}
