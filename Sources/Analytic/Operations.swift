// A forward pass as the operations a serving stack launches: the matrix products (GEMMs) with
// their shapes and tensor-parallel split, the attention kernel, the routed experts, the
// all-reduces and the small memory-bound kernels. `MeasuredForward` prices each from measured
// kernel tables; the roofline (`Roofline.stepCost`) prices the same forward from its aggregate
// counts in `ForwardWorkload`. The two views describe the same weights: the GEMM weights sum to the
// workload's dense parameters (checked by the tests).

import Foundation

/// How a weight matrix is split over tensor-parallel devices (Megatron-LM, Shoeybi et al. 2019 §3):
/// column-parallel products split their outputs, row-parallel ones their inputs (an all-reduce
/// follows); replicated ones run whole on every device.
public enum TensorSplit: String, Sendable, Equatable {
    case columns, rows, replicated
}

/// One weight matrix applied to every row of a forward, `count` times per forward.
public struct GemmOperation: Sendable, Equatable {
    public var name: String
    /// Output features N and input features K of the whole (unsplit) matrix.
    public var outputs: Double
    public var inputs: Double
    /// Matrices of this shape per forward (layers × per layer).
    public var count: Double
    /// Repeated in every layer (true) or once per forward (LM head, drafter input projection).
    public var perLayer: Bool
    public var split: TensorSplit
    /// Rows per token of the forward: 1, or k when k heads apply the same matrix (blockwise heads'
    /// shared unembedding) as one product over k times the rows.
    public var rowsPerToken: Double
    /// A shared expert, run on a second stream beside the routed experts (SGLang's DeepSeek decode,
    /// `forward_normal_dual_stream`): a MoE layer costs max(shared, routed), not their sum.
    public var overlapsExperts = false

    public init(_ name: String, outputs: Double, inputs: Double, count: Double, perLayer: Bool = true,
                split: TensorSplit, rowsPerToken: Double = 1) {
        self.name = name
        self.outputs = outputs
        self.inputs = inputs
        self.count = count
        self.perLayer = perLayer
        self.split = split
        self.rowsPerToken = rowsPerToken
    }

    /// (outputs, inputs) on one of `devices` tensor-parallel devices.
    public func perDevice(_ devices: Double) -> (outputs: Double, inputs: Double) {
        switch split {
        case .columns: return (max(1, outputs / devices), inputs)
        case .rows: return (outputs, max(1, inputs / devices))
        case .replicated: return (outputs, inputs)
        }
    }

    /// Weight elements (all devices).
    public var weights: Double { outputs * inputs * count }
}

/// The self-attention core of every layer: decode kernel (one query per sequence) or its
/// multi-query form (k queries per sequence: verify of a chain or tree).
public struct AttentionOperation: Sendable, Equatable {
    public var layers: Double
    public var heads: Double
    public var kvHeads: Double
    public var headDim: Double
    /// MLA (absorbed decode, DeepSeek-V2 §2.1.2): the compressed KV width read per cached token
    /// (latent + decoupled RoPE key, 512 + 64 for DeepSeek-V3); nil for multi-head / GQA attention.
    public var latentWidth: Double?

    public init(layers: Double, heads: Double, kvHeads: Double, headDim: Double, latentWidth: Double? = nil) {
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.latentWidth = latentWidth
    }
}

/// Routed experts of the MoE layers (grouped GEMM): each expert is `matrices` matrices between
/// `hidden` and `ffnSize` (gate and up d → f, down f → d for SwiGLU).
public struct ExpertOperation: Sendable, Equatable {
    public var layers: Double
    public var routedExperts: Double
    public var activeExperts: Double
    public var hidden: Double
    public var ffnSize: Double
    public var matrices: Double

    public init(layers: Double, routedExperts: Double, activeExperts: Double, hidden: Double, ffnSize: Double,
                matrices: Double) {
        self.layers = layers
        self.routedExperts = routedExperts
        self.activeExperts = activeExperts
        self.hidden = hidden
        self.ffnSize = ffnSize
        self.matrices = matrices
    }
}

