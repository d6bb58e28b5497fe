import Analytic
import Foundation
import Requests
import Testing
@testable import Experiments
import Validation

private func scratchDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("speclab-repro-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

private func decodeSpec(_ json: String) throws -> ReproductionSpec {
    try JSONDecoder().decode(ReproductionSpec.self, from: Data(json.utf8))
}

@Suite("Reproduction experiments")
struct ReproductionTests {
    @Test("Theorem 3.8 rows equal the closed form computed by hand")
    func leviathanRows() throws {
        // Leviathan Table 4, EnDe T5-small T=0 (α 0.75, γ 7, c 0.02, measured 3.4×) and Table 1's
        // α 0.6, γ 2, c 0 row (1.96×, used here as the "published" value).
        let spec = try decodeSpec("""
        {"table": "t", "rows": [
          {"setting": "EnDe small", "published": 3.4, "leviathan": {"alpha": 0.75, "gamma": 7, "c": 0.02}},
          {"setting": "table 1", "published": 1.96, "leviathan": {"alpha": 0.6, "gamma": 2, "c": 0}}]}
        """)
        let rows = try Reproduction.evaluate(spec, baseDirectory: nil)
        #expect(rows.count == 2)
        // By hand: 0.75^8 = 0.1001129150390625; (1 − 0.75^8) / 0.25 = 3.59954833984375; / (7·0.02 + 1) = 1.14.
        let first = 3.59954833984375 / 1.14
        // (1 − 0.6^3) / 0.4 = 0.784 / 0.4 = 1.96; c = 0 leaves it unchanged.
        let second = 1.96
        // Tolerance: a handful of ULPs of rounding in pow and the divisions.
        #expect(abs(rows[0].predicted - first) < 1e-12)
        #expect(abs(rows[1].predicted - second) < 1e-12)
        #expect(abs(rows[0].relativeError - (first / 3.4 - 1)) < 1e-12)
        #expect(abs(rows[1].relativeError) < 1e-12)
        #expect(rows[0].fields["mode"] == "theorem-3.8, published c")
        #expect(rows[0].fields["c"] == "0.02" && rows[0].fields["gamma"] == "7")
    }

    @Test("a Theorem 3.8 row with c from the roofline uses the cycle model's c")
    func leviathanRooflineC() throws {
        let spec = try decodeSpec("""
        {"table": "t", "base": {"hardware": "tpu-v4", "runtime": "t5x", "model": "t5-xxl", "method": "sd",
                                "batch": 1, "context": 128, "sourceLength": 128},
         "rows": [{"setting": "s", "published": 3.4, "leviathan": {"alpha": 0.75, "gamma": 7},
                   "request": {"draftModel": "t5-small"}}]}
        """)
        let row = try Reproduction.evaluate(spec, baseDirectory: nil)[0]
        var request = PredictRequest()
        request.hardware = "tpu-v4"; request.runtime = "t5x"; request.model = "t5-xxl"; request.method = "sd"
        request.draftModel = "t5-small"; request.draftLength = 7; request.alpha = 0.75
        request.batch = 1; request.context = 128; request.sourceLength = 128
        let c = try Cycle.predict(request.resolve()).c
        // The t5x profile is fitted to Leviathan's profiled c = 0.02 for T5-small (REFERENCES.md §3.1).
        #expect(abs(c - 0.02) < 0.001)
        let expected = (1 - pow(0.75, 8)) / (0.25 * (7 * c + 1))
        #expect(abs(row.predicted - expected) < 1e-12)
    }

    @Test("summary: median and max of |relative error|, rows over the flag, exclusions left out")
    func summary() throws {
        func row(_ name: String, _ published: Double, _ predicted: Double, excluded: String? = nil) -> ReproductionRow {
            ReproductionRow(setting: name, group: "", published: published, predicted: predicted, excluded: excluded,
                            note: nil, fields: [:])
        }
        // Errors +10 %, −20 %, +5 %, +30 % (last one excluded): median of {5, 10, 20} = 10 %, max 20 %.
        let rows = [row("a", 2, 2.2), row("b", 2, 1.6), row("c", 2, 2.1), row("d", 1, 1.3, excluded: "typo")]
        let summary = try #require(ReproductionSummary(rows, flag: 0.15, max: 0.25))
        #expect(summary.count == 3)
        #expect(abs(summary.medianAbsoluteError - 0.10) < 1e-12)
        #expect(abs(summary.maxAbsoluteError - 0.20) < 1e-12)
        #expect(summary.worstSetting == "b")
        #expect(summary.overFlag == 1 && summary.overMax == 0)
        // Even count: the mean of the two middle errors.
        let even = try #require(ReproductionSummary(Array(rows.prefix(2)), flag: 0.15, max: 0.25))
        #expect(abs(even.medianAbsoluteError - 0.15) < 1e-12)
    }

    @Test("cycle-model rows merge the base request; a layer split keeps the per-step time of one GPU")
    func cycleRows() throws {
        let spec = try decodeSpec("""
        {"table": "t", "base": {"hardware": "rtx-3090", "runtime": "hf-eager", "method": "eagle1", "draftLength": 5,
                                "treeSize": 26, "batch": 1, "context": 512},
         "rows": [
           {"setting": "7B", "published": 2.9, "request": {"model": "vicuna-7b", "tau": 3.94}},
           {"setting": "7B split", "published": 2.9, "request": {"model": "vicuna-7b", "tau": 3.94}, "layerSplit": 2},
           {"setting": "13B split", "published": 3.07, "request": {"model": "vicuna-13b", "tau": 3.98}, "layerSplit": 2}]}
        """)
        let rows = try Reproduction.evaluate(spec, baseDirectory: nil)
        var request = PredictRequest()
        request.hardware = "rtx-3090"; request.runtime = "hf-eager"; request.method = "eagle1"; request.draftLength = 5
        request.treeSize = 26; request.batch = 1; request.context = 512; request.model = "vicuna-7b"; request.tau = 3.94
        #expect(rows[0].predicted == (try Cycle.predict(request.resolve()).speedup))
        #expect(rows[1].predicted == rows[0].predicted)
        #expect(rows[1].fields["hardware"] == "2 × rtx-3090 (layers split)")
        #expect(rows[0].fields["tree_size"] == "26" && rows[0].fields["acceptance"] == "tau=3.94")
        // Vicuna-13B (26.8 GB of weights) does not fit one 24 GiB RTX 3090 without the split.
        var unsplit = spec
        unsplit.rows[2].layerSplit = nil
        #expect(throws: AnalyticError.self) { try Reproduction.evaluate(unsplit, baseDirectory: nil) }
    }

    @Test("calibration: applied to its hardware/runtime only, at most one number per pair")
    func calibration() throws {
        let json = """
        {"table": "t", "base": {"runtime": "hf-eager", "method": "eagle1", "draftLength": 5, "treeSize": 26,
                                "model": "vicuna-7b", "tau": 3.94, "context": 512},
         "calibration": [{"hardware": "rtx-3090", "runtime": "hf-eager", "parameter": "perCycleSeconds",
                          "value": 0.005, "reason": "test"}],
         "rows": [{"setting": "3090", "published": 2.9, "request": {"hardware": "rtx-3090"}},
                  {"setting": "a100", "published": 2.9, "request": {"hardware": "a100-80gb"}}]}
        """
        let rows = try Reproduction.evaluate(try decodeSpec(json), baseDirectory: nil)
        #expect(rows[0].fields["host_ms_per_cycle"] == "5")
        #expect(rows[0].fields["calibration"] == "hf-eager.perCycleSeconds=0.005")
        // The eager profile's own per-cycle cost (1 ms) on the other hardware.
        #expect(rows[1].fields["host_ms_per_cycle"] == "1")
        #expect(rows[1].fields["calibration"] == "")

        var twice = try decodeSpec(json)
        twice.calibration!.append(.init(hardware: "rtx-3090", runtime: "hf-eager", parameter: "perLayerSeconds",
                                        value: 1e-4, reason: "a second number"))
        #expect(throws: AnalyticError.self) { try Reproduction.evaluate(twice, baseDirectory: nil) }
        var stacked = try decodeSpec(json)
        stacked.calibration!.append(.init(hardware: nil, runtime: "hf-eager", parameter: "perLayerSeconds",
                                          value: 1e-4, reason: "any hardware, on top of the rtx-3090 entry"))
        #expect(throws: AnalyticError.self) { try Reproduction.evaluate(stacked, baseDirectory: nil) }
        var unknown = try decodeSpec(json)
        unknown.calibration![0].parameter = "fudge"
        #expect(throws: AnalyticError.self) { try Reproduction.evaluate(unknown, baseDirectory: nil) }
    }

    @Test("a row names exactly one way to predict")
    func badRows() throws {
        let both = try decodeSpec("""
        {"table": "t", "rows": [{"setting": "s", "published": 2, "leviathan": {"alpha": 0.7, "gamma": 3, "c": 0.1},
                                 "request": {"hardware": "tpu-v4"}}]}
        """)
        #expect(throws: AnalyticError.self) { try Reproduction.evaluate(both, baseDirectory: nil) }
        let neither = try decodeSpec(#"{"table": "t", "rows": [{"setting": "s", "published": 2}]}"#)
        #expect(throws: AnalyticError.self) { try Reproduction.evaluate(neither, baseDirectory: nil) }
    }

    @Test("the experiment writes data.csv, table.md, the chart script, curves and run.json")
    func writesFiles() throws {
        let root = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let paths = ExperimentPaths(experimentsDirectory: root.appendingPathComponent("experiments"),
                                    resultsDirectory: root.appendingPathComponent("results"))
        let experiment = paths.experimentsDirectory.appendingPathComponent("099-repro")
        try FileManager.default.createDirectory(at: experiment, withIntermediateDirectories: true)
        let config = """
        {"kind": "reproduction", "title": "t", "suites": ["reproduction"], "chart": {"title": "scatter"},
         "reproduction": {"table": "Leviathan Table 4 (two rows)",
           "rows": [
             {"setting": "EnDe small", "group": "T=0", "published": 3.4, "leviathan": {"alpha": 0.75, "gamma": 7, "c": 0.02}},
             {"setting": "EnDe large", "group": "T=0", "published": 1.7, "leviathan": {"alpha": 0.82, "gamma": 7, "c": 0.11}},
             {"setting": "typo", "published": 9, "leviathan": {"alpha": 0.5, "gamma": 1, "c": 0}, "exclude": "test"}],
           "curves": {"gammas": "1:4", "charts": [{"name": "curves", "title": "c",
                      "series": [{"title": "α 0.6", "alpha": 0.6, "c": 0}]}]}}}
        """
        try config.write(to: experiment.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        let outcome = try ExperimentRunner.run(slug: "099-repro", paths: paths, plot: false)
        let result = paths.resultsDirectory.appendingPathComponent("099-repro")
        for file in ["data.csv", "table.md", "chart.gp", "chart.dat", "curves.csv", "curves.gp", "run.json"] {
            #expect(FileManager.default.fileExists(atPath: result.appendingPathComponent(file).path), "\(file)")
        }
        let csv = try String(contentsOf: result.appendingPathComponent("data.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("setting,group,published,predicted,relative_error,excluded"))
        #expect(lines[3].contains(",test,"))
        // The y = x line is in the chart data.
        let chartData = try String(contentsOf: result.appendingPathComponent("chart.dat"), encoding: .utf8)
        #expect(chartData.contains("(y = x)"))
        // Curves: E[tokens] at α 0.6, γ 2 = 1.96 (c = 0).
        let curves = try String(contentsOf: result.appendingPathComponent("curves.csv"), encoding: .utf8)
        #expect(curves.contains(",2,1.96,1.96"))
        // Verdict: errors −7.13 % and +46.89 % ((1 − 0.82^8)/0.18/1.77 = 2.4971…); the excluded row is left out.
        let table = try String(contentsOf: result.appendingPathComponent("table.md"), encoding: .utf8)
        #expect(table.contains("2 rows, median |error| 27.0%, max 46.9% (EnDe large)"))
        #expect(table.contains("NOT met"))
        #expect(outcome.notes.contains { $0.contains("median |error| 27.0%") })
        let runJSON = try JSONSerialization.jsonObject(with: Data(contentsOf: result.appendingPathComponent("run.json"))) as? [String: Any]
        #expect((runJSON?["notes"] as? [String])?.contains { $0.contains("2 rows") } == true)
    }

    @Test("every reproduction experiment in the repository evaluates")
    func repositoryReproductions() throws {
        let root = Repository.root
        let paths = ExperimentPaths(experimentsDirectory: root.appendingPathComponent("experiments"),
                                    resultsDirectory: root.appendingPathComponent("results"))
        for slug in try paths.slugs() where try paths.spec(slug).kind == "reproduction" {
            let directory = paths.experimentsDirectory.appendingPathComponent(slug)
            let spec = try Reproduction.loadSpec(experimentDirectory: directory)
            let rows = try Reproduction.evaluate(spec, baseDirectory: directory)
            #expect(rows.count == spec.rows.count, "\(slug)")
            #expect(rows.allSatisfy { $0.predicted.isFinite && $0.predicted > 0 }, "\(slug)")
            // In their own suite, and in `default` so that `make run` draws them (they take seconds).
            #expect(try paths.spec(slug).suites == ["default", "reproduction"], "\(slug)")
        }
    }
}
