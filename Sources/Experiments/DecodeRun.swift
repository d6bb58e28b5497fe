// `speclab decode`: run a decoding method on a trained target over prompts
// from the validation split (or a file) and report what the loop counted.

import Decoding
import Files
import Foundation
import LinAlg
import Transformer

/// The tree of the tree methods: a static shape (`shape`: eagle25, eagle10 or chain, the latter of
/// --draft-length drafts) or the dynamic tree (`shape` dynamic: top-K, depth, size). eagle1 drafts
/// static shapes, eagle2 the dynamic tree, eagle3 either.
public struct TreeSpec: Sendable, Codable, Equatable {
    public var shape: String
    public var topK: Int
    public var depth: Int
    public var size: Int

    public init(shape: String = "eagle25", topK: Int = 3, depth: Int = 4, size: Int = 16) {
        self.shape = shape; self.topK = topK; self.depth = depth; self.size = size
    }

    public static let shapes = ["eagle25", "eagle10", "chain", "dynamic"]

    enum CodingKeys: String, CodingKey { case shape, topK, depth, size }

    /// Every field optional in a config file.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = TreeSpec()
        shape = try c.decodeIfPresent(String.self, forKey: .shape) ?? defaults.shape
        topK = try c.decodeIfPresent(Int.self, forKey: .topK) ?? defaults.topK
        depth = try c.decodeIfPresent(Int.self, forKey: .depth) ?? defaults.depth
        size = try c.decodeIfPresent(Int.self, forKey: .size) ?? defaults.size
    }

    /// The static tree for EAGLE-1.
    func fixedTree(draftLength: Int) throws -> EagleTree {
        switch shape {
        case "eagle25": return .fixed(EagleTree.eagle25)
        case "eagle10": return .fixed(EagleTree.eagle10)
        case "chain": return .fixed(EagleTree.chain(draftLength))
        case "dynamic": throw ModelError("--tree dynamic is EAGLE-2's tree: use --method eagle2 (or eagle3)")
        default: throw ModelError("unknown --tree '\(shape)'; available: \(Self.shapes.joined(separator: ", "))")
        }
    }

    func dynamicTree() throws -> EagleTree {
        guard topK >= 1, depth >= 0, size >= 1 else {
            throw ModelError("--tree-topk and --tree-size must be >= 1 and --tree-depth >= 0 (got \(topK), \(size), \(depth))")
        }
        // The reference model's context (at most a few thousand bytes) bounds every tree far below these.
        guard depth <= 1024, size <= 65_536, topK <= 65_536 else {
            throw ModelError("--tree-depth must be <= 1024 and --tree-size, --tree-topk <= 65536 (beyond any model's context), got \(depth), \(size), \(topK)")
        }
        return .dynamic(topK: topK, depth: depth, size: size)
    }

    /// The tree `method` drafts: eagle1 a static shape, eagle2 the dynamic tree, eagle3 the shape asked for.
    func tree(for method: String, draftLength: Int) throws -> EagleTree {
        switch method {
        case "eagle2": return try dynamicTree()
        case "eagle3": return shape == "dynamic" ? try dynamicTree() : try fixedTree(draftLength: draftLength)
        default: return try fixedTree(draftLength: draftLength)
        }
    }
}

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

public struct DecodeReport: Sendable {
    public var method: String
    public var stats: DecodeStats
    public var seconds: Double
    public var ntpTokensPerSecond: Double?
    public var lossless: Bool
    public var samples: Int
    public var batch = 1
    /// The rounds alone (every prompt's prefill excluded) and the tokens they emitted (each
    /// sequence's first token comes from its prefill): the steady state the cycle model predicts.
    public var roundSeconds = 0.0
    public var roundTokens = 0
    /// Plain decoding's rate over its rounds alone.
    public var ntpRoundTokensPerSecond: Double? = nil
    /// Quality as the target scores it: mean log p_target per generated token (nats), of this method's
    /// output and (with the baseline) of plain decoding's at the same settings.
    public var targetLogLikelihood = Double.nan
    public var ntpTargetLogLikelihood: Double? = nil

