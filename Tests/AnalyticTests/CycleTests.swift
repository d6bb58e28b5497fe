import Foundation
import Testing
@testable import Analytic

/// The speculation cycle (`Predictor(config).predict()`, Cycle.swift).
@Suite("Speculation cycle")
struct CycleTests {
    /// Llama-3.1-8B target on one H100 SXM with the hardware's default (compiled) runtime.
    static func config(method: DraftMethod, draftLength: Int = 4, alpha: Double = 0.8, batch: Int = 1,
                       contextTokens: Int = 1024) throws -> PredictionConfig {
        PredictionConfig(hardware: try hardware("h100-sxm"), model: try model("llama-3.1-8b"), method: method,
                         draftModel: method == .sd ? try model("llama-3.2-1b") : nil, draftLength: draftLength,
                         batch: batch, contextTokens: contextTokens, acceptance: .iid(alpha: alpha))
    }

    @Test("ntp: τ = 1, speedup = 1, cycle = one target step")
    func ntp() throws {
        let p = try Predictor(try Self.config(method: .ntp, draftLength: 0)).predict()
        #expect(p.tau == 1)
        #expect(p.speedup == 1)
        #expect(p.cycleSeconds == p.targetStepSeconds)
        #expect(p.draftSecondsPerCycle == 0 && p.c == 0)
        #expect(p.verifyTokensPerSequence == 1)
        // Tokens per second = batch / step time.
        #expect(p.tokensPerSecond == 1 / p.targetStepSeconds)
        // Batch 1, context 1024 on an H100: a memory-bound step of roughly
        // 15 GB / 2.68 TB/s = 5.6 ms plus 0.8 ms of compiled-runtime overhead.
        // Tolerance 5%: the KV read (1025 × 128 KiB = 134 MB, 0.05 ms) is not in the hand value.
        #expect(isClose(p.targetStepSeconds, 7.505e9 * 2 / 2.68e12 + 798e-6, relative: 0.05), "\(p.targetStepSeconds)")
        #expect(p.bound == .memory)
    }

    @Test("sd (8B target, 1B draft): speedup = τ · T_target / T_cycle and c = T_draft / T_target")
    func sdBookkeeping() throws {
        let p = try Predictor(try Self.config(method: .sd, draftLength: 4, alpha: 0.8)).predict()
        // τ by hand: 1 + .8 + .64 + .512 + .4096 = 3.3616 (tolerance 1e-12: decimal sums).
        #expect(isClose(p.tau, 3.3616, absolute: 1e-12))
        #expect(p.verifyTokensPerSequence == 5)
        // Recompute from the returned fields (tolerance 1e-12 relative: the same few operations).
        #expect(isClose(p.speedup, p.tau * p.targetStepSeconds / p.cycleSeconds, relative: 1e-12))
        #expect(isClose(p.cycleSeconds, p.draftSecondsPerCycle + p.verifySeconds + p.hostSecondsPerCycle, relative: 1e-12))
        #expect(isClose(p.draftSecondsPerCycle, 4 * p.draftStepSeconds, relative: 1e-12))
        #expect(isClose(p.c, p.draftStepSeconds / p.targetStepSeconds, relative: 1e-12))
        #expect(isClose(p.tokensPerSecond, p.tau / p.cycleSeconds, relative: 1e-12))
        // Host cost per cycle is the compiled runtime's 30 µs.
        #expect(p.hostSecondsPerCycle == 30e-6)
        // Plausibility: the 1B draft streams ~2.5 GB vs ~16 GB, plus per-layer overhead
        // on 16 vs 32 layers, so c lies between the byte ratio (0.16) and 0.3.
        #expect(p.c > 0.16 && p.c < 0.3, "c = \(p.c)")
        // Verifying 5 tokens at batch 1 is almost free: within 2% of one target step
        // (memory-bound plateau; the KV write of 4 more tokens is 0.5 MB).
        #expect(p.verifySeconds >= p.targetStepSeconds && p.verifySeconds <= 1.02 * p.targetStepSeconds)
        #expect(p.speedup > 1)
        // Against Leviathan's form τ/(γc + 1), the cycle differs only by the verify
        // growth and the host cost: speedup ≤ τ/(γc + 1).
        #expect(p.speedup <= Leviathan.walltimeImprovement(alpha: 0.8, gamma: 4, c: p.c))
    }

    @Test("α = 1 gives τ = γ + 1 exactly; α = 0 gives τ = 1 and a slowdown", arguments: [1, 3, 8])
    func acceptanceLimits(gamma: Int) throws {
        let perfect = try Predictor(try Self.config(method: .sd, draftLength: gamma, alpha: 1)).predict()
        #expect(perfect.tau == Double(gamma + 1))
        let hopeless = try Predictor(try Self.config(method: .sd, draftLength: gamma, alpha: 0)).predict()
        #expect(hopeless.tau == 1)
        #expect(hopeless.speedup < 1)
        #expect(!perfect.speedup.isNaN && !hopeless.speedup.isNaN)
        // Same config, same cost: the speedups differ exactly by the τ ratio.
        #expect(isClose(perfect.speedup / hopeless.speedup, Double(gamma + 1), relative: 1e-12))
    }

