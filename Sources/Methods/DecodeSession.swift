// `speclab decode`: run a decoding method on a trained target over prompts
// from the validation split (or a file) and report what the loop counted.

import Analytic
import Decoding
import Files
import Foundation
import LinAlg
import Transformer

public struct DecodeRequest: Sendable {
    public var model: URL
    public var method: String
    public var drafter: URL?
    public var draftLength: Int
    public var prompts: String?
    public var corpus: String
    public var samples: Int
    public var promptLength: Int
    public var maxTokens: Int
    public var settings: SamplingSettings
    public var seed: UInt64
    public var baseline: Bool
    public var threads: Int
    public var confidenceThreshold: Double
    /// Threshold stopping on the running product of confidences instead of each one's.
    public var cumulativeThreshold = false
    public var tree: TreeSpec
    public var acceptance: AcceptanceRule
    /// Sequences verified together in one target forward.
    public var batch: Int
    /// The oracle drafter's acceptance rate.
    public var oracleAlpha = 0.8
    /// mtad, mtjd: beams kept per depth.
    public var beamWidth = 4

    public init(model: URL, method: String, drafter: URL?, draftLength: Int, prompts: String?, corpus: String,
                samples: Int, promptLength: Int, maxTokens: Int, settings: SamplingSettings, seed: UInt64,
                baseline: Bool, threads: Int, confidenceThreshold: Double, tree: TreeSpec = TreeSpec(),
                acceptance: AcceptanceRule = .lossless, batch: Int = 1) {
        self.tree = tree
        self.acceptance = acceptance
        self.batch = batch
        self.model = model; self.method = method; self.drafter = drafter; self.draftLength = draftLength
        self.prompts = prompts; self.corpus = corpus; self.samples = samples; self.promptLength = promptLength
        self.maxTokens = maxTokens; self.settings = settings; self.seed = seed; self.baseline = baseline
        self.threads = threads; self.confidenceThreshold = confidenceThreshold
    }
}

/// The rounds of one group of prompts decoded together: tokens they emitted, their seconds, and τ's parts.
public struct RoundSample: Sendable, Equatable {
    public var roundTokens: Int
    public var roundSeconds: Double
    /// Accepted drafts plus one per round (τ's numerator) and the target forwards (its denominator).
    public var emitted: Int
    public var targetForwards: Int

    public init(roundTokens: Int, roundSeconds: Double, emitted: Int, targetForwards: Int) {
        self.roundTokens = roundTokens; self.roundSeconds = roundSeconds
        self.emitted = emitted; self.targetForwards = targetForwards
    }

    /// Tokens per second over the samples together (a ratio of sums, as the report's rate).
    static func rate(_ samples: [RoundSample]) -> Double {
        Double(samples.reduce(0) { $0 + $1.roundTokens }) / samples.reduce(0) { $0 + $1.roundSeconds }
    }
}

public struct DecodeReport: Sendable {
    public var method: String
    public var stats: DecodeStats
    public var seconds: Double
    public var ntpTokensPerSecond: Double?
    public var lossless: Bool
    /// Why the output is not the target's (nil when lossless).
    public var lossyReason: String? = nil
    /// Each prompt's generated tokens, and plain decoding's (with the baseline).
    public var outputs: [[Int32]] = []
    public var ntpOutputs: [[Int32]]? = nil
    public var samples: Int
    public var batch = 1
    /// The rounds alone (every prompt's prefill excluded) and the tokens they emitted (each
    /// sequence's first token comes from its prefill): the steady state the cycle model predicts.
    public var roundSeconds = 0.0
    public var roundTokens = 0
    /// Plain decoding's rate over its rounds alone.
    public var ntpRoundTokensPerSecond: Double? = nil
    /// The rounds of each group of prompts decoded together (one prompt at batch 1), for this method and
    /// (with the baseline) plain decoding of the same groups: the units the intervals resample.
    public var groups: [RoundSample] = []
    public var ntpGroups: [RoundSample]? = nil
    /// Quality as the target scores it: mean log p_target per generated token (nats), of this method's
    /// output and (with the baseline) of plain decoding's at the same settings.
    public var targetLogLikelihood = Double.nan
    public var ntpTargetLogLikelihood: Double? = nil