    /// End to end: prefill included, as a user waits for the whole output.
    public var tokensPerSecond: Double { Double(stats.tokensGenerated) / seconds }
    public var speedup: Double? { ntpTokensPerSecond.map { tokensPerSecond / $0 } }
    /// Decode phase only (no prefill): what the analytic engine's speculation cycle predicts.
    public var roundTokensPerSecond: Double { Double(roundTokens) / roundSeconds }
    public var decodeSpeedup: Double? { ntpRoundTokensPerSecond.map { roundTokensPerSecond / $0 } }

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
        fields.append("\"target_log_likelihood\": \(JSONText.number(targetLogLikelihood))")
        if let ntp = ntpTargetLogLikelihood { fields.append("\"ntp_target_log_likelihood\": \(JSONText.number(ntp))") }
        if let ntp = ntpTokensPerSecond, let speedup {
            fields.append("\"ntp_tokens_per_second\": \(JSONText.number(ntp))")
            fields.append("\"speedup\": \(JSONText.number(speedup))")
        }
        if let ntp = ntpRoundTokensPerSecond, let decodeSpeedup {
            fields.append("\"ntp_round_tokens_per_second\": \(JSONText.number(ntp))")
            fields.append("\"decode_speedup\": \(JSONText.number(decodeSpeedup))")
        }
        return "{\n  " + fields.joined(separator: ",\n  ") + "\n}"
    }
}

