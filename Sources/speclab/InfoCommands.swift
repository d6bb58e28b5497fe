// speclab presets / acceptance / convert: listings and metric conventions.

import Analytic
import ArgumentParser
import Experiments
import Files
import Foundation
import Requests

/// Pads text to a column width (String(format:) ignores widths for %@ on Linux).
func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return right ? fill + text : text + fill
}

struct Presets: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List hardware, model and runtime presets.")
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        if json {
            let hardware = Hardware.presets.map { h in
                "{\"name\": \(JSONText.string(h.name)), \"memory_bytes\": \(JSONText.number(h.memoryBytes)), \"memory_bytes_per_second\": \(JSONText.number(h.memoryBytesPerSecond)), \"flops_per_second_16\": \(JSONText.number(h.flopsPerSecond16)), \"flops_per_second_8\": \(h.flopsPerSecond8.map(JSONText.number) ?? "null"), \"interconnect_bytes_per_second\": \(JSONText.number(h.interconnectBytesPerSecond)), \"runtime\": \(JSONText.string(h.overhead.name)), \"measured_kernels\": [\(KernelDatabase.bundledFrameworks(gpu: h.name).compactMap { KernelDatabase.bundled(gpu: h.name, framework: $0) }.map { JSONText.string("\($0.framework) \($0.version)") }.joined(separator: ", "))], \"source\": \(JSONText.string(h.source))}"
            }
            let models = ModelShape.presets.map { m in
                "{\"name\": \(JSONText.string(m.name)), \"layers\": \(m.layers), \"hidden\": \(m.hidden), \"heads\": \(m.heads), \"kv_heads\": \(m.kvHeads), \"vocab\": \(m.vocab), \"parameters\": \(JSONText.number(m.totalParameters)), \"active_parameters\": \(JSONText.number(m.activeParameters)), \"weight_type\": \(JSONText.string(m.weightType.rawValue)), \"source\": \(JSONText.string(m.source))}"
            }
            let runtimes = RuntimeOverhead.presets.map { r in
                "{\"name\": \(JSONText.string(r.name)), \"family\": \(JSONText.string(r.family)), \"per_forward_seconds\": \(JSONText.number(r.perForwardSeconds)), \"per_layer_seconds\": \(JSONText.number(r.perLayerSeconds)), \"per_cycle_seconds\": \(JSONText.number(r.perCycleSeconds)), \"per_draft_step_seconds\": \(JSONText.number(r.perDraftStepSeconds)), \"scheduler_seconds_per_sequence\": \(JSONText.number(r.schedulerSecondsPerSequence)), \"extend_attention_reread_fraction\": \(JSONText.number(r.extendAttentionRereadFraction)), \"scheduler_overlaps_plain_decoding\": \(r.schedulerOverlapsPlainDecoding), \"scheduler_overlaps_speculation\": \(r.schedulerOverlapsSpeculation), \"version\": \(JSONText.string(r.version)), \"source\": \(JSONText.string(r.source))}"
            }
            say("{\"hardware\": [\n  \(hardware.joined(separator: ",\n  "))\n],\n\"models\": [\n  \(models.joined(separator: ",\n  "))\n],\n\"runtimes\": [\n  \(runtimes.joined(separator: ",\n  "))\n]}")
            return
        }
        say("Hardware (dense peaks; the model applies the achievable fractions):")
        say("  name        memory     bandwidth  BF16 TFLOPS  FP8 TFLOPS  link GB/s  tile  runtime   measured kernels (the first is the default)")
        for h in Hardware.presets {
            let measured = KernelDatabase.bundledFrameworks(gpu: h.name).compactMap { KernelDatabase.bundled(gpu: h.name, framework: $0) }
                .map { "\($0.framework) \($0.version)" }
            say("  " + pad(h.name, 10) + pad(String(format: "%.0f GiB", h.memoryBytes / 1_073_741_824), 9, right: true)
                + pad(String(format: "%.0f GB/s", h.memoryBytesPerSecond / 1e9), 14, right: true)
                + pad(String(format: "%.1f", h.flopsPerSecond16 / 1e12), 13, right: true)
                + pad(h.flopsPerSecond8.map { String(format: "%.1f", $0 / 1e12) } ?? "-", 12, right: true)
                + pad(String(format: "%.0f", h.interconnectBytesPerSecond / 1e9), 11, right: true)
                + pad(String(format: "%.0f", h.gemmTileRows), 6, right: true) + "  " + pad(h.overhead.name, 8)
                + "  " + (measured.isEmpty ? "none (roofline)" : measured.joined(separator: ", ")))
        }
        say("\nModels:")
        say("  name           layers  hidden  heads/kv   vocab    params    active  weights")
        for m in ModelShape.presets {
            let kind = m.isEncoderDecoder ? " (encoder-decoder)" : (m.mla != nil ? " (MLA, MoE)" : (m.isMoE ? " (MoE)" : ""))
            say("  " + pad(m.name, 14) + pad(String(m.layers), 7, right: true) + pad(String(m.hidden), 8, right: true)
                + pad("\(m.heads)/\(m.kvHeads)", 10, right: true) + pad(String(m.vocab), 8, right: true)
                + pad(String(format: "%.2fB", m.totalParameters / 1e9), 10, right: true)
                + pad(String(format: "%.2fB", m.activeParameters / 1e9), 10, right: true) + "  " + m.weightType.rawValue + kind)
        }
        say("\nRuntimes and serving stacks (--runtime; fixed costs, scheduler, extend-mode verify):")
        for r in RuntimeOverhead.presets {
            var line = "  " + pad(r.name, 12) + String(format: " per forward %6.1f µs, per layer %6.1f µs, per cycle %6.1f µs",
                                                      r.perForwardSeconds * 1e6, r.perLayerSeconds * 1e6, r.perCycleSeconds * 1e6)
            if r.perDraftStepSeconds > 0 { line += String(format: ", per draft step %.1f µs", r.perDraftStepSeconds * 1e6) }
            if r.schedulerSecondsPerSequence > 0 {
                let overlap = [r.schedulerOverlapsPlainDecoding ? "plain" : nil, r.schedulerOverlapsSpeculation ? "speculative" : nil].compactMap { $0 }
                line += String(format: ", scheduler %.0f µs/seq", r.schedulerSecondsPerSequence * 1e6)
                    + (overlap.isEmpty ? " (not overlapped)" : " (overlapped: \(overlap.joined(separator: ", ")))")
            }
            if r.extendAttentionRereadFraction > 0 { line += String(format: ", extend re-read %.2f", r.extendAttentionRereadFraction) }
            if r.hostOverlapsDevice { line += "  (host time, overlaps the device)" }
            say(line)
            if !r.version.isEmpty { say("  " + pad("", 12) + " " + r.version) }
        }
    }
}

