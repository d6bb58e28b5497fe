// Model shape presets: the exact architecture of the target and draft models
// (REFERENCES.md §2), parameter counts derived from the shape, and the
// per-forward weight and KV-cache quantities the roofline needs.

import Foundation

/// Storage type of the weights.
public enum WeightType: String, Codable, Sendable, CaseIterable {
    case fp32, bf16, fp16, fp8, int4
    public var bytesPerWeight: Double {
        switch self {
        case .fp32: return 4
        case .bf16, .fp16: return 2
        case .fp8: return 1
        case .int4: return 0.5
        }
    }
}

/// Feed-forward block kind: gated kinds (SwiGLU, gated GELU) have 3 matrices
/// (gate, up, down), plain kinds (GELU, ReLU) have 2.
public enum FeedForwardKind: String, Codable, Sendable {
    case swiglu, gatedGelu = "gated-gelu", gelu, relu
    public var matrices: Double { (self == .swiglu || self == .gatedGelu) ? 3 : 2 }
}

public enum NormKind: String, Codable, Sendable {
    case rmsNorm = "rmsnorm", layerNorm = "layernorm"
    /// Parameters of one norm over width d: RMSNorm a scale, LayerNorm scale and bias.
    public func parameters(width: Double) -> Double { self == .rmsNorm ? width : 2 * width }
}

/// Mixture-of-experts feed-forward (Mixtral, DeepSeek-V3).
public struct MoEShape: Codable, Sendable, Equatable {
    /// Routed experts per MoE layer.
    public var routedExperts: Int
    /// Routed experts each token activates (top-k).
    public var activeExperts: Int
    /// Always-active shared experts per MoE layer.
    public var sharedExperts: Int
    /// Intermediate size of one expert.
    public var expertFFNSize: Int
    /// The first `denseLayers` layers use the dense FFN of size `ModelShape.ffnSize`.
    public var denseLayers: Int
    /// Router has a per-expert bias (DeepSeek-V3's score correction).
    public var routerBias: Bool

    enum CodingKeys: String, CodingKey {
        case routedExperts, activeExperts, sharedExperts, expertFFNSize, denseLayers, routerBias
    }

    /// JSON: routedExperts, activeExperts and expertFFNSize are required;
    /// sharedExperts and denseLayers default to 0, routerBias to false.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        routedExperts = try c.decode(Int.self, forKey: .routedExperts)
        activeExperts = try c.decode(Int.self, forKey: .activeExperts)
        sharedExperts = try c.decodeIfPresent(Int.self, forKey: .sharedExperts) ?? 0
        expertFFNSize = try c.decode(Int.self, forKey: .expertFFNSize)
        denseLayers = try c.decodeIfPresent(Int.self, forKey: .denseLayers) ?? 0
        routerBias = try c.decodeIfPresent(Bool.self, forKey: .routerBias) ?? false
    }

    public init(routedExperts: Int, activeExperts: Int, sharedExperts: Int, expertFFNSize: Int,
                denseLayers: Int, routerBias: Bool = false) {
        self.routedExperts = routedExperts
        self.activeExperts = activeExperts
        self.sharedExperts = sharedExperts
        self.expertFFNSize = expertFFNSize
        self.denseLayers = denseLayers
        self.routerBias = routerBias
    }
}

/// Multi-head latent attention (DeepSeek-V2/V3): low-rank query and KV
/// projections; the cache holds the KV latent plus the decoupled RoPE key.
public struct MLAShape: Codable, Sendable, Equatable {
    /// Rank of the query compression (0 = uncompressed query projection).
    public var qLoraRank: Int
    public var kvLoraRank: Int
    public var qkNopeHeadDim: Int
    public var qkRopeHeadDim: Int
    public var vHeadDim: Int

    enum CodingKeys: String, CodingKey { case qLoraRank, kvLoraRank, qkNopeHeadDim, qkRopeHeadDim, vHeadDim }

