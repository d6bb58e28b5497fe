import Foundation
import Testing
@testable import Analytic

/// Every bad input throws an `AnalyticError` with a one-line message that names
/// the offending flag, field or preset (`expectAnalyticError` checks one line).
@Suite("Bad input")
struct BadInputTests {
    static func sdConfig(alpha: Double = 0.8, acceptance: AcceptanceModel? = nil, draftLength: Int = 4,
                         batch: Int = 1) throws -> PredictionConfig {
        PredictionConfig(hardware: try hardware("h100-sxm"), model: try model("llama-3.1-8b"), method: .sd,
                         draftModel: try model("llama-3.2-1b"), draftLength: draftLength, batch: batch,
                         acceptance: acceptance ?? .iid(alpha: alpha))
    }

    /// A fresh temporary file holding `text`, removed by the caller.
    static func temporaryFile(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("speclab-analytic-\(UUID().uuidString).json")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test("α = 1.2 and α = −0.1 are rejected, naming alpha", arguments: [1.2, -0.1, Double.nan, Double.infinity])
    func alphaOutOfRange(alpha: Double) throws {
        let config = try Self.sdConfig(alpha: alpha)
        expectAnalyticError(mentioning: ["alpha"]) { try config.validate() }
        expectAnalyticError(mentioning: ["alpha"]) { _ = try Predictor(config).predict() }
        expectAnalyticError(mentioning: ["alpha"]) { _ = try Cycle.predict(config) }
    }

    @Test("an out-of-range α given as a predict override is rejected too", arguments: [1.2, -0.1])
    func alphaOverrideOutOfRange(alpha: Double) throws {
        let predictor = try Predictor(try Self.sdConfig())
        expectAnalyticError(mentioning: ["alpha"]) { _ = try predictor.predict(acceptance: .iid(alpha: alpha)) }
    }

    @Test("an out-of-range α on a sweep axis stops the sweep, naming alpha")
    func alphaSweepOutOfRange() throws {
        let axes = [try SweepAxis.parse("alpha=0.8,1.2")]
        expectAnalyticError(mentioning: ["alpha"]) { _ = try Sweep.run(base: try Self.sdConfig(), axes: axes) }
        expectAnalyticError(mentioning: ["alpha"]) {
            _ = try Sweep.run(base: try Self.sdConfig(), axes: axes, optimizeDraftLength: 8)
        }
    }

    @Test("per-position α out of range names its position")
    func perPositionOutOfRange() throws {
        let config = try Self.sdConfig(acceptance: .perPosition(alphas: [0.8, 1.5, 0.6]), draftLength: 3)
        expectAnalyticError(mentioning: ["alpha_2"]) { try config.validate() }
    }

    @Test("negative or zero draft length is rejected, naming --draft-length", arguments: [-1, 0])
    func badDraftLength(draftLength: Int) throws {
        let config = try Self.sdConfig(draftLength: draftLength)
        expectAnalyticError(mentioning: ["--draft-length", "\(draftLength)"]) { try config.validate() }
        expectAnalyticError(mentioning: ["--draft-length"]) { _ = try Predictor(config) }
        // The sweep fast path checks its override too.
        let predictor = try Predictor(try Self.sdConfig())
        expectAnalyticError(mentioning: ["draft length"]) { _ = try predictor.predict(draftLength: draftLength) }
    }

    @Test("batch 0 is rejected, naming --batch")
    func batchZero() throws {
        let config = try Self.sdConfig(batch: 0)
        expectAnalyticError(mentioning: ["--batch", "0"]) { try config.validate() }
        let predictor = try Predictor(try Self.sdConfig())
        expectAnalyticError(mentioning: ["batch"]) { _ = try predictor.predict(batch: 0) }
    }

    @Test("unknown hardware preset: message lists the valid names")
    func unknownHardware() {
        expectAnalyticError(mentioning: ["h100", "hardware", "h100-sxm", "a100-80gb", "rtx-4090"]) {
            _ = try Hardware.preset(named: "h100")
        }
    }

    @Test("unknown model preset: message names it and lists the valid names")
    func unknownModel() {
        expectAnalyticError(mentioning: ["llama-9b", "model", "llama-3.1-8b", "mixtral-8x7b"]) {
            _ = try ModelShape.preset(named: "llama-9b")
        }
    }

    @Test("unknown runtime profile lists the valid ones")
    func unknownRuntime() {
        expectAnalyticError(mentioning: ["turbo", "ideal", "compiled", "hf-eager"]) { _ = try RuntimeOverhead.preset(named: "turbo") }
    }

    @Test("malformed model JSON (\"layers\": \"many\") names the field")
    func malformedModelFile() throws {
        let url = try Self.temporaryFile("""
            {"name": "bad", "layers": "many", "hidden": 512, "heads": 8, "ffnSize": 2048, "vocab": 1000}
            """)
        defer { try? FileManager.default.removeItem(at: url) }
        expectAnalyticError(mentioning: ["layers", url.path]) { _ = try ModelShape.load(fromFile: url.path) }
    }

    @Test("model JSON missing a required field names it", arguments: ["name", "layers", "hidden", "heads", "ffnSize", "vocab"])
    func missingModelField(field: String) throws {
        var fields: [String: String] = ["name": "\"small\"", "layers": "2", "hidden": "256", "heads": "4",
                                        "ffnSize": "1024", "vocab": "256"]
        fields[field] = nil
        let json = "{" + fields.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
        let url = try Self.temporaryFile(json)
        defer { try? FileManager.default.removeItem(at: url) }
        expectAnalyticError(mentioning: ["missing", "'\(field)'"]) { _ = try ModelShape.load(fromFile: url.path) }
    }

    @Test("a valid minimal model JSON loads with the documented defaults")
    func minimalModelFile() throws {
        let url = try Self.temporaryFile("""
            {"name": "small", "layers": 2, "hidden": 256, "heads": 4, "ffnSize": 1024, "vocab": 256}
            """)
        defer { try? FileManager.default.removeItem(at: url) }
        let shape = try ModelShape.load(fromFile: url.path)
        #expect(shape.kvHeads == 4 && shape.headDim == 64 && shape.ffnKind == .swiglu && shape.weightType == .bf16)
        // Parameters by hand: embedding 256·256 + head 256·256 + 2 × (attention 4·256² + SwiGLU 3·256·1024
        // + 2 norms × 256) + final norm 256 = 131,072 + 2 × 1,049,088 + 256 = 2,229,504.
        #expect(shape.totalParameters == 2_229_504)
    }

    @Test("model JSON with an invalid value names the field (kvHeads not dividing heads)")
    func invalidModelValue() throws {
        let url = try Self.temporaryFile("""
            {"name": "odd", "layers": 2, "hidden": 256, "heads": 4, "kvHeads": 3, "ffnSize": 1024, "vocab": 256}
            """)
        defer { try? FileManager.default.removeItem(at: url) }
        expectAnalyticError(mentioning: ["kvHeads", "odd"]) { _ = try ModelShape.load(fromFile: url.path) }
    }

    @Test("a missing model file says so")
    func missingFile() {
        expectAnalyticError(mentioning: ["/nonexistent/speclab-model.json", "no such file"]) {
            _ = try ModelShape.load(fromFile: "/nonexistent/speclab-model.json")
        }
    }

    @Test("hardware JSON missing a required field names it")
    func missingHardwareField() throws {
        let url = try Self.temporaryFile("""
            {"name": "mychip", "memoryBytes": 1e10, "flopsPerSecond16": 1e14}
            """)
        defer { try? FileManager.default.removeItem(at: url) }
        expectAnalyticError(mentioning: ["missing", "memoryBytesPerSecond"]) { _ = try Hardware.load(fromFile: url.path) }
    }

    @Test("Llama-3.1-70B on one RTX 4090 does not fit: says by how much")
    func doesNotFit() throws {
        let config = PredictionConfig(hardware: try hardware("rtx-4090"), model: try model("llama-3.1-70b"),
                                      method: .ntp, draftLength: 0, acceptance: .iid(alpha: 0.8))
        let error = expectAnalyticError(mentioning: ["llama-3.1-70b", "does not fit", "short by", "rtx-4090", "--devices"]) {
            _ = try Predictor(config).predict()
        }
        // 70.554e9 × 2 B = 141.1 GB of weights alone.
        #expect(error?.message.contains("weights 141.1 GB") == true, "\(error?.message ?? "")")
    }

    @Test("τ = 7 with draft length 3 is impossible (at most γ + 1 = 4)")
    func impossibleTau() throws {
        let config = try Self.sdConfig(acceptance: .meanAcceptedLength(tau: 7), draftLength: 3)
        expectAnalyticError(mentioning: ["tau", "7", "draft length 3", "impossible"]) { _ = try Predictor(config).predict() }
        expectAnalyticError(mentioning: ["tau", "impossible"]) { _ = try Acceptance.iidAlpha(tau: 7, draftLength: 3) }
        expectAnalyticError(mentioning: ["tau"]) { _ = try AcceptanceModel.meanAcceptedLength(tau: 7).distribution(draftLength: 3) }
        // τ below 1 is rejected too (it counts the bonus token).
        expectAnalyticError(mentioning: ["tau"]) {
            try PredictionConfig(hardware: try hardware("h100-sxm"), model: try model("llama-3.1-8b"), method: .eagle3,
                                 draftLength: 3, acceptance: .meanAcceptedLength(tau: 0.5)).validate()
        }
    }

    @Test("--alphas shorter than the draft length is rejected, naming --alphas")
    func alphasTooShort() throws {
        let config = try Self.sdConfig(acceptance: .perPosition(alphas: [0.8, 0.7]), draftLength: 3)
        expectAnalyticError(mentioning: ["--alphas", "2", "3"]) { _ = try Predictor(config).predict() }
        expectAnalyticError(mentioning: ["--alphas"]) { _ = try AcceptanceModel.perPosition(alphas: [0.8, 0.7]).distribution(draftLength: 3) }
        expectAnalyticError(mentioning: ["--alphas"]) { try AcceptanceModel.perPosition(alphas: []).validate() }
    }

    @Test("empirical histogram errors")
    func badHistogram() throws {
        expectAnalyticError(mentioning: ["histogram"]) { try AcceptanceModel.empirical(counts: [0, 0]).validate() }
        expectAnalyticError(mentioning: ["count of accepted length 1"]) { try AcceptanceModel.empirical(counts: [1, -1]).validate() }
        expectAnalyticError(mentioning: ["histogram", "2"]) { _ = try AcceptanceModel.empirical(counts: [1, 2, 3]).distribution(draftLength: 5) }
    }

    @Test("sd without a draft model, tree on a chain-only method, too-small tree")
    func structuralErrors() throws {
        var config = try Self.sdConfig()
        config.draftModel = nil
        expectAnalyticError(mentioning: ["--draft-model"]) { try config.validate() }
        var tree = try Self.sdConfig()
        tree.treeSize = 20
        expectAnalyticError(mentioning: ["--tree-size", "sd"]) { try tree.validate() }
        var small = try Self.sdConfig(draftLength: 5)
        small.method = .eagle2
        small.treeSize = 4
        expectAnalyticError(mentioning: ["--tree-size", "4"]) { try small.validate() }
        var devices = try Self.sdConfig()
        devices.devices = 0
        expectAnalyticError(mentioning: ["--devices"]) { try devices.validate() }
        var context = try Self.sdConfig()
        context.contextTokens = -5
        expectAnalyticError(mentioning: ["--context"]) { try context.validate() }
    }
}
