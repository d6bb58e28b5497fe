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

    public init(preset: String, corpus: String, output: URL, settings: TrainingSettings, threads: Int, plot: Bool) {
        self.preset = preset
        self.corpus = corpus
        self.output = output
        self.settings = settings
        self.threads = threads
        self.plot = plot
    }
}

public enum TrainingRun {
    /// Trains a preset on a corpus; writes the checkpoint (at every evaluation:
    /// the last good weights survive a later divergence), training.csv and
    /// loss.png/svg into the output directory. Returns lines to print.
    public static func run(_ request: TrainingRequest) throws -> [String] {
        try ThreadCount.check(request.threads)
        let config = try ModelConfig.preset(named: request.preset)
        try request.settings.validate(for: config)
        // The output folder is checked before any work: a file in its place is refused now, not after training.
        try ArtifactDirectory.checkFolder(request.output, for: "checkpoint")
        let corpus = try Corpus.load(request.corpus)
        OpenBLAS.setThreads(request.threads)
        let network = try Network<Float>(config: config)
        network.initialize(seed: request.settings.seed)
        let objective = NextTokenObjective(network: network)
        let progress = ProgressReporter(label: "train \(config.name)", total: request.settings.steps)
        var lastLoss = 0.0
        let metadata: (TrainingPoint) -> [String: String] = { point in
            ["corpus": corpus.name, "steps": String(point.step), "seed": String(request.settings.seed),
             "validation_bits_per_byte": String(format: "%.4f", point.validationBitsPerByte ?? .nan),
             "date": ISO8601DateFormatter().string(from: Date()), "threads": String(request.threads)]
        }
        let report = try Trainer.train(
            objective: objective, config: config, corpus: corpus, settings: request.settings,
            onStep: { point in
                lastLoss = point.trainLoss
                progress.update(point.step, detail: String(format: "loss %.3f  %.0f tok/s", point.trainLoss, point.tokensPerSecond))
            },
            onEvaluation: { point in
                try Checkpoint.save(network, to: request.output, metadata: metadata(point))
            })
        progress.finish()
        var table = CSVTable(columns: ["step", "train_loss_nats", "train_bits_per_byte", "validation_bits_per_byte",
                                       "learning_rate", "gradient_norm", "tokens_per_second"])
        for p in report.points {
            table.rows.append([String(p.step), CSVTable.cell(p.trainLoss), CSVTable.cell(p.trainLoss / log(2.0)),
                               p.validationBitsPerByte.map(CSVTable.cell) ?? "", CSVTable.cell(p.learningRate),
                               CSVTable.cell(p.gradientNorm), CSVTable.cell(p.tokensPerSecond)])
        }
        try table.write(to: request.output.appendingPathComponent("training.csv"))
        let train = ChartSeries(title: "train (batch)", points: report.points.map {
            ChartPoint(x: Double($0.step), y: $0.trainLoss / log(2.0)) }, style: .lines)
        let validation = ChartSeries(title: "validation", points: report.points.compactMap { p in
            p.validationBitsPerByte.map { ChartPoint(x: Double(p.step), y: $0) } })
        let chart = Chart(title: "Training loss: \(config.name) on \(corpus.name)",
                          subtitle: "\(network.parameterCount) parameters, batch \(request.settings.batchSize) × \(request.settings.sequenceLength) bytes, seed \(request.settings.seed)",
                          xLabel: "step", yLabel: "loss (bits per byte)", series: [train, validation],
                          xRange: AxisRange(lower: 0), keyPosition: .topRight)
        var lines = [
            "\(config.name): \(network.parameterCount) parameters, corpus \(corpus.name) (\(corpus.train.count) train / \(corpus.validation.count) validation bytes)",
            String(format: "%d steps in %.1f s, %.0f tokens/s, %.2f GFLOP/s (6·N·tokens); last train loss %.3f nats",
                   request.settings.steps, report.seconds, Double(report.tokens) / report.seconds,
                   report.flopsPerSecond / 1e9, lastLoss),
            String(format: "validation: %.4f bits per byte", report.finalValidationBitsPerByte),
            "checkpoint: \(request.output.path)/{\(Checkpoint.weightsFile),\(Checkpoint.configFile)}, training.csv",
        ]
        if request.plot {
            do {
                try ChartRenderer.render(chart, directory: request.output, baseName: "loss")
                lines.append("loss curve: \(request.output.path)/loss.png")
            } catch let error as ChartError {
                try ChartWriter.write(chart, directory: request.output, baseName: "loss")
                lines.append("loss curve not drawn: \(error.description)")
            }
        } else {
            try ChartWriter.write(chart, directory: request.output, baseName: "loss")
        }
        return lines
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