    /// JSON: kvLoraRank, qkNopeHeadDim, qkRopeHeadDim, vHeadDim required; qLoraRank defaults to 0 (no query compression).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        qLoraRank = try c.decodeIfPresent(Int.self, forKey: .qLoraRank) ?? 0
        kvLoraRank = try c.decode(Int.self, forKey: .kvLoraRank)
        qkNopeHeadDim = try c.decode(Int.self, forKey: .qkNopeHeadDim)
        qkRopeHeadDim = try c.decode(Int.self, forKey: .qkRopeHeadDim)
        vHeadDim = try c.decode(Int.self, forKey: .vHeadDim)
    }

    public init(qLoraRank: Int, kvLoraRank: Int, qkNopeHeadDim: Int, qkRopeHeadDim: Int, vHeadDim: Int) {
        self.qLoraRank = qLoraRank
        self.kvLoraRank = kvLoraRank
        self.qkNopeHeadDim = qkNopeHeadDim
        self.qkRopeHeadDim = qkRopeHeadDim
        self.vHeadDim = vHeadDim
    }
}

/// The architecture of a decoder-only or encoder-decoder transformer.
public struct ModelShape: Codable, Sendable, Equatable {
    public var name: String
    /// Decoder layers (the layers every decode step runs).
    public var layers: Int
    public var hidden: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var ffnKind: FeedForwardKind
    /// Dense FFN intermediate size (for MoE models: of the dense layers).
    public var ffnSize: Int
    public var vocab: Int
    public var tiedEmbeddings: Bool
    public var norm: NormKind
    /// Learned absolute position embeddings (GPT-2: 1024); 0 for RoPE/relative.
    public var learnedPositions: Int
    /// Biases on the q, k, v projections (GPT-2, Qwen2).
    public var qkvBias: Bool
    /// Biases on the attention output and MLP projections (GPT-2).
    public var projectionBias: Bool
    public var moe: MoEShape?
    public var mla: MLAShape?
    /// Encoder layers of an encoder-decoder model (T5); 0 for decoder-only.
    /// Decoder layers then also have cross-attention.
    public var encoderLayers: Int
    /// T5 relative-position buckets (one bias table per stack); 0 otherwise.
    public var relativeAttentionBuckets: Int
    public var weightType: WeightType
    /// Published total parameter count, for checks and listings (nil if none).
    public var publishedParameters: Double?
    public var source: String

    public init(name: String, layers: Int, hidden: Int, heads: Int, kvHeads: Int, headDim: Int,
                ffnKind: FeedForwardKind, ffnSize: Int, vocab: Int, tiedEmbeddings: Bool,
                norm: NormKind = .rmsNorm, learnedPositions: Int = 0, qkvBias: Bool = false,
                projectionBias: Bool = false, moe: MoEShape? = nil, mla: MLAShape? = nil,
                encoderLayers: Int = 0, relativeAttentionBuckets: Int = 0,
                weightType: WeightType = .bf16, publishedParameters: Double?, source: String) {
        self.name = name
        self.layers = layers
        self.hidden = hidden
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.ffnKind = ffnKind
        self.ffnSize = ffnSize
        self.vocab = vocab
        self.tiedEmbeddings = tiedEmbeddings
        self.norm = norm
        self.learnedPositions = learnedPositions
        self.qkvBias = qkvBias
        self.projectionBias = projectionBias
        self.moe = moe
        self.mla = mla
        self.encoderLayers = encoderLayers
        self.relativeAttentionBuckets = relativeAttentionBuckets
        self.weightType = weightType
        self.publishedParameters = publishedParameters
        self.source = source
    }

    public var isEncoderDecoder: Bool { encoderLayers > 0 }
    public var isMoE: Bool { moe != nil }
}

// MARK: - Parameter accounting

/// Parameter counts of a shape, split the way a decode step reads them.
public struct ParameterCounts: Sendable, Equatable {
    /// Input embedding table (+ learned positions): gathered, not streamed, per step.
    public var embedding: Double
    /// Output head (0 when tied: the head reads the embedding table, counted in `headStreamed`).
    public var untiedHead: Double
    /// Decoder self-attention projections, all decoder layers.
    public var decoderAttention: Double
    /// Decoder cross-attention q and o projections (read every step).
    public var crossAttentionQO: Double
    /// Decoder cross-attention k and v projections (applied once per sequence to the encoder output).
    public var crossAttentionKV: Double
    /// Dense FFNs of the decoder (all layers of a dense model; the dense layers of an MoE model).
    public var denseFFN: Double
    /// Shared experts of all MoE layers.
    public var sharedExperts: Double
    /// One routed expert (one layer).
    public var oneExpert: Double
    /// Routed experts of all MoE layers.
    public var routedExperts: Double
    /// Routers of all MoE layers.
    public var routers: Double
    /// Norm scales/biases of the decoder (+ final norm).
    public var decoderNorms: Double
    /// The whole encoder stack (encoder-decoder models).
    public var encoder: Double
    /// Relative-position bias tables.
    public var positionBias: Double
    /// Weights the LM head streams per step (= vocab · d whether tied or not).
    public var headStreamed: Double

