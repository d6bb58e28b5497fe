// The training loop: AdamW with warm-up and cosine decay, global-norm
// clipping, periodic validation in bits per byte, NaN detection. Generic over
// what is trained: an objective says which parameter sets the optimizer
// updates (the trunk, extra heads, or both) and computes the losses and
// gradients of one batch — next-token prediction is one objective; MTP,
// Medusa and EAGLE heads bring their own.

import Foundation
import LinAlg

/// A set of parameters the optimizer updates, with their gradients.
public protocol TrainableParameters: AnyObject {
    var parameters: UnsafeMutableBufferPointer<Float> { get }
    var gradients: UnsafeMutableBufferPointer<Float> { get }
    /// Which elements get weight decay.
    var decayMask: WeightDecayMask { get }
}

extension Network: TrainableParameters where T == Float {
    public var decayMask: WeightDecayMask {
        .ranges(layout.entries.filter(\.decays).map { $0.offset..<($0.offset + $0.count) })
    }
}

/// What one training step computes.
public protocol TrainingObjective: AnyObject {
    /// Parameter sets to update (a frozen trunk is simply not listed).
    var trainables: [TrainableParameters] { get }
    /// Zeroes the gradients of `trainables`, runs forward and backward on one batch,
    /// returns named losses; "loss" is the total that training minimises.
    func step(inputs: [Int32], targets: [Int32], state: TrainingState<Float>) -> [String: Double]
    /// Mean next-token loss (nats per byte) of the trunk's LM head on windows (for bits per byte).
    func evaluate(inputs: [Int32], targets: [Int32], state: TrainingState<Float>) -> [String: Double]
}

/// Plain next-token prediction on the trunk.
public final class NextTokenObjective: TrainingObjective {
    public let network: Network<Float>
    public init(network: Network<Float>) { self.network = network }
    public var trainables: [TrainableParameters] { [network] }

    public func step(inputs: [Int32], targets: [Int32], state: TrainingState<Float>) -> [String: Double] {
        ["loss": Double(network.lossAndGradients(tokens: inputs, targets: targets, state: state))]
    }

    public func evaluate(inputs: [Int32], targets: [Int32], state: TrainingState<Float>) -> [String: Double] {
        network.forwardTrunk(tokens: inputs, state: state)
        return ["loss": Double(network.languageModelLoss(targets: targets, state: state, weight: 0))]
    }
}

public struct TrainingSettings: Codable, Sendable, Equatable {
    public var steps: Int
    public var batchSize: Int
    public var sequenceLength: Int
    public var learningRate: Float
    public var warmupSteps: Int
    public var weightDecay: Float
    public var gradientClip: Float
    public var seed: UInt64
    /// Validate every this many steps (and at the end).
    public var evaluationInterval: Int
    /// Validation windows per evaluation.
    public var evaluationWindows: Int

    public init(steps: Int, batchSize: Int = 16, sequenceLength: Int = 128, learningRate: Float = 3e-3,
                warmupSteps: Int? = nil, weightDecay: Float = 0.1, gradientClip: Float = 1, seed: UInt64 = 1,
                evaluationInterval: Int? = nil, evaluationWindows: Int = 64) {
        self.steps = steps
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.learningRate = learningRate
        self.warmupSteps = warmupSteps ?? max(1, min(100, steps / 10))
        self.weightDecay = weightDecay
        self.gradientClip = gradientClip
        self.seed = seed
        self.evaluationInterval = evaluationInterval ?? max(1, steps / 10)
        self.evaluationWindows = evaluationWindows
    }

    public func validate(contextLength: Int) throws {
        guard steps >= 1, steps <= 100_000_000 else { throw ModelError("--steps must be in 1...100000000, got \(steps)") }
        guard batchSize >= 1 else { throw ModelError("--batch-size must be >= 1, got \(batchSize)") }
        guard sequenceLength >= 2, sequenceLength <= contextLength else {
            throw ModelError("--sequence-length must be in 2...\(contextLength) (the model's context), got \(sequenceLength)")
        }
        guard learningRate > 0, learningRate.isFinite else { throw ModelError("--learning-rate must be > 0") }
    }

