// speclab predict / sweep / crossover: the cycle model from the command line.

import Analytic
import ArgumentParser
import Charts
import Experiments
import Files
import Foundation
import Methods
import Requests

/// Flags shared by every command that builds a prediction configuration.
struct PredictOptions: ParsableArguments {
    @Option(help: "Hardware preset (see 'speclab presets').") var hardware: String?
    @Option(name: .customLong("hardware-file"), help: "Hardware preset from a JSON file.") var hardwareFile: String?
    @Option(help: "Runtime fixed-cost profile: \(RuntimeOverhead.presetNames.joined(separator: ", ")) (default: the hardware's).") var runtime: String?
    @Option(name: .customLong("runtime-file"), help: "Runtime fixed-cost profile from a JSON file: name, perForwardSeconds, perLayerSeconds, perCycleSeconds, perAllReduceSeconds, ngramSecondsPerContextToken; optional perDraftStepSeconds, hostOverlapsDevice, perLayerIsKernelLatency.") var runtimeFile: String?
    @Option(help: "Target model preset.") var model: String?
    @Option(name: .customLong("model-file"), help: "Target model shape from a JSON file.") var modelFile: String?
    @Option(help: "Decoding method: \(MethodRegistry.names.joined(separator: ", ")) ('speclab methods' shows what the engine prices of each).") var method: String?
    @Option(name: .customLong("beam-width"), parsing: .unconditional, help: "mtad, mtjd, prefix-beam: beams kept per depth (default 4).") var beamWidth: Int?
    @Option(name: .customLong("lookahead-ngram"), parsing: .unconditional, help: "lookahead: n-gram length N of the pool (default 5, the authors' example).") var lookaheadNgram: Int?
    @Option(name: .customLong("lookahead-levels"), parsing: .unconditional, help: "lookahead: Jacobi levels of the window fed per forward (default N − 1, as in the paper; 1 as the reference model runs it).") var lookaheadLevels: Int?
    @Option(name: .customLong("lookahead-guesses"), parsing: .unconditional, help: "lookahead: pool n-grams G verified per forward (default: the window, --draft-length).") var lookaheadGuesses: Int?
    @Option(name: .customLong("draft-model"), help: "Draft model preset (method sd), or self: the target's own weights (self-speculation, usually with --draft-kv-budget).") var draftModel: String?
    @Option(name: .customLong("draft-model-file"), help: "Draft model shape from a JSON file.") var draftModelFile: String?
    @Option(name: .customLong("draft-length"), parsing: .unconditional, help: "Drafts per cycle γ (chain length, tree depth, heads).") var draftLength: Int?
    @Option(name: .customLong("tree-size"), parsing: .unconditional, help: "Tokens verified per tree, root included (the tree methods: eagle1/2/3, medusa1/2, hydra).") var treeSize: Int?
    @Option(name: .customLong("tree-topk"), parsing: .unconditional, help: "Dynamic-tree frontier width K (eagle2/3; default 10).") var treeTopK: Int?
    @Option(name: .customLong("draft-vocab"), parsing: .unconditional, help: "EAGLE-3 reduced draft vocabulary (default 32000).") var draftVocab: Int?
    @Option(parsing: .unconditional, help: "Sequences per verify forward (default 1).") var batch: Int?
    @Option(parsing: .unconditional, help: "Tokens already in each sequence's KV cache (default 1024).") var context: Int?
    @Option(name: .customLong("source-length"), parsing: .unconditional, help: "Encoder tokens for encoder-decoder models (default: --context).") var sourceLength: Int?
    @Option(parsing: .unconditional, help: "Tensor/expert-parallel devices (default 1).") var devices: Int?
    @Option(help: "Weight type: bf16, fp16, fp8, int4 (default: the model's).") var dtype: String?
    @Option(parsing: .unconditional, help: "i.i.d. per-token acceptance α in [0, 1].") var alpha: Double?
    @Option(help: "Per-position conditional acceptance α1,α2,... (EAGLE's n-α).") var alphas: String?
    @Option(parsing: .unconditional, help: "Measured mean accepted length τ (tokens per target forward).") var tau: Double?
    @Option(name: .customLong("acceptance-file"), help: "Acceptance histogram or rates (JSON or CSV).") var acceptanceFile: String?
    @Option(help: "Kernel model: auto (measured kernels where bundled for the GPU, else the roofline), roofline, or a serving framework's measurements: sglang, vllm, trtllm.") var kernels: String?
    @Option(name: .customLong("kernels-file"), help: "Measured kernel tables from a JSON file (tools/aiconfigurator/convert_kernels.py).") var kernelsFile: String?
    @Flag(name: .customLong("expert-parallel"), help: "MoE: split the experts over the devices (expert parallel; attention stays tensor parallel).") var expertParallel = false
    @Option(name: .customLong("routing-skew"), parsing: .unconditional, help: "MoE routing skew for measured expert kernels: 0 balanced (default), or a power-law exponent (1.01, 1.2 measured).") var routingSkew: Double?
    @Option(name: .customLong("kv-dtype"), help: "KV-cache dtype: bf16 (default), fp16, fp8, fp32.") var kvDtype: String?
    @Option(name: .customLong("draft-kv-budget"), parsing: .unconditional, help: "Tokens the drafter's KV cache keeps (StreamingLLM-style budget, as MagicDec's drafts; default: the whole context).") var draftKVBudget: Int?
    @Option(name: .customLong("input-length"), parsing: .unconditional, help: "Prompt tokens per sequence: end to end with --output-length (TTFT, TPOT, latency; decode at the mean context).") var inputLength: Int?
    @Option(name: .customLong("output-length"), parsing: .unconditional, help: "Generated tokens per sequence (with --input-length).") var outputLength: Int?
    @Option(name: .customLong("draft-devices"), parsing: .unconditional, help: "Tensor-parallel devices of the drafter, a subset of the target's (default: the target's --devices).") var draftDevices: Int?

