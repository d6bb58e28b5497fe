import Decoding
import Foundation
import Testing
import Transformer

/// `speclab decode` and `train-drafter` on a throwaway checkpoint: bad input gets one line and a non-zero exit.
@Suite("speclab decode: bad input", .enabled(if: CLI.available, "the speclab executable has not been built"))
struct DecodeCLITests {
    static let config = ModelConfig(name: "cli-test", width: 32, layers: 2, heads: 4, kvHeads: 2, ffnHidden: 64,
                                    contextLength: 128, tiedEmbeddings: false)

    /// A random target, parallel heads and sequential modules for it, and heads for a wider target.
    static func fixture() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("decode-cli-\(UUID().uuidString)")
        let network = try Network<Float>(config: config)
        network.initialize(seed: 1)
        try Checkpoint.save(network, to: directory.appendingPathComponent("target"))
        let heads = ParallelHeads(config: config, extraHeads: 2)
        heads.initialize(copying: network)
        try heads.save(to: directory.appendingPathComponent("heads"), metadata: [:])
        let modules = SequentialModules(config: config, depth: 2)
        modules.initialize(copying: network, seed: 2)
        try modules.save(to: directory.appendingPathComponent("heads"), metadata: [:])
        var wider = config
        wider.width = 64
        wider.heads = 8
        wider.kvHeads = 4
        let other = ParallelHeads(config: wider, extraHeads: 2)
        other.initialize(seed: 3)
        try other.save(to: directory.appendingPathComponent("other"), metadata: [:])
        return directory
    }

    @Test("every wrong request: one line naming the problem, non-zero exit")
    func badInput() throws {
        let root = try Self.fixture()
        defer { try? FileManager.default.removeItem(at: root) }
        let base = ["decode", "--model", root.appendingPathComponent("target").path, "--samples", "1", "--max-tokens", "8",
                    "--prompt-length", "16"]
        let heads = root.appendingPathComponent("heads").path
        let cases: [([String], String)] = [
            (base + ["--method", "mtp-parallel", "--drafter", root.appendingPathComponent("other").path], "target_width"),
            (base + ["--method", "mtp-parallel", "--drafter", heads, "--draft-length", "3"], "exceeds the 2 extra heads"),
            (base + ["--method", "mtp-sequential", "--drafter", heads, "--draft-length", "3"], "exceeds the 2 modules"),
            (base + ["--method", "mtp-parallel", "--drafter", heads, "--draft-length", "0"], "draft-length"),
            (base + ["--method", "mtp-sequential", "--drafter", heads, "--temperature", "-1"], "temperature"),
            (base + ["--method", "mtp-sequential"], "--drafter"),
            (base + ["--method", "mtp-sequential", "--drafter", root.appendingPathComponent("other").path], "no sequential MTP modules"),
            (base + ["--method", "medusa9"], "mtp-sequential"),
            (base + ["--method", "lookahead", "--draft-length", "8", "--max-tokens", "110"], "exceed the model's context"),
        ]
        for (arguments, fragment) in cases {
            let result = try CLI.run(arguments)
            #expect(result.status != 0, "\(arguments.suffix(4))")
            #expect(result.stderr.split(separator: "\n").count == 1, "stderr: \(result.stderr)")
            #expect(result.stderr.contains(fragment), "\(fragment) not in: \(result.stderr)")
        }
    }

    @Test("mtp-parallel and mtp-sequential decode from the command line with the JSON contract keys")
    func decodeJSON() throws {
        let root = try Self.fixture()
        defer { try? FileManager.default.removeItem(at: root) }
        let prompts = root.appendingPathComponent("prompts.txt")
        try "static double gsl_sf_bessel\n#include <gsl/gsl_math.h>\n".write(to: prompts, atomically: true, encoding: .utf8)
        for method in ["mtp-parallel", "mtp-sequential"] {
            let result = try CLI.run(["decode", "--model", root.appendingPathComponent("target").path, "--method", method,
                                      "--drafter", root.appendingPathComponent("heads").path, "--draft-length", "2",
                                      "--prompts", prompts.path, "--samples", "2", "--max-tokens", "12", "--baseline", "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            for key in ["tokens_generated", "target_forwards", "tau", "accepted_length_histogram", "per_position_acceptance",
                        "seconds", "tokens_per_second", "ntp_tokens_per_second", "speedup"] {
                #expect(object?[key] != nil, "\(method): \(key) missing")
            }
            #expect((object?["tokens_generated"] as? Int) == 24)
        }
    }
}
