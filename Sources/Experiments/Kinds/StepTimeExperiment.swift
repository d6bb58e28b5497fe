// The `step-time` experiment kind.

import Analytic
import Charts
import Decoding
import Files
import Foundation
import LinAlg
import Methods
import Requests
import Transformer
import Validation

/// The `step-time` kind: the engine's forward time against new tokens per sequence.
public struct StepTimeExperiment: ExperimentKind {
    static let name = "step-time"
    public var base: PredictRequest?
    public var hardware: [String]?
    public var models: [String]?
    public var tokens: String?
    public var y: String?

    func run(_ context: ExperimentContext) throws -> [String] {
        let spec = self
        let base = context.experimentDirectory, output = context.output
        var request = spec.base ?? PredictRequest()
        let hardwareNames = spec.hardware ?? [request.hardware ?? "h100-sxm"]
        let modelNames = spec.models ?? [request.model ?? "llama-3.1-8b"]
        // Tokens per sequence in one forward (prefill-sized too): whole numbers bounded like a context.
        let tokens = try SweepAxis.parseValues(spec.tokens ?? "1:4096:x2", for: .context).compactMap { $0.number }
        let normalized = spec.y == "normalized"
        var table = CSVTable(columns: ["hardware", "model", "tokens_per_sequence", "batch", "context", "seconds",
                                       "relative_to_one_token", "bound", "weight_bytes", "kv_bytes", "flops"])
        var lines: [ChartSeries] = []
        for name in hardwareNames {
          for modelName in modelNames {
            request.hardware = name
            request.hardwareFile = nil
            request.model = modelName
            request.modelFile = nil
            let config = try request.resolve(baseDirectory: base)
            let model = config.model
            // The engine's own pricing of the target's forward: measured kernels where the GPU has them.
            let predictor = try Predictor(config)
            func cost(_ k: Double) -> StepCost {
                predictor.targetForward(tokensPerSequence: Int(k), batch: config.batch, contextTokens: config.contextTokens)
            }
            let one = cost(1).seconds
            var points: [ChartPoint] = []
            var knee: Double? = nil
            for k in tokens {
                let step = cost(k)
                table.rows.append([name, model.name, CSVTable.cell(k), String(config.batch), String(config.contextTokens),
                                   CSVTable.cell(step.seconds), CSVTable.cell(step.seconds / one), step.bound.rawValue,
                                   CSVTable.cell(step.weightBytes), CSVTable.cell(step.kvCacheBytes), CSVTable.cell(step.flops)])
                points.append(ChartPoint(x: k, y: normalized ? step.seconds / one : step.seconds * (context.chart.yScale ?? 1)))
                if knee == nil, step.seconds / one > 1.1 { knee = k }
            }
            let seriesName = modelNames.count > 1 && hardwareNames.count > 1 ? "\(model.name) on \(name)"
                : (modelNames.count > 1 ? model.name : name)
            lines.append(ChartSeries(title: seriesName, points: points))
            context.notes.append("\(seriesName): T(1) = \(String(format: "%.3f", one * 1e3)) ms; T(k) exceeds 1.1·T(1) from k = \(knee.map { String(Int($0)) } ?? "beyond the range") (\(predictor.pricedBy))")
          }
        }
        try table.write(to: output.appendingPathComponent("data.csv"))
        let s = context.chart
        let chart = Chart(title: s.title, subtitle: s.subtitle,
                          xLabel: s.xLabel ?? "new tokens per sequence in one forward, k",
                          yLabel: s.yLabel ?? (normalized ? "T(k) / T(1)" : "forward time (s)"),
                          series: lines, referenceLines: s.guides, logScaleX: s.logX ?? true, logScaleY: s.logY ?? true,
                          logBase: s.logBase ?? 2, keyPosition: s.keyPosition)
        return ["data.csv"] + (try context.draw(chart, baseName: "chart"))
    }
}