    func request() throws -> PredictRequest {
        var r = PredictRequest()
        r.hardware = hardware; r.hardwareFile = hardwareFile; r.runtime = runtime; r.runtimeFile = runtimeFile
        r.model = model; r.modelFile = modelFile; r.method = method
        r.draftModel = draftModel; r.draftModelFile = draftModelFile
        r.lookaheadNgram = lookaheadNgram; r.lookaheadLevels = lookaheadLevels; r.lookaheadGuesses = lookaheadGuesses
        r.draftLength = draftLength; r.beamWidth = beamWidth; r.treeSize = treeSize; r.treeTopK = treeTopK; r.eagle3DraftVocab = draftVocab
        r.batch = batch; r.context = context; r.sourceLength = sourceLength; r.devices = devices; r.dtype = dtype
        r.alpha = alpha; r.tau = tau; r.acceptanceFile = acceptanceFile
        r.kernels = kernels; r.kernelsFile = kernelsFile
        r.expertParallel = expertParallel ? true : nil; r.routingSkew = routingSkew; r.kvDtype = kvDtype
        r.draftKVBudget = draftKVBudget; r.draftDevices = draftDevices
        r.inputLength = inputLength; r.outputLength = outputLength
        r.alphas = try alphas.map { try parseList($0, name: "--alphas") }
        return r
    }

