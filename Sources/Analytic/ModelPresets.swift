// Built-in model shapes (REFERENCES.md §2) and user shapes from JSON.

import Foundation

extension ModelShape {
    /// Meta's FFN sizing rule (REFERENCES.md §2.1, computed):
    /// F = multiple_of · ceil(mult · int(2·4d/3) / multiple_of).
    public static func llamaFFNSize(hidden: Int, multiplier: Double, multipleOf: Int) -> Int {
        let base = Int(Double(2 * 4 * hidden) / 3.0)
        let scaled = Int(multiplier * Double(base))
        return multipleOf * ((scaled + multipleOf - 1) / multipleOf)
    }

    private static func llama(_ name: String, layers: Int, hidden: Int, heads: Int, kvHeads: Int,
                              ffn: Int, vocab: Int, tied: Bool = false, headDim: Int = 128,
                              published: Double?, source: String) -> ModelShape {
        ModelShape(name: name, layers: layers, hidden: hidden, heads: heads, kvHeads: kvHeads, headDim: headDim,
                   ffnKind: .swiglu, ffnSize: ffn, vocab: vocab, tiedEmbeddings: tied,
                   publishedParameters: published, source: source)
    }

    private static func t5(_ name: String, hidden: Int, ffn: Int, heads: Int, layers: Int,
                           published: Double) -> ModelShape {
        // T5 v1.1: gated-GELU FFN, untied head, RMS-style layer norm without bias,
        // 32 relative-position buckets per stack; decoder side used for decoding.
        ModelShape(name: name, layers: layers, hidden: hidden, heads: heads, kvHeads: heads, headDim: 64,
                   ffnKind: .gatedGelu, ffnSize: ffn, vocab: 32128, tiedEmbeddings: false,
                   encoderLayers: layers, relativeAttentionBuckets: 32, publishedParameters: published,
                   source: "google-research/t5x t5_1_1/\(name.dropFirst(3)).gin; sizes from Leviathan et al. 2023 §4.1")
    }

