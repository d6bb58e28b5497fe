// speclab import-vllm-metrics / recommend: bridges to vLLM and SGLang.
// Flags and printing only; the logic is in Experiments/Bridges.swift.

import Analytic
import ArgumentParser
import Experiments
import Files
import Foundation
import Methods

struct ImportVLLMMetrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-vllm-metrics",
        abstract: "Read vLLM's spec-decode counters from a /metrics scrape: α, A_k, τ, and τ at other draft lengths.",
        discussion: """
        FILE is vLLM v1's Prometheus text (e.g. curl http://host:8000/metrics > FILE). The counters \
        vllm:spec_decode_num_drafts_total, vllm:spec_decode_num_draft_tokens_total, \
        vllm:spec_decode_num_accepted_tokens_total and \
        vllm:spec_decode_num_accepted_tokens_per_pos_total{position="i"} are summed over label sets. \
        They are cumulative since server start: subtract two scrapes yourself to measure one window.

        Draft lengths beyond the measured positions reuse the last measured conditional rate α_K \
        for every extra position (marked extrapolated).
        """)

    @Argument(help: "Prometheus text exposition file from vLLM's /metrics endpoint.") var file: String
    @Option(name: .customLong("draft-lengths"), help: "Draft lengths to predict τ for (comma-separated).") var draftLengths = "1,2,4,8"
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let lengths = try draftLengths.split(separator: ",").map { part -> Int in
            let text = part.trimmingCharacters(in: .whitespaces)
            guard let value = Int(text), value >= 1, value <= 1024 else {
                throw AnalyticError("--draft-lengths: '\(text)' is not a draft length (give whole numbers 1...1024, e.g. 1,2,4,8)")
            }
            return value
        }
        guard !lengths.isEmpty else { throw AnalyticError("--draft-lengths is empty (give e.g. 1,2,4,8)") }
        let counters = try VLLMMetrics.load(path: file)
        let report = try VLLMAcceptanceReport(counters: counters, draftLengths: lengths)
        if json {
            say(report.json(source: file))
            return
        }
        say("vLLM spec-decode counters from \(file)")
        say("  drafts \(JSONText.number(counters.numDrafts)), draft tokens \(JSONText.number(counters.numDraftTokens)), accepted tokens \(JSONText.number(counters.numAcceptedTokens)), measured positions \(report.measuredDraftLength)")
        say("  position  accepted   A_k (P(a ≥ k))  α_k (conditional)")
        for k in 0..<report.measuredDraftLength {
            say(String(format: "  %8d  %8.0f   %14.4f  %17.4f", k + 1, counters.numAcceptedTokensPerPosition[k],
                       report.unconditional[k], report.conditional[k]))
        }
        say("  τ (mean acceptance length, bonus included)  \(format(report.tau, 4))")
        if abs(report.tauPerPositionModel - report.tau) > 1e-6 * max(1, report.tau) {
            say("  τ from per-position counters                \(format(report.tauPerPositionModel, 4))  (differs from num_accepted_tokens: counters from different moments?)")
        }
        say("  draft acceptance rate                       \(format(report.draftAcceptanceRate, 4))")
        say("  predicted at other draft lengths (per-position model):")
        say("    γ        τ   draft acceptance rate")
        for p in report.projections {
            say(String(format: "  %3d  %7.4f   %8.4f", p.draftLength, p.tau, p.draftAcceptanceRate) + (p.extrapolated ? "   extrapolated" : ""))
        }
        if report.projections.contains(where: \.extrapolated) {
            say("  extrapolated: \(VLLMAcceptanceReport.extrapolationNote)")
        }
    }
}

struct Recommend: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Best draft length for a configuration, with the vLLM speculative_config and SGLang flags for it.",
        discussion: """
        Scans draft lengths 1...--max-draft-length with the cycle model (the speedup-maximising one wins; \
        ties go to the shorter). --draft-length is ignored, except with --tau: τ is measured at one draft \
        length, so give that as --draft-length; it is turned into the i.i.d. α with that τ there. \
        Engine settings use '\(Bridges.draftModelPlaceholder)' where a drafter checkpoint is needed; \
        methods an engine lacks get a note instead.
        """)

    @OptionGroup var options: PredictOptions
    @Option(name: .customLong("max-draft-length"), parsing: .unconditional, help: "Largest draft length to consider.") var maxDraftLength = 16
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        var request = try options.request()
        if request.method == nil || request.method == "ntp" {
            throw AnalyticError("recommend needs a speculative --method (one of \(MethodRegistry.modelled.filter(\.drafts).map(\.name).joined(separator: ", ")))")
        }
        if request.tau != nil {
            guard request.draftLength != nil else {
                throw AnalyticError("--tau needs --draft-length G, the draft length at which τ was measured")
            }
        } else {
            request.draftLength = 1
        }
        let r = try Bridges.recommend(request.resolve(), maxDraftLength: maxDraftLength)
        if json {
            say(Bridges.json(r))
            return
        }
        let c = r.config
        say("\(c.method.name) on \(c.devices) × \(c.hardware.name), \(c.model.name), batch \(c.batch), context \(c.contextTokens)")
        say("  best draft length   \(r.draftLength)   (of 1...\(r.speedupByDraftLength.last?.draftLength ?? r.maxDraftLength))")
        say("  predicted speedup   \(format(r.prediction.speedup, 3))×   τ \(format(r.prediction.tau, 3))   \(format(r.prediction.tokensPerSecond, 1)) tokens/s")
        say("  speedup by draft length: " + r.speedupByDraftLength.map { "\($0.draftLength): \(format($0.speedup, 3))" }.joined(separator: "  "))
        if r.prediction.speedup <= 1 {
            say("  recommendation      plain decoding: no draft length of \(c.method.name) beats it here")
        }
        say("vLLM:")
        if r.vllm.supported { say("  vllm serve <target model> \(r.vllm.commandLine)") }
        if let note = r.vllm.note { say("  note: \(note)") }
        say("SGLang:")
        if r.sglang.supported { say("  python -m sglang.launch_server --model-path <target model> \(r.sglang.commandLine)") }
        if let note = r.sglang.note { say("  note: \(note)") }
    }
}
