import Foundation
import Testing
@testable import Analytic

/// Draft settings of real deployments (Cycle.swift): a drafter KV budget, self-speculation and a drafter
/// on fewer devices than the target.
@Suite("Draft settings")
struct DraftSettingsTests {
    static func config(method: DraftMethod = .sd, draft: String? = "llama-3.2-1b", devices: Int = 8, batch: Int = 32,
                       context: Int = 32000) throws -> PredictionConfig {
        PredictionConfig(hardware: try hardware("a100-80gb"), model: try model("llama-3.1-8b"), method: method,
                         draftModel: try draft.map(model), draftLength: 3, batch: batch, contextTokens: context,
                         devices: devices, acceptance: .iid(alpha: 0.8))
    }

    @Test("a budget at least the context changes nothing; a small one makes the drafter read and keep only its budget")
    func kvBudget() throws {
        let plain = try Predictor(Self.config()).predict()
        var same = try Self.config()
        same.draftKVBudget = 32000
        #expect(try Predictor(same).predict() == plain)
        var small = try Self.config()
        small.draftKVBudget = 512
        let budgeted = try Predictor(small).predict()
        #expect(budgeted.draftStepSeconds < plain.draftStepSeconds)
        #expect(budgeted.speedup > plain.speedup)
        // KV memory: the draft model's cache shrinks from 32000 + 3 to 512 + 3 tokens per sequence
        // (Llama-3.2-1B: 16 layers × 2 × 8 KV heads × 64 × 2 bytes = 32 KiB per token).
        let savedPerDevice = 32.0 * (32000 - 512) * 32768 / 8
        #expect(isClose(plain.memoryBytesPerDevice - budgeted.memoryBytesPerDevice, savedPerDevice, relative: 1e-9))
        // The budgeted drafter's step is the draft model's own plain step at a context of 512 tokens.
        var draftAlone = try Self.config(method: .ntp, draft: nil, context: 512)
        draftAlone.model = try model("llama-3.2-1b")
        #expect(isClose(budgeted.draftStepSeconds, try Predictor(draftAlone).predict().targetStepSeconds, relative: 1e-12))
    }

    @Test("self-speculation drafts with the target's own weights: the target's step at the budget, no extra weights")
    func selfDraft() throws {
        var selfConfig = try Self.config(draft: nil)
        selfConfig.selfDraft = true
        selfConfig.draftKVBudget = 512
        let selfSpeculation = try Predictor(selfConfig).predict()
        var separateCopy = try Self.config(draft: "llama-3.1-8b")
        separateCopy.draftKVBudget = 512
        let copy = try Predictor(separateCopy).predict()
        #expect(isClose(selfSpeculation.draftStepSeconds, copy.draftStepSeconds, relative: 1e-12))
        // The copy holds the 8B weights twice; self-speculation once.
        let weightsPerDevice = try model("llama-3.1-8b").weightBytes / 8
        #expect(isClose(copy.memoryBytesPerDevice - selfSpeculation.memoryBytesPerDevice, weightsPerDevice, relative: 1e-9))
        var plainAtBudget = try Self.config(method: .ntp, draft: nil, context: 512)
        plainAtBudget.model = try model("llama-3.1-8b")
        #expect(isClose(selfSpeculation.draftStepSeconds, try Predictor(plainAtBudget).predict().targetStepSeconds, relative: 1e-12))
    }

    @Test("a drafter on fewer devices is priced on its own devices: its step is the draft model's plain step there")
    func draftDevices() throws {
        var config = try Self.config(batch: 1, context: 1024)
        config.draftDevices = 1
        let narrow = try Predictor(config).predict()
        var alone = try Self.config(method: .ntp, draft: nil, devices: 1, batch: 1, context: 1024)
        alone.model = try model("llama-3.2-1b")
        #expect(isClose(narrow.draftStepSeconds, try Predictor(alone).predict().targetStepSeconds, relative: 1e-12))
        let wide = try Predictor(try Self.config(batch: 1, context: 1024)).predict()
        #expect(narrow.draftStepSeconds != wide.draftStepSeconds)
        #expect(narrow.targetStepSeconds == wide.targetStepSeconds)
    }

    @Test("draft settings that do not apply are refused with one line")
    func refused() throws {
        var budgetOnHeads = try Self.config(method: .medusa, draft: nil)
        budgetOnHeads.draftKVBudget = 512
        expectAnalyticError(mentioning: ["--draft-kv-budget", "medusa"]) { try budgetOnHeads.validate() }
        var tooMany = try Self.config()
        tooMany.draftDevices = 16
        expectAnalyticError(mentioning: ["--draft-devices 16", "--devices 8"]) { try tooMany.validate() }
        var selfEagle = try Self.config(method: .eagle3, draft: nil)
        selfEagle.selfDraft = true
        expectAnalyticError(mentioning: ["self", "eagle3"]) { try selfEagle.validate() }
        var zero = try Self.config()
        zero.draftKVBudget = 0
        expectAnalyticError(mentioning: ["--draft-kv-budget"]) { try zero.validate() }
    }
}