struct AcceptanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acceptance",
        abstract: "Accepted-length distribution, τ and every metric convention for an acceptance model.",
        discussion: "Give one of --alpha, --alphas, --tau, --acceptance-file; or --p and --q for α = 1 − TV(p, q).")

    @Option(parsing: .unconditional, help: "i.i.d. per-token acceptance α.") var alpha: Double?
    @Option(help: "Conditional per-position acceptance α1,α2,...") var alphas: String?
    @Option(parsing: .unconditional, help: "Mean accepted length τ at --draft-length.") var tau: Double?
    @Option(name: .customLong("acceptance-file"), help: "Histogram or rates (JSON or CSV).") var acceptanceFile: String?
    @Option(help: "Target distribution p (comma-separated).") var p: String?
    @Option(help: "Draft distribution q (comma-separated).") var q: String?
    @Option(name: .customLong("draft-length"), parsing: .unconditional, help: "Draft length γ.") var draftLength: Int?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        if let p, let q {
            let pValues = try parseList(p, name: "--p"), qValues = try parseList(q, name: "--q")
            let alphaValue = try Analytic.Acceptance.alphaFromDistributions(p: pValues, q: qValues)
            if json { say("{\"alpha\": \(JSONText.number(alphaValue)), \"total_variation\": \(JSONText.number(1 - alphaValue))}") }
            else { say("α = Σ min(p, q) = \(format(alphaValue, 6)); TV(p, q) = \(format(1 - alphaValue, 6))") }
            return
        }
        if (p == nil) != (q == nil) { throw AnalyticError("give both --p and --q") }
        var request = PredictRequest()
        request.alpha = alpha; request.tau = tau; request.acceptanceFile = acceptanceFile
        request.alphas = try alphas.map { try parseList($0, name: "--alphas") }
        let model = try request.resolveAcceptance(required: true, path: { $0 })
        try model.validate()
        let gamma: Int
        if let draftLength { gamma = draftLength }
        else if case .perPosition(let values) = model { gamma = values.count }
        else if case .empirical(let counts) = model { gamma = counts.count - 1 }
        else { throw AnalyticError("give --draft-length for this acceptance model") }
        try Check.within(gamma, from: 1, Limits.draftLength, "--draft-length")
        let distribution = try model.distribution(draftLength: gamma)
        let conventions = try MetricConventions(distribution: distribution)
        if json {
            say("""
            {"draft_length": \(gamma), "tau": \(JSONText.number(conventions.tau)), "variance": \(JSONText.number(distribution.variance)), \
            "probabilities": \(JSONText.numbers(distribution.probabilities)), \
            "vllm_draft_acceptance_rate": \(JSONText.number(conventions.vllmDraftAcceptanceRate)), \
            "vllm_mean_acceptance_length": \(JSONText.number(conventions.tau)), \
            "vllm_per_position": \(JSONText.numbers(conventions.vllmPerPosition)), \
            "vllm_v0_system_efficiency": \(JSONText.number(conventions.vllmV0SystemEfficiency)), \
            "sglang_accept_length": \(JSONText.number(conventions.tau)), \
            "eagle_n_alpha": \(JSONText.numbers(conventions.eagleConditional)), \
            "equivalent_iid_alpha": \(JSONText.number(conventions.equivalentIIDAlpha))}
            """)
            return
        }
        say("model: \(model.label), draft length γ = \(gamma)")
        say("τ (tokens per target forward, bonus included) = \(format(conventions.tau, 4)); std dev \(format(conventions.tokensPerCycleStandardDeviation, 4))")
        say("accepted drafts a   P(a)      P(a ≥ k) [vLLM per-position]   α_k [EAGLE (k−1)-α]")
        for j in 0...gamma {
            let unconditional = j > 0 ? format(conventions.vllmPerPosition[j - 1], 4) : "      "
            let conditional = j > 0 ? format(conventions.eagleConditional[j - 1], 4) : ""
            say(String(format: "  %3d               %.4f    %@                          %@", j, distribution.probabilities[j], unconditional, conditional))
        }
        say("vLLM draft acceptance rate ρ = \(format(conventions.vllmDraftAcceptanceRate, 4)); vLLM v0 system efficiency = \(format(conventions.vllmV0SystemEfficiency, 4))")
        say("SGLang accept length = EAGLE τ = Medusa acceleration rate = vLLM mean acceptance length = \(format(conventions.tau, 4))")
        say("i.i.d. α with the same τ at this γ = \(format(conventions.equivalentIIDAlpha, 4))")
    }
}

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert one published acceptance figure into every other convention.",
        discussion: """
        --from: tau (EAGLE/SGLang/Medusa/vLLM mean acceptance length), vllm-rate (draft acceptance rate ρ),
        vllm-v0-efficiency (system efficiency), iid-alpha, deepseek-second-token (one draft: τ = 1 + rate).
        """)

    @Option(help: "The convention of --value.") var from: String
    @Option(parsing: .unconditional, help: "The published number.") var value: Double
    @Option(name: .customLong("draft-length"), parsing: .unconditional, help: "Draft length γ the number was measured at.") var draftLength: Int?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        var gamma = draftLength ?? 0
        let tau: Double
        switch from {
        case "tau":
            try Check.within(gamma, from: 1, Limits.draftLength, "--draft-length")
            tau = value
        case "vllm-rate":
            try Check.within(gamma, from: 1, Limits.draftLength, "--draft-length"); try Check.probability(value, "--value")
            tau = 1 + value * Double(gamma)
        case "vllm-v0-efficiency":
            try Check.within(gamma, from: 1, Limits.draftLength, "--draft-length"); try Check.probability(value, "--value")
            tau = value * Double(gamma + 1)
        case "iid-alpha":
            try Check.within(gamma, from: 1, Limits.draftLength, "--draft-length"); try Check.probability(value, "--value")
            tau = Analytic.Acceptance.iidTau(alpha: value, draftLength: gamma)
        case "deepseek-second-token":
            try Check.probability(value, "--value")
            gamma = 1
            tau = 1 + value
        default:
            throw AnalyticError("unknown --from '\(from)'; valid: tau, vllm-rate, vllm-v0-efficiency, iid-alpha, deepseek-second-token")
        }
        let alphaValue = try Analytic.Acceptance.iidAlpha(tau: tau, draftLength: gamma)
        let conventions = try MetricConventions(distribution: try AcceptanceModel.iid(alpha: alphaValue).distribution(draftLength: gamma))
        if json {
            say("{\"draft_length\": \(gamma), \"tau\": \(JSONText.number(tau)), \"vllm_draft_acceptance_rate\": \(JSONText.number((tau - 1) / Double(gamma))), \"vllm_v0_system_efficiency\": \(JSONText.number(tau / Double(gamma + 1))), \"iid_alpha\": \(JSONText.number(alphaValue)), \"vllm_per_position_if_iid\": \(JSONText.numbers(conventions.vllmPerPosition))}")
            return
        }
        say("γ = \(gamma)")
        say("τ (EAGLE / SGLang accept len / Medusa acceleration / vLLM mean acceptance length) = \(format(tau, 4))")
        say("vLLM draft acceptance rate ρ = (τ − 1)/γ = \(format((tau - 1) / Double(gamma), 4))")
        say("vLLM v0 system efficiency = τ/(γ + 1) = \(format(tau / Double(gamma + 1), 4))")
        say("i.i.d. per-token α with this τ = \(format(alphaValue, 4)); per-position P(a ≥ k) under it: \(conventions.vllmPerPosition.map { format($0, 3) }.joined(separator: ", "))")
    }
}

