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
        // The tree and self-drafting kinds of the second decoding issue, in one directory.
        let eagle3 = Eagle3Weights(config: config)
        eagle3.initialize(copying: network, seed: 4)
        try eagle3.save(to: directory.appendingPathComponent("trees"), metadata: [:])
        let masked = MaskedMTP(config: config, masks: 2, rank: 2)
        masked.initialize(seed: 5)
        try masked.save(to: directory.appendingPathComponent("trees"), metadata: [:])
        let hydra = MedusaHeads(config: config, heads: 2, conditioned: true)
        hydra.initialize(copying: network)
        try hydra.save(to: directory.appendingPathComponent("trees"), metadata: [:])
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
            (base + ["--method", "eagle3", "--drafter", heads], "no EAGLE-3 drafter weights"),
            (base + ["--method", "eagle1", "--drafter", root.appendingPathComponent("trees").path], "no EAGLE drafter weights"),
            (base + ["--method", "eagle1", "--drafter", root.appendingPathComponent("trees").path, "--tree", "dynamic"], "--method eagle2"),
            (base + ["--method", "masked-mtp", "--drafter", root.appendingPathComponent("trees").path, "--draft-length", "3"],
             "exceeds the 2 mask tokens"),
            (base + ["--method", "hydra", "--drafter", heads], "no Hydra heads"),
            (base + ["--method", "medusa1", "--drafter", root.appendingPathComponent("trees").path], "no Medusa heads"),
            (base + ["--method", "threshold", "--drafter", heads, "--draft-threshold", "1.5"], "--draft-threshold must be in [0, 1]"),
            (base + ["--method", "pld", "--cumulative"], "--cumulative applies to MTP heads"),
            (base + ["--method", "eagle2", "--drafter", root.appendingPathComponent("trees").path, "--unverified"],
             "--unverified keeps a chain"),
            (base + ["--method", "threshold", "--drafter", heads, "--unverified", "--typical"], "two different acceptance rules"),
        ]
        let train = ["train-drafter", "--target", root.appendingPathComponent("target").path, "--steps", "1",
                     "--sequence-length", "16", "--out", root.appendingPathComponent("never").path]
        let trainCases: [([String], String)] = [
            (train + ["--kind", "masked-mtp", "--heads", "0"], "mask tokens k"),
            (train + ["--kind", "masked-mtp", "--rank", "0"], "--rank"),
            (train + ["--kind", "eagle3", "--heads", "9"], "training-time-test steps"),
            (train + ["--kind", "hydra", "--trunk", "scratch"], "not available for Hydra heads"),
            (train + ["--kind", "eagle4"], "eagle3"),
        ]
        for (arguments, fragment) in cases + trainCases {
            let result = try CLI.run(arguments)
            #expect(result.status != 0, "\(arguments.suffix(4))")
            #expect(result.stderr.split(separator: "\n").count == 1, "stderr: \(result.stderr)")
            #expect(result.stderr.contains(fragment), "\(fragment) not in: \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("never").path))
    }

    @Test("MTP, EAGLE-3, masked-MTP and Hydra drafters decode from the command line with the JSON contract keys")
    func decodeJSON() throws {
        let root = try Self.fixture()
        defer { try? FileManager.default.removeItem(at: root) }
        let prompts = root.appendingPathComponent("prompts.txt")
        try "static double gsl_sf_bessel\n#include <gsl/gsl_math.h>\n".write(to: prompts, atomically: true, encoding: .utf8)
        for (method, drafter) in [("mtp-parallel", "heads"), ("mtp-sequential", "heads"), ("eagle3", "trees"),
                                  ("masked-mtp", "trees"), ("hydra", "trees")] {
            let result = try CLI.run(["decode", "--model", root.appendingPathComponent("target").path, "--method", method,
                                      "--drafter", root.appendingPathComponent(drafter).path, "--draft-length", "2",
                                      "--tree-size", "4",
                                      "--prompts", prompts.path, "--samples", "2", "--max-tokens", "12", "--baseline", "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            for key in ["tokens_generated", "target_forwards", "tau", "accepted_length_histogram", "per_position_acceptance",
                        "seconds", "tokens_per_second", "ntp_tokens_per_second", "speedup", "mean_nodes_verified",
                        "mean_rows_per_verify", "lossless", "round_tokens_per_second", "ntp_round_tokens_per_second",
                        "decode_speedup"] {
                #expect(object?[key] != nil, "\(method): \(key) missing")
            }
            #expect((object?["tokens_generated"] as? Int) == 24)
            // Two prompts: 95% bootstrap intervals over them, around the point estimates.
            let speedup = object?["decode_speedup"] as? Double ?? .nan, tau = object?["tau"] as? Double ?? .nan
            let speedupInterval = object?["decode_speedup_interval_95"] as? [Double] ?? []
            let tauInterval = object?["tau_interval_95"] as? [Double] ?? []
            #expect(speedupInterval.count == 2 && speedupInterval[0] <= speedup && speedup <= speedupInterval[1],
                    "\(method): speedup \(speedup) outside \(speedupInterval)")
            #expect(tauInterval.count == 2 && tauInterval[0] <= tau && tau <= tauInterval[1], "\(method): τ \(tau) outside \(tauInterval)")
            // The decode phase excludes the prefills: its rate is above the end-to-end rate.
            let rate = object?["tokens_per_second"] as? Double ?? .nan, roundRate = object?["round_tokens_per_second"] as? Double ?? .nan
            #expect(roundRate.isFinite && roundRate * 24 / 22 > rate, "\(method): decode-phase rate \(roundRate), overall \(rate)")
        }
    }

    /// Verified threshold generation is lossless: its output is plain greedy decoding's, so the target scores
    /// both the same; unverified it is flagged lossy in the JSON.
    @Test("threshold generation from the command line: verified scores as plain greedy, unverified is flagged lossy")
    func thresholdJSON() throws {
        let root = try Self.fixture()
        defer { try? FileManager.default.removeItem(at: root) }
        let base = ["decode", "--model", root.appendingPathComponent("target").path, "--method", "threshold",
                    "--drafter", root.appendingPathComponent("heads").path, "--draft-length", "2", "--draft-threshold", "0.01",
                    "--cumulative", "--samples", "2", "--max-tokens", "12", "--prompt-length", "16", "--baseline", "--json"]
        for unverified in [false, true] {
            let result = try CLI.run(base + (unverified ? ["--unverified"] : []))
            #expect(result.status == 0, "\(result.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            #expect((object?["lossless"] as? Bool) == !unverified)
            let likelihood = object?["target_log_likelihood"] as? Double ?? .nan
            let plain = object?["ntp_target_log_likelihood"] as? Double ?? .nan
            #expect(likelihood.isFinite && likelihood < 0 && plain.isFinite)
            if !unverified { #expect(abs(likelihood - plain) < 1e-9) }
        }
    }

    /// Every output says whether it is the target's: MTAD at T = 0 is (greedy matching), MTJD and prefix beam
    /// search are not; each reports the target's log-likelihood of what it wrote.
    @Test("joint and beam methods from the command line: lossless flag and quality in the JSON")
    func jointJSON() throws {
        let root = try Self.fixture()
        defer { try? FileManager.default.removeItem(at: root) }
        let target = root.appendingPathComponent("target").path
        let base = ["decode", "--model", target, "--draft-length", "2", "--beam-width", "2", "--samples", "2",
                    "--max-tokens", "12", "--prompt-length", "16", "--json"]
        for (arguments, lossless) in [(["--method", "mtad", "--drafter", target], true), (["--method", "mtjd"], false),
                                      (["--method", "prefix-beam", "--drafter", root.appendingPathComponent("heads").path], false)] {
            let result = try CLI.run(base + arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            #expect((object?["lossless"] as? Bool) == lossless, "\(arguments)")
            #expect((object?["target_log_likelihood"] as? Double).map { $0.isFinite && $0 < 0 } == true)
            #expect((object?["tokens_generated"] as? Int) == 24)
        }
    }
}
