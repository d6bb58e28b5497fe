// Bridges to serving engines: read vLLM's spec-decode counters from its
// Prometheus /metrics text, and turn SpecLab's best draft length into vLLM
// and SGLang launch settings. The CLI commands `import-vllm-metrics` and
// `recommend` only parse flags and print what these functions return.

import Analytic
import Files
import Foundation
import Methods

// MARK: - vLLM Prometheus counters

/// vLLM v1 speculative-decoding counters, summed over every label set
/// (model_name, engine, ...), from one scrape of the /metrics endpoint.
public struct VLLMSpecDecodeCounters: Sendable, Equatable {
    public var numDrafts: Double
    public var numDraftTokens: Double
    public var numAcceptedTokens: Double
    /// numAcceptedTokensPerPosition[i]: drafts whose accepted prefix reached position i (label `position="i"`).
    public var numAcceptedTokensPerPosition: [Double]

    public init(numDrafts: Double, numDraftTokens: Double, numAcceptedTokens: Double,
                numAcceptedTokensPerPosition: [Double]) {
        self.numDrafts = numDrafts
        self.numDraftTokens = numDraftTokens
        self.numAcceptedTokens = numAcceptedTokens
        self.numAcceptedTokensPerPosition = numAcceptedTokensPerPosition
    }
}

public enum VLLMMetrics {
    // Counter names as vLLM registers them in SpecDecodingProm
    // [repo: vllm-project/vllm, vllm/v1/spec_decode/metrics.py]:
    //   vllm:spec_decode_num_drafts, vllm:spec_decode_num_draft_tokens,
    //   vllm:spec_decode_num_accepted_tokens, and
    //   vllm:spec_decode_num_accepted_tokens_per_pos (extra label "position").
    // prometheus_client exposes a Counter's samples as `<name>_total` (plus a
    // `<name>_created` timestamp, which is ignored here); the bare name is
    // accepted too.
    public static let numDrafts = "vllm:spec_decode_num_drafts"
    public static let numDraftTokens = "vllm:spec_decode_num_draft_tokens"
    public static let numAcceptedTokens = "vllm:spec_decode_num_accepted_tokens"
    public static let numAcceptedTokensPerPosition = "vllm:spec_decode_num_accepted_tokens_per_pos"

    /// One sample line `name{label="value",...} value [timestamp]`.
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    static func parseSample(_ line: Substring, number: Int, source: String) throws -> Sample {
        var name = ""
        var labels: [String: String] = [:]
        var index = line.startIndex
        while index < line.endIndex, line[index] != "{", !line[index].isWhitespace {
            name.append(line[index]); index = line.index(after: index)
        }
        func bad(_ why: String) -> AnalyticError { AnalyticError("\(source): line \(number): \(why)") }
        if index < line.endIndex, line[index] == "{" {
            index = line.index(after: index)
            while true {
                while index < line.endIndex, line[index] == " " || line[index] == "," { index = line.index(after: index) }
                guard index < line.endIndex else { throw bad("unterminated label set") }
                if line[index] == "}" { index = line.index(after: index); break }
                var key = ""
                while index < line.endIndex, line[index] != "=" { key.append(line[index]); index = line.index(after: index) }
                guard index < line.endIndex else { throw bad("label '\(key)' has no value") }
                index = line.index(after: index)
                guard index < line.endIndex, line[index] == "\"" else { throw bad("label '\(key)' value is not quoted") }
                index = line.index(after: index)
                var value = ""
                while index < line.endIndex, line[index] != "\"" {
                    if line[index] == "\\" {
                        index = line.index(after: index)
                        guard index < line.endIndex else { break }
                        value.append(line[index] == "n" ? "\n" : line[index])
                    } else {
                        value.append(line[index])
                    }
                    index = line.index(after: index)
                }
                guard index < line.endIndex else { throw bad("label '\(key)' value is not terminated") }
                index = line.index(after: index)
                labels[key.trimmingCharacters(in: .whitespaces)] = value
            }
        }
        let rest = line[index...].split(whereSeparator: \.isWhitespace)
        guard let text = rest.first else { throw bad("sample '\(name)' has no value") }
        guard let value = Double(text) else { throw bad("sample '\(name)' has value '\(text)', not a number") }
        return Sample(name: name, labels: labels, value: value)
    }

