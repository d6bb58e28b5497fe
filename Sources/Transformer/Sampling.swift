// Sampling warps (ALGORITHMS.md §1.6) and plain next-token generation.
// The warped distribution is exposed because verifiers need p and q after
// identical warping.

import Foundation
import LinAlg

public struct SamplingSettings: Sendable, Equatable, Codable {
    /// 0 = greedy (one-hot at the argmax, ties to the lowest index).
    public var temperature: Double
    /// Keep the k largest logits (0 = off).
    public var topK: Int
    /// Keep the shortest prefix of the sorted distribution with mass ≥ topP (1 = off).
    public var topP: Double

    public init(temperature: Double = 0, topK: Int = 0, topP: Double = 1) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
    }

    public static let greedy = SamplingSettings()

    public func validate() throws {
        guard temperature.isFinite, temperature >= 0 else {
            throw ModelError("--temperature must be >= 0, got \(temperature)")
        }
        guard topK >= 0 else { throw ModelError("--top-k must be >= 0 (0 = off), got \(topK)") }
        guard topP > 0, topP <= 1 else { throw ModelError("--top-p must be in (0, 1], got \(topP)") }
    }
}

public enum Sampling {
    /// Index of the largest logit, ties to the lowest index.
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for i in 1..<logits.count where logits[i] > logits[best] { best = i }
        return best
    }

    /// The warped distribution: T = 0 → one-hot argmax; else logits / T, then
    /// top-k, then top-p, then softmax (max subtracted). Written into `into`
    /// (resized to the vocabulary) so callers can reuse one buffer.
    public static func warp(_ logits: UnsafeBufferPointer<Float>, _ settings: SamplingSettings, into p: inout [Double]) {
        let v = logits.count
        if p.count != v { p = [Double](repeating: 0, count: v) }
        if settings.temperature == 0 {
            for i in 0..<v { p[i] = 0 }
            p[argmax(logits)] = 1
            return
        }
        let inverseT = 1 / settings.temperature
        for i in 0..<v { p[i] = Double(logits[i]) * inverseT }
        if settings.topK > 0, settings.topK < v {
            // k-th largest with ties broken by lowest index: keep indices of the k best.
            let order = (0..<v).sorted { p[$0] > p[$1] || (p[$0] == p[$1] && $0 < $1) }
            var keep = [Bool](repeating: false, count: v)
            for i in order.prefix(settings.topK) { keep[i] = true }
            for i in 0..<v where !keep[i] { p[i] = -.infinity }
        }
        softmax(&p)
        if settings.topP < 1 {
            let order = (0..<v).sorted { p[$0] > p[$1] || (p[$0] == p[$1] && $0 < $1) }
            var mass = 0.0
            var keep = [Bool](repeating: false, count: v)
            for i in order {
                keep[i] = true
                mass += p[i]
                if mass >= settings.topP { break }
            }
            for i in 0..<v where !keep[i] { p[i] = 0 }
            let total = p.reduce(0, +)
            for i in 0..<v { p[i] /= total }
        }
    }

    /// log softmax(logits) at temperature 1 (max subtracted), in Double: the model's own log-probabilities.
    public static func logProbabilities(_ logits: UnsafeBufferPointer<Float>) -> [Double] {
        var maximum = -Double.infinity
        for x in logits { maximum = max(maximum, Double(x)) }
        var total = 0.0
        for x in logits { total += Foundation.exp(Double(x) - maximum) }
        let shift = maximum + Foundation.log(total)
        return logits.map { Double($0) - shift }
    }

    public static func warp(_ logits: [Float], _ settings: SamplingSettings) -> [Double] {
        var p: [Double] = []
        logits.withUnsafeBufferPointer { warp($0, settings, into: &p) }
        return p
    }

    static func softmax(_ z: inout [Double]) {
        var maximum = -Double.infinity
        for value in z where value > maximum { maximum = value }
        var sum = 0.0
        for i in z.indices {
            z[i] = z[i] == -.infinity ? 0 : exp(z[i] - maximum)
            sum += z[i]
        }
        for i in z.indices { z[i] /= sum }
    }
}

/// Plain next-token decoding with the KV cache: the baseline every speedup is against.
public final class Generator {
    public let model: InferenceModel
    private var distribution: [Double] = []
    private var step: [SequenceStep] = []

    public init(model: InferenceModel) { self.model = model }

    /// Generates up to `maxTokens` bytes after `prompt` (the first from the prefill).
    /// `onToken` sees each byte as it is produced.
    public func generate(prompt: [UInt8], maxTokens: Int, settings: SamplingSettings, seed: UInt64,
                         cache: KVCache? = nil, onToken: ((UInt8) -> Void)? = nil) throws -> [UInt8] {
        try settings.validate()
        let config = model.config
        guard !prompt.isEmpty else { throw ModelError("the prompt is empty: give at least one byte") }
        guard prompt.count + maxTokens <= config.contextLength else {
            throw ModelError("prompt (\(prompt.count) bytes) + --max-tokens \(maxTokens) exceed the model's context of \(config.contextLength) bytes; shorten the prompt or ask for fewer tokens")
        }
        let kv = cache ?? KVCache(config: config)
        kv.truncate(to: 0)
        let rng = RandomSource(seed: seed)
        var output: [UInt8] = []
        output.reserveCapacity(maxTokens)
        guard maxTokens > 0 else { return output }
        model.forward([SequenceStep(tokens: prompt.map { Int32($0) }, cache: kv)])
        kv.commit(prompt.count)
        var next = pick(row: prompt.count - 1, settings: settings, rng: rng)
        output.append(next); onToken?(next)
        if step.isEmpty { step = [SequenceStep(tokens: [0], positions: [0], cache: kv)] }
        step[0].cache = kv
        while output.count < maxTokens {
            step[0].tokens[0] = Int32(next)
            step[0].positions[0] = Int32(kv.length)
            model.forward(step)
            kv.commit(1)
            next = pick(row: 0, settings: settings, rng: rng)
            output.append(next); onToken?(next)
        }
        return output
    }

    private func pick(row: Int, settings: SamplingSettings, rng: RandomSource) -> UInt8 {
        let logits = model.logitsRow(row)
        if settings.temperature == 0 { return UInt8(Sampling.argmax(logits)) }
        Sampling.warp(logits, settings, into: &distribution)
        return UInt8(rng.categorical(probabilities: distribution))
    }
}
