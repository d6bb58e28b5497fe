import Foundation
import LinAlg
import Testing
@testable import Decoding
@testable import Transformer

@Suite("Blockwise heads")
struct BlockwiseTests {
    @Test("at initialisation (W_out = 0) every head outputs the base LM head's hidden state f")
    func initIsIdentity() throws {
        let model = try randomModel(targetConfig, seed: 20)
        let heads = BlockwiseHeads(heads: 3, width: targetConfig.width)
        heads.initialize(seed: 1)
        let cache = KVCache(config: targetConfig)
        _ = model.prefill(prompt, cache: cache)
        let f = model.features + (prompt.count - 1) * targetConfig.width
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: heads.hidden)
        let h = UnsafeMutablePointer<Float>.allocate(capacity: heads.width)
        defer { scratch.deallocate(); h.deallocate() }
        for j in 0..<3 {
            heads.hiddenState(head: j, feature: f, scratch: scratch, into: h)
            for i in 0..<heads.width { #expect(h[i] == f[i]) }
        }
    }

    @Test("greedy output with (random, non-zero) heads equals plain greedy, γ = 1, 2, 4, 8", arguments: [1, 2, 4, 8])
    func greedyEquality(gamma: Int) throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 21)
        let reference = plainGreedy(model, tokens: 50)
        let heads = BlockwiseHeads(heads: 8, width: targetConfig.width)
        heads.initialize(seed: 2)
        let rng = RandomSource(seed: 3)
        for i in 0..<heads.parameters.count { heads.parameters[i] += Float(rng.normal(mean: 0, standardDeviation: 0.1)) }
        let result = SpeculativeDecoding.generate(target: TransformerTarget(model: model),
                                                  drafter: BlockwiseDrafter(heads: heads, model: model, draftLength: gamma),
                                                  prompt: prompt, maxNewTokens: 50, settings: .greedy, seed: 1)
        #expect(result.tokens == reference)
        #expect(result.stats.drafted == gamma * result.stats.rounds)
    }

    /// Float32 central differences with ε = 1e-2 on a loss of order 5: truncation
    /// O(ε²) and rounding ~1e-7·5/ε ≈ 5e-5 → agreement to a few percent (tolerance 5%
    /// relative plus 2e-4 absolute); a wrong SiLU derivative or a missing term is off by far more.
    @Test("head gradients against central finite differences (Float)")
    func headGradients() throws {
        let config = ModelConfig(name: "grad", width: 16, layers: 1, heads: 2, kvHeads: 2, ffnHidden: 32,
                                 contextLength: 16, tiedEmbeddings: false)
        let network = try Network<Float>(config: config)
        network.initialize(seed: 4)
        let heads = BlockwiseHeads(heads: 2, width: 16, hidden: 8)
        heads.initialize(seed: 5)
        let rng = RandomSource(seed: 6)
        for i in 0..<heads.parameters.count { heads.parameters[i] += Float(rng.normal(mean: 0, standardDeviation: 0.3)) }
        let objective = BlockwiseObjective(network: network, heads: heads)
        let state = TrainingState<Float>(config: config, batch: 2, length: 8)
        let inputs = (0..<16).map { Int32(($0 * 37 + 5) % 256) }
        let targets = (0..<16).map { Int32(($0 * 11 + 3) % 256) }
        _ = objective.step(inputs: inputs, targets: targets, state: state)
        let analytic = Array(heads.gradients)
        let epsilon: Float = 1e-2
        var failures = 0
        for i in stride(from: 0, to: heads.parameters.count, by: 7) {
            let saved = heads.parameters[i]
            heads.parameters[i] = saved + epsilon
            let plus = objective.step(inputs: inputs, targets: targets, state: state)["loss"]!
            heads.parameters[i] = saved - epsilon
            let minus = objective.step(inputs: inputs, targets: targets, state: state)["loss"]!
            heads.parameters[i] = saved
            let numeric = (plus - minus) / Double(2 * epsilon)
            if abs(numeric - Double(analytic[i])) > 0.05 * abs(numeric) + 2e-4 { failures += 1 }
        }
        #expect(failures == 0, "\(failures) head parameters disagree with finite differences")
    }
}