/// Small memory-bound kernels: each costs a fixed latency plus the bytes it moves at the memory
/// bandwidth (aiconfigurator's `mem_empirical_constant_latency` + bytes / scaled bandwidth).
public struct SmallKernels: Sendable, Equatable {
    /// Kernels and bytes moved per row, in every layer.
    public var perLayer: Double
    public var bytesPerRowPerLayer: Double
    /// Kernels and bytes moved per row, once per forward (embedding gather, final norm, sampling
    /// over the vocabulary).
    public var perForward: Double
    public var bytesPerRowPerForward: Double
}

/// A forward as operations.
public struct ForwardOperations: Sendable, Equatable {
    public var layers: Double
    public var gemms: [GemmOperation]
    public var attention: AttentionOperation?
    public var experts: ExpertOperation?
    /// Layers whose row-parallel products all-reduce their output under tensor parallelism
    /// (two per layer: after attention and after the FFN).
    public var allReducesPerForward: Double
    public var hidden: Double
    public var small: SmallKernels
    /// Share of the GEMM weights applied once per forward rather than in every layer.
    public let perForwardWeightShare: Double

    public init(layers: Double, gemms: [GemmOperation], attention: AttentionOperation?, experts: ExpertOperation?,
                allReducesPerForward: Double, hidden: Double, small: SmallKernels) {
        self.layers = layers
        self.gemms = gemms
        self.attention = attention
        self.experts = experts
        self.allReducesPerForward = allReducesPerForward
        self.hidden = hidden
        self.small = small
        let all = gemms.reduce(0) { $0 + $1.weights }
        perForwardWeightShare = all > 0 ? gemms.filter { !$0.perLayer }.reduce(0) { $0 + $1.weights } / all : 0
    }

    /// Weight elements of all GEMMs (all devices).
    public var gemmWeights: Double { gemms.reduce(0) { $0 + $1.weights } }
}

extension ForwardOperations {
    /// The GEMMs of one decoder layer's attention projections (GQA or MLA, absorbed for decode).
    static func attentionGemms(_ shape: ModelShape, layers: Double, inputWidth: Double? = nil) -> [GemmOperation] {
        let d = Double(shape.hidden), h = Double(shape.heads)
        if let mla = shape.mla {
            // SGLang / DeepSeek inference: q_a and kv_a fused and replicated; q_b column-parallel;
            // kv_b absorbed into two per-head batched products (W_UK before, W_UV after the attention
            // core), each one product of H heads' weights; o row-parallel.
            let rope = Double(mla.qkRopeHeadDim), nope = Double(mla.qkNopeHeadDim), latent = Double(mla.kvLoraRank)
            var list: [GemmOperation] = []
            if mla.qLoraRank > 0 {
                let q = Double(mla.qLoraRank)
                list.append(GemmOperation("q_a+kv_a", outputs: q + latent + rope, inputs: d, count: layers, split: .replicated))
                list.append(GemmOperation("q_b", outputs: h * (nope + rope), inputs: q, count: layers, split: .columns))
            } else {
                list.append(GemmOperation("q", outputs: h * (nope + rope), inputs: d, count: layers, split: .columns))
                list.append(GemmOperation("kv_a", outputs: latent + rope, inputs: d, count: layers, split: .replicated))
            }
            list.append(GemmOperation("w_uk (absorbed)", outputs: h * latent, inputs: nope, count: layers, split: .columns))
            list.append(GemmOperation("w_uv (absorbed)", outputs: h * Double(mla.vHeadDim), inputs: latent, count: layers, split: .columns))
            list.append(GemmOperation("o", outputs: d, inputs: h * Double(mla.vHeadDim), count: layers, split: .rows))
            return list
        }
        let input = inputWidth ?? d
        let q = shape.attentionWidth, kv = Double(shape.kvHeads * shape.headDim)
        return [GemmOperation("qkv", outputs: q + 2 * kv, inputs: input, count: layers, split: .columns),
                GemmOperation("o", outputs: d, inputs: q, count: layers, split: .rows)]
    }

