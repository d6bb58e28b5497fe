// The engine calibrated to this machine: a `cpu-local` hardware preset from
// probes measured here, and the reference model's shape as an analytic-engine
// model (the Validation catalog's overview lists what else the module holds).

import Analytic
import Decoding
import Files
import Foundation
import LinAlg
import Transformer

public enum Calibration {
    /// The reference model as the analytic engine sees it: float32 weights and KV,
    /// SwiGLU, RMSNorm, byte vocabulary. Parameter counts match `Network` exactly.
    public static func modelShape(_ config: ModelConfig) -> ModelShape {
        ModelShape(name: "reference-\(config.name)", layers: config.layers, hidden: config.width, heads: config.heads,
                   kvHeads: config.kvHeads, headDim: config.headDim, ffnKind: .swiglu, ffnSize: config.ffnHidden,
                   vocab: config.vocab, tiedEmbeddings: config.tiedEmbeddings, weightType: .fp32,
                   publishedParameters: nil, source: "SpecLab reference transformer preset '\(config.name)'")
    }

    public struct Result: Sendable {
        public var hardware: Hardware
        /// How each number was measured.
        public var facts: [String]
    }

    /// Measures this machine and returns a hardware preset the engine loads like any other.
    /// - bandwidth: streaming-read probe (512 MB, `threads`);
    /// - peak FLOP/s: OpenBLAS sgemm 1024³ (float32: the reference model's type);
    /// - bandwidth efficiency: the skinny product's k = 1 rate on a 100 MB matrix / probe;
    /// - compute efficiency and overlap penalty: forwards of a probe transformer beyond the cache,
    ///   fitted separately below and above the row count where products switch to sgemm;
    /// - fixed costs: forwards of narrow (width 64) models with 1 and 8 layers,
    ///   T = perForward + layers · perLayer (their arithmetic is negligible);
    /// - per-cycle host cost: a round of the decoding loop minus its forward;
    /// - per-draft-step host cost: a draft model's propose minus its forwards.
    public static func calibrate(threads: Int, repetitions: Int = 5) throws -> Result {
        try ThreadCount.check(threads)
        OpenBLAS.setThreads(threads)
        InferenceModel.productThreads = threads
        var facts: [String] = []
        let bandwidth = Probes.streamingReadBandwidth(bytes: 512 << 20, threads: threads, repetitions: repetitions)
        let sgemm = Probes.sgemmThroughput(size: 1024, threads: threads, repetitions: repetitions)
        facts.append(String(format: "streaming read %.2f GB/s, sgemm 1024³ %.1f GFLOP/s (%d threads)",
                            bandwidth.bytesPerSecond / 1e9, sgemm.flopsPerSecond / 1e9, threads))
        let compute = try probeCompute(threads: threads, repetitions: repetitions, sgemm: sgemm.flopsPerSecond,
                                       bandwidth: bandwidth.bytesPerSecond, facts: &facts)
        let memory = probeMemory(threads: threads, repetitions: repetitions, bandwidth: bandwidth.bytesPerSecond, facts: &facts)
        let fixed = try probeFixedCosts(repetitions: repetitions, facts: &facts)
        let (perCycle, perDraftStep) = try probeHostCosts(repetitions: repetitions, forwardSeconds: fixed.oneLayerForward,
                                                          facts: &facts)
        let overhead = RuntimeOverhead(name: "cpu-local", perForwardSeconds: fixed.perForward, perLayerSeconds: fixed.perLayer,
                                       perCycleSeconds: perCycle, perAllReduceSeconds: 0, ngramSecondsPerContextToken: 1e-9,
                                       perDraftStepSeconds: perDraftStep)
        var hardware = Hardware(
            name: "cpu-local", memoryBytes: Double(ProcessInfo.processInfo.physicalMemory),
            memoryBytesPerSecond: bandwidth.bytesPerSecond, flopsPerSecond16: sgemm.flopsPerSecond, flopsPerSecond8: nil,
            interconnectBytesPerSecond: bandwidth.bytesPerSecond, bandwidthEfficiency: memory.efficiency,
            computeEfficiency: compute.efficiency, gemmTileRows: 1, overhead: overhead,
            source: "measured by 'speclab calibrate' on \(ProcessInfo.processInfo.hostName) with \(threads) threads at \(ISO8601DateFormatter().string(from: Date())); flopsPerSecond16 holds the float32 sgemm peak")
        var cache: CacheLevel? = nil
        if let bytes = memory.cacheBytes, let rate = memory.cacheBytesPerSecond { cache = CacheLevel(bytes: bytes, bytesPerSecond: rate) }
        hardware.cpu = CPUEffects(cache: cache, overlapPenalty: compute.overlapPenalty, blockedKernel: compute.blocked)
        return Result(hardware: hardware, facts: facts)
    }