    /// Parses Prometheus text exposition and sums the four spec-decode
    /// counters over label sets (the per-position counter per `position`).
    /// Throws one line naming the first missing metric.
    public static func parse(_ text: String, source: String = "metrics") throws -> VLLMSpecDecodeCounters {
        var totals: [String: Double] = [:]
        var perPosition: [Int: Double] = [:]
        func base(_ name: String) -> String? {
            for metric in [numDrafts, numDraftTokens, numAcceptedTokens, numAcceptedTokensPerPosition] {
                if name == metric || name == metric + "_total" { return metric }
            }
            return nil
        }
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            // Cheap filter before the full parse: only our metric family matters.
            guard line.hasPrefix("vllm:spec_decode_num_") else { continue }
            let sample = try parseSample(Substring(line), number: offset + 1, source: source)
            guard let metric = base(sample.name) else { continue }
            guard sample.value.isFinite, sample.value >= 0 else {
                throw AnalyticError("\(source): line \(offset + 1): \(sample.name) = \(sample.value) is not a finite non-negative count")
            }
            if metric == numAcceptedTokensPerPosition {
                guard let label = sample.labels["position"] else {
                    throw AnalyticError("\(source): line \(offset + 1): \(sample.name) has no position label")
                }
                guard let position = Int(label), position >= 0 else {
                    throw AnalyticError("\(source): line \(offset + 1): position label '\(label)' is not a non-negative integer")
                }
                perPosition[position, default: 0] += sample.value
            } else {
                totals[metric, default: 0] += sample.value
            }
        }
        for metric in [numDrafts, numDraftTokens, numAcceptedTokens] where totals[metric] == nil {
            throw AnalyticError("\(source): missing metric \(metric)_total (is speculative decoding on, and is this vLLM v1's /metrics text?)")
        }
        guard let maxPosition = perPosition.keys.max() else {
            throw AnalyticError("\(source): missing metric \(numAcceptedTokensPerPosition)_total (is speculative decoding on, and is this vLLM v1's /metrics text?)")
        }
        for position in 0...maxPosition where perPosition[position] == nil {
            throw AnalyticError("\(source): missing metric \(numAcceptedTokensPerPosition)_total{position=\"\(position)\"} (positions must run 0...\(maxPosition))")
        }
        return VLLMSpecDecodeCounters(
            numDrafts: totals[numDrafts]!, numDraftTokens: totals[numDraftTokens]!,
            numAcceptedTokens: totals[numAcceptedTokens]!,
            numAcceptedTokensPerPosition: (0...maxPosition).map { perPosition[$0]! })
    }

    public static func load(path: String) throws -> VLLMSpecDecodeCounters {
        let data = try JSONFiles.read(path, what: "metrics file")
        return try parse(String(decoding: data, as: UTF8.self), source: "metrics file '\(path)'")
    }
}

/// What vLLM's counters say about acceptance, in SpecLab's conventions
/// (REFERENCES.md §4.2), and τ predicted at other draft lengths.
public struct VLLMAcceptanceReport: Sendable {
    public struct Projection: Sendable, Equatable {
        public var draftLength: Int
        public var tau: Double
        /// (τ − 1) / γ.
        public var draftAcceptanceRate: Double
        /// True when γ exceeds the measured positions: positions beyond them
        /// reuse the last measured conditional rate.
        public var extrapolated: Bool
    }

    public var counters: VLLMSpecDecodeCounters
    /// Positions vLLM reported (its num_speculative_tokens).
    public var measuredDraftLength: Int { counters.numAcceptedTokensPerPosition.count }
    /// A_k = per_pos[k−1] / num_drafts = P(a ≥ k): vLLM's "per-position acceptance rate".
    public var unconditional: [Double]
    /// α_k = A_k / A_{k−1} (EAGLE's (k−1)-α); 0 where A_{k−1} = 0.
    public var conditional: [Double]
    /// vLLM's "mean acceptance length" 1 + num_accepted_tokens / num_drafts (bonus token included).
    public var tau: Double
    /// 1 + Σ A_k: τ of the per-position model (equals `tau` when the counters are consistent).
    public var tauPerPositionModel: Double
    /// vLLM's "draft acceptance rate" num_accepted_tokens / num_draft_tokens.
    public var draftAcceptanceRate: Double
    public var projections: [Projection]

    public static let extrapolationNote =
        "draft lengths beyond the measured positions reuse the last measured conditional rate α_K for every extra position (extrapolated: true)"

