// Threshold (adaptive) multi-token generation: a drafter — MTP heads, a draft
// model — emits its k-th token only while its confidence stays above a
// threshold θ, either each token's own (per-token: stop at the first c_k < θ;
// llama.cpp's p_min, ALGORITHMS.md §14) or the running product (cumulative:
// stop once Π_{j≤k} c_j < θ). Verified by the target the output is the
// target's; emitted unverified (speech LLMs' MTP decoding) it is not, and the
// number of tokens per forward is 1 + the drafts emitted.
//
// The model: per draft position k, a histogram of the drafter's confidence in
// the token it proposes, over bins of [0, 1], with the count of positions that
// reached verification (every earlier draft accepted) and of those accepted.
// Positions are taken independent given their confidences. Then, per round,
//   P(draft k emitted)  = Σ over confidence paths c_1..c_k that pass the policy,
//   P(draft k accepted) = the paths through the confidences of the rounds that
//                         reached position k, weighted by the acceptance rate of
//                         each bin there,
// computed by a pass over positions that carries the distribution of the
// running log-confidence (the cumulative policy needs it; the per-token one
// needs only each bin's pass/fail). Expected tokens per forward:
//   unverified  1 + Σ_k P(emitted through k),
//   verified    τ = 1 + Σ_k P(emitted and accepted through k).
// Fitted on a calibration run with θ = 0 (every position drafted), it predicts
// the whole threshold sweep.
//
// The empirical model drops the independence: it replays the calibration
// rounds themselves, each with its own confidence vector, under the policy —
// a round keeps its first kept(θ) drafts, and (greedy verification) accepts
// min(kept, the drafts it accepted at θ = 0), since stopping earlier does not
// change the drafts before the stop. Its only error is that the rounds of a
// run at another θ start at other places in the text.

import Foundation

/// When a drafter stops: its confidence in each proposed token (per-token) or their running product (cumulative).
public enum ThresholdPolicy: String, Sendable, Equatable, CaseIterable, Codable {
    case perToken = "per-token"
    case cumulative

    /// Does a chain whose running confidence is `product` and whose newest token has `confidence` continue?
    @inline(__always)
    public func passes(confidence: Double, product: Double, threshold: Double) -> Bool {
        switch self {
        case .perToken: return confidence >= threshold
        case .cumulative: return product >= threshold
        }
    }
}

/// Per draft position, the drafter's confidence histogram over `bins` equal bins of [0, 1]:
/// how often the position was drafted with a confidence in each bin, how often it was reached
/// by verification (all earlier drafts accepted) and accepted there.
public struct ConfidenceHistogram: Sendable, Equatable, Codable {
    public let bins: Int
    /// drafted[k][b], reached[k][b], accepted[k][b] for position k (0 = first draft).
    public private(set) var drafted: [[Double]]
    public private(set) var reached: [[Double]]
    public private(set) var accepted: [[Double]]

    public init(positions: Int, bins: Int = 20) {
        precondition(positions >= 1 && bins >= 1, "ConfidenceHistogram: at least one position and one bin")
        self.bins = bins
        let zero = [[Double]](repeating: [Double](repeating: 0, count: bins), count: positions)
        drafted = zero
        reached = zero
        accepted = zero
    }

    public var positions: Int { drafted.count }

    /// The bin of a confidence in [0, 1] (1 falls in the last bin).
    @inline(__always)
    public func bin(_ confidence: Double) -> Int { min(bins - 1, max(0, Int(confidence * Double(bins)))) }

    /// Records one round: the confidences of its drafts (position order) and how many were accepted.
    public mutating func record(confidences: [Double], accepted count: Int) {
        for (k, c) in confidences.enumerated() where k < positions {
            let b = bin(c)
            drafted[k][b] += 1
            if k <= count {       // reached: every earlier draft accepted
                reached[k][b] += 1
                if k < count { accepted[k][b] += 1 }
            }
        }
    }
}

extension ConfidenceHistogram {
    /// Rejects a histogram that cannot come from a run: ragged positions, negative or non-finite counts,
    /// more rounds reaching or accepting a bin than drafted it.
    public func validate() throws {
        guard bins >= 1, bins <= 10_000, !drafted.isEmpty, drafted.count <= Limits.draftLength.maximum else {
            throw AnalyticError("confidence histogram: needs 1…10000 bins and 1…\(Limits.draftLength.maximum) positions")
        }
        guard reached.count == drafted.count, accepted.count == drafted.count,
              (drafted + reached + accepted).allSatisfy({ $0.count == bins }) else {
            throw AnalyticError("confidence histogram: drafted, reached and accepted need \(drafted.count) positions of \(bins) bins each")
        }
        for k in 0..<positions {
            for b in 0..<bins {
                let (d, r, a) = (drafted[k][b], reached[k][b], accepted[k][b])
                guard d.isFinite, r.isFinite, a.isFinite, a >= 0, a <= r + 1e-9, r <= d + 1e-9 else {
                    throw AnalyticError("confidence histogram, position \(k + 1), bin \(b + 1): need 0 <= accepted <= reached <= drafted, got \(a), \(r), \(d)")
                }
            }
        }
    }
}