    /// Compute efficiency and overlap penalty of whole forwards, below and above the switch to sgemm.
    static func probeCompute(threads: Int, repetitions: Int, sgemm: Double, bandwidth: Double, facts: inout [String]) throws
        -> (efficiency: Double, overlapPenalty: Double, blocked: BlockedKernel) {
        // Memory efficiency: one large product at k = 1 (the streaming rate big weights reach).
        // Compute efficiency and overlap: whole forwards of a probe transformer whose weights lie
        // beyond the last-level cache (its products, norms, attention and dispatch, as a decoder runs
        // them), of another shape than the presets being predicted — T(k) for k = 1…32 fitted with
        // max(M, k·C) + β · min(M, k·C); its own M, which also carries the fixed costs of its smaller
        // products, is reported but not used.
        let probeShape = Self.probeModel(cacheBytes: lastLevelCacheBytes())
        let probeTransformer = try Network<Float>(config: probeShape)
        probeTransformer.initialize(seed: 3)
        let probeForward = InferenceModel(network: probeTransformer)
        // The products switch kernels above `switchRows` (SkinnyProduct): the skinny kernel is fitted on
        // k = 1 … switchRows, the blocked one (sgemm) on forwards beyond it.
        let switchRows = SkinnyProduct.crossover(threads: threads)
        let ks = [1, 2, 4, 8, 16, 32].filter { $0 < switchRows } + [switchRows]
        let blockedKs = [1, 1.5, 2, 3].map { Int((Double(switchRows + 1) * $0).rounded()) }
        let probeCache = KVCache(config: probeShape, capacity: 64 + blockedKs.last!)
        _ = probeForward.prefill((0..<64).map { Int32(($0 * 29 + 3) % 256) }, cache: probeCache)
        let forwardTimes = (ks + blockedKs).map { k -> Double in
            probeForward.medianForwardSeconds([SequenceStep(tokens: (0..<k).map { Int32(($0 * 53 + 7) % 256) }, cache: probeCache)],
                                              repetitions: repetitions)
        }
        let probeParameters = Double(probeTransformer.parameterCount)
        let fit = Self.fitProduct(ks: ks, seconds: Array(forwardTimes.prefix(ks.count)))
        let computeEfficiency = min(1, 2 * probeParameters / fit.computeSecondsPerRow / sgemm)
        facts.append(String(format: "probe transformer (%.0f MB, width %d, %d layers), k = 1…%d: compute at %.2f of sgemm, overlap penalty %.2f (T = max + %.2f · min; rms log error %.3f); its memory term at %.2f of the streaming probe",
                            probeParameters * 4 / 1e6, probeShape.width, probeShape.layers, switchRows, computeEfficiency,
                            fit.overlapPenalty, fit.overlapPenalty, fit.rmsLogError,
                            probeParameters * 4 / fit.memorySeconds / bandwidth))
        // Beyond the switch every row is compute-dominated: T(k) = k·C + β·M, a line whose
        // slope gives the blocked kernel's efficiency and whose intercept, over the skinny fit's
        // memory term M, its overlap penalty.
        let blockedLine = Statistics.linearFit(x: blockedKs.map(Double.init), y: Array(forwardTimes.suffix(blockedKs.count)))
        let blocked = BlockedKernel(
            rowsAbove: Double(switchRows),
            computeEfficiency: min(1, 2 * probeParameters / max(blockedLine.slope, 1e-12) / sgemm),
            overlapPenalty: min(1, max(0, blockedLine.intercept / fit.memorySeconds)))
        facts.append(String(format: "probe transformer, k = %@ (beyond the switch to sgemm at %d rows): compute at %.2f of sgemm, overlap penalty %.2f",
                            blockedKs.map(String.init).joined(separator: ", "), switchRows + 1, blocked.computeEfficiency,
                            blocked.overlapPenalty))
        return (computeEfficiency, fit.overlapPenalty, blocked)
    }

