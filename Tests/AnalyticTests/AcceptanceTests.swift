import Foundation
import Testing
@testable import Analytic

/// Acceptance models and metric conventions (ALGORITHMS.md §2.7, REFERENCES.md §4).
@Suite("Acceptance models and metric conventions")
struct AcceptanceTests {
    // MARK: i.i.d. model

    @Test("i.i.d. τ = (1 − α^{γ+1})/(1 − α): hand values")
    func iidTauHand() {
        // Dyadic α: the sums are exact in binary.
        #expect(Acceptance.iidTau(alpha: 0.5, draftLength: 3) == 1.875)          // 1 + .5 + .25 + .125
        #expect(Acceptance.iidTau(alpha: 0.5, draftLength: 0) == 1)
        #expect(Acceptance.iidTau(alpha: 0.75, draftLength: 2) == 2.3125)        // 1 + .75 + .5625
        // Tolerance 1e-12: sums of five rounded decimals.
        #expect(isClose(Acceptance.iidTau(alpha: 0.8, draftLength: 4), 3.3616, absolute: 1e-12)) // 1+.8+.64+.512+.4096
        // γ > 64 uses the closed form: α 0.5, γ 100 → 2 − 2^−100 (tolerance 1e-12: pow rounding).
        #expect(isClose(Acceptance.iidTau(alpha: 0.5, draftLength: 100), 2, absolute: 1e-12))
        // α 0.99, γ 100: (1 − 0.99^101)/0.01 = (1 − 0.3623720)/0.01 = 63.76280 (hand, 7 digits → tolerance 1e-4).
        #expect(isClose(Acceptance.iidTau(alpha: 0.99, draftLength: 100), 63.76280, absolute: 1e-4))
        // The closed-form and Horner paths agree across the switch at γ = 64:
        // τ(65) − τ(64) = α^65 (tolerance 1e-12: the two paths round differently).
        let alpha = 0.95
        #expect(isClose(Acceptance.iidTau(alpha: alpha, draftLength: 65) - Acceptance.iidTau(alpha: alpha, draftLength: 64),
                        pow(alpha, 65), absolute: 1e-12))
    }

    @Test("i.i.d. distribution: P(a = j) = α^j(1 − α) for j < γ, P(a = γ) = α^γ")
    func iidDistribution() throws {
        let d = try AcceptanceModel.iid(alpha: 0.5).distribution(draftLength: 3)
        #expect(d.probabilities == [0.5, 0.25, 0.125, 0.125])                   // dyadic: exact
        let e = try AcceptanceModel.iid(alpha: 0.7).distribution(draftLength: 4)
        // 0.3, 0.7·0.3, 0.49·0.3, 0.343·0.3, 0.7^4; tolerance 1e-15: ≤ 4 roundings of values < 1.
        let hand = [0.3, 0.21, 0.147, 0.1029, 0.2401]
        #expect(e.probabilities.count == 5)
        for (got, want) in zip(e.probabilities, hand) { #expect(isClose(got, want, absolute: 1e-15), "\(e.probabilities)") }
        #expect(isClose(e.probabilities.reduce(0, +), 1, absolute: 1e-15))
        // Its τ agrees with the closed form: 1 + .7 + .49 + .343 + .2401 = 2.7731.
        #expect(isClose(e.tau, 2.7731, absolute: 1e-12))
        #expect(isClose(try AcceptanceModel.iid(alpha: 0.7).tau(draftLength: 4), 2.7731, absolute: 1e-12))
    }

    @Test("variance of accepted length: hand cases")
    func varianceHand() throws {
        // α 0.5, γ 2: P = [.5, .25, .25]; E[a] = .75; E[a²] = .25 + 1 = 1.25; Var = 1.25 − .5625 = .6875 (exact).
        let d = try AcceptanceModel.iid(alpha: 0.5).distribution(draftLength: 2)
        #expect(d.variance == 0.6875)
        // α = [0.9, 0.5]: P = [.1, .45, .45]; E[a] = 1.35; E[a²] = .45 + 1.8 = 2.25; Var = 2.25 − 1.8225 = 0.4275.
        // Tolerance 1e-12: rounding of the decimal products.
        let p = try AcceptanceModel.perPosition(alphas: [0.9, 0.5]).distribution(draftLength: 2)
        #expect(isClose(p.variance, 0.4275, absolute: 1e-12))
        // Point masses have zero variance.
        #expect(try AcceptanceModel.iid(alpha: 1).distribution(draftLength: 5).variance == 0)
        #expect(try AcceptanceModel.iid(alpha: 0).distribution(draftLength: 5).variance == 0)
    }

    // MARK: per-position and empirical models

    @Test("per-position α = [0.9, 0.5] → τ = 1 + 0.9 + 0.45 = 2.35")
    func perPositionHand() throws {
        let model = AcceptanceModel.perPosition(alphas: [0.9, 0.5])
        // Tolerance 1e-12: two decimal products and a sum.
        #expect(isClose(try model.tau(draftLength: 2), 2.35, absolute: 1e-12))
        let d = try model.distribution(draftLength: 2)
        #expect(isClose(d.tau, 2.35, absolute: 1e-12))
        for (got, want) in zip(d.probabilities, [0.1, 0.45, 0.45]) { #expect(isClose(got, want, absolute: 1e-15)) }
        for (got, want) in zip(d.unconditional, [0.9, 0.45]) { #expect(isClose(got, want, absolute: 1e-15)) }
        for (got, want) in zip(d.conditional, [0.9, 0.5]) { #expect(isClose(got, want, absolute: 1e-15)) }
        // Draft length 1 uses only the first rate: τ = 1.9.
        #expect(isClose(try model.tau(draftLength: 1), 1.9, absolute: 1e-15))
    }

    @Test("empirical histogram [2, 3, 5] → τ = 1 + (3 + 10)/10 = 2.3; truncation lumps the tail")
    func empiricalHistogram() throws {
        let model = AcceptanceModel.empirical(counts: [2, 3, 5])
        let d = try model.distribution(draftLength: 2)
        for (got, want) in zip(d.probabilities, [0.2, 0.3, 0.5]) { #expect(isClose(got, want, absolute: 1e-15)) }
        // Tolerance 1e-12: divisions by 10 are inexact in binary.
        #expect(isClose(d.tau, 2.3, absolute: 1e-12))
        #expect(isClose(try model.tau(draftLength: 2), 2.3, absolute: 1e-12))
        // γ = 1: a' = min(a, 1) → P = [0.2, 0.3 + 0.5] → τ = 1.8.
        let t = try model.distribution(draftLength: 1)
        #expect(t.draftLength == 1)
        for (got, want) in zip(t.probabilities, [0.2, 0.8]) { #expect(isClose(got, want, absolute: 1e-15)) }
        #expect(isClose(try model.tau(draftLength: 1), 1.8, absolute: 1e-12))
        // Scaling the counts does not change the distribution.
        #expect(try AcceptanceModel.empirical(counts: [20, 30, 50]).distribution(draftLength: 2).probabilities == d.probabilities)
        // Truncation to γ ≥ the histogram's length is the identity.
        #expect(d.truncated(to: 2) == d)
        #expect(d.truncated(to: 7) == d)
    }

    @Test("EAGLE-1 Vicuna-7B chain: n-α 0.79, 0.74, 0.72, 0.73, 0.67 → τ = 3.31 (REFERENCES.md §4.2)")
    func eagleWorkedCheck() throws {
        let model = AcceptanceModel.perPosition(alphas: [0.79, 0.74, 0.72, 0.73, 0.67])
        let tau = try model.tau(draftLength: 5)
        // Tolerance 0.005: REFERENCES.md prints two decimals.
        #expect(isClose(tau, 3.31, absolute: 0.005))
        // Full precision by hand: c = .79, .5846, .420912, .30726576, .2058680592; Σ = 2.3086458192.
        // Tolerance 1e-12: products of two-digit decimals.
        #expect(isClose(tau, 3.3086458192, absolute: 1e-12))
        let conventions = try MetricConventions(distribution: model.distribution(draftLength: 5))
        let unconditional = [0.79, 0.5846, 0.420912, 0.30726576, 0.2058680592]
        for (got, want) in zip(conventions.vllmPerPosition, unconditional) { #expect(isClose(got, want, absolute: 1e-12)) }
        // vLLM-style rate r = 2.31/5 = 0.46 (two decimals → tolerance 0.005).
        #expect(isClose(conventions.vllmDraftAcceptanceRate, 0.46, absolute: 0.005))
        // EAGLE's n-α are the conditional rates themselves.
        for (got, want) in zip(conventions.eagleConditional, [0.79, 0.74, 0.72, 0.73, 0.67]) {
            #expect(isClose(got, want, absolute: 1e-12))
        }
    }

    @Test("DeepSeek-V3: one MTP draft accepted 85–90% → τ = 1.85–1.90")
    func deepSeekMTP() throws {
        // Tolerance 1e-15: a single addition.
        #expect(isClose(try AcceptanceModel.perPosition(alphas: [0.85]).tau(draftLength: 1), 1.85, absolute: 1e-15))
        #expect(isClose(try AcceptanceModel.iid(alpha: 0.85).tau(draftLength: 1), 1.85, absolute: 1e-15))
        #expect(isClose(try AcceptanceModel.iid(alpha: 0.90).tau(draftLength: 1), 1.90, absolute: 1e-15))
    }

    // MARK: distributions p, q

    @Test("α = Σ min(p, q) = 1 − TV(p, q)")
    func alphaFromDistributions() throws {
        // min(.5, .9) + min(.5, .1) = .5 + .1 = .6; TV = ½(.4 + .4) = .4.
        // Tolerance 1e-15: one addition.
        #expect(isClose(try Acceptance.alphaFromDistributions(p: [0.5, 0.5], q: [0.9, 0.1]), 0.6, absolute: 1e-15))
        #expect(isClose(try Acceptance.totalVariation(p: [0.5, 0.5], q: [0.9, 0.1]), 0.4, absolute: 1e-15))
        // Identical → 1; disjoint supports → 0.
        #expect(try Acceptance.alphaFromDistributions(p: [0.2, 0.3, 0.5], q: [0.2, 0.3, 0.5]) == 1)
        #expect(try Acceptance.alphaFromDistributions(p: [1, 0, 0], q: [0, 0.5, 0.5]) == 0)
        #expect(try Acceptance.totalVariation(p: [1, 0], q: [0, 1]) == 1)
        // Unnormalised inputs are normalised first: [1, 1] vs [9, 1] is the first case.
        #expect(isClose(try Acceptance.alphaFromDistributions(p: [1, 1], q: [9, 1]), 0.6, absolute: 1e-15))
        // Symmetric in p and q.
        #expect(try Acceptance.alphaFromDistributions(p: [0.1, 0.6, 0.3], q: [0.5, 0.25, 0.25])
                == Acceptance.alphaFromDistributions(p: [0.5, 0.25, 0.25], q: [0.1, 0.6, 0.3]))
    }

    @Test("α from p, q rejects mismatched or empty inputs")
    func alphaFromDistributionsBadInput() {
        expectAnalyticError(mentioning: ["same number"]) { _ = try Acceptance.alphaFromDistributions(p: [0.5, 0.5], q: [1]) }
        expectAnalyticError(mentioning: ["positive total mass"]) { _ = try Acceptance.alphaFromDistributions(p: [0, 0], q: [1, 0]) }
        expectAnalyticError(mentioning: ["probability"]) { _ = try Acceptance.alphaFromDistributions(p: [-0.5, 1.5], q: [0.5, 0.5]) }
    }

    // MARK: conversions

    static let sampleDistributions: [[Double]] = [
        [0.2, 0.3, 0.5],                          // the empirical histogram above
        [0.1, 0.45, 0.45],                        // per-position [0.9, 0.5]
        [0.3, 0.21, 0.147, 0.1029, 0.2401],       // i.i.d. α 0.7, γ 4
        [0, 0, 1],                                 // always all accepted
        [1, 0, 0, 0],                              // never accepted
    ]

    @Test("distribution → conventions → back via unconditional rates and via vLLM counters",
          arguments: sampleDistributions)
    func roundTripThroughConventions(probabilities: [Double]) throws {
        let original = AcceptedLengthDistribution(probabilities: probabilities)
        let conventions = try MetricConventions(distribution: original)
        let viaUnconditional = try MetricConventions.distribution(unconditional: conventions.vllmPerPosition)
        // vLLM counters: num_drafts and num_accepted_tokens_per_pos = A_k · num_drafts.
        let drafts = 1000.0
        let viaCounters = try MetricConventions.distribution(vllmDrafts: drafts,
                                                             acceptedPerPosition: conventions.vllmPerPosition.map { $0 * drafts })
        for back in [viaUnconditional, viaCounters] {
            #expect(back.probabilities.count == probabilities.count)
            // Tolerance 1e-12: differences of tail sums of values ≤ 1.
            for (got, want) in zip(back.probabilities, probabilities) {
                #expect(isClose(got, want, absolute: 1e-12), "\(back.probabilities) vs \(probabilities)")
            }
        }
    }

    @Test("vLLM counters by hand: 10 drafts, per-position [8, 5] → P = [0.2, 0.3, 0.5]")
    func vllmCountersHand() throws {
        let d = try MetricConventions.distribution(vllmDrafts: 10, acceptedPerPosition: [8, 5])
        // Tolerance 1e-15: one subtraction of decimals.
        for (got, want) in zip(d.probabilities, [0.2, 0.3, 0.5]) { #expect(isClose(got, want, absolute: 1e-15)) }
        // Mean acceptance length = 1 + num_accepted_tokens / num_drafts = 1 + 13/10.
        #expect(isClose(d.tau, 2.3, absolute: 1e-12))
        expectAnalyticError(mentioning: ["num_accepted_tokens_per_pos"]) {
            _ = try MetricConventions.distribution(vllmDrafts: 10, acceptedPerPosition: [5, 8])   // must not increase
        }
        expectAnalyticError(mentioning: ["num_accepted_tokens_per_pos entry 1", "num_drafts"]) {
            _ = try MetricConventions.distribution(vllmDrafts: 10, acceptedPerPosition: [11])
        }
        expectAnalyticError(mentioning: ["num_drafts"]) {
            _ = try MetricConventions.distribution(vllmDrafts: 0, acceptedPerPosition: [0])
        }
    }

    @Test("vLLM draft acceptance rate ρ = (τ − 1)/γ and v0 system efficiency τ/(γ + 1)")
    func vllmRates() throws {
        // α = [0.9, 0.5], γ 2: τ 2.35 → ρ = 1.35/2 = 0.675, η = 2.35/3 = 0.78333…
        let c = try MetricConventions(distribution: AcceptanceModel.perPosition(alphas: [0.9, 0.5]).distribution(draftLength: 2))
        // Tolerance 1e-12: a few decimal products.
        #expect(isClose(c.tau, 2.35, absolute: 1e-12))
        #expect(isClose(c.vllmDraftAcceptanceRate, 0.675, absolute: 1e-12))
        #expect(isClose(c.vllmV0SystemEfficiency, 2.35 / 3, absolute: 1e-12))
        // Standard deviation of tokens per cycle: √0.4275 = 0.6538348…
        #expect(isClose(c.tokensPerCycleStandardDeviation, 0.65383484, absolute: 1e-8))
        // Equivalent i.i.d. α solves 1 + α + α² = 2.35: α = (−1 + √(1 + 4·1.35))/2 = (−1 + √6.4)/2.
        // Tolerance 1e-9: the engine bisects τ(α), whose slope here is 1 + 2α ≈ 2.5.
        #expect(isClose(c.equivalentIIDAlpha, (-1 + 6.4.squareRoot()) / 2, absolute: 1e-9))
        // Empirical [2, 3, 5]: ρ = 1.3/2 = 0.65, η = 2.3/3.
        let e = try MetricConventions(distribution: AcceptedLengthDistribution(probabilities: [0.2, 0.3, 0.5]))
        #expect(isClose(e.vllmDraftAcceptanceRate, 0.65, absolute: 1e-12))
        #expect(isClose(e.vllmV0SystemEfficiency, 2.3 / 3, absolute: 1e-12))
    }

    @Test("τ → i.i.d. α → τ round-trips; hand roots", arguments: [
        (1.5, 1), (1.875, 3), (2.35, 2), (3.31, 5), (1.01, 8), (7.9, 7), (4.0, 16), (1.0, 4), (5.0, 4),
    ])
    func iidAlphaRoundTrip(tau: Double, gamma: Int) throws {
        let alpha = try Acceptance.iidAlpha(tau: tau, draftLength: gamma)
        #expect(alpha >= 0 && alpha <= 1)
        // Tolerance 1e-9 on τ: bisection stops at 1e-15 in α and dτ/dα ≤ γ(γ + 1)/2 ≤ 136 here.
        #expect(isClose(Acceptance.iidTau(alpha: alpha, draftLength: gamma), tau, absolute: 1e-9), "α = \(alpha)")
    }

    @Test("i.i.d. α hand roots: τ 1.5 at γ 1 → 0.5; τ 1.875 at γ 3 → 0.5; endpoints")
    func iidAlphaHand() throws {
        // Tolerance 1e-12: bisection resolution is 1e-15.
        #expect(isClose(try Acceptance.iidAlpha(tau: 1.5, draftLength: 1), 0.5, absolute: 1e-12))
        #expect(isClose(try Acceptance.iidAlpha(tau: 1.875, draftLength: 3), 0.5, absolute: 1e-12))
        #expect(try Acceptance.iidAlpha(tau: 1, draftLength: 5) == 0)
        #expect(try Acceptance.iidAlpha(tau: 6, draftLength: 5) == 1)
        // The .meanAcceptedLength model reports the given τ at its draft length.
        #expect(try AcceptanceModel.meanAcceptedLength(tau: 2.5).tau(draftLength: 3) == 2.5)
        let d = try AcceptanceModel.meanAcceptedLength(tau: 1.875).distribution(draftLength: 3)
        for (got, want) in zip(d.probabilities, [0.5, 0.25, 0.125, 0.125]) { #expect(isClose(got, want, absolute: 1e-12)) }
    }

    @Test("conditional ↔ unconditional round-trip")
    func conditionalUnconditional() throws {
        let conditional = [0.9, 0.5, 0.8]
        let d = AcceptedLengthDistribution.fromConditional(conditional)
        // A = [.9, .45, .36] by hand (tolerance 1e-15: products of decimals).
        for (got, want) in zip(d.unconditional, [0.9, 0.45, 0.36]) { #expect(isClose(got, want, absolute: 1e-15)) }
        for (got, want) in zip(d.conditional, conditional) { #expect(isClose(got, want, absolute: 1e-15)) }
        let back = try MetricConventions.distribution(unconditional: [0.9, 0.45, 0.36])
        for (got, want) in zip(back.conditional, conditional) { #expect(isClose(got, want, absolute: 1e-12)) }
        // τ = 1 + Σ A_k = 1 + .9 + .45 + .36 = 2.71.
        #expect(isClose(back.tau, 2.71, absolute: 1e-12))
        // Where A_{k−1} = 0 the conditional rate is reported as 0, not NaN.
        let dead = AcceptedLengthDistribution.fromConditional([0, 0.7])
        #expect(dead.conditional == [0, 0])
        #expect(dead.tau == 1)
    }

    @Test("ρ = (τ − 1)/γ holds for every chain distribution (ALGORITHMS.md §2.7: τ = 1 + γρ)",
          arguments: sampleDistributions)
    func tauEqualsOnePlusGammaRho(probabilities: [Double]) {
        let d = AcceptedLengthDistribution(probabilities: probabilities)
        // Tolerance 1e-12: two roundings.
        #expect(isClose(1 + Double(d.draftLength) * d.draftAcceptanceRate, d.tau, absolute: 1e-12))
        #expect(isClose(1 + d.unconditional.reduce(0, +), d.tau, absolute: 1e-12))
    }
}
