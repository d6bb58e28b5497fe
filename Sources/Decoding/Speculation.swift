// The speculation loop shared by every method (ALGORITHMS.md §0): draft a
// tree rooted at the pending token, one target verify forward over it, accept
// with a verifier, keep the accepted path in the caches, let the drafter catch
// up. Counters are kept by the loop itself (STYLE.md).

import Foundation
import LinAlg
import Transformer

/// The model being decoded from, as the loop sees it.
public protocol TargetModel: AnyObject {
    var vocabulary: Int { get }
    /// Runs the prompt (the cache must be empty) and returns the distributions at its last position (node 0).
    func prefill(_ prompt: [Int32], settings: SamplingSettings) -> NodeDistributions
    /// One verify forward over the tree's nodes at positions n + depth; cache rows are tentative.
    func verify(_ tree: TokenTree, settings: SamplingSettings) -> NodeDistributions
    /// Keeps the accepted path (tree indices, root first) in the cache.
    func accept(path: [Int])
    /// Tokens committed in the cache.
    var committedLength: Int { get }
    /// Keep the residual streams after these blocks in every later forward (drafters that read them).
    func keepResidualStreams(_ layers: Set<Int>)
    /// A verify forward that also runs `side` rows (after the tree's, never committed): mask
    /// blocks of masked-input MTP (§8). The distributions cover the tree's nodes only.
    func verify(_ tree: TokenTree, side: SideRows, settings: SamplingSettings) -> NodeDistributions

    // Batches: sequences 0..<sequenceCapacity, each with its own cache, run in one forward. The loop
    // drives every target through these; the defaults serve a single-sequence target through the calls above.
    /// Sequences the target holds caches for.
    var sequenceCapacity: Int { get }
    /// Prefills sequence i with prompts[i] in one forward; each result's node 0 is its prompt's last row.
    func prefill(batch prompts: [[Int32]], settings: SamplingSettings) -> [SequenceRows]
    /// One verify forward over the given sequences' trees (and side rows), rows stacked in the order given.
    func verify(batch trees: [SequenceTree], settings: SamplingSettings) -> [SequenceRows]
    /// Keeps sequence `sequence`'s accepted path in its cache.
    func accept(sequence: Int, path: [Int])
}

/// One sequence's tree in a batched verify forward.
public struct SequenceTree {
    public var sequence: Int
    public var tree: TokenTree
    public var side: SideRows?

    public init(sequence: Int, tree: TokenTree, side: SideRows?) {
        self.sequence = sequence; self.tree = tree; self.side = side
    }
}

/// One sequence's part of a forward: its distributions (node i at row firstRow + i) and where its rows start
/// among the forward's rows (drafters read features by row).
public struct SequenceRows {
    public var distributions: NodeDistributions
    public var firstRow: Int

    public init(distributions: NodeDistributions, firstRow: Int) {
        self.distributions = distributions; self.firstRow = firstRow
    }
}

extension TargetModel {
    public func keepResidualStreams(_ layers: Set<Int>) {}
    public func verify(_ tree: TokenTree, side: SideRows, settings: SamplingSettings) -> NodeDistributions {
        preconditionFailure("this target cannot run side rows")
    }
    public var sequenceCapacity: Int { 1 }
    public func prefill(batch prompts: [[Int32]], settings: SamplingSettings) -> [SequenceRows] {
        precondition(prompts.count == 1, "a single-sequence target prefills one prompt")
        return [SequenceRows(distributions: prefill(prompts[0], settings: settings), firstRow: 0)]
    }
    public func verify(batch trees: [SequenceTree], settings: SamplingSettings) -> [SequenceRows] {
        precondition(trees.count == 1 && trees[0].sequence == 0, "a single-sequence target verifies one tree")
        let distributions = trees[0].side.map { verify(trees[0].tree, side: $0, settings: settings) }
            ?? verify(trees[0].tree, settings: settings)
        return [SequenceRows(distributions: distributions, firstRow: 0)]
    }
    public func accept(sequence: Int, path: [Int]) {
        precondition(sequence == 0, "a single-sequence target holds sequence 0")
        accept(path: path)
    }
}

