// Drafting methods and the forward workloads of their drafters.
// Shapes from the papers (REFERENCES.md §2.6, ALGORITHMS.md §4–§13).

import Foundation

/// Lookahead decoding's forward (Fu et al. 2024 §3): a 2-D window of W guesses per level, `levels` of its
/// Jacobi levels fed in every forward (N − 1 in the paper, whose levels are the trajectory the pool's
/// n-grams are read from), and up to G n-grams of N − 1 tokens from the pool verified in the same forward.
/// The window W is the draft length γ.
public struct LookaheadShape: Sendable, Hashable, Codable {
    /// N: the n-gram length (first token + N − 1 continuation tokens).
    public var ngram: Int
    /// Jacobi levels of the window in each forward.
    public var levels: Int
    /// G: pool n-grams verified per forward; nil = W, as in the paper's settings.
    public var guesses: Int?

    /// `levels` nil = N − 1 (the paper's).
    public init(ngram: Int, levels: Int? = nil, guesses: Int? = nil) {
        self.ngram = ngram; self.levels = levels ?? max(ngram - 1, 1); self.guesses = guesses
    }

    /// The authors' example configuration (hao-ai-lab/LookaheadDecoding README: LEVEL 5, WINDOW_SIZE 7,
    /// GUESS_SET_SIZE 7; the window is the draft length): N = 5, four levels, G = W.
    public static let paper = LookaheadShape(ngram: 5)

    /// Rows per sequence of one forward with a window of `window` tokens.
    public func rows(window: Int) -> Int { 1 + window * levels + (guesses ?? window) * (ngram - 1) }

    public var description: String {
        "N \(ngram), \(levels) level\(levels == 1 ? "" : "s"), G \(guesses.map(String.init) ?? "= W")"
    }
}

/// What the engine prices of a decoding method: the structure of its cycle, as
/// one value of general parts (ALGORITHMS.md §0): the network that drafts and
/// how its forwards are scheduled, heads computed inside the verify forward,
/// the rows the verify forward runs, host-side search, and whether the target
/// checks the drafts at all. Every method of the method registry is one such
/// value; the presets below are the engine's vocabulary of them.
public struct DraftMethod: Sendable, Hashable {
    /// The network that drafts (nil: none — heads, n-gram and window methods).
    public enum DrafterNetwork: String, Sendable, Hashable {
        /// A separate small model (or the target itself with a KV budget: self-speculation).
        case draftModel
        /// EAGLE-1/2: fc 2d→d + one decoder layer + the target's LM head.
        case eagle
        /// EAGLE-3: fc 3d→d fusion, one layer with 2d-wide attention input, reduced draft vocabulary.
        case eagle3
        /// DeepSeek-V3 MTP module: proj 2d→d + one target-shaped block + shared head.
        case mtpModule
        /// The target's own forwards (MTJD: the target searches its own joint distribution).
        case target
        /// Hydra heads: one sequentially dependent head per depth, no KV cache (Ankner et al. 2024).
        case hydraHeads
        /// Masked-input MTP's sampler head over the mask rows' features (Samragh et al. 2025).
        case maskSampler
    }

    /// How the drafter's forwards are spent per cycle.
    public enum DraftSchedule: String, Sendable, Hashable {
        /// γ forwards of one row per sequence (a draft model's chain, Leviathan Algorithm 1).
        case autoregressive
        /// One forward over the τ tokens accepted last cycle (the draft-extend pass, EAGLE's cache
        /// catch-up), then γ − 1 forwards over each depth's frontier (tree width or beam width).
        case extendThenDepths
        /// γ forwards over each depth's frontier, no cache to catch up (Hydra's heads).
        case depths
    }

    /// Heads computed on the verify rows inside the target's forward.
    public enum VerifyHeads: String, Sendable, Hashable {
        /// Medusa-1/2: residual block + own unembedding per head (Cai et al. 2024).
        case medusa
        /// Stern et al. 2018: residual FF + the shared unembedding per head.
        case blockwise
        /// Gloeckle et al. 2024: one transformer block per head on the shared trunk + shared unembedding.
        case parallelMTP
    }