struct TreeAcceptanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tree-acceptance",
        abstract: "τ of draft trees from per-depth top-1 rates and a geometric split over lower ranks.",
        discussion: "Prints τ of the best tree of each size (the M largest node values) and of EAGLE-1's static 25-node tree.")

    @Option(help: "Top-1 conditional acceptance per depth, α1,α2,… (EAGLE's n-α).") var alphas: String
    @Option(parsing: .unconditional, help: "Candidates per node considered.") var ranks = 10
    @Option(parsing: .unconditional, help: "ρ: share of the leftover mass each next rank keeps (0…1).") var decay = 0.5
    @Option(name: .customLong("max-nodes"), parsing: .unconditional, help: "Largest tree (draft nodes, root excluded).") var maxNodes = 64
    @Option(parsing: .unconditional, help: "Frontier width (top-K children per node).") var width = 10
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let q = try RankAcceptance.geometric(topOne: try parseList(alphas, name: "--alphas"), ranks: ranks, decay: decay)
        let taus = try q.bestTreeTaus(maxNodes: maxNodes, width: width)
        let eagle = try q.tau(staticTree: RankAcceptance.eagle1Tree)
        if json {
            say("{\"best_tree_tau\": \(JSONText.numbers(taus)), \"eagle1_static_tree_tau\": \(JSONText.number(eagle))}")
            return
        }
        say("EAGLE-1 static 25-node tree: τ = \(format(eagle, 3))")
        say("best tree of M draft nodes:")
        for m in [1, 2, 4, 8, 16, 25, 32, 48, 64, 96, 128] where m <= taus.count {
            say(String(format: "  M = %3d  τ = %.3f", m, taus[m - 1]))
        }
    }
}
