// Reading a Hugging Face `config.json` as the model shape the engine prices.
//
// The meaning of every field below is taken from the configuration and modelling
// classes of Hugging Face transformers (src/transformers/models/<family>/):
// configuration_llama.py, configuration_mistral.py, configuration_qwen2.py,
// configuration_qwen3.py, configuration_mixtral.py, configuration_qwen2_moe.py,
// configuration_qwen3_moe.py, configuration_deepseek_v3.py and the matching
// modeling_*.py files, which show which weights a field creates.

import Foundation

/// A decoder of Hugging Face `config.json` files for the architectures the engine
/// can express as a `ModelShape`.
///
/// Mapping (shared by every supported architecture):
/// - `num_hidden_layers` → `layers`; `hidden_size` → `hidden`; `num_attention_heads` → `heads`;
///   `vocab_size` → `vocab`; `intermediate_size` → `ffnSize` (the dense MLP width; for MoE
///   models the width of their dense layers).
/// - `num_key_value_heads` → `kvHeads`; absent or null means one KV head per query head
///   (the configuration classes fall back to `num_attention_heads`, i.e. plain multi-head attention).
/// - `head_dim` → `headDim` when given (Qwen3 states it; Llama/Mistral/Mixtral accept it);
///   otherwise `hidden_size / num_attention_heads`, the classes' default.
/// - `tie_word_embeddings` → `tiedEmbeddings`, default false (the default of every
///   configuration class listed above).
/// - `hidden_act`: the MLPs of these families are gated (gate, up and down projections,
///   `down(act(gate(x)) * up(x))`); `silu` makes that SwiGLU, a GELU variant gated GELU.
/// - All of them use RMSNorm, rotary positions (no position table) and no MLP biases
///   unless `mlp_bias` says so (Llama).
/// - Weight type: `quantization_config.quant_method` `fp8` (DeepSeek-V3's block-wise FP8)
///   → `fp8`; a GPTQ/AWQ config with `bits` 4 → `int4`; otherwise `torch_dtype`
///   (or `dtype`, its newer name): bfloat16 → bf16, float16 → fp16, float32 → fp32;
///   bf16 when neither is given. Other quantization methods are refused.
///
/// Not represented (no weights, or too few to matter for the analytic model, noted per case):
/// rotary scaling (`rope_scaling`, `rope_theta`), sliding-window attention (`sliding_window`:
/// the KV cache is priced over the whole context), the multi-token-prediction module of
/// DeepSeek-V3 (`num_nextn_predict_layers`: not part of its 671B), Qwen3's per-head q/k
/// RMSNorm (2·head_dim weights per layer), Qwen2-MoE's shared-expert gate (hidden_size
/// weights per layer), and the position of dense layers among MoE layers (the engine
/// counts dense and MoE layers; their order does not change a step's cost).
public enum HuggingFaceConfig {
    /// The `architectures` values understood, in the order error messages list them.
    public static let supportedArchitectures: [String] = [
        "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM",
        "MixtralForCausalLM", "Qwen2MoeForCausalLM", "Qwen3MoeForCausalLM", "DeepseekV3ForCausalLM",
    ]

    /// `model_type` values (the configuration classes' `model_type` attribute) and their architecture,
    /// used when a file has no `architectures` list.
    static let architectureOfModelType: [String: String] = [
        "llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM",
        "qwen3": "Qwen3ForCausalLM", "mixtral": "MixtralForCausalLM", "qwen2_moe": "Qwen2MoeForCausalLM",
        "qwen3_moe": "Qwen3MoeForCausalLM", "deepseek_v3": "DeepseekV3ForCausalLM",
    ]

    /// What to write instead when a file cannot be read as a Hugging Face config (README.md, "User presets are JSON files").
    static let alternative = "write SpecLab's own model-file format instead (name, layers, hidden, heads, ffnSize, vocab; see README.md)"

    /// True when the document is a JSON object with a top-level `architectures` array or a
    /// `model_type` key: the marks of a Hugging Face config, which SpecLab's own model files never carry.
    public static func isHuggingFaceConfig(_ data: Data) -> Bool {
        guard let object = try? JSONDecoder().decode([String: JSONValue].self, from: data) else { return false }
        if case .array = object["architectures"] { return true }
        return object["model_type"] != nil
    }

