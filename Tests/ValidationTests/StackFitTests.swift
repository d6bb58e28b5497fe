import Analytic
import Foundation
import Testing
@testable import Validation

@Suite("Stack fit")
struct StackFitTests {
    /// Rows predicted by the engine with a vLLM-like stack on an H100: plain and EAGLE-3 at several draft
    /// lengths, batches and contexts.
    static func settings() -> [(method: DraftMethod, k: Int, batch: Int, context: Int)] {
        var out: [(DraftMethod, Int, Int, Int)] = []
        for batch in [1, 8, 32] {
            for context in [512, 8192] {
                out.append((.ntp, 0, batch, context))
                for k in [2, 4, 6] { out.append((.eagle3, k, batch, context)) }
            }
        }
        return out
    }

    static func tpotMilliseconds(_ setting: (method: DraftMethod, k: Int, batch: Int, context: Int),
                                 stack: RuntimeOverhead) throws -> Double {
        var config = PredictionConfig(hardware: try Hardware.preset(named: "h100-sxm"), overhead: stack,
                                      model: try ModelShape.preset(named: "llama-3.1-8b"), method: setting.method,
                                      draftLength: setting.k, batch: setting.batch, contextTokens: setting.context,
                                      acceptance: .iid(alpha: 0.75))
        config.hardware.overhead = stack
        let p = try Predictor(config).predict()
        return 1e3 * p.cycleSeconds / p.tau
    }

