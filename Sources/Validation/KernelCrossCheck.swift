// The engine's GPU step time against another estimator's and against published plain-decoding
// measurements: NVIDIA aiconfigurator's own per-step estimate over a grid (written by
// tools/aiconfigurator/reference_grid.py) and the decode step times of papers and serving-stack
// reports. Pure comparisons; reading files and drawing charts belong to the experiment.

import Analytic
import Foundation

public enum KernelCrossCheck {
    /// One point of aiconfigurator's grid: one forward of `queryTokens` tokens per sequence.
    public struct ReferenceStep: Sendable {
        public var system: String
        public var framework: String
        public var version: String
        public var model: String
        /// Attention tensor-parallel size and MoE expert-parallel size (aiconfigurator's mapping).
        public var tensorParallel: Int
        public var expertParallel: Int
        public var batch: Int
        public var context: Int
        public var queryTokens: Int
        public var stepSeconds: Double
        /// aiconfigurator's per-class split: gemm, attention, moe, communication, other.
        public var classSeconds: [Double]

        /// From a CSV record keyed by the reference file's column names.
        public init(_ record: [String: String]) throws {
            func text(_ key: String) throws -> String {
                guard let value = record[key], !value.isEmpty else { throw AnalyticError("reference row lacks '\(key)'") }
                return value
            }
            func number(_ key: String) throws -> Double {
                guard let value = Double(try text(key)), value.isFinite else { throw AnalyticError("reference column '\(key)' is not a number") }
                return value
            }
            system = try text("system"); framework = try text("framework"); version = try text("version"); model = try text("model")
            tensorParallel = Int(try number("tp")); expertParallel = Int(try number("ep"))
            batch = Int(try number("batch")); context = Int(try number("context")); queryTokens = Int(try number("query_tokens"))
            stepSeconds = try number("step_ms") * 1e-3
            classSeconds = try ["gemm_ms", "attention_ms", "moe_ms", "communication_ms", "other_ms"].map { try number($0) * 1e-3 }
        }

        /// "Llama-3.1-70B TP4" / "DeepSeek-V3 TP8 EP8".
        public var setting: String {
            "\(model) TP\(tensorParallel)" + (expertParallel > 1 ? " EP\(expertParallel)" : "")
        }
    }

    /// The reference's own assumptions for a model that the engine takes as inputs (documented by the
    /// experiment): the MoE routing distribution and the KV-cache dtype it prices.
    public struct Assumption: Codable, Sendable {
        public var model: String
        public var routingSkew: Double?
        public var kvDtype: String?
    }

    /// aiconfigurator's system names → SpecLab hardware presets.
    public static let hardwareNames = ["a100_sxm": "a100-80gb", "h100_sxm": "h100-sxm", "h200_sxm": "h200", "b200_sxm": "b200"]
    /// aiconfigurator's model names → SpecLab model presets.
    public static let modelNames = ["Llama-3.1-8B": "llama-3.1-8b", "Llama-3.1-70B": "llama-3.1-70b",
                                    "Mixtral-8x7B": "mixtral-8x7b", "DeepSeek-V3": "deepseek-v3"]

    /// The engine's configuration for a reference point, or nil with the reason when the engine does not
    /// model that parallel mapping (attention data parallelism).
    public static func config(for step: ReferenceStep, assumptions: [Assumption],
                              kernels: KernelSelection? = nil) throws -> Result<PredictionConfig, AnalyticError> {
        guard let hardwareName = hardwareNames[step.system] else { return .failure(AnalyticError("no preset for system \(step.system)")) }
        guard let modelName = modelNames[step.model] else { return .failure(AnalyticError("no preset for model \(step.model)")) }
        guard step.tensorParallel == max(step.tensorParallel, step.expertParallel) else {
            return .failure(AnalyticError("attention data parallelism (TP\(step.tensorParallel), EP\(step.expertParallel)) is not modelled"))
        }
        var config = PredictionConfig(hardware: try Hardware.preset(named: hardwareName), model: try ModelShape.preset(named: modelName),
                                      method: .ntp, draftLength: 0, batch: step.batch, contextTokens: step.context,
                                      devices: step.tensorParallel, acceptance: .iid(alpha: 0))
        config.kernels = kernels ?? .framework(step.framework)
        config.expertParallel = step.expertParallel > 1
        if let assumption = assumptions.first(where: { $0.model == step.model }) {
            config.routingSkew = assumption.routingSkew ?? 0
            config.kvType = try assumption.kvDtype.map { name in
                guard let type = WeightType(rawValue: name) else { throw AnalyticError("unknown kvDtype '\(name)'") }
                return type
            }
        }
        return .success(config)
    }