    /// The shape described by a Hugging Face `config.json`. `path` names the file in errors and
    /// gives the model its name when the file has no `_name_or_path`. Every error is one line.
    public static func shape(from data: Data, path: String) throws -> ModelShape {
        let file = "model file '\(path)' (Hugging Face config.json)"
        let object: [String: JSONValue]
        do {
            object = try JSONDecoder().decode([String: JSONValue].self, from: data)
        } catch {
            throw AnalyticError("\(file): not a JSON object")
        }
        let architecture = try Self.architecture(of: object, file: file)
        let fields = Fields(object: object, prefix: "\(file), \(architecture)")
        let defaultName = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let given = try fields.optionalString("_name_or_path") ?? ""
        let name = given.isEmpty ? defaultName : given
        return try shape(fields, architecture: architecture, name: name,
                         source: "Hugging Face config.json '\(path)' (\(architecture))")
    }

    /// The architecture named by `architectures[0]`, or by `model_type` when there is no list.
    static func architecture(of object: [String: JSONValue], file: String) throws -> String {
        let supported = supportedArchitectures.joined(separator: ", ")
        if case .array(let names)? = object["architectures"] {
            guard case .string(let name)? = names.first else {
                throw AnalyticError("\(file): field 'architectures' must list the model class, e.g. [\"LlamaForCausalLM\"]")
            }
            guard supportedArchitectures.contains(name) else {
                throw AnalyticError("\(file): architectures \"\(name)\" is not supported (supported: \(supported)); \(alternative)")
            }
            return name
        }
        guard case .string(let modelType)? = object["model_type"] else {
            throw AnalyticError("\(file): missing field 'architectures' (and 'model_type' is not a string)")
        }
        guard let name = architectureOfModelType[modelType] else {
            let types = architectureOfModelType.keys.sorted().joined(separator: ", ")
            throw AnalyticError("\(file): model_type \"\(modelType)\" is not supported (supported: \(types)); \(alternative)")
        }
        return name
    }