    @Test("fit recovers constants planted in measurements the engine made itself, plus 2% noise, within 3 standard errors")
    func recoversPlantedConstants() throws {
        let constants: [StackConstant] = [.perForwardSeconds, .schedulerSecondsPerSequence, .extendAttentionRereadFraction]
        let truth = [400.0, 80.0, 0.3]
        let planted = RuntimeOverhead.vllm.with(constants, values: truth)
        // Deterministic multiplicative noise, ±2% (a fixed LCG, so the test never changes between runs).
        var state: UInt64 = 12345
        func noise() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return 1 + 0.02 * (Double(state >> 11) / Double(1 << 53) * 2 - 1)
        }
        let observations = try Self.settings().enumerated().map { index, setting in
            FitObservation(label: "row \(index)", source: "synthetic", measured: try Self.tpotMilliseconds(setting, stack: planted) * noise()) { values in
                try Self.tpotMilliseconds(setting, stack: RuntimeOverhead.vllm.with(constants, values: values))
            }
        }
        let fit = try StackFit.fit(observations, constants: constants, start: [100, 10, 0.05])
        for (estimate, value) in zip(fit.estimates, truth) {
            let error = try #require(estimate.standardError, "\(estimate.constant): no standard error")
            #expect(error > 0 && error < 0.5 * value, "\(estimate.constant): standard error \(error) for a value of \(value)")
            #expect(abs(estimate.value - value) <= 3 * error,
                    "\(estimate.constant): fitted \(estimate.value) ± \(error), planted \(value)")
        }
    }

    /// Three rows whose prediction is θ · b: the log-ratio least-squares θ of a set of rows is the geometric
    /// mean of measured / b, so every leave-one-out value is computable by hand.
    static func proportional() -> [FitObservation] {
        let b = [1.0, 2.0, 4.0], measured = [2.0, 3.0, 10.0]
        return zip(b, measured).enumerated().map { index, pair in
            FitObservation(label: "row \(index + 1)", source: index == 0 ? "A" : "B", measured: pair.1) { values in values[0] * pair.0 }
        }
    }

    @Test("leave one out of a hand-built three-row example: each row predicted from the other two, as computed by hand")
    func leaveOneOutByHand() throws {
        let loo = try StackFit.leaveOneOut(Self.proportional(), constants: [.perForwardSeconds], start: [1])
        // Row 1 from rows 2 and 3: θ = √(1.5 · 2.5) = 1.936492, prediction 1.936492 (measured 2: −3.18%).
        // Row 2 from rows 1 and 3: θ = √(2 · 2.5) = 2.236068, prediction 4.472136 (measured 3: +49.07%).
        // Row 3 from rows 1 and 2: θ = √(2 · 1.5) = 1.732051, prediction 6.928203 (measured 10: −30.72%).
        let expected = [1.936492, 4.472136, 6.928203]
        #expect(loo.count == 3)
        for (value, hand) in zip(loo, expected) {
            let v = try #require(value)
            #expect(abs(v - hand) < 1e-5, "leave-one-out \(v), by hand \(hand)")
        }
        // The in-sample fit: θ = ∛(2 · 1.5 · 2.5) = 1.957434, with a standard error (3 rows, 1 constant).
        let fit = try StackFit.fit(Self.proportional(), constants: [.perForwardSeconds], start: [1])
        #expect(abs(fit.values[0] - 1.957434) < 1e-5)
        #expect(fit.estimates[0].standardError != nil)
    }

    @Test("a constant fitted on one source is not used when scoring that source: planted in the left-out source, absent from its prediction")
    func leaveOneSourceOutIgnoresTheSource() throws {
        // Source A's rows say θ = 100 (planted); source B's say θ = 1.
        var observations: [FitObservation] = []
        for b in [1.0, 3.0] {
            observations.append(FitObservation(label: "A \(b)", source: "A", measured: 100 * b) { $0[0] * b })
            observations.append(FitObservation(label: "B \(b)", source: "B", measured: 1 * b) { $0[0] * b })
        }
        let cv = try StackFit.leaveOneSourceOut(observations, constants: [.perForwardSeconds], start: [10])
        for (o, result) in zip(observations, cv) {
            let predicted = try #require(result.predicted), values = try #require(result.values)
            if o.source == "A" {
                // Scored with B's constant (1), so A's rows come out 100× low: A's planted 100 was not used.
                #expect(abs(values[0] - 1) < 1e-6)
                #expect(abs(predicted / o.measured - 0.01) < 1e-6)
            } else {
                #expect(abs(values[0] - 100) < 1e-4)
            }
        }
    }

    @Test("a constant the data want negative stays at its bound 0 and the others are refitted")
    func activeSetBound() throws {
        // prediction = θ0 + θ1 · b with measurements exactly 5 + 0 · b − 1: θ1 would go negative.
        let rows = [(1.0, 4.9), (2.0, 4.8), (4.0, 4.6), (8.0, 4.2)]
        let observations = rows.map { b, m in
            FitObservation(label: "b \(b)", source: "s", measured: m) { $0[0] + $0[1] * b }
        }
        let fit = try StackFit.fit(observations, constants: [.perForwardSeconds, .perDraftStepSeconds], start: [1, 1])
        #expect(fit.estimates[1].atBound)
        #expect(fit.estimates[1].value == 0)
        #expect(!fit.estimates[0].atBound)
        #expect(fit.values[0] > 4.2 && fit.values[0] < 4.9)
    }


    @Test("a constant the data push beyond its physical range stops at the upper bound")
    func upperBound() throws {
        // prediction = 1 + f · b with measurements made with f = 3, while the re-read fraction ends at 1
        // (every extra query reading the whole cache again): the fit stops there and says so.
        let observations = [1.0, 2.0, 4.0].map { b in
            FitObservation(label: "b \(b)", source: "s", measured: 1 + 3 * b) { 1 + $0[0] * b }
        }
        let fit = try StackFit.fit(observations, constants: [.extendAttentionRereadFraction], start: [0.2])
        #expect(fit.estimates[0].atBound)
        #expect(fit.estimates[0].value == 1)
        #expect(fit.estimates[0].boundNote == "at bound 1")
        #expect(StackConstant.extendAttentionRereadFraction.bounds == 0...1)
    }
    @Test("more constants than measurements is refused with one line")
    func tooFewRows() {
        #expect(throws: AnalyticError.self) {
            _ = try StackFit.fit(Array(Self.proportional().prefix(1)), constants: [.perForwardSeconds, .perCycleSeconds], start: [1, 1])
        }
    }
}