    public struct Comparison: Sendable {
        public var reference: ReferenceStep
        /// The engine's forward with measured kernels, and with the roofline (same configuration).
        public var measured: StepCost
        public var roofline: StepCost
        public var relativeError: Double { measured.seconds / reference.stepSeconds - 1 }
        public var rooflineRelativeError: Double { roofline.seconds / reference.stepSeconds - 1 }
    }

    /// Every reference point the engine models, priced by the engine; the others with their reasons.
    public static func compare(_ steps: [ReferenceStep], assumptions: [Assumption]) throws
        -> (compared: [Comparison], skipped: [(ReferenceStep, String)]) {
        var compared: [Comparison] = [], skipped: [(ReferenceStep, String)] = []
        var predictors: [String: (Predictor, Predictor)] = [:]
        for step in steps {
            let key = "\(step.system)|\(step.framework)|\(step.model)|\(step.tensorParallel)|\(step.expertParallel)"
            if predictors[key] == nil {
                switch try config(for: step, assumptions: assumptions) {
                case .failure(let error): skipped.append((step, error.message)); continue
                case .success(var config):
                    // Memory is not this check's concern: the reference keeps only points that fit.
                    config.batch = 1; config.contextTokens = 0
                    var roofline = config
                    roofline.kernels = .roofline
                    predictors[key] = (try Predictor(config), try Predictor(roofline))
                }
            }
            guard let (measured, roofline) = predictors[key] else { continue }
            compared.append(Comparison(
                reference: step,
                measured: measured.targetForward(tokensPerSequence: step.queryTokens, batch: step.batch, contextTokens: step.context),
                roofline: roofline.targetForward(tokensPerSequence: step.queryTokens, batch: step.batch, contextTokens: step.context)))
        }
        return (compared, skipped)
    }

    /// A published plain-decoding measurement: one decode step of a model on a GPU.
    public struct PublishedStep: Sendable {
        public var source: String
        public var hardware: String
        public var model: String
        public var devices: Int
        public var batch: Int
        public var context: Int
        public var runtime: String
        /// Kernel model: the serving framework's tables where the measurement was taken on it (vllm,
        /// sglang, trtllm), else auto (the default framework's tables, or the roofline).
        public var kernels: String
        public var stepSeconds: Double
        public var note: String

        public init(_ record: [String: String]) throws {
            func text(_ key: String) throws -> String {
                guard let value = record[key], !value.isEmpty else { throw AnalyticError("published row lacks '\(key)'") }
                return value
            }
            func integer(_ key: String) throws -> Int {
                guard let value = Int(try text(key)) else { throw AnalyticError("published column '\(key)' is not an integer") }
                return value
            }
            source = try text("source"); hardware = try text("hardware"); model = try text("model")
            devices = try integer("devices"); batch = try integer("batch"); context = try integer("context")
            runtime = try text("runtime")
            kernels = record["kernels"].flatMap { $0.isEmpty ? nil : $0 } ?? "auto"
            guard let ms = Double(try text("published_step_ms")), ms > 0 else { throw AnalyticError("published_step_ms is not a positive number") }
            stepSeconds = ms * 1e-3
            note = record["note"] ?? ""
        }
    }

    /// The engine's plain decoding step for a published measurement, with its default kernels (measured
    /// where bundled) and the runtime the measurement used.
    public static func predict(_ published: PublishedStep) throws -> (prediction: Prediction, pricedBy: String) {
        var config = PredictionConfig(hardware: try Hardware.preset(named: published.hardware), model: try ModelShape.preset(named: published.model),
                                      method: .ntp, draftLength: 0, batch: published.batch, contextTokens: published.context,
                                      devices: published.devices, acceptance: .iid(alpha: 0))
        config.overhead = try RuntimeOverhead.preset(named: published.runtime)
        config.hardware.overhead = config.overhead!
        config.kernels = try KernelSelection.named(published.kernels)
        let predictor = try Predictor(config)
        return (try predictor.predict(), predictor.pricedBy)
    }
}
