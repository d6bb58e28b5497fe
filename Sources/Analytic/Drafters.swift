// Drafting methods and the forward workloads of their drafters.
// Shapes from the papers (REFERENCES.md §2.6, ALGORITHMS.md §4–§13).

import Foundation

/// A decoding method: plain decoding or one way of drafting.
public enum DraftMethod: String, Sendable, CaseIterable, Codable {
    /// Plain next-token decoding: the baseline (draft length 0).
    case ntp
    /// Separate small draft model (Leviathan et al. 2023; Chen et al. 2023).
    case sd
    /// EAGLE-1: fc 2d→d + one decoder layer + the target's LM head; static tree or chain.
    case eagle1
    /// EAGLE-2: the EAGLE-1 drafter with a dynamic top-K tree.
    case eagle2
    /// EAGLE-3: fc 3d→d fusion, one layer with 2d-wide attention input, reduced draft vocabulary.
    case eagle3
    /// DeepSeek-V3 sequential MTP modules: proj 2d→d + one target-shaped block + shared head.
    case mtp
    /// Gloeckle et al. 2024 parallel MTP: extra head blocks computed in the target's own forward.
    case mtpParallel = "mtp-parallel"
    /// Medusa-1/2 heads: residual block + own unembedding per head, in the target's forward.
    case medusa
    /// Stern et al. 2018 blockwise heads: residual FF + shared unembedding, in the target's forward.
    case blockwise
    /// Prompt lookup / n-gram drafting: host time only.
    case pld

    public static var names: [String] { allCases.map(\.rawValue) }

    /// A method by its name, also under the reference model's decode names (mtp-sequential = mtp).
    public static func named(_ name: String) -> DraftMethod? {
        name == "mtp-sequential" ? .mtp : DraftMethod(rawValue: name)
    }

    /// Methods whose drafts come from heads evaluated inside the verify forward.
    public var draftsInsideVerify: Bool { self == .medusa || self == .blockwise || self == .mtpParallel }
    /// Methods with a separate drafter forward per draft depth.
    public var hasDrafterForwards: Bool { self == .sd || self == .eagle1 || self == .eagle2 || self == .eagle3 || self == .mtp }
    /// Methods whose published form verifies a token tree.
    public var supportsTree: Bool { self == .eagle1 || self == .eagle2 || self == .eagle3 || self == .medusa }
    /// Dynamic (top-K expanded) trees: the drafter runs over K frontier nodes per depth.
    public var dynamicTree: Bool { self == .eagle2 || self == .eagle3 }
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
}
