// Drafters that need no training of their own: plain decoding (an empty
// draft), a separate draft model (classic speculative sampling, §4) and prompt
// lookup (n-gram drafting, §13).

import Foundation
import LinAlg
import Transformer

/// Plain next-token decoding: the root alone; every round is one target forward.
public final class NoDrafter: Drafter {
    public init() {}
    public var name: String { "ntp" }
    public func reset(prompt: [Int32], first: Int32) {}
    public func propose(root: Int32, context: [Int32], settings: SamplingSettings, rng: RandomSource) -> DraftProposal {
        DraftProposal(tree: TokenTree(root: root))
    }
    public func update(accepted: [Int32], extra: Int32) {}
}

/// A separate small model drafting γ tokens autoregressively from its own KV
/// cache (Leviathan et al. 2023; Chen et al. 2023). Cache catch-up (§4):
/// drafting appends r, d_1..d_{γ−1}; after a accepted with a < γ the cache is
/// truncated to r, d_1..d_a and the next round feeds y; after a = γ the next
/// round feeds d_γ and y together.
public final class DraftModelDrafter: Drafter {
    public let model: InferenceModel
    public let cache: KVCache
    public var draftLength: Int
    /// Stop drafting when the drafter's top probability falls below this (adaptive length, §14); 0 = off.
    public var confidenceThreshold: Double
    private var toFeed: [Int32] = []
    private var roundStart = 0
    private var lastDrafts: [Int32] = []
    /// Whether the last draft was fed to the cache (an adaptive stop feeds it before deciding to stop).
    private var lastDraftFed = false
    private var distribution: [Double] = []

    public init(model: InferenceModel, draftLength: Int, confidenceThreshold: Double = 0) {
        precondition(draftLength >= 1, "a draft model drafts at least one token per round")
        self.model = model
        self.draftLength = draftLength
        self.confidenceThreshold = confidenceThreshold
        cache = KVCache(config: model.config)
    }

    public var name: String { "sd" }

    public func reset(prompt: [Int32], first: Int32) {
        cache.truncate(to: 0)
        model.forward([SequenceStep(tokens: prompt, cache: cache)])
        cache.commit(prompt.count)
        toFeed = [first]
    }

    public func propose(root: Int32, context: [Int32], settings: SamplingSettings, rng: RandomSource) -> DraftProposal {
        precondition(toFeed.last == root, "draft model out of step with the target")
        roundStart = cache.length + toFeed.count - 1   // cache length once r is committed, minus r
        var tree = TokenTree(root: root)
        var q: [[Double]] = [[]]
        var feed = toFeed
        var forwards = 0
        lastDrafts = []
        lastDraftFed = false
        for i in 0..<draftLength {
            model.forward([SequenceStep(tokens: feed, cache: cache)])
            cache.commit(feed.count)
            forwards += 1
            let logits = model.logitsRow(feed.count - 1)
            let token: Int32
            if settings.temperature == 0 {
                let best = Sampling.argmax(logits)
                token = Int32(best)
                // One-hot at the argmax, written into the reused buffer.
                if distribution.count != logits.count { distribution = [Double](repeating: 0, count: logits.count) }
                for i in distribution.indices { distribution[i] = 0 }
                distribution[best] = 1
            } else {
                Sampling.warp(logits, settings, into: &distribution)
                token = Int32(sample(distribution, uniform: rng.uniform()))
            }
            if confidenceThreshold > 0, i > 0 {
                var top = distribution.max() ?? 0
                if settings.temperature == 0 {
                    var p: [Double] = []
                    Sampling.warp(logits, SamplingSettings(temperature: 1), into: &p)
                    top = p.max() ?? 0
                }
                if top < confidenceThreshold { lastDraftFed = true; break }
            }
            tree.add(token: token, parent: tree.count - 1, draftProbability: distribution[Int(token)])
            q.append(distribution)
            lastDrafts.append(token)
            feed = [token]
        }
        // The last draft is sampled but never fed; the cache holds r, d_1..d_{γ'-1}.
        return DraftProposal(tree: tree, q: q, drafterForwards: forwards)
    }