    /// Every parameter of the model.
    public var total: Double {
        embedding + untiedHead + decoderAttention + crossAttentionQO + crossAttentionKV + denseFFN
            + sharedExperts + routedExperts + routers + decoderNorms + encoder + positionBias
    }

    /// Parameters one token uses (MoE: active experts only), embeddings included.
    public func active(activeExperts: Double, moeLayers: Double) -> Double {
        total - routedExperts + activeExperts * moeLayers * oneExpert
    }
}

extension ModelShape {
    /// Query-side width H·hd.
    public var attentionWidth: Double { Double(heads * headDim) }

    /// Self-attention projection parameters of one decoder layer.
    public var attentionParametersPerLayer: Double {
        let d = Double(hidden)
        if let mla {
            let h = Double(heads)
            let qkHead = Double(mla.qkNopeHeadDim + mla.qkRopeHeadDim)
            let q: Double = mla.qLoraRank > 0
                ? d * Double(mla.qLoraRank) + Double(mla.qLoraRank) + Double(mla.qLoraRank) * h * qkHead
                : d * h * qkHead
            let kvA = d * Double(mla.kvLoraRank + mla.qkRopeHeadDim) + Double(mla.kvLoraRank)
            let kvB = Double(mla.kvLoraRank) * h * Double(mla.qkNopeHeadDim + mla.vHeadDim)
            let o = h * Double(mla.vHeadDim) * d
            return q + kvA + kvB + o
        }
        let kvWidth = Double(kvHeads * headDim)
        var count = d * attentionWidth * 2 + d * kvWidth * 2
        if qkvBias { count += attentionWidth + 2 * kvWidth }
        if projectionBias { count += d }
        return count
    }

    /// Parameters of one FFN of intermediate size `size`.
    public func ffnParameters(size: Int) -> Double {
        let d = Double(hidden), f = Double(size)
        var count = ffnKind.matrices * d * f
        if projectionBias { count += (ffnKind.matrices - 1) * f + d }
        return count
    }

    public var moeLayerCount: Int { moe.map { layers - $0.denseLayers } ?? 0 }
    public var denseLayerCount: Int { moe.map { $0.denseLayers } ?? layers }

    public var parameterCounts: ParameterCounts {
        let d = Double(hidden), v = Double(vocab)
        let normParams = norm.parameters(width: d)
        let crossQO = isEncoderDecoder ? Double(layers) * 2 * d * attentionWidth : 0
        let crossKV = isEncoderDecoder ? Double(layers) * 2 * d * attentionWidth : 0
        let normsPerDecoderLayer: Double = isEncoderDecoder ? 3 : 2
        var routed = 0.0, shared = 0.0, routers = 0.0, oneExpert = 0.0
        if let moe {
            oneExpert = ffnParameters(size: moe.expertFFNSize)
            let moeLayers = Double(moeLayerCount)
            routed = moeLayers * Double(moe.routedExperts) * oneExpert
            shared = moeLayers * Double(moe.sharedExperts) * oneExpert
            routers = moeLayers * (d * Double(moe.routedExperts) + (moe.routerBias ? Double(moe.routedExperts) : 0))
        }
        let encoderLayer = attentionParametersPerLayer + ffnParameters(size: ffnSize) + 2 * normParams
        let encoder = isEncoderDecoder ? Double(encoderLayers) * encoderLayer + normParams : 0
        let stacks: Double = isEncoderDecoder ? 2 : 1
        return ParameterCounts(
            embedding: v * d + Double(learnedPositions) * d,
            untiedHead: tiedEmbeddings ? 0 : v * d,
            decoderAttention: Double(layers) * attentionParametersPerLayer,
            crossAttentionQO: crossQO,
            crossAttentionKV: crossKV,
            denseFFN: Double(denseLayerCount) * ffnParameters(size: ffnSize),
            sharedExperts: shared,
            oneExpert: oneExpert,
            routedExperts: routed,
            routers: routers,
            decoderNorms: Double(layers) * normsPerDecoderLayer * normParams + normParams,
            encoder: encoder,
            positionBias: stacks * Double(relativeAttentionBuckets * heads),
            headStreamed: v * d)
    }