    /// The drafter's confidence in each draft per position, with how often each bin was reached and
    /// accepted: the threshold model's input (nil when the drafter reports no confidences).
    public var confidenceHistogram: ConfidenceHistogram? {
        guard let positions = stats.confidenceRounds.map(\.confidences.count).max(), positions > 0 else { return nil }
        return confidenceHistogram(positions: positions)
    }

    /// The same histogram over `positions` draft positions (later positions of longer rounds are left out).
    public func confidenceHistogram(positions: Int) -> ConfidenceHistogram {
        var histogram = ConfidenceHistogram(positions: positions)
        for round in stats.confidenceRounds { histogram.record(confidences: round.confidences, accepted: round.accepted) }
        return histogram
    }

    /// End to end: prefill included, as a user waits for the whole output.
    public var tokensPerSecond: Double { Double(stats.tokensGenerated) / seconds }
    public var speedup: Double? { ntpTokensPerSecond.map { tokensPerSecond / $0 } }
    /// Decode phase only (no prefill): what the analytic engine's speculation cycle predicts.
    public var roundTokensPerSecond: Double { Double(roundTokens) / roundSeconds }
    public var decodeSpeedup: Double? { ntpRoundTokensPerSecond.map { roundTokensPerSecond / $0 } }

    /// 95% bootstrap interval of the decode-phase speedup over the prompt groups, each resampled with its
    /// plain-decoding pair (nil without the baseline or with one group).
    public var decodeSpeedupInterval: ClosedRange<Double>? {
        guard let base = ntpGroups, base.count == groups.count, groups.count >= 2 else { return nil }
        return Statistics.bootstrapInterval(units: groups.count) { picks in
            RoundSample.rate(picks.map { groups[$0] }) / RoundSample.rate(picks.map { base[$0] })
        }
    }

    /// 95% bootstrap interval of τ (tokens per target forward) over the prompt groups (nil with one group).
    public var tauInterval: ClosedRange<Double>? {
        guard groups.count >= 2 else { return nil }
        return Statistics.bootstrapInterval(units: groups.count) { picks in
            let chosen = picks.map { groups[$0] }
            return Double(chosen.reduce(0) { $0 + $1.emitted }) / Double(chosen.reduce(0) { $0 + $1.targetForwards })
        }
    }

    public var json: String {
        var fields = [
            "\"method\": \(JSONText.string(method))",
            "\"lossless\": \(lossless)",
            "\"samples\": \(samples)",
            "\"batch\": \(batch)",
            "\"tokens_generated\": \(stats.tokensGenerated)",
            "\"target_forwards\": \(stats.targetForwards)",
            "\"drafter_forwards\": \(stats.drafterForwards)",
            "\"tau\": \(JSONText.number(stats.tau))",
            "\"tau_interval_95\": \(JSONText.numbers(tauInterval.map { [$0.lowerBound, $0.upperBound] } ?? []))",
            "\"accepted_length_histogram\": [\(stats.acceptedLengthHistogram.map(String.init).joined(separator: ", "))]",
            "\"per_position_acceptance\": \(JSONText.numbers(stats.perPositionAcceptance))",
            "\"drafted\": \(stats.drafted)",
            "\"mean_nodes_verified\": \(JSONText.number(stats.rounds > 0 ? 1 + Double(stats.drafted) / Double(stats.rounds) : 0))",
            "\"mean_rows_per_verify\": \(JSONText.number(stats.rounds > 0 ? Double(stats.verifiedRows) / Double(stats.rounds) : 0))",
            "\"draft_length_histogram\": [\(stats.draftLengthHistogram.map(String.init).joined(separator: ", "))]",
            "\"accepted\": \(stats.accepted)",
            "\"seconds\": \(JSONText.number(seconds))",
            "\"seconds_drafting\": \(JSONText.number(stats.draftingSeconds))",
            "\"seconds_verifying\": \(JSONText.number(stats.verifyingSeconds))",
            "\"seconds_other\": \(JSONText.number(stats.otherSeconds))",
            "\"seconds_prefill\": \(JSONText.number(stats.prefillSeconds))",
            "\"tokens_per_second\": \(JSONText.number(tokensPerSecond))",
        ]
        fields.append("\"round_tokens_per_second\": \(JSONText.number(roundTokensPerSecond))")
        if let histogram = confidenceHistogram, let data = try? JSONEncoder().encode(histogram) {
            // What `predict --acceptance-file` reads for threshold drafting (with a policy and θ).
            fields.append("\"confidence_histogram\": \(String(decoding: data, as: UTF8.self))")
        }
        fields.append("\"target_log_likelihood\": \(JSONText.number(targetLogLikelihood))")
        if let ntp = ntpTargetLogLikelihood { fields.append("\"ntp_target_log_likelihood\": \(JSONText.number(ntp))") }
        if let ntp = ntpTokensPerSecond, let speedup {
            fields.append("\"ntp_tokens_per_second\": \(JSONText.number(ntp))")
            fields.append("\"speedup\": \(JSONText.number(speedup))")
        }
        if let ntp = ntpRoundTokensPerSecond, let decodeSpeedup {
            fields.append("\"ntp_round_tokens_per_second\": \(JSONText.number(ntp))")
            fields.append("\"decode_speedup\": \(JSONText.number(decodeSpeedup))")
            if let interval = decodeSpeedupInterval {
                fields.append("\"decode_speedup_interval_95\": \(JSONText.numbers([interval.lowerBound, interval.upperBound]))")
            }
        }
        return "{\n  " + fields.joined(separator: ",\n  ") + "\n}"
    }
}

