// The `batch-decode` experiment kind (config.json's "batchDecoding" block).

import Analytic
import Charts
import Decoding
import Files
import Foundation
import LinAlg
import Methods
import Transformer
import Validation

extension BatchDecodeSpec: ExperimentKind {
    static let name = "batch-decode"
    var randomSeed: UInt64? { seed ?? 1 }
    static let reproducibility = Reproducibility.timed(what: "decode-phase speedups and rates are timings of this machine; τ and the outputs are fixed by the seed")
    static let block: String? = "batchDecoding"

    func run(_ context: ExperimentContext) throws -> [String] {
        let b = self
        let experimentDirectory = context.experimentDirectory, output = context.output
        let batches = b.batches.sorted()
        guard let largest = batches.last, batches.first ?? 0 >= 1 else { throw AnalyticError("batches must be >= 1") }
        let root = experimentDirectory.deletingLastPathComponent().deletingLastPathComponent()
        InferenceModel.productThreads = 1
        OpenBLAS.setThreads(1)
        let network: Network<Float>
        if b.target.hasPrefix("preset:") {
            network = try Network<Float>(config: try ModelConfig.preset(named: String(b.target.dropFirst("preset:".count))))
            network.initialize(seed: 1)
        } else {
            network = try Checkpoint.load(from: root.appendingPathComponent(b.target))
        }
        let model = InferenceModel(network: network)
        let config = network.config
        // The engine calibrated here, in the same run, predicts every point (or a named preset, for quick checks).
        let hardware: Hardware
        var files = ["data.csv"]
        if let name = b.hardware {
            hardware = try Hardware.preset(named: name)
        } else {
            let calibration = try Calibration.calibrate(threads: 1)
            context.notes += calibration.facts
            try Calibration.write(calibration.hardware, to: output.appendingPathComponent("cpu-local.json"))
            hardware = calibration.hardware
            files.append("cpu-local.json")
        }
        let request = DecodeRequest(model: root, method: "ntp", drafter: nil, draftLength: b.draftLength, prompts: nil,
                                    corpus: b.corpus, samples: largest, promptLength: b.promptLength, maxTokens: b.maxTokens,
                                    settings: .greedy, seed: b.seed ?? 1, baseline: true, threads: 1, confidenceThreshold: 0)
        let prompts = try DecodeRun.loadPrompts(request, contextLength: config.contextLength)
        guard prompts.count >= largest else {
            throw ModelError("corpus '\(b.corpus)' gives \(prompts.count) prompts; batch \(largest) needs as many")
        }
        let session = DecodeSession(model: model, prompts: prompts, maxTokens: b.maxTokens)
        var trained: Set<String> = []
        var table = CSVTable(columns: ["title", "method", "alpha", "batch", "tau", "round_tokens_per_second", "ntp_round_tokens_per_second",
                                       "measured_decode_speedup", "predicted_speedup", "relative_error",
                                       "decode_speedup_low_95", "decode_speedup_high_95"])
        var lines: [ChartSeries] = []
        for method in b.methods {
            var decoder = BatchSpeedupValidation.Decoder(method: method.method, tree: method.tree ?? TreeSpec(),
                                                         draftLength: method.draftLength ?? b.draftLength,
                                                         oracleAlpha: method.alpha ?? 0.8)
            if let train = method.trainDrafter {
                guard !b.target.hasPrefix("preset:") else {
                    throw AnalyticError("\(method.title): a drafter is trained for a trained target; \(b.target) has random weights (give a checkpoint directory as target)")
                }
                let drafter = try trainedDrafter(train, title: method.title, target: b.target, corpus: b.corpus, root: root,
                                                 experimentDirectory: experimentDirectory, output: output,
                                                 trained: &trained, notes: &context.notes)
                decoder.drafter = drafter
                if try MethodRegistry.method(named: method.method).drafter.kinds.contains("draft-model") {
                    decoder.draftModel = Calibration.modelShape(try Checkpoint.info(at: drafter).model)
                }
                files.append(drafter.lastPathComponent)
            }
            var points: [BatchSpeedupPoint] = []
            for batch in batches {
                // Every batch size decodes the same `largest` prompts, `batch` at a time.
                let point = try BatchSpeedupValidation.point(session, decoder, batch: batch, seed: b.seed ?? 1,
                                                             hardware: hardware, contextTokens: b.promptLength + b.maxTokens / 2)
                guard let measured = point.measuredSpeedup else { continue }
                points.append(point)
                let interval = point.report.decodeSpeedupInterval
                table.rows.append([method.title, method.method, method.alpha.map { CSVTable.cell($0) } ?? "", String(batch),
                                   CSVTable.cell(point.tau), CSVTable.cell(point.report.roundTokensPerSecond),
                                   CSVTable.cell(point.report.ntpRoundTokensPerSecond ?? .nan), CSVTable.cell(measured),
                                   CSVTable.cell(point.predictedSpeedup),
                                   CSVTable.cell((point.predictedSpeedup - measured) / measured),
                                   CSVTable.cell(interval?.lowerBound ?? .nan), CSVTable.cell(interval?.upperBound ?? .nan)])
            }
            let curves = speedupOverBatch(method.title, points)
            context.notes.append("\(method.title): \(curves.crossover)")
            lines += curves.lines
        }
        try table.write(to: output.appendingPathComponent("data.csv"))
        let chart = Chart(title: context.chart.title,
                          subtitle: "\(config.name) target, γ = \(b.draftLength), \(largest) prompts × \(b.maxTokens) tokens, greedy, 1 thread; dashed: engine calibrated in the same run",
                          xLabel: "batch (sequences per verify forward)", yLabel: "decode-phase speedup over batched plain decoding (×)",
                          series: lines, referenceLines: [.horizontal(y: 1, title: "no speedup")], logScaleX: true, logBase: 2,
                          keyPosition: .below)
        return files + (try context.draw(chart, baseName: "speedup-vs-batch"))
    }
}
