// Predicted vs measured forward time T(k) of the reference model on this
// machine: the roofline step cost of the analytic engine (calibrated by
// `Calibration.calibrate`) against the median of timed forwards.

import Analytic
import Foundation
import LinAlg
import Transformer

public struct StepTimePoint: Sendable {
    public var tokens: Int
    public var measuredSeconds: Double
    public var predictedSeconds: Double
    public var bound: Bound
    public var batch = 1
    public var context = 0
    public var relativeError: Double { (predictedSeconds - measuredSeconds) / measuredSeconds }
}

public enum StepTimeValidation {
    /// Times forwards of `tokens` new tokens (one sequence, context `context`) of a
    /// randomly initialised preset and predicts each with the engine on `hardware`.
    /// `tree`: the k tokens form a binary token tree (node i's parent (i − 1) / 2, positions
    /// context + depth, ancestor mask), as a tree verify forward does.
    public static func run(preset: ModelConfig, hardware: Hardware, ks: [Int], context: Int, threads: Int,
                           repetitions: Int = 7, tree: Bool = false) throws -> [StepTimePoint] {
        InferenceModel.productThreads = threads
        OpenBLAS.setThreads(threads)
        let network = try Network<Float>(config: preset)
        network.initialize(seed: 1)
        let model = InferenceModel(network: network)
        let cache = KVCache(config: preset)
        let prompt = (0..<context).map { Int32(($0 * 37 + 11) % 256) }
        _ = model.prefill(prompt, cache: cache)
        var points: [StepTimePoint] = []
        for k in ks {
            let tokens = (0..<k).map { Int32(($0 * 53 + 7) % 256) }
            let step: [SequenceStep]
            if tree {
                let parents = (0..<k).map { $0 == 0 ? -1 : ($0 - 1) / 2 }
                var depths: [Int] = []
                for p in parents { depths.append(p < 0 ? 0 : depths[p] + 1) }
                step = [SequenceStep(tokens: tokens, positions: depths.map { Int32(context + $0) },
                                     mask: .ancestors(parents: parents), cache: cache)]
            } else {
                step = [SequenceStep(tokens: tokens, cache: cache)]
            }
            let measured = model.medianForwardSeconds(step, repetitions: repetitions)
            let predicted = prediction(preset: preset, hardware: hardware, tokens: k, context: context)
            points.append(StepTimePoint(tokens: k, measuredSeconds: measured,
                                        predictedSeconds: predicted.seconds, bound: predicted.bound))
        }
        return points
    }

    /// The engine's step cost of a forward of `preset` over `tokens` new tokens for `batch` sequences at
    /// `context` (float32 weights and cache).
    public static func prediction(preset: ModelConfig, hardware: Hardware, tokens: Int, batch: Int = 1,
                                  context: Int) -> StepCost {
        Roofline.stepCost(ForwardWorkload.target(Calibration.modelShape(preset)), tokensPerSequence: Double(tokens),
                          batch: Double(batch), contextTokens: Double(context),
                          context: ExecutionContext(hardware: hardware, weightType: .fp32, kvBytesPerValue: 4))
    }

    /// One forward of `tokens` new tokens for each of `batch` sequences (one ragged-free step each) whose
    /// caches hold `context` tokens, on an existing model: measured (median) and predicted.
    public static func point(model: InferenceModel, hardware: Hardware, tokens k: Int, batch: Int, context: Int,
                             repetitions: Int) -> StepTimePoint {
        let prompt = (0..<context).map { Int32(($0 * 37 + 11) % 256) }
        // Room for the context and the new tokens, beyond the trained context length if asked
        // (RoPE has no learned positions: the cost of a long cache can be timed on any model).
        let caches = (0..<batch).map { _ in KVCache(config: model.config, capacity: max(model.config.contextLength, context + k)) }
        if context > 0 {
            model.forward(caches.map { SequenceStep(tokens: prompt, cache: $0) })
            for cache in caches { cache.commit(context) }
        }
        let tokens = (0..<k).map { Int32(($0 * 53 + 7) % 256) }
        let measured = model.medianForwardSeconds(caches.map { SequenceStep(tokens: tokens, cache: $0) }, repetitions: repetitions)
        let predicted = prediction(preset: model.config, hardware: hardware, tokens: k, batch: batch, context: context)
        return StepTimePoint(tokens: k, measuredSeconds: measured, predictedSeconds: predicted.seconds, bound: predicted.bound,
                             batch: batch, context: context)
    }
}