public enum DecodeRun {
    /// Validates the request, loads the target and the prompts, and measures.
    public static func run(_ request: DecodeRequest) throws -> DecodeReport {
        try DecodeSession(request).measure(method: request.method, drafter: request.drafter,
                                           draftLength: request.draftLength, settings: request.settings,
                                           seed: request.seed, baseline: request.baseline,
                                           confidenceThreshold: request.confidenceThreshold,
                                           cumulativeThreshold: request.cumulativeThreshold, tree: request.tree,
                                           acceptance: request.acceptance, batch: request.batch,
                                           oracleAlpha: request.oracleAlpha, beamWidth: request.beamWidth)
    }

    /// Prompts: lines of a file, or windows of the corpus's validation split (unseen text).
    public static func loadPrompts(_ request: DecodeRequest, contextLength: Int) throws -> [[Int32]] {
        let room = contextLength - request.maxTokens - 16
        guard room >= 1 else {
            throw ModelError("--max-tokens \(request.maxTokens) leaves no room for a prompt in the model's context of \(contextLength)")
        }
        let length = min(request.promptLength, room)
        if let file = request.prompts {
            let text: Data
            do { text = try InputFile.read(file, what: "--prompts") } catch let error as InputError { throw ModelError(error.description) }
            let lines = text.split(separator: UInt8(ascii: "\n")).filter { !$0.isEmpty }
            guard !lines.isEmpty else { throw ModelError("--prompts '\(file)' has no non-empty line") }
            return lines.prefix(request.samples).map { $0.suffix(length).map { Int32($0) } }
        }
        let corpus = try Corpus.load(request.corpus)
        let windows = BatchSampler.evaluationWindows(data: corpus.validation, sequenceLength: length - 1,
                                                     maxWindows: request.samples)
        guard !windows.isEmpty else { throw ModelError("corpus '\(corpus.name)' has no validation window of \(length) bytes") }
        return windows.map { $0.map { Int32($0) } }
    }
}

/// A loaded target and its prompts: experiments measure many methods, draft
/// lengths and temperatures on one session instead of reloading the
/// checkpoint and the corpus for each point.
public final class DecodeSession {
    public let model: InferenceModel
    public let prompts: [[Int32]]
    public let maxTokens: Int
    /// The target checkpoint's folder, for messages (nil when the session was built from a loaded model).
    public let modelPath: String?
    /// The target's content id (drafters record the one they were trained on), computed once.
    private lazy var targetId: String = Checkpoint.contentId(of: model.network)
    /// The oracle drafter's greedy continuations of the prompts, by their length.
    private var oracleContinuations: [Int: [[Int32]: [Int32]]] = [:]

