import Foundation
import LinAlg
import Testing
@testable import Decoding
@testable import Transformer

/// A small random target and a random (useless) draft model: greedy equality
/// must hold for any drafter.
func randomModel(_ config: ModelConfig, seed: UInt64, spread: Double = 0.1) throws -> InferenceModel {
    let network = try Network<Float>(config: config)
    network.initialize(seed: seed)
    let rng = RandomSource(seed: seed + 1000)
    for i in 0..<network.parameterCount { network.parameters[i] += Float(rng.normal(mean: 0, standardDeviation: spread)) }
    return InferenceModel(network: network)
}

let targetConfig = ModelConfig(name: "target-test", width: 32, layers: 2, heads: 4, kvHeads: 2, ffnHidden: 64,
                               contextLength: 256, tiedEmbeddings: false)
let draftConfig = ModelConfig(name: "draft-test", width: 16, layers: 1, heads: 2, kvHeads: 2, ffnHidden: 32,
                              contextLength: 256, tiedEmbeddings: true)
let prompt: [Int32] = Array("static double gsl_sf_".utf8).map { Int32($0) }

/// Largest difference between the committed K/V rows of `cache` and those of a fresh
/// prefill of `tokens` (relative to the fresh row's largest entry), over every layer.
/// Tolerance 1e-5 in the tests: a batched and a sequential forward round differently.
func cacheDifference(_ cache: KVCache, model: InferenceModel, tokens: [Int32]) -> Float {
    let fresh = KVCache(config: model.config)
    model.forward([SequenceStep(tokens: tokens, cache: fresh)])
    fresh.commit(tokens.count)
    var worst: Float = 0
    for l in 0..<model.config.layers {
        for r in 0..<fresh.length {
            let a = cache.keyRow(layer: l, row: r) + cache.valueRow(layer: l, row: r)
            let b = fresh.keyRow(layer: l, row: r) + fresh.valueRow(layer: l, row: r)
            let scale = max(b.map(abs).max() ?? 1, 1e-6)
            worst = max(worst, zip(a, b).map { abs($0 - $1) }.max()! / scale)
        }
    }
    return worst
}

func plainGreedy(_ model: InferenceModel, tokens: Int) -> [Int32] {
    SpeculativeDecoding.generate(target: TransformerTarget(model: model), drafter: NoDrafter(), prompt: prompt,
                                 maxNewTokens: tokens, settings: .greedy, seed: 1).tokens
}

@Suite("Greedy speculative output equals greedy plain output")
struct GreedyEqualityTests {
    @Test("plain decoding through the loop equals the Generator", arguments: [0])
    func loopEqualsGenerator(_ unused: Int) throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 1)
        let viaLoop = plainGreedy(model, tokens: 40)
        let viaGenerator = try Generator(model: model).generate(prompt: prompt.map { UInt8($0) }, maxTokens: 40,
                                                                settings: .greedy, seed: 1)
        #expect(viaLoop == viaGenerator.map { Int32($0) })
    }

    @Test("draft model (useless: random weights), γ = 1, 2, 4, 8", arguments: [1, 2, 4, 8])
    func uselessDraftModel(gamma: Int) throws {
        InferenceModel.productThreads = 1
        let target = try randomModel(targetConfig, seed: 2)
        let reference = plainGreedy(target, tokens: 60)
        let drafter = DraftModelDrafter(model: try randomModel(draftConfig, seed: 3), draftLength: gamma)
        let result = SpeculativeDecoding.generate(target: TransformerTarget(model: target), drafter: drafter,
                                                  prompt: prompt, maxNewTokens: 60, settings: .greedy, seed: 1)
        #expect(result.tokens == reference)
        #expect(result.stats.tokensGenerated == 60)
    }

    @Test("draft model = the target itself (perfect): every draft accepted, τ = γ + 1", arguments: [1, 2, 4, 8])
    func perfectDraftModel(gamma: Int) throws {
        InferenceModel.productThreads = 1
        let target = try randomModel(targetConfig, seed: 4)
        let reference = plainGreedy(target, tokens: 60)
        let twin = InferenceModel(network: target.network)
        let result = SpeculativeDecoding.generate(target: TransformerTarget(model: target),
                                                  drafter: DraftModelDrafter(model: twin, draftLength: gamma),
                                                  prompt: prompt, maxNewTokens: 60, settings: .greedy, seed: 1)
        #expect(result.tokens == reference)
        // Same weights, same arithmetic path per row count: acceptance can only fail at a near-tie.
        #expect(result.stats.tau > Double(gamma + 1) - 0.01, "τ = \(result.stats.tau)")
    }

    @Test("prompt lookup, γ = 1, 2, 4, 8, on a repetitive prompt (τ > 1)", arguments: [1, 2, 4, 8])
    func promptLookup(gamma: Int) throws {
        InferenceModel.productThreads = 1
        let target = try randomModel(targetConfig, seed: 5, spread: 0.05)
        let reference = plainGreedy(target, tokens: 60)
        let result = SpeculativeDecoding.generate(target: TransformerTarget(model: target),
                                                  drafter: PromptLookupDrafter(draftLength: gamma, minMatch: 2),
                                                  prompt: prompt, maxNewTokens: 60, settings: .greedy, seed: 1)
        #expect(result.tokens == reference)
        // A random model's greedy output falls into a loop: the n-gram lookup then drafts it.
        #expect(result.stats.tau > 1, "τ = \(result.stats.tau)")
    }

    @Test("counters: τ = Σ(a + 1) / rounds; tokens = prefill token + emitted, truncated at the budget")
    func counters() throws {
        InferenceModel.productThreads = 1
        let target = try randomModel(targetConfig, seed: 6)
        let drafter = DraftModelDrafter(model: try randomModel(draftConfig, seed: 7), draftLength: 3)
        let result = SpeculativeDecoding.generate(target: TransformerTarget(model: target), drafter: drafter,
                                                  prompt: prompt, maxNewTokens: 50, settings: .greedy, seed: 1)
        let s = result.stats
        #expect(s.targetForwards == s.rounds)
        #expect(s.acceptedLengthHistogram.reduce(0, +) == s.rounds)
        #expect(s.acceptedLengthHistogram.enumerated().reduce(0) { $0 + $1.offset * $1.element } == s.accepted)
        #expect(abs(s.tau - (1 + s.perPositionAcceptance.reduce(0, +))) < 1e-12)
        // Emitted in rounds ≥ tokens − 1 (the last round may overshoot the budget).
        #expect(s.accepted + s.rounds >= s.tokensGenerated - 1)
        #expect(s.accepted + s.rounds - (s.tokensGenerated - 1) <= 3)
        #expect(s.drafted == 3 * s.rounds)
    }

    @Test("after decoding, the target and draft caches equal caches rebuilt from the accepted sequence (fixed and adaptive drafts)",
          arguments: [0.0, 0.2])
    func cachesAfterRounds(threshold: Double) throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 8)
        let draft = try randomModel(draftConfig, seed: 9, spread: threshold > 0 ? 0.3 : 0.1)
        let target = TransformerTarget(model: model)
        let drafter = DraftModelDrafter(model: draft, draftLength: 4, confidenceThreshold: threshold)
        let result = SpeculativeDecoding.generate(target: target, drafter: drafter, prompt: prompt, maxNewTokens: 40,
                                                  settings: .greedy, seed: 1)
        // The target cache holds prompt + every emitted token except the pending last one.
        let committed = prompt + result.tokens.prefix(target.cache.length - prompt.count)
        #expect(target.cache.length >= prompt.count + result.tokens.count - 1 - 4)
        let worst = cacheDifference(target.cache, model: model, tokens: Array(committed))
        #expect(worst < 1e-5, "target cache differs by \(worst)")
        // The draft cache: every committed row matches a fresh draft prefill of the same tokens.
        let draftWorst = cacheDifference(drafter.cache, model: draft, tokens: Array(committed.prefix(drafter.cache.length)))
        #expect(draftWorst < 1e-5, "draft cache differs by \(draftWorst)")
    }
}

