// `speclab train-drafter`: drafters for a trained target — blockwise heads,
// parallel MTP head blocks or sequential MTP modules (on the frozen trunk, or
// trained jointly with a fresh trunk from scratch), EAGLE-1/2 and EAGLE-3
// drafters, Medusa and Hydra heads, mask tokens with a gated LoRA, each
// reporting per-head (per-step, per-mask) top-1 accuracy on validation text
// (the figure Stern, Medusa and Gloeckle report), or a separate draft model.

import Decoding
import Files
import Foundation
import Methods
import LinAlg
import Transformer

public struct DrafterTrainingRequest: Sendable {
    public var target: URL
    public var kind: String
    public var heads: Int
    public var corpus: String
    public var output: URL
    public var settings: TrainingSettings
    public var threads: Int
    public var preset: String
    /// "frozen": extra heads on the trained target; "joint": the target fine-tuned together with
    /// the heads (MTP kinds, Medusa-2); "scratch": a fresh trunk of the target's architecture
    /// trained jointly with the heads (MTP kinds).
    public var trunk: String
    /// masked-mtp: the gated LoRA's rank (α = 2r).
    public var rank: Int

    public init(target: URL, kind: String, heads: Int, corpus: String, output: URL, settings: TrainingSettings,
                threads: Int, preset: String, trunk: String = "frozen", rank: Int = 8) {
        self.target = target; self.kind = kind; self.heads = heads; self.corpus = corpus; self.output = output
        self.settings = settings; self.threads = threads; self.preset = preset; self.trunk = trunk; self.rank = rank
    }

    /// What every drafter file records of its training: target, corpus, steps, seed, and the content id of
    /// the trunk it drafts for (`trunk`: the target itself, or the trunk trained with it), by which decoding
    /// refuses it beside any other target.
    func metadata(corpus: Corpus, trunk: Network<Float>) -> [String: String] {
        ["target": target.path, "corpus": corpus.name, "steps": String(settings.steps), "seed": String(settings.seed),
         DrafterBinding.targetIdKey: Checkpoint.contentId(of: trunk)]
    }
}

public enum DrafterTraining {
    /// Every kind some decoding method reads (the method registry's).
    public static var kinds: [String] { MethodRegistry.drafterKinds }
    public static let trunks = ["frozen", "joint", "scratch"]

    /// Heads or modules of one drafter at most.
    public static let maximumHeads = 64

    /// `--heads` of the kinds whose heads each predict one token further (blockwise, MTP, Medusa, Hydra).
    static func checkHeads(_ request: DrafterTrainingRequest) throws {
        guard (1...maximumHeads).contains(request.heads) else {
            throw ModelError("--heads must be in 1...\(maximumHeads) (each head predicts one token further; no method drafts further), got \(request.heads)")
        }
    }

    public static func run(_ request: DrafterTrainingRequest) throws -> [String] {
        try ThreadCount.check(request.threads)
        // Checked before any work: a file in the output folder's place is refused now, not after training.
        try ArtifactDirectory.checkFolder(request.output, for: "drafter")
        switch request.kind {
        case _ where request.trunk != "frozen" && !["mtp-parallel", "mtp-sequential", "medusa", "hydra"].contains(request.kind):
            throw ModelError("--trunk \(request.trunk) applies to mtp-parallel, mtp-sequential, medusa and hydra; --kind \(request.kind) trains on the frozen target (drop --trunk)")
        case "draft-model":
            return try TrainingRun.run(TrainingRequest(preset: request.preset, corpus: request.corpus, output: request.output,
                                                       settings: request.settings, threads: request.threads, plot: true))
        case "blockwise":
            return try blockwise(request)
        case "mtp-parallel", "mtp-sequential":
            return try multiToken(request)
        case "eagle":
            return try eagle(request)
        case "eagle3":
            return try eagle3(request)
        case "masked-mtp":
            return try maskedMTP(request)
        case "medusa", "hydra":
            return try medusa(request)
        default:
            throw ModelError("unknown --kind '\(request.kind)'; available: \(kinds.joined(separator: ", "))")
        }
    }