    static func shape(_ f: Fields, architecture: String, name: String, source: String) throws -> ModelShape {
        let layers = try f.int("num_hidden_layers")
        let hidden = try f.int("hidden_size")
        let heads = try f.int("num_attention_heads")
        guard heads > 0 else { throw f.error("field 'num_attention_heads' must be >= 1, got \(heads)") }
        let kvHeads = try f.optionalInt("num_key_value_heads") ?? heads
        let vocab = try f.int("vocab_size")
        let ffnSize = try f.int("intermediate_size")
        let tied = try f.optionalBool("tie_word_embeddings") ?? false
        let ffnKind = try feedForwardKind(f)
        let weightType = try Self.weightType(f)

        var headDim: Int
        if let given = try f.optionalInt("head_dim") {
            headDim = given
        } else {
            guard hidden % heads == 0 else {
                throw f.error("num_attention_heads (\(heads)) does not divide hidden_size (\(hidden)) and there is no 'head_dim'")
            }
            headDim = hidden / heads
        }

        var qkvBias = false, projectionBias = false
        var moe: MoEShape?
        var mla: MLAShape?

        switch architecture {
        case "LlamaForCausalLM", "MistralForCausalLM":
            // configuration_llama.py: `attention_bias` puts biases on the q, k, v and o projections,
            // `mlp_bias` on the gate, up and down projections. Mistral has neither (its projections are
            // bias-free in modeling_mistral.py), so both read false there. ModelShape counts the o bias
            // with the MLP biases (`projectionBias`): an o bias without MLP biases (hidden_size per
            // layer) is left out, an MLP bias without an o bias adds hidden_size per layer too many.
            qkvBias = try f.optionalBool("attention_bias") ?? false
            projectionBias = try f.optionalBool("mlp_bias") ?? false
        case "Qwen2ForCausalLM":
            // modeling_qwen2.py: q_proj, k_proj, v_proj carry biases, o_proj and the MLP do not;
            // there is no config field for it.
            qkvBias = true
        case "Qwen3ForCausalLM":
            // configuration_qwen3.py: `attention_bias` (default false) on q, k, v, o; head_dim given explicitly.
            qkvBias = try f.optionalBool("attention_bias") ?? false
        case "MixtralForCausalLM":
            // configuration_mixtral.py: every layer's MLP is a sparse block of `num_local_experts`
            // experts, each an MLP of width `intermediate_size`, of which `num_experts_per_tok` run per
            // token; the router is a bias-free linear layer (modeling_mixtral.py).
            let routed = try f.int("num_local_experts")
            moe = MoEShape(routedExperts: routed, activeExperts: try f.int("num_experts_per_tok"), sharedExperts: 0,
                           expertFFNSize: ffnSize, denseLayers: 0)
        case "Qwen2MoeForCausalLM", "Qwen3MoeForCausalLM":
            // configuration_qwen2_moe.py / configuration_qwen3_moe.py: `num_experts` experts of width
            // `moe_intermediate_size`, top `num_experts_per_tok` per token. Layer i is sparse when it is not
            // in `mlp_only_layers` and (i + 1) is a multiple of `decoder_sparse_step`; other layers have
            // a dense MLP of width `intermediate_size`. Qwen2-MoE adds one always-on shared expert of width
            // `shared_expert_intermediate_size` (Qwen3-MoE has none), and q/k/v biases as Qwen2
            // (a `qkv_bias` field is honoured when a file has one; true otherwise).
            if architecture == "Qwen2MoeForCausalLM" {
                qkvBias = try f.optionalBool("qkv_bias") ?? true
            } else {
                qkvBias = try f.optionalBool("attention_bias") ?? false
            }
            let routed = try f.int("num_experts")
            if routed > 0 {
                let expertSize = try f.int("moe_intermediate_size")
                guard expertSize > 0 else { throw f.error("field 'moe_intermediate_size' must be >= 1, got \(expertSize)") }
                let step = try f.optionalInt("decoder_sparse_step") ?? 1
                guard step >= 1 else { throw f.error("field 'decoder_sparse_step' must be >= 1, got \(step)") }
                let dense = Set(try f.optionalIntArray("mlp_only_layers") ?? [])
                let denseLayers = (0..<layers).filter { dense.contains($0) || ($0 + 1) % step != 0 }.count
                var shared = 0
                if architecture == "Qwen2MoeForCausalLM", let sharedSize = try f.optionalInt("shared_expert_intermediate_size"), sharedSize > 0 {
                    // One shared MLP of width s holds the weights of s / moe_intermediate_size experts.
                    guard sharedSize % expertSize == 0 else {
                        throw f.error("shared_expert_intermediate_size (\(sharedSize)) is not a multiple of moe_intermediate_size (\(expertSize)); \(alternative)")
                    }
                    shared = sharedSize / expertSize
                }
                moe = MoEShape(routedExperts: routed, activeExperts: try f.int("num_experts_per_tok"), sharedExperts: shared,
                               expertFFNSize: expertSize, denseLayers: denseLayers)
            }
        case "DeepseekV3ForCausalLM":
            // configuration_deepseek_v3.py, multi-head latent attention: queries go through a rank
            // `q_lora_rank` bottleneck (null: a plain projection), keys and values through a shared
            // rank `kv_lora_rank` latent; each head's query/key has a `qk_nope_head_dim` part without
            // rotary embedding and a `qk_rope_head_dim` rotary part, its value `v_head_dim` numbers.
            // The attention output is heads × v_head_dim wide, which is what `headDim` stands for here.
            if try f.optionalBool("attention_bias") == true {
                throw f.error("attention_bias true is not modelled for multi-head latent attention; \(alternative)")
            }
            let vHeadDim = try f.int("v_head_dim")
            mla = MLAShape(qLoraRank: try f.optionalInt("q_lora_rank") ?? 0, kvLoraRank: try f.int("kv_lora_rank"),
                           qkNopeHeadDim: try f.int("qk_nope_head_dim"), qkRopeHeadDim: try f.int("qk_rope_head_dim"),
                           vHeadDim: vHeadDim)
            headDim = vHeadDim
            // MoE: `n_routed_experts` experts of width `moe_intermediate_size`, `num_experts_per_tok` per
            // token, plus `n_shared_experts` always-on experts of the same width. Layer i is sparse when
            // i >= `first_k_dense_replace` and i is a multiple of `moe_layer_freq`; the rest have a dense MLP
            // of width `intermediate_size`. The router keeps a per-expert score-correction bias
            // (e_score_correction_bias in modeling_deepseek_v3.py).
            if let routed = try f.optionalInt("n_routed_experts"), routed > 0 {
                let firstDense = try f.optionalInt("first_k_dense_replace") ?? 0
                let frequency = try f.optionalInt("moe_layer_freq") ?? 1
                guard frequency >= 1 else { throw f.error("field 'moe_layer_freq' must be >= 1, got \(frequency)") }
                let denseLayers = (0..<layers).filter { !($0 >= firstDense && $0 % frequency == 0) }.count
                moe = MoEShape(routedExperts: routed, activeExperts: try f.int("num_experts_per_tok"),
                               sharedExperts: try f.optionalInt("n_shared_experts") ?? 0,
                               expertFFNSize: try f.int("moe_intermediate_size"), denseLayers: denseLayers, routerBias: true)
            }
        default:
            throw f.error("architecture has no mapping")
        }

        return ModelShape(name: name, layers: layers, hidden: hidden, heads: heads, kvHeads: kvHeads, headDim: headDim,
                          ffnKind: ffnKind, ffnSize: ffnSize, vocab: vocab, tiedEmbeddings: tied, norm: .rmsNorm,
                          learnedPositions: 0, qkvBias: qkvBias, projectionBias: projectionBias, moe: moe, mla: mla,
                          weightType: weightType, publishedParameters: nil, source: source)
    }

