// Decode-phase speedup over batch, measured on the reference model and predicted by the engine: the
// comparison behind `speclab validate`'s oracle rows and experiment 026 (the batch effect).
//
// A drafter with a known acceptance (the oracle: the target's greedy continuation, each draft corrupted
// with probability 1 − α) decodes the same prompts `batch` at a time and plainly right after; the engine,
// given the measured τ, prices the method's registry workload at that batch. The crossover batch (where
// speculation stops paying) is read off both curves the same way.

import Analytic
import Foundation
import Methods

/// One predicted-vs-measured comparison.
public struct ValidationRow: Sendable {
    public var group: String
    public var setting: String
    public var predicted: Double
    public var measured: Double
    public var relativeError: Double { (predicted - measured) / measured }

    public init(group: String, setting: String, predicted: Double, measured: Double) {
        self.group = group; self.setting = setting; self.predicted = predicted; self.measured = measured
    }

    /// Median |relative error| of the rows of one group (NaN when it has none).
    public static func medianAbsoluteError(_ rows: [ValidationRow], group: String) -> Double {
        let errors = rows.filter { $0.group == group }.map { abs($0.relativeError) }.sorted()
        return errors.isEmpty ? .nan : errors[errors.count / 2]
    }
}

/// One batch size of one method: what the loop measured and what the engine predicts at the measured τ.
public struct BatchSpeedupPoint: Sendable {
    public var batch: Int
    public var report: DecodeReport
    /// τ measured (round tokens per target forward).
    public var tau: Double { report.stats.tau }
    /// Decode-phase speedup over plain decoding of the same batch (nil without a baseline).
    public var measuredSpeedup: Double? { report.decodeSpeedup }
    public var predictedSpeedup: Double
}

public enum BatchSpeedupValidation {
    /// Decodes `session`'s prompts with `method` at `batch` (greedy, with the plain baseline) and predicts
    /// the speedup for the same batch and mean context.
    public static func point(_ session: DecodeSession, method: String, alpha: Double, draftLength: Int, batch: Int,
                             seed: UInt64, hardware: Hardware, model: ModelShape, contextTokens: Int) throws
        -> BatchSpeedupPoint {
        let report = try session.measure(method: method, drafter: nil, draftLength: draftLength, settings: .greedy,
                                         seed: seed, baseline: true, batch: batch, oracleAlpha: alpha)
        let predicted = try predictedSpeedup(method: method, hardware: hardware, model: model, draftLength: draftLength,
                                             batch: batch, contextTokens: contextTokens, tau: report.stats.tau)
        return BatchSpeedupPoint(batch: batch, report: report, predictedSpeedup: predicted)
    }

    /// The engine's speedup for `method`'s registry workload, acceptance given as the measured τ
    /// (clamped to 1…γ + 1, the range a chain of γ drafts can produce).
    public static func predictedSpeedup(method: String, hardware: Hardware, model: ModelShape, draftLength: Int,
                                        batch: Int, contextTokens: Int, tau: Double) throws -> Double {
        try Predictor(PredictionConfig(
            hardware: hardware, model: model, method: try MethodRegistry.workload(named: method, EngineOptions(implementation: .referenceModel)), draftLength: draftLength,
            batch: batch, contextTokens: contextTokens,
            acceptance: .meanAcceptedLength(tau: min(max(tau, 1), Double(draftLength + 1))))).predict().speedup
    }

    /// The batch at which a speedup curve (batch, speedup), batches ascending, crosses 1: geometric
    /// interpolation between the two batch sizes around the crossing; or where it lies outside them.
    public static func crossoverBatch(_ points: [(batch: Int, speedup: Double)]) -> String {
        guard let first = points.first else { return "?" }
        guard first.speedup >= 1 else { return "below 1 from batch \(first.batch)" }
        for (a, c) in zip(points, points.dropFirst()) where a.speedup >= 1 && c.speedup < 1 {
            let t = (a.speedup - 1) / (a.speedup - c.speedup)
            let logBatch = log(Double(a.batch)) + t * (log(Double(c.batch)) - log(Double(a.batch)))
            return String(format: "%.1f", exp(logBatch))
        }
        return "beyond \(points.last!.batch)"
    }
}
