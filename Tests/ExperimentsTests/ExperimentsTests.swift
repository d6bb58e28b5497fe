import Analytic
import Charts
import Files
import Foundation
import Transformer
import Requests
import Testing
@testable import Experiments

private func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("speclab-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite("Requests")
struct RequestTests {
    func request(_ body: (inout PredictRequest) -> Void) -> PredictRequest {
        var r = PredictRequest()
        r.hardware = "h100-sxm"; r.model = "llama-3.1-8b"; r.method = "eagle3"; r.alpha = 0.8
        body(&r)
        return r
    }

    @Test("a complete request resolves to the presets it names")
    func resolves() throws {
        let config = try request { _ in }.resolve()
        #expect(config.hardware.name == "h100-sxm")
        #expect(config.model.name == "llama-3.1-8b")
        #expect(config.method == .eagle3)
        #expect(config.acceptance == .iid(alpha: 0.8))
        #expect(config.batch == 1 && config.contextTokens == 1024 && config.draftLength == 4)
    }

    @Test("bad requests fail with one line naming the problem")
    func badRequests() {
        let cases: [(PredictRequest, String)] = [
            (request { $0.hardware = nil }, "missing --hardware"),
            (request { $0.hardwareFile = "x.json" }, "not both"),
            (request { $0.dtype = "fp7" }, "fp7"),
            (request { $0.tau = 3 }, "one acceptance source"),
            (request { $0.alpha = nil }, "missing acceptance"),
            (request { $0.method = "eagle9" }, "eagle9"),
            (request { $0.method = "sd" }, "--draft-model"),
            (request { $0.model = "llama-9" }, "llama-3.1-8b"),  // lists valid names
            (request { $0.treeSize = 3; $0.draftLength = 4 }, "--tree-size"),
        ]
        for (r, fragment) in cases {
            do {
                _ = try r.resolve()
                Issue.record("expected an error containing '\(fragment)'")
            } catch let error as AnalyticError {
                #expect(error.message.contains(fragment), "\(error.message)")
                #expect(!error.message.contains("\n"))
            } catch {
                Issue.record("unexpected error type \(error)")
            }
        }
    }

    @Test("ntp ignores acceptance flags and needs none")
    func ntpNeedsNoAcceptance() throws {
        let config = try request { $0.method = "ntp"; $0.alpha = nil }.resolve()
        let prediction = try Predictor(config).predict()
        #expect(prediction.tau == 1 && prediction.speedup == 1)
    }

    @Test("an override's model file replaces the base's model preset (and the other way round)")
    func mergeAlternatives() {
        var override = PredictRequest()
        override.modelFile = "m.json"
        let merged = request { _ in }.merged(with: override)
        #expect(merged.model == nil && merged.modelFile == "m.json")
        var back = PredictRequest()
        back.model = "vicuna-7b"
        let again = merged.merged(with: back)
        #expect(again.model == "vicuna-7b" && again.modelFile == nil)
    }

    @Test("merged requests take the override's acceptance source as a whole")
    func merge() {
        var override = PredictRequest()
        override.tau = 3
        let merged = request { _ in }.merged(with: override)
        #expect(merged.tau == 3 && merged.alpha == nil && merged.hardware == "h100-sxm")
    }
}

@Suite("Acceptance files")
struct AcceptanceFileTests {
    @Test("vLLM v1 counters fixture gives per-position rates and τ")
    func vllmCounters() throws {
        // Written from vLLM's documented counter names (vllm/v1/spec_decode/metrics.py):
        // 1000 drafts of 3 tokens; 800 accepted at position 0, 600 at 1, 400 at 2.
        let json = #"{"num_drafts": 1000, "num_accepted_tokens_per_pos": [800, 600, 400]}"#
        let model = try AcceptanceFile.parseJSON(Data(json.utf8), source: "fixture")
        let distribution = try model.distribution(draftLength: 3)
        // P(a=0)=0.2, P(a=1)=0.2, P(a=2)=0.2, P(a=3)=0.4 → τ = 1 + 0.2 + 0.4 + 1.2 = 2.8
        let expected = [0.2, 0.2, 0.2, 0.4]
        for (got, want) in zip(distribution.probabilities, expected) { #expect(abs(got - want) < 1e-12) }
        #expect(abs(distribution.tau - 2.8) < 1e-12)
    }

    @Test("CSV histogram with a header")
    func csvHistogram() throws {
        let model = try AcceptanceFile.parseCSV("accepted,count\n0,2\n1,3\n2,5\n", source: "fixture")
        #expect(model == .empirical(counts: [2, 3, 5]))
        #expect(abs(try model.tau(draftLength: 2) - 2.3) < 1e-12)  // 1 + (3 + 10)/10
    }

    @Test("a file with no acceptance field says which fields are allowed")
    func noField() {
        #expect(throws: AnalyticError.self) { try AcceptanceFile.parseJSON(Data("{}".utf8), source: "f") }
        do { _ = try AcceptanceFile.parseJSON(Data("{}".utf8), source: "f") } catch let e as AnalyticError {
            #expect(e.message.contains("accepted_length_counts"))
        } catch {}
    }
}

@Suite("Sweeps and experiments")
struct SweepReportTests {
    func base() throws -> PredictionConfig {
        var r = PredictRequest()
        r.hardware = "h100-sxm"; r.model = "llama-3.1-8b"; r.method = "sd"; r.draftModel = "llama-3.2-1b"; r.alpha = 0.7
        return try r.resolve()
    }

    @Test("CSV has one row per point and the documented columns")
    func csvShape() throws {
        let axes = [try SweepAxis.parse("batch=1,2,4"), try SweepAxis.parse("draft-length=1:3")]
        let result = try SweepResult.run(named: [("", try base())], axes: axes)
        let table = result.csv()
        #expect(table.rows.count == 9)
        #expect(Array(table.columns.prefix(3)) == ["batch", "draft-length", "draft_length"])
        #expect(table.columns.contains("speedup") && table.columns.contains("tau") && table.columns.contains("bound"))
        // Odometer order: last axis fastest.
        #expect(table.rows[0][0] == "1" && table.rows[0][1] == "1" && table.rows[1][1] == "2" && table.rows[3][0] == "2")
    }

    @Test("chart: x = first axis, one line per value of the second")
    func chartLines() throws {
        let axes = [try SweepAxis.parse("batch=1:64:x2"), try SweepAxis.parse("draft-length=1,4")]
        let chart = try SweepResult.run(named: [("", try base())], axes: axes).chart(y: "speedup", title: "t")
        #expect(chart.series.count == 2)
        #expect(chart.series.allSatisfy { $0.points.count == 7 })
        #expect(chart.xLabel.contains("batch"))
    }

    @Test("a non-numeric first axis cannot be the x axis")
    func nonNumericX() throws {
        let axes = [try SweepAxis.parse("hardware=a100-80gb,h100-sxm")]
        let result = try SweepResult.run(named: [("", try base())], axes: axes)
        #expect(throws: AnalyticError.self) { try result.chart(y: "speedup", title: "t") }
    }

    @Test("an experiment writes run.json, CSV and script; a failing rerun keeps the old result")
    func experimentAtomic() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let paths = ExperimentPaths(experimentsDirectory: root.appendingPathComponent("experiments"),
                                    resultsDirectory: root.appendingPathComponent("results"))
        let experiment = paths.experimentsDirectory.appendingPathComponent("001-test")
        try FileManager.default.createDirectory(at: experiment, withIntermediateDirectories: true)
        let config = """
        {"kind": "sweep", "title": "t", "suites": ["quick"],
         "base": {"hardware": "h100-sxm", "model": "llama-3.1-8b", "method": "eagle3", "alpha": 0.8},
         "axes": ["draft-length=1:4"], "chart": {"title": "t"}}
        """
        try config.write(to: experiment.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        let outcome = try ExperimentRunner.run(slug: "001-test", paths: paths, plot: false)
        let result = paths.resultsDirectory.appendingPathComponent("001-test")
        for file in ["data.csv", "run.json", "chart.gp", "chart.dat"] {
            #expect(FileManager.default.fileExists(atPath: result.appendingPathComponent(file).path), "\(file)")
        }
        #expect(outcome.files.contains("data.csv"))
        let csv = try String(contentsOf: result.appendingPathComponent("data.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 5)
        let runJSON = try JSONSerialization.jsonObject(with: Data(contentsOf: result.appendingPathComponent("run.json"))) as? [String: Any]
        #expect(runJSON?["experiment"] as? String == "001-test")
        #expect((runJSON?["config"] as? [String: Any])?["kind"] as? String == "sweep")
        // An analytic sweep draws nothing at random and reruns identically.
        #expect(runJSON?["seed"] is NSNull && runJSON?["deterministic"] as? Bool == true && runJSON?["not_reproduced"] == nil)

        // Break the config: the run fails and the previous result stays complete.
        try config.replacingOccurrences(of: "h100-sxm", with: "h999")
            .write(to: experiment.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        #expect(throws: AnalyticError.self) { try ExperimentRunner.run(slug: "001-test", paths: paths, plot: false) }
        #expect(try String(contentsOf: result.appendingPathComponent("data.csv"), encoding: .utf8) == csv)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: paths.resultsDirectory.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test("a config without its kind's block, or naming no kind there is, is one line saying which")
    func configErrors() throws {
        func message(_ json: String) -> String {
            do { _ = try JSONDecoder().decode(ExperimentSpec.self, from: Data(json.utf8)); return "decoded" }
            catch { return "\(error)" }
        }
        let chart = #""chart": {"title": "t"}"#
        #expect(message(#"{"kind": "decode", "title": "t", \#(chart)}"#).contains(#"a decode experiment needs "decoding""#))
        #expect(message(#"{"kind": "frontier", "title": "t", \#(chart)}"#).contains(#"a frontier experiment needs "frontier""#))
        let unknown = message(#"{"kind": "decoding", "title": "t", \#(chart)}"#)
        #expect(unknown.contains("experiment kind 'decoding' is unknown; valid: sweep, leviathan"))
        // Kinds with a block of their own name it (a block declared with the wrong type would fall back to none).
        #expect(ExperimentBody.kinds.filter { $0.block != nil }.count == 10)
    }

    @Test("every experiment config in the repository decodes and names a known kind")
    func repositoryExperimentsDecode() throws {
        let root = Repository.root
        let paths = ExperimentPaths(experimentsDirectory: root.appendingPathComponent("experiments"),
                                    resultsDirectory: root.appendingPathComponent("results"))
        let slugs = try paths.slugs()
        #expect(!slugs.isEmpty)
        for slug in slugs {
            let spec = try paths.spec(slug)
            #expect(ExperimentBody.names.contains(spec.kind), "\(slug) names kind '\(spec.kind)'")
            #expect(FileManager.default.fileExists(atPath: paths.experimentsDirectory.appendingPathComponent(slug)
                .appendingPathComponent("README.md").path), "\(slug) has a README")
        }
    }
}

@Suite("Batch-decode experiments")
struct BatchDecodeExperimentTests {
    @Test("a batch-decode run on the tiny preset measures and predicts every (method, batch) point")
    func tinyRun() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("batch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let paths = ExperimentPaths(experimentsDirectory: root.appendingPathComponent("experiments"),
                                    resultsDirectory: root.appendingPathComponent("results"))
        let experiment = paths.experimentsDirectory.appendingPathComponent("001-batch")
        try FileManager.default.createDirectory(at: experiment, withIntermediateDirectories: true)
        try """
        {"kind": "batch-decode", "title": "t", "suites": ["quick"],
         "batchDecoding": {"target": "preset:tiny", "corpus": "gsl", "draftLength": 3, "batches": [1, 2],
                           "promptLength": 16, "maxTokens": 6, "seed": 1, "hardware": "h100-sxm",
                           "methods": [{"title": "oracle", "method": "oracle", "alpha": 0.9}, {"title": "pld", "method": "pld"}]},
         "chart": {"title": "t"}}
        """.write(to: experiment.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        _ = try ExperimentRunner.run(slug: "001-batch", paths: paths, plot: false)
        // A timing run: its seed recorded, and what a rerun does not reproduce said.
        let runJSON = try JSONSerialization.jsonObject(with: Data(contentsOf: paths.resultsDirectory.appendingPathComponent("001-batch/run.json"))) as? [String: Any]
        #expect(runJSON?["seed"] as? Int == 1 && runJSON?["deterministic"] as? Bool == false)
        #expect((runJSON?["not_reproduced"] as? String)?.contains("timings of this machine") == true)
        let csv = try String(contentsOf: paths.resultsDirectory.appendingPathComponent("001-batch/data.csv"), encoding: .utf8)
        let rows = csv.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(rows.count == 4)
        for row in rows {
            let measured = Double(row[7]), predicted = Double(row[8])
            #expect(measured != nil && measured! > 0 && measured!.isFinite, "\(row)")
            #expect(predicted != nil && predicted! > 0 && predicted!.isFinite, "\(row)")
        }
    }

    @Test("trained drafters over batch: MTP heads (chain) and EAGLE-2 (dynamic tree) measured with intervals and predicted at every batch")
    func trainedDrafters() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("batch-trained-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let paths = ExperimentPaths(experimentsDirectory: root.appendingPathComponent("experiments"),
                                    resultsDirectory: root.appendingPathComponent("results"))
        let experiment = paths.experimentsDirectory.appendingPathComponent("001-batch")
        try FileManager.default.createDirectory(at: experiment, withIntermediateDirectories: true)
        let network = try Network<Float>(config: .tiny)
        network.initialize(seed: 1)
        try Checkpoint.save(network, to: root.appendingPathComponent("target"))
        try """
        {"kind": "batch-decode", "title": "t", "suites": ["quick"],
         "batchDecoding": {"target": "target", "corpus": "gsl", "draftLength": 2, "batches": [1, 2],
                           "promptLength": 16, "maxTokens": 6, "seed": 1, "hardware": "h100-sxm",
                           "methods": [{"title": "MTP", "method": "mtp-parallel", "trainDrafter": {"kind": "mtp-parallel", "heads": 2, "steps": 2}},
                                       {"title": "EAGLE-2", "method": "eagle2", "tree": {"topK": 2, "depth": 2, "size": 4},
                                        "trainDrafter": {"kind": "eagle", "steps": 2}}]},
         "chart": {"title": "t"}}
        """.write(to: experiment.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        _ = try ExperimentRunner.run(slug: "001-batch", paths: paths, plot: false)
        let table = try CSVTable.read(from: paths.resultsDirectory.appendingPathComponent("001-batch/data.csv"))
        let titles = try #require(table.column("title")), measured = try #require(table.column("measured_decode_speedup"))
        let predicted = try #require(table.column("predicted_speedup"))
        let low = try #require(table.column("decode_speedup_low_95")), high = try #require(table.column("decode_speedup_high_95"))
        #expect(titles == ["MTP", "MTP", "EAGLE-2", "EAGLE-2"])
        for i in titles.indices {
            let m = try #require(Double(measured[i])), p = try #require(Double(predicted[i]))
            #expect(m > 0 && m.isFinite && p > 0 && p.isFinite, "row \(i)")
            // Two prompts at batch 1 (an interval over them); one group of two at batch 2 (none).
            if i % 2 == 0 {
                let l = try #require(Double(low[i])), h = try #require(Double(high[i]))
                #expect(l <= m && m <= h, "row \(i): \(m) outside \(l)–\(h)")
            }
        }
        // The drafters sit beside the results, bound to the target.
        let files = try FileManager.default.contentsOfDirectory(atPath: paths.resultsDirectory.appendingPathComponent("001-batch").path)
        #expect(files.contains { $0.hasPrefix("drafter-mtp-parallel") } && files.contains { $0.hasPrefix("drafter-eagle") })
    }
}