    func config() throws -> PredictionConfig { try request().resolve() }
}

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict step times, τ and speedup for one configuration.",
        discussion: "For --method ntp the acceptance flags may be given and are ignored.")

    @OptionGroup var options: PredictOptions
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Split the target step and the verify forward by operation class (gemm, attention, moe, communication, other, runtime), per layer and per forward.") var breakdown = false

    func run() throws {
        let config = try options.config()
        let predictor = try Predictor(config)
        let p = try predictor.predict()
        let layers = Double(config.model.layers)
        let endToEnd = try options.inputLength.map { try predictor.endToEnd(inputTokens: $0, outputTokens: options.outputLength ?? 1) }
        if json {
            var extra: [(String, String)] = []
            if let e = endToEnd {
                extra += [("input_length", String(e.inputTokens)), ("output_length", String(e.outputTokens)),
                          ("ttft_seconds", JSONText.number(e.ttftSeconds)), ("plain_ttft_seconds", JSONText.number(e.plainTTFTSeconds)),
                          ("tpot_seconds", JSONText.number(e.tpotSeconds)), ("plain_tpot_seconds", JSONText.number(e.plainTPOTSeconds)),
                          ("end_to_end_seconds", JSONText.number(e.endToEndSeconds)),
                          ("plain_end_to_end_seconds", JSONText.number(e.plainEndToEndSeconds)),
                          ("end_to_end_speedup", JSONText.number(e.speedup))]
            }
            if breakdown {
                let components = p.components.named.map { "\(JSONText.string($0.0.replacingOccurrences(of: " ", with: "_") + "_seconds")): \(JSONText.number($0.1))" }.joined(separator: ", ")
                extra.append(("breakdown", "{\"target_step\": \(StepBreakdown.json(p.targetStepCost, layers: layers)), \"verify\": \(StepBreakdown.json(p.verifyCost, layers: layers)), \"cycle\": {\(components)}}"))
            }
            say(PredictionFields.json(p, extra: extra + [
                ("priced_by", JSONText.string(predictor.pricedBy)),
                ("tokens_per_target_forward", JSONText.number(p.tokensPerTargetForward)),
                ("target_forwards_per_cycle", JSONText.number(p.targetForwardsPerCycle)),
                ("method", JSONText.string(config.method.name)),
                ("hardware", JSONText.string(config.hardware.name)),
                ("model", JSONText.string(config.model.name)),
                ("draft_length", String(config.method == .ntp ? 0 : config.draftLength)),
                ("batch", String(config.batch)), ("context", String(config.contextTokens)),
                ("devices", String(config.devices)),
            ]))
            return
        }
        let draftLength = config.method == .ntp ? 0 : config.draftLength
        say("\(config.method.name) on \(config.devices) × \(config.hardware.name) (\(config.hardware.overhead.name) runtime), \(config.model.name), batch \(config.batch), context \(config.contextTokens), draft length \(draftLength)")
        say("  step priced by \(predictor.pricedBy)")
        // Label column 28 wide, times right-aligned in one column.
        func timeRow(_ label: String, _ seconds: Double, _ note: String = "") {
            say("  " + pad(label, 28) + pad(milliseconds(seconds), 12, right: true) + (note.isEmpty ? "" : "   " + note))
        }
        timeRow("target step (1 token/seq)", p.targetStepSeconds, "bound: \(p.targetStepCost.bound.rawValue)")
        if p.plainStepSeconds != p.targetStepSeconds { timeRow("plain step incl. scheduler", p.plainStepSeconds) }
        timeRow("drafting per cycle", p.draftSecondsPerCycle, "c = \(format(p.c, 4))")
        timeRow("verify (\(p.verifyTokensPerSequence) tokens/seq)", p.verifySeconds, "bound: \(p.bound.rawValue)")
        timeRow("host per cycle", p.hostSecondsPerCycle)
        timeRow("cycle", p.cycleSeconds)
        if p.targetForwardsPerCycle > 1 {
            say("  tokens per cycle            \(format(p.tau, 3)) over \(format(p.targetForwardsPerCycle, 1)) target forwards")
        }
        say("  τ (tokens per target fwd)   \(format(p.tokensPerTargetForward, 3))")
        say("  speedup                     \(format(p.speedup, 3))×")
        say("  throughput                  \(format(p.tokensPerSecond, 1)) tokens/s (\(format(p.tokensPerSecondPerSequence, 1)) per sequence)")
        say("  memory per device           \(Units.gigabytes(p.memoryBytesPerDevice)) of \(Units.gigabytes(config.hardware.memoryBytes))")
        if let e = endToEnd {
            say("  end to end, \(e.inputTokens) tokens in, \(e.outputTokens) out (decode at context \(config.contextTokens)):")
            timeRow("  TTFT (prefill)", e.ttftSeconds, "plain " + milliseconds(e.plainTTFTSeconds))
            timeRow("  TPOT", e.tpotSeconds, "plain " + milliseconds(e.plainTPOTSeconds))
            timeRow("  request latency", e.endToEndSeconds, "plain " + milliseconds(e.plainEndToEndSeconds))
            say("    end-to-end speedup        \(format(e.speedup, 3))×")
        }
        if breakdown {
            for (title, cost) in [("target step (1 token/seq)", p.targetStepCost),
                                  ("verify (\(p.verifyTokensPerSequence) tokens/seq)", p.verifyCost)] where config.method != .ntp || title.hasPrefix("target") {
                say("")
                for line in StepBreakdown.table(cost, layers: layers, title: title) { say(line) }
            }
            say("")
            say("  cycle by component (\(config.hardware.overhead.name)\(config.hardware.overhead.version.isEmpty ? "" : ", " + config.hardware.overhead.version)):")
            for (name, seconds) in p.components.named where seconds > 0 { timeRow("  " + name, seconds) }
            timeRow("  cycle", p.components.total)
            say("")
            say("  priced by")
            for (kind, how) in predictor.pricingDetail { say("    \(pad(kind.name, 14)) \(how)") }
        }
    }
}

