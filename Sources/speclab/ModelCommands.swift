// speclab train / generate / bench-model: the reference transformer.

import ArgumentParser
import Experiments
import Files
import Foundation
import Methods
import Transformer

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a reference-model preset on a corpus; writes a checkpoint, training.csv and a loss chart.",
        discussion: "Presets: \(ModelConfig.presets.map(\.name).joined(separator: ", ")). Corpora: gsl (the GSL headers, C), prose (fortunes), a file/directory path, or several joined by + (gsl+prose).")

    @Option(help: "Model preset.") var preset = "tiny"
    @Option(help: "gsl, prose, or a path to a file or directory of text.") var corpus = "gsl"
    @Option(parsing: .unconditional, help: "Optimizer steps.") var steps = 1000
    @Option(help: "Output directory for the checkpoint.") var out: String
    @Option(parsing: .unconditional, help: "Random seed (initialisation and batches).") var seed: UInt64 = 1
    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Windows per step.") var batchSize = 16
    @Option(name: .customLong("sequence-length"), parsing: .unconditional, help: "Bytes per window (default: min(128, the preset's context)).") var sequenceLength: Int?
    @Option(name: .customLong("learning-rate"), parsing: .unconditional, help: "Peak AdamW learning rate.") var learningRate: Float = 3e-3
    @Option(help: "BLAS threads (results are bitwise reproducible at a fixed count).") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Flag(name: .customLong("no-plot"), help: "Write the loss data and gnuplot script without running gnuplot.") var noPlot = false
    @Flag(help: "Continue the interrupted run in --out from its last evaluation (same settings and --threads): the weights come out as if it had not stopped.") var resume = false

    func run() throws {
        let config = try ModelConfig.preset(named: preset)
        let settings = TrainingSettings(steps: steps, batchSize: batchSize,
                                        sequenceLength: sequenceLength ?? min(128, config.contextLength),
                                        learningRate: learningRate, seed: seed)
        let lines = try TrainingRun.run(TrainingRequest(preset: preset, corpus: corpus, output: URL(fileURLWithPath: out),
                                                        settings: settings, threads: threads, plot: !noPlot,
                                                        resume: resume))
        for line in lines { say(line) }
    }
}

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate bytes from a trained checkpoint.")

    @Option(help: "Checkpoint directory (from 'speclab train').") var model: String
    @Option(help: "The prompt text.") var prompt: String?
    @Option(name: .customLong("prompt-file"), help: "Read the prompt's raw bytes from a file (any bytes, not only UTF-8).") var promptFile: String?
    @Option(name: .customLong("max-tokens"), parsing: .unconditional, help: "Bytes to generate.") var maxTokens = 200
    @Option(parsing: .unconditional, help: "0 = greedy.") var temperature = 0.0
    @Option(name: .customLong("top-k"), parsing: .unconditional, help: "Keep the k most likely bytes (0 = off).") var topK = 0
    @Option(name: .customLong("top-p"), parsing: .unconditional, help: "Nucleus mass (1 = off).") var topP = 1.0
    @Option(parsing: .unconditional, help: "Sampling seed.") var seed: UInt64 = 1

    func run() throws {
        let settings = SamplingSettings(temperature: temperature, topK: topK, topP: topP)
        try settings.validate()
        let bytes: [UInt8]
        switch (prompt, promptFile) {
        case (let text?, nil): bytes = Array(text.utf8)
        case (nil, let path?):
            bytes = Array(try InputFile.read(path, what: "--prompt-file"))
        default: throw ModelError("give --prompt TEXT or --prompt-file PATH (one of them)")
        }
        try TrainingRun.generate(model: URL(fileURLWithPath: model), prompt: bytes, maxTokens: maxTokens,
                                 settings: settings, seed: seed) { byte in
            FileHandle.standardOutput.write(Data([byte]))
        }
        FileHandle.standardOutput.write(Data("\n".utf8))
    }
}