    static func blockwise(_ request: DrafterTrainingRequest) throws -> [String] {
        try checkHeads(request)
        let (network, corpus) = try loadTarget(request)
        let config = network.config
        let heads = BlockwiseHeads(heads: request.heads, width: config.width)
        heads.initialize(seed: request.settings.seed)
        let objective = BlockwiseObjective(network: network, heads: heads)
        let (before, after, report) = try trainReportingAccuracy(objective, label: "train blockwise heads", config: config,
                                                                 corpus: corpus, settings: request.settings)
        var metadata = request.metadata(corpus: corpus, trunk: network)
        for (j, a) in after.enumerated() { metadata["head\(j + 2)_top1"] = String(format: "%.4f", a) }
        try heads.save(to: request.output, target: config, metadata: metadata)
        return [
            "\(request.heads) blockwise heads on \(config.name) (frozen), corpus \(corpus.name): \(request.settings.steps) steps in \(String(format: "%.1f", report.seconds)) s",
            "validation top-1 accuracy of head k (predicting x_{t+k}), before → after training:",
        ] + after.enumerated().map { j, a in String(format: "  head %d: %.3f → %.3f", j + 2, before[j], a) }
          + ["heads: \(request.output.path)/heads.safetensors"]
    }

    /// Parallel MTP heads or sequential MTP modules, on the frozen target or jointly with a fresh trunk.
    static func multiToken(_ request: DrafterTrainingRequest) throws -> [String] {
        try checkHeads(request)
        guard trunks.contains(request.trunk) else {
            throw ModelError("unknown --trunk '\(request.trunk)'; available: \(trunks.joined(separator: ", "))")
        }
        let (trained, corpus) = try loadTarget(request)
        let config = trained.config
        let scratch = request.trunk == "scratch", trainTrunk = request.trunk != "frozen"
        let network: Network<Float>
        if scratch {
            network = try Network<Float>(config: config)
            network.initialize(seed: request.settings.seed)
        } else {
            network = trained
        }
        let objective: HeadObjective
        let save: ([String: String]) throws -> Void
        let parallel = request.kind == "mtp-parallel"
        if parallel {
            guard config.layers >= 2 else { throw ModelError("mtp-parallel needs a target of at least 2 layers (trunk + head 1)") }
            let heads = ParallelHeads(config: config, extraHeads: request.heads)
            if scratch { heads.initialize(seed: request.settings.seed &+ 1) } else { heads.initialize(copying: network) }
            objective = ParallelMTPObjective(network: network, heads: heads, trainTrunk: trainTrunk)
            save = { try heads.save(to: request.output, metadata: $0) }
        } else {
            let modules = SequentialModules(config: config, depth: request.heads)
            if scratch { modules.initialize(seed: request.settings.seed &+ 1) } else {
                modules.initialize(copying: network, seed: request.settings.seed &+ 1)
            }
            objective = SequentialMTPObjective(network: network, modules: modules, trainTrunk: trainTrunk,
                                               totalSteps: request.settings.steps)
            save = { try modules.save(to: request.output, metadata: $0) }
        }
        let label = "train \(request.kind) (\(request.heads) \(parallel ? "extra heads" : "modules"), \(request.trunk) trunk)"
        let (before, after, report) = try trainReportingAccuracy(objective, label: label, config: config, corpus: corpus,
                                                                 settings: request.settings)
        var metadata = request.metadata(corpus: corpus, trunk: network)
        metadata["trunk"] = request.trunk
        for (j, a) in after.enumerated() { metadata["head\(j + 2)_top1"] = String(format: "%.4f", a) }
        var lines = [
            "\(label) on \(config.name), corpus \(corpus.name): \(request.settings.steps) steps in \(String(format: "%.1f", report.seconds)) s",
        ]
        if trainTrunk {
            let bpb = report.finalValidationBitsPerByte
            metadata["validation_bits_per_byte"] = String(format: "%.4f", bpb)
            // The jointly trained trunk is the model to decode from: saved beside the heads.
            try Checkpoint.save(network, to: request.output, metadata: metadata)
            lines.append(String(format: "head 1 (next token) validation: %.4f bits/byte; the next-token-only target (%@): %@ bits/byte",
                                bpb, request.target.lastPathComponent, (try? Checkpoint.info(at: request.target))?.metadata["validation_bits_per_byte"] ?? "?"))
        }
        try save(metadata)
        lines.append("validation top-1 accuracy of head k (predicting x_{t+k}), before → after training:")
        lines += after.enumerated().map { j, a in String(format: "  head %d: %.3f → %.3f", j + 2, before[j], a) }
        lines.append("\(parallel ? "heads" : "modules"): \(request.output.path)/\(parallel ? ParallelHeads.fileName : SequentialModules.fileName)"
                     + (trainTrunk ? "; decode with --model \(request.output.path) --drafter \(request.output.path)" : ""))
        return lines
    }

