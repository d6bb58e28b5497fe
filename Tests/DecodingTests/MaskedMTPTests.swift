import Foundation
import LinAlg
import Testing
@testable import Decoding
@testable import Transformer

/// Mask tokens, a gated adapter with B ≠ 0 (so it changes mask rows) and a sampler, all perturbed.
func maskedWeights(_ config: ModelConfig, masks: Int, rank: Int, spread: Double, seed: UInt64) -> MaskedMTP {
    let weights = MaskedMTP(config: config, masks: masks, rank: rank)
    weights.initialize(seed: seed)
    perturb(weights.adapter.parameters.parameters, spread: spread, seed: seed + 1)
    perturb(weights.sampler.parameters.parameters, spread: spread, seed: seed + 2)
    return weights
}

@Suite("Masked-input MTP with gated LoRA")
struct MaskedMTPTests {
    @Test("with the adapter and mask rows present, the real rows' logits are bit-identical to the plain model's")
    func realRowsUnchanged() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 90)
        let plainCache = KVCache(config: model.config)
        let tokens = Array(prompt.prefix(8))
        model.forward([SequenceStep(tokens: tokens, cache: plainCache)])
        let plain = Array(UnsafeBufferPointer(start: model.logits, count: tokens.count * model.config.vocab))
        let weights = maskedWeights(model.config, masks: 3, rank: 4, spread: 0.2, seed: 91)
        model.adapter = weights.adapter
        defer { model.adapter = nil }
        // The prompt as a chain, mask blocks after tokens 2 and 7 (as side rows of the same forward).
        let v = Int32(model.config.vocab)
        let tree = TokenTree.chain(root: tokens[0], drafts: Array(tokens.dropFirst()))
        let side = SideRows(tokens: [v, v + 1, v + 2, v, v + 1, v + 2], parents: [2, 8, 9, 7, 11, 12])
        let cache = KVCache(config: model.config)
        model.forward([tree.verifyStep(side: side, cache: cache)])
        let withMasks = Array(UnsafeBufferPointer(start: model.logits, count: tokens.count * model.config.vocab))
        #expect(withMasks == plain)
        // The adapter does act on the mask rows: the same rows without it differ.
        let maskLogits = Array(UnsafeBufferPointer(start: model.logits + 8 * model.config.vocab, count: 6 * model.config.vocab))
        let gated = weights.adapter.parameters.parameters
        let saved = Array(gated)
        for i in 0..<gated.count where !weights.adapter.parameters.layout.entries.contains(where: {
            $0.name == "mask_embedding" && ($0.offset..<($0.offset + $0.count)).contains(i)
        }) { gated[i] = 0 }
        model.forward([tree.verifyStep(side: side, cache: KVCache(config: model.config))])
        let unadapted = Array(UnsafeBufferPointer(start: model.logits + 8 * model.config.vocab, count: 6 * model.config.vocab))
        for i in 0..<gated.count { gated[i] = saved[i] }
        #expect(unadapted != maskLogits)
    }

    @Test("training: the mask layout's attention (real rows never see masks; masks see their anchor's prefix and block)")
    func layout() {
        let k = 2, length = 3, w = length * (k + 1)
        let m = MaskedLayout.visible(length: length, masks: k)
        func sees(_ row: Int) -> [Int] { (0..<w).filter { m[row * w + $0] } }
        #expect(sees(2 * (k + 1)) == [0, 3, 6])              // real x_2: real rows only
        #expect(sees(1 * (k + 1) + 2) == [0, 3, 4, 5])       // mask m_2 after x_1: x_0, x_1, m_1, m_2
        for row in 0..<w { for s in (row + 1)..<max(row + 1, w) { #expect(!m[row * w + s]) } }
    }

    @Test("a mask block at decode time (side rows) computes what the training layout computes for it")
    func inferenceMatchesTraining() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 99)
        let weights = maskedWeights(model.config, masks: 3, rank: 4, spread: 0.2, seed: 100)
        let length = 10, k = 3, d = model.config.width, v = Int32(model.config.vocab)
        let text = Array("static double gsl_sf_bessel_J0".utf8).map { Int32($0) }
        let objective = MaskedMTPObjective(network: model.network, weights: weights)
        let state = TrainingState<Float>(config: model.config, batch: 1, length: length)
        let reported = objective.evaluate(inputs: Array(text[0..<length]), targets: Array(text[1...length]), state: state)
        // The target's loss read from the expanded window's real rows equals the plain trunk's.
        let plainState = TrainingState<Float>(config: model.config, batch: 1, length: length)
        model.network.forwardTrunk(tokens: Array(text[0..<length]), state: plainState)
        let plain = model.network.languageModelLoss(targets: Array(text[1...length]), state: plainState, weight: 0)
        #expect(abs(reported["target_loss"]! - Double(plain)) < 1e-4)
        model.adapter = weights.adapter
        defer { model.adapter = nil }
        var worst: Float = 0
        for i in [0, 4, 9] {
            let tree = TokenTree.chain(root: text[0], drafts: Array(text[1..<(i + 1)]))
            let side = SideRows(tokens: [v, v + 1, v + 2], parents: [i, i + 1, i + 2])
            model.forward([tree.verifyStep(side: side, cache: KVCache(config: model.config))])
            for j in 1...k {
                let inference = model.features + (i + j) * d, trained = objective.expandedFeatures + (i * (k + 1) + j) * d
                for c in 0..<d { worst = max(worst, abs(inference[c] - trained[c])) }
            }
        }
        #expect(worst < 1e-4, "largest difference \(worst)")
    }

    @Test("training gradients (adapter, mask embeddings, sampler) against central finite differences (Float)")
    func gradients() throws {
        let network = try Network<Float>(config: gradientConfig)
        network.initialize(seed: 92)
        perturb(network.parameters, spread: 0.3, seed: 93)
        let weights = maskedWeights(gradientConfig, masks: 2, rank: 2, spread: 0.3, seed: 94)
        let objective = MaskedMTPObjective(network: network, weights: weights)
        let state = TrainingState<Float>(config: gradientConfig, batch: 2, length: 8)
        let loss = { objective.step(inputs: gradientInputs, targets: gradientTargets, state: state)["loss"]! }
        _ = loss()
        let adapter = Array(weights.adapter.parameters.gradients), sampler = Array(weights.sampler.parameters.gradients)
        #expect(adapter.contains { $0 != 0 } && sampler.contains { $0 != 0 })
        #expect(finiteDifferenceFailures(parameters: weights.adapter.parameters.parameters, analytic: adapter, stride: 7, loss: loss) == 0)
        #expect(finiteDifferenceFailures(parameters: weights.sampler.parameters.parameters, analytic: sampler, stride: 11, loss: loss) == 0)
        #expect(network.gradients.allSatisfy { $0 == 0 })
    }

    /// Greedy masked decoding of 60 tokens in `mode` against plain greedy decoding of the same random model.
    func greedyDecode(k: Int, mode: MaskedDecoding) throws -> (result: DecodeResult, reference: [Int32], cacheError: Float) {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 95)
        let reference = plainGreedy(model, tokens: 60)
        let weights = maskedWeights(model.config, masks: 3, rank: 4, spread: 0.05, seed: 96)
        let target = TransformerTarget(model: model)
        let drafter = MaskedMTPDrafter(weights: weights, target: model, draftLength: k, mode: mode)
        defer { model.adapter = nil }
        let result = SpeculativeDecoding.generate(target: target, drafter: drafter, prompt: prompt, maxNewTokens: 60,
                                                  settings: .greedy, seed: 1)
        // Mask rows are never committed: the cache equals a fresh prefill of the sequence.
        let error = cacheDifference(target.cache, model: model, tokens: Array(result.sequence.dropLast()))
        return (result, reference, error)
    }

    @Test("greedy masked decoding equals plain greedy; every round after the first offers k drafts", arguments: [1, 3])
    func greedyEquality(k: Int) throws {
        let (result, reference, cacheError) = try greedyDecode(k: k, mode: .quadratic)
        #expect(result.tokens == reference)
        #expect(result.stats.tau > 1, "no draft was ever accepted: the test would not exercise acceptance")
        #expect(result.stats.drafted == k * (result.stats.rounds - 1))
        #expect(cacheError < 1e-5)
    }

    @Test("linear masked decoding equals plain greedy; a round drafts only after a fully accepted one", arguments: [1, 3])
    func linearGreedyEquality(k: Int) throws {
        let (result, reference, cacheError) = try greedyDecode(k: k, mode: .linear)
        let s = result.stats
        #expect(result.tokens == reference)
        #expect(s.tau > 1, "no draft was ever accepted: the test would not exercise acceptance")
        // One block a round, after the last chain node: 2k + 1 rows when drafting, k + 1 when not.
        let zero = s.draftLengthHistogram[0]
        #expect(s.verifiedRows == (s.rounds - zero) * (2 * k + 1) + zero * (k + 1))
        // Rounds without drafts: the first, and the one after each drafting round that rejected a draft
        // (all but possibly the last round): zero = 1 + (below − zero) − (0 or 1).
        let below = s.acceptedLengthHistogram.prefix(k).reduce(0, +)
        #expect(2 * zero - 1 - below == 0 || 2 * zero - 1 - below == -1, "zero-draft rounds \(zero), rounds below k \(below)")
        #expect(cacheError < 1e-5)
    }

    @Test("sampled masked decoding (V2 on the sampler's chain) keeps the cache exact")
    func sampled() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 97)
        let weights = maskedWeights(model.config, masks: 3, rank: 4, spread: 0.05, seed: 98)
        let target = TransformerTarget(model: model)
        let drafter = MaskedMTPDrafter(weights: weights, target: model)
        defer { model.adapter = nil }
        let result = SpeculativeDecoding.generate(target: target, drafter: drafter, prompt: prompt, maxNewTokens: 40,
                                                  settings: SamplingSettings(temperature: 1), seed: 2)
        #expect(result.tokens.count == 40)
        #expect(cacheDifference(target.cache, model: model, tokens: Array(result.sequence.dropLast())) < 1e-5)
    }
}