    public init(counters: VLLMSpecDecodeCounters, draftLengths: [Int]) throws {
        guard counters.numDrafts > 0 else {
            throw AnalyticError("\(VLLMMetrics.numDrafts)_total is 0: no speculative steps were recorded")
        }
        guard counters.numDraftTokens > 0 else {
            throw AnalyticError("\(VLLMMetrics.numDraftTokens)_total is 0: no draft tokens were recorded")
        }
        for gamma in draftLengths { try Check.within(gamma, from: 1, Limits.draftLength, "--draft-lengths entry") }
        self.counters = counters
        let distribution = try MetricConventions.distribution(vllmDrafts: counters.numDrafts,
                                                             acceptedPerPosition: counters.numAcceptedTokensPerPosition)
        unconditional = distribution.unconditional
        conditional = distribution.conditional
        tau = 1 + counters.numAcceptedTokens / counters.numDrafts
        tauPerPositionModel = distribution.tau
        draftAcceptanceRate = counters.numAcceptedTokens / counters.numDraftTokens
        let measured = conditional
        let last = measured.last ?? 0
        projections = try draftLengths.map { gamma in
            let alphas = (0..<gamma).map { $0 < measured.count ? measured[$0] : last }
            let tau = try AcceptanceModel.perPosition(alphas: alphas).tau(draftLength: gamma)
            return Projection(draftLength: gamma, tau: tau, draftAcceptanceRate: (tau - 1) / Double(gamma),
                              extrapolated: gamma > measured.count)
        }
    }

    /// JSON object text with stable key order.
    public func json(source: String) -> String {
        let items = projections.map {
            "{\"draft_length\": \($0.draftLength), \"tau\": \(JSONText.number($0.tau)), \"draft_acceptance_rate\": \(JSONText.number($0.draftAcceptanceRate)), \"extrapolated\": \($0.extrapolated)}"
        }
        let fields: [(String, String)] = [
            ("source", JSONText.string(source)),
            ("num_drafts", JSONText.number(counters.numDrafts)),
            ("num_draft_tokens", JSONText.number(counters.numDraftTokens)),
            ("num_accepted_tokens", JSONText.number(counters.numAcceptedTokens)),
            ("num_accepted_tokens_per_pos", JSONText.numbers(counters.numAcceptedTokensPerPosition)),
            ("measured_draft_length", String(measuredDraftLength)),
            ("conditional_acceptance", JSONText.numbers(conditional)),
            ("unconditional_acceptance", JSONText.numbers(unconditional)),
            ("tau", JSONText.number(tau)),
            ("tau_per_position_model", JSONText.number(tauPerPositionModel)),
            ("draft_acceptance_rate", JSONText.number(draftAcceptanceRate)),
            ("predictions", "[" + items.joined(separator: ", ") + "]"),
            ("extrapolation", JSONText.string(Self.extrapolationNote)),
        ]
        return "{\n" + fields.map { "  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n") + "\n}"
    }
}

// MARK: - Recommendation and engine settings

/// How to ask one serving engine for a configuration; `supported == false`
/// carries only a note.
public struct EngineSettings: Sendable, Equatable {
    public var supported: Bool
    /// vLLM: the `speculative_config` fields in order; SGLang: flag/value pairs.
    public var fields: [(String, String)]
    /// The command-line text (`--speculative-config '{…}'` or SGLang flags).
    public var commandLine: String
    public var note: String?

    public static func == (a: EngineSettings, b: EngineSettings) -> Bool {
        a.supported == b.supported && a.commandLine == b.commandLine && a.note == b.note
            && a.fields.map(\.0) == b.fields.map(\.0) && a.fields.map(\.1) == b.fields.map(\.1)
    }
}

public struct Recommendation: Sendable {
    public var config: PredictionConfig
    public var maxDraftLength: Int
    public var draftLength: Int
    public var prediction: Prediction
    /// Predicted speedup at every draft length scanned (1...max, or fewer when the acceptance data end earlier).
    public var speedupByDraftLength: [(draftLength: Int, speedup: Double)]
    public var vllm: EngineSettings
    public var sglang: EngineSettings
}

public enum Bridges {
    /// Placeholder the user replaces with the drafter checkpoint.
    public static let draftModelPlaceholder = "<draft model path>"