    /// Medusa-1 (heads on the frozen target) or Medusa-2 (--trunk joint: the target fine-tuned with
    /// the heads after a heads-only warm-up of a third of the steps).
    static func medusa(_ request: DrafterTrainingRequest) throws -> [String] {
        try checkHeads(request)
        guard request.trunk == "frozen" || request.trunk == "joint" else {
            throw ModelError("--trunk \(request.trunk) is not available for \(request.kind == "hydra" ? "Hydra" : "Medusa") heads; use frozen or joint")
        }
        let (network, corpus) = try loadTarget(request)
        let config = network.config
        let hydra = request.kind == "hydra"
        let heads = MedusaHeads(config: config, heads: request.heads, conditioned: hydra)
        heads.initialize(copying: network)
        let joint = request.trunk == "joint"
        let objective = MedusaObjective(network: network, heads: heads, trainTrunk: joint,
                                        warmupSteps: joint ? request.settings.steps / 3 : 0)
        let family = hydra ? "Hydra" : "Medusa"
        let label = "train \(family)\(joint ? "-2" : "-1") (\(request.heads) heads, \(joint ? "joint" : "frozen"))"
        // The final validation pass also sums each head's rank accuracies (the sparse tree's input).
        var rankSums = [[Double]](repeating: [Double](repeating: 0, count: MedusaHeads.ranks), count: request.heads)
        var windows = 0
        let (before, after, report) = try trainReportingAccuracy(
            objective, label: label, config: config, corpus: corpus, settings: request.settings, afterEach: {
                for (k, row) in objective.lastRankAccuracy.enumerated() { for (i, a) in row.enumerated() { rankSums[k][i] += a } }
                windows += 1
            })
        heads.accuracies = rankSums.map { $0.map { $0 / Double(max(windows, 1)) } }
        var metadata = request.metadata(corpus: corpus, trunk: network)
        metadata["trunk"] = request.trunk
        var lines = ["\(label) on \(config.name), corpus \(corpus.name): \(request.settings.steps) steps in \(String(format: "%.1f", report.seconds)) s"]
        if joint {
            metadata["validation_bits_per_byte"] = String(format: "%.4f", report.finalValidationBitsPerByte)
            try Checkpoint.save(network, to: request.output, metadata: metadata)
            lines.append(String(format: "fine-tuned base: %.4f bits/byte (the original: %@)", report.finalValidationBitsPerByte,
                                (try? Checkpoint.info(at: request.target))?.metadata["validation_bits_per_byte"] ?? "?"))
        }
        try heads.save(to: request.output, metadata: metadata)
        lines.append("validation top-1 accuracy of head k (predicting x_{t+k}), before → after training:")
        lines += after.enumerated().map { j, a in String(format: "  head %d: %.3f → %.3f", j + 2, before[j], a) }
        lines.append("rank accuracies for the sparse tree: " + heads.accuracies.map { $0.map { String(format: "%.2f", $0) }.joined(separator: " ") }.joined(separator: " | "))
        lines.append("heads: \(request.output.path)/\(hydra ? "hydra.safetensors" : MedusaHeads.fileName)"
                     + (joint ? "; decode with --model \(request.output.path)" : "") + (hydra ? " (--method hydra)" : ""))
        return lines
    }

