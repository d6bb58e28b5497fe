// Multi-token joint decoding (ALGORITHMS.md §14; Qin et al., ICLR 2025).
//
// MTJD chooses a block of γ tokens by their *joint* likelihood instead of token
// by token; MTAD approximates it with a small auxiliary model: the auxiliary
// model runs a beam search (greedy) or beam sampling (T > 0) of width W over
// its own joint distribution, proposes the best beam as a chain, and the
// target accepts the longest prefix whose joint likelihood ratio
// Π_{j ≤ i} p(x_j | ·) / q(x_j | ·) reaches one uniform threshold η drawn per
// round; the token after the accepted prefix is the target's (its argmax at
// T = 0, a sample from p at T > 0). It targets the joint distribution, not
// token-wise sampling, so it is not lossless at T > 0; at T = 0 (p one-hot,
// q = 1) the rule is greedy matching, and the output is plain greedy's.
// MTJD itself is the same mechanism with the target as its own auxiliary
// model: every ratio is 1, so every beam token is kept.
//
// The beam's levels run as tentative rows of the auxiliary model's KV cache
// (each new row sees the committed context and its own beam's earlier rows),
// one forward per depth over W rows; only the context is ever committed.

import Foundation
import LinAlg
import Transformer

public final class BeamDrafter: Drafter {
    public let model: InferenceModel
    public let cache: KVCache
    public var draftLength: Int
    public var width: Int
    private var scratch: [Double] = []

    /// MTJD: the auxiliary model is the target itself, so the beam's forwards are target forwards.
    public let draftsWithTarget: Bool

    public init(model: InferenceModel, draftLength: Int, width: Int, capacity: Int? = nil, isTarget: Bool = false) {
        precondition(draftLength >= 1 && width >= 1, "a beam drafter needs a draft length and a width of at least 1")
        self.model = model
        self.draftsWithTarget = isTarget
        self.draftLength = draftLength
        self.width = width
        // Room for the context and one round's tentative rows (W per depth).
        cache = KVCache(config: model.config, capacity: (capacity ?? model.config.contextLength) + width * draftLength)
    }

    public var name: String { "beam" }

    public func reset(prompt: [Int32], first: Int32) { cache.truncate(to: 0) }

    public func update(accepted: [Int32], extra: Int32) {}

    /// One beam: its tokens, their log-probabilities under the auxiliary model, and its tentative rows.
    private struct Beam {
        var tokens: [Int32]
        var logProbabilities: [Double]
        var rows: [Int]
        var score: Double { logProbabilities.reduce(0, +) }
    }

    /// The best of the candidates (parent beam, token, its log-probability) by joint score: at T = 0 the
    /// W most likely, at T > 0 W drawn without replacement by Gumbel-perturbed scores (beam sampling).
    private func select(_ candidates: [(beam: Beam, token: Int32, logProbability: Double)], settings: SamplingSettings,
                        rng: RandomSource) -> [Beam] {
        let keyed = candidates.map { candidate -> (Double, Beam) in
            var beam = candidate.beam
            beam.tokens.append(candidate.token)
            beam.logProbabilities.append(candidate.logProbability)
            let gumbel = settings.temperature == 0 ? 0 : -Foundation.log(-Foundation.log(max(rng.uniform(), 1e-300)))
            return (beam.score + gumbel, beam)
        }
        return keyed.sorted { $0.0 > $1.0 }.prefix(width).map(\.1)
    }

    /// The candidates from one row's logits: the W most probable tokens under the sampling distribution.
    private func expand(_ beam: Beam, logits: UnsafeBufferPointer<Float>, settings: SamplingSettings)
        -> [(beam: Beam, token: Int32, logProbability: Double)] {
        Sampling.warp(logits, settings.temperature == 0 ? SamplingSettings(temperature: 1) : settings, into: &scratch)
        let top = scratch.indices.sorted { scratch[$0] > scratch[$1] }.prefix(width)
        return top.map { (beam, Int32($0), Foundation.log(max(scratch[$0], 1e-300))) }
    }

    public func propose(root: Int32, context: [Int32], settings: SamplingSettings, rng: RandomSource) -> DraftProposal {
        // Catch up on the committed context, then the pending root: all of it is the sequence's.
        let feed = Array(context[min(cache.length, context.count)...]) + [root]
        model.forward([SequenceStep(tokens: feed, cache: cache)])
        cache.commit(feed.count)
        var forwards = 1
        var beams = select(expand(Beam(tokens: [], logProbabilities: [], rows: []), logits: model.logitsRow(feed.count - 1),
                                  settings: settings), settings: settings, rng: rng)
        var pending = 0
        for _ in 1..<draftLength {
            // One forward: each beam's newest token, seeing the context and its own earlier rows.
            let tokens = beams.map { $0.tokens.last! }
            var visible = [Bool](repeating: false, count: tokens.count * pending)
            for (i, beam) in beams.enumerated() { for row in beam.rows { visible[i * pending + row] = true } }
            let depth = beams[0].tokens.count
            // Rows of one depth are different beams: each sees itself only among the new rows.
            let itself = (0..<tokens.count * tokens.count).map { $0 / tokens.count == $0 % tokens.count }
            model.forward([SequenceStep(tokens: tokens, positions: [Int32](repeating: Int32(cache.length + depth - 1), count: tokens.count),
                                        mask: .tree(itself), cache: cache, pendingRows: pending, pendingVisible: visible)])
            forwards += 1
            var candidates: [(beam: Beam, token: Int32, logProbability: Double)] = []
            for (i, beam) in beams.enumerated() {
                var withRow = beam
                withRow.rows.append(pending + i)
                candidates += expand(withRow, logits: model.logitsRow(i), settings: settings)
            }
            pending += tokens.count
            beams = select(candidates, settings: settings, rng: rng)
        }
        // The best beam (joint score, no perturbation) as a chain; draft probabilities are the auxiliary
        // model's conditionals (1 at T = 0: greedy verification compares tokens only).
        let best = beams.max { $0.score < $1.score }!
        var tree = TokenTree(root: root)
        for (token, logProbability) in zip(best.tokens, best.logProbabilities) {
            tree.add(token: token, parent: tree.count - 1,
                     draftProbability: settings.temperature == 0 ? 1 : Foundation.exp(logProbability))
        }
        return DraftProposal(tree: tree, drafterForwards: forwards)
    }
}

extension Verification {
    /// MTAD's verification: along the chain, R_i = Π_{j ≤ i} p(x_j) / q(x_j) with p the target's and q the
    /// drafter's conditional probability; the longest prefix with R_i ≥ η (η uniform, one per round) is kept,
    /// and the next token is the target's at the node after it (argmax at T = 0, else a sample from p).
    public static func jointRatio(tree: TokenTree, target: NodeDistributions, settings: SamplingSettings,
                                  rng: RandomSource) -> VerifyResult {
        let eta = rng.uniform()
        let chain = firstChildChain(tree)
        var ratio = 1.0, longest = 0
        for i in 1..<chain.count {
            let node = chain[i], parent = chain[i - 1]
            let p = settings.temperature == 0
                ? (target.argmax(parent) == Int(tree.tokens[node]) ? 1.0 : 0.0)
                : target.probabilities(parent)[Int(tree.tokens[node])]
            ratio *= p / max(tree.draftProbabilities[node], 1e-300)
            if ratio > 0, ratio >= eta { longest = i }
            if ratio == 0 { break }
        }
        let path = Array(chain.prefix(longest + 1))
        return VerifyResult(path: path, extra: targetToken(after: path.last!, target: target, settings: settings, rng: rng))
    }
}
