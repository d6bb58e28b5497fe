// Requests: what a user asks the engine, as CLI flags or an experiment's config.json (preset names or
// files, a method of the registry, one acceptance source), resolved into a validated `PredictionConfig`;
// and the fixed key order in which predictions are printed and tabulated.

import Analytic
import Files
import Foundation
import Methods

/// A prediction request as the user writes it: preset names or files, and
/// exactly one acceptance source. The same fields appear as CLI flags and in
/// an experiment's config.json.
public struct PredictRequest: Codable, Sendable, Equatable {
    public var hardware: String?
    public var hardwareFile: String?
    public var runtime: String?
    /// A runtime profile from a JSON file (instead of a named `runtime`).
    public var runtimeFile: String?
    public var model: String?
    public var modelFile: String?
    public var method: String?
    public var draftModel: String?
    public var draftModelFile: String?
    public var draftLength: Int?
    /// Beam methods (mtad, mtjd): rows per depth of the beam.
    public var beamWidth: Int?
    /// Lookahead decoding: n-gram length N, Jacobi levels per forward, pool n-grams G per forward.
    public var lookaheadNgram: Int?
    public var lookaheadLevels: Int?
    public var lookaheadGuesses: Int?
    public var treeSize: Int?
    public var treeTopK: Int?
    public var eagle3DraftVocab: Int?
    public var batch: Int?
    public var context: Int?
    public var sourceLength: Int?
    public var devices: Int?
    public var dtype: String?
    public var alpha: Double?
    public var alphas: [Double]?
    public var tau: Double?
    public var acceptanceFile: String?
    /// Kernel model: auto (measured where bundled), roofline, or a framework (sglang, vllm, trtllm).
    public var kernels: String?
    /// Measured kernel tables from a JSON file (as tools/aiconfigurator/convert_kernels.py writes).
    public var kernelsFile: String?
    /// MoE: experts split by expert parallelism; routing skew of the measured expert kernels.
    public var expertParallel: Bool?
    public var routingSkew: Double?
    /// KV-cache dtype (bf16, fp16, fp8, fp32).
    public var kvDtype: String?
    /// The drafter's KV budget (tokens) and its own device count.
    public var draftKVBudget: Int?
    public var draftDevices: Int?
    /// A request end to end: prompt and generated tokens per sequence (decode priced at the mean context,
    /// input + output / 2; exclusive with `context`).
    public var inputLength: Int?
    public var outputLength: Int?

    public init() {}

    /// Fields of `other` that are set override this request's.
    public func merged(with other: PredictRequest) -> PredictRequest {
        var result = self
        func take<T>(_ path: WritableKeyPath<PredictRequest, T?>) {
            if let value = other[keyPath: path] { result[keyPath: path] = value }
        }
        take(\.hardware); take(\.hardwareFile); take(\.runtime); take(\.runtimeFile); take(\.model); take(\.modelFile)
        if other.runtimeFile != nil { result.runtime = nil }
        if other.runtime != nil { result.runtimeFile = nil }
        take(\.method); take(\.draftModel); take(\.draftModelFile); take(\.draftLength); take(\.beamWidth); take(\.treeSize)
        take(\.lookaheadNgram); take(\.lookaheadLevels); take(\.lookaheadGuesses)
        take(\.treeTopK); take(\.eagle3DraftVocab); take(\.batch); take(\.context); take(\.sourceLength)
        take(\.devices); take(\.dtype); take(\.kernels); take(\.kernelsFile)
        take(\.expertParallel); take(\.routingSkew); take(\.kvDtype); take(\.draftKVBudget); take(\.draftDevices)
        take(\.inputLength); take(\.outputLength)
        if other.context != nil { result.inputLength = nil; result.outputLength = nil }
        if other.inputLength != nil { result.context = nil }
        if other.kernelsFile != nil { result.kernels = nil }
        if other.kernels != nil { result.kernelsFile = nil }
        // A preset and a file for the same thing are alternatives: the override's choice replaces the base's.
        if other.hardwareFile != nil { result.hardware = nil }
        if other.hardware != nil { result.hardwareFile = nil }
        if other.modelFile != nil { result.model = nil }
        if other.model != nil { result.modelFile = nil }
        if other.draftModelFile != nil { result.draftModel = nil }
        if other.draftModel != nil { result.draftModelFile = nil }
        if other.alpha != nil || other.alphas != nil || other.tau != nil || other.acceptanceFile != nil {
            result.alpha = other.alpha; result.alphas = other.alphas
            result.tau = other.tau; result.acceptanceFile = other.acceptanceFile
        }
        return result
    }

