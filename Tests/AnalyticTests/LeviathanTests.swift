import Foundation
import Testing
@testable import Analytic

/// The closed forms of Leviathan, Kalman, Matias 2023 (REFERENCES.md §3.1).
@Suite("Leviathan closed forms")
struct LeviathanTests {
    /// One row of Table 1 (c = ĉ = 0): α, γ, operations, speed, as printed.
    struct Table1Row: Sendable, CustomTestStringConvertible {
        let alpha: Double, gamma: Int, operations: Double, speed: Double
        var testDescription: String { "α=\(alpha) γ=\(gamma)" }
    }

    static let table1: [Table1Row] = [
        .init(alpha: 0.6, gamma: 2, operations: 1.53, speed: 1.96),
        .init(alpha: 0.7, gamma: 3, operations: 1.58, speed: 2.53),
        .init(alpha: 0.8, gamma: 2, operations: 1.23, speed: 2.44),
        .init(alpha: 0.8, gamma: 5, operations: 1.63, speed: 3.69),
        .init(alpha: 0.9, gamma: 2, operations: 1.11, speed: 2.71),
        .init(alpha: 0.9, gamma: 10, operations: 1.60, speed: 6.86),
    ]

    @Test("Table 1: speed and operations at c = ĉ = 0", arguments: table1)
    func table1Row(row: Table1Row) {
        let speed = Leviathan.walltimeImprovement(alpha: row.alpha, gamma: row.gamma, c: 0)
        let operations = Leviathan.operationsFactor(alpha: row.alpha, gamma: row.gamma, cHat: 0)
        // Tolerance 0.005 absolute: the paper prints two decimals (rounding error ≤ 0.005).
        #expect(isClose(speed, row.speed, absolute: 0.005), "speed \(speed) vs paper \(row.speed)")
        #expect(isClose(operations, row.operations, absolute: 0.005), "operations \(operations) vs paper \(row.operations)")
        // At c = 0 the speed is E itself (Theorem 3.8 with γc + 1 = 1).
        #expect(speed == Leviathan.expectedTokens(alpha: row.alpha, gamma: row.gamma))
    }

