import Foundation
import Testing
@testable import Analytic

/// Sweep axes and grid evaluation (Sweep.swift).
@Suite("Sweeps")
struct SweepTests {
    static func numbers(_ axis: SweepAxis) -> [Double] { axis.values.compactMap(\.number) }

    @Test("draft-length=1:5 → 1, 2, 3, 4, 5")
    func integerRange() throws {
        let axis = try SweepAxis.parse("draft-length=1:5")
        #expect(axis.parameter == .draftLength)
        #expect(Self.numbers(axis) == [1, 2, 3, 4, 5])
    }

    @Test("batch=1:64:x2 → 1, 2, 4, …, 64")
    func geometricRange() throws {
        let axis = try SweepAxis.parse("batch=1:64:x2")
        #expect(axis.parameter == .batch)
        #expect(Self.numbers(axis) == [1, 2, 4, 8, 16, 32, 64])
        // A geometric range that does not land on END stops below it.
        #expect(Self.numbers(try SweepAxis.parse("batch=3:100:x3")) == [3, 9, 27, 81])
    }

    @Test("alpha=0.5:0.7:0.1 → exactly 0.5, 0.6, 0.7 (no binary drift)")
    func decimalRange() throws {
        let axis = try SweepAxis.parse("alpha=0.5:0.7:0.1")
        #expect(axis.parameter == .alpha)
        #expect(Self.numbers(axis) == [0.5, 0.6, 0.7])
        // A longer one: 0.05 steps from 0.5 to 0.95 are ten exact decimals.
        #expect(Self.numbers(try SweepAxis.parse("alpha=0.5:0.95:0.05"))
                == [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95])
    }

    @Test("lists: numbers and names")
    func lists() throws {
        let hardware = try SweepAxis.parse("hardware=a100-80gb,h100-sxm")
        #expect(hardware.parameter == .hardware)
        #expect(hardware.values == [.name("a100-80gb"), .name("h100-sxm")])
        #expect(Self.numbers(try SweepAxis.parse("batch=1,8,64")) == [1, 8, 64])
        #expect(try SweepAxis.parse("tau=2.5").values == [.number(2.5)])
        #expect(try SweepAxis.parse("method=ntp,sd,eagle3").values == [.name("ntp"), .name("sd"), .name("eagle3")])
    }

    @Test("bad axis specs throw one-line errors naming the problem", arguments: [
        ("foo=1", "foo"),
        ("batch=a", "'a'"),
        ("batch=5:1", "END"),
        ("batch", "NAME=VALUES"),
        ("batch=", "no values"),
        ("batch=1.5", "whole number"),
        ("alpha=0.5:0.7:0", "STEP"),
        ("batch=0:64:x2", "START > 0"),
        ("batch=1:64:x1", "FACTOR > 1"),
        ("batch=1:2:3:4", "START:END"),
    ])
    func badSpecs(spec: String, fragment: String) {
        expectAnalyticError(mentioning: [fragment]) { _ = try SweepAxis.parse(spec) }
    }

    @Test("a value of the wrong kind or an unknown name fails when applied")
    func badApply() throws {
        var config = PredictionConfig(hardware: try hardware("h100-sxm"), model: try model("llama-3.1-8b"),
                                      method: .ntp, draftLength: 0, acceptance: .iid(alpha: 0.8))
        expectAnalyticError(mentioning: ["h100"]) { try SweepAxis.parse("hardware=h100").apply(.name("h100"), to: &config) }
        expectAnalyticError(mentioning: ["warp"]) { try SweepAxis.parse("method=warp").apply(.name("warp"), to: &config) }
        expectAnalyticError(mentioning: ["batch"]) { try SweepAxis(parameter: .batch, values: []).apply(.name("x"), to: &config) }
    }

    static func sdBase() throws -> PredictionConfig {
        PredictionConfig(hardware: try hardware("h100-sxm"), model: try model("llama-3.1-8b"), method: .sd,
                         draftModel: try model("llama-3.2-1b"), draftLength: 4, contextTokens: 512,
                         acceptance: .iid(alpha: 0.8))
    }

    @Test("two axes: product-many points in odometer order (last axis fastest)")
    func odometer() throws {
        let axes = [try SweepAxis.parse("batch=1,4"), try SweepAxis.parse("draft-length=2:4")]
        #expect(Sweep.pointCount(axes) == 6)
        var progress: [Int] = []
        let points = try Sweep.run(base: try Self.sdBase(), axes: axes, progress: { done, total in
            #expect(total == 6)
            progress.append(done)
        })
        #expect(progress == [1, 2, 3, 4, 5, 6])
        #expect(points.count == 6)
        let expected: [[SweepValue]] = [
            [.number(1), .number(2)], [.number(1), .number(3)], [.number(1), .number(4)],
            [.number(4), .number(2)], [.number(4), .number(3)], [.number(4), .number(4)],
        ]
        #expect(points.map(\.values) == expected)
        #expect(points.map(\.draftLength) == [2, 3, 4, 2, 3, 4])
        for point in points {
            let prediction = try #require(point.prediction)
            #expect(point.skippedReason == nil)
            #expect(prediction.verifyTokensPerSequence == point.draftLength + 1)
        }
        // Each point equals a direct prediction of its configuration.
        var direct = try Self.sdBase()
        direct.batch = 4
        direct.draftLength = 3
        #expect(points[4].prediction == (try Predictor(direct).predict()))
    }

    @Test("the alpha axis sets i.i.d. acceptance: τ by hand at γ 2")
    func alphaAxis() throws {
        var base = try Self.sdBase()
        base.draftLength = 2
        let points = try Sweep.run(base: base, axes: [try SweepAxis.parse("alpha=0.5,0.8")])
        // 1 + .5 + .25 = 1.75; 1 + .8 + .64 = 2.44 (tolerance 1e-12: decimal sums).
        #expect(isClose(try #require(points[0].prediction).tau, 1.75, absolute: 1e-12))
        #expect(isClose(try #require(points[1].prediction).tau, 2.44, absolute: 1e-12))
    }

    @Test("points that do not fit are kept with skippedReason instead of throwing")
    func skippedPoints() throws {
        var base = try Self.sdBase()
        base.method = .ntp
        base.draftModel = nil
        let axes = [try SweepAxis.parse("model=llama-3.1-8b,llama-3.1-70b"), try SweepAxis.parse("batch=1,2")]
        let points = try Sweep.run(base: base, axes: axes)
        #expect(points.count == 4)
        // 8B fits on one H100; 70B (141 GB of weights) does not.
        for point in points[0..<2] {
            #expect(point.prediction != nil && point.skippedReason == nil)
        }
        for point in points[2..<4] {
            #expect(point.prediction == nil)
            let reason = try #require(point.skippedReason)
            #expect(reason.contains("does not fit") && reason.contains("llama-3.1-70b"), "\(reason)")
        }
        // Any other error still stops the sweep.
        expectAnalyticError(mentioning: ["hardware"]) {
            _ = try Sweep.run(base: base, axes: [try SweepAxis.parse("hardware=h100-sxm,tpu-v9")])
        }
    }

    @Test("optimizeDraftLength picks the best γ per point, matching bestDraftLength")
    func optimizeDraftLength() throws {
        let base = try Self.sdBase()
        let points = try Sweep.run(base: base, axes: [try SweepAxis.parse("batch=1,256")], optimizeDraftLength: 16)
        let predictor = try Predictor(base)
        for (point, batch) in zip(points, [1, 256]) {
            let best = try predictor.bestDraftLength(batch: batch, maxDraftLength: 16)
            #expect(point.draftLength == best.draftLength, "batch \(batch)")
            // Tolerance 1e-12 relative: identical arithmetic through a rebuilt predictor.
            #expect(isClose(try #require(point.prediction).speedup, best.prediction.speedup, relative: 1e-12))
        }
    }
}
