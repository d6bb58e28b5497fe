// The `frontier` experiment kind (config.json's "frontier" block).

import Analytic
import Charts
import Decoding
import Files
import Foundation
import LinAlg
import Methods
import Transformer
import Validation

extension FrontierSpec: ExperimentKind {
    static let name = "frontier"
    static let block: String? = "frontier"

    func run(_ context: ExperimentContext) throws -> [String] {
        let f = self
        let experimentDirectory = context.experimentDirectory, output = context.output
        guard !f.sources.isEmpty else { throw AnalyticError("a frontier experiment needs \"frontier\" with sources") }
        let root = experimentDirectory.deletingLastPathComponent().deletingLastPathComponent()
        var table = CSVTable(columns: ["source", "method", "temperature", "setting", "tokens_per_target_forward",
                                       "target_log_likelihood", "relative_to_plain", "lossless"])
        var files = ["data.csv"]
        for temperature in f.temperatures {
            var lossless: [ChartPoint] = [], lossy: [ChartSeries] = []
            for source in f.sources {
                let data = try CSVTable.read(from: root.appendingPathComponent(source).appendingPathComponent("data.csv"))
                let name = URL(fileURLWithPath: source).lastPathComponent
                if let titles = data.column("title"), let temperatures = data.column("temperature"), let taus = data.column("tau"),
                   let qualities = data.column("target_log_likelihood"), let flags = data.column("lossless"),
                   let lengths = data.column("draft_length") {
                    // A decode experiment: each method at its fastest setting (largest τ: round tokens per target
                    // forward, the target's forwards inside a drafter — MTJD's beam — counted).
                    var best: [String: Int] = [:]
                    for i in titles.indices where Double(temperatures[i]) == temperature && Double(qualities[i]) != nil {
                        if let j = best[titles[i]], (Double(taus[j]) ?? 0) >= (Double(taus[i]) ?? 0) { continue }
                        best[titles[i]] = i
                    }
                    let plain = data.column("ntp_target_log_likelihood") ?? []
                    for (title, i) in best.sorted(by: { $0.key < $1.key }) {
                        guard let tau = Double(taus[i]), let quality = Double(qualities[i]),
                              i < plain.count, let reference = Double(plain[i]) else { continue }
                        // Jointly trained trunks decode (and are scored by) their own model: not comparable here.
                        if title.contains("scratch") || title.contains("joint fine") { continue }
                        let relative = quality - reference
                        table.rows.append([name, title, CSVTable.cell(temperature), "γ or nodes \(lengths[i])", CSVTable.cell(tau),
                                           CSVTable.cell(quality), CSVTable.cell(relative), flags[i]])
                        if flags[i] == "true" {
                            lossless.append(ChartPoint(x: tau, y: relative))
                        } else {
                            lossy.append(ChartSeries(title: "\(title) (\(name.prefix(3)))", points: [ChartPoint(x: tau, y: relative)],
                                                     style: .points))
                        }
                    }
                } else if temperature == 0, let policies = data.column("policy"), let verified = data.column("verified"),
                          let thresholds = data.column("threshold"), let speeds = data.column("tokens_per_forward"),
                          let qualities = data.column("target_log_likelihood") {
                    // A threshold sweep (greedy): each unverified curve and prefix beam search as lines, relative to
                    // the verified runs' quality (their output is plain greedy decoding's).
                    guard let reference = policies.indices.first(where: { verified[$0] == "true" }).flatMap({ Double(qualities[$0]) })
                    else { continue }
                    var curves: [String: [ChartPoint]] = [:]
                    for i in policies.indices {
                        guard let x = Double(speeds[i]), let quality = Double(qualities[i]) else { continue }
                        let y = quality - reference
                        if verified[i] == "true" { lossless.append(ChartPoint(x: x, y: y)); continue }
                        let label = policies[i].hasPrefix("prefix-beam") ? "prefix beam search, widths 1–8"
                            : "threshold \(policies[i]), unverified, θ 0–0.95"
                        curves[label, default: []].append(ChartPoint(x: x, y: y))
                        table.rows.append([name, policies[i], "0", thresholds[i].isEmpty ? policies[i] : "θ \(thresholds[i])",
                                           speeds[i], qualities[i], CSVTable.cell(y), "false"])
                    }
                    for (label, points) in curves.sorted(by: { $0.key < $1.key }) {
                        lossy.append(ChartSeries(title: "\(label) (\(name.prefix(3)))", points: points.sorted { $0.x < $1.x },
                                                 style: .linesPoints))
                    }
                }
            }
            let t = CSVTable.cell(temperature)
            var series = [ChartSeries(title: "lossless methods (the target's own output law)", points: lossless, style: .points)]
            series += lossy
            series.append(ChartSeries(title: "plain decoding", points: [ChartPoint(x: 1, y: 0)], style: .points))
            let chart = Chart(title: "\(context.chart.title), T = \(t)",
                              subtitle: "each method at its fastest setting; quality relative to plain decoding of the same prompts",
                              xLabel: "tokens per target forward",
                              yLabel: "target log-likelihood minus plain decoding's (nats per token)",
                              series: series, keyPosition: .below, size: ChartSize(width: 1000, height: 900))
            files += try context.draw(chart, baseName: "frontier-T\(t)")
            context.notes.append("T = \(t): \(lossless.count) lossless points, \(lossy.count) lossy series")
        }
        try table.write(to: output.appendingPathComponent("data.csv"))
        return files
    }
}