    @Test("Table 1 at full precision: hand sums of powers")
    func table1Exact() {
        // E = 1 + α + … + α^γ by hand; operations = (γ + 1) / E at ĉ = 0.
        // Tolerance 1e-10: the α = 0.9 row is written to 11 significant digits;
        // the others are exact sums up to a few roundings (≈1e-15).
        let hand: [(Double, Int, Double)] = [
            (0.6, 2, 1 + 0.6 + 0.36),                                    // 1.96
            (0.7, 3, 1 + 0.7 + 0.49 + 0.343),                            // 2.533
            (0.8, 5, 1 + 0.8 + 0.64 + 0.512 + 0.4096 + 0.32768),         // 3.68928
            (0.9, 10, 6.8618940391),                                     // (1 − 0.9^11)/0.1, 0.9^11 = 0.31381059609
        ]
        for (alpha, gamma, tokens) in hand {
            #expect(isClose(Leviathan.expectedTokens(alpha: alpha, gamma: gamma), tokens, absolute: 1e-10), "α=\(alpha) γ=\(gamma)")
            #expect(isClose(Leviathan.operationsFactor(alpha: alpha, gamma: gamma, cHat: 0), Double(gamma + 1) / tokens,
                            absolute: 1e-10), "α=\(alpha) γ=\(gamma)")
        }
    }

    @Test("Table 4: α 0.75, γ 7, c 0.02 → 3.16 (paper prints 3.2)")
    func table4SmallDraft() {
        let speed = Leviathan.walltimeImprovement(alpha: 0.75, gamma: 7, c: 0.02)
        // By hand: 0.75^8 = 0.1001129150390625 (exact), E = 0.8998870849609375/0.25
        // = 3.59954833984375; γc + 1 = 1.14; 3.59954833984375/1.14 = 3.157498…
        // Tolerance 1e-12 relative: one division and a sum of eight powers.
        #expect(isClose(speed, 3.59954833984375 / 1.14, relative: 1e-12))
        // Tolerance 0.005: REFERENCES.md §3.1 quotes the check as 3.16 (two decimals).
        #expect(isClose(speed, 3.16, absolute: 0.005))
        // Tolerance 0.05: the paper prints one decimal.
        #expect(isClose(speed, 3.2, absolute: 0.05))
    }

    /// Table 4 (α, γ, c, printed Exp). α and c are printed with two decimals
    /// and Exp with one, so the paper's value must lie in the engine's range
    /// over the rounding box of the inputs, widened by Exp's own rounding.
    @Test("Table 4: every printed Exp lies within the rounding of its inputs")
    func table4AllRows() {
        let rows: [(Double, Int, Double, Double)] = [
            (0.75, 7, 0.02, 3.2), (0.80, 7, 0.04, 3.3), (0.82, 7, 0.11, 2.5), (0.62, 7, 0.02, 2.3),
            (0.68, 5, 0.04, 2.4), (0.71, 3, 0.11, 2.0), (0.65, 5, 0.02, 2.4), (0.73, 5, 0.04, 2.6),
            (0.74, 3, 0.11, 2.0), (0.53, 5, 0.02, 1.9), (0.55, 3, 0.04, 1.8), (0.56, 3, 0.11, 1.6),
        ]
        for (alpha, gamma, c, printed) in rows {
            // S grows with α and falls with c, so the box corners bound it.
            let low = Leviathan.walltimeImprovement(alpha: alpha - 0.005, gamma: gamma, c: c + 0.005)
            let high = Leviathan.walltimeImprovement(alpha: alpha + 0.005, gamma: gamma, c: c - 0.005)
            #expect(printed >= low - 0.05 && printed <= high + 0.05,
                    "α=\(alpha) γ=\(gamma) c=\(c): paper \(printed), model range [\(low), \(high)]")
        }
    }

    @Test("α = 1 gives exactly γ + 1 tokens; α = 0 gives exactly 1; never NaN")
    func limits() {
        for gamma in [0, 1, 2, 7, 16, 64, 65, 200] {
            let g = Double(gamma)
            #expect(Leviathan.expectedTokens(alpha: 1, gamma: gamma) == g + 1)
            #expect(Leviathan.expectedTokens(alpha: 0, gamma: gamma) == 1)
            // Operations at α = 1: (γĉ + γ + 1)/(γ + 1); at α = 0: γĉ + γ + 1 (every draft wasted).
            // Tolerance 1e-12: one division.
            #expect(isClose(Leviathan.operationsFactor(alpha: 1, gamma: gamma, cHat: 0.1), (0.1 * g + g + 1) / (g + 1), relative: 1e-12))
            #expect(isClose(Leviathan.operationsFactor(alpha: 0, gamma: gamma, cHat: 0.1), 0.1 * g + g + 1, relative: 1e-12))
            #expect(Leviathan.operationsFactor(alpha: 1, gamma: gamma, cHat: 0) == 1)
            // Speed at α = 1: (γ + 1)/(γc + 1); at α = 0: 1/(γc + 1).
            #expect(isClose(Leviathan.walltimeImprovement(alpha: 1, gamma: gamma, c: 0.05), (g + 1) / (0.05 * g + 1), relative: 1e-12))
            #expect(isClose(Leviathan.walltimeImprovement(alpha: 0, gamma: gamma, c: 0.05), 1 / (0.05 * g + 1), relative: 1e-12))
            for alpha in [0.0, 1e-300, 1 - 1e-16, 1.0] {
                #expect(!Leviathan.expectedTokens(alpha: alpha, gamma: gamma).isNaN)
                #expect(!Leviathan.operationsFactor(alpha: alpha, gamma: gamma, cHat: 0).isNaN)
                #expect(!Leviathan.walltimeImprovement(alpha: alpha, gamma: gamma, c: 0).isNaN)
            }
        }
    }

    @Test("near α = 1 the closed form stays continuous (no 0/0)")
    func nearOne() {
        // α = 1 − 1e-9, γ = 7: E = Σ α^j ≈ 8 − ε·(0+1+…+7) = 8 − 28e-9.
        // Tolerance 1e-12: second-order terms are O(ε²·γ³) ≈ 1e-16.
        #expect(isClose(Leviathan.expectedTokens(alpha: 1 - 1e-9, gamma: 7), 8 - 28e-9, absolute: 1e-12))
    }

    @Test("optimalGamma: α 0.8, c 0.05 → γ = 8 by a hand scan of S(γ)")
    func optimalGammaHandScan() {
        // S(γ) = (1 − α^{γ+1}) / ((1 − α)(γc + 1)), written out independently:
        // γ = 1…10: 1.714, 2.218, 2.567, 2.801, 2.951, 3.040, 3.082, 3.092, 3.078, 3.047.
        let alpha = 0.8, c = 0.05
        func s(_ gamma: Int) -> Double { (1 - pow(alpha, Double(gamma + 1))) / ((1 - alpha) * (Double(gamma) * c + 1)) }
        let scan = (1...10).map { ($0, s($0)) }
        let handBest = scan.max { $0.1 < $1.1 }!
        #expect(handBest.0 == 8)
        let best = Leviathan.optimalGamma(alpha: alpha, c: c, maxGamma: 10)
        #expect(best.gamma == 8)
        // Tolerance 1e-12: the same quantity by a different formula (sum vs closed form).
        #expect(isClose(best.speedup, handBest.1, relative: 1e-12))
        // Hand value 4.32891/1.4 = 3.09208; tolerance 1e-5 for the 6-digit hand arithmetic.
        #expect(isClose(best.speedup, 3.092080, absolute: 1e-5))
        // The default range (1…64) finds the same peak: S falls after γ = 8.
        #expect(Leviathan.optimalGamma(alpha: alpha, c: c).gamma == 8)
    }

    @Test("optimalGamma with c = 0 returns maxGamma (S grows with γ)")
    func optimalGammaFreeDraft() {
        for maxGamma in [1, 5, 16, 64] {
            #expect(Leviathan.optimalGamma(alpha: 0.8, c: 0, maxGamma: maxGamma).gamma == maxGamma)
        }
    }

    @Test("Corollary 3.9: gain ≥ (1 + α)/(1 + c) iff α > c")
    func guaranteedGain() throws {
        // (1 + 0.6)/(1 + 0.1) = 1.6/1.1 = 1.454545…; tolerance 1e-12 for one division.
        let gain = try #require(Leviathan.guaranteedGain(alpha: 0.6, c: 0.1))
        #expect(isClose(gain, 1.6 / 1.1, relative: 1e-12))
        // The bound is the γ = 1 speedup, and the best γ does at least as well.
        #expect(isClose(Leviathan.walltimeImprovement(alpha: 0.6, gamma: 1, c: 0.1), gain, relative: 1e-12))
        #expect(Leviathan.optimalGamma(alpha: 0.6, c: 0.1).speedup >= gain)
        // α ≤ c: no γ helps.
        #expect(Leviathan.guaranteedGain(alpha: 0.1, c: 0.1) == nil)
        #expect(Leviathan.guaranteedGain(alpha: 0.05, c: 0.1) == nil)
        #expect(Leviathan.optimalGamma(alpha: 0.05, c: 0.1).speedup < 1)
    }

    @Test("§3.6: bigram draft, α 0.2, c 0, γ 3 → 1.25X")
    func bigramExample() {
        // 1 + 0.2 + 0.04 + 0.008 = 1.248; the paper prints 1.25 (tolerance 0.005).
        #expect(isClose(Leviathan.walltimeImprovement(alpha: 0.2, gamma: 3, c: 0), 1.25, absolute: 0.005))
    }

    @Test("simplified one-token speedup (1 + α)/(1 + α·r)")
    func simplified() {
        // α 0.8, r 0.1: 1.8/1.08 = 1.6667; tolerance 1e-12 for one division.
        #expect(isClose(Leviathan.simplifiedSpeedup(alpha: 0.8, draftToTargetTimeRatio: 0.1), 1.8 / 1.08, relative: 1e-12))
        #expect(Leviathan.simplifiedSpeedup(alpha: 0, draftToTargetTimeRatio: 0.5) == 1)
    }
}
