import Foundation
import Testing
@testable import Analytic

/// The roofline cost of one forward (StepCost.swift), with `RuntimeOverhead.ideal`
/// unless a test is about overheads, so that only bytes and FLOPs count.
@Suite("Roofline step cost")
struct StepCostTests {
    static func llama8b() throws -> ForwardWorkload { ForwardWorkload.target(try model("llama-3.1-8b")) }
    static func h100(overhead: RuntimeOverhead = .ideal, devices: Int = 1) throws -> ExecutionContext {
        ExecutionContext(hardware: try hardware("h100-sxm"), overhead: overhead, devices: devices)
    }

    // Hand constants (REFERENCES.md §1.1, §1.2, §2.2).
    static let streamedParams8b = 7.505e9          // Llama-3.1-8B, rounded to 4 digits
    static let h100Bandwidth = 3.35e12 * 0.8       // bytes/s: peak × achievable fraction
    static let h100Compute = 989e12 * 0.75         // FLOP/s: dense BF16 × default compute efficiency
    static let kvBytesPerToken8b = 128.0 * 1024    // 2 · 32 layers · 8 kv heads · 128 · 2 bytes

    @Test("batch 1, context 0: T(1) ≈ streamed bytes / (3.35e12 × 0.8), memory-bound")
    func singleTokenHand() throws {
        let cost = Roofline.stepCost(try Self.llama8b(), tokensPerSequence: 1, batch: 1, contextTokens: 0,
                                     context: try Self.h100())
        // 7.505e9 × 2 B / 2.68e12 B/s = 5.6007 ms.
        let hand = Self.streamedParams8b * 2 / Self.h100Bandwidth
        // Tolerance 0.5%: 7.505e9 is rounded to 4 digits (0.007%) and one token of KV
        // (128 KiB, 0.001% of the weights) is left out of the hand value.
        #expect(isClose(cost.seconds, hand, relative: 0.005), "\(cost.seconds) s vs hand \(hand) s")
        #expect(cost.bound == .memory)
        #expect(cost.computeBoundSeconds == 0)
        #expect(cost.overheadSeconds == 0 && cost.communicationSeconds == 0)
        // Weight bytes = streamed parameters × 2 (tolerance 0.01%: 4-digit rounding of 7.505e9).
        #expect(isClose(cost.weightBytes, Self.streamedParams8b * 2, relative: 1e-4))
        // FLOPs ≈ 2 per streamed parameter for one token (attention over 1 token adds 32 × 16384 = 5.2e5).
        #expect(isClose(cost.flops, 2 * Self.streamedParams8b, relative: 1e-4))
    }

    @Test("memory-bound plateau: T(k)/T(1) stays flat for k = 1…16 at batch 1")
    func plateau() throws {
        let workload = try Self.llama8b(), context = try Self.h100()
        let t1 = Roofline.stepCost(workload, tokensPerSequence: 1, batch: 1, contextTokens: 0, context: context).seconds
        for k in 1...16 {
            let cost = Roofline.stepCost(workload, tokensPerSequence: Double(k), batch: 1, contextTokens: 0, context: context)
            // Tolerance 1%: on Hopper the GEMM tile is 64 rows, so k ≤ 16 pads to the same
            // compute (1.3 ms < 5.6 ms of weight streaming); only the KV write grows,
            // by k × 128 KiB (≤ 2 MiB, < 0.02% of 15 GB).
            #expect(cost.seconds / t1 >= 1 && cost.seconds / t1 <= 1.01, "k = \(k): ratio \(cost.seconds / t1)")
            #expect(cost.bound == .memory, "k = \(k)")
        }
    }

