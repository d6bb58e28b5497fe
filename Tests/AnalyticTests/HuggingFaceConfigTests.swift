import Foundation
import Testing
@testable import Analytic

/// Hugging Face `config.json` files, as the Hub ships them, read as model shapes.
/// Fixtures: Tests/Fixtures/huggingface/<model>.json (real configs of the named models).
@Suite("Hugging Face config.json")
struct HuggingFaceConfigTests {
    static let fixtures: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/huggingface")

    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent("\(name).json").path }

    static func load(_ name: String) throws -> ModelShape { try ModelShape.load(fromFile: fixture(name)) }

    /// What each fixture says, read off the file by hand, and the model's published total.
    struct Expected: Sendable, CustomStringConvertible {
        var file: String
        var layers: Int, hidden: Int, heads: Int, kvHeads: Int, headDim: Int, ffnSize: Int, vocab: Int
        var tied = false, qkvBias = false
        var experts: (routed: Int, active: Int, shared: Int, size: Int, dense: Int)? = nil
        var weightType: WeightType = .bf16
        /// Total parameters from the model card or paper (typed here, not derived).
        var published: Double
        /// The preset of the same model, when ModelPresets.swift has one.
        var preset: String? = nil
        var description: String { file }
    }

    static let expected: [Expected] = [
        // Meta model card / Hub: 8.03B.
        Expected(file: "Llama-3.1-8B-Instruct", layers: 32, hidden: 4096, heads: 32, kvHeads: 8, headDim: 128,
                 ffnSize: 14336, vocab: 128_256, published: 8.03e9, preset: "llama-3.1-8b"),
        // Mistral AI's release announcement: "a 7.3B parameter model".
        Expected(file: "Mistral-7B-v0.1", layers: 32, hidden: 4096, heads: 32, kvHeads: 8, headDim: 128,
                 ffnSize: 14336, vocab: 32000, published: 7.3e9),
        // Qwen2.5-7B-Instruct model card: 7.61B.
        Expected(file: "Qwen2.5-7B-Instruct", layers: 28, hidden: 3584, heads: 28, kvHeads: 4, headDim: 128,
                 ffnSize: 18944, vocab: 152_064, qkvBias: true, published: 7.61e9, preset: "qwen2.5-7b"),
        // Qwen3-8B model card: 8.2B.
        Expected(file: "Qwen3-8B", layers: 36, hidden: 4096, heads: 32, kvHeads: 8, headDim: 128,
                 ffnSize: 12288, vocab: 151_936, published: 8.2e9),
        // Mixtral paper (arXiv 2401.04088): 47B, the announcement 46.7B.
        Expected(file: "Mixtral-8x7B-v0.1", layers: 32, hidden: 4096, heads: 32, kvHeads: 8, headDim: 128,
                 ffnSize: 14336, vocab: 32000, experts: (8, 2, 0, 14336, 0), published: 46.7e9, preset: "mixtral-8x7b"),
        // Qwen3-30B-A3B model card: 30.5B total, 3.3B activated.
        Expected(file: "Qwen3-30B-A3B", layers: 48, hidden: 2048, heads: 32, kvHeads: 4, headDim: 128,
                 ffnSize: 6144, vocab: 151_936, experts: (128, 8, 0, 768, 0), published: 30.5e9),
        // DeepSeek-V3 README: 671B total, 37B activated (the MTP module's 14B not included).
        Expected(file: "DeepSeek-V3", layers: 61, hidden: 7168, heads: 128, kvHeads: 128, headDim: 128,
                 ffnSize: 18432, vocab: 129_280, experts: (256, 8, 1, 2048, 3), weightType: .fp8,
                 published: 671e9, preset: "deepseek-v3"),
    ]

    @Test("each fixture maps to the fields its config.json states", arguments: expected)
    func fields(expected: Expected) throws {
        let shape = try Self.load(expected.file)
        #expect(shape.layers == expected.layers)
        #expect(shape.hidden == expected.hidden)
        #expect(shape.heads == expected.heads)
        #expect(shape.kvHeads == expected.kvHeads)
        #expect(shape.headDim == expected.headDim)
        #expect(shape.ffnSize == expected.ffnSize)
        #expect(shape.vocab == expected.vocab)
        #expect(shape.tiedEmbeddings == expected.tied)
        #expect(shape.qkvBias == expected.qkvBias)
        #expect(shape.projectionBias == false)
        #expect(shape.ffnKind == .swiglu && shape.norm == .rmsNorm && shape.learnedPositions == 0)
        #expect(shape.weightType == expected.weightType)
        if let experts = expected.experts {
            let moe = try #require(shape.moe)
            #expect(moe.routedExperts == experts.routed)
            #expect(moe.activeExperts == experts.active)
            #expect(moe.sharedExperts == experts.shared)
            #expect(moe.expertFFNSize == experts.size)
            #expect(moe.denseLayers == experts.dense)
        } else {
            #expect(shape.moe == nil)
        }
        #expect(shape.source.contains("Hugging Face config.json"))
    }

    @Test("the total parameter count is within 2% of the published size", arguments: expected)
    func publishedSize(expected: Expected) throws {
        let total = try Self.load(expected.file).totalParameters
        #expect(abs(total - expected.published) / expected.published <= 0.02,
                "\(expected.file): derived \(total), published \(expected.published)")
    }

    @Test("a config of a model with a preset maps to the preset's shape", arguments: expected.filter { $0.preset != nil })
    func sameAsPreset(expected: Expected) throws {
        let preset = try model(try #require(expected.preset))
        var shape = try Self.load(expected.file)
        #expect(shape.totalParameters == preset.totalParameters)
        #expect(shape.activeParameters == preset.activeParameters)
        // Everything but the labels is the preset's.
        shape.name = preset.name
        shape.source = preset.source
        shape.publishedParameters = preset.publishedParameters
        #expect(shape == preset)
    }

    @Test("DeepSeek-V3: multi-head latent attention from the config, 37B active (README)")
    func deepSeekLatentAttention() throws {
        let shape = try Self.load("DeepSeek-V3")
        #expect(shape.mla == MLAShape(qLoraRank: 1536, kvLoraRank: 512, qkNopeHeadDim: 128, qkRopeHeadDim: 64, vHeadDim: 128))
        #expect(shape.moe?.routerBias == true)
        #expect(abs(shape.activeParameters - 37e9) / 37e9 < 0.02)
    }

    @Test("Qwen3-30B-A3B: about 3.3B active (model card)")
    func qwenMoEActive() throws {
        let shape = try Self.load("Qwen3-30B-A3B")
        #expect(abs(shape.activeParameters - 3.3e9) / 3.3e9 < 0.02)
    }

    @Test("the name comes from the file name when the config has no _name_or_path")
    func nameFromFile() throws {
        #expect(try Self.load("Qwen3-8B").name == "Qwen3-8B")
    }

    @Test("an unsupported architecture is refused in one line naming it and the supported list")
    func unsupportedArchitecture() {
        let error = expectAnalyticError(mentioning: ["architectures \"GPT2LMHeadModel\" is not supported",
                                                     "LlamaForCausalLM", "DeepseekV3ForCausalLM", "ffnSize"]) {
            _ = try Self.load("gpt2")
        }
        #expect(error?.message.contains("gpt2.json") == true)
    }

    @Test("a missing required field is one line naming it")
    func missingField() throws {
        let text = try String(contentsOfFile: Self.fixture("Llama-3.1-8B-Instruct"), encoding: .utf8)
            .replacingOccurrences(of: "\"hidden_size\": 4096,", with: "")
        let url = try BadInputTests.temporaryFile(text)
        defer { try? FileManager.default.removeItem(at: url) }
        expectAnalyticError(mentioning: ["missing field 'hidden_size'", "LlamaForCausalLM"]) {
            _ = try ModelShape.load(fromFile: url.path)
        }
    }

    @Test("a field of the wrong type, an unknown model_type and an unknown dtype are one line each")
    func badValues() throws {
        let cases: [(String, String)] = [
            (#"{"architectures": ["LlamaForCausalLM"], "num_hidden_layers": "32"}"#, "field 'num_hidden_layers' must be a whole number"),
            (#"{"model_type": "gpt_neox"}"#, "model_type \"gpt_neox\" is not supported"),
            (#"{"architectures": ["MistralForCausalLM"], "num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 4, "vocab_size": 10, "intermediate_size": 128, "torch_dtype": "int8"}"#, "torch_dtype \"int8\""),
            (#"{"architectures": [], "model_type": "llama"}"#, "architectures"),
        ]
        for (text, fragment) in cases {
            let url = try BadInputTests.temporaryFile(text)
            defer { try? FileManager.default.removeItem(at: url) }
            expectAnalyticError(mentioning: [fragment]) { _ = try ModelShape.load(fromFile: url.path) }
        }
    }

    @Test("model_type alone is enough; Qwen2-MoE's shared expert and sparse-step layers are counted")
    func qwen2MoEFromModelType() throws {
        // The sizes of Qwen2-57B-A14B's config.json, with every other layer sparse for the test.
        let text = #"""
        {"model_type": "qwen2_moe", "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28,
         "num_attention_heads": 28, "num_key_value_heads": 4, "vocab_size": 151936, "num_experts": 64,
         "num_experts_per_tok": 8, "moe_intermediate_size": 2560, "shared_expert_intermediate_size": 20480,
         "decoder_sparse_step": 2, "mlp_only_layers": [1], "torch_dtype": "float16"}
        """#
        let url = try BadInputTests.temporaryFile(text)
        defer { try? FileManager.default.removeItem(at: url) }
        let shape = try ModelShape.load(fromFile: url.path)
        // Sparse layers: odd indices (i + 1 even) except layer 1, so 13 of 28; 15 dense.
        #expect(shape.moe == MoEShape(routedExperts: 64, activeExperts: 8, sharedExperts: 8, expertFFNSize: 2560, denseLayers: 15))
        #expect(shape.qkvBias && shape.weightType == .fp16)
    }

    @Test("SpecLab's own model files still load as before")
    func ownFormatUnchanged() throws {
        let url = try BadInputTests.temporaryFile(#"{"name": "m", "layers": 2, "hidden": 64, "heads": 4, "ffnSize": 128, "vocab": 100}"#)
        defer { try? FileManager.default.removeItem(at: url) }
        let shape = try ModelShape.load(fromFile: url.path)
        #expect(shape.name == "m" && shape.headDim == 16 && shape.source == "user file")
        let missing = try BadInputTests.temporaryFile(#"{"name": "m", "layers": 2}"#)
        defer { try? FileManager.default.removeItem(at: missing) }
        expectAnalyticError(mentioning: ["missing field 'hidden'"]) { _ = try ModelShape.load(fromFile: missing.path) }
    }
}