@Suite("Adaptive draft length")
struct AdaptiveDraftTests {
    @Test("stopping on the drafter's confidence keeps greedy equality and shortens drafts")
    func confidenceThreshold() throws {
        InferenceModel.productThreads = 1
        let target = try randomModel(targetConfig, seed: 30)
        let reference = plainGreedy(target, tokens: 60)
        let drafter = DraftModelDrafter(model: try randomModel(draftConfig, seed: 31, spread: 0.3), draftLength: 8,
                                        confidenceThreshold: 0.2)
        let result = SpeculativeDecoding.generate(target: TransformerTarget(model: target), drafter: drafter,
                                                  prompt: prompt, maxNewTokens: 60, settings: .greedy, seed: 1)
        #expect(result.tokens == reference)
        // A random draft model is rarely confident: most rounds stop before 8 drafts.
        #expect(result.stats.drafted < 8 * result.stats.rounds)
        #expect(result.stats.draftLengthHistogram.reduce(0, +) == result.stats.rounds)
        #expect(result.stats.draftLengthHistogram.enumerated().reduce(0) { $0 + $1.offset * $1.element } == result.stats.drafted)
    }
}

@Suite("Draft-model cache catch-up")
struct DraftCacheTests {
    /// The target as its own draft accepts every draft, and a high threshold stops
    /// drafting early every round: the case where the last draft was already fed.
    @Test("adaptive stops with every draft accepted keep the draft cache aligned with the committed tokens")
    func earlyStopFullAcceptance() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 40)
        let twin = InferenceModel(network: model.network)
        let drafter = DraftModelDrafter(model: twin, draftLength: 4, confidenceThreshold: 0.9)
        let target = TransformerTarget(model: model)
        let result = SpeculativeDecoding.generate(target: target, drafter: drafter, prompt: prompt, maxNewTokens: 30,
                                                  settings: .greedy, seed: 1)
        #expect(result.stats.drafted < 4 * result.stats.rounds)   // the threshold did stop drafts early
        let committed = Array((prompt + result.tokens).prefix(drafter.cache.length))
        let worst = cacheDifference(drafter.cache, model: twin, tokens: committed)
        #expect(worst < 1e-5, "draft cache differs by \(worst)")
    }
}

@Suite("Prompt lookup")
struct PromptLookupTests {
    @Test("the most recent match of the longest suffix proposes its continuation")
    func lookup() {
        let text = Array("abcXYZabcQRabc".utf8).map { Int32($0) }
        // Suffix "abc" last seen at index 6 ("abcQR…") → proposes "QR" then "abc".
        let drafts = PromptLookupDrafter.lookup(text, draftLength: 4, minMatch: 2, maxMatch: 3)
        #expect(String(decoding: drafts.map { UInt8($0) }, as: UTF8.self) == "QRab")
        #expect(PromptLookupDrafter.lookup(Array("abcdef".utf8).map { Int32($0) }, draftLength: 4, minMatch: 2, maxMatch: 3).isEmpty)
    }
}