    @Test("batch effect: EAGLE-3 (γ 4, α 0.8) speedup falls as the batch grows")
    func batchEffect() throws {
        // Context 256 so that batch 512 fits on 80 GiB (KV 512 × 261 × 128 KiB ≈ 17.5 GB).
        let predictor = try Predictor(try Self.config(method: .eagle3, draftLength: 4, alpha: 0.8, contextTokens: 256))
        let batches = [1, 64, 512]
        let speedups = try batches.map { try predictor.predict(batch: $0).speedup }
        #expect(speedups[0] > speedups[1], "\(zip(batches, speedups).map { "\($0): \($1)" })")
        #expect(speedups[1] > speedups[2], "\(zip(batches, speedups).map { "\($0): \($1)" })")
        #expect(speedups[0] > 1)
        // At batch 512 the 5-token verify is past the ridge: compute-bound.
        #expect(try predictor.predict(batch: 512).bound == .compute)
    }

    @Test("crossover batch for sd (8B/1B, α 0.7): best γ loses at the batch, pays at batch − 1")
    func crossover() throws {
        // Context 128 keeps every batch up to the crossover inside 80 GiB.
        let predictor = try Predictor(try Self.config(method: .sd, draftLength: 4, alpha: 0.7, contextTokens: 128))
        let batch = try #require(try predictor.crossoverBatch())
        #expect(batch > 1)
        let at = try predictor.bestDraftLength(batch: batch)
        let before = try predictor.bestDraftLength(batch: batch - 1)
        #expect(at.prediction.speedup < 1, "batch \(batch): best γ \(at.draftLength), speedup \(at.prediction.speedup)")
        #expect(before.prediction.speedup >= 1, "batch \(batch - 1): best γ \(before.draftLength), speedup \(before.prediction.speedup)")
        // bestDraftLength really is the best: no γ in 1…16 beats it at batch − 1.
        for gamma in 1...16 {
            #expect(try predictor.predict(draftLength: gamma, batch: batch - 1).speedup <= before.prediction.speedup)
        }
    }

    @Test("crossover edge cases: α = 0 loses at batch 1; α = 1 still pays at batch 8")
    func crossoverEdges() throws {
        let hopeless = try Predictor(try Self.config(method: .sd, alpha: 0, contextTokens: 128))
        #expect(try hopeless.crossoverBatch() == 1)
        let perfect = try Predictor(try Self.config(method: .sd, alpha: 1, contextTokens: 128))
        #expect(try perfect.crossoverBatch(maxBatch: 8) == nil)
    }

    @Test("bestDraftLength stops where per-position rates run out")
    func bestDraftLengthPerPosition() throws {
        var config = try Self.config(method: .sd, draftLength: 2)
        config.acceptance = .perPosition(alphas: [0.95, 0.95, 0.95])
        let best = try Predictor(config).bestDraftLength(batch: 1, maxDraftLength: 16)
        // With 3 rates only γ ≤ 3 can be priced; at batch 1, α 0.95 and c ≈ 0.2 longer is better.
        #expect(best.draftLength == 3)
        // τ by hand: 1 + .95 + .9025 + .857375 = 3.709875 (tolerance 1e-12: decimal products).
        #expect(isClose(best.prediction.tau, 3.709875, absolute: 1e-12))
    }

    @Test("best draft length shrinks with the batch (sd, α 0.8)")
    func bestDraftLengthShrinks() throws {
        let predictor = try Predictor(try Self.config(method: .sd, draftLength: 4, alpha: 0.8, contextTokens: 256))
        let small = try predictor.bestDraftLength(batch: 1)
        let large = try predictor.bestDraftLength(batch: 256)
        #expect(small.draftLength > large.draftLength, "batch 1: γ \(small.draftLength); batch 256: γ \(large.draftLength)")
        // The chosen prediction is the one at that γ.
        #expect(small.prediction == (try predictor.predict(draftLength: small.draftLength, batch: 1)))
    }

    @Test("predict overrides equal a freshly built config")
    func overridesMatchFreshConfig() throws {
        let base = try Predictor(try Self.config(method: .sd, draftLength: 4, alpha: 0.8))
        let viaOverride = try base.predict(draftLength: 6, batch: 8, contextTokens: 2048, acceptance: .iid(alpha: 0.6))
        let fresh = try Predictor(try Self.config(method: .sd, draftLength: 6, alpha: 0.6, batch: 8, contextTokens: 2048)).predict()
        #expect(viaOverride == fresh)
        // Cycle.predict is the one-shot form.
        #expect(try Cycle.predict(try Self.config(method: .sd, draftLength: 6, alpha: 0.6, batch: 8, contextTokens: 2048)) == fresh)
    }