/// A request end to end (Cycle.swift `endToEnd`): prefill, then decoding at the mean context.
@Suite("End to end")
struct EndToEndTests {
    static func predictor(method: DraftMethod, input: Int = 1024, output: Int = 512) throws -> Predictor {
        try Predictor(PredictionConfig(hardware: try hardware("h100-sxm"), model: try model("llama-3.1-8b"), method: method,
                                       draftLength: method == .ntp ? 0 : 4, batch: 4, contextTokens: input + output / 2,
                                       acceptance: .iid(alpha: 0.8)))
    }

    @Test("TPOT is (latency − TTFT) / (output − 1); plain decoding gains nothing; speculation's gain is diluted by the prefill")
    func definitions() throws {
        let plain = try Self.predictor(method: .ntp).endToEnd(inputTokens: 1024, outputTokens: 512)
        #expect(plain.speedup == 1 && plain.ttftSeconds == plain.plainTTFTSeconds)
        let spec = try Self.predictor(method: .eagle3).endToEnd(inputTokens: 1024, outputTokens: 512)
        for (ttft, tpot, total) in [(spec.ttftSeconds, spec.tpotSeconds, spec.endToEndSeconds),
                                    (spec.plainTTFTSeconds, spec.plainTPOTSeconds, spec.plainEndToEndSeconds)] {
            #expect(isClose((total - ttft) / 511, tpot, relative: 1e-12))
        }
        #expect(isClose(spec.tpotSeconds, spec.decode.cycleSeconds / spec.decode.tau, relative: 1e-12))
        #expect(spec.speedup > 1 && spec.speedup < spec.decode.speedup)
        // The drafter prefills the prompt too.
        #expect(spec.ttftSeconds > spec.plainTTFTSeconds)
        // The decode phase is priced at the mean context, 1024 + 256 tokens.
        let mid = try Self.predictor(method: .eagle3).predict(contextTokens: 1280)
        #expect(spec.decode == mid)
    }

    @Test("the prefill's GEMMs are the forward's over all input rows; its attention is the measured prefill kernel's")
    func prefillKernels() throws {
        let db = try #require(KernelDatabase.bundled(gpu: "h100-sxm"))
        let shape = try model("llama-3.1-8b")
        let context = ExecutionContext(hardware: try hardware("h100-sxm"), overhead: .ideal, kernels: db)
        let forward = try #require(MeasuredForward(ForwardWorkload.target(shape), context: context, database: db))
        let prefill = forward.prefill(inputTokens: 1024, batch: 2)
        let sameRows = forward.cost(tokensPerSequence: 1024, batch: 2, contextTokens: 0)
        #expect(prefill.breakdown.seconds(.gemm) == sameRows.breakdown.seconds(.gemm))
        // Llama-3.1-8B: 32 query heads over 8 KV heads, head dim 128 — a measured slab and knots.
        let slab = try #require(db.contextAttention?["bf16"]?.slab(8)).table
        #expect(isClose(prefill.breakdown.seconds(.attention), 32 * slab.seconds(32, 1024, 2), relative: 1e-12))
        #expect(prefill.breakdown.seconds(.attention) != sameRows.breakdown.seconds(.attention))
    }

    @Test("a request that does not fit at its end is refused; lengths must be positive")
    func refused() throws {
        expectAnalyticError(mentioning: ["does not fit"]) {
            _ = try Self.predictor(method: .eagle3).endToEnd(inputTokens: 200_000, outputTokens: 200_000)
        }
        expectAnalyticError(mentioning: ["--output-length"]) { _ = try Self.predictor(method: .ntp).endToEnd(inputTokens: 10, outputTokens: 0) }
    }
}

/// Runtime profiles as files (`--runtime-file`): the profile a fit or a user writes.
@Suite("Runtime files")
struct RuntimeFileTests {
    @Test("every preset round-trips through its JSON file; a bad value is refused with one line")
    func roundTrip() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("runtime-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for profile in RuntimeOverhead.presets {
            let file = directory.appendingPathComponent("\(profile.name).json")
            try JSONEncoder().encode(profile).write(to: file)
            #expect(try RuntimeOverhead.load(fromFile: file.path) == profile)
        }
        let bad = directory.appendingPathComponent("bad.json")
        try Data(#"{"name": "x", "perForwardSeconds": -1, "perLayerSeconds": 0, "perCycleSeconds": 0, "perAllReduceSeconds": 0, "ngramSecondsPerContextToken": 0}"#.utf8).write(to: bad)
        expectAnalyticError(mentioning: ["bad.json", "perForwardSeconds"]) { _ = try RuntimeOverhead.load(fromFile: bad.path) }
        let minimal = directory.appendingPathComponent("minimal.json")
        try Data(#"{"name": "mine", "perForwardSeconds": 1e-4, "perLayerSeconds": 2e-5, "perCycleSeconds": 0, "perAllReduceSeconds": 0, "ngramSecondsPerContextToken": 0}"#.utf8).write(to: minimal)
        let loaded = try RuntimeOverhead.load(fromFile: minimal.path)
        #expect(loaded.perDraftStepSeconds == 0 && !loaded.hostOverlapsDevice && !loaded.perLayerIsKernelLatency)
    }
}