    @Test("past the knee: doubling the rows doubles the time (compute-bound)")
    func linearPastKnee() throws {
        let workload = try Self.llama8b(), context = try Self.h100()
        // Rows via batch (one token per sequence, context 0): dense compute 2·P·rows
        // dominates; at 4096 rows it is 2·7.505e9·4096/7.4175e14 = 82.9 ms vs 5.6 ms of weights.
        let t4096 = Roofline.stepCost(workload, tokensPerSequence: 1, batch: 4096, contextTokens: 0, context: context)
        let t8192 = Roofline.stepCost(workload, tokensPerSequence: 1, batch: 8192, contextTokens: 0, context: context)
        #expect(t4096.bound == .compute && t8192.bound == .compute)
        // Tolerance 1%: 4096 and 8192 are whole tiles, so the dense term doubles exactly; the
        // attention group (each sequence's own 1-token cache, 0.2 ms, memory-bound) doubles too;
        // 1% leaves room for rounding only.
        #expect(isClose(t8192.seconds / t4096.seconds, 2, relative: 0.01), "ratio \(t8192.seconds / t4096.seconds)")
        // Hand value at 4096 rows: 2·P·4096 / (989e12·0.75) + 4096 × 128 KiB / 2.68e12.
        let hand = 2 * Self.streamedParams8b * 4096 / Self.h100Compute + 4096 * Self.kvBytesPerToken8b / Self.h100Bandwidth
        // Tolerance 0.1%: the 4-digit rounding of P and 4096 attention FLOPs per layer-row left out.
        #expect(isClose(t4096.seconds, hand, relative: 0.001), "\(t4096.seconds) vs \(hand)")
    }

    @Test("many tokens of one sequence: linear weights plus quadratic causal attention")
    func longChunkOfOneSequence() throws {
        let workload = try Self.llama8b(), context = try Self.h100()
        // k new tokens at context 0: dense 2·P·k FLOPs plus attention
        // 32 layers × 4·H·hd (= 16384) × k × (k + 1)/2 FLOPs; both compute-bound.
        func hand(_ k: Double) -> Double {
            (2 * Self.streamedParams8b * k + 32 * 16384 * k * (k + 1) / 2) / Self.h100Compute
        }
        let t4096 = Roofline.stepCost(workload, tokensPerSequence: 4096, batch: 1, contextTokens: 0, context: context)
        let t8192 = Roofline.stepCost(workload, tokensPerSequence: 8192, batch: 1, contextTokens: 0, context: context)
        #expect(t4096.bound == .compute && t8192.bound == .compute)
        // Tolerance 0.1%: rounding of P; k is a multiple of the 64-row tile, so no padding.
        #expect(isClose(t4096.seconds, hand(4096), relative: 0.001), "\(t4096.seconds) vs \(hand(4096))")
        #expect(isClose(t8192.seconds, hand(8192), relative: 0.001), "\(t8192.seconds) vs \(hand(8192))")
        // So the ratio is a bit above 2 (hand: 189.5 ms / 88.8 ms = 2.13), not exactly 2.
        let ratio = t8192.seconds / t4096.seconds
        #expect(ratio > 2 && ratio < 2.2, "ratio \(ratio)")
    }

    @Test("GEMM tile: fewer rows than one tile cost a full tile; above it compute is linear in rows")
    func tilePadding() throws {
        let workload = try Self.llama8b()
        // Make everything compute-bound by a huge bandwidth, so only charged FLOPs count.
        var fast = try hardware("h100-sxm")
        fast.memoryBytesPerSecond = 1e30
        let context = ExecutionContext(hardware: fast, overhead: .ideal)
        func seconds(_ k: Double) -> Double {
            Roofline.stepCost(workload, tokensPerSequence: k, batch: 1, contextTokens: 0, context: context).seconds
        }
        // 1 row and 64 rows: one 64-row tile of dense compute each; attention (unpadded) is
        // ≈ 0.1% of the dense time here, tolerance 1%.
        #expect(isClose(seconds(1) / seconds(64), 1, relative: 0.01), "ratio \(seconds(1) / seconds(64))")
        // Above one tile: 65 rows cost 65/64 of 64 rows (no cliff at the tile boundary); 1%.
        #expect(isClose(seconds(65) / seconds(64), 65.0 / 64.0, relative: 0.01), "ratio \(seconds(65) / seconds(64))")
        // The reported FLOPs are never padded (tolerance 0.1%: attention shifts the ratio by 0.055%).
        let flops = { (k: Double) in Roofline.stepCost(workload, tokensPerSequence: k, batch: 1, contextTokens: 0, context: context).flops }
        #expect(isClose(flops(65) / flops(64), 65.0 / 64.0, relative: 0.001))
    }

