// Prefix beam search over MTP heads (the beam decoding speech LLMs use with
// multi-token heads; Raj et al. 2024, "Faster Speech-LLaMA Inference with
// Multi-token Prediction"). Lossy: no target verification.
//
// Each hypothesis is an output so far, with its own target KV cache and head
// caches. One target forward (all hypotheses batched, ragged) feeds every
// hypothesis's newest block; from its last row the target gives p_1 and the
// parallel heads p_2 … p_k. A hypothesis then extends by a block of L tokens,
// L in the allowed range, each block token one of the `width` most likely at
// its position, scored by Σ log p_j (the heads' factorised joint). Blocks of
// different lengths make hypotheses of different lengths, and one output can
// be reached by different splits ("ab" + "c" and "a" + "bc"): candidates with
// the same token sequence are merged, their probabilities added — the prefix
// merging. The `width` best by mean log-probability per emitted token (the
// lengths differ) survive. The output is the best hypothesis once every
// hypothesis has the budget.
//
// Choices where the paper's text was not at hand: the per-token
// normalisation used to rank hypotheses of different lengths, the top-`width`
// candidates per position, and merging by exact token sequence.

import Foundation
import LinAlg
import Transformer

public enum PrefixBeamSearch {
    /// One hypothesis: its output and score, its caches, and the block its caches have not seen yet.
    final class Hypothesis {
        var tokens: [Int32]
        var logScore: Double
        let cache: KVCache
        let drafter: ParallelHeadsDrafter
        var block: [Int32]
        /// Log-probabilities for the next block's positions (target, then heads), after the last forward.
        var next: [[Double]] = []

        init(tokens: [Int32], logScore: Double, cache: KVCache, drafter: ParallelHeadsDrafter, block: [Int32]) {
            self.tokens = tokens
            self.logScore = logScore
            self.cache = cache
            self.drafter = drafter
            self.block = block
        }

        var normalisedScore: Double { tokens.isEmpty ? 0 : logScore / Double(tokens.count) }
    }

    /// Decodes `maxNewTokens` after `prompt`; `blockLengths` within 1 … heads + 1. Returns the best output
    /// (truncated to the budget), the counters (one target forward per step, the batched one) and how many
    /// candidates merged into an equal output.
    public static func generate(model: InferenceModel, heads: ParallelHeads, prompt: [Int32], maxNewTokens: Int,
                                width: Int, blockLengths: ClosedRange<Int>) -> (tokens: [Int32], stats: DecodeStats, merges: Int) {
        precondition(width >= 1, "prefix beam search needs a width of at least 1")
        precondition(blockLengths.lowerBound >= 1 && blockLengths.upperBound <= heads.extraHeads + 1,
                     "block lengths must lie in 1…\(heads.extraHeads + 1) (the target and its heads)")
        var stats = DecodeStats()
        var merges = 0
        let start = DispatchTime.now().uptimeNanoseconds
        let capacity = prompt.count + maxNewTokens + blockLengths.upperBound
        func fresh() -> Hypothesis {
            Hypothesis(tokens: [], logScore: 0, cache: KVCache(config: model.config, capacity: capacity),
                       drafter: ParallelHeadsDrafter(heads: heads, target: model, draftLength: heads.extraHeads), block: [])
        }
        let first = fresh()
        first.block = prompt
        first.drafter.reset(prompt: prompt, first: 0)
        /// One forward over every given hypothesis's unseen block (ragged rows), then its next distributions.
        func feed(_ hypotheses: [Hypothesis]) {
            model.forward(hypotheses.map { SequenceStep(tokens: $0.block, cache: $0.cache) }, residualLayers: [heads.trunkBlocks])
            var row = 0
            for h in hypotheses {
                let rows = Array(row..<(row + h.block.count))
                h.cache.commit(h.block.count)
                h.drafter.targetForwardDone(keptRows: rows)
                h.next = [Sampling.logProbabilities(model.logitsRow(rows.last!))]
                    + (0..<heads.extraHeads).map { j in h.drafter.headLogitsRow(j).withUnsafeBufferPointer { Sampling.logProbabilities($0) } }
                h.block = []
                row += rows.count
            }
        }
        feed([first])   // the prefill (not counted as a step)
        var beams = [first], free: [Hypothesis] = []
        while beams.contains(where: { $0.tokens.count < maxNewTokens }) {
            // Candidates: each unfinished hypothesis extended by a block of every allowed length (the `width` most
            // likely tokens per position); finished ones carry over. Equal outputs merge (log-sum-exp).
            var merged: [[Int32]: (logScore: Double, parent: Hypothesis, block: [Int32])] = [:]
            func add(_ tokens: [Int32], _ logScore: Double, _ parent: Hypothesis, _ block: [Int32]) {
                guard let existing = merged[tokens] else { merged[tokens] = (logScore, parent, block); return }
                merges += 1
                let m = max(existing.logScore, logScore)
                let sum = m + Foundation.log(Foundation.exp(existing.logScore - m) + Foundation.exp(logScore - m))
                // The more likely route keeps its caches; the merged hypothesis carries both routes' mass.
                merged[tokens] = logScore > existing.logScore ? (sum, parent, block) : (sum, existing.parent, existing.block)
            }
            for beam in beams {
                guard beam.tokens.count < maxNewTokens else { add(beam.tokens, beam.logScore, beam, []); continue }
                let top = beam.next.map { p in p.indices.sorted { p[$0] > p[$1] }.prefix(width).map { (Int32($0), p[$0]) } }
                var blocks: [(tokens: [Int32], logScore: Double)] = [([], 0)]
                for position in 0..<blockLengths.upperBound {
                    blocks = blocks.flatMap { block in top[position].map { (block.tokens + [$0.0], block.logScore + $0.1) } }
                    if position + 1 >= blockLengths.lowerBound {
                        for block in blocks { add(beam.tokens + block.tokens, beam.logScore + block.logScore, beam, block.tokens) }
                    }
                }
            }
            // The `width` best by mean log-probability per emitted token; ties broken by the token sequence.
            let ranked = merged.map { (tokens: $0.key, entry: $0.value, mean: $0.value.logScore / Double(max($0.key.count, 1))) }
                .sorted { $0.mean != $1.mean ? $0.mean > $1.mean : $0.tokens.lexicographicallyPrecedes($1.tokens) }
            // Survivors copy their parent's state into storage freed by the previous step (caches and drafters are
            // allocated once, not per step); the old beams are freed only after every copy.
            let survivors: [Hypothesis] = ranked.prefix(width).map { candidate in
                let next = free.popLast() ?? fresh()
                next.tokens = candidate.tokens
                next.logScore = candidate.entry.logScore
                next.cache.copy(from: candidate.entry.parent.cache)
                next.drafter.copyState(from: candidate.entry.parent.drafter)
                next.block = candidate.entry.block
                next.next = candidate.entry.parent.next
                return next
            }
            free += beams
            beams = survivors
            stats.rounds += 1
            let feeding = beams.filter { !$0.block.isEmpty }
            guard !feeding.isEmpty else { break }
            feed(feeding)
            stats.targetForwards += 1
            stats.launchedTargetForwards += 1
        }
        let best = beams.max { $0.normalisedScore < $1.normalisedScore }!
        stats.tokensGenerated = min(best.tokens.count, maxNewTokens)
        // τ (tokens per step) through the counters the loop reports: the best output's tokens beyond one per step
        // count as accepted drafts.
        stats.accepted = max(0, stats.tokensGenerated - stats.rounds)
        stats.drafted = stats.accepted
        stats.verifyingSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return (Array(best.tokens.prefix(maxNewTokens)), stats, merges)
    }
}