    /// The rows of the verify forward, per sequence.
    public enum VerifyRows: Sendable, Hashable {
        /// The root and γ drafts: γ + 1 (or a tree of --tree-size when the method drafts trees).
        case chain
        /// A token tree of --tree-size nodes, root included; `dynamic`: EAGLE-2's top-K expansion.
        case tree(dynamic: Bool)
        /// Lookahead decoding: the root, the lookahead branch (`levels` Jacobi levels of the window,
        /// W = γ tokens each) and the verification branch (G pool n-grams of N − 1 tokens each):
        /// 1 + W·levels + G·(N − 1) (Fu et al. 2024 §3; `LookaheadShape`).
        case lookahead(LookaheadShape)
        /// Masked-input MTP's quadratic decoding: the chain and a block of γ masks after every chain
        /// node, (γ + 1)² (Samragh et al. 2025 §3.3).
        case maskedQuadratic
        /// Masked-input MTP's linear decoding: the chain and one block of γ masks after its last node,
        /// 2γ + 1. Only a fully accepted round leaves a block to draft from: after a rejection the next
        /// round verifies the bonus token alone with a fresh block (γ + 1 rows, one token).
        case maskedLinear
        /// Prefix beam search: W hypotheses, each with its own cache, each feeding its newest block
        /// (τ tokens on average) in one forward — a batch of W sequences of τ rows, nothing verified.
        case beamSearch
    }

    /// The method's name as the engine reports it (the registry's name).
    public var name: String
    public var drafter: DrafterNetwork?
    public var schedule: DraftSchedule
    public var heads: VerifyHeads?
    public var rows: VerifyRows
    /// Rows per depth of a beam drafter (MTAD, MTJD: W); 1 otherwise.
    public var beamWidth: Int
    /// Drafts found by a search of the context on the host (prompt lookup).
    public var hostSearch: Bool
    /// False when the drafts are kept unchecked (MTJD): every cycle emits γ + 1 tokens.
    public var verified: Bool

    public init(name: String, drafter: DrafterNetwork? = nil, schedule: DraftSchedule = .autoregressive,
                heads: VerifyHeads? = nil, rows: VerifyRows = .chain, beamWidth: Int = 1, hostSearch: Bool = false,
                verified: Bool = true) {
        self.name = name; self.drafter = drafter; self.schedule = schedule; self.heads = heads; self.rows = rows
        self.beamWidth = beamWidth; self.hostSearch = hostSearch; self.verified = verified
    }

    // The engine's vocabulary (the method registry names each method's workload from these).
    /// Plain next-token decoding: the baseline (draft length 0).
    public static let ntp = DraftMethod(name: "ntp")
    /// Separate small draft model (Leviathan et al. 2023; Chen et al. 2023).
    public static let sd = DraftMethod(name: "sd", drafter: .draftModel)
    /// EAGLE-1: static tree or chain.
    public static let eagle1 = DraftMethod(name: "eagle1", drafter: .eagle, schedule: .extendThenDepths, rows: .tree(dynamic: false))
    /// EAGLE-2: the EAGLE-1 drafter with a dynamic top-K tree.
    public static let eagle2 = DraftMethod(name: "eagle2", drafter: .eagle, schedule: .extendThenDepths, rows: .tree(dynamic: true))
    /// EAGLE-3: its own drafter, dynamic tree.
    public static let eagle3 = DraftMethod(name: "eagle3", drafter: .eagle3, schedule: .extendThenDepths, rows: .tree(dynamic: true))
    /// DeepSeek-V3 sequential MTP modules.
    public static let mtp = DraftMethod(name: "mtp", drafter: .mtpModule, schedule: .extendThenDepths)
    /// Gloeckle et al. 2024 parallel MTP heads, in the target's own forward.
    public static let mtpParallel = DraftMethod(name: "mtp-parallel", heads: .parallelMTP)
    /// Medusa heads, in the target's forward; sparse static tree.
    public static let medusa = DraftMethod(name: "medusa", heads: .medusa, rows: .tree(dynamic: false))
    /// Stern et al. 2018 blockwise heads, in the target's forward.
    public static let blockwise = DraftMethod(name: "blockwise", heads: .blockwise)
    /// Prompt lookup / n-gram drafting: host time only.
    public static let pld = DraftMethod(name: "pld", hostSearch: true)

    /// Whether the verify forward can be a token tree (--tree-size).
    public var supportsTree: Bool { if case .tree = rows { return true } else { return false } }
    /// Dynamic (top-K expanded) trees: the drafter runs over K frontier nodes per depth.
    public var dynamicTree: Bool { rows == .tree(dynamic: true) }
    /// The drafting workload depends on the draft length (one head per draft): rebuilt when it changes.
    public var workloadScalesWithDraftLength: Bool { heads != nil || drafter == .hydraHeads }
    /// Methods with a drafter that keeps a KV cache of its own (a budget or fewer devices apply).
    public var drafterHasCache: Bool {
        drafter == .draftModel || drafter == .eagle || drafter == .eagle3 || drafter == .mtpModule
    }
    /// Drafting costs device work per drafted token (launches, top-k): every drafter and head method.
    public var draftsOnDevice: Bool { drafter != nil || heads != nil }