/// A step's time by operation class, as text rows and as JSON (the CLI's formatting only).
enum StepBreakdown {
    static func table(_ cost: StepCost, layers: Double, title: String) -> [String] {
        var lines = ["  " + pad(title, 28) + pad("one layer", 12, right: true) + pad("× \(Int(layers)) layers", 14, right: true)
                     + pad("per forward", 13, right: true) + pad("total", 12, right: true) + pad("share", 8, right: true)]
        let total = cost.seconds
        for kind in OperationClass.allCases {
            let perLayers = cost.breakdown.layers[kind.rawValue], once = cost.breakdown.forward[kind.rawValue]
            guard perLayers + once > 0 else { continue }
            lines.append("  " + pad(kind.name, 28) + pad(milliseconds(perLayers / layers), 12, right: true)
                         + pad(milliseconds(perLayers), 14, right: true) + pad(milliseconds(once), 13, right: true)
                         + pad(milliseconds(perLayers + once), 12, right: true)
                         + pad(String(format: "%.1f%%", 100 * (perLayers + once) / total), 8, right: true))
        }
        lines.append("  " + pad("all", 28) + pad(milliseconds(cost.breakdown.perLayerTotal / layers), 12, right: true)
                     + pad(milliseconds(cost.breakdown.perLayerTotal), 14, right: true)
                     + pad(milliseconds(cost.breakdown.perForwardTotal), 13, right: true)
                     + pad(milliseconds(total), 12, right: true) + pad("100.0%", 8, right: true))
        return lines
    }