struct BenchModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-model",
        abstract: "Decode time, T(k)/T(1) and training throughput of a reference-model preset against this machine's measured limits.")

    @Option(help: "Model preset (large: weights far beyond the L3 cache).") var preset = "large"
    @Option(help: "Threads for products and probes.") var threads = ProcessInfo.processInfo.activeProcessorCount

    func run() throws {
        for line in try ModelBenchmark.run(preset: preset, threads: threads) { say(line) }
    }
}

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode with a method on a trained target over validation prompts and report τ, acceptance and speed.")

    @Option(help: "Target checkpoint directory.") var model: String
    @Option(help: "The decoding method: \(MethodRegistry.names.joined(separator: ", ")). 'speclab methods' describes each (drafter, verifier, tree, lossless or not, engine workload).") var method = "ntp"
    @Option(name: .customLong("oracle-alpha"), parsing: .unconditional, help: "oracle: per-draft acceptance rate α.") var oracleAlpha = 0.8
    @Option(name: .customLong("beam-width"), parsing: .unconditional, help: "mtad, mtjd, prefix-beam: beams kept at each depth (1 = greedy or plain sampling of the drafter).") var beamWidth = 4
    @Option(help: "Drafter directory of the methods that need one (speclab methods names the train-drafter --kind each reads).") var drafter: String?
    @Option(help: "eagle1, eagle3: eagle25, eagle10, chain (of --draft-length drafts) or, eagle3 only, dynamic (EAGLE-2's tree). Default: eagle25 for eagle1, dynamic for eagle3.") var tree: String?
    @Option(name: .customLong("tree-topk"), parsing: .unconditional, help: "eagle2 (and eagle3 --tree dynamic): children per expanded node and nodes expanded per level (K).") var treeTopK = 3
    @Option(name: .customLong("tree-depth"), parsing: .unconditional, help: "eagle2: drafter forwards after the first (drafts reach depth + 1).") var treeDepth = 4
    @Option(name: .customLong("tree-size"), parsing: .unconditional, help: "eagle2: drafted nodes kept for verification (M); medusa: nodes of the sparse tree.") var treeSize = 16
    @Option(parsing: .unconditional, help: "Sequences decoded together, verified in one target forward (the prompts go in groups of this size).") var batch = 1
    @Flag(help: "Medusa's typical acceptance (V5) instead of a lossless verifier: faster, NOT the target's distribution.") var typical = false
    @Option(name: .customLong("typical-epsilon"), parsing: .unconditional, help: "V5 threshold ε.") var typicalEpsilon = 0.09
    @Option(name: .customLong("typical-delta"), parsing: .unconditional, help: "V5 entropy factor δ.") var typicalDelta = 0.3
    @Option(name: .customLong("draft-length"), parsing: .unconditional, help: "Drafts per cycle γ.") var draftLength = 4
    @Option(help: "A file of prompts, one per line (default: windows of the corpus's validation split).") var prompts: String?
    @Option(help: "Corpus whose validation split gives the prompts: gsl, prose or a path.") var corpus = "gsl"
    @Option(parsing: .unconditional, help: "Number of prompts.") var samples = 8
    @Option(name: .customLong("prompt-length"), parsing: .unconditional, help: "Prompt bytes.") var promptLength = 64
    @Option(name: .customLong("max-tokens"), parsing: .unconditional, help: "Bytes generated per prompt.") var maxTokens = 64
    @Option(parsing: .unconditional, help: "0 = greedy.") var temperature = 0.0
    @Option(name: .customLong("top-k"), parsing: .unconditional, help: "Sample from the k most likely bytes (0 = all).") var topK = 0
    @Option(name: .customLong("top-p"), parsing: .unconditional, help: "Sample from the smallest set of bytes whose probability reaches p (1 = all).") var topP = 1.0
    @Option(parsing: .unconditional, help: "Seed of the drafting and verification streams.") var seed: UInt64 = 1
    @Option(name: .customLong("draft-threshold"), parsing: .unconditional, help: "sd, threshold, mtp-parallel, mtp-sequential: stop drafting at a draft whose top probability is below this (0 = off; sd always drafts one).") var draftThreshold = 0.0
    @Flag(help: "threshold, mtp-parallel, mtp-sequential: stop once the product of the drafts' top probabilities falls below --draft-threshold.") var cumulative = false
    @Flag(help: "Keep every draft of a chain without verification (threshold generation): more tokens per forward, NOT the target's output.") var unverified = false
    @Option(parsing: .unconditional, help: "Threads for products.") var threads = 1
    @Flag(help: "Also run plain decoding on the same prompts: adds ntp_tokens_per_second and speedup.") var baseline = false
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        guard !(typical && unverified) else { throw ValidationError("--typical and --unverified are two different acceptance rules: give one") }
        var request = DecodeRequest(
            model: URL(fileURLWithPath: model), method: method, drafter: drafter.map { URL(fileURLWithPath: $0) },
            draftLength: draftLength, prompts: prompts, corpus: corpus, samples: samples, promptLength: promptLength,
            maxTokens: maxTokens, settings: SamplingSettings(temperature: temperature, topK: topK, topP: topP), seed: seed,
            baseline: baseline, threads: threads, confidenceThreshold: draftThreshold,
            tree: TreeSpec(shape: tree ?? MethodRegistry.defaultTreeShape(method: method), topK: treeTopK, depth: treeDepth, size: treeSize),
            acceptance: unverified ? .unverified : typical ? .typical(epsilon: typicalEpsilon, delta: typicalDelta) : .lossless,
            batch: batch)
        request.oracleAlpha = oracleAlpha
        request.beamWidth = beamWidth
        request.cumulativeThreshold = cumulative
        let report = try DecodeRun.run(request)
        if json { say(report.json); return }
        let s = report.stats
        say("\(report.method) (\(report.lossyReason.map { "LOSSY: \($0); not the target's distribution" } ?? "lossless")): \(s.tokensGenerated) tokens over \(report.samples) prompts\(report.batch > 1 ? " in batches of \(report.batch)" : ""), \(s.targetForwards) target forwards, τ = \(format(s.tau, 3)), \(format(s.rounds > 0 ? 1 + Double(s.drafted) / Double(s.rounds) : 0, 1)) nodes verified per cycle" + (s.verifiedRows > s.rounds + s.drafted ? " (\(format(Double(s.verifiedRows) / Double(max(s.rounds, 1)), 1)) rows per verify forward with side rows)" : ""))
        say("accepted-length histogram: \(s.acceptedLengthHistogram); per-position acceptance: \(s.perPositionAcceptance.map { format($0, 3) })")
        say(String(format: "%.3f s (drafting %.3f, verifying %.3f, other %.3f): %.1f tokens/s", report.seconds,
                   s.draftingSeconds, s.verifyingSeconds, s.otherSeconds, report.tokensPerSecond))
        if let ntp = report.ntpTokensPerSecond, let speedup = report.speedup {
            say(String(format: "plain decoding: %.1f tokens/s → speedup %.3f× (prefill included)", ntp, speedup))
        }
        say(String(format: "target log-likelihood of the output: %.4f nats per token", report.targetLogLikelihood)
            + (report.ntpTargetLogLikelihood.map { String(format: " (plain decoding: %.4f)", $0) } ?? ""))
        if let ntp = report.ntpRoundTokensPerSecond, let speedup = report.decodeSpeedup {
            say(String(format: "decode phase alone: %.1f against %.1f tokens/s → speedup %.3f× (what the engine's cycle predicts)",
                       report.roundTokensPerSecond, ntp, speedup)
                + (report.decodeSpeedupInterval.map { String(format: "; 95%% interval over the prompts %.3f–%.3f", $0.lowerBound, $0.upperBound) } ?? ""))
        }
    }
}