    @Test("KV cache: batch 64 × context 8192 × 128 KiB (+ the new token)")
    func kvCacheBytes() throws {
        let cost = Roofline.stepCost(try Self.llama8b(), tokensPerSequence: 1, batch: 64, contextTokens: 8192,
                                     context: try Self.h100())
        let contextOnly = 64 * 8192 * Self.kvBytesPerToken8b
        // Within one token's worth per sequence (the new token's K/V is written too).
        #expect(cost.kvCacheBytes >= contextOnly && cost.kvCacheBytes <= contextOnly + 64 * Self.kvBytesPerToken8b)
        // Exactly, by hand: 64 × 8193 × 131072 B (integers, exact in Double).
        #expect(cost.kvCacheBytes == 64 * 8193 * 131_072)
    }

    @Test("GQA vs MHA: Vicuna-7B (32 kv heads) reads 4× the KV bytes of Llama-3.1-8B (8 kv heads)")
    func gqaVersusMHA() throws {
        let context = try Self.h100()
        let vicuna = Roofline.stepCost(ForwardWorkload.target(try model("vicuna-7b")), tokensPerSequence: 1, batch: 8,
                                       contextTokens: 2048, context: context)
        let llama = Roofline.stepCost(try Self.llama8b(), tokensPerSequence: 1, batch: 8, contextTokens: 2048, context: context)
        // Same layers (32) and head dim (128): the ratio is exactly 32/8.
        #expect(vicuna.kvCacheBytes == 4 * llama.kvCacheBytes)
        // 512 KiB per token by hand: 8 × 2049 × 524288.
        #expect(vicuna.kvCacheBytes == 8 * 2049 * 524_288)
    }

    @Test("runtime overhead: compiled adds perForward + 32 × perLayer")
    func compiledOverhead() throws {
        let workload = try Self.llama8b()
        let ideal = Roofline.stepCost(workload, tokensPerSequence: 1, batch: 1, contextTokens: 512, context: try Self.h100())
        let compiled = Roofline.stepCost(workload, tokensPerSequence: 1, batch: 1, contextTokens: 512,
                                         context: try Self.h100(overhead: .compiled))
        // 30 µs + 32 × 24 µs = 798 µs (the compiled profile's constants).
        // Tolerance 1e-15 s: a sum of a few microsecond-sized doubles.
        #expect(isClose(compiled.overheadSeconds, 30e-6 + 32 * 24e-6, absolute: 1e-15))
        #expect(isClose(compiled.overheadSeconds, 798e-6, absolute: 1e-15))
        #expect(isClose(compiled.seconds - ideal.seconds, 798e-6, absolute: 1e-15))
        // The roofline part is unchanged.
        #expect(compiled.memoryBoundSeconds == ideal.memoryBoundSeconds)
        // The hardware preset's own default runtime is the compiled one.
        #expect(ExecutionContext(hardware: try hardware("h100-sxm")).overhead == .compiled)
    }

    @Test("host time overlapping the device: a forward costs max(host, device), not the sum")
    func overlappedHostTime() throws {
        let workload = try Self.llama8b()
        let ideal = Roofline.stepCost(workload, tokensPerSequence: 1, batch: 1, contextTokens: 512, context: try Self.h100())
        let device = ideal.seconds   // ≈ 5.6 ms of weight streaming on one H100
        func profile(perLayer: Double) -> RuntimeOverhead {
            RuntimeOverhead(name: "async", perForwardSeconds: 0.1e-3, perLayerSeconds: perLayer, perCycleSeconds: 0,
                            perAllReduceSeconds: 0, ngramSecondsPerContextToken: 0, hostOverlapsDevice: true)
        }
        // Launch-bound: 0.1 ms + 32 × 0.5 ms = 16.1 ms of host time hides the device's ~5.6 ms.
        let launchBound = Roofline.stepCost(workload, tokensPerSequence: 1, batch: 1, contextTokens: 512,
                                            context: try Self.h100(overhead: profile(perLayer: 0.5e-3)))
        #expect(isClose(launchBound.seconds, 0.1e-3 + 32 * 0.5e-3, absolute: 1e-15))
        #expect(isClose(launchBound.overheadSeconds, 16.1e-3 - device, absolute: 1e-15))
        #expect(launchBound.bound == .overhead)
        // Device-bound: 0.1 ms + 32 × 0.1 ms = 3.3 ms of host time is hidden entirely.
        let deviceBound = Roofline.stepCost(workload, tokensPerSequence: 1, batch: 1, contextTokens: 512,
                                            context: try Self.h100(overhead: profile(perLayer: 0.1e-3)))
        #expect(deviceBound.seconds == device)
        #expect(deviceBound.overheadSeconds == 0)
        // The same constants added (the default) cost the sum.
        var added = profile(perLayer: 0.1e-3)
        added.hostOverlapsDevice = false
        let sum = Roofline.stepCost(workload, tokensPerSequence: 1, batch: 1, contextTokens: 512,
                                    context: try Self.h100(overhead: added))
        #expect(isClose(sum.seconds, device + 3.3e-3, relative: 1e-12))
        // A runtime file without the field adds (the default), with it overlaps.
        let json = #"{"name": "r", "perForwardSeconds": 0, "perLayerSeconds": 1e-3, "perCycleSeconds": 0, "perAllReduceSeconds": 0, "ngramSecondsPerContextToken": 0}"#
        #expect(try JSONDecoder().decode(RuntimeOverhead.self, from: Data(json.utf8)).hostOverlapsDevice == false)
        let roundTrip = try JSONDecoder().decode(RuntimeOverhead.self, from: JSONEncoder().encode(RuntimeOverhead.eagerAsync))
        #expect(roundTrip == .eagerAsync)
    }