    /// Also refuses, before anything is allocated, a batch whose training activations would not fit in
    /// this machine's memory.
    public func validate(for config: ModelConfig) throws {
        try validate(contextLength: config.contextLength)
        try MachineMemory.check(Self.activationBytes(config: config, batch: batchSize, length: sequenceLength),
                                "--batch-size \(batchSize) × --sequence-length \(sequenceLength) needs",
                                "for \(config.name)'s training activations", advice: "; use a smaller batch or sequence")
    }

    /// Bytes the forward keeps for the backward pass (Float32), counted per token and layer: the block's
    /// inputs, normed inputs, q/k/v and attention output, the attention probabilities (one row of
    /// `length` per head), the feed-forward's gate, up and activated rows; plus the logits and their
    /// gradient. An estimate within a small factor, enough to refuse what cannot fit.
    static func activationBytes(config: ModelConfig, batch: Int, length: Int) -> Double {
        let tokens = Double(batch) * Double(length)
        let perLayer = Double(6 * config.width + 2 * config.kvWidth) + Double(config.heads * length) + Double(3 * config.ffnHidden)
        return 4 * tokens * (Double(config.layers) * perLayer + 2 * Double(config.vocab))
    }
}

/// One logged point of a run.
public struct TrainingPoint: Codable, Sendable, Equatable {
    public var step: Int
    public var trainLoss: Double
    /// Validation bits per byte (nil where not evaluated).
    public var validationBitsPerByte: Double?
    public var learningRate: Double
    public var gradientNorm: Double
    public var tokensPerSecond: Double
}

public struct TrainingReport: Sendable {
    public var points: [TrainingPoint]
    public var finalValidationBitsPerByte: Double
    public var seconds: Double
    public var tokens: Int
    /// Model FLOP/s: 6 · parameters · tokens / seconds (+ attention), Kaplan et al. 2020's estimate.
    public var flopsPerSecond: Double
}