    public func update(accepted: [Int32], extra: Int32) {
        let a = accepted.count
        if a < lastDrafts.count {
            cache.truncate(to: roundStart + 1 + a)
            toFeed = [extra]
        } else if lastDraftFed || lastDrafts.isEmpty {
            toFeed = [extra]
        } else {
            toFeed = [lastDrafts.last!, extra]
        }
    }
}

/// Prompt lookup: the most recent earlier occurrence of the last g tokens
/// (g = maxMatch down to minMatch) proposes the tokens that followed it.
/// Deterministic candidates: verified with V1 at T = 0 and V3 at T > 0.
public final class PromptLookupDrafter: Drafter {
    public var draftLength: Int
    public var minMatch: Int
    public var maxMatch: Int

    public init(draftLength: Int, minMatch: Int = 3, maxMatch: Int = 8) {
        self.draftLength = draftLength
        self.minMatch = minMatch
        self.maxMatch = maxMatch
    }

    public var name: String { "pld" }
    public func reset(prompt: [Int32], first: Int32) {}
    public func update(accepted: [Int32], extra: Int32) {}

    public func propose(root: Int32, context: [Int32], settings: SamplingSettings, rng: RandomSource) -> DraftProposal {
        let sequence = context + [root]
        let drafts = PromptLookupDrafter.lookup(sequence, draftLength: draftLength, minMatch: minMatch, maxMatch: maxMatch)
        return DraftProposal(tree: .chain(root: root, drafts: drafts))
    }

    /// The continuation of the most recent earlier match of the longest suffix (maxMatch…minMatch tokens).
    public static func lookup(_ sequence: [Int32], draftLength: Int, minMatch: Int, maxMatch: Int) -> [Int32] {
        let n = sequence.count
        for g in stride(from: min(maxMatch, n - 1), through: max(minMatch, 1), by: -1) {
            let suffix = sequence[(n - g)...]
            var start = n - g - 1
            while start >= 0 {
                if sequence[start..<(start + g)].elementsEqual(suffix) {
                    let from = start + g
                    let to = min(from + draftLength, n)
                    if to > from { return Array(sequence[from..<to]) }
                }
                start -= 1
            }
        }
        return []
    }
}

/// A drafter with a known acceptance rate, for validation: it proposes the
/// target's own greedy continuation (computed beforehand), each draft replaced
/// by a wrong token with probability 1 − α, independently. Under greedy
/// verification every position is then accepted with probability α given the
/// ones before it (the i.i.d. model exactly), and drafting costs nothing but
/// host time — isolating the verify cost, e.g. the batch effect.
public final class OracleDrafter: Drafter {
    /// Each prompt's greedy continuation (prompt included), keyed by the prompt.
    public let continuations: [[Int32]: [Int32]]
    public var draftLength: Int
    public var alpha: Double
    private var sequence: [Int32] = []

    public init(continuations: [[Int32]: [Int32]], draftLength: Int, alpha: Double) {
        self.continuations = continuations
        self.draftLength = draftLength
        self.alpha = alpha
    }

    public var name: String { "oracle" }

    public func reset(prompt: [Int32], first: Int32) {
        guard let found = continuations[prompt] else { preconditionFailure("no greedy continuation for this prompt") }
        sequence = found
    }

    public func update(accepted: [Int32], extra: Int32) {}

    public func propose(root: Int32, context: [Int32], settings: SamplingSettings, rng: RandomSource) -> DraftProposal {
        let start = context.count + 1
        var drafts: [Int32] = []
        for i in start..<(start + draftLength) where i < sequence.count {
            let right = sequence[i]
            drafts.append(rng.uniform() < alpha ? right : (right + 1 + Int32(rng.uniform() * 254)) % 256)
        }
        return DraftProposal(tree: .chain(root: root, drafts: drafts))
    }

    /// Greedy continuations of `prompts` by `model`, `tokens` past each prompt (plain decoding).
    public static func continuations(model: InferenceModel, prompts: [[Int32]], tokens: Int) -> [[Int32]: [Int32]] {
        var result: [[Int32]: [Int32]] = [:]
        let target = TransformerTarget(model: model)
        for prompt in prompts {
            let decoded = SpeculativeDecoding.generate(target: target, drafter: NoDrafter(), prompt: prompt,
                                                       maxNewTokens: tokens, settings: .greedy, seed: 0)
            result[prompt] = prompt + decoded.tokens
        }
        return result
    }
}