    /// An EAGLE-1/2 drafter on the frozen target.
    static func eagle(_ request: DrafterTrainingRequest) throws -> [String] {
        let (network, corpus) = try loadTarget(request)
        let config = network.config
        let weights = EagleWeights(config: config)
        weights.initialize(copying: network, seed: request.settings.seed)
        let objective = EagleObjective(network: network, weights: weights, seed: request.settings.seed)
        let (before, after, report) = try trainReportingAccuracy(objective, label: "train EAGLE drafter", config: config,
                                                                 corpus: corpus, settings: request.settings)
        var metadata = request.metadata(corpus: corpus, trunk: network)
        metadata["depth1_top1"] = String(format: "%.4f", after[0])
        try weights.save(to: request.output, metadata: metadata)
        return [
            "EAGLE drafter on \(config.name) (frozen), corpus \(corpus.name): \(request.settings.steps) steps in \(String(format: "%.1f", report.seconds)) s",
            "validation top-1 agreement with the target's next-next token (depth 1, true features), before → after training:",
            String(format: "  head 2: %.3f → %.3f", before[0], after[0]),
            "drafter: \(request.output.path)/\(EagleWeights.fileName); decode with --method eagle1 (static tree) or eagle2 (dynamic)",
        ]
    }

    /// An EAGLE-3 drafter on the frozen target, trained with `heads` training-time-test steps.
    static func eagle3(_ request: DrafterTrainingRequest) throws -> [String] {
        guard (1...8).contains(request.heads) else { throw ModelError("--heads (training-time-test steps S) must be 1…8, got \(request.heads)") }
        let (network, corpus) = try loadTarget(request)
        let config = network.config
        guard config.layers >= 2 else { throw ModelError("EAGLE-3 fuses three residual streams: the target needs at least 2 layers") }
        let weights = Eagle3Weights(config: config)
        weights.initialize(copying: network, seed: request.settings.seed)
        let objective = Eagle3Objective(network: network, weights: weights, steps: request.heads)
        let (before, after, report) = try trainReportingAccuracy(objective, label: "train EAGLE-3 drafter", config: config,
                                                                 corpus: corpus, settings: request.settings)
        var metadata = request.metadata(corpus: corpus, trunk: network)
        metadata["ttt_steps"] = String(request.heads)
        metadata["streams"] = weights.streams.map(String.init).joined(separator: ",")
        for (s, accuracy) in after.enumerated() { metadata["step\(s)_top1"] = String(format: "%.4f", accuracy) }
        try weights.save(to: request.output, metadata: metadata)
        return [
            "EAGLE-3 drafter on \(config.name) (frozen; fused residual streams \(weights.streams.map(String.init).joined(separator: "/")); training-time test S = \(request.heads)), corpus \(corpus.name): \(request.settings.steps) steps in \(String(format: "%.1f", report.seconds)) s",
            "validation top-1 agreement with the target at each unrolled step (step s drafts depth s + 1 from its own features), before → after training:",
        ] + before.indices.map { String(format: "  step %d: %.3f → %.3f", $0, before[$0], after[$0]) } + [
            "drafter: \(request.output.path)/\(Eagle3Weights.fileName); decode with --method eagle3 (--tree dynamic by default, or a static shape)",
        ]
    }