public enum DecodeRun {
    public static let methods = ["ntp", "sd", "pld", "blockwise", "mtp-parallel", "mtp-sequential", "eagle1", "eagle2", "eagle3", "masked-mtp", "hydra",
                                 "medusa1", "medusa2", "lookahead", "jacobi", "threshold", "mtad", "mtjd", "prefix-beam", "oracle"]

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
    static func loadPrompts(_ request: DecodeRequest, contextLength: Int) throws -> [[Int32]] {
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
    public func measure(method: String, drafter: URL?, draftLength: Int, settings: SamplingSettings, seed: UInt64,
                        baseline: Bool, confidenceThreshold: Double = 0, cumulativeThreshold: Bool = false,
                        tree: TreeSpec = TreeSpec(),
                        acceptance requested: AcceptanceRule = .lossless, batch: Int = 1,
                        oracleAlpha: Double = 0.8, beamWidth: Int = 4) throws -> DecodeReport {
        guard beamWidth >= 1, beamWidth <= model.config.vocab else {
            throw ModelError("--beam-width must be in 1...\(model.config.vocab) (the vocabulary: a wider beam has nothing more to hold), got \(beamWidth)")
        }
        // MTAD verifies by joint likelihood ratio; MTJD and prefix beam search keep their blocks unchecked.
        let acceptance: AcceptanceRule = method == "mtad" ? .jointRatio : ["mtjd", "prefix-beam"].contains(method) ? .unverified : requested
        guard requested == .lossless || !["mtad", "mtjd", "prefix-beam"].contains(method) else {
            throw ModelError("--method \(method) has its own acceptance rule; drop --typical / --unverified")
        }
        guard batch >= 1 else { throw ModelError("--batch must be >= 1") }
        guard (0...1).contains(oracleAlpha) else { throw ModelError("--oracle-alpha must be in [0, 1], got \(oracleAlpha)") }
        try settings.validate()
        guard DecodeRun.methods.contains(method) else {
            throw ModelError("unknown --method '\(method)'; available on the reference model: \(DecodeRun.methods.joined(separator: ", "))")
        }
        if method != "ntp" {
            guard draftLength >= 1, draftLength < model.config.contextLength else {
                throw ModelError("--draft-length must be in 1...\(model.config.contextLength - 1) (the model's context) for \(method), got \(draftLength)")
            }
        }
        let config = model.config
        guard (0...1).contains(confidenceThreshold) else {
            throw ModelError("--draft-threshold must be in [0, 1], got \(confidenceThreshold)")
        }
        if cumulativeThreshold, !["mtp-parallel", "mtp-sequential", "threshold"].contains(method) {
            throw ModelError("--cumulative applies to MTP heads (--method threshold, mtp-parallel, mtp-sequential), not \(method)")
        }
        if acceptance == .unverified,
           !["sd", "pld", "blockwise", "mtp-parallel", "mtp-sequential", "threshold", "masked-mtp", "mtjd", "prefix-beam"].contains(method) {
            throw ModelError("--unverified keeps a chain of drafts unchecked; \(method) drafts a tree or nothing (use a chain method: threshold, mtp-parallel, mtp-sequential, blockwise, sd, pld, masked-mtp)")
        }
        let stopping = DraftStopping(threshold: confidenceThreshold, cumulative: cumulativeThreshold)

        /// The --drafter directory, or one line saying what to pass.
        func drafterDirectory(_ what: String) throws -> URL {
            guard let drafter else { throw ModelError("--method \(method) needs --drafter DIR (\(what))") }
            try DrafterBinding.check(drafterDirectory: drafter, targetId: targetId, targetPath: modelPath ?? "the target")
            return drafter
        }
        func requireDraftLength(atMost available: Int, _ what: String, at directory: URL) throws {
            guard draftLength <= available else {
                throw ModelError("--draft-length \(draftLength) exceeds the \(available) \(what) available at '\(directory.path)'")
            }
        }

        /// Loads the drafter's weights once; the closure makes a fresh drafter (one per sequence of a batch).
        func drafterFactory() throws -> () -> Drafter {
            switch method {
            case "sd":
                let directory = try drafterDirectory("a draft model checkpoint: 'speclab train --preset draft --out DIR'")
                let draftNetwork = try Checkpoint.load(from: directory)
                guard draftNetwork.config.vocab == config.vocab else {
                    throw ModelError("the drafter at '\(directory.path)' has a vocabulary of \(draftNetwork.config.vocab), the target \(config.vocab)")
                }
                guard draftNetwork.config.contextLength >= config.contextLength else {
                    throw ModelError("the drafter's context (\(draftNetwork.config.contextLength)) is shorter than the target's (\(config.contextLength))")
                }
                return { DraftModelDrafter(model: InferenceModel(network: draftNetwork), draftLength: draftLength,
                                           confidenceThreshold: confidenceThreshold) }
            case "pld": return { PromptLookupDrafter(draftLength: draftLength) }
            case "blockwise":
                let directory = try drafterDirectory("heads from 'speclab train-drafter --kind blockwise'")
                let heads = try BlockwiseHeads.load(from: directory, target: config)
                try requireDraftLength(atMost: heads.heads, "heads", at: directory)
                return { BlockwiseDrafter(heads: heads, model: self.model, draftLength: draftLength) }
            case "mtp-parallel", "mtp-sequential", "threshold":
                // threshold: whichever MTP heads the directory holds, stopped on their confidence.
                let directory = try drafterDirectory("heads from 'speclab train-drafter --kind mtp-parallel' or 'mtp-sequential'")
                let sequential = method == "mtp-sequential"
                    || (method == "threshold" && FileManager.default.fileExists(atPath: directory.appendingPathComponent("mtp_modules.safetensors").path))
                if sequential {
                    let modules = try SequentialModules.load(from: directory, target: config)
                    try requireDraftLength(atMost: modules.depth, "modules", at: directory)
                    return { SequentialMTPDrafter(modules: modules, target: self.model, draftLength: draftLength, stopping: stopping) }
                }
                let heads = try ParallelHeads.load(from: directory, target: config)
                try requireDraftLength(atMost: heads.extraHeads, "extra heads", at: directory)
                return { ParallelHeadsDrafter(heads: heads, target: self.model, draftLength: draftLength, stopping: stopping) }
            case "medusa1", "medusa2", "hydra":
                let hydra = method == "hydra"
                let directory = try drafterDirectory("heads from 'speclab train-drafter --kind \(hydra ? "hydra" : "medusa")'")
                let heads = try MedusaHeads.load(from: directory, target: config, conditioned: hydra)
                let choices = heads.sparseTree(size: tree.size)
                guard (choices.map(\.count).max() ?? 0) <= heads.heads else {
                    throw ModelError("the sparse tree needs more than the \(heads.heads) heads at '\(directory.path)'")
                }
                return { MedusaDrafter(heads: heads, target: self.model, choices: choices) }
            case "eagle1", "eagle2", "eagle3":
                let kind = method == "eagle3" ? "eagle3" : "eagle"
                let directory = try drafterDirectory("a drafter from 'speclab train-drafter --kind \(kind)'")
                let weights: FeatureDrafter = method == "eagle3" ? try Eagle3Weights.load(from: directory, target: config)
                                                                 : try EagleWeights.load(from: directory, target: config)
                let shape = try tree.tree(for: method, draftLength: draftLength)
                return { EagleDrafter(weights: weights, target: self.model, tree: shape, name: method) }
            case "masked-mtp":
                let directory = try drafterDirectory("mask tokens and adapter from 'speclab train-drafter --kind masked-mtp'")
                let weights = try MaskedMTP.load(from: directory, target: config)
                try requireDraftLength(atMost: weights.masks, "mask tokens", at: directory)
                return { MaskedMTPDrafter(weights: weights, target: self.model, draftLength: draftLength) }
            case "mtad":
                let directory = try drafterDirectory("an auxiliary draft model checkpoint: 'speclab train-drafter --kind draft-model'")
                let auxiliary = try Checkpoint.load(from: directory)
                guard auxiliary.config.vocab == config.vocab else {
                    throw ModelError("the drafter at '\(directory.path)' has a vocabulary of \(auxiliary.config.vocab), the target \(config.vocab)")
                }
                return { BeamDrafter(model: InferenceModel(network: auxiliary), draftLength: draftLength, width: beamWidth,
                                     capacity: config.contextLength) }
            case "mtjd":
                // The target's own joint distribution, searched with its own forwards (counted as drafter forwards).
                return { BeamDrafter(model: InferenceModel(network: self.model.network), draftLength: draftLength,
                                     width: beamWidth, capacity: config.contextLength) }
            case "jacobi":
                // Jacobi decoding alone: the fixed-point window of W = the draft length, no n-gram pool.
                return { LookaheadDrafter(target: self.model, window: draftLength, ngram: 3, candidates: 0) }
            case "lookahead":
                // Window W = the draft length; N = 3 and G = W, the CPU settings Fu et al. suggest.
                return { LookaheadDrafter(target: self.model, window: draftLength, ngram: 3, candidates: draftLength) }
            case "oracle":
                guard settings.temperature == 0 else {
                    throw ModelError("--method oracle drafts the greedy continuation: use --temperature 0")
                }
                // The greedy continuations depend only on the prompts and their length: computed once per session.
                let tokens = maxTokens + draftLength + 1
                let continuations = oracleContinuations[tokens]
                    ?? OracleDrafter.continuations(model: model, prompts: prompts, tokens: tokens)
                oracleContinuations[tokens] = continuations
                return { OracleDrafter(continuations: continuations, draftLength: draftLength, alpha: oracleAlpha) }
            default: return { NoDrafter() }
            }
        }

        // Prefix beam search: the parallel heads of --drafter; blocks of 1 … draft length + 1 tokens.
        var prefixBeamHeads: ParallelHeads? = nil
        if method == "prefix-beam" {
            guard batch == 1 else { throw ModelError("--method prefix-beam decodes one sequence at a time; drop --batch") }
            guard settings.temperature == 0 else { throw ModelError("--method prefix-beam is a search: use --temperature 0") }
            let directory = try drafterDirectory("heads from 'speclab train-drafter --kind mtp-parallel'")
            let heads = try ParallelHeads.load(from: directory, target: config)
            try requireDraftLength(atMost: heads.extraHeads, "extra heads", at: directory)
            prefixBeamHeads = heads
        }
        /// Stats, wall seconds (prefill included), seconds of the rounds alone, and each prompt's output.
        func decodeAll(_ makeDrafter: () -> Drafter, lossless: Bool)
            -> (stats: DecodeStats, seconds: Double, roundSeconds: Double, outputs: [[Int32]]) {
            var total = DecodeStats()
            var roundSeconds = 0.0
            var outputs: [[Int32]] = []
            let rule = lossless ? .lossless : acceptance
            let start = DispatchTime.now().uptimeNanoseconds
            if let heads = prefixBeamHeads, !lossless {
                // Prefix beam search runs its own loop (hypotheses with their own caches), one prompt at a time.
                for prompt in prompts {
                    let result = PrefixBeamSearch.generate(model: model, heads: heads, prompt: prompt, maxNewTokens: maxTokens,
                                                           width: beamWidth, blockLengths: 1...(draftLength + 1))
                    total.merge(result.stats)
                    roundSeconds += result.stats.seconds
                    outputs.append(result.tokens)
                }
            } else if batch == 1 {
                let target = TransformerTarget(model: model)
                let drafter = makeDrafter()
                for (index, prompt) in prompts.enumerated() {
                    let result = SpeculativeDecoding.generate(target: target, drafter: drafter, prompt: prompt,
                                                              maxNewTokens: maxTokens, settings: settings,
                                                              seed: seed &+ UInt64(index), acceptance: rule)
                    total.merge(result.stats)
                    roundSeconds += result.stats.seconds
                    outputs.append(result.tokens)
                }
            } else {
                for first in stride(from: 0, to: prompts.count, by: batch) {
                    let chunk = Array(prompts[first..<min(first + batch, prompts.count)])
                    let result = BatchedSpeculation.generate(model: model, drafters: chunk.map { _ in makeDrafter() },
                                                             prompts: chunk, maxNewTokens: maxTokens, settings: settings,
                                                             seed: seed &+ UInt64(first), acceptance: rule)
                    total.merge(result.stats)
                    roundSeconds += result.seconds
                    outputs += result.tokens
                }
            }
            return (total, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, roundSeconds, outputs)
        }
        /// Mean log-likelihood per generated token (nats) of the outputs under the target, after the timing.
        func targetLogLikelihood(_ outputs: [[Int32]]) -> Double {
            var sum = 0.0, count = 0
            for (prompt, output) in zip(prompts, outputs) {
                let scored = TargetLikelihood.logLikelihood(model: model, prompt: prompt, continuation: output)
                sum += scored.sum
                count += scored.count
            }
            return count > 0 ? sum / Double(count) : .nan
        }

        // The largest verify forward a round can make, so that prompt + budget + verify fit the context.
        let verifyTokens: Int
        switch method {
        case "ntp": verifyTokens = 1
        case "eagle1", "eagle2", "eagle3": verifyTokens = (try tree.tree(for: method, draftLength: draftLength)).nodes + 1
        case "medusa1", "medusa2", "hydra": verifyTokens = tree.size + 1
        case "lookahead": verifyTokens = draftLength + 2 * draftLength + 1
        case "masked-mtp": verifyTokens = (draftLength + 1) * (draftLength + 1)
        default: verifyTokens = draftLength + 1
        }
        let longestPrompt = prompts.map(\.count).max() ?? 0
        guard longestPrompt + maxTokens + verifyTokens <= config.contextLength else {
            throw ModelError("a prompt of \(longestPrompt) tokens + --max-tokens \(maxTokens) + a verify of \(verifyTokens) tokens exceed the model's context of \(config.contextLength); lower --max-tokens, --prompt-length or the draft")
        }
        let factory = try drafterFactory()
        let run = decodeAll(factory, lossless: false)
        // Each sequence's first token is its prefill's.
        let roundTokens = { (stats: DecodeStats) in max(0, stats.tokensGenerated - self.prompts.count) }
        // MTAD's joint-ratio rule is greedy matching at T = 0 (the output is plain greedy's).
        let lossless = acceptance.isLossless || (acceptance == .jointRatio && settings.temperature == 0)
        var report = DecodeReport(method: method, stats: run.stats, seconds: run.seconds, ntpTokensPerSecond: nil,
                                  lossless: lossless, samples: prompts.count)
        report.roundSeconds = run.roundSeconds
        report.roundTokens = roundTokens(run.stats)
        report.targetLogLikelihood = targetLogLikelihood(run.outputs)
        // Finite weights (checked at load) can still overflow float32 in a forward: then every number of
        // the run is meaningless, so it stops rather than reporting them.
        guard report.targetLogLikelihood.isFinite || run.outputs.allSatisfy(\.isEmpty) else {
            throw ModelError("the target's logits became non-finite during generation (log-likelihood \(report.targetLogLikelihood)): its float32 forward overflows; the checkpoint cannot be decoded")
        }
        if baseline {
            // Plain decoding of the same prompts (same batching) right after: the speedup is a ratio taken in one run.
            let base = decodeAll({ NoDrafter() }, lossless: true)
            report.ntpTokensPerSecond = Double(base.stats.tokensGenerated) / base.seconds
            report.ntpRoundTokensPerSecond = Double(roundTokens(base.stats)) / base.roundSeconds
            report.ntpTargetLogLikelihood = targetLogLikelihood(base.outputs)
        }
        report.batch = batch
        return report
    }
}
