// Acceptance models: how many drafts a verification accepts.
//
// Every model reduces to one object, the accepted-length distribution
// P(a = j), j = 0...γ, from which τ (tokens per target forward, bonus
// included), its variance, the per-position rates and every published metric
// convention follow (ALGORITHMS.md §2.7, REFERENCES.md §4).

import Foundation

/// The distribution of the number of accepted drafts a in one cycle of draft length γ.
public struct AcceptedLengthDistribution: Sendable, Equatable {
    /// probabilities[j] = P(a = j), j = 0...draftLength; sums to 1.
    public let probabilities: [Double]

    public init(probabilities: [Double]) {
        self.probabilities = probabilities
    }

    public var draftLength: Int { probabilities.count - 1 }

    /// Mean accepted drafts E[a].
    public var meanAccepted: Double {
        var sum = 0.0
        for (j, p) in probabilities.enumerated() { sum += Double(j) * p }
        return sum
    }

    /// τ = E[a] + 1: tokens emitted per target forward, the correction or
    /// bonus token counted once (ALGORITHMS.md §2.7).
    public var tau: Double { meanAccepted + 1 }

    /// Var[a] (= Var[a + 1], the variance of tokens per cycle).
    public var variance: Double {
        let mean = meanAccepted
        var sum = 0.0
        for (j, p) in probabilities.enumerated() { sum += (Double(j) - mean) * (Double(j) - mean) * p }
        return sum
    }

    /// Unconditional per-position acceptance A_k = P(a ≥ k), k = 1...γ
    /// (vLLM's per-position rate). τ = 1 + Σ A_k.
    public var unconditional: [Double] {
        var result = [Double](repeating: 0, count: draftLength)
        var tail = 0.0
        for k in stride(from: draftLength, through: 1, by: -1) {
            tail += probabilities[k]
            result[k - 1] = tail
        }
        return result
    }

    /// Conditional acceptance α_k = A_k / A_{k−1} (EAGLE's (k−1)-α); 0 where A_{k−1} = 0.
    public var conditional: [Double] {
        let a = unconditional
        var previous = 1.0
        return a.map { value in
            defer { previous = value }
            return previous > 0 ? value / previous : 0
        }
    }

    /// Draft acceptance rate ρ = E[a] / γ (vLLM's "draft acceptance rate").
    public var draftAcceptanceRate: Double { draftLength > 0 ? meanAccepted / Double(draftLength) : 0 }

    /// The distribution with drafts beyond `length` cut off: a' = min(a, length).
    public func truncated(to length: Int) -> AcceptedLengthDistribution {
        guard length < draftLength else { return self }
        var result = Array(probabilities[0..<length])
        result.append(probabilities[length...].reduce(0, +))
        return AcceptedLengthDistribution(probabilities: result)
    }

    /// Builds the distribution from conditional rates α_1..α_γ:
    /// P(a = j) = A_j − A_{j+1}, A_j = Π_{i≤j} α_i.
    public static func fromConditional(_ alphas: [Double]) -> AcceptedLengthDistribution {
        var probabilities = [Double](repeating: 0, count: alphas.count + 1)
        var survive = 1.0
        for (j, alpha) in alphas.enumerated() {
            probabilities[j] = survive * (1 - alpha)
            survive *= alpha
        }
        probabilities[alphas.count] = survive
        return AcceptedLengthDistribution(probabilities: probabilities)
    }
}

/// Where the acceptance numbers come from.
public enum AcceptanceModel: Sendable, Equatable {
    /// i.i.d. per-token acceptance α (Leviathan et al. 2023 §3.1): A_k = α^k.
    case iid(alpha: Double)
    /// Conditional acceptance per draft position α_1..α_n (EAGLE's n-α).
    case perPosition(alphas: [Double])
    /// Empirical histogram of accepted lengths: counts[j] = cycles that accepted j drafts.
    case empirical(counts: [Double])
    /// A measured τ at the configured draft length; the distribution is the
    /// i.i.d. one with that τ (α solved numerically, REFERENCES.md §4.2 item 7).
    case meanAcceptedLength(tau: Double)
    /// Threshold (adaptive-length) drafting: a chain stops where the drafter's confidence falls below θ;
    /// τ and the drafts per round come from its confidence histograms (ThresholdModel).
    case threshold(ThresholdAcceptance)

