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

    // Precomputed logs (not encoded): knots of every axis in one buffer, the axes' start offsets,
    // knot counts and strides in the value grid as fixed triples (at most three axes).
    var logKnots: [[Double]] = []
    var logSeconds: [Double] = []
    var strides: [Int] = []
    var flatLogKnots: [Double] = []
    var knotStart: (Int, Int, Int) = (0, 0, 0)
    var knotCount: (Int, Int, Int) = (0, 0, 0)
    var gridStride: (Int, Int, Int) = (0, 0, 0)
    /// Curves over the first axis already built, by the outer coordinates (shared by copies of the table).
    let curves = CurveCache()

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
        flatLogKnots = logKnots.flatMap { $0 }
        var starts = [0, 0, 0], counts = [0, 0, 0], grid = [0, 0, 0]
        var offset = 0
        for axis in 0..<logKnots.count {
            starts[axis] = offset; counts[axis] = logKnots[axis].count; grid[axis] = s[axis]
            offset += logKnots[axis].count
        }
        knotStart = (starts[0], starts[1], starts[2])
        knotCount = (counts[0], counts[1], counts[2])
        gridStride = (grid[0], grid[1], grid[2])
    }

    /// Latency in seconds at a point (one coordinate per axis, each > 0).
    public func seconds(_ point: Double...) -> Double { seconds(point) }

    /// Latency in seconds at a point given as an array.
    public func seconds(_ point: [Double]) -> Double {
        precondition(point.count == axes.count, "kernel table over \(axes) evaluated at \(point.count) coordinates")
        let l0 = log(point[0]), l1 = point.count > 1 ? log(point[1]) : 0, l2 = point.count > 2 ? log(point[2]) : 0
        return exp(logValue(axis: 0, offset: 0, l0, l1, l2))
    }

    /// log(seconds) at log coordinates (unused trailing coordinates are ignored). No allocation and no
    /// reference counting: the sweep path evaluates tables millions of times a second.
    @inline(__always)
    public func logSeconds(logX0: Double, logX1: Double = 0, logX2: Double = 0) -> Double {
        logValue(axis: 0, offset: 0, logX0, logX1, logX2)
    }

    func logValue(axis: Int, offset: Int, _ l0: Double, _ l1: Double, _ l2: Double) -> Double {
        flatLogKnots.withUnsafeBufferPointer { k in
            logSeconds.withUnsafeBufferPointer { v in
                if axis == 0 && logKnots.count == 3 {
                    return KernelTable.evaluate3(k, v, start: knotStart, count: knotCount, stride: gridStride, l0, l1, l2)
                }
                return KernelTable.evaluate(k, v, axes: logKnots.count, start: knotStart, count: knotCount, stride: gridStride,
                                            axis: axis, offset: offset, l0, l1, l2)
            }
        }
    }

    /// Where x falls on one axis: the two knots to combine and how (see `combine`).
    struct AxisPosition {
        var i0 = 0, i1 = 0
        /// 0: between knots (weight t); 1: at or below the first knot (the first value);
        /// 2: above the last (the last value extended by the last segment's slope over `dx`).
        var mode = 0
        var t = 0.0, dx = 0.0, span = 1.0

        @inline(__always)
        init(_ k: UnsafeBufferPointer<Double>, start s: Int, count n: Int, _ x: Double) {
            if n == 1 || x <= k[s] { mode = 1; return }
            if x >= k[s + n - 1] { mode = 2; i0 = n - 2; i1 = n - 1; dx = x - k[s + n - 1]; span = k[s + n - 1] - k[s + n - 2]; return }
            var lo = 0, hi = n - 1
            while hi - lo > 1 {
                let mid = (lo + hi) >> 1
                if k[s + mid] <= x { lo = mid } else { hi = mid }
            }
            i0 = lo; i1 = lo + 1
            t = (x - k[s + lo]) / (k[s + lo + 1] - k[s + lo])
        }

        /// The same over a whole knot array (a curve's axis).
        @inline(__always)
        init(_ knots: [Double], _ x: Double) {
            self = knots.withUnsafeBufferPointer { AxisPosition($0, start: 0, count: $0.count, x) }
        }

        /// Latency in seconds from a curve's log seconds at the knots, starting at `offset` of `y`.
        @inline(__always)
        func seconds(_ y: [Double], from offset: Int = 0) -> Double {
            exp(combine(y[offset + i0], y[offset + i1]))
        }

        /// The axis's value from the values at its two knots (the same rule as `evaluate`).
        @inline(__always)
        func combine(_ y0: Double, _ y1: Double) -> Double {
            switch mode {
            case 0: return y0 + t * (y1 - y0)
            case 1: return y0
            default: return y1 + min(1, max(0, (y1 - y0) / span)) * dx
            }
        }
    }

    /// Three axes without recursion: the innermost axis combined first, as `evaluate` does.
    @inline(__always)
    static func evaluate3(_ k: UnsafeBufferPointer<Double>, _ v: UnsafeBufferPointer<Double>,
                          start: (Int, Int, Int), count: (Int, Int, Int), stride: (Int, Int, Int),
                          _ l0: Double, _ l1: Double, _ l2: Double) -> Double {
        let a = AxisPosition(k, start: start.0, count: count.0, l0)
        let b = AxisPosition(k, start: start.1, count: count.1, l1)
        let c = AxisPosition(k, start: start.2, count: count.2, l2)
        @inline(__always) func inner(_ i: Int, _ j: Int) -> Double {
            let base = i * stride.0 + j * stride.1
            return c.combine(v[base + c.i0 * stride.2], v[base + c.i1 * stride.2])
        }
        @inline(__always) func middle(_ i: Int) -> Double { b.combine(inner(i, b.i0), inner(i, b.i1)) }
        return a.combine(middle(a.i0), middle(a.i1))
    }

    /// The recursion over axes (outermost first) on raw buffers.
    static func evaluate(_ k: UnsafeBufferPointer<Double>, _ v: UnsafeBufferPointer<Double>, axes: Int,
                         start: (Int, Int, Int), count: (Int, Int, Int), stride: (Int, Int, Int),
                         axis: Int, offset: Int, _ l0: Double, _ l1: Double, _ l2: Double) -> Double {
        if axis == axes { return v[offset] }
        let x: Double, s: Int, n: Int, g: Int
        switch axis {
        case 0: (x, s, n, g) = (l0, start.0, count.0, stride.0)
        case 1: (x, s, n, g) = (l1, start.1, count.1, stride.1)
        default: (x, s, n, g) = (l2, start.2, count.2, stride.2)
        }
        func next(_ i: Int) -> Double {
            evaluate(k, v, axes: axes, start: start, count: count, stride: stride, axis: axis + 1, offset: offset + i * g, l0, l1, l2)
        }
        let position = AxisPosition(k, start: s, count: n, x)
        return position.mode == 1 ? next(0) : position.combine(next(position.i0), next(position.i1))
    }

    /// The table with its outer axes fixed at a point: a curve over the first axis alone, with the
    /// same values at the first axis's knots (the fast path of sweeps, where only rows vary).
    public func curve(overFirstAxisAt inner: [Double]) -> KernelCurve {
        precondition(inner.count == axes.count - 1)
        if let cached = curves.get(inner) { return cached }
        let l1 = inner.count > 0 ? log(inner[0]) : 0, l2 = inner.count > 1 ? log(inner[1]) : 0
        var values: [Double] = []
        for i in 0..<knots[0].count {
            // Non-decreasing over the first axis: inner points beyond their axes' last knots are extended
            // with slopes that may differ from knot to knot; the envelope keeps latency from falling with rows.
            values.append(max(values.last ?? -.infinity, logValue(axis: 1, offset: i * strides[0], 0, l1, l2)))
        }
        let curve = KernelCurve(logKnots: logKnots[0], logSeconds: values)
        curves.set(inner, curve)
        return curve
    }
}