    static func json(_ cost: StepCost, layers: Double) -> String {
        let parts = OperationClass.allCases.map { kind in
            "\"\(kind.name)\": {\"per_layer_seconds\": \(JSONText.number(cost.breakdown.layers[kind.rawValue] / layers)), \"all_layers_seconds\": \(JSONText.number(cost.breakdown.layers[kind.rawValue])), \"per_forward_seconds\": \(JSONText.number(cost.breakdown.forward[kind.rawValue]))}"
        }
        return "{" + parts.joined(separator: ", ") + ", \"total_seconds\": \(JSONText.number(cost.seconds))}"
    }
}

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Evaluate the model over a grid; write CSV and a chart.",
        discussion: """
        Axes: --vary NAME=VALUES, repeatable; NAME is one of \(SweepParameter.allCases.map(\.rawValue).joined(separator: ", ")).
        VALUES: a list 1,2,4; a range 1:10; a stepped range 0.5:0.95:0.05; a geometric range 1:1024:x2.
        The first axis is the chart's x axis; every other combination is one line.
        """)

    @OptionGroup var options: PredictOptions
    @Option(name: .customLong("vary"), help: "An axis NAME=VALUES (repeatable).") var vary: [String] = []
    @Option(help: "Write the grid as CSV to this file.") var csv: String?
    @Option(help: "Draw the chart to FILE.png or FILE.svg (the .dat and .gp are written beside it).") var plot: String?
    @Option(help: "Metric on the chart's y axis (default speedup).") var y = "speedup"
    @Option(name: .customLong("best-draft-length"), parsing: .unconditional, help: "At every point use the best draft length in 1...N.") var bestDraftLength: Int?
    @Option(help: "Chart title.") var title: String?
    @Flag(name: .customLong("log-x"), help: "Logarithmic x axis (base 2).") var logX = false
    @Flag(name: .customLong("no-plot"), help: "Write the .dat and .gp but do not run gnuplot.") var noPlot = false

    func run() throws {
        guard !vary.isEmpty else { throw AnalyticError("give at least one --vary NAME=VALUES, e.g. --vary batch=1:64:x2") }
        guard csv != nil || plot != nil else { throw AnalyticError("give --csv FILE and/or --plot FILE.png") }
        if let n = bestDraftLength { try Check.within(n, from: 1, Limits.draftLength, "--best-draft-length") }
        let axes = try vary.map(SweepAxis.parse)
        let config = try options.config()
        let started = Date()
        let result = try SweepResult.run(named: [("", config)], axes: axes, optimizeDraftLength: bestDraftLength)
        let table = result.csv()
        if let csv { try table.write(to: URL(fileURLWithPath: csv)) }
        if let plot {
            let chart = try result.chart(
                y: y, title: title ?? "\(config.method.name): \(y) vs \(axes[0].parameter.rawValue)",
                subtitle: "\(config.model.name) on \(config.devices) × \(config.hardware.name), batch \(config.batch), context \(config.contextTokens)",
                logX: logX, logBase: 2, referenceLines: y == "speedup" ? [.horizontal(y: 1, title: "no speedup")] : [])
            let url = URL(fileURLWithPath: plot)
            if noPlot { try ChartWriter.write(chart, to: url) } else { try ChartRenderer.render(chart, to: url) }
        }
        let points = table.rows.count
        FileHandle.standardError.write(Data(String(format: "%d points in %.2f s%@\n", points, Date().timeIntervalSince(started),
            result.skippedCount > 0 ? " (\(result.skippedCount) do not fit in memory: empty in the CSV)" : "").utf8))
    }
}

struct Crossover: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Best draft length per batch size, and the batch at which speculation stops paying.")

    @OptionGroup var options: PredictOptions
    @Option(name: .customLong("max-draft-length"), parsing: .unconditional, help: "Largest draft length to consider.") var maxDraftLength = 16
    @Option(name: .customLong("max-batch"), parsing: .unconditional, help: "Largest batch to consider.") var maxBatch = 4096
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try Check.within(maxDraftLength, from: 1, Limits.draftLength, "--max-draft-length")
        try Check.within(maxBatch, from: 1, Limits.batch, "--max-batch")
        var config = try options.config()
        if config.method == .ntp { throw AnalyticError("crossover needs a speculative --method (not ntp)") }
        config.draftLength = 1
        let predictor = try Predictor(config)
        var rows: [(Int, Int, Double)] = []
        var batch = 1
        while batch <= maxBatch {
            do {
                let best = try predictor.bestDraftLength(batch: batch, maxDraftLength: maxDraftLength)
                rows.append((batch, best.draftLength, best.prediction.speedup))
            } catch let error as AnalyticError where error.reason == .doesNotFit { break }
            batch *= 2
        }
        let crossover = try? predictor.crossoverBatch(maxBatch: min(maxBatch, rows.last?.0 ?? 1), maxDraftLength: maxDraftLength)
        if json {
            let items = rows.map { "{\"batch\": \($0.0), \"best_draft_length\": \($0.1), \"speedup\": \(JSONText.number($0.2))}" }
            say("{\"rows\": [\(items.joined(separator: ", "))], \"crossover_batch\": \(crossover.flatMap { $0 }.map(String.init) ?? "null")}")
            return
        }
        say("batch  best γ  speedup")
        for row in rows { say(String(format: "%5d  %6d  %6.3f×", row.0, row.1, row.2)) }
        if let value = crossover.flatMap({ $0 }) {
            say("speculation stops paying (speedup < 1 at every draft length) from batch \(value)")
        } else {
            say("speculation still pays at the largest batch that fits (\(rows.last?.0 ?? 0))")
        }
    }
}
