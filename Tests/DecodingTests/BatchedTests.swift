import Foundation
import LinAlg
import Testing
@testable import Decoding
@testable import Transformer

@Suite("Batched speculative decoding")
struct BatchedTests {
    static let prompts: [[Int32]] = [
        Array("static double gsl_sf_".utf8).map { Int32($0) },
        Array("#include <gsl/gsl_math.h>\n#include <gsl/".utf8).map { Int32($0) },
        Array("int gsl_".utf8).map { Int32($0) },
    ]

    /// Each sequence of a batch decodes exactly as it would alone.
    func expectMatchesSingle(_ model: InferenceModel, makeDrafter: () -> Drafter, settings: SamplingSettings) {
        let batched = SpeculativeDecoding.generate(target: TransformerTarget(model: model, sequences: Self.prompts.count),
                                                   drafters: Self.prompts.map { _ in makeDrafter() },
                                                   prompts: Self.prompts, maxNewTokens: 40, settings: settings, seed: 5)
        for (b, prompt) in Self.prompts.enumerated() {
            let single = SpeculativeDecoding.generate(target: TransformerTarget(model: model), drafter: makeDrafter(),
                                                      prompt: prompt, maxNewTokens: 40, settings: settings, seed: 5 + UInt64(b))
            #expect(batched.tokens[b] == single.tokens, "sequence \(b)")
        }
        #expect(batched.stats.tokensGenerated == 3 * 40)
        // Phase timings at every batch size; one launched forward per round serves every active sequence.
        #expect(batched.stats.draftingSeconds > 0 && batched.stats.verifyingSeconds > 0)
        #expect(batched.stats.launchedTargetForwards <= batched.stats.targetForwards)
    }

    @Test("greedy: every sequence of a batch equals its plain greedy decode (draft model, prompt lookup, EAGLE-2, parallel MTP)")
    func greedyMatchesSingle() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 60)
        let draft = try randomModel(draftConfig, seed: 61)
        let eagle = eagleWeights(model, spread: 0.02, seed: 62)
        let heads = parallelHeads(model, extra: 3, spread: 0.02, seed: 63)
        expectMatchesSingle(model, makeDrafter: { NoDrafter() }, settings: .greedy)
        expectMatchesSingle(model, makeDrafter: { DraftModelDrafter(model: draft, draftLength: 3) }, settings: .greedy)
        expectMatchesSingle(model, makeDrafter: { PromptLookupDrafter(draftLength: 4) }, settings: .greedy)
        expectMatchesSingle(model, makeDrafter: { EagleDrafter(weights: eagle, target: model, tree: .dynamic(topK: 2, depth: 2, size: 6)) },
                            settings: .greedy)
        expectMatchesSingle(model, makeDrafter: { ParallelHeadsDrafter(heads: heads, target: model, draftLength: 3) },
                            settings: .greedy)
    }

    @Test("sampled: the same seeds give the same tokens batched or alone (V2 with a draft model)")
    func sampledMatchesSingle() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 64)
        let draft = try randomModel(draftConfig, seed: 65)
        expectMatchesSingle(model, makeDrafter: { DraftModelDrafter(model: draft, draftLength: 2) },
                            settings: SamplingSettings(temperature: 1))
    }
}

@Suite("Oracle drafter")
struct OracleTests {
    @Test("acceptance follows the set α: τ = (1 − α^{γ+1}) / (1 − α) within sampling error, output still greedy")
    func controlledAcceptance() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 70)
        let continuations = OracleDrafter.continuations(model: model, prompts: [prompt], tokens: 210)
        let gamma = 4
        for alpha in [0.5, 0.8] {
            let drafter = OracleDrafter(continuations: continuations, draftLength: gamma, alpha: alpha)
            let result = SpeculativeDecoding.generate(target: TransformerTarget(model: model), drafter: drafter, prompt: prompt,
                                                      maxNewTokens: 190, settings: .greedy, seed: 3)
            #expect(result.tokens == Array(continuations[prompt]!.dropFirst(prompt.count).prefix(190)))
            let expected = (1 - Foundation.pow(alpha, Double(gamma + 1))) / (1 - alpha)
            // Each round's accepted length has variance below γ²/4; over R rounds the mean's error is ~γ/(2√R).
            let tolerance = 3 * Double(gamma) / (2 * Double(result.stats.rounds).squareRoot())
            #expect(abs(result.stats.tau - expected) < tolerance, "α \(alpha): τ \(result.stats.tau) vs \(expected) ± \(tolerance)")
        }
    }
}

@Suite("Jacobi / lookahead decoding")
struct LookaheadTests {
    @Test("greedy lookahead decoding equals plain greedy for W = 1, 2, 4, 8 and several (N, G); G = 0 is Jacobi decoding alone",
          arguments: [(1, 2, 0), (4, 3, 0), (2, 3, 2), (4, 3, 3), (8, 4, 5)])
    func greedyEquality(window: Int, ngram: Int, candidates: Int) throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 71)
        let reference = plainGreedy(model, tokens: 80)
        let drafter = LookaheadDrafter(target: model, window: window, ngram: ngram, candidates: candidates)
        let result = SpeculativeDecoding.generate(target: TransformerTarget(model: model), drafter: drafter, prompt: prompt,
                                                  maxNewTokens: 80, settings: .greedy, seed: 1)
        #expect(result.tokens == reference)
    }

    @Test("on a model that repeats itself, the Jacobi iterate converges and τ > 1; the pool fills from trajectories")
    func convergesOnRepetition() throws {
        InferenceModel.productThreads = 1
        // A random model's greedy output falls into a loop within a few dozen tokens; Jacobi guesses then match.
        let model = try randomModel(targetConfig, seed: 72)
        let drafter = LookaheadDrafter(target: model, window: 5, ngram: 3, candidates: 3)
        let result = SpeculativeDecoding.generate(target: TransformerTarget(model: model), drafter: drafter, prompt: prompt,
                                                  maxNewTokens: 150, settings: .greedy, seed: 1)
        #expect(result.stats.tau > 1.5, "τ = \(result.stats.tau)")
        #expect(!drafter.pool.isEmpty)
    }
}