    /// Mask tokens, gated LoRA and sampler on the frozen target (§8), `heads` = k masks.
    static func maskedMTP(_ request: DrafterTrainingRequest) throws -> [String] {
        guard (1...8).contains(request.heads) else { throw ModelError("--heads (mask tokens k) must be 1…8, got \(request.heads)") }
        guard (1...64).contains(request.rank) else { throw ModelError("--rank must be 1…64, got \(request.rank)") }
        let (network, corpus) = try loadTarget(request)
        let config = network.config
        let weights = MaskedMTP(config: config, masks: request.heads, rank: request.rank)
        weights.initialize(seed: request.settings.seed)
        let objective = MaskedMTPObjective(network: network, weights: weights)
        let (before, after, report) = try trainReportingAccuracy(objective, label: "train masks + gated LoRA", config: config,
                                                                 corpus: corpus, settings: request.settings)
        var metadata = request.metadata(corpus: corpus, trunk: network)
        for (j, accuracy) in after.enumerated() { metadata["mask\(j + 1)_top1"] = String(format: "%.4f", accuracy) }
        try weights.save(to: request.output, metadata: metadata)
        return [
            "masked MTP on \(config.name) (frozen; \(request.heads) mask tokens, gated LoRA rank \(request.rank) on every block map, α = \(2 * request.rank)), corpus \(corpus.name): \(request.settings.steps) steps in \(String(format: "%.1f", report.seconds)) s",
            "validation top-1 of the sampler at mask j (true previous token; mask j predicts the token j + 1 after its anchor), before → after training:",
        ] + before.indices.map { String(format: "  mask %d: %.3f → %.3f", $0 + 1, before[$0], after[$0]) } + [
            "drafter: \(request.output.path); decode with --method masked-mtp (--draft-length ≤ \(request.heads))",
        ]
    }

    /// What every kind but draft-model starts from: BLAS threads set, the trained target and the
    /// corpus loaded, the training window checked against the target's context.
    static func loadTarget(_ request: DrafterTrainingRequest) throws -> (Network<Float>, Corpus) {
        OpenBLAS.setThreads(request.threads)
        let network = try Checkpoint.load(from: request.target)
        try request.settings.validate(for: network.config)
        return (network, try Corpus.load(request.corpus))
    }

    /// Validation head accuracy, training with progress, validation head accuracy again: what every
    /// head-drafter kind reports. `afterEach` sees the objective after each window of the final pass.
    static func trainReportingAccuracy(_ objective: HeadObjective, label: String, config: ModelConfig, corpus: Corpus,
                                       settings: TrainingSettings, afterEach: (() -> Void)? = nil) throws
        -> (before: [Double], after: [Double], report: TrainingReport) {
        let before = try headAccuracy(objective, config: config, corpus: corpus, settings: settings)
        let progress = ProgressReporter(label: label, total: settings.steps)
        let report = try Trainer.train(objective: objective, config: config, corpus: corpus, settings: settings,
                                       onStep: { p in progress.update(p.step, detail: String(format: "loss %.3f", p.trainLoss)) })
        progress.finish()
        let after = try headAccuracy(objective, config: config, corpus: corpus, settings: settings, each: afterEach)
        return (before, after, report)
    }

    /// Mean top-1 accuracy of every extra head over the validation windows; `each` runs after every window.
    public static func headAccuracy(_ objective: HeadObjective, config: ModelConfig, corpus: Corpus,
                                    settings: TrainingSettings, each: (() -> Void)? = nil) throws -> [Double] {
        let length = settings.sequenceLength
        let windows = BatchSampler.evaluationWindows(data: corpus.validation, sequenceLength: length,
                                                     maxWindows: settings.evaluationWindows)
        guard !windows.isEmpty else { throw ModelError("too little validation text for windows of \(length) bytes") }
        let state = TrainingState<Float>(config: config, batch: 1, length: length)
        var sums = [Double](repeating: 0, count: objective.extraHeadCount)
        for window in windows {
            _ = objective.evaluate(inputs: window.prefix(length).map { Int32($0) },
                                   targets: window.dropFirst().prefix(length).map { Int32($0) }, state: state)
            for (j, a) in objective.lastAccuracy.enumerated() { sums[j] += a }
            each?()
        }
        return sums.map { $0 / Double(windows.count) }
    }
}
