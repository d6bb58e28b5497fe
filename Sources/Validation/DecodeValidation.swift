// The engine against the reference model's decodes: for one measured decode
// point, the engine's configuration (the method's workload from the registry,
// the CPU calibrated in the same run, trees sized as they were measured) and
// its predicted decode-phase speedup — at the measured τ, which isolates the
// cost model, and at τ measured on other prompts (a calibration split), which
// is a prediction made without the point's own acceptance.

import Analytic
import Decoding
import Foundation
import Methods
import Transformer

public enum DecodeValidation {
    /// One measured point: the method, its counters on the measured prompts and on the calibration prompts.
    public struct Point {
        public var method: MethodDescriptor
        public var measured: DecodeStats
        /// The same decode on the calibration prompts (nil: not run).
        public var calibration: DecodeStats?
        /// Decode-phase speedup over plain decoding, measured in the same run (nil without a baseline).
        public var measuredSpeedup: Double?
        public var draftLength: Int
        public var treeTopK: Int
        public var beamWidth: Int
        public var target: ModelConfig
        /// The draft model's shape (methods that draft with a separate model).
        public var draftModel: ModelShape?
        /// Cached tokens at the middle of the generation (prompt + half the budget).
        public var contextTokens: Int
        /// Sequences decoded together (each verify forward carries one draft per sequence).
        public var batch: Int

        public init(method: MethodDescriptor, measured: DecodeStats, calibration: DecodeStats?, measuredSpeedup: Double?,
                    draftLength: Int, treeTopK: Int, beamWidth: Int, target: ModelConfig, draftModel: ModelShape?,
                    contextTokens: Int, batch: Int = 1) {
            self.method = method; self.measured = measured; self.calibration = calibration
            self.measuredSpeedup = measuredSpeedup; self.draftLength = draftLength; self.treeTopK = treeTopK
            self.beamWidth = beamWidth; self.target = target; self.draftModel = draftModel; self.contextTokens = contextTokens
            self.batch = batch
        }
    }

    /// One row of a decode experiment's validation table; `note` says why a prediction is missing.
    public struct Row {
        public var measuredTau: Double
        public var predictedTau: Double?
        public var measuredSpeedup: Double?
        public var predictedSpeedup: Double?
        public var predictedSpeedupFromPredictedTau: Double?
        public var note: String?

        public var relativeError: Double? {
            guard let predictedSpeedup, let measuredSpeedup else { return nil }
            return (predictedSpeedup - measuredSpeedup) / measuredSpeedup
        }
    }

    /// The engine's configuration of a measured point at acceptance τ, or nil with the method's engine gap.
    public static func config(_ point: Point, hardware: Hardware, tau: Double) throws -> PredictionConfig {
        let workload = try MethodRegistry.workload(named: point.method.name,
                                                      EngineOptions(implementation: .referenceModel, beamWidth: point.beamWidth))
        let s = point.measured
        // Trees: depth = the deepest draft, verify tokens = the mean nodes per round (root included).
        let isTree = workload.supportsTree && (s.drafted != s.maxDraftDepth * s.rounds)
        let depth = isTree ? max(1, s.maxDraftDepth) : point.draftLength
        let nodes = Int((Double(s.drafted) / Double(max(s.rounds, 1))).rounded()) + 1
        return PredictionConfig(
            hardware: hardware, model: Calibration.modelShape(point.target), method: workload,
            draftModel: workload.drafter == .draftModel ? point.draftModel : nil, draftLength: depth,
            treeSize: isTree ? max(nodes, depth + 1) : nil, treeTopK: point.treeTopK, batch: point.batch,
            contextTokens: point.contextTokens, acceptance: .meanAcceptedLength(tau: min(max(tau, 1), Double(depth + 1))))
    }

    /// The row of one point: τ measured and on the calibration prompts, the speedup measured and predicted.
    /// `hardware` nil: the experiment calibrated no engine (its predictions are left out, and said so).
    public static func row(_ point: Point, hardware: Hardware?) -> Row {
        var row = Row(measuredTau: point.measured.tau, predictedTau: point.calibration?.tau,
                      measuredSpeedup: point.measuredSpeedup)
        guard let hardware else {
            row.note = "no engine calibrated in this experiment (\"predict\": false)"
            return row
        }
        guard point.measuredSpeedup != nil else {
            row.note = "no plain-decoding baseline to measure a speedup against"
            return row
        }
        do {
            row.predictedSpeedup = try Predictor(config(point, hardware: hardware, tau: point.measured.tau)).predict().speedup
            if let tau = row.predictedTau {
                row.predictedSpeedupFromPredictedTau = try Predictor(config(point, hardware: hardware, tau: tau)).predict().speedup
            }
        } catch {
            row.note = "\(error)"
        }
        return row
    }
}