/// Rows a drafter asks the target to run beside the tree in the verify forward; parents index
/// the tree's nodes (0..<tree.count) and then earlier side rows (tree.count + i).
public struct SideRows: Sendable {
    public var tokens: [Int32]
    public var parents: [Int]

    public init(tokens: [Int32], parents: [Int]) {
        precondition(tokens.count == parents.count, "one parent per side row")
        self.tokens = tokens
        self.parents = parents
    }
}

extension TokenTree {
    /// The verify forward's part for this tree and optional side rows: positions n + depth, ancestor mask.
    public func verifyStep(side: SideRows?, cache: KVCache) -> SequenceStep {
        guard let side else { return SequenceStep(tokens: tokens, positions: positions(cacheLength: cache.length), mask: mask, cache: cache) }
        var all = depths
        for parent in side.parents { all.append(all[parent] + 1) }
        return SequenceStep(tokens: tokens + side.tokens, positions: all.map { Int32(cache.length + $0) },
                            mask: .ancestors(parents: parents + side.parents), cache: cache)
    }
}

/// A drafter's proposal for one round.
public struct DraftProposal {
    public var tree: TokenTree
    /// For sampled drafts: q[i] = the full distribution node i was drawn from (q[0] unused);
    /// chains are verified with V2, trees (siblings drawn without replacement, in rank order) with V4.
    public var q: [[Double]]?
    /// Drafter forwards spent on this proposal.
    public var drafterForwards: Int
    /// Rows the target runs beside the tree in its verify forward (masked-input MTP's mask blocks).
    public var sideRows: SideRows?
    /// A chain's drafter confidence in each draft (its top probability), for drafters that stop on it:
    /// recorded per round with the accepted count, they fit the engine's threshold model.
    public var confidences: [Double]?

    public init(tree: TokenTree, q: [[Double]]? = nil, drafterForwards: Int = 0, sideRows: SideRows? = nil,
                confidences: [Double]? = nil) {
        self.tree = tree
        self.q = q
        self.drafterForwards = drafterForwards
        self.sideRows = sideRows
        self.confidences = confidences
    }
}

/// Adaptive draft length (ALGORITHMS.md §14): a chain stops at the first draft whose confidence — the
/// drafter's top probability there (at T = 0 that of its plain softmax) — is below `threshold`
/// (per-token, llama.cpp's p_min), or once the running product of confidences is (cumulative).
/// A rule that reads only the drafter keeps verification lossless.
public struct DraftStopping: Sendable, Equatable {
    public var threshold: Double
    public var cumulative: Bool
    public static let never = DraftStopping(threshold: 0, cumulative: false)

    public init(threshold: Double, cumulative: Bool = false) {
        self.threshold = threshold
        self.cumulative = cumulative
    }

    /// Does the chain go on with a draft of `confidence`, the product up to it being `product`?
    @inline(__always)
    public func passes(confidence: Double, product: Double) -> Bool {
        (cumulative ? product : confidence) >= threshold
    }

    /// The drafter's confidence in a draft from its logits: the top probability of the sampling
    /// distribution (of the plain softmax at T = 0).
    public static func confidence(_ logits: UnsafeBufferPointer<Float>, settings: SamplingSettings,
                                  into scratch: inout [Double]) -> Double {
        Sampling.warp(logits, settings.temperature == 0 ? SamplingSettings(temperature: 1) : settings, into: &scratch)
        return scratch.max() ?? 0
    }
}

/// One round of a drafter that reports confidences: its drafts' confidences and how many were accepted.
public struct ConfidenceRound: Sendable, Equatable, Codable {
    public var confidences: [Double]
    public var accepted: Int
}