    /// Memory efficiency (one large product at k = 1 against the streaming probe) and the last-level cache's rate.
    static func probeMemory(threads: Int, repetitions: Int, bandwidth: Double, facts: inout [String])
        -> (efficiency: Double, cacheBytes: Double?, cacheBytesPerSecond: Double?) {
        let out = 6144, inFeatures = 4096   // 100 MB of float32
        let times = Probes.productTimes(out: out, in: inFeatures, ks: [1], path: .skinny, threads: threads,
                                        repetitions: repetitions)
        let bytes = Double(out * inFeatures * 4)
        let bandwidthEfficiency = min(1, bytes / times[0].seconds / bandwidth)
        facts.append(String(format: "one skinny product on %d × %d (100 MB): k = 1 at %.2f GB/s (%.2f of the probe: the memory efficiency)",
                            out, inFeatures, bytes / times[0].seconds / 1e9, bandwidthEfficiency))
        // The last-level cache: a product whose weights fit it (an 8 MB matrix, read over and over)
        // streams them at the cache's rate, well above DRAM's; the engine uses that rate for
        // forwards whose working set fits (Hardware.streamingBytesPerSecond).
        let cacheSize = lastLevelCacheBytes()
        var cacheRate: Double? = nil
        if let cacheSize, cacheSize >= 16 * 1_048_576 {
            let cacheOut = 1024, cacheIn = 2048
            let cacheTimes = Probes.productTimes(out: cacheOut, in: cacheIn, ks: [1], path: .skinny, threads: threads,
                                                 repetitions: 4 * repetitions)
            cacheRate = Double(cacheOut * cacheIn * 4) / cacheTimes[0].seconds
            facts.append(String(format: "last-level cache %.0f MiB: a product on an 8 MB matrix in it streams at %.1f GB/s (%.1f× DRAM's %.1f)",
                                cacheSize / 1_048_576, cacheRate! / 1e9, cacheRate! / (bytes / times[0].seconds),
                                bytes / times[0].seconds / 1e9))
        }
        return (bandwidthEfficiency, cacheRate == nil ? nil : cacheSize, cacheRate)
    }

    /// Fixed costs per forward and per layer: forwards of narrow (width 64) models with 1 and 8 layers.
    static func probeFixedCosts(repetitions: Int, facts: inout [String]) throws
        -> (perForward: Double, perLayer: Double, oneLayerForward: Double) {
        func forwardSeconds(layers: Int) throws -> Double {
            let config = ModelConfig(name: "probe", width: 64, layers: layers, heads: 4, kvHeads: 4, ffnHidden: 128,
                                     contextLength: 64, tiedEmbeddings: true)
            let network = try Network<Float>(config: config)
            network.initialize(seed: 1)
            let model = InferenceModel(network: network)
            let cache = KVCache(config: config)
            _ = model.prefill([1, 2, 3, 4, 5, 6, 7, 8], cache: cache)
            return model.medianForwardSeconds([SequenceStep(tokens: [9], cache: cache)], repetitions: 4 * repetitions,
                                              warmUp: false)
        }
        let one = try forwardSeconds(layers: 1), eight = try forwardSeconds(layers: 8)
        let perLayer = max(0, (eight - one) / 7)
        let perForward = max(0, one - perLayer)
        facts.append(String(format: "fixed costs: %.1f µs per forward + %.1f µs per layer (width-64 models, 1 and 8 layers)",
                            perForward * 1e6, perLayer * 1e6))
        return (perForward, perLayer, one)
    }