    @Test("tensor parallel on 2 devices halves weight bytes per device and adds communication")
    func tensorParallel() throws {
        let workload = try Self.llama8b()
        let one = Roofline.stepCost(workload, tokensPerSequence: 1, batch: 1, contextTokens: 1024, context: try Self.h100())
        let two = Roofline.stepCost(workload, tokensPerSequence: 1, batch: 1, contextTokens: 1024,
                                    context: try Self.h100(devices: 2))
        #expect(two.weightBytes == one.weightBytes / 2)
        #expect(two.kvCacheBytes == one.kvCacheBytes / 2)
        #expect(one.communicationSeconds == 0)
        #expect(two.communicationSeconds > 0)
        // Ideal overhead: 2 all-reduces per layer × 32 layers, each ring all-reduce moves
        // 2(N−1)/N × rows·d·2 B = 1 × 4096 × 2 B = 8192 B at 450 GB/s.
        // Tolerance 1e-12 relative: a product of exact constants.
        #expect(isClose(two.communicationSeconds, 2 * 32 * 8192 / 450e9, relative: 1e-12))
        // With the compiled runtime each all-reduce also pays 10 µs: + 64 × 10 µs.
        let compiled = Roofline.stepCost(workload, tokensPerSequence: 1, batch: 1, contextTokens: 1024,
                                         context: try Self.h100(overhead: .compiled, devices: 2))
        #expect(isClose(compiled.communicationSeconds, 2 * 32 * (8192 / 450e9 + 10e-6), relative: 1e-12))
    }

    @Test("zero tokens or zero batch cost nothing")
    func emptyForward() throws {
        let workload = try Self.llama8b(), context = try Self.h100(overhead: .compiled)
        #expect(Roofline.stepCost(workload, tokensPerSequence: 0, batch: 1, contextTokens: 0, context: context) == .zero)
        #expect(Roofline.stepCost(workload, tokensPerSequence: 1, batch: 0, contextTokens: 0, context: context) == .zero)
    }
}

/// MoE expert occupancy (`MoE.expectedDistinctExperts`) and its step-cost tax.
@Suite("MoE distinct experts")
struct MoETests {
    /// Mean and standard error of the distinct experts touched when `tokens`
    /// tokens each pick `active` distinct experts of `experts` uniformly.
    static func monteCarlo(experts: Int, active: Int, tokens: Int, trials: Int, seed: UInt64) -> (mean: Double, standardError: Double) {
        var rng = SplitMix64(seed: seed)
        var sum = 0.0, sumSquares = 0.0
        let words = (experts + 63) / 64
        var union = [UInt64](repeating: 0, count: words)
        var mine = [UInt64](repeating: 0, count: words)
        for _ in 0..<trials {
            for w in 0..<words { union[w] = 0 }
            for _ in 0..<tokens {
                for w in 0..<words { mine[w] = 0 }
                var chosen = 0
                while chosen < active {     // k distinct experts: redraw duplicates
                    let e = Int(rng.next(upperBound: UInt64(experts)))
                    let bit = UInt64(1) << UInt64(e % 64)
                    if mine[e / 64] & bit != 0 { continue }
                    mine[e / 64] |= bit
                    union[e / 64] |= bit
                    chosen += 1
                }
            }
            let distinct = Double(union.reduce(0) { $0 + $1.nonzeroBitCount })
            sum += distinct
            sumSquares += distinct * distinct
        }
        let n = Double(trials)
        let mean = sum / n
        let variance = max(0, (sumSquares - n * mean * mean) / (n - 1))
        return (mean, (variance / n).squareRoot())
    }