public protocol Drafter: AnyObject {
    var name: String { get }
    /// A new sequence: the prompt is committed everywhere; `first` is the pending token.
    func reset(prompt: [Int32], first: Int32)
    /// Proposes a tree rooted at the pending token `root`; `context` holds every committed token.
    func propose(root: Int32, context: [Int32], settings: SamplingSettings, rng: RandomSource) -> DraftProposal
    /// After verification: the accepted drafts (after the root) and the extra token y.
    func update(accepted: [Int32], extra: Int32)
    /// After every target forward (prefill and verify): the rows of that forward
    /// that were kept, in sequence order (the prompt's rows; the accepted path's
    /// tree indices). The last one predicted the pending token; drafters that read
    /// target features or residual streams take them from these rows.
    func targetForwardDone(keptRows: [Int])
    /// Residual streams of the target (index = blocks run; 0 = embeddings) the drafter reads after each forward.
    var targetResidualLayers: Set<Int> { get }
    /// Whether the drafter's forwards run the target's own weights (MTJD searches with the target): the
    /// loop counts them as target forwards, so τ stays tokens per forward of the target.
    var draftsWithTarget: Bool { get }
}

extension Drafter {
    public func targetForwardDone(keptRows: [Int]) {}
    public var targetResidualLayers: Set<Int> { [] }
    public var draftsWithTarget: Bool { false }
}

/// Counters of one decode (STYLE.md: the summary is computed from them).
public struct DecodeStats: Sendable, Codable, Equatable {
    public var rounds = 0
    public var drafted = 0
    public var accepted = 0
    /// acceptedAtLeast[k-1] = rounds with at least k accepted drafts (unconditional A_k · rounds).
    public var acceptedAtLeast: [Int] = []
    /// histogram[a] = rounds that accepted a drafts.
    public var acceptedLengthHistogram: [Int] = []
    /// draftLengthHistogram[g] = rounds that drafted g tokens (adaptive drafting varies it).
    public var draftLengthHistogram: [Int] = []
    /// Forwards of the target over this sequence's rows, wherever they run: every verify forward, and a
    /// drafter's forwards when it drafts with the target (the prefill is not counted). A batched forward
    /// counts once for each sequence in it.
    public var targetForwards = 0
    /// Forwards of the target as launched: a batched forward counts once.
    public var launchedTargetForwards = 0
    public var drafterForwards = 0
    public var draftingSeconds = 0.0
    public var verifyingSeconds = 0.0
    public var otherSeconds = 0.0
    /// The prompt's prefill (target and drafter), not part of any round.
    public var prefillSeconds = 0.0
    /// Tokens emitted, the prefill's first token included, truncated at the budget.
    public var tokensGenerated = 0
    /// Deepest draft (tree depth below the root) of any round.
    public var maxDraftDepth = 0
    /// Rows of every verify forward: tree nodes plus side rows (masked MTP's mask blocks).
    public var verifiedRows = 0

    public init() {}

    /// τ: tokens the rounds emitted per forward of the target, Σ (a_i + 1) / target forwards (§2.7); one
    /// verify forward a round makes it Σ (a_i + 1) / R.
    public var tau: Double { targetForwards > 0 ? Double(accepted + rounds) / Double(targetForwards) : 0 }
    /// Tokens per round, Σ (a_i + 1) / R: the speculation cycle's yield (τ unless the drafter runs the target).
    public var tokensPerRound: Double { rounds > 0 ? Double(accepted + rounds) / Double(rounds) : 0 }
    /// Rounds whose drafter reported confidences (threshold-stopping drafters), in order.
    public var confidenceRounds: [ConfidenceRound] = []
    /// A_k = P(a ≥ k), k = 1, 2, …
    public var perPositionAcceptance: [Double] {
        acceptedAtLeast.map { rounds > 0 ? Double($0) / Double(rounds) : 0 }
    }
    /// Seconds of the rounds (prefill excluded).
    public var seconds: Double { draftingSeconds + verifyingSeconds + otherSeconds }