    /// Host time of the decoding loop per round and of drafting per drafted token, beyond their forwards.
    static func probeHostCosts(repetitions: Int, forwardSeconds one: Double, facts: inout [String]) throws
        -> (perCycle: Double, perDraftStep: Double) {
        // Host time of one round of the decoding loop beyond its target forward:
        // plain decoding through the loop (a round per token) minus the forwards alone.
        let probe = ModelConfig(name: "probe", width: 64, layers: 1, heads: 4, kvHeads: 4, ffnHidden: 128,
                                contextLength: 256, tiedEmbeddings: true)
        let probeNetwork = try Network<Float>(config: probe)
        probeNetwork.initialize(seed: 2)
        let probeModel = InferenceModel(network: probeNetwork)
        let prompt: [Int32] = Array(1...16)
        let target = TransformerTarget(model: probeModel)
        var cycleSamples: [Double] = []
        for _ in 0..<repetitions {
            let result = SpeculativeDecoding.generate(target: target, drafter: NoDrafter(), prompt: prompt,
                                                      maxNewTokens: 200, settings: .greedy, seed: 1)
            cycleSamples.append(result.stats.seconds / Double(result.stats.rounds))
        }
        let perCycle = max(0, Statistics.median(cycleSamples) - one)
        facts.append(String(format: "decoding loop: %.1f µs of host time per round beyond its forward", perCycle * 1e6))
        // Host time per drafted token beyond the draft forward: a draft model's
        // propose (4 drafts) against its forwards alone.
        let drafter = DraftModelDrafter(model: probeModel, draftLength: 4)
        let draftCache = KVCache(config: probe)
        _ = probeModel.prefill(prompt, cache: draftCache)
        drafter.reset(prompt: prompt, first: 17)
        var proposeSamples: [Double] = []
        let rng = RandomSource(seed: 3)
        for _ in 0..<(8 * repetitions) {
            let start = DispatchTime.now().uptimeNanoseconds
            let proposal = drafter.propose(root: 17, context: prompt, settings: .greedy, rng: rng)
            proposeSamples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            drafter.update(accepted: [], extra: 17)
            _ = proposal
        }
        let perDraftStep = max(0, (Statistics.median(proposeSamples) - 4 * one) / 4)
        facts.append(String(format: "drafting: %.1f µs of host time per drafted token beyond the draft forward", perDraftStep * 1e6))
        return (perCycle, perDraftStep)
    }

    /// A width-512 transformer with enough layers that its weights are at least twice the last-level
    /// cache (at least 4 layers, 52 MB): the calibration's stand-in for a memory-bound decoder.
    public static func probeModel(cacheBytes: Double?) -> ModelConfig {
        let bytesPerLayer = 4.0 * (4 * 512 * 512 + 3 * 512 * 1408)
        let layers = max(4, Int(((cacheBytes ?? 0) * 2 / bytesPerLayer).rounded(.up)))
        return ModelConfig(name: "calibration-probe", width: 512, layers: layers, heads: 8, kvHeads: 4, ffnHidden: 1408,
                           contextLength: 128, tiedEmbeddings: false)
    }

    /// The product's times T(k) fitted with T(k) = max(M, k·C) + β · min(M, k·C): memory time M,
    /// compute time per row C and overlap penalty β ∈ [0, 1] (0 = the roofline's perfect overlap).
    /// For each β on a grid of 0.01, M and C follow from the smallest and largest k (taken as memory-
    /// and compute-dominated); the β with the least squared log error over every k wins.
    public static func fitProduct(ks: [Int], seconds: [Double])
        -> (memorySeconds: Double, computeSecondsPerRow: Double, overlapPenalty: Double, rmsLogError: Double) {
        precondition(ks.count == seconds.count && ks.count >= 2, "fitProduct: one time per k, at least two")
        let k1 = Double(ks.first!), kn = Double(ks.last!), t1 = seconds.first!, tn = seconds.last!
        var best = (memory: t1, compute: tn / kn, beta: 0.0, error: Double.infinity)
        for step in 0...100 {
            let beta = Double(step) / 100
            // t1 = M + β k1 C and tn = kn C + β M.
            let c = (tn - beta * t1) / (kn - beta * beta * k1)
            let m = t1 - beta * k1 * c
            guard c > 0, m > 0 else { continue }
            var error = 0.0
            for (k, t) in zip(ks, seconds) {
                let compute = Double(k) * c
                let predicted = max(m, compute) + beta * min(m, compute)
                error += pow(Foundation.log(predicted / t), 2)
            }
            if error < best.error { best = (m, c, beta, error) }
        }
        return (best.memory, best.compute, best.beta, (best.error / Double(ks.count)).squareRoot())
    }

    /// The last-level (L3, else L2) cache size of CPU 0 from sysfs, nil where it is not exposed.
    public static func lastLevelCacheBytes() -> Double? {
        for index in [3, 2] {
            let path = "/sys/devices/system/cpu/cpu0/cache/index\(index)/size"
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            let units: [Character: Double] = ["K": 1024, "M": 1_048_576, "G": 1_073_741_824]
            if let unit = trimmed.last, let scale = units[unit], let value = Double(trimmed.dropLast()) { return value * scale }
            if let value = Double(trimmed) { return value }
        }
        return nil
    }

    /// Writes a hardware or model JSON file atomically (temp file + rename).
    public static func write<T: Encodable>(_ value: T, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(value), to: url)
    }
}