    public var label: String {
        switch self {
        case .iid(let alpha): return "iid(alpha=\(alpha))"
        case .perPosition(let alphas): return "per-position(\(alphas.map { String($0) }.joined(separator: ",")))"
        case .empirical(let counts): return "empirical(\(counts.count - 1) positions)"
        case .meanAcceptedLength(let tau): return "tau=\(tau)"
        case .threshold(let t): return "threshold(\(t.policy.rawValue) \(t.threshold)\(t.verified ? "" : ", unverified"))"
        }
    }

    public func validate() throws {
        switch self {
        case .iid(let alpha):
            try Check.probability(alpha, "alpha")
        case .perPosition(let alphas):
            guard !alphas.isEmpty else { throw AnalyticError("--alphas needs at least one value") }
            for (i, alpha) in alphas.enumerated() { try Check.probability(alpha, "alpha_\(i + 1)") }
        case .empirical(let counts):
            guard !counts.isEmpty else { throw AnalyticError("acceptance histogram is empty") }
            for (j, count) in counts.enumerated() { try Check.nonNegative(count, "count of accepted length \(j)") }
            guard counts.reduce(0, +) > 0 else { throw AnalyticError("acceptance histogram has no cycles (all counts are 0)") }
        case .meanAcceptedLength(let tau):
            guard tau.isFinite, tau >= 1 else { throw AnalyticError("tau must be >= 1 (it counts the bonus token), got \(tau)") }
        case .threshold(let t):
            try t.validate()
        }
    }

    /// Drafter forwards per round at draft length γ: γ, or — where the drafter stops on its confidence — the
    /// first, plus one more for each draft 1…γ − 1 that passed (the stop is decided on a computed draft).
    public func draftForwards(draftLength: Int) throws -> Double {
        guard case .threshold = self, draftLength >= 1 else { return Double(draftLength) }
        return 1 + (try expectedDrafts(draftLength: draftLength - 1))
    }

    /// Drafts per round at draft length γ: γ, or fewer where the drafter stops on its confidence.
    public func expectedDrafts(draftLength: Int) throws -> Double {
        guard case .threshold(let t) = self, draftLength >= 1 else { return Double(draftLength) }
        return try ThresholdModel.tokensPerForward(t.histogram, policy: t.policy, threshold: t.threshold, verified: false,
                                                   maxDrafts: draftLength) - 1
    }

    /// The full accepted-length distribution at draft length γ.
    public func distribution(draftLength: Int) throws -> AcceptedLengthDistribution {
        try Check.within(draftLength, from: 0, Limits.draftLength, "draft length")
        switch self {
        case .iid(let alpha):
            return .fromConditional([Double](repeating: alpha, count: draftLength))
        case .perPosition(let alphas):
            guard alphas.count >= draftLength else {
                throw AnalyticError("--alphas gives \(alphas.count) positions but the draft length is \(draftLength); give at least \(draftLength) values")
            }
            return .fromConditional(Array(alphas.prefix(draftLength)))
        case .empirical(let counts):
            guard counts.count - 1 >= draftLength else {
                throw AnalyticError("the acceptance histogram covers draft lengths up to \(counts.count - 1), not \(draftLength)")
            }
            let total = counts.reduce(0, +)
            return AcceptedLengthDistribution(probabilities: counts.map { $0 / total }).truncated(to: draftLength)
        case .meanAcceptedLength(let tau):
            let alpha = try Acceptance.iidAlpha(tau: tau, draftLength: draftLength)
            return .fromConditional([Double](repeating: alpha, count: draftLength))
        case .threshold:
            throw AnalyticError("the threshold model gives τ and the drafts per round, not the accepted-length distribution; use a histogram, --alphas or --tau for it")
        }
    }