    mutating func record(accepted a: Int, drafted: Int, confidences: [Double]? = nil) {
        rounds += 1
        if let confidences { confidenceRounds.append(ConfidenceRound(confidences: confidences, accepted: a)) }
        self.drafted += drafted
        if draftLengthHistogram.count <= drafted { draftLengthHistogram += [Int](repeating: 0, count: drafted + 1 - draftLengthHistogram.count) }
        draftLengthHistogram[drafted] += 1
        self.accepted += a
        if acceptedLengthHistogram.count <= a { acceptedLengthHistogram += [Int](repeating: 0, count: a + 1 - acceptedLengthHistogram.count) }
        acceptedLengthHistogram[a] += 1
        if acceptedAtLeast.count < a { acceptedAtLeast += [Int](repeating: 0, count: a - acceptedAtLeast.count) }
        for k in 0..<a { acceptedAtLeast[k] += 1 }
    }

    /// A proposal's drafter forwards: target forwards when the drafter runs the target.
    mutating func countDrafting(_ forwards: Int, withTarget: Bool) {
        if withTarget {
            targetForwards += forwards
            launchedTargetForwards += forwards
        } else {
            drafterForwards += forwards
        }
    }

    public mutating func merge(_ other: DecodeStats) {
        rounds += other.rounds; drafted += other.drafted; accepted += other.accepted
        confidenceRounds += other.confidenceRounds
        for (k, v) in other.acceptedAtLeast.enumerated() {
            if k < acceptedAtLeast.count { acceptedAtLeast[k] += v } else { acceptedAtLeast.append(v) }
        }
        for (k, v) in other.acceptedLengthHistogram.enumerated() {
            if k < acceptedLengthHistogram.count { acceptedLengthHistogram[k] += v } else { acceptedLengthHistogram.append(v) }
        }
        for (k, v) in other.draftLengthHistogram.enumerated() {
            if k < draftLengthHistogram.count { draftLengthHistogram[k] += v } else { draftLengthHistogram.append(v) }
        }
        targetForwards += other.targetForwards; drafterForwards += other.drafterForwards
        launchedTargetForwards += other.launchedTargetForwards
        draftingSeconds += other.draftingSeconds; verifyingSeconds += other.verifyingSeconds
        otherSeconds += other.otherSeconds; prefillSeconds += other.prefillSeconds
        tokensGenerated += other.tokensGenerated
        maxDraftDepth = max(maxDraftDepth, other.maxDraftDepth)
        verifiedRows += other.verifiedRows
    }
}

public struct DecodeResult: Sendable {
    /// Tokens emitted, truncated at the budget.
    public var tokens: [Int32]
    public var stats: DecodeStats
    /// Every token of the sequence, prompt included, untruncated: the committed tokens and the pending one.
    public var sequence: [Int32] = []
}

/// What the loop returns for a batch of sequences.
public struct BatchResult: Sendable {
    /// Each sequence's emitted tokens (truncated at the budget).
    public var tokens: [[Int32]]
    /// Counters summed over the sequences, with the phase timings of the whole batch.
    public var stats: DecodeStats
    /// Each sequence whole, prompt included, untruncated: committed tokens and the pending one.
    public var sequences: [[Int32]]
}

public enum SpeculativeDecoding {
    /// Decodes up to `maxNewTokens` after `prompt`. Seeds: drafting and
    /// verification draw from separate streams (§1.7). T = 0 verifies with V1;
    /// T > 0 with V2 when the proposal carries q for a chain, V4 for a tree, V3 otherwise (deterministic candidates).
    /// `acceptance: .typical` swaps the verifier for Medusa's lossy typical acceptance (V5).
    public static func generate(target: TargetModel, drafter: Drafter, prompt: [Int32], maxNewTokens: Int,
                                settings: SamplingSettings, seed: UInt64, acceptance: AcceptanceRule = .lossless) -> DecodeResult {
        generate(target: target, drafter: drafter, prompt: prompt, maxNewTokens: maxNewTokens, settings: settings,
                 seed: seed, residual: .exact, acceptance: acceptance)
    }