    public init(_ request: DecodeRequest) throws {
        guard request.samples >= 1, request.samples <= 1_000_000 else { throw ModelError("--samples must be in 1...1000000, got \(request.samples)") }
        guard request.maxTokens >= 1 else { throw ModelError("--max-tokens must be >= 1, got \(request.maxTokens)") }
        guard request.promptLength >= 1 else { throw ModelError("--prompt-length must be >= 1 (a prompt of at least one byte), got \(request.promptLength)") }
        try ThreadCount.check(request.threads)
        InferenceModel.productThreads = request.threads
        OpenBLAS.setThreads(request.threads)
        let network = try Checkpoint.load(from: request.model)
        model = InferenceModel(network: network)
        prompts = try DecodeRun.loadPrompts(request, contextLength: network.config.contextLength)
        maxTokens = request.maxTokens
        modelPath = request.model.path
    }

    /// The same target on other prompts (e.g. a calibration split).
    public init(model: InferenceModel, prompts: [[Int32]], maxTokens: Int) {
        self.model = model
        self.prompts = prompts
        self.maxTokens = maxTokens
        self.modelPath = nil
    }

    /// Decodes every prompt with `method` (and, with `baseline`, plainly right after). With `batch` > 1 the
    /// prompts are decoded `batch` at a time, each sequence with its own drafter, verified in one forward.
    /// Everything method-specific comes from the method's descriptor in the registry.
    public func measure(method name: String, drafter: URL?, draftLength: Int, settings: SamplingSettings, seed: UInt64,
                        baseline: Bool, confidenceThreshold: Double = 0, cumulativeThreshold: Bool = false,
                        tree: TreeSpec = TreeSpec(),
                        acceptance requested: AcceptanceRule = .lossless, batch: Int = 1,
                        oracleAlpha: Double = 0.8, beamWidth: Int = 4) throws -> DecodeReport {
        let method = try MethodRegistry.method(named: name)
        try check(method, draftLength: draftLength, settings: settings, confidenceThreshold: confidenceThreshold,
                  cumulativeThreshold: cumulativeThreshold, requested: requested, batch: batch, oracleAlpha: oracleAlpha,
                  beamWidth: beamWidth)
        let stopping = DraftStopping(threshold: confidenceThreshold, cumulative: cumulativeThreshold)
        let context = drafterContext(method, drafter: drafter, draftLength: draftLength, settings: settings,
                                     stopping: stopping, tree: tree, beamWidth: beamWidth, oracleAlpha: oracleAlpha)
        // The largest verify forward a round can make, so that prompt + budget + verify fit the context.
        let verifyTokens = try method.verifyRows(draftLength: draftLength, tree: tree)
        let longestPrompt = prompts.map(\.count).max() ?? 0
        guard longestPrompt + maxTokens + verifyTokens <= model.config.contextLength else {
            throw ModelError("a prompt of \(longestPrompt) tokens + --max-tokens \(maxTokens) + a verify of \(verifyTokens) tokens exceed the model's context of \(model.config.contextLength); lower --max-tokens, --prompt-length or the draft")
        }
        let plan = try method.plan(context)
        let loop = Loop(settings: settings, seed: seed, batch: batch, draftLength: draftLength, beamWidth: beamWidth)
        let run = decodeAll(plan, rule: method.ownAcceptance ?? requested, loop)
        // Lossless when the method is at this temperature and no lossy rule was asked for.
        let lossless = requested.isLossless && method.lossless.holds(temperature: settings.temperature)
        var report = DecodeReport(method: method.name, stats: run.stats, seconds: run.seconds, ntpTokensPerSecond: nil,
                                  lossless: lossless, samples: prompts.count)
        if !lossless {
            switch requested {
            case .unverified: report.lossyReason = "drafts kept unverified"
            case .typical: report.lossyReason = "typical acceptance (V5)"
            default: report.lossyReason = method.lossless.reason
            }
        }
        report.outputs = run.outputs
        report.roundSeconds = run.roundSeconds
        report.roundTokens = roundTokens(run.stats)
        report.groups = run.groups
        report.targetLogLikelihood = targetLogLikelihood(run.outputs)
        // Finite weights (checked at load) can still overflow float32 in a forward: then every number of
        // the run is meaningless, so it stops rather than reporting them.
        guard report.targetLogLikelihood.isFinite || run.outputs.allSatisfy(\.isEmpty) else {
            throw ModelError("the target's logits became non-finite during generation (log-likelihood \(report.targetLogLikelihood)): its float32 forward overflows; the checkpoint cannot be decoded")
        }
        if baseline {
            // Plain decoding of the same prompts (same batching) right after: the speedup is a ratio taken in one run.
            let base = decodeAll(.speculation { NoDrafter() }, rule: .lossless, loop)
            report.ntpTokensPerSecond = Double(base.stats.tokensGenerated) / base.seconds
            report.ntpRoundTokensPerSecond = Double(roundTokens(base.stats)) / base.roundSeconds
            report.ntpGroups = base.groups
            report.ntpTargetLogLikelihood = targetLogLikelihood(base.outputs)
            report.ntpOutputs = base.outputs
        }
        report.batch = batch
        return report
    }