    /// Rows of the verify forward per sequence at draft length γ (`treeSize`: a tree's nodes, root included).
    public func verifyRows(draftLength gamma: Int, treeSize: Int?) -> Int {
        if self == .ntp { return 1 }
        switch rows {
        case .chain, .tree: return treeSize.map { max($0, gamma + 1) } ?? (gamma + 1)
        case .lookahead(let shape): return shape.rows(window: gamma)
        case .maskedQuadratic: return (gamma + 1) * (gamma + 1)
        case .maskedLinear: return 2 * gamma + 1
        case .beamSearch: return gamma + 1
        }
    }
}

/// Workloads of the drafters, built from the target's shape.
public enum DrafterWorkload {
    /// One decoder layer of the target's shape with a dense FFN of the target's
    /// dense size (EAGLE's draft layer; for Mixtral 14336, as its 0.28B head).
    static func oneLayerParameters(_ target: ModelShape, attentionInputWidth: Double? = nil) -> Double {
        let d = Double(target.hidden)
        var attention = target.attentionParametersPerLayer
        if let input = attentionInputWidth, target.mla == nil {
            // q, k, v read a wider input (EAGLE-3: [embedding ; fused feature], 2d).
            let kvWidth = Double(target.kvHeads * target.headDim)
            attention = input * target.attentionWidth + 2 * input * kvWidth + target.attentionWidth * d
        }
        let ffn = target.ffnParameters(size: target.ffnSize)
        return attention + ffn + 2 * Double(target.hidden)
    }

    static func singleLayer(_ target: ModelShape, name: String, dense: Double) -> ForwardWorkload {
        ForwardWorkload(
            name: name, denseParameters: dense,
            attentionLayers: 1, kvValuesPerTokenPerLayer: target.kvValuesPerTokenPerLayer,
            attentionFlopsPerQueryPerContextToken: target.attentionFlopsPerQueryPerContextToken,
            layers: 1, hidden: Double(target.hidden), bytesPerWeight: target.weightType.bytesPerWeight)
    }

    /// EAGLE-1/2 drafter (Li et al. 2024 §3.1): fc over [embedding ; feature]
    /// (2d → d, with bias), one decoder layer, the target's LM head (V × d).
    public static func eagle(_ target: ModelShape) -> ForwardWorkload {
        let d = Double(target.hidden)
        let fc = 2 * d * d + d
        var workload = singleLayer(target, name: "eagle(\(target.name))",
                                   dense: fc + oneLayerParameters(target) + Double(target.vocab) * d)
        workload.operations = .drafterLayer(target, fusedInputs: 2, headVocab: Double(target.vocab))
        return workload
    }

    /// EAGLE-3 drafter (Li et al. 2025 §3.1; ALGORITHMS.md §12): fc 3d → d (no
    /// bias), one layer whose q/k/v read [RMSNorm(embedding) ; RMSNorm(feature)]
    /// (2d), its own LM head over a reduced draft vocabulary (the release uses 32,000).
    public static func eagle3(_ target: ModelShape, draftVocab: Int) -> ForwardWorkload {
        let d = Double(target.hidden)
        let fc = 3 * d * d
        let vocab = Double(min(draftVocab, target.vocab))
        var workload = singleLayer(target, name: "eagle3(\(target.name))",
                                   dense: fc + oneLayerParameters(target, attentionInputWidth: 2 * d) + vocab * d)
        workload.operations = .drafterLayer(target, fusedInputs: 3, attentionInputWidth: target.mla == nil ? 2 * d : nil,
                                            headVocab: vocab)
        return workload
    }

    /// DeepSeek-V3 MTP module (arXiv 2412.19437 §2.2): projection [h ; emb]
    /// 2d → d, one transformer block of the main model's structure (MoE for
    /// MoE targets), the shared output head.
    public static func sequentialMTP(_ target: ModelShape) -> ForwardWorkload {
        let d = Double(target.hidden)
        let counts = target.parameterCounts
        var workload = singleLayer(target, name: "mtp-module(\(target.name))", dense: 0)
        var dense = 2 * d * d + target.attentionParametersPerLayer + 2 * d + Double(target.vocab) * d
        if let moe = target.moe {
            dense += Double(moe.sharedExperts) * counts.oneExpert + d * Double(moe.routedExperts)
            workload.moeLayers = 1
            workload.expertParameters = counts.oneExpert
            workload.routedExperts = Double(moe.routedExperts)
            workload.activeExperts = Double(moe.activeExperts)
        } else {
            dense += target.ffnParameters(size: target.ffnSize)
        }
        workload.denseParameters = dense
        workload.operations = .drafterLayer(target, fusedInputs: 2, moeLayer: true, headVocab: Double(target.vocab))
        return workload
    }

