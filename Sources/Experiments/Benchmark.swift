// The analytic engine's benchmark (`make bench`): predictions per second on
// one core, and a 50,000-point sweep including its CSV and chart. Reported as
// figures with the machine facts; nothing here asserts a time.

import Analytic
import Charts
import Files
import Foundation

public enum Benchmark {
    public static func run(predictions: Int, outputDirectory: URL) throws -> [String] {
        var lines = machineFacts()
        let hardware = Hardware.presets.filter { $0.name != "tpu-v4" }
        let models = ["vicuna-7b", "llama-3.1-8b", "qwen2.5-7b", "llama-2-13b"].map { try! ModelShape.preset(named: $0) }
        let draft = try ModelShape.preset(named: "llama-3.2-1b")
        let methods: [DraftMethod] = [.ntp, .sd, .eagle1, .eagle2, .eagle3, .mtp, .medusa, .blockwise, .pld]
        var configs: [PredictionConfig] = []
        for i in 0..<1500 where configs.count < 997 {
            let method = methods[i % methods.count]
            let config = (PredictionConfig(
                hardware: hardware[i % hardware.count], model: models[(i / 3) % models.count], method: method,
                draftModel: draft, draftLength: 1 + i % 8, treeSize: method.supportsTree && i % 2 == 0 ? 16 + i % 40 : nil,
                batch: 1 << (i % 6), contextTokens: 256 * (1 + i % 16), acceptance: .iid(alpha: 0.5 + 0.45 * Double(i % 10) / 10)))
            // Keep configurations that fit in the device's memory.
            if (try? Predictor(config).predict()) != nil { configs.append(config) }
        }

        // Full path: configuration → validated predictor → prediction.
        var checksum = 0.0
        var start = Date()
        for n in 0..<predictions {
            checksum += try Predictor(configs[n % configs.count]).predict().speedup
        }
        let fullRate = Double(predictions) / Date().timeIntervalSince(start)
        lines.append(String(format: "predict, full path (config → predictor → prediction): %.2f M configurations/s on one core", fullRate / 1e6))

        // Fast path: one predictor, varying draft length, batch, context and α.
        let predictor = try Predictor(PredictionConfig(hardware: hardware[2], model: models[1], method: .eagle3, draftLength: 4,
                                                       acceptance: .iid(alpha: 0.8)))
        start = Date()
        for n in 0..<predictions {
            checksum += try predictor.predict(draftLength: 1 + n % 8, batch: 1 + n % 64, contextTokens: 512 + n % 2048,
                                              acceptance: .iid(alpha: 0.5 + Double(n % 40) * 0.01)).speedup
        }
        let fastRate = Double(predictions) / Date().timeIntervalSince(start)
        lines.append("predict, sweep path (one predictor, varying γ, batch, context, α; \(predictor.pricedBy)): "
                     + String(format: "%.2f M configurations/s on one core (target ≥ 1 M/s)", fastRate / 1e6))

        // 50,000-point sweep with CSV and chart.
        try ArtifactDirectory.prepareFolder(outputDirectory, for: "benchmark sweep")
        let base = PredictionConfig(hardware: hardware[2], model: models[1], method: .sd, draftModel: draft, draftLength: 4,
                                    acceptance: .iid(alpha: 0.7))
        let axes = [try SweepAxis.parse("batch=1:500"), try SweepAxis.parse("draft-length=1:100")]
        start = Date()
        let result = try SweepResult.run(named: [("", base)], axes: axes, label: "bench sweep")
        let sweepSeconds = Date().timeIntervalSince(start)
        try result.csv().write(to: outputDirectory.appendingPathComponent("sweep.csv"))
        let csvSeconds = Date().timeIntervalSince(start) - sweepSeconds
        let chart = try result.chart(y: "speedup", title: "Benchmark sweep: 50,000 points (sd, llama-3.1-8b / llama-3.2-1b, h100-sxm)",
                                     referenceLines: [.horizontal(y: 1, title: "no speedup")])
        var plotted = "chart"
        do { try ChartRenderer.render(chart, to: outputDirectory.appendingPathComponent("sweep.png")) }
        catch let error as ChartError { plotted = "chart not drawn (\(error.description))" }
        let total = Date().timeIntervalSince(start)
        lines.append(String(format: "50,000-point sweep: %.2f s evaluate + %.2f s CSV + %.2f s %@ = %.2f s total (target < 2 s)",
                            sweepSeconds, csvSeconds, total - sweepSeconds - csvSeconds, plotted, total))
        lines.append(String(format: "(checksum %.6g)", checksum))
        return lines
    }

    static func machineFacts() -> [String] {
        let info = ProcessInfo.processInfo
        var cpu = "unknown CPU"
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let colon = line.firstIndex(of: ":") {
            cpu = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return ["machine: \(cpu), \(info.processorCount) cores, \(String(format: "%.1f", Double(info.physicalMemory) / 1_073_741_824)) GiB, \(info.operatingSystemVersionString)",
                "date: \(ISO8601DateFormatter().string(from: Date()))"]
    }
}
