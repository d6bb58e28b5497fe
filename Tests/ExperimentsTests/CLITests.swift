import Foundation
import Testing

/// The repository checkout these tests run in (Tests/ExperimentsTests/ → two levels up).
enum Repository {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
}

/// End-to-end checks of the `speclab` executable that `swift test` builds:
/// bad input gets one line on stderr and a non-zero exit, never a trap.
struct CLI {
    static let binary: URL = {
        let root = Repository.root
        for configuration in ["debug", "release"] {
            let url = root.appendingPathComponent(".build/\(configuration)/speclab")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return root.appendingPathComponent(".build/debug/speclab")
    }()
    static var available: Bool { FileManager.default.isExecutableFile(atPath: binary.path) }

    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }
}

@Suite("speclab command line", .enabled(if: CLI.available, "the speclab executable has not been built"))
struct CLITests {
    @Test("predict says which model priced the step; --breakdown's rows and JSON add up to the step")
    func breakdown() throws {
        let measured = try CLI.run(Self.predict + ["--alpha", "0.8", "--breakdown"])
        #expect(measured.status == 0, "\(measured.stderr)")
        #expect(measured.stdout.contains("step priced by measured kernels: h100-sxm, sglang "))
        #expect(measured.stdout.contains("one layer") && measured.stdout.contains("per forward") && measured.stdout.contains("attention"))
        let roofline = try CLI.run(["predict", "--hardware", "mi300x", "--model", "llama-3.1-8b", "--breakdown"])
        #expect(roofline.stdout.contains("step priced by roofline"), "\(roofline.stdout)")

        let json = try CLI.run(Self.predict + ["--alpha", "0.8", "--breakdown", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((object["priced_by"] as? String)?.hasPrefix("measured kernels") == true)
        let parts = try #require(object["breakdown"] as? [String: Any])
        for (name, stepKey) in [("target_step", "target_step_seconds"), ("verify", "verify_seconds")] {
            let step = try #require(parts[name] as? [String: Any])
            var sum = 0.0
            for kind in ["gemm", "attention", "moe", "communication", "other", "runtime"] {
                let part = try #require(step[kind] as? [String: Double], "\(name) lacks \(kind)")
                sum += part["all_layers_seconds"]! + part["per_forward_seconds"]!
                #expect(abs(part["per_layer_seconds"]! * 32 - part["all_layers_seconds"]!) <= 1e-8 * max(1e-9, part["all_layers_seconds"]!))
            }
            let total = try #require(object[stepKey] as? Double)
            // JSON carries 10 significant digits.
            #expect(abs(sum - total) <= 1e-8 * total, "\(name): parts \(sum) vs step \(total)")
        }
    }

    static let predict = ["predict", "--hardware", "h100-sxm", "--model", "llama-3.1-8b", "--method", "eagle3",
                          "--draft-length", "4", "--batch", "1", "--context", "1024"]

    @Test("bad input: one line on stderr, non-zero exit", arguments: [
        (["speedup", "--alpha", "1.2", "--gamma", "3", "--c", "0.1"], "alpha"),
        (["speedup", "--alpha", "-0.1", "--gamma", "3", "--c", "0.1"], "alpha"),
        (["speedup", "--alpha", "0.5", "--gamma", "-2", "--c", "0.1"], "gamma"),
        (predict + ["--alpha", "0.8", "--batch", "0"], "batch"),
        (predict + ["--alpha", "0.8", "--draft-length", "-1"], "draft-length"),
        (["predict", "--hardware", "h100", "--model", "llama-3.1-8b", "--alpha", "0.8"], "h100-sxm"),
        (["predict", "--hardware", "h100-sxm", "--model", "gpt-5", "--alpha", "0.8"], "llama-3.1-8b"),
        (["predict", "--hardware", "rtx-4090", "--model", "llama-3.1-70b", "--method", "ntp"], "short by"),
        (predict + ["--alpha", "0.8", "--frobnicate"], "frobnicate"),
        (["sweep", "--hardware", "h100-sxm", "--model", "llama-3.1-8b", "--alpha", "0.8", "--vary", "batch=8:1", "--csv", "/tmp/x.csv"], "END"),
        (predict + ["--alpha", "0.8", "--kernels", "cuda"], "auto, roofline, sglang"),
        (["predict", "--hardware", "mi300x", "--model", "llama-3.1-8b", "--kernels", "vllm"], "use --kernels roofline"),
        (predict + ["--alpha", "0.8", "--kernels-file", "/nonexistent/kernels.json"], "kernels.json"),
        (predict + ["--alpha", "0.8", "--kernels", "sglang", "--kernels-file", "/tmp/k.json"], "not both"),
        (predict + ["--alpha", "0.8", "--expert-parallel"], "MoE"),
        (predict + ["--alpha", "0.8", "--kv-dtype", "int4"], "kv-dtype"),
        (["predict", "--hardware", "h100-sxm", "--model", "llama-3.1-8b", "--input-length", "1024"], "together"),
        (predict + ["--alpha", "0.8", "--input-length", "1024", "--output-length", "128"], "not both"),
        (predict + ["--alpha", "0.8", "--runtime", "hf-eager", "--runtime-file", "/tmp/r.json"], "not both"),
        (predict + ["--alpha", "0.8", "--runtime-file", "/nonexistent/runtime.json"], "runtime.json"),
        (["predict", "--hardware", "h100-sxm", "--model", "llama-3.1-8b", "--method", "eagle3", "--draft-model", "self", "--alpha", "0.8"], "self"),
        (["fit", "--measurements", "/nonexistent/m.csv", "--stack", "vllm", "--out", "/tmp/never.json"], "does not exist"),
        (["fit", "--measurements", Repository.root.appendingPathComponent("Tests/Fixtures/fit-bad-row.csv").path, "--stack", "vllm", "--out", "/tmp/never.json"], "line 3: draft_length 'two'"),
        (["fit", "--measurements", Repository.root.appendingPathComponent("Tests/Fixtures/fit-vllm-h100.csv").path, "--stack", "turbo", "--out", "/tmp/never.json"], "vllm"),
        (["fit", "--measurements", Repository.root.appendingPathComponent("Tests/Fixtures/fit-vllm-h100.csv").path, "--stack", "vllm", "--free", "perForwardSeconds,warp", "--out", "/tmp/never.json"], "warp"),
        (["fit", "--measurements", Repository.root.appendingPathComponent("Tests/Fixtures/kernel-points.csv").path, "--stack", "vllm", "--out", "/tmp/never.json"], "missing column"),
    ])
    func badInput(arguments: [String], fragment: String) throws {
        let result = try CLI.run(arguments)
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains(fragment), "stderr: \(result.stderr)")
        #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("Stack"))
    }

    @Test("a malformed model file names the field")
    func malformedModelFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("model-\(UUID().uuidString).json")
        try #"{"name": "m", "layers": "many", "hidden": 512, "heads": 8, "ffnSize": 2048, "vocab": 1000}"#
            .write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try CLI.run(["predict", "--hardware", "h100-sxm", "--model-file", file.path, "--method", "ntp"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("layers") && result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }

    @Test("speedup --json has the contract keys and Leviathan's Table 1 values")
    func speedupJSON() throws {
        let result = try CLI.run(["speedup", "--alpha", "0.6", "--gamma", "2", "--c", "0", "--json"])
        #expect(result.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Double]
        #expect(abs((object?["speedup"] ?? 0) - 1.96) < 0.005)       // Table 1: 1.96X
        #expect(abs((object?["ops_factor"] ?? 0) - 1.53) < 0.005)    // Table 1: 1.53X
        #expect(abs((object?["expected_tokens"] ?? 0) - 1.96) < 0.005)
    }

    @Test("α = 1 and α = 0 give the exact limits γ+1 and 1")
    func limits() throws {
        for (alpha, expected) in [("1", 6.0), ("0", 1.0)] {
            let result = try CLI.run(["speedup", "--alpha", alpha, "--gamma", "5", "--c", "0", "--json"])
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Double]
            #expect(object?["expected_tokens"] == expected)
        }
    }

    @Test("predict --json has every contract key")
    func predictJSON() throws {
        let result = try CLI.run(Self.predict + ["--alpha", "0.8", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        for key in ["target_step_seconds", "draft_seconds_per_cycle", "verify_seconds", "cycle_seconds", "c", "tau",
                    "speedup", "tokens_per_second", "tokens_per_second_per_sequence", "bound"] {
            #expect(object?[key] != nil, "missing \(key)")
        }
    }

    @Test("optimal-gamma --json has gamma and speedup")
    func optimalGammaJSON() throws {
        let result = try CLI.run(["optimal-gamma", "--alpha", "0.8", "--c", "0.05", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Double]
        // Hand scan of E/(γc+1) at α 0.8, c 0.05: γ = 8 gives 4.3289/1.40 = 3.0921, γ = 7 4.1611/1.35 = 3.0823, γ = 9 4.4631/1.45 = 3.0780.
        #expect(object?["gamma"] == 8)
        #expect(abs((object?["speedup"] ?? 0) - 3.0921) < 1e-3)
    }

    @Test("--help exits 0 and lists the subcommands")
    func help() throws {
        let result = try CLI.run(["--help"])
        #expect(result.status == 0)
        for command in ["speedup", "optimal-gamma", "predict", "sweep", "presets"] { #expect(result.stdout.contains(command)) }
    }
}

@Suite("speclab fit")
struct FitCLITests {
    @Test("fit writes a runtime file that predict uses, prints constants with uncertainties and leave-one-out errors, and never replaces a file without --force")
    func fitRoundTrip() throws {
        try #require(CLI.available)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("stack.json").path
        let csv = Repository.root.appendingPathComponent("Tests/Fixtures/fit-vllm-h100.csv").path
        let fit = try CLI.run(["fit", "--measurements", csv, "--stack", "vllm", "--free", "perForwardSeconds", "--out", out])
        #expect(fit.status == 0, "stderr: \(fit.stderr)")
        #expect(fit.stdout.contains("perForwardSeconds") && fit.stdout.contains("±"))
        #expect(fit.stdout.contains("leave-one-out median"))
        // The fitted stack reproduces the plain row it was fitted to within the reported in-sample error.
        let predict = try CLI.run(["predict", "--hardware", "h100-sxm", "--model", "llama-3.1-8b", "--context", "300",
                                   "--runtime-file", out, "--json"])
        #expect(predict.status == 0, "stderr: \(predict.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(predict.stdout.utf8)) as? [String: Any]
        let cycle = try #require(json?["cycle_seconds"] as? Double)
        #expect(abs(cycle * 1e3 / 7.07 - 1) < 0.10, "plain TPOT \(cycle * 1e3) ms vs 7.07 measured")
        // A second run does not replace the file unless asked.
        let before = try String(contentsOfFile: out, encoding: .utf8)
        let again = try CLI.run(["fit", "--measurements", csv, "--stack", "vllm", "--out", out])
        #expect(again.status != 0 && again.stderr.contains("--force"))
        #expect(try String(contentsOfFile: out, encoding: .utf8) == before)
    }
}