    @Test("occupancy expectation matches a seeded Monte-Carlo draw (within 4 standard errors)", arguments: [
        (8, 2, 1), (8, 2, 2), (8, 2, 4), (256, 8, 1), (256, 8, 4), (256, 8, 32),
    ])
    func matchesMonteCarlo(experts: Int, active: Int, tokens: Int) {
        let analytic = MoE.expectedDistinctExperts(experts: Double(experts), active: Double(active), tokens: Double(tokens))
        let mc = Self.monteCarlo(experts: experts, active: active, tokens: tokens, trials: 20_000,
                                 seed: 0x5EED_0000 + UInt64(experts * 1000 + tokens))
        // 4 standard errors: a false alarm has probability ≈ 6e-5 per case; at n = 1 the
        // draw is exactly k every time (standard error 0), so allow 1e-12 for rounding.
        #expect(abs(analytic - mc.mean) <= max(4 * mc.standardError, 1e-12),
                "E=\(experts) k=\(active) n=\(tokens): analytic \(analytic), MC \(mc.mean) ± \(mc.standardError)")
    }

    @Test("hand values: n = 1 gives exactly k; Mixtral 2 → 3.5, 4 → 5.46875; DeepSeek 4 → 30.531")
    func handValues() {
        #expect(MoE.expectedDistinctExperts(experts: 8, active: 2, tokens: 1) == 2)
        #expect(MoE.expectedDistinctExperts(experts: 256, active: 8, tokens: 1) == 8)
        // 8(1 − 0.75²) = 3.5; 8(1 − 0.75⁴) = 8 × 0.68359375 (dyadic, exact up to pow's rounding).
        // Tolerance 1e-12: pow of a dyadic base.
        #expect(isClose(MoE.expectedDistinctExperts(experts: 8, active: 2, tokens: 2), 3.5, absolute: 1e-12))
        #expect(isClose(MoE.expectedDistinctExperts(experts: 8, active: 2, tokens: 4), 5.46875, absolute: 1e-12))
        // 256(1 − (31/32)⁴) = 256 − 923521/4096 = 256 − 225.468994140625 = 30.531005859375 (dyadic).
        #expect(isClose(MoE.expectedDistinctExperts(experts: 256, active: 8, tokens: 4), 30.531005859375, absolute: 1e-12))
        // Saturation and degenerate inputs.
        #expect(MoE.expectedDistinctExperts(experts: 8, active: 8, tokens: 3) == 8)
        #expect(MoE.expectedDistinctExperts(experts: 8, active: 2, tokens: 0) == 0)
        #expect(MoE.expectedDistinctExperts(experts: 8, active: 2, tokens: 1e6) <= 8)
    }

    @Test("MoE tax: Mixtral-8x7B on 2 × H100 reads more expert weights at k = 4 than at k = 1")
    func mixtralTax() throws {
        let workload = ForwardWorkload.target(try model("mixtral-8x7b"))
        let context = ExecutionContext(hardware: try hardware("h100-sxm"), overhead: .ideal, devices: 2)
        let k1 = Roofline.stepCost(workload, tokensPerSequence: 1, batch: 1, contextTokens: 1024, context: context)
        let k4 = Roofline.stepCost(workload, tokensPerSequence: 4, batch: 1, contextTokens: 1024, context: context)
        #expect(k4.weightBytes > k1.weightBytes)
        // By hand, bytes per device (BF16 over 2 devices = 1 byte per parameter):
        //   dense = attention 32 × 41,943,040 + routers 32 × 4096 × 8 + head 32000 × 4096 = 1,474,297,856;
        //   one expert = 3 × 4096 × 14336 = 176,160,768; 32 MoE layers;
        //   k = 1: 2 experts → 32 × 2 × 176,160,768 = 11,274,289,152;
        //   k = 4: 8(1 − 0.75⁴) = 5.46875 experts → 175 × 176,160,768 = 30,828,134,400.
        // Tolerance 1e-12 relative: pow rounding in the occupancy.
        #expect(isClose(k1.weightBytes, 1_474_297_856 + 11_274_289_152, relative: 1e-12))
        #expect(isClose(k4.weightBytes, 1_474_297_856 + 30_828_134_400, relative: 1e-12))
        // The verify forward over 4 tokens therefore costs clearly more than one token
        // (a dense model stays within 1%: see the plateau test). Both are memory-bound.
        #expect(k4.seconds > 2 * k1.seconds)
        #expect(k1.bound == .memory && k4.bound == .memory)
    }
}