    /// Refuses settings the method cannot take, with one line naming the flag.
    private func check(_ method: MethodDescriptor, draftLength: Int, settings: SamplingSettings, confidenceThreshold: Double,
                       cumulativeThreshold: Bool, requested: AcceptanceRule, batch: Int, oracleAlpha: Double,
                       beamWidth: Int) throws {
        guard beamWidth >= 1, beamWidth <= model.config.vocab else {
            throw ModelError("--beam-width must be in 1...\(model.config.vocab) (the vocabulary: a wider beam has nothing more to hold), got \(beamWidth)")
        }
        // Methods with a rule of their own (MTAD's joint ratio; MTJD and prefix beam search keep blocks unchecked).
        if method.ownAcceptance != nil, requested != .lossless {
            throw ModelError("--method \(method.name) has its own acceptance rule (\(method.verifier.rawValue)); drop --typical / --unverified")
        }
        guard batch >= 1 else { throw ModelError("--batch must be >= 1") }
        guard (0...1).contains(oracleAlpha) else { throw ModelError("--oracle-alpha must be in [0, 1], got \(oracleAlpha)") }
        try settings.validate()
        if method.drafts {
            guard draftLength >= 1, draftLength < model.config.contextLength else {
                throw ModelError("--draft-length must be in 1...\(model.config.contextLength - 1) (the model's context) for \(method.name), got \(draftLength)")
            }
        }
        guard (0...1).contains(confidenceThreshold) else {
            throw ModelError("--draft-threshold must be in [0, 1], got \(confidenceThreshold)")
        }
        func methodsWith(_ option: MethodOptions) -> String {
            MethodRegistry.all.filter { $0.options.contains(option) && $0.ownAcceptance == nil }.map(\.name).joined(separator: ", ")
        }
        if cumulativeThreshold, !method.options.contains(.cumulativeThreshold) {
            throw ModelError("--cumulative applies to MTP heads (--method \(methodsWith(.cumulativeThreshold))), not \(method.name)")
        }
        if requested == .unverified, !method.options.contains(.unverifiedChain) {
            throw ModelError("--unverified keeps a chain of drafts unchecked; \(method.name) drafts a tree or nothing (use a chain method: \(methodsWith(.unverifiedChain)))")
        }
        if let reason = method.singleSequence, batch > 1 {
            throw ModelError("--method \(method.name) decodes one sequence at a time (\(reason)); drop --batch")
        }
        if let reason = method.greedyOnlyReason, settings.temperature != 0 {
            throw ModelError("--method \(method.name) runs at T = 0 only (\(reason)): use --temperature 0")
        }
    }