struct TrainDrafter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-drafter",
        abstract: "Train a drafter for a trained target: blockwise heads, parallel or sequential MTP, an EAGLE-1/2 or EAGLE-3 drafter, Medusa or Hydra heads, mask tokens with a gated LoRA, or a separate draft model.")

    @Option(help: "Target checkpoint directory.") var target: String
    @Option(help: "draft-model, blockwise, mtp-parallel, mtp-sequential, eagle (EAGLE-1/2), eagle3, medusa, hydra or masked-mtp (mask tokens + gated LoRA).") var kind: String
    @Option(parsing: .unconditional, help: "Extra heads (blockwise, mtp-parallel: heads beyond the next-token head) or modules D (mtp-sequential), Medusa or Hydra heads (medusa, hydra), training-time-test steps S (eagle3), mask tokens k (masked-mtp).") var heads = 3
    @Option(parsing: .unconditional, help: "masked-mtp: rank r of the gated LoRA on every block map (α = 2r).") var rank = 8
    @Option(help: "frozen (heads on the trained target), joint (the target fine-tuned with the heads: MTP kinds, Medusa-2) or scratch (a fresh trunk of the target's shape trained with the heads: MTP kinds).") var trunk = "frozen"
    @Option(help: "Draft-model preset (draft-model).") var preset = "draft"
    @Option(help: "gsl, prose or a path (use the target's corpus).") var corpus = "gsl"
    @Option(parsing: .unconditional, help: "Optimizer steps.") var steps = 500
    @Option(help: "Output directory.") var out: String
    @Option(parsing: .unconditional, help: "Random seed.") var seed: UInt64 = 1
    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Sequences per optimizer step.") var batchSize = 16
    @Option(name: .customLong("sequence-length"), parsing: .unconditional, help: "Bytes per training sequence.") var sequenceLength = 128
    @Option(name: .customLong("learning-rate"), parsing: .unconditional, help: "Peak learning rate.") var learningRate: Float = 3e-3
    @Option(help: "BLAS threads.") var threads = ProcessInfo.processInfo.activeProcessorCount

    func run() throws {
        let settings = TrainingSettings(steps: steps, batchSize: batchSize, sequenceLength: sequenceLength,
                                        learningRate: learningRate, seed: seed)
        for line in try DrafterTraining.run(DrafterTrainingRequest(
            target: URL(fileURLWithPath: target), kind: kind, heads: heads, corpus: corpus,
            output: URL(fileURLWithPath: out), settings: settings, threads: threads, preset: preset, trunk: trunk,
            rank: rank)) { say(line) }
    }
}