    static func generate(target: TargetModel, drafter: Drafter, prompt: [Int32], maxNewTokens: Int,
                         settings: SamplingSettings, seed: UInt64, residual: ResidualRule,
                         acceptance: AcceptanceRule = .lossless) -> DecodeResult {
        let result = loop(target: target, drafters: [drafter], prompts: [prompt], maxNewTokens: maxNewTokens,
                          settings: settings, seed: seed, residual: residual, acceptance: acceptance)
        return DecodeResult(tokens: result.tokens[0], stats: result.stats, sequence: result.sequences[0])
    }

    /// The speculation loop (§0) over a batch of B ≥ 1 sequences, each with its own drafter and cache,
    /// verified together in one target forward per round (their trees' rows stacked, §1.5), each accepting
    /// with its own verifier. Sequence b draws from seeds derived from seed + b, as a decode of that
    /// sequence alone with that seed would; B = 1 is the single-sequence loop. Phase timings (drafting,
    /// verifying, other) cover the whole batch at every B.
    public static func generate(target: TargetModel, drafters: [Drafter], prompts: [[Int32]], maxNewTokens: Int,
                                settings: SamplingSettings, seed: UInt64, acceptance: AcceptanceRule = .lossless) -> BatchResult {
        loop(target: target, drafters: drafters, prompts: prompts, maxNewTokens: maxNewTokens, settings: settings,
             seed: seed, residual: .exact, acceptance: acceptance)
    }

    static func loop(target: TargetModel, drafters: [Drafter], prompts: [[Int32]], maxNewTokens: Int,
                     settings: SamplingSettings, seed: UInt64, residual: ResidualRule,
                     acceptance: AcceptanceRule) -> BatchResult {
        let batch = prompts.count
        precondition(batch >= 1 && drafters.count == batch, "one drafter per prompt")
        precondition(batch <= target.sequenceCapacity, "the target holds \(target.sequenceCapacity) sequences, not \(batch)")
        let draftRNG = (0..<batch).map { RandomSource(seed: (seed &+ UInt64($0)) &* 2 &+ 1) }
        let verifyRNG = (0..<batch).map { RandomSource(seed: (seed &+ UInt64($0)) &* 2) }
        var stats = DecodeStats()
        var outputs = [[Int32]](repeating: [], count: batch)
        guard maxNewTokens > 0 else { return BatchResult(tokens: outputs, stats: stats, sequences: prompts) }
        var clock = DispatchTime.now().uptimeNanoseconds
        func lap() -> Double {
            let now = DispatchTime.now().uptimeNanoseconds
            defer { clock = now }
            return Double(now - clock) / 1e9
        }
        target.keepResidualStreams(drafters.reduce(into: Set<Int>()) { $0.formUnion($1.targetResidualLayers) })
        var contexts = prompts
        var pending = [Int32](repeating: 0, count: batch)
        for (b, first) in target.prefill(batch: prompts, settings: settings).enumerated() {
            let d = first.distributions
            pending[b] = Int32(settings.temperature == 0 ? d.argmax(0) : sample(d.probabilities(0), uniform: verifyRNG[b].uniform()))
            outputs[b].append(pending[b])
            drafters[b].reset(prompt: prompts[b], first: pending[b])
            drafters[b].targetForwardDone(keptRows: Array(first.firstRow..<(first.firstRow + prompts[b].count)))
        }
        stats.prefillSeconds += lap()
        while true {
            let active = (0..<batch).filter { outputs[$0].count < maxNewTokens }
            guard !active.isEmpty else { break }
            let proposals = active.map { b in
                drafters[b].propose(root: pending[b], context: contexts[b], settings: settings, rng: draftRNG[b])
            }
            for (b, proposal) in zip(active, proposals) {
                stats.countDrafting(proposal.drafterForwards, withTarget: drafters[b].draftsWithTarget)
            }
            stats.draftingSeconds += lap()
            let rows = target.verify(batch: zip(active, proposals).map { SequenceTree(sequence: $0, tree: $1.tree, side: $1.sideRows) },
                                     settings: settings)
            stats.launchedTargetForwards += 1
            stats.targetForwards += active.count
            var results: [VerifyResult] = []
            for (i, b) in active.enumerated() {
                let result = Verification.verify(proposals[i], target: rows[i].distributions, settings: settings,
                                                 rng: verifyRNG[b], residual: residual, acceptance: acceptance)
                target.accept(sequence: b, path: result.path)
                results.append(result)
            }
            stats.verifyingSeconds += lap()
            var accepted: [[Int32]] = []
            for (i, b) in active.enumerated() {
                let proposal = proposals[i], result = results[i]
                let tokens = result.path.dropFirst().map { proposal.tree.tokens[$0] }
                contexts[b].append(pending[b])
                contexts[b] += tokens
                for token in tokens + [result.extra] where outputs[b].count < maxNewTokens { outputs[b].append(token) }
                stats.record(accepted: result.accepted, drafted: proposal.tree.count - 1, confidences: proposal.confidences)
                stats.maxDraftDepth = max(stats.maxDraftDepth, proposal.tree.depth)
                stats.verifiedRows += proposal.tree.count + (proposal.sideRows?.tokens.count ?? 0)
                pending[b] = result.extra
                accepted.append(tokens)
            }
            stats.otherSeconds += lap()
            // The drafters' catch-up on the kept rows (caches, head blocks) is drafting work.
            for (i, b) in active.enumerated() {
                drafters[b].update(accepted: accepted[i], extra: results[i].extra)
                drafters[b].targetForwardDone(keptRows: results[i].path.map { rows[i].firstRow + $0 })
            }
            stats.draftingSeconds += lap()
        }
        stats.tokensGenerated = outputs.reduce(0) { $0 + $1.count }
        return BatchResult(tokens: outputs, stats: stats, sequences: (0..<batch).map { contexts[$0] + [pending[$0]] })
    }
}