    /// The best draft length in 1...maxDraftLength (Predictor.bestDraftLength) and engine settings for it.
    /// A `.meanAcceptedLength(tau)` acceptance is read as τ measured at `config.draftLength` and
    /// replaced by the i.i.d. α with that τ there, so that other draft lengths can be scored.
    public static func recommend(_ config: PredictionConfig, maxDraftLength: Int = 16) throws -> Recommendation {
        try Check.within(maxDraftLength, from: 1, Limits.draftLength, "--max-draft-length")
        guard config.method != .ntp else {
            throw AnalyticError("recommend needs a speculative --method (not ntp): \(MethodRegistry.modelled.filter(\.drafts).map(\.name).joined(separator: ", "))")
        }
        var config = config
        if case .meanAcceptedLength(let tau) = config.acceptance {
            // τ belongs to the draft length it was measured at; other lengths
            // need a per-token rate: the i.i.d. α with that τ there (REFERENCES.md §4.2 item 7).
            config.acceptance = .iid(alpha: try Acceptance.iidAlpha(tau: tau, draftLength: config.draftLength))
        }
        config.draftLength = 1
        let predictor = try Predictor(config)
        let best = try predictor.bestDraftLength(maxDraftLength: maxDraftLength)
        var scanned: [(Int, Double)] = []
        for gamma in 1...maxDraftLength {
            if let tree = config.treeSize, tree < gamma + 1 { break }
            guard let p = try? predictor.predict(draftLength: gamma) else { break }
            scanned.append((gamma, p.speedup))
        }
        var chosen = config
        chosen.draftLength = best.draftLength
        var vllm = vllmSettings(chosen), sglang = sglangSettings(chosen)
        if best.prediction.speedup <= 1 {
            // Speculation that does not beat plain decoding is not recommended to any engine.
            let note = String(format: "not recommended: the best predicted speedup is %.3f× (draft length %d); serve without speculative decoding", best.prediction.speedup, best.draftLength)
            vllm = EngineSettings(supported: false, fields: [], commandLine: "", note: note)
            sglang = vllm
        }
        return Recommendation(config: chosen, maxDraftLength: maxDraftLength, draftLength: best.draftLength,
                              prediction: best.prediction, speedupByDraftLength: scanned, vllm: vllm, sglang: sglang)
    }

    /// vLLM `speculative_config` (`--speculative-config` JSON of `vllm serve`).
    /// Keys `method`, `model`, `num_speculative_tokens`, `prompt_lookup_max`
    /// as documented in vLLM's speculative-decoding pages and
    /// [repo: vllm-project/vllm, vllm/config/speculative.py] (method literals
    /// ngram, medusa, mlp_speculator, draft_model, suffix, eagle, eagle3, mtp).
    public static func vllmSettings(_ config: PredictionConfig) -> EngineSettings {
        let n = String(config.draftLength)
        let model = JSONText.string(draftModelPlaceholder)
        var fields: [(String, String)]
        var note: String? = nil
        switch config.method {
        case .sd:
            fields = [("method", "\"draft_model\""), ("model", model), ("num_speculative_tokens", n)]
            note = "separate draft model; vLLM versions before method \"draft_model\" existed infer it from \"model\" alone, and some v1 releases do not support draft models at all"
        case .eagle1, .eagle2:
            fields = [("method", "\"eagle\""), ("model", model), ("num_speculative_tokens", n)]
        case .eagle3:
            fields = [("method", "\"eagle3\""), ("model", model), ("num_speculative_tokens", n)]
        case .mtp:
            fields = [("method", "\"mtp\""), ("num_speculative_tokens", n)]
            note = "uses the target checkpoint's own MTP layers (no draft model); older vLLM releases name the method \"deepseek_mtp\""
        case .medusa:
            fields = [("method", "\"medusa\""), ("model", model), ("num_speculative_tokens", n)]
        case .pld:
            fields = [("method", "\"ngram\""), ("num_speculative_tokens", n), ("prompt_lookup_max", "4")]
            note = "prompt lookup is vLLM's n-gram proposer; prompt_lookup_max 4 is a starting point, not a SpecLab result"
        default:
            return EngineSettings(supported: false, fields: [], commandLine: "",
                                  note: "vLLM has no speculative method for \(config.method.name)")
        }
        if config.treeSize != nil, config.method.supportsTree {
            let treeNote = "SpecLab scored a tree of \(config.treeSize!) tokens; this vLLM config drafts a chain of \(config.draftLength), so expect a lower τ than predicted"
            note = note.map { $0 + "; " + treeNote } ?? treeNote
        }
        let object = "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
        return EngineSettings(supported: true, fields: fields, commandLine: "--speculative-config '\(object)'", note: note)
    }