    /// τ at draft length γ without building the distribution (the fast path of `predict`).
    public func tau(draftLength: Int) throws -> Double {
        switch self {
        case .iid(let alpha):
            return Acceptance.iidTau(alpha: alpha, draftLength: draftLength)
        case .perPosition(let alphas):
            guard alphas.count >= draftLength else {
                throw AnalyticError("--alphas gives \(alphas.count) positions but the draft length is \(draftLength); give at least \(draftLength) values")
            }
            var tau = 1.0, survive = 1.0
            for k in 0..<draftLength {
                survive *= alphas[k]
                tau += survive
            }
            return tau
        case .threshold(let t):
            return try ThresholdModel.tokensPerForward(t.histogram, policy: t.policy, threshold: t.threshold,
                                                       verified: t.verified, maxDrafts: draftLength)
        case .empirical, .meanAcceptedLength:
            if case .meanAcceptedLength(let tau) = self {
                guard tau <= Double(draftLength) + 1 + 1e-12 else {
                    throw AnalyticError("tau \(tau) is impossible with draft length \(draftLength) (at most \(draftLength + 1))")
                }
                return tau
            }
            return try distribution(draftLength: draftLength).tau
        }
    }
}

/// Closed forms and conversions between the published metric conventions.
public enum Acceptance {
    /// τ under i.i.d. acceptance: (1 − α^{γ+1}) / (1 − α) (Leviathan et al. 2023,
    /// Eq. 1), with the exact limits γ + 1 at α = 1 and 1 at α = 0.
    @inline(__always)
    public static func iidTau(alpha: Double, draftLength: Int) -> Double {
        if alpha >= 1 { return Double(draftLength) + 1 }
        if alpha <= 0 { return 1 }
        // Horner form avoids the 0/0 near α = 1: 1 + α + … + α^γ.
        var tau = 1.0, power = 1.0
        if draftLength <= 64 {
            for _ in 0..<draftLength { power *= alpha; tau += power }
            return tau
        }
        return (1 - pow(alpha, Double(draftLength + 1))) / (1 - alpha)
    }

    /// The i.i.d. α whose τ at draft length γ equals `tau` (REFERENCES.md §4.2
    /// item 7: τ is monotone in α, so the root in [0, 1] is unique; bisection).
    public static func iidAlpha(tau: Double, draftLength: Int) throws -> Double {
        guard tau.isFinite, tau >= 1 else { throw AnalyticError("tau must be >= 1, got \(tau)") }
        let maximum = Double(draftLength) + 1
        guard tau <= maximum + 1e-12 else {
            throw AnalyticError("tau \(tau) is impossible with draft length \(draftLength) (at most \(draftLength + 1))")
        }
        if tau >= maximum { return 1 }
        if tau <= 1 { return 0 }
        var low = 0.0, high = 1.0
        for _ in 0..<200 {
            let mid = 0.5 * (low + high)
            if iidTau(alpha: mid, draftLength: draftLength) < tau { low = mid } else { high = mid }
            if high - low < 1e-15 { break }
        }
        return 0.5 * (low + high)
    }

    /// Leviathan's α for one context: Σ_x min(p(x), q(x)) = 1 − TV(p, q)
    /// (Leviathan et al. 2023, Definition 3.4 / Corollary 3.6). Inputs are
    /// normalised first; they must have the same length and positive mass.
    public static func alphaFromDistributions(p: [Double], q: [Double]) throws -> Double {
        guard p.count == q.count, !p.isEmpty else {
            throw AnalyticError("p and q must have the same number of entries (got \(p.count) and \(q.count))")
        }
        for value in p + q { try Check.nonNegative(value, "a probability") }
        let sumP = p.reduce(0, +), sumQ = q.reduce(0, +)
        guard sumP > 0, sumQ > 0 else { throw AnalyticError("p and q must each have positive total mass") }
        var overlap = 0.0
        for i in p.indices { overlap += min(p[i] / sumP, q[i] / sumQ) }
        return min(1, overlap)
    }

    /// Total variation distance ½ Σ |p − q| of two normalised distributions.
    public static func totalVariation(p: [Double], q: [Double]) throws -> Double {
        1 - (try alphaFromDistributions(p: p, q: q))
    }
}