public enum Trainer {
    /// Trains `objective` on `corpus`. `onStep` sees every step (for progress);
    /// `onEvaluation` every validation point (e.g. to checkpoint the last good
    /// weights), and `onCheckpoint` right after it the state a later run needs
    /// to continue from there (`resume`): the steps taken, the optimizers and
    /// the points so far. Resumed, the run replays the batch sampler to the
    /// step it stopped at and continues bit for bit as if it had not stopped
    /// (at the same thread count). A non-finite loss or gradient stops
    /// training with an error naming the step; parameters are left as they
    /// were before that step.
    public static func train(objective: TrainingObjective, config: ModelConfig, corpus: Corpus,
                             settings: TrainingSettings, resume: TrainingResume? = nil,
                             onStep: ((TrainingPoint) -> Void)? = nil,
                             onEvaluation: ((TrainingPoint) throws -> Void)? = nil,
                             onCheckpoint: ((TrainingResume) throws -> Void)? = nil) throws -> TrainingReport {
        try settings.validate(for: config)
        guard corpus.train.count > settings.sequenceLength + 1 else {
            throw ModelError("corpus '\(corpus.name)' has \(corpus.train.count) training bytes; at least \(settings.sequenceLength + 2) are needed")
        }
        let state = TrainingState<Float>(config: config, batch: settings.batchSize, length: settings.sequenceLength)
        var sampler = BatchSampler(data: corpus.train, sequenceLength: settings.sequenceLength,
                                   batchSize: settings.batchSize, seed: settings.seed)
        let schedule = LearningRateSchedule(peak: settings.learningRate, warmupSteps: min(settings.warmupSteps, settings.steps),
                                            totalSteps: settings.steps)
        var optimizers = objective.trainables.map {
            AdamW(parameterCount: $0.parameters.count,
                  config: AdamWConfig(learningRate: settings.learningRate, weightDecay: settings.weightDecay))
        }
        var points: [TrainingPoint] = []
        var firstStep = 0
        if let resume {
            try resume.check(against: objective, settings: settings)
            // The batches of the steps already taken, drawn and dropped: the sampler continues where it was.
            for _ in 0..<resume.step { _ = sampler.next() }
            optimizers = resume.optimizers
            points = resume.points
            firstStep = resume.step
        }
        let parameterCount = objective.trainables.reduce(0) { $0 + $1.parameters.count }
        let start = Date()
        var windowStart = Date(), windowTokens = 0
        var lastValidation = Double.nan
        for step in firstStep..<settings.steps {
            let batch = sampler.next()
            let losses = objective.step(inputs: batch.inputs, targets: batch.targets, state: state)
            let loss = losses["loss"] ?? .nan
            // Global gradient norm over every trained set, in Double.
            var squares = 0.0
            for set in objective.trainables { for g in set.gradients { squares += Double(g) * Double(g) } }
            let norm = squares.squareRoot()
            guard loss.isFinite, norm.isFinite else {
                throw ModelError("training diverged at step \(step): loss \(loss), gradient norm \(norm); the parameters of step \(step - 1) are kept (lower --learning-rate)")
            }
            if norm > Double(settings.gradientClip) {
                let scale = Float(Double(settings.gradientClip) / norm)
                for set in objective.trainables { for i in 0..<set.gradients.count { set.gradients[i] *= scale } }
            }
            let rate = schedule.rate(atStep: step + 1)
            for (index, set) in objective.trainables.enumerated() {
                optimizers[index].step(parameters: set.parameters, gradients: UnsafeBufferPointer(set.gradients),
                                       learningRate: rate, decayMask: set.decayMask)
            }
            windowTokens += settings.batchSize * settings.sequenceLength
            let elapsed = Date().timeIntervalSince(windowStart)
            var point = TrainingPoint(step: step + 1, trainLoss: loss, validationBitsPerByte: nil,
                                      learningRate: Double(rate), gradientNorm: norm,
                                      tokensPerSecond: Double(windowTokens) / max(elapsed, 1e-9))
            if elapsed > 2 { windowStart = Date(); windowTokens = 0 }
            let evaluates = (step + 1) % settings.evaluationInterval == 0 || step + 1 == settings.steps
            if evaluates {
                lastValidation = try validationBitsPerByte(objective: objective, config: config, corpus: corpus,
                                                           settings: settings)
                point.validationBitsPerByte = lastValidation
            }
            points.append(point)
            if evaluates {
                try onEvaluation?(point)
                try onCheckpoint?(TrainingResume(step: step + 1, optimizers: optimizers, points: points))
            }
            onStep?(point)
        }
        let seconds = Date().timeIntervalSince(start)
        let tokens = (settings.steps - firstStep) * settings.batchSize * settings.sequenceLength
        let attentionFlops = 6.0 * Double(config.layers * config.width * settings.sequenceLength)
        let flops = (6 * Double(parameterCount) + attentionFlops) * Double(tokens) / seconds
        return TrainingReport(points: points, finalValidationBitsPerByte: lastValidation, seconds: seconds,
                              tokens: tokens, flopsPerSecond: flops)
    }

    /// Mean next-token loss on the validation split in bits per byte
    /// (nats / ln 2), over the deterministic evaluation windows.
    public static func validationBitsPerByte(objective: TrainingObjective, config: ModelConfig, corpus: Corpus,
                                             settings: TrainingSettings) throws -> Double {
        let length = min(settings.sequenceLength, config.contextLength)
        let windows = BatchSampler.evaluationWindows(data: corpus.validation, sequenceLength: length,
                                                     maxWindows: settings.evaluationWindows)
        guard !windows.isEmpty else {
            throw ModelError("corpus '\(corpus.name)' has too little validation text for windows of \(length) bytes")
        }
        let batch = min(windows.count, settings.batchSize)
        let state = TrainingState<Float>(config: config, batch: batch, length: length)
        var total = 0.0, count = 0
        var index = 0
        while index + batch <= windows.count {
            var inputs: [Int32] = [], targets: [Int32] = []
            for window in windows[index..<(index + batch)] {
                inputs += window.prefix(length).map { Int32($0) }
                targets += window.dropFirst().prefix(length).map { Int32($0) }
            }
            total += (objective.evaluate(inputs: inputs, targets: targets, state: state)["loss"] ?? .nan) * Double(batch)
            count += batch
            index += batch
        }
        return total / Double(count) / log(2.0)
    }
}
