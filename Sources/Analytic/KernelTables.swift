// Measured GPU kernel latencies: grids of latencies over named axes, read from JSON that
// tools/aiconfigurator/convert_kernels.py writes from NVIDIA aiconfigurator-core's measured
// per-operation data (PyPI `aiconfigurator-core`, Apache-2.0; one file per GPU and serving
// framework, with the package version, the source files and the fit error of every table).
//
// Interpolation (one rule for every table): multilinear in log(axis) of log(latency), i.e. a
// power law between neighbouring knots — exact at the knots, and monotone along an axis wherever
// the knot values are (the converter makes them non-decreasing with size). Below the first knot
// of an axis the value is held; above the last it is extended with the last segment's log slope,
// limited to [0, 1] (latency never falls with size and grows at most linearly with it).

import Foundation

/// Relative error of a fitted table at the measured points it was fitted to.
public struct KernelFitError: Codable, Sendable, Equatable {
    public var points: Int
    public var medianRelativeError: Double
    public var p90RelativeError: Double
    public var maxRelativeError: Double
}

/// A grid of latencies over up to three named axes.
public struct KernelTable: Codable, Sendable, Equatable {
    /// Axis names, outermost first (e.g. rows, outputs, inputs).
    public var axes: [String]
    /// Knot values per axis, increasing.
    public var knots: [[Double]]
    /// Latency at every grid point, row-major over `axes`, in microseconds.
    public var microseconds: [Double]
    public var fit: KernelFitError
    /// The measured data the table was fitted to (a path inside aiconfigurator-core's data).
    public var source: String

    enum CodingKeys: String, CodingKey { case axes, knots, microseconds, fit, source }

    // Precomputed logs (not encoded).
    var logKnots: [[Double]] = []
    var logSeconds: [Double] = []
    var strides: [Int] = []

    public init(axes: [String], knots: [[Double]], microseconds: [Double], fit: KernelFitError, source: String) throws {
        self.axes = axes
        self.knots = knots
        self.microseconds = microseconds
        self.fit = fit
        self.source = source
        try prepare()
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        axes = try c.decode([String].self, forKey: .axes)
        knots = try c.decode([[Double]].self, forKey: .knots)
        microseconds = try c.decode([Double].self, forKey: .microseconds)
        fit = try c.decode(KernelFitError.self, forKey: .fit)
        source = try c.decode(String.self, forKey: .source)
        do { try prepare() } catch let error as AnalyticError {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(axes, forKey: .axes)
        try c.encode(knots, forKey: .knots)
        try c.encode(microseconds, forKey: .microseconds)
        try c.encode(fit, forKey: .fit)
        try c.encode(source, forKey: .source)
    }

    public static func == (a: KernelTable, b: KernelTable) -> Bool {
        a.axes == b.axes && a.knots == b.knots && a.microseconds == b.microseconds && a.fit == b.fit && a.source == b.source
    }

    private mutating func prepare() throws {
        guard (1...3).contains(axes.count), knots.count == axes.count else {
            throw AnalyticError("kernel table needs 1 to 3 axes with knots for each, got \(axes.count) axes and \(knots.count) knot lists")
        }
        for (name, list) in zip(axes, knots) {
            guard !list.isEmpty, list.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw AnalyticError("kernel table axis '\(name)' needs positive knots")
            }
            guard zip(list, list.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw AnalyticError("kernel table axis '\(name)' knots must increase")
            }
        }
        let count = knots.reduce(1) { $0 * $1.count }
        guard microseconds.count == count else {
            throw AnalyticError("kernel table over \(axes.joined(separator: " × ")) needs \(count) values, got \(microseconds.count)")
        }
        guard microseconds.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw AnalyticError("kernel table over \(axes.joined(separator: " × ")) has a latency that is not positive")
        }
        logKnots = knots.map { $0.map { Foundation.log($0) } }
        logSeconds = microseconds.map { Foundation.log($0 * 1e-6) }
        var s = [Int](repeating: 1, count: knots.count)
        for axis in stride(from: knots.count - 2, through: 0, by: -1) { s[axis] = s[axis + 1] * knots[axis + 1].count }
        strides = s
    }

    /// Latency in seconds at a point (one coordinate per axis, each > 0).
    public func seconds(_ point: Double...) -> Double {
        precondition(point.count == axes.count, "kernel table over \(axes) evaluated at \(point.count) coordinates")
        return exp(logValue(axis: 0, offset: 0, logPoint: point.map { Foundation.log($0) }))
    }

    /// log(seconds) at log coordinates, axis by axis (outermost first).
    func logValue(axis: Int, offset: Int, logPoint: [Double]) -> Double {
        if axis == logKnots.count { return logSeconds[offset] }
        let k = logKnots[axis], x = logPoint[axis], stride = strides[axis], n = k.count
        if n == 1 || x <= k[0] { return logValue(axis: axis + 1, offset: offset, logPoint: logPoint) }
        if x >= k[n - 1] {
            let y1 = logValue(axis: axis + 1, offset: offset + (n - 1) * stride, logPoint: logPoint)
            let y0 = logValue(axis: axis + 1, offset: offset + (n - 2) * stride, logPoint: logPoint)
            let slope = min(1, max(0, (y1 - y0) / (k[n - 1] - k[n - 2])))
            return y1 + slope * (x - k[n - 1])
        }
        let i = KernelTable.segment(k, x)
        let t = (x - k[i]) / (k[i + 1] - k[i])
        let y0 = logValue(axis: axis + 1, offset: offset + i * stride, logPoint: logPoint)
        let y1 = logValue(axis: axis + 1, offset: offset + (i + 1) * stride, logPoint: logPoint)
        return y0 + t * (y1 - y0)
    }

    /// The index i with k[i] <= x < k[i+1] (k[0] < x < k[last]).
    @inline(__always)
    static func segment(_ k: [Double], _ x: Double) -> Int {
        var lo = 0, hi = k.count - 1
        while hi - lo > 1 {
            let mid = (lo + hi) >> 1
            if k[mid] <= x { lo = mid } else { hi = mid }
        }
        return lo
    }

    /// The table with its outer axes fixed at a point: a curve over the first axis alone, with the
    /// same values at the first axis's knots (the fast path of sweeps, where only rows vary).
    public func curve(overFirstAxisAt inner: [Double]) -> KernelCurve {
        precondition(inner.count == axes.count - 1)
        let logInner = inner.map { Foundation.log($0) }
        var values: [Double] = []
        for i in 0..<knots[0].count {
            // Non-decreasing over the first axis: inner points beyond their axes' last knots are extended
            // with slopes that may differ from knot to knot; the envelope keeps latency from falling with rows.
            values.append(max(values.last ?? -.infinity, logValue(axis: 1, offset: i * strides[0], logPoint: [0] + logInner)))
        }
        return KernelCurve(logKnots: logKnots[0], logSeconds: values)
    }
}