    /// The GEMMs of `layers` dense FFNs of intermediate size `size`.
    static func ffnGemms(_ shape: ModelShape, size: Double, layers: Double, name: String = "",
                         overlapsExperts: Bool = false) -> [GemmOperation] {
        guard layers > 0, size > 0 else { return [] }
        let d = Double(shape.hidden)
        var list = [GemmOperation(name + "gate_up", outputs: (shape.ffnKind.matrices - 1) * size, inputs: d, count: layers, split: .columns),
                    GemmOperation(name + "down", outputs: d, inputs: size, count: layers, split: .rows)]
        for i in list.indices { list[i].overlapsExperts = overlapsExperts }
        return list
    }

    /// Small kernels of a pre-norm decoder layer: input norm, rotary embedding, KV-cache write,
    /// activation (SiLU × up), post-attention norm fused with the residual add — five memory-bound
    /// kernels, each reading and writing about one activation row (the FFN activation reads 2f and
    /// writes f values). Per forward: the embedding gather, the final norm and the sampling over the
    /// vocabulary (logits read in float32).
    static func smallKernels(_ shape: ModelShape, ffnSize: Double, activationBytes: Double = 2) -> SmallKernels {
        let d = Double(shape.hidden)
        let perLayerValues = 2 * (2 * d) + 2 * shape.attentionWidth + shape.kvValuesPerTokenPerLayer + 3 * ffnSize
        return SmallKernels(perLayer: 5, bytesPerRowPerLayer: perLayerValues * activationBytes,
                            perForward: 3, bytesPerRowPerForward: 4 * d * activationBytes + 4 * Double(shape.vocab))
    }

    /// The operations of a model's decode forward; nil for encoder-decoder models (cross-attention
    /// has no measured kernel here: the roofline prices them).
    public static func target(_ shape: ModelShape) -> ForwardOperations? {
        guard !shape.isEncoderDecoder else { return nil }
        let layers = Double(shape.layers)
        var gemms = attentionGemms(shape, layers: layers)
        gemms += ffnGemms(shape, size: Double(shape.ffnSize), layers: Double(shape.denseLayerCount))
        var experts: ExpertOperation? = nil
        var ffnForSmall = Double(shape.ffnSize)
        if let moe = shape.moe {
            let moeLayers = Double(shape.moeLayerCount)
            gemms.append(GemmOperation("router", outputs: Double(moe.routedExperts), inputs: Double(shape.hidden),
                                       count: moeLayers, split: .replicated))
            gemms += ffnGemms(shape, size: Double(moe.sharedExperts * moe.expertFFNSize), layers: moeLayers, name: "shared ",
                              overlapsExperts: true)
            experts = ExpertOperation(layers: moeLayers, routedExperts: Double(moe.routedExperts),
                                      activeExperts: Double(moe.activeExperts), hidden: Double(shape.hidden),
                                      ffnSize: Double(moe.expertFFNSize), matrices: shape.ffnKind.matrices)
            ffnForSmall = Double(moe.activeExperts * moe.expertFFNSize)
        }
        gemms.append(GemmOperation("lm_head", outputs: Double(shape.vocab), inputs: Double(shape.hidden), count: 1,
                                   perLayer: false, split: .columns))
        return ForwardOperations(
            layers: layers, gemms: gemms, attention: attention(shape, layers: layers), experts: experts,
            allReducesPerForward: 2 * layers, hidden: Double(shape.hidden),
            small: smallKernels(shape, ffnSize: ffnForSmall))
    }

    static func attention(_ shape: ModelShape, layers: Double) -> AttentionOperation {
        AttentionOperation(layers: layers, heads: Double(shape.heads), kvHeads: Double(shape.kvHeads),
                           headDim: Double(shape.headDim),
                           latentWidth: shape.mla.map { Double($0.kvLoraRank + $0.qkRopeHeadDim) })
    }
}

