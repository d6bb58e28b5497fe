// Shared helpers for the Analytic tests: error expectations, a seeded
// generator for Monte-Carlo checks, presets and tolerance comparisons.

import Foundation
import Testing
@testable import Analytic

/// Runs `body`, expects it to throw an `AnalyticError`, and returns it.
/// Records an issue (at the caller) when nothing or something else is thrown.
@discardableResult
func expectAnalyticError(mentioning fragments: [String] = [],
                         sourceLocation: SourceLocation = #_sourceLocation,
                         _ body: () throws -> Void) -> AnalyticError? {
    do {
        try body()
    } catch let error as AnalyticError {
        // The CLI prints these verbatim: one line, naming what is wrong.
        #expect(!error.message.contains("\n"), "message is not one line: \(error.message)",
                sourceLocation: sourceLocation)
        #expect(!error.message.isEmpty, sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(error.message.contains(fragment), "message lacks '\(fragment)': \(error.message)",
                    sourceLocation: sourceLocation)
        }
        return error
    } catch {
        Issue.record("expected an AnalyticError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return nil
    }
    Issue.record("expected an AnalyticError, nothing was thrown", sourceLocation: sourceLocation)
    return nil
}

/// |actual − expected| ≤ tolerance (absolute).
func isClose(_ actual: Double, _ expected: Double, absolute tolerance: Double) -> Bool {
    abs(actual - expected) <= tolerance
}

/// |actual − expected| ≤ tolerance · |expected| (relative).
func isClose(_ actual: Double, _ expected: Double, relative tolerance: Double) -> Bool {
    abs(actual - expected) <= tolerance * abs(expected)
}

/// SplitMix64 (Steele, Lea, Flood 2014): a small seeded generator, written
/// here so the Monte-Carlo checks do not depend on the code under test.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func hardware(_ name: String) throws -> Hardware { try Hardware.preset(named: name) }
func model(_ name: String) throws -> ModelShape { try ModelShape.preset(named: name) }