@Suite("A CPU's last-level cache in the roofline")
struct CacheTierTests {
    /// A CPU-like machine: 30 GB/s DRAM at 0.8 efficiency, a 32 MiB cache read at 90 GB/s, 100 GFLOP/s.
    static func cpu() -> Hardware {
        var hardware = Hardware(name: "cpu-test", memoryBytes: 24e9, memoryBytesPerSecond: 30e9, flopsPerSecond16: 100e9,
                                flopsPerSecond8: nil, interconnectBytesPerSecond: 30e9, bandwidthEfficiency: 0.8,
                                computeEfficiency: 0.5, gemmTileRows: 1, overhead: .ideal, source: "test")
        hardware.cpu = CPUEffects(cache: CacheLevel(bytes: 32 * 1_048_576, bytesPerSecond: 90e9))
        return hardware
    }

    @Test("weights and cache that fit stream at the cache's rate; beyond it at DRAM's, efficiency applied")
    func regimes() throws {
        let hardware = Self.cpu()
        let context = ExecutionContext(hardware: hardware, weightType: .fp32, kvBytesPerValue: 4)
        let rates: [(parameters: Double, bytesPerSecond: Double)] = [(2e6, 90e9), (20e6, 30e9 * 0.8)]
        for (parameters, rate) in rates {
            // Weights only (no KV cache): 8 MB fit the 32 MiB cache, 80 MB do not.
            let workload = ForwardWorkload(name: "dense", denseParameters: parameters, attentionLayers: 0, kvValuesPerTokenPerLayer: 0,
                                           attentionFlopsPerQueryPerContextToken: 0, layers: 1, hidden: 256, bytesPerWeight: 4)
            let cost = Roofline.stepCost(workload, tokensPerSequence: 1, batch: 1, contextTokens: 0, context: context)
            let expected: Double = parameters * 4 / rate
            #expect(abs(cost.memoryBoundSeconds - expected) <= 1e-9 * expected, "\(parameters) parameters")
        }
        // Without cache fields (every GPU preset) nothing changes.
        #expect(Hardware.presets.allSatisfy { $0.cpu == nil })
    }

    @Test("a hardware file keeps the CPU's effects; files with the older flat keys load the same; one cache key alone is refused")
    func fileRoundTrip() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cpu-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try JSONEncoder().encode(Self.cpu()).write(to: url)
        let loaded = try Hardware.load(fromFile: url.path)
        #expect(loaded.cpu?.cache == CacheLevel(bytes: 32 * 1_048_576, bytesPerSecond: 90e9))
        // The flat form calibrations wrote before the CPU's effects had their own object.
        let flat = """
        {"name": "cpu-flat", "memoryBytes": 24e9, "memoryBytesPerSecond": 30e9, "flopsPerSecond16": 100e9,
         "cacheBytes": 33554432, "cacheBytesPerSecond": 90e9, "overlapPenalty": 0.25}
        """
        try flat.write(to: url, atomically: true, encoding: .utf8)
        let old = try Hardware.load(fromFile: url.path)
        #expect(old.cpu == CPUEffects(cache: CacheLevel(bytes: 33_554_432, bytesPerSecond: 90e9), overlapPenalty: 0.25))
        try flat.replacingOccurrences(of: "\"cacheBytesPerSecond\": 90e9, ", with: "").write(to: url, atomically: true, encoding: .utf8)
        #expect(throws: AnalyticError.self) { try Hardware.load(fromFile: url.path) }
    }
}
