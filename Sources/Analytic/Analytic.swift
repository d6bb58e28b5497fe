// Analytic: the analytic engine of SpecLab.
//
// Pure functions over value types: hardware and model-shape presets, the
// roofline cost of one forward over k new tokens for b sequences at context L,
// the cost of every drafting method, acceptance models, the speculation cycle,
// speedups, best draft length and the batch crossover.
//
// Depends on Foundation only (JSON decoding of user presets). No file output,
// no printing, no GSL: the CLI and the Experiments module do I/O.

import Foundation

/// Every bad input the engine can see, each with a one-line message that says
/// what is wrong and what to do instead.
public struct AnalyticError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    /// What went wrong, for code that handles some errors and passes the rest on.
    public enum Reason: Sendable, Equatable {
        /// A setting the engine refuses (the user's to fix).
        case invalid
        /// Weights and KV cache exceed the devices' memory: a sweep keeps the point as skipped.
        case doesNotFit
    }

    public let message: String
    public let reason: Reason
    public init(_ message: String, reason: Reason = .invalid) { self.message = message; self.reason = reason }
    public var description: String { message }
    public var errorDescription: String? { message }

    static func unknownPreset(kind: String, name: String, valid: [String]) -> AnalyticError {
        AnalyticError("unknown \(kind) '\(name)'; valid names: \(valid.joined(separator: ", "))")
    }
}

/// Validation helpers shared by every entry point (CLI, sweeps, experiments).
public enum Check {
    public static func probability(_ value: Double, _ name: @autoclosure () -> String) throws {
        guard value.isFinite, value >= 0, value <= 1 else {
            throw AnalyticError("\(name()) must be in [0, 1], got \(format(value))")
        }
    }
    public static func positive(_ value: Double, _ name: @autoclosure () -> String) throws {
        guard value.isFinite, value > 0 else {
            throw AnalyticError("\(name()) must be > 0, got \(format(value))")
        }
    }
    public static func nonNegative(_ value: Double, _ name: @autoclosure () -> String) throws {
        guard value.isFinite, value >= 0 else {
            throw AnalyticError("\(name()) must be >= 0, got \(format(value))")
        }
    }
    public static func atLeast(_ value: Int, _ minimum: Int, _ name: @autoclosure () -> String) throws {
        guard value >= minimum else {
            throw AnalyticError("\(name()) must be >= \(minimum), got \(value)")
        }
    }
    /// Bounds an integer from both sides; `why` says what the upper bound stands for.
    public static func within(_ value: Int, _ range: ClosedRange<Int>, _ name: @autoclosure () -> String,
                              _ why: @autoclosure () -> String) throws {
        guard range.contains(value) else {
            if value < range.lowerBound { throw AnalyticError("\(name()) must be >= \(range.lowerBound), got \(value)") }
            throw AnalyticError("\(name()) must be <= \(range.upperBound) (\(why())), got \(value)")
        }
    }
    /// Bounds an integer below by `minimum` and above by `limit`, whose meaning the message gives.
    public static func within(_ value: Int, from minimum: Int, _ limit: Limit, _ name: @autoclosure () -> String) throws {
        try within(value, minimum...limit.maximum, name(), limit.meaning)
    }
    static func format(_ value: Double) -> String {
        value.isFinite ? String(value) : "\(value)"
    }
}

/// Upper bounds of the settings the engine takes, each far beyond any real deployment: a value past one is
/// a typo, and would otherwise make loops over it run for hours or sizes overflow.
public enum Limits {
    /// Draft length / speculation length γ.
    public static let draftLength = Limit(maximum: 1024, meaning: "a longer chain than any drafter proposes")
    /// Verified tree size (tokens).
    public static let treeSize = Limit(maximum: 65_536, meaning: "verified tokens per sequence")
    /// Beam width of the beam methods (rows per depth).
    public static let beamWidth = Limit(maximum: 65_536, meaning: "beams per depth, more than any vocabulary ranks usefully")
    /// Lookahead decoding's n-gram length N.
    public static let lookaheadNgram = Limit(maximum: 64, meaning: "n-grams longer than any pool keeps")
    /// Sequences per batch.
    public static let batch = Limit(maximum: 1 << 20, meaning: "over a million sequences in one batch")
    /// Context tokens (16 M).
    public static let context = Limit(maximum: 1 << 24, meaning: "16 M tokens")
    /// Devices of one model replica.
    public static let devices = Limit(maximum: 4096, meaning: "devices of one model replica")
}

/// An upper bound and what it stands for (said in the message that refuses a value past it).
public struct Limit: Sendable {
    public let maximum: Int
    public let meaning: String
}

/// Formatting of byte and time quantities for messages.
public enum Units {
    public static func gigabytes(_ bytes: Double) -> String {
        String(format: "%.1f GB", bytes / 1e9)
    }
}