extension KernelTable {
    /// log of Σ countᵢ · Tᵢ(knot) at the first axis's knots, for products `(count, outer coordinates…)`
    /// priced together (the GEMMs of one group of a forward); cached like `curve(overFirstAxisAt:)`.
    public func summedLogCurve(_ members: [(count: Double, inner: [Double])]) -> [Double] {
        let key = members.flatMap { [-$0.count] + $0.inner }   // counts negated: never a coordinate
        if let cached = curves.get(key) { return cached.logSeconds }
        var sum = [Double](repeating: 0, count: knots[0].count)
        for member in members {
            let curve = curve(overFirstAxisAt: member.inner)
            for i in sum.indices { sum[i] += member.count * exp(curve.logSeconds[i]) }
        }
        let logSum = sum.map { log($0) }
        curves.set(key, KernelCurve(logKnots: logKnots[0], logSeconds: logSum))
        return logSum
    }
}

/// A one-axis latency curve (log-log, the same rule as `KernelTable`), precomputed for speed.
public struct KernelCurve: Sendable, Equatable {
    let logKnots: [Double]
    let logSeconds: [Double]

    /// Latency in seconds at log(x).
    @inline(__always)
    public func seconds(logX x: Double) -> Double {
        KernelTable.AxisPosition(logKnots, x).seconds(logSeconds)
    }

    /// The curve a fraction `weight` of the way to `other` in log latency (a power law in the parameter
    /// the two curves were measured at); this curve itself when their knots differ.
    public func blended(toward other: KernelCurve, weight: Double) -> KernelCurve {
        guard weight > 0, logKnots == other.logKnots else { return self }
        return KernelCurve(logKnots: logKnots, logSeconds: zip(logSeconds, other.logSeconds).map { $0 + weight * ($1 - $0) })
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

    /// The slab at or below `p`, the one above it (nil when `p` is measured or outside the slabs) and
    /// the weight of the upper one in log(parameter).
    public func bracket(_ p: Double) -> (lower: KernelTable, upper: KernelTable?, weight: Double) {
        let first = slabs[0], last = slabs[slabs.count - 1]
        if p <= first.parameter || slabs.count == 1 { return (first.table, nil, 0) }
        if p >= last.parameter { return (last.table, nil, 0) }
        let i = slabs.lastIndex(where: { $0.parameter <= p })!
        let a = slabs[i], b = slabs[i + 1]
        if a.parameter == p { return (a.table, nil, 0) }
        return (a.table, b.table, (log(p) - log(a.parameter)) / (log(b.parameter) - log(a.parameter)))
    }

    /// The slab measured at parameter `p`, if any.
    public func slab(_ p: Double) -> KernelSlab? { slabs.first { $0.parameter == p } }
}


/// Curves built from a table, kept for the next predictor of the same shapes (a full-path
/// prediction builds one curve per GEMM; sweeps build thousands of predictors).
final class CurveCache: @unchecked Sendable {
    private let lock = NSLock()
    private var curves: [[Double]: KernelCurve] = [:]

    func get(_ key: [Double]) -> KernelCurve? {
        lock.lock(); defer { lock.unlock() }
        return curves[key]
    }

    func set(_ key: [Double], _ curve: KernelCurve) {
        lock.lock(); defer { lock.unlock() }
        if curves.count < 4096 { curves[key] = curve }
    }
}