    public static let presets: [ModelShape] = [
        // T5 v1.1 (REFERENCES.md §2.3); published sizes as quoted by Leviathan et al.
        t5("t5-small", hidden: 512, ffn: 1024, heads: 6, layers: 8, published: 77e6),
        t5("t5-base", hidden: 768, ffn: 2048, heads: 12, layers: 12, published: 250e6),
        t5("t5-large", hidden: 1024, ffn: 2816, heads: 16, layers: 24, published: 800e6),
        t5("t5-xxl", hidden: 4096, ffn: 10240, heads: 64, layers: 24, published: 11e9),
        // LLaMA-1 shapes = Vicuna v1.3 (LLaMA paper Table 2; SafeAILab/EAGLE train configs).
        llama("vicuna-7b", layers: 32, hidden: 4096, heads: 32, kvHeads: 32, ffn: 11008, vocab: 32000,
              published: 6.7e9, source: "LLaMA paper Table 2; SafeAILab/EAGLE vicuna_7B_config.json"),
        llama("vicuna-13b", layers: 40, hidden: 5120, heads: 40, kvHeads: 40, ffn: 13824, vocab: 32000,
              published: 13.0e9, source: "LLaMA paper Table 2; SafeAILab/EAGLE vicuna_13B_config.json"),
        llama("vicuna-33b", layers: 60, hidden: 6656, heads: 52, kvHeads: 52, ffn: 17920, vocab: 32000,
              published: 32.5e9, source: "LLaMA paper Table 2; SafeAILab/EAGLE vicuna_33B_config.json"),
        llama("llama-2-7b", layers: 32, hidden: 4096, heads: 32, kvHeads: 32, ffn: 11008, vocab: 32000,
              published: 6.7e9, source: "SafeAILab/EAGLE llama_2_chat_7B_config.json"),
        llama("llama-2-13b", layers: 40, hidden: 5120, heads: 40, kvHeads: 40, ffn: 13824, vocab: 32000,
              published: 13.0e9, source: "SafeAILab/EAGLE llama_2_chat_13B_config.json"),
        llama("llama-2-70b", layers: 80, hidden: 8192, heads: 64, kvHeads: 8, ffn: 28672, vocab: 32000,
              published: 70e9, source: "SafeAILab/EAGLE llama_2_chat_70B_config.json; meta-llama/llama-models sku_list.py"),
        llama("llama-3.1-8b", layers: 32, hidden: 4096, heads: 32, kvHeads: 8,
              ffn: llamaFFNSize(hidden: 4096, multiplier: 1.3, multipleOf: 1024), vocab: 128_256,
              published: 8.03e9, source: "meta-llama/llama-models llama3_1 sku_list.py"),
        llama("llama-3.1-70b", layers: 80, hidden: 8192, heads: 64, kvHeads: 8,
              ffn: llamaFFNSize(hidden: 8192, multiplier: 1.3, multipleOf: 4096), vocab: 128_256,
              published: 70.6e9, source: "meta-llama/llama-models llama3_1 sku_list.py"),
        // Same shapes as 3.1-70B (the standard reading of its config; REFERENCES.md marks it UNVERIFIED).
        llama("llama-3.3-70b", layers: 80, hidden: 8192, heads: 64, kvHeads: 8,
              ffn: llamaFFNSize(hidden: 8192, multiplier: 1.3, multipleOf: 4096), vocab: 128_256,
              published: 70.6e9, source: "meta-llama/llama-models llama3_3 MODEL_CARD.md (shapes as 3.1-70B)"),
        // Draft model for Llama-3 targets (same tokenizer). Not in REFERENCES.md:
        // meta-llama/Llama-3.2-1B config.json (hidden 2048, 16 layers, 32 heads, 8 kv,
        // head_dim 64, intermediate 8192, tied embeddings), 1.24B parameters.
        llama("llama-3.2-1b", layers: 16, hidden: 2048, heads: 32, kvHeads: 8, ffn: 8192, vocab: 128_256,
              tied: true, headDim: 64, published: 1.24e9, source: "meta-llama/Llama-3.2-1B config.json"),
        // Draft model for Vicuna/LLaMA-2 targets used by EAGLE-2's SpS baseline. Not in
        // REFERENCES.md: JackFram/llama-68m config.json (hidden 768, 2 layers, 12 heads, 3072).
        llama("llama-68m", layers: 2, hidden: 768, heads: 12, kvHeads: 12, ffn: 3072, vocab: 32000,
              headDim: 64, published: 68e6, source: "JackFram/llama-68m config.json"),
        ModelShape(name: "qwen2.5-7b", layers: 28, hidden: 3584, heads: 28, kvHeads: 4, headDim: 128,
                   ffnKind: .swiglu, ffnSize: 18944, vocab: 152_064, tiedEmbeddings: false, qkvBias: true,
                   publishedParameters: 7.61e9, source: "Qwen2.5-7B-Instruct config.json; model card 7.61B"),
        ModelShape(name: "mixtral-8x7b", layers: 32, hidden: 4096, heads: 32, kvHeads: 8, headDim: 128,
                   ffnKind: .swiglu, ffnSize: 14336, vocab: 32000, tiedEmbeddings: false,
                   moe: MoEShape(routedExperts: 8, activeExperts: 2, sharedExperts: 0, expertFFNSize: 14336,
                                 denseLayers: 0),
                   publishedParameters: 46.7e9, source: "Mixtral paper (arXiv 2401.04088) Table 1"),
        ModelShape(name: "deepseek-v3", layers: 61, hidden: 7168, heads: 128, kvHeads: 128, headDim: 128,
                   ffnKind: .swiglu, ffnSize: 18432, vocab: 129_280, tiedEmbeddings: false,
                   moe: MoEShape(routedExperts: 256, activeExperts: 8, sharedExperts: 1, expertFFNSize: 2048,
                                 denseLayers: 3, routerBias: true),
                   mla: MLAShape(qLoraRank: 1536, kvLoraRank: 512, qkNopeHeadDim: 128, qkRopeHeadDim: 64,
                                 vHeadDim: 128),
                   weightType: .fp8, publishedParameters: 671e9,
                   source: "deepseek-ai/DeepSeek-V3 inference/configs/config_671B.json; README (671B total)"),
        ModelShape(name: "gpt2-small", layers: 12, hidden: 768, heads: 12, kvHeads: 12, headDim: 64,
                   ffnKind: .gelu, ffnSize: 3072, vocab: 50257, tiedEmbeddings: true, norm: .layerNorm,
                   learnedPositions: 1024, qkvBias: true, projectionBias: true,
                   publishedParameters: 124e6, source: "karpathy/nanoGPT model.py (gpt2: 124M)"),
    ]

    public static var presetNames: [String] { presets.map(\.name) }

