// The closed forms of Leviathan, Kalman and Matias 2023, "Fast Inference from
// Transformers via Speculative Decoding" (arXiv 2211.17192), and the simplified
// speedup formula quoted in the literature. REFERENCES.md §3.1.

import Foundation

public enum Leviathan {
    /// Expected tokens per iteration, Eq. 1: (1 − α^{γ+1}) / (1 − α); γ + 1 at α = 1.
    public static func expectedTokens(alpha: Double, gamma: Int) -> Double {
        Acceptance.iidTau(alpha: alpha, draftLength: gamma)
    }

    /// Walltime improvement, Theorem 3.8: (1 − α^{γ+1}) / ((1 − α)(γc + 1)),
    /// c = time of one draft step / time of one target step.
    public static func walltimeImprovement(alpha: Double, gamma: Int, c: Double) -> Double {
        expectedTokens(alpha: alpha, gamma: gamma) / (Double(gamma) * c + 1)
    }

    /// Operations factor, Theorem 3.11: (1 − α)(γĉ + γ + 1) / (1 − α^{γ+1}),
    /// ĉ = draft/target arithmetic per token. Written as (γĉ + γ + 1) / E so
    /// that α = 1 gives the exact limit (γĉ + γ + 1) / (γ + 1).
    public static func operationsFactor(alpha: Double, gamma: Int, cHat: Double) -> Double {
        (Double(gamma) * cHat + Double(gamma) + 1) / expectedTokens(alpha: alpha, gamma: gamma)
    }

    /// The integer γ in 1...maxGamma maximising the walltime improvement
    /// (Leviathan §3.4 picks γ by this scan). Ties go to the smaller γ.
    public static func optimalGamma(alpha: Double, c: Double, maxGamma: Int = 64) -> (gamma: Int, speedup: Double) {
        var best = (gamma: 1, speedup: walltimeImprovement(alpha: alpha, gamma: 1, c: c))
        if maxGamma >= 2 {
            for gamma in 2...maxGamma {
                let speedup = walltimeImprovement(alpha: alpha, gamma: gamma, c: c)
                if speedup > best.speedup * (1 + 1e-12) { best = (gamma, speedup) }
            }
        }
        return best
    }

    /// Corollary 3.9: some γ helps iff α > c, and then the gain is at least (1 + α)/(1 + c).
    public static func guaranteedGain(alpha: Double, c: Double) -> Double? {
        alpha > c ? (1 + alpha) / (1 + c) : nil
    }

    /// The simplified speedup often quoted for one-token speculation,
    /// (1 + α) / (1 + α · T_draft / T_target). It ignores the verify cost growth
    /// with draft length and counts the draft cost only when the draft is kept;
    /// the exact cycle model is `Cycle.predict`. Kept as its own function so a
    /// chart can show where it departs from the exact model.
    public static func simplifiedSpeedup(alpha: Double, draftToTargetTimeRatio ratio: Double) -> Double {
        (1 + alpha) / (1 + alpha * ratio)
    }
}
