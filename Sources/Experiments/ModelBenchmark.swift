// `speclab bench-model`: decode speed of the reference transformer against
// the machine's own limits, measured in one run — streaming-read bandwidth,
// sgemm FLOP/s, the per-token decode time, T(k)/T(1) (the memory-bound plateau
// speculation relies on) and training throughput.

import Decoding
import Foundation
import LinAlg
import Transformer

public enum ModelBenchmark {
    public static func run(preset: String, threads: Int, repetitions: Int = 7,
                           trainingPreset: String = "small") throws -> [String] {
        try ThreadCount.check(threads)
        let config = try ModelConfig.preset(named: preset)
        var lines = Benchmark.machineFacts()
        InferenceModel.productThreads = threads
        OpenBLAS.setThreads(threads)

        let bandwidth = Probes.streamingReadBandwidth(bytes: 512 << 20, threads: threads, repetitions: 5)
        let sgemm = Probes.sgemmThroughput(size: 1024, threads: threads, repetitions: 5)
        lines.append(String(format: "streaming read: %.1f GB/s (%d threads); sgemm 1024³: %.1f GFLOP/s",
                            bandwidth.bytesPerSecond / 1e9, threads, sgemm.flopsPerSecond / 1e9))
        let bench = try Bench(config: config, repetitions: repetitions)
        lines.append(String(format: "model %@: %d parameters, %.1f MB of float32 weights streamed per forward (random weights: timing only)",
                            config.name, bench.network.parameterCount, bench.streamed / 1e6))
        lines += bench.plateau(bandwidth: bandwidth.bytesPerSecond)
        lines.append(try bench.draftModelCycle())
        lines.append(bench.treeVerify())
        lines += try bench.drafterCycles()
        lines.append(try trainingThroughput(preset: trainingPreset, sgemm: sgemm.flopsPerSecond))
        return lines
    }

    /// The benchmarked target with a prompt in its cache, and T(k) of one forward over k new tokens.
    struct Bench {
        let config: ModelConfig
        let network: Network<Float>
        let model: InferenceModel
        let cache: KVCache
        let prompt: [Int32]
        let repetitions: Int
        /// Bytes of float32 weights one forward streams (the embedding table is gathered, not streamed).
        let streamed: Double
        /// T(k) for k = 1, 2, 4, …, 64.
        let ks = [1, 2, 4, 8, 16, 32, 64]
        var times: [Double] = []

        init(config: ModelConfig, repetitions: Int) throws {
            self.config = config
            self.repetitions = repetitions
            network = try Network<Float>(config: config)
            network.initialize(seed: 1)
            model = InferenceModel(network: network)
            let embedding = config.vocab * config.width
            streamed = Double(network.parameterCount - (config.tiedEmbeddings ? 0 : embedding)) * 4
            cache = KVCache(config: config)
            prompt = (0..<32).map { Int32(($0 * 37 + 11) % 256) }
            _ = model.prefill(prompt, cache: cache)
            times = ks.map { time(k: $0) }
        }

        func time(k: Int) -> Double {
            model.medianForwardSeconds([SequenceStep(tokens: (0..<k).map { Int32(($0 * 53 + 7) % 256) }, cache: cache)],
                                       repetitions: repetitions)
        }

        /// New tokens a decode can take beside the prompt and the largest verify (a 17-token tree).
        var newTokens: Int { min(160, config.contextLength - prompt.count - 17) }

        /// One token against the bandwidth bound, and T(k)/T(1): the memory-bound plateau.
        func plateau(bandwidth: Double) -> [String] {
            var lines: [String] = []
            let bound = streamed / bandwidth
            lines.append(String(format: "decode one token: %.2f ms = %.1f GB/s of weights; bandwidth bound %.2f ms → %.2f× the bound (target ≤ 1.2×)",
                                times[0] * 1e3, streamed / times[0] / 1e9, bound * 1e3, times[0] / bound))
            var table = "T(k)/T(1):"
            for (k, t) in zip(ks, times) { table += String(format: "  k=%d %.2f", k, t / times[0]) }
            lines.append(table)
            if let knee = zip(ks, times).first(where: { $0.1 / times[0] > 1.3 }) {
                lines.append("T(8)/T(1) = \(String(format: "%.2f", times[3] / times[0])) (target ≤ 1.3); the forward leaves the memory-bound plateau (T(k) > 1.3·T(1)) at k = \(knee.0)")
            } else {
                lines.append("T(8)/T(1) = \(String(format: "%.2f", times[3] / times[0])) (target ≤ 1.3); still on the plateau at k = \(ks.last!)")
            }

            return lines
        }

