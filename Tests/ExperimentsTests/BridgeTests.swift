import Analytic
import Foundation
import Requests
import Testing
@testable import Experiments

/// A hand-written scrape in vLLM v1's Prometheus text format (counter names as
/// registered in vllm/v1/spec_decode/metrics.py, `_total` samples as
/// prometheus_client exposes them), two engines with 3 speculative tokens:
/// Tests/Fixtures/vllm-metrics.prom, also read by notebook 005.
/// Sums: drafts 1000, draft tokens 3000, accepted 1800, per position 800/600/400.
private let fixturePath = Repository.root.appendingPathComponent("Tests/Fixtures/vllm-metrics.prom").path
private let fixture = (try? String(contentsOfFile: fixturePath, encoding: .utf8)) ?? ""

private func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-12) -> Bool { abs(a - b) <= tolerance * max(1, abs(b)) }

private func jsonObject(_ text: String) throws -> [String: Any] {
    try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

@Suite("Bridges: vLLM metrics import")
struct BridgeMetricsTests {
    @Test("counters are summed over label sets; _created samples and other metrics are ignored")
    func parsesCounters() throws {
        let c = try VLLMMetrics.parse(fixture)
        #expect(c.numDrafts == 1000)
        #expect(c.numDraftTokens == 3000)
        #expect(c.numAcceptedTokens == 1800)
        #expect(c.numAcceptedTokensPerPosition == [800, 600, 400])
    }

    @Test("α, A_k, τ and the draft acceptance rate match hand arithmetic")
    func acceptanceByHand() throws {
        let report = try VLLMAcceptanceReport(counters: VLLMMetrics.parse(fixture), draftLengths: [1, 2, 3, 4, 8])
        #expect(report.measuredDraftLength == 3)
        // A_k = per_pos / drafts
        for (got, want) in zip(report.unconditional, [0.8, 0.6, 0.4]) { #expect(close(got, want)) }
        // α_k = A_k / A_{k-1}
        for (got, want) in zip(report.conditional, [0.8, 0.75, 2.0 / 3.0]) { #expect(close(got, want)) }
        #expect(close(report.tau, 2.8))                    // 1 + 1800/1000
        #expect(close(report.tauPerPositionModel, 2.8))    // 1 + 0.8 + 0.6 + 0.4
        #expect(close(report.draftAcceptanceRate, 0.6))    // 1800/3000
        let tau = Dictionary(uniqueKeysWithValues: report.projections.map { ($0.draftLength, $0.tau) })
        #expect(close(tau[1]!, 1.8))
        #expect(close(tau[2]!, 2.4))
        #expect(close(tau[3]!, 2.8))
        // Beyond 3 positions: every extra position keeps α = 2/3, so A_{3+j} = 0.4 (2/3)^j.
        #expect(close(tau[4]!, 2.8 + 0.4 * 2 / 3))
        let r = 2.0 / 3.0
        #expect(close(tau[8]!, 2.8 + 0.4 * r * (1 - pow(r, 5)) / (1 - r), 1e-12))
        #expect(report.projections.map(\.extrapolated) == [false, false, false, true, true])
        let p2 = report.projections.first { $0.draftLength == 2 }!
        #expect(close(p2.draftAcceptanceRate, 0.7))        // (2.4 − 1) / 2
    }

    @Test("the report JSON has its keys")
    func reportJSON() throws {
        let report = try VLLMAcceptanceReport(counters: VLLMMetrics.parse(fixture), draftLengths: [1, 2, 4, 8])
        let object = try jsonObject(report.json(source: "fixture"))
        for key in ["source", "num_drafts", "num_draft_tokens", "num_accepted_tokens", "num_accepted_tokens_per_pos",
                    "measured_draft_length", "conditional_acceptance", "unconditional_acceptance", "tau",
                    "tau_per_position_model", "draft_acceptance_rate", "predictions", "extrapolation"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        let predictions = try #require(object["predictions"] as? [[String: Any]])
        #expect(predictions.count == 4)
        #expect(predictions[3]["extrapolated"] as? Bool == true)
    }

    @Test("a file without a counter names the missing metric in one line")
    func missingMetric() throws {
        let noDrafts = fixture.split(separator: "\n").filter { !$0.hasPrefix("vllm:spec_decode_num_drafts_total") }.joined(separator: "\n")
        let error = try #require(throws: AnalyticError.self) { try VLLMMetrics.parse(noDrafts) }
        #expect(error.message.contains("vllm:spec_decode_num_drafts_total"))
        #expect(!error.message.contains("\n"))

        let noPerPos = fixture.split(separator: "\n").filter { !$0.contains("per_pos") }.joined(separator: "\n")
        let error2 = try #require(throws: AnalyticError.self) { try VLLMMetrics.parse(noPerPos) }
        #expect(error2.message.contains("vllm:spec_decode_num_accepted_tokens_per_pos_total"))

        let gap = fixture.split(separator: "\n").filter { !$0.contains("position=\"1\"") }.joined(separator: "\n")
        let error3 = try #require(throws: AnalyticError.self) { try VLLMMetrics.parse(gap) }
        #expect(error3.message.contains("position=\"1\""))

        let error4 = try #require(throws: AnalyticError.self) { try VLLMMetrics.parse("not prometheus at all\n{}") }
        #expect(error4.message.contains("missing metric"))
    }

    @Test("a garbled sample value is reported with its line number")
    func badValue() throws {
        let text = fixture.replacingOccurrences(of: "} 600.0", with: "} six-hundred")
        let error = try #require(throws: AnalyticError.self) { try VLLMMetrics.parse(text, source: "m.txt") }
        #expect(error.message.contains("m.txt: line 6"))
        #expect(error.message.contains("six-hundred"))
    }

    @Test("counters that contradict the prefix rule are rejected")
    func inconsistent() throws {
        var c = try VLLMMetrics.parse(fixture)
        c.numAcceptedTokensPerPosition = [500, 700, 100]
        #expect(throws: AnalyticError.self) { try VLLMAcceptanceReport(counters: c, draftLengths: [1]) }
        c = try VLLMMetrics.parse(fixture)
        c.numDrafts = 0
        #expect(throws: AnalyticError.self) { try VLLMAcceptanceReport(counters: c, draftLengths: [1]) }
    }
}

@Suite("Bridges: recommend")
struct BridgeRecommendTests {
    func config(method: String, alpha: Double = 0.8, batch: Int = 1, draftModel: String? = nil,
                treeSize: Int? = nil) throws -> PredictionConfig {
        var r = PredictRequest()
        r.hardware = "h100-sxm"; r.model = "llama-3.1-8b"; r.method = method; r.alpha = alpha
        r.batch = batch; r.draftLength = 1; r.draftModel = draftModel; r.treeSize = treeSize
        return try r.resolve()
    }

    @Test("the recommended draft length maximises predicted speedup over 1...max", arguments: [
        ("eagle3", 1), ("eagle3", 64), ("sd", 1), ("mtp", 8), ("pld", 1),
    ])
    func bestIsArgmax(method: String, batch: Int) throws {
        let c = try config(method: method, batch: batch, draftModel: method == "sd" ? "llama-3.2-1b" : nil)
        let max = 12
        let r = try Bridges.recommend(c, maxDraftLength: max)
        let predictor = try Predictor(c)
        let best = try predictor.predict(draftLength: r.draftLength).speedup
        #expect(close(r.prediction.speedup, best, 1e-12))
        if r.draftLength > 1 { #expect(try predictor.predict(draftLength: r.draftLength - 1).speedup <= best) }
        if r.draftLength < max { #expect(try predictor.predict(draftLength: r.draftLength + 1).speedup <= best) }
        for gamma in 1...max { #expect(try predictor.predict(draftLength: gamma).speedup <= best * (1 + 1e-12)) }
        #expect(r.speedupByDraftLength.map(\.draftLength) == Array(1...max))
    }

    @Test("recommend JSON has its keys, the vLLM speculative_config and the SGLang flags")
    func recommendJSON() throws {
        let r = try Bridges.recommend(config(method: "eagle3"), maxDraftLength: 16)
        let object = try jsonObject(Bridges.json(r))
        for key in ["method", "hardware", "model", "batch", "context", "devices", "max_draft_length", "best_draft_length",
                    "speedup", "tau", "tokens_per_second", "speedup_by_draft_length", "vllm", "sglang"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["best_draft_length"] as? Int == r.draftLength)
        let vllm = try #require(object["vllm"] as? [String: Any])
        #expect(vllm["supported"] as? Bool == true)
        let spec = try #require(vllm["speculative_config"] as? [String: Any])
        #expect(spec["method"] as? String == "eagle3")
        #expect(spec["model"] as? String == Bridges.draftModelPlaceholder)
        #expect(spec["num_speculative_tokens"] as? Int == r.draftLength)
        #expect((vllm["command_line"] as? String)?.hasPrefix("--speculative-config '{") == true)
        let sglang = try #require(object["sglang"] as? [String: Any])
        let flags = try #require(sglang["flags"] as? [String: String])
        #expect(flags["--speculative-algorithm"] == "EAGLE3")
        #expect(flags["--speculative-num-steps"] == String(r.draftLength))
        #expect(flags["--speculative-eagle-topk"] == "1")
        #expect(flags["--speculative-num-draft-tokens"] == String(r.draftLength + 1))
    }

    @Test("a measured τ is read at its own draft length and scored elsewhere as the i.i.d. α with that τ")
    func tauIsConverted() throws {
        var r = PredictRequest()
        r.hardware = "h100-sxm"; r.model = "llama-3.1-8b"; r.method = "eagle3"; r.tau = 3.0; r.draftLength = 4
        let fromTau = try Bridges.recommend(r.resolve(), maxDraftLength: 12)
        let alpha = try Acceptance.iidAlpha(tau: 3.0, draftLength: 4)
        let fromAlpha = try Bridges.recommend(config(method: "eagle3", alpha: alpha), maxDraftLength: 12)
        #expect(fromTau.draftLength == fromAlpha.draftLength)
        #expect(close(fromTau.prediction.speedup, fromAlpha.prediction.speedup, 1e-9))
    }

    @Test("a tree maps to SGLang's top-k and draft-token count")
    func treeFlags() throws {
        let r = try Bridges.recommend(config(method: "eagle2", treeSize: 60), maxDraftLength: 8)
        let flags = Dictionary(uniqueKeysWithValues: r.sglang.fields)
        #expect(flags["--speculative-algorithm"] == "EAGLE")
        #expect(flags["--speculative-eagle-topk"] == "10")
        #expect(flags["--speculative-num-draft-tokens"] == "60")
        #expect(r.vllm.note?.contains("chain") == true)
    }

    @Test("methods an engine lacks get a note, not settings")
    func unsupported() throws {
        let blockwise = try Bridges.recommend(config(method: "blockwise"), maxDraftLength: 8)
        #expect(!blockwise.vllm.supported && !blockwise.sglang.supported)
        #expect(blockwise.vllm.note?.contains("blockwise") == true)
        let object = try jsonObject(Bridges.json(blockwise))
        #expect((object["vllm"] as? [String: Any])?["speculative_config"] is NSNull)
        let medusa = try Bridges.recommend(config(method: "medusa"), maxDraftLength: 5)
        #expect(medusa.vllm.supported && !medusa.sglang.supported)
        let pld = try Bridges.recommend(config(method: "pld"), maxDraftLength: 8)
        #expect(pld.vllm.fields.first?.1 == "\"ngram\"")
        #expect(Dictionary(uniqueKeysWithValues: pld.sglang.fields)["--speculative-algorithm"] == "NGRAM")
        #expect(throws: AnalyticError.self) { try Bridges.recommend(config(method: "ntp"), maxDraftLength: 8) }
    }

    /// Drafts that are almost never accepted cannot pay for themselves: every draft length predicts a
    /// slowdown, and recommend says to serve without speculation, to the engines and on the terminal.
    @Test("when no draft length beats plain decoding, recommend answers plain decoding")
    func plainDecoding() throws {
        let r = try Bridges.recommend(config(method: "sd", alpha: 0.05, draftModel: "llama-3.2-1b"), maxDraftLength: 8)
        #expect(r.speedupByDraftLength.allSatisfy { $0.speedup < 1 })
        #expect(!r.vllm.supported && !r.sglang.supported && r.vllm.note?.contains("serve without speculative decoding") == true)
        guard CLI.available else { return }
        let run = try CLI.run(["recommend", "--hardware", "h100-sxm", "--model", "llama-3.1-8b", "--method", "sd",
                               "--draft-model", "llama-3.2-1b", "--alpha", "0.05"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("recommendation      plain decoding"), "\(run.stdout)")
    }
}
