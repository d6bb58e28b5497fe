// Tests of RootFinding.brent on roots known in closed form and on inverting
// the expected accepted length of speculative decoding.

import Testing
import LinAlg

/// Expected tokens per target forward with draft length γ and i.i.d.
/// acceptance α: τ = (1 − α^(γ+1)) / (1 − α) (Leviathan et al. 2023, eq. 1).
private func expectedTokensPerCycle(acceptance: Double, draftLength: Int) -> Double {
    (1 - power(acceptance, draftLength + 1)) / (1 - acceptance)
}

/// base^exponent by repeated multiplication (LinAlg tests do not import Foundation).
private func power(_ base: Double, _ exponent: Int) -> Double {
    var result = 1.0
    for _ in 0..<exponent { result *= base }
    return result
}

@Suite("RootFinding")
struct RootFindingTests {
    /// The bracket width at convergence bounds the error: 1e-12 + 1e-12·|x| < 3e-12.
    @Test("x³ − 2 = 0 gives the cube root of 2")
    func cubeRootOfTwo() throws {
        let root = try RootFinding.brent(f: { x in x * x * x - 2 }, lower: 0, upper: 2, tolerance: 1e-12)
        #expect(abs(root - 1.259_921_049_894_873_2) < 3e-12)
    }

    /// Round trip: τ computed from a known α, then α recovered from τ. The
    /// tolerance 1e-9 is the solver's 1e-12 bracket plus the error of τ's
    /// rounding (~1e-15) divided by dτ/dα ≥ 1.
    @Test("solving (1 − a^(g+1))/(1 − a) = τ for a recovers the acceptance rate",
          arguments: [(0.8, 5), (0.5, 1), (0.95, 8), (0.3, 3), (0.6, 4)])
    func invertAcceptedLength(acceptance: Double, draftLength: Int) throws {
        let target = expectedTokensPerCycle(acceptance: acceptance, draftLength: draftLength)
        let solved = try RootFinding.brent(
            f: { a in expectedTokensPerCycle(acceptance: a, draftLength: draftLength) - target },
            lower: 0, upper: 1 - 1e-9, tolerance: 1e-12)
        #expect(abs(solved - acceptance) < 1e-9)
        // The geometric series 1 + a + … + a^g equals the closed form at the solution.
        let series = (0...draftLength).reduce(0.0) { sum, exponent in sum + power(solved, exponent) }
        #expect(abs(series - target) < 1e-9)
    }

    @Test("a bracket without a sign change throws, naming both values")
    func noSignChange() {
        #expect(throws: RootFindingError.bracketDoesNotChangeSign(lower: -1, upper: 1,
                                                                  valueAtLower: 2, valueAtUpper: 2)) {
            try RootFinding.brent(f: { x in x * x + 1 }, lower: -1, upper: 1)
        }
    }

    @Test("invalid brackets, non-finite values and iteration limits throw typed errors")
    func otherErrors() {
        #expect(throws: RootFindingError.invalidBracket(lower: 2, upper: 1)) {
            try RootFinding.brent(f: { x in x }, lower: 2, upper: 1)
        }
        // NaN inside the bracket: Brent must step into (0.1, 0.9) to converge on 0.5.
        do {
            _ = try RootFinding.brent(f: { x in x > 0.1 && x < 0.9 ? .nan : x - 0.5 }, lower: 0, upper: 1)
            Issue.record("expected a nonFiniteValue error")
        } catch {
            guard case .nonFiniteValue(let x, _) = error else {
                Issue.record("expected nonFiniteValue, got \(error)"); return
            }
            #expect(x > 0.1 && x < 0.9)
        }
        do {
            _ = try RootFinding.brent(f: { x in x * x * x - 2 }, lower: 0, upper: 2,
                                      tolerance: 1e-300, relativeTolerance: 0, maxIterations: 2)
            Issue.record("expected a didNotConverge error")
        } catch {
            #expect(error == .didNotConverge(iterations: 2, lower: error.bracket.lower, upper: error.bracket.upper))
        }
        // A root exactly at an endpoint is returned without iterating.
        #expect((try? RootFinding.brent(f: { x in x - 1 }, lower: 1, upper: 3)) == 1)
    }
}

private extension RootFindingError {
    var bracket: (lower: Double, upper: Double) {
        if case let .didNotConverge(_, lower, upper) = self { return (lower, upper) }
        return (.nan, .nan)
    }
}