extension Verification {
    /// The verifier a round uses: V5 when asked for; else V1 at T = 0; at T > 0 V2 for a sampled
    /// chain, V4 for a sampled tree, V3 for deterministic candidates.
    static func verify(_ proposal: DraftProposal, target: NodeDistributions, settings: SamplingSettings,
                       rng: RandomSource, residual: ResidualRule = .exact, acceptance: AcceptanceRule) -> VerifyResult {
        if case .typical(let epsilon, let delta) = acceptance {
            return typical(tree: proposal.tree, target: target, epsilon: epsilon, delta: delta)
        } else if acceptance == .unverified {
            return unverified(tree: proposal.tree, target: target, settings: settings, rng: rng)
        } else if acceptance == .jointRatio {
            return jointRatio(tree: proposal.tree, target: target, settings: settings, rng: rng)
        } else if settings.temperature == 0 {
            return greedy(tree: proposal.tree, target: target)
        } else if let q = proposal.q, proposal.tree.isChain {
            return chainSampling(tree: proposal.tree, q: q, target: target, rng: rng, residual: residual)
        } else if let q = proposal.q {
            return sampledTree(tree: proposal.tree, q: q, target: target, rng: rng, residual: residual)
        }
        return deterministicTree(tree: proposal.tree, target: target, rng: rng)
    }
}

/// The quality of decoded text as the target sees it: Σ log p(x_t | x_<t) under the target's own
/// (temperature 1) distribution, teacher-forced in one forward over prompt + continuation on a fresh
/// cache. Computed by the target, never by a drafter, so lossy methods are scored on the same scale.
public enum TargetLikelihood {
    /// The continuation's summed log-likelihood (nats) and its token count.
    public static func logLikelihood(model: InferenceModel, prompt: [Int32], continuation: [Int32]) -> (sum: Double, count: Int) {
        guard !prompt.isEmpty, !continuation.isEmpty else { return (0, 0) }
        let tokens = prompt + continuation.dropLast()
        let cache = KVCache(config: model.config, capacity: max(model.config.contextLength, tokens.count))
        model.forward([SequenceStep(tokens: tokens, cache: cache)])
        var sum = 0.0
        for (i, token) in continuation.enumerated() {
            sum += Sampling.logProbabilities(model.logitsRow(prompt.count - 1 + i))[Int(token)]
        }
        return (sum, continuation.count)
    }
}
