import Foundation
import LinAlg
import Testing
@testable import Decoding
@testable import Transformer

@Suite("Threshold generation and the target's likelihood")
struct ThresholdTests {
    @Test("verified threshold stopping (per-token and cumulative) keeps greedy equality, drafts fewer, records each round",
          arguments: [false, true])
    func verified(cumulative: Bool) throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 41)
        let reference = plainGreedy(model, tokens: 60)
        let heads = parallelHeads(model, extra: 4, spread: 0.05, seed: 5)
        // A threshold near the heads' typical confidence, so some rounds stop early and some do not.
        let probe = ParallelHeadsDrafter(heads: heads, target: model, draftLength: 4)
        let all = SpeculativeDecoding.generate(target: TransformerTarget(model: model), drafter: probe, prompt: prompt,
                                               maxNewTokens: 60, settings: .greedy, seed: 1)
        let confidences = all.stats.confidenceRounds.flatMap(\.confidences).sorted()
        let threshold = confidences[confidences.count / 2]
        for (drafter, expectsFewer) in [(ParallelHeadsDrafter(heads: heads, target: model, draftLength: 4,
                                                                stopping: DraftStopping(threshold: threshold, cumulative: cumulative)), true),
                                        (ParallelHeadsDrafter(heads: heads, target: model, draftLength: 4), false)] {
            let result = SpeculativeDecoding.generate(target: TransformerTarget(model: model), drafter: drafter, prompt: prompt,
                                                      maxNewTokens: 60, settings: .greedy, seed: 1)
            #expect(result.tokens == reference)
            let s = result.stats
            #expect(s.confidenceRounds.count == s.rounds)
            #expect(s.confidenceRounds.map(\.confidences.count).reduce(0, +) == s.drafted)
            #expect(s.confidenceRounds.map(\.accepted).reduce(0, +) == s.accepted)
            if expectsFewer {
                #expect(s.drafted < 4 * s.rounds)
                // Every kept draft passed the rule.
                for round in s.confidenceRounds {
                    var product = 1.0
                    for c in round.confidences {
                        product *= c
                        #expect((cumulative ? product : c) >= threshold)
                    }
                }
            } else {
                #expect(s.drafted == 4 * s.rounds)
            }
        }
    }

    @Test("unverified: every draft kept (lossy), tokens per forward = 1 + drafts; threshold 1 drafts nothing and is plain greedy")
    func unverified() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 42)
        let reference = plainGreedy(model, tokens: 60)
        let heads = parallelHeads(model, extra: 3, spread: 0.3, seed: 6)
        let target = TransformerTarget(model: model)
        let kept = SpeculativeDecoding.generate(target: target, drafter: ParallelHeadsDrafter(heads: heads, target: model, draftLength: 3),
                                                prompt: prompt, maxNewTokens: 60, settings: .greedy, seed: 1, acceptance: .unverified)
        #expect(kept.stats.accepted == kept.stats.drafted && kept.stats.drafted == 3 * kept.stats.rounds)
        #expect(abs(kept.stats.tau - 4) < 1e-12)
        // Noisy heads: the unchecked output is not the target's greedy output.
        #expect(kept.tokens != reference)
        // The verified run of the same drafter is.
        let checked = SpeculativeDecoding.generate(target: target, drafter: ParallelHeadsDrafter(heads: heads, target: model, draftLength: 3),
                                                   prompt: prompt, maxNewTokens: 60, settings: .greedy, seed: 1)
        #expect(checked.tokens == reference)
        let none = SpeculativeDecoding.generate(target: target,
                                                drafter: ParallelHeadsDrafter(heads: heads, target: model, draftLength: 3,
                                                                              stopping: DraftStopping(threshold: 1.0)),
                                                prompt: prompt, maxNewTokens: 60, settings: .greedy, seed: 1, acceptance: .unverified)
        #expect(none.tokens == reference && none.stats.drafted == 0)
    }

    /// Teacher-forced in one forward vs the same sum accumulated over incremental single-token forwards.
    @Test("target log-likelihood: one teacher-forced forward equals step-by-step scoring; another text scores differently")
    func likelihood() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 43)
        let continuation = plainGreedy(model, tokens: 12)
        let scored = TargetLikelihood.logLikelihood(model: model, prompt: prompt, continuation: continuation)
        #expect(scored.count == 12)
        var stepwise = 0.0
        let cache = KVCache(config: model.config)
        model.forward([SequenceStep(tokens: prompt, cache: cache)])
        cache.commit(prompt.count)
        var row = prompt.count - 1
        for token in continuation {
            let p = Sampling.warp(Array(model.logitsRow(row)), SamplingSettings(temperature: 1))
            stepwise += Foundation.log(p[Int(token)])
            model.forward([SequenceStep(tokens: [token], cache: cache)])
            cache.commit(1)
            row = 0
        }
        #expect(abs(scored.sum - stepwise) < 1e-3 * abs(stepwise))
        // The last greedy token is the most likely there: replacing it lowers the sum.
        var other = continuation
        other[11] = (other[11] + 1) % 256
        #expect(TargetLikelihood.logLikelihood(model: model, prompt: prompt, continuation: other).sum < scored.sum)
    }
}

@Suite("Prefix beam search over MTP heads")
struct PrefixBeamTests {
    /// Width 1 with full blocks keeps the target's and every head's most likely token: exactly what greedy
    /// head decoding emits (the heads' drafts kept unverified after the target's token).
    @Test("width 1 with full blocks equals greedy head decoding")
    func widthOne() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 61)
        let heads = parallelHeads(model, extra: 3, spread: 0.3, seed: 7)
        let greedyHeads = SpeculativeDecoding.generate(target: TransformerTarget(model: model),
                                                       drafter: ParallelHeadsDrafter(heads: heads, target: model, draftLength: 3),
                                                       prompt: prompt, maxNewTokens: 40, settings: .greedy, seed: 1,
                                                       acceptance: .unverified)
        let beam = PrefixBeamSearch.generate(model: model, heads: heads, prompt: prompt, maxNewTokens: 40, width: 1,
                                             blockLengths: 4...4)
        #expect(beam.tokens == greedyHeads.tokens)
        #expect(beam.stats.targetForwards == greedyHeads.stats.targetForwards)
        #expect(abs(beam.stats.tau - 4) < 0.2)   // 40 tokens in blocks of 4
    }

    /// A wider beam over blocks of every length keeps a hypothesis at least as likely (per token, under the
    /// heads' factorised scores) as width 1, and with one-token blocks only and the heads ignored it is beam
    /// search over the target alone: width 1 of that is plain greedy decoding.
    @Test("one-token blocks at width 1 are plain greedy; wider beams over mixed lengths decode the budget")
    func oneTokenBlocks() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 62)
        let heads = parallelHeads(model, extra: 2, spread: 0.3, seed: 8)
        let single = PrefixBeamSearch.generate(model: model, heads: heads, prompt: prompt, maxNewTokens: 30, width: 1,
                                               blockLengths: 1...1)
        #expect(single.tokens == plainGreedy(model, tokens: 30) && single.merges == 0)
        let wide = PrefixBeamSearch.generate(model: model, heads: heads, prompt: prompt, maxNewTokens: 30, width: 6,
                                             blockLengths: 1...3)
        #expect(wide.tokens.count == 30)
        #expect(wide.merges > 0, "no merge in \(wide.stats.rounds) steps")   // blocks of different lengths reach equal outputs, which merge
        #expect(wide.stats.targetForwards >= 10 && wide.stats.targetForwards <= 30)
    }
}
