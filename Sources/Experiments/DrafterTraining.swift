// `speclab train-drafter`: drafters for a trained target — blockwise heads on
// the frozen trunk (per-head top-1 accuracy on validation text, the figure
// Stern, Medusa and Gloeckle report), or a separate draft model.

import Decoding
import Foundation
import LinAlg
import Transformer

public struct DrafterTrainingRequest: Sendable {
    public var target: URL
    public var kind: String
    public var heads: Int
    public var corpus: String
    public var output: URL
    public var settings: TrainingSettings
    public var threads: Int
    public var preset: String

    public init(target: URL, kind: String, heads: Int, corpus: String, output: URL, settings: TrainingSettings,
                threads: Int, preset: String) {
        self.target = target; self.kind = kind; self.heads = heads; self.corpus = corpus; self.output = output
        self.settings = settings; self.threads = threads; self.preset = preset
    }
}

public enum DrafterTraining {
    public static let kinds = ["draft-model", "blockwise"]

    public static func run(_ request: DrafterTrainingRequest) throws -> [String] {
        switch request.kind {
        case "draft-model":
            return try TrainingRun.run(TrainingRequest(preset: request.preset, corpus: request.corpus, output: request.output,
                                                       settings: request.settings, threads: request.threads, plot: true))
        case "blockwise":
            return try blockwise(request)
        default:
            throw ModelError("unknown --kind '\(request.kind)'; available: \(kinds.joined(separator: ", ")) (mtp-parallel and mtp-sequential are not built yet)")
        }
    }

    static func blockwise(_ request: DrafterTrainingRequest) throws -> [String] {
        guard request.heads >= 1 else { throw ModelError("--heads must be >= 1") }
        OpenBLAS.setThreads(request.threads)
        let network = try Checkpoint.load(from: request.target)
        let config = network.config
        try request.settings.validate(contextLength: config.contextLength)
        let corpus = try Corpus.load(request.corpus)
        let heads = BlockwiseHeads(heads: request.heads, width: config.width)
        heads.initialize(seed: request.settings.seed)
        let objective = BlockwiseObjective(network: network, heads: heads)
        let before = try headAccuracy(objective, config: config, corpus: corpus, settings: request.settings)
        let progress = ProgressReporter(label: "train blockwise heads", total: request.settings.steps)
        let report = try Trainer.train(objective: objective, config: config, corpus: corpus, settings: request.settings,
                                       onStep: { p in progress.update(p.step, detail: String(format: "loss %.3f", p.trainLoss)) })
        progress.finish()
        let after = try headAccuracy(objective, config: config, corpus: corpus, settings: request.settings)
        var metadata = ["target": request.target.path, "corpus": corpus.name, "steps": String(request.settings.steps),
                        "seed": String(request.settings.seed)]
        for (j, a) in after.enumerated() { metadata["head\(j + 2)_top1"] = String(format: "%.4f", a) }
        try heads.save(to: request.output, target: config, metadata: metadata)
        return [
            "\(request.heads) blockwise heads on \(config.name) (frozen), corpus \(corpus.name): \(request.settings.steps) steps in \(String(format: "%.1f", report.seconds)) s",
            "validation top-1 accuracy of head k (predicting x_{t+k}), before → after training:",
        ] + after.enumerated().map { j, a in String(format: "  head %d: %.3f → %.3f", j + 2, before[j], a) }
          + ["heads: \(request.output.path)/heads.safetensors"]
    }

    /// Mean top-1 accuracy of every head over the validation windows.
    public static func headAccuracy(_ objective: BlockwiseObjective, config: ModelConfig, corpus: Corpus,
                                    settings: TrainingSettings) throws -> [Double] {
        let length = settings.sequenceLength
        let windows = BatchSampler.evaluationWindows(data: corpus.validation, sequenceLength: length,
                                                     maxWindows: settings.evaluationWindows)
        guard !windows.isEmpty else { throw ModelError("too little validation text for windows of \(length) bytes") }
        let state = TrainingState<Float>(config: config, batch: 1, length: length)
        var sums = [Double](repeating: 0, count: objective.heads.heads)
        for window in windows {
            _ = objective.evaluate(inputs: window.prefix(length).map { Int32($0) },
                                   targets: window.dropFirst().prefix(length).map { Int32($0) }, state: state)
            for (j, a) in objective.lastAccuracy.enumerated() { sums[j] += a }
        }
        return sums.map { $0 / Double(windows.count) }
    }
}
