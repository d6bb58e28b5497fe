// Decode-phase speedup over batch, measured on the reference model and predicted by the engine: the
// comparison behind `speclab validate`'s oracle rows and experiment 026 (the batch effect).
//
// A drafter — one with a known acceptance (the oracle: the target's greedy continuation, each draft
// corrupted with probability 1 − α) or a trained one — decodes the same prompts `batch` at a time and
// plainly right after; the engine, given the measured τ, prices the method's registry workload at that
// batch through the same configuration as a decode experiment's validation. The crossover batch (where
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
    /// What decodes at each batch: the method, its drafter (nil: none, or the oracle), tree and draft length.
    public struct Decoder: Sendable {
        public var method: String
        public var drafter: URL?
        public var tree: TreeSpec
        public var draftLength: Int
        /// The oracle's acceptance (its drafts corrupted with probability 1 − α).
        public var oracleAlpha: Double
        /// The draft model's shape (methods that draft with a separate model).
        public var draftModel: ModelShape?

        public init(method: String, drafter: URL? = nil, tree: TreeSpec = TreeSpec(), draftLength: Int,
                    oracleAlpha: Double = 0.8, draftModel: ModelShape? = nil) {
            self.method = method; self.drafter = drafter; self.tree = tree; self.draftLength = draftLength
            self.oracleAlpha = oracleAlpha; self.draftModel = draftModel
        }
    }

    /// Decodes `session`'s prompts with `decoder` at `batch` (greedy, with the plain baseline) and predicts the
    /// speedup for the same batch and mean context, as a decode experiment's validation does (the method's
    /// reference-model workload, trees sized as measured), at the measured τ.
    public static func point(_ session: DecodeSession, _ decoder: Decoder, batch: Int, seed: UInt64, hardware: Hardware,
                             contextTokens: Int) throws -> BatchSpeedupPoint {
        let report = try session.measure(method: decoder.method, drafter: decoder.drafter, draftLength: decoder.draftLength,
                                         settings: .greedy, seed: seed, baseline: true, tree: decoder.tree, batch: batch,
                                         oracleAlpha: decoder.oracleAlpha)
        let point = DecodeValidation.Point(
            method: try MethodRegistry.method(named: decoder.method), measured: report.stats, calibration: nil,
            measuredSpeedup: report.decodeSpeedup, draftLength: decoder.draftLength, treeTopK: decoder.tree.topK,
            beamWidth: 4, target: session.model.config, draftModel: decoder.draftModel, contextTokens: contextTokens,
            batch: batch)
        let predicted = try Predictor(DecodeValidation.config(point, hardware: hardware, tau: report.stats.tau)).predict().speedup
        return BatchSpeedupPoint(batch: batch, report: report, predictedSpeedup: predicted)
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
