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