    /// SGLang launch flags ([repo: sgl-project/sglang, python/sglang/srt/server_args.py]:
    /// --speculative-algorithm {EAGLE, EAGLE3, NEXTN, STANDALONE, NGRAM},
    /// --speculative-draft-model-path, --speculative-num-steps,
    /// --speculative-eagle-topk, --speculative-num-draft-tokens).
    /// A chain is topk 1 with num-draft-tokens = steps + 1 (root included); a
    /// tree uses --tree-topk and --tree-size.
    public static func sglangSettings(_ config: PredictionConfig) -> EngineSettings {
        let steps = config.draftLength
        let isTree = config.treeSize != nil && config.method.supportsTree
        let topK = isTree ? config.treeTopK : 1
        let draftTokens = isTree ? config.treeSize! : steps + 1
        let model = draftModelPlaceholder
        var note: String? = nil
        let algorithm: String
        var withModel = true
        switch config.method {
        case .eagle1, .eagle2:
            algorithm = "EAGLE"
            if config.method == .eagle1, isTree {
                note = "SGLang's EAGLE builds EAGLE-2's dynamic tree, not EAGLE-1's static tree"
            }
        case .eagle3: algorithm = "EAGLE3"
        case .mtp:
            algorithm = "EAGLE"; withModel = false
            note = "MTP runs through SGLang's EAGLE worker on the target's own MTP layers (NEXTN is an alias); no draft model path is needed for DeepSeek-style checkpoints"
        case .sd: algorithm = "STANDALONE"
        case .pld:
            algorithm = "NGRAM"; withModel = false
            note = "SGLang's NGRAM proposer (CUDA only); --speculative-num-steps is not used by it"
        default:
            return EngineSettings(supported: false, fields: [], commandLine: "",
                                  note: "SGLang has no speculative algorithm for \(config.method.name)")
        }
        var fields: [(String, String)] = [("--speculative-algorithm", algorithm)]
        if withModel { fields.append(("--speculative-draft-model-path", model)) }
        if config.method != .pld {
            fields.append(("--speculative-num-steps", String(steps)))
            fields.append(("--speculative-eagle-topk", String(topK)))
        }
        fields.append(("--speculative-num-draft-tokens", String(draftTokens)))
        let line = fields.map { $0.1.contains(" ") || $0.1.contains("<") ? "\($0.0) '\($0.1)'" : "\($0.0) \($0.1)" }
            .joined(separator: " ")
        return EngineSettings(supported: true, fields: fields, commandLine: line, note: note)
    }

    static func engineJSON(_ settings: EngineSettings, objectKey: String, isFlags: Bool) -> String {
        let object: String
        if !settings.supported {
            object = "null"
        } else if isFlags {
            object = "{" + settings.fields.map { "\(JSONText.string($0.0)): \(JSONText.string($0.1))" }.joined(separator: ", ") + "}"
        } else {
            object = "{" + settings.fields.map { "\(JSONText.string($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
        }
        return "{\"supported\": \(settings.supported), \"\(objectKey)\": \(object), \"command_line\": \(settings.supported ? JSONText.string(settings.commandLine) : "null"), \"note\": \(settings.note.map(JSONText.string) ?? "null")}"
    }

    /// JSON object text of `speclab recommend --json` (stable key order).
    public static func json(_ r: Recommendation) -> String {
        let scan = r.speedupByDraftLength.map { "{\"draft_length\": \($0.draftLength), \"speedup\": \(JSONText.number($0.speedup))}" }
        let fields: [(String, String)] = [
            ("method", JSONText.string(r.config.method.name)),
            ("hardware", JSONText.string(r.config.hardware.name)),
            ("model", JSONText.string(r.config.model.name)),
            ("batch", String(r.config.batch)),
            ("context", String(r.config.contextTokens)),
            ("devices", String(r.config.devices)),
            ("max_draft_length", String(r.maxDraftLength)),
            ("best_draft_length", String(r.draftLength)),
            ("speedup", JSONText.number(r.prediction.speedup)),
            ("tau", JSONText.number(r.prediction.tau)),
            ("tokens_per_second", JSONText.number(r.prediction.tokensPerSecond)),
            ("speedup_by_draft_length", "[" + scan.joined(separator: ", ") + "]"),
            ("vllm", engineJSON(r.vllm, objectKey: "speculative_config", isFlags: false)),
            ("sglang", engineJSON(r.sglang, objectKey: "flags", isFlags: true)),
        ]
        return "{\n" + fields.map { "  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n") + "\n}"
    }
}
