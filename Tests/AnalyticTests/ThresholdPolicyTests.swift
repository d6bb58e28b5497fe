import Foundation
import Testing
@testable import Analytic

@Suite("Threshold (adaptive) generation")
struct ThresholdPolicyTests {
    /// Two bins (centres 0.25, 0.75). Position 0: a quarter of rounds low, three quarters high;
    /// position 1: half and half. Verified: at position 0 the high bin is always accepted and the
    /// low never; position 1 is reached by the three high rounds (1 low, 2 high), one of each accepted.
    static func histogram() -> ConfidenceHistogram {
        var h = ConfidenceHistogram(positions: 2, bins: 2)
        h.record(confidences: [0.1, 0.1], accepted: 0)
        h.record(confidences: [0.9, 0.1], accepted: 2)
        h.record(confidences: [0.9, 0.9], accepted: 2)
        h.record(confidences: [0.9, 0.9], accepted: 1)
        return h
    }

    @Test("recording a round: every draft counted, reached up to the first rejection, accepted before it")
    func record() {
        let h = Self.histogram()
        #expect(h.drafted == [[1, 3], [2, 2]])
        #expect(h.reached == [[1, 3], [1, 2]])
        #expect(h.accepted == [[0, 3], [1, 1]])
    }

    /// Unverified, per-token θ = 0.5: 1 + 0.75 + 0.75 · 0.5 = 2.125; θ = 0 emits both drafts: 3.
    /// Cumulative θ = 0.6: 0.75 · 0.75 = 0.5625 < 0.6 stops at position 1: 1 + 0.75 = 1.75
    /// (per-token at 0.6 still 2.125).
    @Test("unverified tokens per forward by hand, per-token and cumulative")
    func unverified() throws {
        let h = Self.histogram()
        func tokens(_ policy: ThresholdPolicy, _ theta: Double) throws -> Double {
            try ThresholdModel.tokensPerForward(h, policy: policy, threshold: theta, verified: false)
        }
        #expect(abs(try tokens(.perToken, 0) - 3) < 1e-12)
        #expect(abs(try tokens(.perToken, 0.5) - 2.125) < 1e-12)
        #expect(abs(try tokens(.cumulative, 0.5) - 2.125) < 1e-12)
        #expect(abs(try tokens(.perToken, 0.6) - 2.125) < 1e-12)
        #expect(abs(try tokens(.cumulative, 0.6) - 1.75) < 1e-12)
        #expect(abs(try tokens(.perToken, 0.9) - 1) < 1e-12)
        #expect(throws: AnalyticError.self) { try tokens(.perToken, 1.5) }
    }

    /// Verified, θ = 0: 1 + 3/4 + 0.75 · (1 + 1)/3 = 2.25; per-token θ = 0.5 keeps only position 1's
    /// high bin: 1 + 0.75 + 0.75 · 1/3 = 2.0.
    @Test("verified τ by hand")
    func verified() throws {
        let h = Self.histogram()
        #expect(abs(try ThresholdModel.tokensPerForward(h, policy: .perToken, threshold: 0, verified: true) - 2.25) < 1e-12)
        #expect(abs(try ThresholdModel.tokensPerForward(h, policy: .perToken, threshold: 0.5, verified: true) - 2.0) < 1e-12)
        #expect(abs(try ThresholdModel.tokensPerForward(h, policy: .perToken, threshold: 0, verified: true, maxDrafts: 1) - 1.75) < 1e-12)
    }

    /// The same four rounds replayed: θ = 0.5 per-token keeps 0, 1, 2, 2 drafts → unverified 1 + 5/4;
    /// verified min(kept, accepted) = 0, 1, 2, 1 → 1 + 4/4. Cumulative 0.85 keeps 0, 1, 1, 1 → 1 + 3/4.
    /// Unlike the histogram model it keeps each round's joint confidences (positions need not be independent).
    @Test("empirical (replayed rounds) model by hand")
    func empirical() throws {
        let rounds: [(confidences: [Double], accepted: Int)] = [([0.1, 0.1], 0), ([0.9, 0.1], 2), ([0.9, 0.9], 2), ([0.9, 0.9], 1)]
        func tokens(_ policy: ThresholdPolicy, _ theta: Double, _ verified: Bool) throws -> Double {
            try ThresholdModel.tokensPerForward(rounds: rounds, policy: policy, threshold: theta, verified: verified)
        }
        #expect(abs(try tokens(.perToken, 0.5, false) - 2.25) < 1e-12)
        #expect(abs(try tokens(.perToken, 0.5, true) - 2.0) < 1e-12)
        #expect(abs(try tokens(.cumulative, 0.85, false) - 1.75) < 1e-12)
        #expect(abs(try tokens(.perToken, 0, false) - 3) < 1e-12)
        #expect(throws: AnalyticError.self) { try ThresholdModel.tokensPerForward(rounds: [], policy: .perToken, threshold: 0.5, verified: false) }
    }

    /// A process the model's assumptions hold for (independent positions, acceptance depending only on
    /// the bin): confidences uniform on each position's own range, accepted with probability = confidence.
    /// The histogram of 40,000 rounds drafted at θ = 0 predicts rounds simulated at other θ within
    /// 5 standard errors (and the threshold does change the result).
    @Test("fitted at θ = 0 it predicts simulated threshold sweeps")
    func simulation() throws {
        var state: UInt64 = 12345
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        let ranges: [(Double, Double)] = [(0.5, 1), (0.3, 1), (0.1, 0.9)]
        let bins = 40
        /// One round: confidences (quantised to bin centres, as the model sees them) and accepted count.
        func round() -> (confidences: [Double], accepted: Int) {
            let c = ranges.map { r -> Double in
                let raw = r.0 + (r.1 - r.0) * uniform()
                return (Double(min(bins - 1, Int(raw * Double(bins)))) + 0.5) / Double(bins)
            }
            var accepted = 0
            while accepted < c.count, uniform() < c[accepted] { accepted += 1 }
            return (c, accepted)
        }
        var h = ConfidenceHistogram(positions: 3, bins: bins)
        for _ in 0..<40_000 { let r = round(); h.record(confidences: r.confidences, accepted: r.accepted) }
        for policy in ThresholdPolicy.allCases {
            for theta in [0.4, 0.6] {
                var emitted: [Double] = [], verified: [Double] = []
                for _ in 0..<40_000 {
                    let r = round()
                    var product = 1.0, kept = 0
                    for c in r.confidences {
                        product *= c
                        guard policy.passes(confidence: c, product: product, threshold: theta) else { break }
                        kept += 1
                    }
                    emitted.append(Double(1 + kept))
                    verified.append(Double(1 + min(kept, r.accepted)))
                }
                for (isVerified, sample) in [(false, emitted), (true, verified)] {
                    let predicted = try ThresholdModel.tokensPerForward(h, policy: policy, threshold: theta, verified: isVerified)
                    let mean = sample.reduce(0, +) / Double(sample.count)
                    let variance = sample.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(sample.count - 1)
                    let standardError = (variance / Double(sample.count)).squareRoot()
                    #expect(abs(predicted - mean) < 5 * standardError + 2e-3,
                            "\(policy) θ \(theta) verified \(isVerified): predicted \(predicted), simulated \(mean) ± \(standardError)")
                }
            }
        }
        let all = try ThresholdModel.tokensPerForward(h, policy: .perToken, threshold: 0, verified: false)
        #expect(abs(all - 4) < 1e-9)
    }
}
