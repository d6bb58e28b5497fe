// Batched speculative decoding: B sequences, each with its own KV cache and
// drafter, verified together in one target forward per round (their trees'
// rows stacked, ALGORITHMS.md §1.5), each accepting with its own verifier.
// This is what a serving engine does, and where the batch effect comes from:
// the verify forward's rows grow with B·(γ + 1) while plain decoding's grow
// with B, so once the forward is compute-bound the drafts stop being free.

import Foundation
import LinAlg
import Transformer

public struct BatchedResult: Sendable {
    /// Each sequence's emitted tokens (truncated at the budget).
    public var tokens: [[Int32]]
    /// Counters summed over the sequences; `launchedTargetForwards` counts batched forwards.
    public var stats: DecodeStats
    /// Wall-clock seconds of the rounds (prefill excluded).
    public var seconds: Double
}

public enum BatchedSpeculation {
    /// Decodes `prompts` together, one drafter per sequence (drafters.count == prompts.count).
    /// Sequence b draws from seeds derived from seed + b, as a single-sequence decode with that seed would.
    public static func generate(model: InferenceModel, drafters: [Drafter], prompts: [[Int32]], maxNewTokens: Int,
                                settings: SamplingSettings, seed: UInt64,
                                acceptance: AcceptanceRule = .lossless) -> BatchedResult {
        precondition(drafters.count == prompts.count && !prompts.isEmpty, "one drafter per prompt")
        let batch = prompts.count
        let caches = prompts.map { _ in KVCache(config: model.config) }
        let draftRNG = (0..<batch).map { RandomSource(seed: (seed &+ UInt64($0)) &* 2 &+ 1) }
        let verifyRNG = (0..<batch).map { RandomSource(seed: (seed &+ UInt64($0)) &* 2) }
        let views = (0..<batch).map { _ in LogitDistributions(model: model) }
        var stats = DecodeStats()
        var outputs = [[Int32]](repeating: [], count: batch)
        var contexts = prompts
        var pending = [Int32](repeating: 0, count: batch)
        let layers = drafters.reduce(into: Set<Int>()) { $0.formUnion($1.targetResidualLayers) }
        guard maxNewTokens > 0 else { return BatchedResult(tokens: outputs, stats: stats, seconds: 0) }

        // Prefill every prompt in one forward (ragged rows).
        model.forward(prompts.enumerated().map { SequenceStep(tokens: $0.element, cache: caches[$0.offset]) },
                      residualLayers: layers)
        var offset = 0
        for b in 0..<batch {
            caches[b].commit(prompts[b].count)
            views[b].reset(settings: settings)
            views[b].offset = offset + prompts[b].count - 1
            pending[b] = Int32(settings.temperature == 0 ? views[b].argmax(0)
                               : sample(views[b].probabilities(0), uniform: verifyRNG[b].uniform()))
            outputs[b].append(pending[b])
            drafters[b].reset(prompt: prompts[b], first: pending[b])
            drafters[b].targetForwardDone(keptRows: (0..<prompts[b].count).map { offset + $0 })
            offset += prompts[b].count
        }
        let start = DispatchTime.now().uptimeNanoseconds
        while true {
            let active = (0..<batch).filter { outputs[$0].count < maxNewTokens }
            guard !active.isEmpty else { break }
            let proposals = active.map { b in
                drafters[b].propose(root: pending[b], context: contexts[b], settings: settings, rng: draftRNG[b])
            }
            model.forward(zip(active, proposals).map { b, proposal in
                proposal.tree.verifyStep(side: proposal.sideRows, cache: caches[b])
            }, residualLayers: layers)
            stats.launchedTargetForwards += 1
            stats.targetForwards += active.count
            var row = 0
            for (b, proposal) in zip(active, proposals) {
                views[b].reset(settings: settings)
                views[b].offset = row
                let result = Verification.verify(proposal, target: views[b], settings: settings, rng: verifyRNG[b],
                                                 acceptance: acceptance)
                let path = result.path
                if path == Array(0..<path.count) { caches[b].commit(path.count) } else { caches[b].compact(path: path) }
                let accepted = path.dropFirst().map { proposal.tree.tokens[$0] }
                contexts[b].append(pending[b])
                contexts[b] += accepted
                for token in accepted + [result.extra] where outputs[b].count < maxNewTokens { outputs[b].append(token) }
                stats.record(accepted: result.accepted, drafted: proposal.tree.count - 1, confidences: proposal.confidences)
                stats.countDrafting(proposal.drafterForwards, withTarget: drafters[b].draftsWithTarget)
                stats.maxDraftDepth = max(stats.maxDraftDepth, proposal.tree.depth)
                stats.verifiedRows += proposal.tree.count + (proposal.sideRows?.tokens.count ?? 0)
                pending[b] = result.extra
                drafters[b].update(accepted: accepted, extra: result.extra)
                drafters[b].targetForwardDone(keptRows: path.map { row + $0 })
                row += proposal.tree.count + (proposal.sideRows?.tokens.count ?? 0)
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        stats.tokensGenerated = outputs.reduce(0) { $0 + $1.count }
        return BatchedResult(tokens: outputs, stats: stats, seconds: seconds)
    }
}
