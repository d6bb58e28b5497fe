// Sweeps: evaluate the cycle model over a grid of parameter values.
// Axes are written `name=values` with values a list (`1,2,4`), a range
// (`1:10`, step 1), a stepped range (`0.5:0.95:0.05`) or a geometric range
// (`1:1024:x2`). Pure computation; the Experiments module writes CSV and charts.

import Foundation

public enum SweepParameter: String, Sendable, CaseIterable, Codable {
    case draftLength = "draft-length", batch, context, alpha, tau
    case treeSize = "tree-size", devices, hardware, model, method
    case draftModel = "draft-model"

    public var isNumeric: Bool {
        switch self {
        case .hardware, .model, .method, .draftModel: return false
        default: return true
        }
    }
    public var isInteger: Bool {
        switch self {
        case .draftLength, .batch, .context, .treeSize, .devices: return true
        default: return false
        }
    }
    /// The largest value the engine takes on this axis (`Limits`), nil where none applies.
    public var maximum: Limit? {
        switch self {
        case .draftLength: return Limits.draftLength
        case .batch: return Limits.batch
        case .context: return Limits.context
        case .treeSize: return Limits.treeSize
        case .devices: return Limits.devices
        default: return nil
        }
    }
    /// Axis label with units, for charts.
    public var label: String {
        switch self {
        case .draftLength: return "draft length γ (tokens)"
        case .batch: return "batch size (sequences)"
        case .context: return "context length (tokens)"
        case .alpha: return "acceptance rate α"
        case .tau: return "mean accepted length τ (tokens per target forward)"
        case .treeSize: return "tree size (tokens verified, root included)"
        case .devices: return "devices (tensor parallel)"
        case .hardware: return "hardware"
        case .model: return "target model"
        case .method: return "method"
        case .draftModel: return "draft model"
        }
    }
}

public enum SweepValue: Sendable, Equatable, CustomStringConvertible {
    case number(Double)
    case name(String)

    public var description: String {
        switch self {
        case .number(let value):
            if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
            return String(value)
        case .name(let text): return text
        }
    }
    public var number: Double? { if case .number(let v) = self { return v } else { return nil } }
}

public struct SweepAxis: Sendable, Equatable {
    public var parameter: SweepParameter
    public var values: [SweepValue]

    public init(parameter: SweepParameter, values: [SweepValue]) {
        self.parameter = parameter
        self.values = values
    }