    public static func preset(named name: String) throws -> ModelShape {
        guard let found = presets.first(where: { $0.name == name }) else {
            throw AnalyticError.unknownPreset(kind: "model", name: name, valid: presetNames)
        }
        return found
    }

    /// A user-defined shape from JSON. Required: name, layers, hidden, heads,
    /// ffnSize, vocab. Defaults: kvHeads = heads, headDim = hidden / heads,
    /// ffnKind swiglu, untied, rmsnorm, no biases, no MoE/MLA/encoder, bf16.
    /// A Hugging Face `config.json` (top-level `architectures` or `model_type`) is read by `HuggingFaceConfig`.
    public static func load(fromFile path: String) throws -> ModelShape {
        let data = try JSONFiles.read(path, what: "model file")
        let shape = HuggingFaceConfig.isHuggingFaceConfig(data)
            ? try HuggingFaceConfig.shape(from: data, path: path)
            : try JSONFiles.decode(ModelFile.self, from: data, source: "model file '\(path)'").shape
        do { try shape.validate() } catch let error as AnalyticError {
            throw AnalyticError("model file '\(path)': \(error.message)")
        }
        return shape
    }

    /// The same architecture stored in another weight type.
    public func with(weightType: WeightType) -> ModelShape {
        var copy = self
        copy.weightType = weightType
        return copy
    }
}

/// JSON form of a user model shape, with defaults for the optional fields.
struct ModelFile: Decodable {
    var shape: ModelShape

    enum Keys: String, CodingKey {
        case name, layers, hidden, heads, kvHeads, headDim, ffnKind, ffnSize, vocab, tiedEmbeddings,
             norm, learnedPositions, qkvBias, projectionBias, moe, mla, encoderLayers,
             relativeAttentionBuckets, weightType, publishedParameters, source
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let hidden = try c.decode(Int.self, forKey: .hidden)
        let heads = try c.decode(Int.self, forKey: .heads)
        guard heads > 0 else {
            throw DecodingError.dataCorrupted(.init(codingPath: [Keys.heads], debugDescription: "must be >= 1"))
        }
        // Without headDim the head size is hidden / heads, which must then be whole.
        if !c.contains(.headDim), hidden % heads != 0 {
            throw DecodingError.dataCorrupted(.init(codingPath: [Keys.heads], debugDescription: "heads (\(heads)) do not divide hidden (\(hidden)); give headDim explicitly or a heads count that divides hidden"))
        }
        shape = ModelShape(
            name: try c.decode(String.self, forKey: .name),
            layers: try c.decode(Int.self, forKey: .layers),
            hidden: hidden,
            heads: heads,
            kvHeads: try c.decodeIfPresent(Int.self, forKey: .kvHeads) ?? heads,
            headDim: try c.decodeIfPresent(Int.self, forKey: .headDim) ?? hidden / heads,
            ffnKind: try c.decodeIfPresent(FeedForwardKind.self, forKey: .ffnKind) ?? .swiglu,
            ffnSize: try c.decode(Int.self, forKey: .ffnSize),
            vocab: try c.decode(Int.self, forKey: .vocab),
            tiedEmbeddings: try c.decodeIfPresent(Bool.self, forKey: .tiedEmbeddings) ?? false,
            norm: try c.decodeIfPresent(NormKind.self, forKey: .norm) ?? .rmsNorm,
            learnedPositions: try c.decodeIfPresent(Int.self, forKey: .learnedPositions) ?? 0,
            qkvBias: try c.decodeIfPresent(Bool.self, forKey: .qkvBias) ?? false,
            projectionBias: try c.decodeIfPresent(Bool.self, forKey: .projectionBias) ?? false,
            moe: try c.decodeIfPresent(MoEShape.self, forKey: .moe),
            mla: try c.decodeIfPresent(MLAShape.self, forKey: .mla),
            encoderLayers: try c.decodeIfPresent(Int.self, forKey: .encoderLayers) ?? 0,
            relativeAttentionBuckets: try c.decodeIfPresent(Int.self, forKey: .relativeAttentionBuckets) ?? 0,
            weightType: try c.decodeIfPresent(WeightType.self, forKey: .weightType) ?? .bf16,
            publishedParameters: try c.decodeIfPresent(Double.self, forKey: .publishedParameters),
            source: try c.decodeIfPresent(String.self, forKey: .source) ?? "user file")
    }
}