    /// Resolves presets and files into a validated engine configuration.
    /// `baseDirectory` resolves relative file paths (an experiment's directory).
    public func resolve(baseDirectory: URL? = nil) throws -> PredictionConfig {
        func path(_ file: String) -> String {
            guard let base = baseDirectory, !file.hasPrefix("/") else { return file }
            return base.appendingPathComponent(file).path
        }
        if hardware != nil, hardwareFile != nil {
            throw AnalyticError("give --hardware or --hardware-file, not both")
        }
        if model != nil, modelFile != nil { throw AnalyticError("give --model or --model-file, not both") }
        if draftModel != nil, draftModelFile != nil {
            throw AnalyticError("give --draft-model or --draft-model-file, not both")
        }
        var hardwareValue: Hardware
        if let file = hardwareFile { hardwareValue = try Hardware.load(fromFile: path(file)) }
        else if let name = hardware { hardwareValue = try Hardware.preset(named: name) }
        else { throw AnalyticError("missing --hardware (one of \(Hardware.presetNames.joined(separator: ", "))) or --hardware-file") }
        if runtime != nil, runtimeFile != nil { throw AnalyticError("give --runtime or --runtime-file, not both") }
        var overhead = try runtime.map { try RuntimeOverhead.preset(named: $0) }
        if let file = runtimeFile { overhead = try RuntimeOverhead.load(fromFile: path(file)) }
        if overhead != nil { hardwareValue.overhead = overhead! }

        let modelValue: ModelShape
        if let file = modelFile { modelValue = try ModelShape.load(fromFile: path(file)) }
        else if let name = model { modelValue = try ModelShape.preset(named: name) }
        else { throw AnalyticError("missing --model (one of \(ModelShape.presetNames.joined(separator: ", "))) or --model-file") }

        let methodName = method ?? "ntp"
        if let beamWidth { try Check.within(beamWidth, from: 1, Limits.beamWidth, "--beam-width") }
        var lookahead: LookaheadShape? = nil
        if lookaheadNgram != nil || lookaheadLevels != nil || lookaheadGuesses != nil {
            lookahead = LookaheadShape(ngram: lookaheadNgram ?? LookaheadShape.paper.ngram, levels: lookaheadLevels,
                                       guesses: lookaheadGuesses)
        }
        let methodValue = try MethodRegistry.workload(named: methodName,
                                                      EngineOptions(beamWidth: beamWidth ?? 4, lookahead: lookahead))
        if lookahead != nil {
            guard case .lookahead = methodValue.rows else {
                throw AnalyticError("--lookahead-ngram, --lookahead-levels and --lookahead-guesses apply to --method lookahead, not \(methodName)")
            }
        }
        var draft: ModelShape? = nil
        let selfDraft = draftModel == "self"
        if let file = draftModelFile { draft = try ModelShape.load(fromFile: path(file)) }
        else if let name = draftModel, !selfDraft { draft = try ModelShape.preset(named: name) }

        let weightType = try dtype.map { name -> WeightType in
            guard let type = WeightType(rawValue: name) else {
                throw AnalyticError("unknown --dtype '\(name)'; valid: \(WeightType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return type
        }
        let acceptance = try resolveAcceptance(required: methodValue != .ntp && methodValue.verified, path: path)
        if (inputLength == nil) != (outputLength == nil) {
            throw AnalyticError("give --input-length and --output-length together (prompt and generated tokens per sequence)")
        }
        if inputLength != nil, context != nil {
            throw AnalyticError("give --context (decode phase) or --input-length/--output-length (end to end), not both")
        }
        if let inputLength { try Check.within(inputLength, from: 1, Limits.context, "--input-length") }
        if let outputLength { try Check.within(outputLength, from: 1, Limits.context, "--output-length") }
        let decodeContext = inputLength.map { $0 + (outputLength ?? 0) / 2 } ?? context
        if kernels != nil, kernelsFile != nil { throw AnalyticError("give --kernels or --kernels-file, not both") }
        var kernelSelection = try kernels.map(KernelSelection.named) ?? .auto
        if let file = kernelsFile { kernelSelection = .database(try KernelDatabase.load(fromFile: path(file))) }
        var config = PredictionConfig(
            hardware: hardwareValue, overhead: overhead, model: modelValue, method: methodValue, draftModel: draft,
            draftLength: draftLength ?? (methodValue == .ntp ? 0 : 4), treeSize: treeSize, treeTopK: treeTopK ?? 10,
            eagle3DraftVocab: eagle3DraftVocab ?? 32000, batch: batch ?? 1, contextTokens: decodeContext ?? 1024,
            sourceTokens: sourceLength, devices: devices ?? 1, weightType: weightType, acceptance: acceptance)
        config.kernels = kernelSelection
        config.expertParallel = expertParallel ?? false
        config.selfDraft = selfDraft
        config.draftKVBudget = draftKVBudget
        config.draftDevices = draftDevices
        config.routingSkew = routingSkew ?? 0
        config.kvType = try kvDtype.map { name -> WeightType in
            guard let type = WeightType(rawValue: name), type != .int4 else {
                throw AnalyticError("unknown --kv-dtype '\(name)'; valid: bf16, fp16, fp8, fp32")
            }
            return type
        }
        try config.validate()
        _ = try kernelSelection.database(for: hardwareValue)
        return config
    }

    public func resolveAcceptance(required: Bool, path: (String) -> String = { $0 }) throws -> AcceptanceModel {
        let given = [alpha != nil, alphas != nil, tau != nil, acceptanceFile != nil].filter { $0 }.count
        if given > 1 { throw AnalyticError("give one acceptance source: --alpha, --alphas, --tau or --acceptance-file") }
        if let alpha { return .iid(alpha: alpha) }
        if let alphas { return .perPosition(alphas: alphas) }
        if let tau { return .meanAcceptedLength(tau: tau) }
        if let file = acceptanceFile { return try AcceptanceFile.load(path: path(file)) }
        if required {
            throw AnalyticError("missing acceptance: give --alpha A, --alphas a1,a2,..., --tau T or --acceptance-file F")
        }
        return .iid(alpha: 0)
    }
}

/// A prediction as ordered key/value fields: the JSON keys of `speclab
/// predict --json` and the columns of sweep CSVs.
public enum PredictionFields {
    public static let keys = [
        "target_step_seconds", "draft_seconds_per_cycle", "verify_seconds", "cycle_seconds", "c", "tau",
        "speedup", "tokens_per_second", "tokens_per_second_per_sequence", "bound",
        "draft_step_seconds", "host_seconds_per_cycle", "verify_tokens_per_sequence", "memory_bytes_per_device",
    ]

    public static func numeric(_ p: Prediction, key: String) -> Double? {
        switch key {
        case "target_step_seconds": return p.targetStepSeconds
        case "draft_seconds_per_cycle": return p.draftSecondsPerCycle
        case "verify_seconds": return p.verifySeconds
        case "cycle_seconds": return p.cycleSeconds
        case "c": return p.c
        case "tau": return p.tau
        case "speedup": return p.speedup
        case "tokens_per_second": return p.tokensPerSecond
        case "tokens_per_second_per_sequence": return p.tokensPerSecondPerSequence
        case "draft_step_seconds": return p.draftStepSeconds
        case "host_seconds_per_cycle": return p.hostSecondsPerCycle
        case "verify_tokens_per_sequence": return Double(p.verifyTokensPerSequence)
        case "memory_bytes_per_device": return p.memoryBytesPerDevice
        default: return nil
        }
    }

    /// Numeric keys a sweep can plot.
    public static var plottable: [String] { keys.filter { $0 != "bound" } + ["draft_length"] }

    /// Axis label with units for a metric.
    public static func label(_ key: String) -> String {
        switch key {
        case "speedup": return "speedup over plain decoding (×)"
        case "tau": return "τ, tokens per target forward"
        case "c": return "c = draft time per draft / target step time"
        case "tokens_per_second": return "throughput (tokens/s, whole batch)"
        case "tokens_per_second_per_sequence": return "tokens/s per sequence"
        case "draft_length": return "best draft length γ (tokens)"
        case "verify_tokens_per_sequence": return "verified tokens per sequence"
        case "memory_bytes_per_device": return "memory per device (bytes)"
        default: return key.replacingOccurrences(of: "_seconds", with: "").replacingOccurrences(of: "_", with: " ") + " (s)"
        }
    }

    /// JSON object text with stable key order.
    public static func json(_ p: Prediction, extra: [(String, String)] = []) -> String {
        var lines: [String] = []
        for key in keys {
            if key == "bound" { lines.append("  \"bound\": \"\(p.bound.rawValue)\"") }
            else { lines.append("  \"\(key)\": \(JSONText.number(numeric(p, key: key)!))") }
        }
        for (key, value) in extra { lines.append("  \"\(key)\": \(value)") }
        return "{\n" + lines.joined(separator: ",\n") + "\n}"
    }
}