        /// One speculative cycle of a draft model on this target vs its parts timed alone.
        func draftModelCycle() throws -> String {
            // One speculative cycle on this target vs its parts timed alone: drafting
            // (γ draft-model forwards) + one (γ+1)-token verify forward. A gap would
            // mean hidden re-computation in the loop.
            let gamma = 4
            let draftNetwork = try Network<Float>(config: .draft)
            draftNetwork.initialize(seed: 2)
            let draftModel = InferenceModel(network: draftNetwork)
            let target = TransformerTarget(model: model, capacity: config.contextLength)
            // As many new tokens as the context leaves beside the prompt and the largest verify (a 17-token tree).
            let result = SpeculativeDecoding.generate(target: target, drafter: DraftModelDrafter(model: draftModel, draftLength: gamma),
                                                      prompt: prompt, maxNewTokens: newTokens, settings: .greedy, seed: 1)
            let s = result.stats
            let cycle = s.seconds / Double(s.rounds)   // rounds only, prefill excluded
            let draftCache = KVCache(config: draftNetwork.config)
            _ = draftModel.prefill(prompt, cache: draftCache)
            var draftSamples: [Double] = []
            for _ in 0..<repetitions {
                let start = DispatchTime.now().uptimeNanoseconds
                draftModel.forward([SequenceStep(tokens: [1], cache: draftCache)])
                draftSamples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            let draftStep = Statistics.median(draftSamples)
            let parts = Double(s.drafterForwards) / Double(s.rounds) * draftStep + time(k: gamma + 1)
            return String(format: "speculative cycle (draft model, γ = %d, %d rounds): %.2f ms measured vs %.2f ms = drafting (%.1f forwards × %.3f ms) + one %d-token verify → ratio %.2f (target within 10%%)",
                                gamma, s.rounds, cycle * 1e3, parts * 1e3, Double(s.drafterForwards) / Double(s.rounds),
                                draftStep * 1e3, gamma + 1, cycle / parts)

        }

        /// One forward over m tree nodes (a random tree, ancestor mask) against one token.
        func treeVerify() -> String {
            // Tree verification: one forward over m tree nodes (a random tree, ancestor mask) vs one token.
            var treeLine = "tree verify T(m nodes)/T(1) (ancestor mask):"
            let rng = RandomSource(seed: 9)
            for m in [8, 16, 24, 32] {
                var parents = [-1]
                for i in 1..<m { parents.append(Int(rng.uniform() * Double(i))) }
                var depths = [0]
                for i in 1..<m { depths.append(depths[parents[i]] + 1) }
                let step = [SequenceStep(tokens: (0..<m).map { Int32(($0 * 29 + 3) % 256) },
                                         positions: depths.map { Int32(cache.length + $0) },
                                         mask: .ancestors(parents: parents), cache: cache)]
                treeLine += String(format: "  m=%d %.2f", m, model.medianForwardSeconds(step, repetitions: repetitions) / times[0])
            }
            return treeLine + "  (target: 16–32 nodes ≤ 1.5)"

        }

        /// The other drafters' cycles: drafting as timed by the loop + one verify of the same (mean) size.
        func drafterCycles() throws -> [String] {
            var lines: [String] = []
            // The other drafters' cycles: drafting as timed by the loop + one verify of the same
            // (mean) size timed alone, against the loop's measured cycle. Random drafter weights.
            var drafters: [(String, Drafter)] = []
            if config.layers >= 2 {
                let parallel = ParallelHeads(config: config, extraHeads: 3)
                parallel.initialize(copying: network)
                drafters.append(("mtp-parallel, 3 heads", ParallelHeadsDrafter(heads: parallel, target: model, draftLength: 3)))
            } else {
                lines.append("mtp-parallel: not timed (\(config.name) has one block; parallel heads share a trunk of at least one block besides head 1)")
            }
            let sequential = SequentialModules(config: config, depth: 3)
            sequential.initialize(copying: network, seed: 3)
            let eagle = EagleWeights(config: config)
            eagle.initialize(copying: network, seed: 4)
            drafters += [
                ("mtp-sequential, D = 3", SequentialMTPDrafter(modules: sequential, target: model, draftLength: 3)),
                ("eagle2, K 3 depth 3 M 16", EagleDrafter(weights: eagle, target: model, tree: .dynamic(topK: 3, depth: 3, size: 16))),
            ]
            for (label, drafter) in drafters {
                let target = TransformerTarget(model: model, capacity: config.contextLength)
                let stats = SpeculativeDecoding.generate(target: target, drafter: drafter, prompt: prompt, maxNewTokens: min(80, newTokens),
                                                         settings: .greedy, seed: 1).stats
                let cycle = stats.seconds / Double(stats.rounds)
                let verifyTokens = Int((Double(stats.drafted) / Double(stats.rounds)).rounded()) + 1
                let parts = stats.draftingSeconds / Double(stats.rounds) + time(k: verifyTokens)
                lines.append(String(format: "cycle (%@, %d rounds): %.2f ms measured vs %.2f ms = drafting %.2f ms (timed in the loop) + one %d-token verify → ratio %.2f",
                                    label, stats.rounds, cycle * 1e3, parts * 1e3, stats.draftingSeconds / Double(stats.rounds) * 1e3,
                                    verifyTokens, cycle / parts))
            }

            return lines
        }
    }

    /// Training throughput against sgemm, same threads.
    static func trainingThroughput(preset trainingPreset: String, sgemm: Double) throws -> String {
        let trainConfig = try ModelConfig.preset(named: trainingPreset)
        let trainNetwork = try Network<Float>(config: trainConfig)
        trainNetwork.initialize(seed: 1)
        let length = min(128, trainConfig.contextLength), batch = 16
        let state = TrainingState<Float>(config: trainConfig, batch: batch, length: length)
        let tokens = (0..<(batch * length)).map { Int32(($0 * 31 + 5) % 256) }
        let targets = tokens.map { ($0 + 1) % 256 }
        // Through the (non-generic) objective, so the layers run as specialised Float code.
        let objective = NextTokenObjective(network: trainNetwork)
        _ = objective.step(inputs: tokens, targets: targets, state: state)
        let steps = 5
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<steps { _ = objective.step(inputs: tokens, targets: targets, state: state) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let flops = (6 * Double(trainNetwork.parameterCount) + 6 * Double(trainConfig.layers * trainConfig.width * length))
            * Double(steps * batch * length)
        return String(format: "training %@ (forward + backward, batch %d × %d): %.1f GFLOP/s = %.0f%% of sgemm (target ≥ 40%%)",
                            trainConfig.name, batch, length, flops / seconds / 1e9, 100 * flops / seconds / sgemm)
    }
}
