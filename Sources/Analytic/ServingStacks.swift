// The constants of a serving stack that measurements can set (`speclab fit`, experiment 036), and the
// graph family's values: fitted on every source of the development set together; their
// leave-one-source-out error is experiment 036's table (the DocC article "Serving stacks").

import Foundation

/// One free constant of a runtime profile: its JSON key, unit for display, and where it lives.
public enum StackConstant: String, CaseIterable, Sendable, Codable {
    case perForwardSeconds, perLayerSeconds, perCycleSeconds, perDraftStepSeconds, draftExtendSeconds,
         treeSecondsPerNode, extendAttentionRereadFraction, schedulerSeconds, schedulerSecondsPerSequence

    public var keyPath: WritableKeyPath<RuntimeOverhead, Double> {
        switch self {
        case .perForwardSeconds: \.perForwardSeconds
        case .perLayerSeconds: \.perLayerSeconds
        case .perCycleSeconds: \.perCycleSeconds
        case .perDraftStepSeconds: \.perDraftStepSeconds
        case .draftExtendSeconds: \.draftExtendSeconds
        case .treeSecondsPerNode: \.treeSecondsPerNode
        case .extendAttentionRereadFraction: \.extendAttentionRereadFraction
        case .schedulerSeconds: \.schedulerSeconds
        case .schedulerSecondsPerSequence: \.schedulerSecondsPerSequence
        }
    }

    /// Seconds are shown (and fitted) in microseconds; the fraction as it is.
    public var displayScale: Double { self == .extendAttentionRereadFraction ? 1 : 1e6 }
    public var displayUnit: String { self == .extendAttentionRereadFraction ? "" : "µs" }

    /// The physical range a fit may place the constant in (display units). Costs are non-negative and a
    /// fixed cost is below 100 ms: a whole decode forward of every model and device here takes less, so a
    /// larger value is not a fixed cost but a fit that has lost its scale (speedups are ratios, and a pure
    /// overhead model fits them at any scale). The re-read fraction runs from 0 (the k queries of a
    /// sequence share one pass over its cache, as FlashAttention-style extend kernels do) to 1 (every extra
    /// query reads the whole cache again: no sharing at all).
    public var bounds: ClosedRange<Double> {
        self == .extendAttentionRereadFraction ? 0...1 : 0...100_000
    }

    /// Parses a comma-separated list of constant names.
    public static func parseList(_ text: String) throws -> [StackConstant] {
        var out: [StackConstant] = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            guard let constant = StackConstant(rawValue: part) else {
                throw AnalyticError("unknown stack constant '\(part)'; valid: \(allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if !out.contains(constant) { out.append(constant) }
        }
        guard !out.isEmpty else { throw AnalyticError("name at least one stack constant") }
        return out
    }
}

extension RuntimeOverhead {
    /// This profile with `values` (display units) for `constants`.
    public func with(_ constants: [StackConstant], values: [Double]) -> RuntimeOverhead {
        var out = self
        for (constant, value) in zip(constants, values) { out[keyPath: constant.keyPath] = value / constant.displayScale }
        return out
    }

    /// The values (display units) of `constants` in this profile.
    public func values(_ constants: [StackConstant]) -> [Double] {
        constants.map { self[keyPath: $0.keyPath] * $0.displayScale }
    }
}

/// The graph family's constants (CUDA-graph stacks: vllm, sglang, trt-llm, gpt-fast), fitted by experiment
/// 036 to every serving source together (vLLM EAGLE on H100, MagicDec self-speculation, SGLang MTP on
/// MI300X): per forward 288 ± 137 µs, per-sequence scheduler 106 ± 61 µs, extend-attention re-read
/// 0.34 ± 0.10, per draft step at its bound 0 (the per-forward cost already covers the drafter's). Their
/// leave-one-source-out errors are that experiment's table; the per-cycle cost is aiconfigurator's order
/// of magnitude, not fitted.
enum GraphFamily {
    static let perForwardSeconds = 288e-6
    static let perCycleSeconds = 30e-6
    static let perDraftStepSeconds = 0.0
    static let draftExtendSeconds = 0.0
    static let treeSecondsPerNode = 0.0
    static let extendAttentionRereadFraction = 0.34
    static let schedulerSeconds = 0.0
    static let schedulerSecondsPerSequence = 106e-6
}