    /// The gated MLP's activation (`hidden_act`, default silu in every class here).
    static func feedForwardKind(_ f: Fields) throws -> FeedForwardKind {
        let activation = try f.optionalString("hidden_act") ?? "silu"
        switch activation {
        case "silu", "swish": return .swiglu
        case "gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast": return .gatedGelu
        default: throw f.error("hidden_act \"\(activation)\" is not supported (supported: silu, gelu); \(alternative)")
        }
    }

    /// The stored weight type: the quantization config first, then `torch_dtype` / `dtype`.
    static func weightType(_ f: Fields) throws -> WeightType {
        if case .object(let quantization)? = f.object["quantization_config"] {
            let q = Fields(object: quantization, prefix: f.prefix, path: "quantization_config.")
            let method = try q.optionalString("quant_method") ?? "(none)"
            let bits = try q.optionalInt("bits")
            if method == "fp8" || method == "fbgemm_fp8" { return .fp8 }
            if (method == "gptq" || method == "awq"), bits == 4 { return .int4 }
            let detail = bits.map { " with bits \($0)" } ?? ""
            throw f.error("quantization_config.quant_method \"\(method)\"\(detail) is not supported (supported: fp8; gptq or awq with bits 4); \(alternative)")
        }
        let key = f.object["torch_dtype"] != nil ? "torch_dtype" : "dtype"
        guard let dtype = try f.optionalString(key) else { return .bf16 }
        switch dtype {
        case "bfloat16": return .bf16
        case "float16": return .fp16
        case "float32": return .fp32
        default: throw f.error("\(key) \"\(dtype)\" is not supported (supported: bfloat16, float16, float32)")
        }
    }
}

/// Typed reads of a config's fields; each failure is one line naming the field.
struct Fields {
    let object: [String: JSONValue]
    /// "model file '…' (Hugging Face config.json), <architecture>"
    let prefix: String
    /// Prefix of nested field names in messages ("quantization_config.").
    var path = ""

    func error(_ message: String) -> AnalyticError { AnalyticError("\(prefix): \(message)") }

    private func wholeNumber(_ key: String, _ value: Double) throws -> Int {
        guard value.rounded() == value, abs(value) < 1e15 else {
            throw error("field '\(path)\(key)' must be a whole number, got \(value)")
        }
        return Int(value)
    }

    /// A required whole number.
    func int(_ key: String) throws -> Int {
        guard let value = try optionalInt(key) else { throw error("missing field '\(path)\(key)'") }
        return value
    }

    /// A whole number, nil when the key is absent or null.
    func optionalInt(_ key: String) throws -> Int? {
        switch object[key] {
        case nil, .null?: return nil
        case .number(let value)?: return try wholeNumber(key, value)
        case let other?: throw error("field '\(path)\(key)' must be a whole number, got \(other.text)")
        }
    }

    func optionalBool(_ key: String) throws -> Bool? {
        switch object[key] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        case let other?: throw error("field '\(path)\(key)' must be true or false, got \(other.text)")
        }
    }

    func optionalString(_ key: String) throws -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case let other?: throw error("field '\(path)\(key)' must be a string, got \(other.text)")
        }
    }

    func optionalIntArray(_ key: String) throws -> [Int]? {
        switch object[key] {
        case nil, .null?: return nil
        case .array(let values)?:
            return try values.map { value in
                guard case .number(let number) = value else {
                    throw error("field '\(path)\(key)' must list whole numbers, got \(value.text)")
                }
                return try wholeNumber(key, number)
            }
        case let other?: throw error("field '\(path)\(key)' must be a list of whole numbers, got \(other.text)")
        }
    }
}

/// Any JSON value, for documents whose fields vary in type (config.json mixes numbers, lists,
/// nested objects and nulls).
enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let value = try? c.decode(Bool.self) { self = .bool(value) }
        else if let value = try? c.decode(Double.self) { self = .number(value) }
        else if let value = try? c.decode(String.self) { self = .string(value) }
        else if let value = try? c.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    /// A short rendering for error messages.
    var text: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return String(value)
        case .number(let value): return value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(value)
        case .string(let value): return "\"\(value)\""
        case .array: return "a list"
        case .object: return "an object"
        }
    }
}