    /// Medusa heads (Cai et al. 2024 §2.1.1): per head a residual SiLU block
    /// (d × d + bias) and its own unembedding (V × d); evaluated on the verify
    /// rows inside the target's forward.
    public static func medusaHeads(_ target: ModelShape, heads: Int) -> ForwardWorkload {
        let d = Double(target.hidden), k = Double(heads)
        var workload = ForwardWorkload(
            name: "medusa-heads", denseParameters: k * (d * d + d + Double(target.vocab) * d),
            attentionLayers: 0, kvValuesPerTokenPerLayer: 0, attentionFlopsPerQueryPerContextToken: 0,
            layers: 0, forwards: 0, hidden: d, bytesPerWeight: target.weightType.bytesPerWeight)
        workload.operations = .verifyHeads(target, heads: k, residualMatrices: 1, ownHeads: true, sharedUnembedding: false)
        return workload
    }

    /// Blockwise heads (Stern et al. 2018 §4): per extra head a residual
    /// feed-forward layer (d → d → d) and the shared unembedding, whose weights
    /// the LM head already streams (FLOPs only).
    public static func blockwiseHeads(_ target: ModelShape, heads: Int) -> ForwardWorkload {
        let d = Double(target.hidden), k = Double(heads)
        var workload = ForwardWorkload(
            name: "blockwise-heads", denseParameters: k * 2 * d * d,
            extraFlopsPerToken: k * 2 * Double(target.vocab) * d,
            attentionLayers: 0, kvValuesPerTokenPerLayer: 0, attentionFlopsPerQueryPerContextToken: 0,
            layers: 0, forwards: 0, hidden: d, bytesPerWeight: target.weightType.bytesPerWeight)
        workload.operations = .verifyHeads(target, heads: k, residualMatrices: 2, ownHeads: false, sharedUnembedding: true)
        return workload
    }

    /// Gloeckle et al. 2024 extra heads: one transformer block each (with its
    /// own KV cache) on the shared trunk, then the shared unembedding.
    public static func parallelMTPHeads(_ target: ModelShape, heads: Int) -> ForwardWorkload {
        let d = Double(target.hidden), k = Double(heads)
        var workload = ForwardWorkload(
            name: "mtp-heads",
            denseParameters: k * (target.attentionParametersPerLayer + target.ffnParameters(size: target.ffnSize) + 2 * d),
            extraFlopsPerToken: k * 2 * Double(target.vocab) * d,
            attentionLayers: k, kvValuesPerTokenPerLayer: target.kvValuesPerTokenPerLayer,
            attentionFlopsPerQueryPerContextToken: target.attentionFlopsPerQueryPerContextToken,
            layers: k, forwards: 0, hidden: d, bytesPerWeight: target.weightType.bytesPerWeight)
        workload.operations = .verifyHeads(target, heads: k, blocks: 1, residualMatrices: 0, ownHeads: false, sharedUnembedding: true)
        return workload
    }
    /// Hydra heads (Ankner et al. 2024 §3): head k reads [f ; E(x_{t+1}) ; … ; E(x_{t+k+1})] through
    /// one residual SiLU layer ((k + 2)·d → d, with bias) and its own unembedding (V × d). Evaluated
    /// one depth at a time after the verify forward, so one forward is one head: the mean head of K.
    public static func hydraHead(_ target: ModelShape, heads: Int) -> ForwardWorkload {
        let d = Double(target.hidden), k = Double(max(heads, 1))
        // Mean input width over heads 0…K−1: (k + 2)·d averages to (K + 3)/2 · d.
        let meanInput = (k + 3) / 2 * d
        let head = meanInput * d + d + Double(target.vocab) * d
        var workload = ForwardWorkload(
            name: "hydra-head", denseParameters: head,
            attentionLayers: 0, kvValuesPerTokenPerLayer: 0, attentionFlopsPerQueryPerContextToken: 0,
            layers: 0, hidden: d, bytesPerWeight: target.weightType.bytesPerWeight)
        workload.operations = .verifyHeads(target, heads: 1, residualMatrices: (k + 3) / 2, ownHeads: true, sharedUnembedding: false)
        return workload
    }

    /// Masked-input MTP's sampler (Samragh et al. 2025 §3.2): z = f + W_2 SiLU(W_1 [f ; E(y)]) (2d → d,
    /// d → d), then the target's unembedding (V × d, streamed again by the separate forward). One
    /// forward per draft: each reads the previous draft.
    public static func maskSampler(_ target: ModelShape) -> ForwardWorkload {
        let d = Double(target.hidden)
        var workload = ForwardWorkload(
            name: "mask-sampler", denseParameters: 3 * d * d + d + Double(target.vocab) * d,
            attentionLayers: 0, kvValuesPerTokenPerLayer: 0, attentionFlopsPerQueryPerContextToken: 0,
            layers: 0, hidden: d, bytesPerWeight: target.weightType.bytesPerWeight)
        workload.operations = .verifyHeads(target, heads: 1, residualMatrices: 3, ownHeads: true, sharedUnembedding: false)
        return workload
    }
}