    @Test("memory in use: weights + KV of target and draft, per device")
    func memoryAccounting() throws {
        let p = try Predictor(try Self.config(method: .ntp, draftLength: 0, batch: 4, contextTokens: 1000)).predict()
        // 8,030,261,248 params × 2 B + 4 × (1000 + 1) × 131072 B (hand; exact integers).
        #expect(p.memoryBytesPerDevice == 8_030_261_248 * 2 + 4 * 1001 * 131_072)
    }

    @Test("medusa heads: drafts ride inside the verify forward (no drafter step, c = 0)")
    func medusaHeads() throws {
        let p = try Predictor(try Self.config(method: .medusa, draftLength: 3, alpha: 0.7)).predict()
        #expect(p.draftStepSeconds == 0 && p.draftSecondsPerCycle == 0)
        #expect(p.c == 0)
        #expect(p.verifySeconds > p.targetStepSeconds)   // the heads' weights are streamed too
        // τ by hand: 1 + .7 + .49 + .343 = 2.533 (tolerance 1e-12: decimal sums).
        #expect(isClose(p.tau, 2.533, absolute: 1e-12))
    }
}

@Suite("Serving-stack cycle components")
struct StackComponentTests {
    static func config(_ stack: RuntimeOverhead, method: DraftMethod = .eagle3, batch: Int = 16) throws -> PredictionConfig {
        var config = PredictionConfig(hardware: try Hardware.preset(named: "h100-sxm"), overhead: stack,
                                      model: try ModelShape.preset(named: "llama-3.1-8b"), method: method,
                                      draftLength: 4, batch: batch, contextTokens: 4096, acceptance: .iid(alpha: 0.8))
        config.hardware.overhead = stack
        return config
    }

    @Test("the scheduler adds to a step where the stack runs it in turn and hides behind the device where it overlaps; the parts sum to the cycle")
    func schedulerOverlap() throws {
        var stack = RuntimeOverhead.ideal
        stack.schedulerSecondsPerSequence = 10e-6
        let plainDevice = try Predictor(Self.config(stack, method: .ntp)).predict().targetStepSeconds
        let sequential = try Predictor(Self.config(stack, method: .ntp)).predict()
        #expect(abs(sequential.plainStepSeconds - (plainDevice + 16 * 10e-6)) < 1e-12)
        stack.schedulerOverlapsPlainDecoding = true
        let overlapped = try Predictor(Self.config(stack, method: .ntp)).predict()
        #expect(overlapped.plainStepSeconds == plainDevice, "160 µs of scheduling hides behind a \(plainDevice) s step")
        // Speculation with the overlap switched off (SGLang with EAGLE): the cycle pays the whole scheduler.
        let speculative = try Predictor(Self.config(stack)).predict()
        #expect(abs(speculative.components.schedulerSeconds - 16 * 10e-6) < 1e-12)
        #expect(abs(speculative.components.total - speculative.cycleSeconds) < 1e-12)
        #expect(abs(speculative.speedup - speculative.tau * overlapped.plainStepSeconds / speculative.cycleSeconds) < 1e-12)
    }

    @Test("extend-mode attention adds the re-read fraction of a decode step's attention per query beyond the first")
    func extendAttention() throws {
        var stack = RuntimeOverhead.ideal
        let base = try Predictor(Self.config(stack)).predict()
        stack.extendAttentionRereadFraction = 0.5
        let reread = try Predictor(Self.config(stack)).predict()
        let attention = base.targetStepCost.breakdown.seconds(.attention)
        #expect(attention > 0)
        #expect(abs(reread.components.verifyExtendAttentionSeconds - 0.5 * 4 * attention) < 1e-12)
        #expect(abs(reread.cycleSeconds - base.cycleSeconds - 0.5 * 4 * attention) < 1e-12)
        #expect(reread.speedup < base.speedup)
    }

    @Test("the draft-extend and per-draft-step fixed costs land in the drafting part of the cycle")
    func draftFixedCosts() throws {
        var stack = RuntimeOverhead.ideal
        let base = try Predictor(Self.config(stack)).predict()
        stack.draftExtendSeconds = 100e-6
        stack.perDraftStepSeconds = 50e-6
        let fixed = try Predictor(Self.config(stack)).predict()
        #expect(abs(fixed.draftSecondsPerCycle - base.draftSecondsPerCycle - (100e-6 + 4 * 50e-6)) < 1e-12)
        #expect(fixed.components.draftExtendSeconds == 100e-6)
    }
}