/// One cycle's acceptance expressed in every published convention
/// (ALGORITHMS.md §2.7 table; REFERENCES.md §4.1–4.2).
public struct MetricConventions: Sendable, Equatable, Codable {
    public var draftLength: Int
    /// τ: EAGLE "average acceptance length", Medusa "acceleration rate",
    /// Gloeckle "tokens / forward", Stern k̂, SGLang "accept len", vLLM "mean acceptance length".
    public var tau: Double
    /// vLLM "draft acceptance rate" ρ = (τ − 1) / γ.
    public var vllmDraftAcceptanceRate: Double
    /// vLLM v0 "system efficiency" τ / (γ + 1).
    public var vllmV0SystemEfficiency: Double
    /// vLLM per-position rates = unconditional A_k, k = 1...γ.
    public var vllmPerPosition: [Double]
    /// EAGLE n-α = conditional α_{n+1}, n = 0...γ−1.
    public var eagleConditional: [Double]
    /// The i.i.d. α with the same τ at this γ.
    public var equivalentIIDAlpha: Double
    /// Standard deviation of tokens per cycle.
    public var tokensPerCycleStandardDeviation: Double

    public init(distribution: AcceptedLengthDistribution) throws {
        draftLength = distribution.draftLength
        tau = distribution.tau
        vllmDraftAcceptanceRate = distribution.draftAcceptanceRate
        vllmV0SystemEfficiency = distribution.tau / Double(distribution.draftLength + 1)
        vllmPerPosition = distribution.unconditional
        eagleConditional = distribution.conditional
        equivalentIIDAlpha = try Acceptance.iidAlpha(tau: min(distribution.tau, Double(distribution.draftLength) + 1),
                                                     draftLength: distribution.draftLength)
        tokensPerCycleStandardDeviation = distribution.variance.squareRoot()
    }

    /// From vLLM v1 spec-decode counters (vllm/v1/spec_decode/metrics.py):
    /// `num_drafts`, `num_draft_tokens`, `num_accepted_tokens`,
    /// `num_accepted_tokens_per_pos[i]`. Accepted tokens form a prefix, so
    /// per_pos[i] / num_drafts = P(a ≥ i + 1) = A_{i+1}.
    /// `field`: the name the user gave the counts (in messages).
    public static func distribution(vllmDrafts: Double, acceptedPerPosition: [Double],
                                    field: String = "num_accepted_tokens_per_pos") throws -> AcceptedLengthDistribution {
        try Check.positive(vllmDrafts, "num_drafts")
        guard !acceptedPerPosition.isEmpty else { throw AnalyticError("\(field) is empty") }
        let whole = field == "num_accepted_tokens_per_pos" ? "num_drafts" : "1"
        var unconditional = acceptedPerPosition.map { $0 / vllmDrafts }
        for (i, value) in unconditional.enumerated() {
            guard value >= 0, value <= 1 + 1e-9 else {
                throw AnalyticError("\(field) entry \(i + 1) is \(acceptedPerPosition[i]): it must lie in 0…\(whole)")
            }
            if i > 0, value > unconditional[i - 1] + 1e-9 {
                throw AnalyticError("\(field) must not increase with position (entry \(i + 1) exceeds entry \(i))")
            }
            unconditional[i] = min(value, 1)
        }
        var probabilities = [Double](repeating: 0, count: unconditional.count + 1)
        probabilities[0] = 1 - unconditional[0]
        for k in 1..<unconditional.count { probabilities[k] = unconditional[k - 1] - unconditional[k] }
        probabilities[unconditional.count] = unconditional[unconditional.count - 1]
        return AcceptedLengthDistribution(probabilities: probabilities)
    }

    /// From unconditional per-position rates A_1..A_γ (vLLM's convention).
    public static func distribution(unconditional: [Double]) throws -> AcceptedLengthDistribution {
        try distribution(vllmDrafts: 1, acceptedPerPosition: unconditional, field: "per_position")
    }
}