    /// Total parameters derived from the shape.
    public var totalParameters: Double { parameterCounts.total }

    /// Parameters one token activates (MoE: top-k routed + shared), all embeddings included.
    public var activeParameters: Double {
        parameterCounts.active(activeExperts: Double(moe?.activeExperts ?? 0), moeLayers: Double(moeLayerCount))
    }

    /// Values (not bytes) each token adds to the self-attention KV cache of one layer:
    /// 2 · kvHeads · headDim (K and V; GQA-aware), or the MLA latent + RoPE key.
    public var kvValuesPerTokenPerLayer: Double {
        if let mla { return Double(mla.kvLoraRank + mla.qkRopeHeadDim) }
        return 2 * Double(kvHeads * headDim)
    }

    /// Attention-core FLOPs per query token per context token per layer:
    /// QKᵀ and AV, 2 FLOPs per multiply-add each → 4 · H · hd. MLA in the
    /// absorbed form (DeepSeek-V2 §2.1.2 / V3 inference code) scores against the
    /// latent + RoPE key and reads values from the latent: 2·H·(r_kv + r_rope) + 2·H·r_kv.
    public var attentionFlopsPerQueryPerContextToken: Double {
        if let mla {
            let h = Double(heads)
            return 2 * h * Double(mla.kvLoraRank + mla.qkRopeHeadDim) + 2 * h * Double(mla.kvLoraRank)
        }
        return 4 * attentionWidth
    }

    /// Bytes of all weights at the shape's weight type.
    public var weightBytes: Double { totalParameters * weightType.bytesPerWeight }

    public func validate() throws {
        let fields: [(Int, String)] = [(layers, "layers"), (hidden, "hidden"), (heads, "heads"),
                                       (kvHeads, "kvHeads"), (headDim, "headDim"), (ffnSize, "ffnSize"),
                                       (vocab, "vocab")]
        for (value, field) in fields where value < 1 {
            throw AnalyticError("model '\(name)': \(field) must be >= 1, got \(value)")
        }
        // Far beyond any published model; past them sizes overflow and loops run for hours.
        let ceilings: [(Int, String, Int)] = [(layers, "layers", 10_000), (hidden, "hidden", 1 << 20), (heads, "heads", 1 << 16),
                                              (headDim, "headDim", 1 << 16), (ffnSize, "ffnSize", 1 << 22), (vocab, "vocab", 1 << 24),
                                              (encoderLayers, "encoderLayers", 10_000)]
        for (value, field, ceiling) in ceilings where value > ceiling {
            throw AnalyticError("model '\(name)': \(field) must be <= \(ceiling) (beyond any published model), got \(value)")
        }
        if heads % kvHeads != 0 {
            throw AnalyticError("model '\(name)': heads (\(heads)) must be a multiple of kvHeads (\(kvHeads))")
        }
        if let moe {
            if moe.routedExperts < 1 || moe.activeExperts < 1 || moe.activeExperts > moe.routedExperts {
                throw AnalyticError("model '\(name)': moe.activeExperts must be in 1...moe.routedExperts")
            }
            if moe.denseLayers < 0 || moe.denseLayers > layers {
                throw AnalyticError("model '\(name)': moe.denseLayers must be in 0...layers")
            }
            if moe.expertFFNSize < 1 || moe.sharedExperts < 0 {
                throw AnalyticError("model '\(name)': moe.expertFFNSize must be >= 1 and moe.sharedExperts >= 0")
            }
        }
        if encoderLayers < 0 { throw AnalyticError("model '\(name)': encoderLayers must be >= 0") }
    }
}