/// A threshold policy applied to a drafter whose confidences were measured: what `predict` needs for
/// threshold generation.
public struct ThresholdAcceptance: Sendable, Equatable {
    public var histogram: ConfidenceHistogram
    public var policy: ThresholdPolicy
    public var threshold: Double
    /// false: the drafts are emitted unchecked (speech LLMs' MTP decoding), τ = 1 + the drafts emitted.
    public var verified: Bool

    public init(histogram: ConfidenceHistogram, policy: ThresholdPolicy, threshold: Double, verified: Bool = true) {
        self.histogram = histogram; self.policy = policy; self.threshold = threshold; self.verified = verified
    }

    public func validate() throws {
        try histogram.validate()
        guard threshold.isFinite, (0...1).contains(threshold) else {
            throw AnalyticError("threshold must be in [0, 1], got \(threshold)")
        }
    }
}

public enum ThresholdModel {
    private static func check(_ threshold: Double) throws {
        guard threshold.isFinite, threshold >= 0, threshold <= 1 else {
            throw AnalyticError("threshold must be in [0, 1], got \(threshold)")
        }
    }

    /// Expected tokens per target forward under `policy` at `threshold`, unverified (every emitted
    /// draft kept) or verified (τ: the accepted prefix plus the target's token), at most `maxDrafts`.
    public static func tokensPerForward(_ histogram: ConfidenceHistogram, policy: ThresholdPolicy, threshold: Double,
                                        verified: Bool, maxDrafts: Int? = nil) throws -> Double {
        try check(threshold)
        let positions = min(histogram.positions, maxDrafts ?? histogram.positions)
        let centres = (0..<histogram.bins).map { (Double($0) + 0.5) / Double(histogram.bins) }
        // The running product's distribution over paths still going: (product, probability).
        var paths: [(product: Double, probability: Double)] = [(1, 1)]
        var tokens = 1.0
        for k in 0..<positions {
            // Unverified: every round drafts position k (if the policy lets it); verified: only rounds
            // whose earlier drafts were all accepted reach it, so its confidences are taken among those.
            let counts = verified ? histogram.reached[k] : histogram.drafted[k]
            let total = counts.reduce(0, +)
            guard total > 0 else { break }
            var next: [Double: Double] = [:]
            for path in paths {
                for b in 0..<histogram.bins where counts[b] > 0 {
                    let c = centres[b], product = path.product * c
                    // A bin straddling the threshold counts by where its centre lies.
                    guard policy.passes(confidence: c, product: product, threshold: threshold) else { continue }
                    // P(confidence in b) among the rounds at k, times (verified) P(accepted | b, reached).
                    let weight = (verified ? histogram.accepted[k][b] : counts[b]) / total
                    // Products rounded to 1e-4: the cumulative policy's paths merge instead of multiplying.
                    let key = policy == .cumulative ? (product * 1e4).rounded() / 1e4 : 1
                    next[key, default: 0] += path.probability * weight
                }
            }
            let mass = next.values.reduce(0, +)
            guard mass > 0 else { break }
            tokens += mass
            paths = next.map { ($0.key, $0.value) }
        }
        return tokens
    }

    /// The empirical model: the calibration rounds (each round's draft confidences in position order and
    /// its accepted count at θ = 0) replayed under the policy; the mean tokens per forward.
    public static func tokensPerForward(rounds: [(confidences: [Double], accepted: Int)], policy: ThresholdPolicy,
                                        threshold: Double, verified: Bool, maxDrafts: Int? = nil) throws -> Double {
        try check(threshold)
        guard !rounds.isEmpty else { throw AnalyticError("the empirical threshold model needs at least one calibration round") }
        var total = 0.0
        for round in rounds {
            var product = 1.0, kept = 0
            for c in round.confidences.prefix(maxDrafts ?? round.confidences.count) {
                product *= c
                guard policy.passes(confidence: c, product: product, threshold: threshold) else { break }
                kept += 1
            }
            total += Double(1 + (verified ? min(kept, round.accepted) : kept))
        }
        return total / Double(rounds.count)
    }
}