extension ForwardOperations {
    /// A one-layer drafter (EAGLE-1/2/3, a DeepSeek MTP module): an input projection `fusedInputs` × d
    /// → d, one decoder layer of the target's shape (its attention reading `attentionInputWidth`; MoE
    /// when `moeLayer` and the target has experts), and an LM head over `headVocab` tokens.
    public static func drafterLayer(_ target: ModelShape, fusedInputs: Double, attentionInputWidth: Double? = nil,
                                    moeLayer: Bool = false, headVocab: Double) -> ForwardOperations {
        let d = Double(target.hidden)
        var gemms = [GemmOperation("fc", outputs: d, inputs: fusedInputs * d, count: 1, perLayer: false, split: .replicated)]
        gemms += attentionGemms(target, layers: 1, inputWidth: attentionInputWidth)
        var experts: ExpertOperation? = nil
        var ffnForSmall = Double(target.ffnSize)
        if moeLayer, let moe = target.moe {
            gemms.append(GemmOperation("router", outputs: Double(moe.routedExperts), inputs: d, count: 1, split: .replicated))
            gemms += ffnGemms(target, size: Double(moe.sharedExperts * moe.expertFFNSize), layers: 1, name: "shared ",
                              overlapsExperts: true)
            experts = ExpertOperation(layers: 1, routedExperts: Double(moe.routedExperts), activeExperts: Double(moe.activeExperts),
                                      hidden: d, ffnSize: Double(moe.expertFFNSize), matrices: target.ffnKind.matrices)
            ffnForSmall = Double(moe.activeExperts * moe.expertFFNSize)
        } else {
            gemms += ffnGemms(target, size: Double(target.ffnSize), layers: 1)
        }
        gemms.append(GemmOperation("lm_head", outputs: headVocab, inputs: d, count: 1, perLayer: false, split: .columns))
        var small = smallKernels(target, ffnSize: ffnForSmall)
        small.bytesPerRowPerForward = 4 * d * 2 + 4 * headVocab
        return ForwardOperations(layers: 1, gemms: gemms, attention: attention(target, layers: 1), experts: experts,
                                 allReducesPerForward: 2, hidden: d, small: small)
    }

    /// Heads evaluated inside the verify forward: `heads` × (`blocks` transformer blocks of the target's
    /// shape, `residualMatrices` d × d matrices, an own unembedding when `ownHeads`), and the target's
    /// shared unembedding applied to `heads` times the rows when `sharedUnembedding`.
    public static func verifyHeads(_ target: ModelShape, heads: Double, blocks: Double = 0, residualMatrices: Double,
                                   ownHeads: Bool, sharedUnembedding: Bool) -> ForwardOperations {
        let d = Double(target.hidden), v = Double(target.vocab)
        var gemms: [GemmOperation] = []
        if blocks > 0 {
            gemms += attentionGemms(target, layers: heads * blocks)
            gemms += ffnGemms(target, size: Double(target.ffnSize), layers: heads * blocks)
        }
        if residualMatrices > 0 {
            gemms.append(GemmOperation("head residual", outputs: d, inputs: d, count: heads * residualMatrices, perLayer: false, split: .replicated))
        }
        if ownHeads { gemms.append(GemmOperation("head unembedding", outputs: v, inputs: d, count: heads, perLayer: false, split: .columns)) }
        if sharedUnembedding {
            gemms.append(GemmOperation("shared unembedding", outputs: v, inputs: d, count: 1, perLayer: false, split: .columns, rowsPerToken: heads))
        }
        var small = smallKernels(target, ffnSize: Double(target.ffnSize))
        if blocks == 0 { small.perLayer = 0; small.bytesPerRowPerLayer = 0 }
        small.perForward = heads
        small.bytesPerRowPerForward = heads * 4 * v
        return ForwardOperations(layers: heads * blocks, gemms: gemms,
                                 attention: blocks > 0 ? attention(target, layers: heads * blocks) : nil, experts: nil,
                                 allReducesPerForward: 2 * heads * blocks, hidden: d, small: small)
    }
}