    /// What the method's builder gets: this session's target, the settings, the drafter folder checked against
    /// the target, and the greedy continuations (computed once per session and length).
    private func drafterContext(_ method: MethodDescriptor, drafter: URL?, draftLength: Int, settings: SamplingSettings,
                                stopping: DraftStopping, tree: TreeSpec, beamWidth: Int, oracleAlpha: Double) -> DrafterContext {
        DrafterContext(
            target: model, draftLength: draftLength, settings: settings, stopping: stopping, tree: tree,
            beamWidth: beamWidth, oracleAlpha: oracleAlpha, maxTokens: maxTokens,
            drafterDirectory: {
                guard let drafter else {
                    throw ModelError("--method \(method.name) needs --drafter DIR (\(method.drafterHint ?? "a trained drafter"))")
                }
                try DrafterBinding.check(drafterDirectory: drafter, targetId: self.targetId, targetPath: self.modelPath ?? "the target")
                return drafter
            },
            greedyContinuations: { tokens in
                let continuations = self.oracleContinuations[tokens]
                    ?? OracleDrafter.continuations(model: self.model, prompts: self.prompts, tokens: tokens)
                self.oracleContinuations[tokens] = continuations
                return continuations
            })
    }

    /// The settings every decode of one measurement shares.
    private struct Loop {
        let settings: SamplingSettings
        let seed: UInt64
        let batch: Int
        let draftLength: Int
        let beamWidth: Int
    }

    /// Stats, wall seconds (prefill included), seconds of the rounds alone, and each prompt's output.
    private func decodeAll(_ plan: DecodingPlan, rule: AcceptanceRule, _ loop: Loop)
        -> (stats: DecodeStats, seconds: Double, roundSeconds: Double, outputs: [[Int32]], groups: [RoundSample]) {
        var total = DecodeStats()
        var roundSeconds = 0.0
        var outputs: [[Int32]] = []
        var groups: [RoundSample] = []
        func record(_ stats: DecodeStats, sequences: Int) {
            groups.append(RoundSample(roundTokens: max(0, stats.tokensGenerated - sequences), roundSeconds: stats.seconds,
                                      emitted: stats.accepted + stats.rounds, targetForwards: stats.targetForwards))
        }
        let start = DispatchTime.now().uptimeNanoseconds
        switch plan {
        case .prefixBeam(let heads):
            // Prefix beam search runs its own loop (hypotheses with their own caches), one prompt at a time.
            for prompt in prompts {
                let result = PrefixBeamSearch.generate(model: model, heads: heads, prompt: prompt, maxNewTokens: maxTokens,
                                                       width: loop.beamWidth, blockLengths: 1...(loop.draftLength + 1))
                total.merge(result.stats)
                roundSeconds += result.stats.seconds
                record(result.stats, sequences: 1)
                outputs.append(result.tokens)
            }
        case .speculation(let makeDrafter):
            // One loop at every batch size: the prompts `batch` at a time, one drafter per sequence (reset per prompt).
            let width = min(loop.batch, prompts.count)
            let target = TransformerTarget(model: model, sequences: width)
            let drafters = (0..<width).map { _ in makeDrafter() }
            for first in stride(from: 0, to: prompts.count, by: loop.batch) {
                let chunk = Array(prompts[first..<min(first + loop.batch, prompts.count)])
                let result = SpeculativeDecoding.generate(target: target, drafters: Array(drafters.prefix(chunk.count)),
                                                          prompts: chunk, maxNewTokens: maxTokens, settings: loop.settings,
                                                          seed: loop.seed &+ UInt64(first), acceptance: rule)
                total.merge(result.stats)
                roundSeconds += result.stats.seconds
                record(result.stats, sequences: chunk.count)
                outputs += result.tokens
            }
        }
        return (total, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, roundSeconds, outputs, groups)
    }

    /// Each sequence's first token is its prefill's: the rounds emitted the rest.
    private func roundTokens(_ stats: DecodeStats) -> Int { max(0, stats.tokensGenerated - prompts.count) }

    /// Mean log-likelihood per generated token (nats) of the outputs under the target, after the timing.
    private func targetLogLikelihood(_ outputs: [[Int32]]) -> Double {
        var sum = 0.0, count = 0
        for (prompt, output) in zip(prompts, outputs) {
            let scored = TargetLikelihood.logLikelihood(model: model, prompt: prompt, continuation: output)
            sum += scored.sum
            count += scored.count
        }
        return count > 0 ? sum / Double(count) : .nan
    }
}
