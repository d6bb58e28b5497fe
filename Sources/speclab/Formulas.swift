// speclab speedup / optimal-gamma: Leviathan et al.'s closed forms.

import Analytic
import ArgumentParser
import Experiments
import Files
import Foundation

struct Speedup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Leviathan et al. 2023: expected tokens, walltime improvement and operations factor.")

    @Option(parsing: .unconditional, help: "Per-token acceptance rate α in [0, 1].") var alpha: Double
    @Option(parsing: .unconditional, help: "Draft length γ (>= 0).") var gamma: Int
    @Option(parsing: .unconditional, help: "Cost ratio c = draft step time / target step time (>= 0).") var c: Double
    @Option(name: .customLong("c-hat"), parsing: .unconditional, help: "Arithmetic ratio ĉ for the operations factor (default: c).") var cHat: Double?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try Check.probability(alpha, "--alpha")
        try Check.within(gamma, from: 0, Limits.draftLength, "--gamma")
        try Check.nonNegative(c, "--c")
        let cHatValue = cHat ?? c
        try Check.nonNegative(cHatValue, "--c-hat")
        let expected = Leviathan.expectedTokens(alpha: alpha, gamma: gamma)
        let speedup = Leviathan.walltimeImprovement(alpha: alpha, gamma: gamma, c: c)
        let ops = Leviathan.operationsFactor(alpha: alpha, gamma: gamma, cHat: cHatValue)
        if json {
            say("{\"expected_tokens\": \(JSONNumber(expected)), \"speedup\": \(JSONNumber(speedup)), \"ops_factor\": \(JSONNumber(ops))}")
        } else {
            say("expected tokens per target forward  \(format(expected, 4))   (1 − α^(γ+1)) / (1 − α)")
            say("walltime improvement                \(format(speedup, 4))×  E / (γc + 1)")
            say("operations factor                   \(format(ops, 4))×  (γĉ + γ + 1) / E")
        }
    }
}

struct OptimalGamma: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optimal-gamma",
        abstract: "The draft length γ that maximises Leviathan's walltime improvement.")

    @Option(parsing: .unconditional, help: "Per-token acceptance rate α in [0, 1].") var alpha: Double
    @Option(parsing: .unconditional, help: "Cost ratio c = draft step time / target step time (>= 0).") var c: Double
    @Option(name: .customLong("max-gamma"), parsing: .unconditional, help: "Largest γ to consider.") var maxGamma = 64
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try Check.probability(alpha, "--alpha")
        try Check.nonNegative(c, "--c")
        try Check.within(maxGamma, from: 1, Limits.draftLength, "--max-gamma")
        let best = Leviathan.optimalGamma(alpha: alpha, c: c, maxGamma: maxGamma)
        if json {
            say("{\"gamma\": \(best.gamma), \"speedup\": \(JSONNumber(best.speedup))}")
        } else {
            say("best draft length γ = \(best.gamma), walltime improvement \(format(best.speedup, 4))×")
            if let gain = Leviathan.guaranteedGain(alpha: alpha, c: c) {
                say("(α > c: speculation pays; γ = 1 alone gives at least \(format(gain, 4))×)")
            } else {
                say("(α ≤ c: no draft length pays off)")
            }
        }
    }
}

func JSONNumber(_ value: Double) -> String { JSONText.number(value) }