/// A one-axis latency curve (log-log, the same rule as `KernelTable`), precomputed for speed.
public struct KernelCurve: Sendable, Equatable {
    let logKnots: [Double]
    let logSeconds: [Double]

    /// Latency in seconds at log(x).
    @inline(__always)
    public func seconds(logX x: Double) -> Double {
        let k = logKnots, n = k.count
        if n == 1 || x <= k[0] { return exp(logSeconds[0]) }
        if x >= k[n - 1] {
            let slope = min(1, max(0, (logSeconds[n - 1] - logSeconds[n - 2]) / (k[n - 1] - k[n - 2])))
            return exp(logSeconds[n - 1] + slope * (x - k[n - 1]))
        }
        let i = KernelTable.segment(k, x)
        let t = (x - k[i]) / (k[i + 1] - k[i])
        return exp(logSeconds[i] + t * (logSeconds[i + 1] - logSeconds[i]))
    }
}

/// One table of a family indexed by a discrete parameter (KV heads of an attention kernel, devices
/// of a collective).
public struct KernelSlab: Codable, Sendable, Equatable {
    public var parameter: Double
    public var table: KernelTable
    /// α–β summary of a collective (latency of the smallest message; bandwidth of the largest).
    public var alphaSeconds: Double?
    public var betaBytesPerSecond: Double?
}

/// Tables indexed by a discrete parameter: between two measured slabs the latency is interpolated in
/// log(parameter) (a power law, as along every axis), outside them the nearest slab is used.
public struct KernelSlabs: Codable, Sendable, Equatable {
    public var parameterName: String
    public var slabs: [KernelSlab]
    public var fit: KernelFitError

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        parameterName = try c.decode(String.self, forKey: .parameterName)
        slabs = try c.decode([KernelSlab].self, forKey: .slabs).sorted { $0.parameter < $1.parameter }
        fit = try c.decode(KernelFitError.self, forKey: .fit)
        guard !slabs.isEmpty else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "no slabs"))
        }
    }

    /// Latency in seconds for parameter `p` at the point.
    public func seconds(parameter p: Double, _ point: [Double]) -> Double {
        let first = slabs[0], last = slabs[slabs.count - 1]
        if p <= first.parameter || slabs.count == 1 { return first.table.seconds(point) }
        if p >= last.parameter { return last.table.seconds(point) }
        let i = slabs.lastIndex(where: { $0.parameter <= p })!
        let a = slabs[i], b = slabs[i + 1]
        if a.parameter == p { return a.table.seconds(point) }
        let t = (log(p) - log(a.parameter)) / (log(b.parameter) - log(a.parameter))
        return exp((1 - t) * log(a.table.seconds(point)) + t * log(b.table.seconds(point)))
    }

    /// The slab measured at parameter `p`, if any.
    public func slab(_ p: Double) -> KernelSlab? { slabs.first { $0.parameter == p } }
}

extension KernelTable {
    /// Latency in seconds at a point given as an array.
    public func seconds(_ point: [Double]) -> Double {
        precondition(point.count == axes.count, "kernel table over \(axes) evaluated at \(point.count) coordinates")
        return exp(logValue(axis: 0, offset: 0, logPoint: point.map { Foundation.log($0) }))
    }
}