    /// Parses `name=values`.
    public static func parse(_ text: String) throws -> SweepAxis {
        guard let equals = text.firstIndex(of: "=") else {
            throw AnalyticError("sweep axis '\(text)' must look like NAME=VALUES, e.g. draft-length=1:10 or batch=1,2,4; names: \(SweepParameter.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let name = String(text[..<equals])
        let spec = String(text[text.index(after: equals)...])
        guard let parameter = SweepParameter(rawValue: name) else {
            throw AnalyticError("unknown sweep parameter '\(name)'; valid: \(SweepParameter.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return SweepAxis(parameter: parameter, values: try parseValues(spec, for: parameter))
    }

    public static func parseValues(_ spec: String, for parameter: SweepParameter) throws -> [SweepValue] {
        guard !spec.isEmpty else { throw AnalyticError("sweep axis \(parameter.rawValue) has no values") }
        if !parameter.isNumeric {
            return spec.split(separator: ",").map { .name(String($0).trimmingCharacters(in: .whitespaces)) }
        }
        func number(_ text: Substring) throws -> Double {
            guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                throw AnalyticError("sweep axis \(parameter.rawValue): '\(text)' is not a number")
            }
            if parameter.isInteger, value != value.rounded() {
                throw AnalyticError("sweep axis \(parameter.rawValue): '\(text)' must be a whole number")
            }
            if let limit = parameter.maximum, value > Double(limit.maximum) {
                throw AnalyticError("sweep axis \(parameter.rawValue): '\(text)' exceeds \(limit.maximum) (\(limit.meaning))")
            }
            return value
        }
        var values: [Double] = []
        if spec.contains(":") {
            let parts = spec.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2 || parts.count == 3 else {
                throw AnalyticError("sweep range '\(spec)' must be START:END, START:END:STEP or START:END:xFACTOR")
            }
            let start = try number(parts[0]), end = try number(parts[1])
            guard end >= start else { throw AnalyticError("sweep range '\(spec)': END must be >= START") }
            if parts.count == 3, parts[2].hasPrefix("x") {
                let factor = try number(parts[2].dropFirst())
                guard factor > 1, start > 0 else {
                    throw AnalyticError("geometric sweep range '\(spec)' needs START > 0 and FACTOR > 1")
                }
                var value = start
                while value <= end * (1 + 1e-12) {
                    values.append(value)
                    value *= factor
                    guard values.count <= Sweep.maximumPoints else { throw AnalyticError("sweep range '\(spec)' has more than \(Sweep.maximumPoints) points; use a larger FACTOR") }
                }
            } else {
                let step = parts.count == 3 ? try number(parts[2]) : 1
                guard step > 0 else { throw AnalyticError("sweep range '\(spec)': STEP must be > 0") }
                let count = Int(((end - start) / step + 1e-9).rounded(.down)) + 1
                guard count <= Sweep.maximumPoints else {
                    throw AnalyticError("sweep range '\(spec)' has \(count) points, more than \(Sweep.maximumPoints); use a larger STEP")
                }
                for i in 0..<count { values.append(start + Double(i) * step) }
            }
        } else {
            values = try spec.split(separator: ",").map { try number($0) }
        }
        // Round stepped decimals (0.1 steps accumulate binary noise).
        return values.map { .number(parameter.isInteger ? $0.rounded() : ($0 * 1e9).rounded() / 1e9) }
    }

    /// Writes one value of this axis into a configuration.
    /// `methods` resolves a method's name to its workload (the method registry's lookup).
    public func apply(_ value: SweepValue, to config: inout PredictionConfig,
                      methods: (String) throws -> DraftMethod = Sweep.noMethods) throws {
        switch (parameter, value) {
        case (.draftLength, .number(let v)): config.draftLength = Int(v)
        case (.batch, .number(let v)): config.batch = Int(v)
        case (.context, .number(let v)): config.contextTokens = Int(v)
        case (.alpha, .number(let v)): config.acceptance = .iid(alpha: v)
        case (.tau, .number(let v)): config.acceptance = .meanAcceptedLength(tau: v)
        case (.treeSize, .number(let v)): config.treeSize = Int(v)
        case (.devices, .number(let v)): config.devices = Int(v)
        case (.hardware, .name(let n)): config.hardware = try Hardware.preset(named: n)
        case (.model, .name(let n)): config.model = try ModelShape.preset(named: n)
        case (.draftModel, .name(let n)): config.draftModel = try ModelShape.preset(named: n)
        case (.method, .name(let n)):
            config.method = try methods(n)
        default:
            throw AnalyticError("sweep axis \(parameter.rawValue) cannot take the value '\(value)'")
        }
    }
}

/// One evaluated grid point.
public struct SweepPoint: Sendable {
    /// One value per axis, in axis order.
    public var values: [SweepValue]
    public var prediction: Prediction?
    /// The draft length used (the best one when the sweep optimises it).
    public var draftLength: Int
    /// Why the point has no prediction (e.g. the model does not fit).
    public var skippedReason: String?
}

public enum Sweep {
    /// Points of one axis and of a whole grid at most: a million predictions take minutes and a CSV of
    /// hundreds of megabytes; more is a typo.
    public static let maximumPoints = 1_000_000

    /// The method lookup of a sweep given none: a method axis needs the registry's.
    public static func noMethods(_ name: String) throws -> DraftMethod {
        throw AnalyticError("a sweep over methods needs the method registry to name '\(name)'")
    }

    /// Number of grid points of these axes (saturating, so a huge grid is refused rather than overflowing).
    public static func pointCount(_ axes: [SweepAxis]) -> Int {
        axes.reduce(1) { product, axis in
            let (result, overflow) = product.multipliedReportingOverflow(by: axis.values.count)
            return overflow ? Int.max : result
        }
    }

    /// Refuses two axes of the same parameter and grids past `maximumPoints`, with one line each.
    public static func check(_ axes: [SweepAxis]) throws {
        var seen = Set<SweepParameter>()
        for axis in axes where !seen.insert(axis.parameter).inserted {
            throw AnalyticError("--vary \(axis.parameter.rawValue) is given twice; give one list of its values (e.g. \(axis.parameter.rawValue)=1,2,4)")
        }
        let total = pointCount(axes)
        guard total <= maximumPoints else {
            throw AnalyticError("the sweep has \(total == Int.max ? "over \(Int.max)" : String(total)) points, more than \(maximumPoints); vary fewer values")
        }
    }

    /// Evaluates every point of the grid (last axis fastest). Points whose
    /// configuration does not fit in memory are kept with `skippedReason`;
    /// any other error stops the sweep. `optimizeDraftLength` = n picks the
    /// best draft length in 1...n at every point instead of the configured one.
    public static func run(base: PredictionConfig, axes: [SweepAxis], optimizeDraftLength: Int? = nil,
                           methods: (String) throws -> DraftMethod = noMethods,
                           progress: ((Int, Int) -> Void)? = nil) throws -> [SweepPoint] {
        try check(axes)
        let total = pointCount(axes)
        var points: [SweepPoint] = []
        points.reserveCapacity(total)
        var index = [Int](repeating: 0, count: axes.count)
        // Predictors are rebuilt only when an axis that changes workloads moves.
        var cachedPredictor: Predictor? = nil
        var cachedKey: [SweepValue] = []
        let fastParameters: Set<SweepParameter> = [.batch, .context, .alpha, .tau, .draftLength]
        for n in 0..<total {
            var config = base
            var values: [SweepValue] = []
            for (a, axis) in axes.enumerated() {
                let value = axis.values[index[a]]
                values.append(value)
                try axis.apply(value, to: &config, methods: methods)
            }
            let key = zip(axes, values).filter { !fastParameters.contains($0.0.parameter) }.map(\.1)
            do {
                if cachedPredictor == nil || key != cachedKey || config.method.workloadScalesWithDraftLength {
                    var structural = config
                    if optimizeDraftLength != nil, config.treeSize == nil { structural.draftLength = 1 }
                    cachedPredictor = try Predictor(structural)
                    cachedKey = key
                }
                let predictor = cachedPredictor!
                if let maxLength = optimizeDraftLength, config.method != .ntp {
                    var scoped = predictor
                    if config.acceptance != predictor.config.acceptance {
                        var c = predictor.config; c.acceptance = config.acceptance
                        scoped = try Predictor(c)
                    }
                    let best = try scoped.bestDraftLength(batch: config.batch, maxDraftLength: maxLength,
                                                          contextTokens: config.contextTokens)
                    points.append(SweepPoint(values: values, prediction: best.prediction, draftLength: best.draftLength))
                } else {
                    try config.validate()
                    let prediction = try predictor.predict(draftLength: config.draftLength, batch: config.batch,
                                                           contextTokens: config.contextTokens,
                                                           acceptance: config.acceptance)
                    points.append(SweepPoint(values: values, prediction: prediction, draftLength: config.draftLength))
                }
            } catch let error as AnalyticError where error.reason == .doesNotFit {
                points.append(SweepPoint(values: values, prediction: nil, draftLength: config.draftLength,
                                         skippedReason: error.message))
            }
            progress?(n + 1, total)
            // Advance the odometer (last axis fastest).
            var a = axes.count - 1
            while a >= 0 {
                index[a] += 1
                if index[a] < axes[a].values.count { break }
                index[a] = 0
                a -= 1
            }
        }
        return points
    }
}
