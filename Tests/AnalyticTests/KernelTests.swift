import Foundation
import Testing
@testable import Analytic

/// Measured kernel tables (KernelTables.swift, KernelDatabase.swift) and the step cost priced from
/// them (MeasuredStepCost.swift).
@Suite("Measured kernels")
struct KernelTests {
    static func table(_ axes: [String], _ knots: [[Double]], _ microseconds: [Double]) throws -> KernelTable {
        try KernelTable(axes: axes, knots: knots, microseconds: microseconds,
                        fit: KernelFitError(points: 0, medianRelativeError: 0, p90RelativeError: 0, maxRelativeError: 0),
                        source: "test")
    }

    // MARK: interpolation

    @Test("interpolation is exact at every knot of a 3-axis table")
    func exactAtKnots() throws {
        let a = [1.0, 4, 16], b = [2.0, 8], c = [10.0, 100, 1000]
        var values: [Double] = []
        for i in 0..<3 { for j in 0..<2 { for k in 0..<3 { values.append(Double(1 + i * 100 + j * 10 + k)) } } }
        let t = try Self.table(["a", "b", "c"], [a, b, c], values)
        for (i, x) in a.enumerated() { for (j, y) in b.enumerated() { for (k, z) in c.enumerated() {
            let expected = Double(1 + i * 100 + j * 10 + k) * 1e-6
            // Tolerance 1e-12 relative: log/exp round trip in double precision.
            #expect(isClose(t.seconds(x, y, z), expected, relative: 1e-12), "at (\(x), \(y), \(z))")
        }}}
    }

    @Test("between knots: a power law (geometric mean at the log midpoint)")
    func powerLawBetweenKnots() throws {
        let t = try Self.table(["x"], [[1, 4]], [10, 40])
        // log-log midpoint of (1, 10 µs) and (4, 40 µs) is (2, 20 µs): latency ∝ x.
        #expect(isClose(t.seconds(2), 20e-6, relative: 1e-12))
        let u = try Self.table(["x"], [[1, 4]], [10, 10])
        #expect(isClose(u.seconds(3), 10e-6, relative: 1e-12))
    }

    @Test("outside the knots: held below, extended above with the last slope limited to [0, 1]")
    func extrapolation() throws {
        let steep = try Self.table(["x"], [[1, 2]], [1, 8])       // slope 3 in log-log → limited to 1
        #expect(isClose(steep.seconds(0.5), 1e-6, relative: 1e-12))
        #expect(isClose(steep.seconds(4), 16e-6, relative: 1e-12))
        let flat = try Self.table(["x"], [[1, 2]], [5, 5])
        #expect(isClose(flat.seconds(100), 5e-6, relative: 1e-12))
        let sublinear = try Self.table(["x"], [[1, 4]], [10, 20])  // slope 0.5 kept
        #expect(isClose(sublinear.seconds(16), 40e-6, relative: 1e-12))
    }

    @Test("monotone where the knot values are: non-decreasing along every axis of a non-decreasing grid")
    func monotone() throws {
        let knots = [[1.0, 2, 8, 64], [16.0, 256, 4096]]
        var values: [Double] = []
        for i in 0..<4 { for j in 0..<3 { values.append(3 + Double(i * i) + 7 * Double(j)) } }
        let t = try Self.table(["rows", "n"], knots, values)
        var previous = 0.0
        for step in 0..<200 {
            let rows = pow(2, Double(step) / 20)      // 1 … ~1000, beyond the last knot too
            let value = t.seconds(rows, 100)
            #expect(value >= previous * (1 - 1e-12), "falls at rows \(rows)")
            previous = value
        }
        let curve = t.curve(overFirstAxisAt: [100])
        for rows in [1.0, 3, 8, 50, 64, 500] {
            #expect(isClose(curve.seconds(logX: log(rows)), t.seconds(rows, 100), relative: 1e-12), "curve at \(rows)")
        }
    }

    @Test("the three-axis fast path and the curves over rows follow the general rule, inside and outside the knots")
    func fastPathsAgree() throws {
        let db = try #require(KernelDatabase.bundled(gpu: "h100-sxm"))
        let slab = try #require(db.attention["bf16"]?.slab(8)).table
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            // Coordinates from below the first knot to beyond the last on every axis.
            let l0 = log(Double.random(in: 0.5...400, using: &generator)), l1 = log(Double.random(in: 0.5...5000, using: &generator))
            let l2 = log(Double.random(in: 0.5...300_000, using: &generator))
            let fast = slab.logSeconds(logX0: l0, logX1: l1, logX2: l2)
            let general = slab.flatLogKnots.withUnsafeBufferPointer { k in
                slab.logSeconds.withUnsafeBufferPointer { v in
                    KernelTable.evaluate(k, v, axes: 3, start: slab.knotStart, count: slab.knotCount, stride: slab.gridStride,
                                         axis: 0, offset: 0, l0, l1, l2)
                }
            }
            #expect(isClose(fast, general, absolute: 1e-12), "at (\(exp(l0)), \(exp(l1)), \(exp(l2)))")
        }
        let gemm = try #require(db.gemm["bf16"])
        let curve = gemm.curve(overFirstAxisAt: [6144, 4096])
        for rows in [0.5, 1, 3, 64, 100, 5000, 32768, 100_000] {
            // The precomputed curve over rows (the sweep path) against the three-axis rule.
            #expect(isClose(curve.seconds(logX: log(rows)), gemm.seconds(rows, 6144, 4096), relative: 1e-12), "rows \(rows)")
        }
    }

    @Test("a forward's GEMM time at a knot of rows is the sum of its GEMMs' curves there (table values, non-decreasing in rows)")
    func gemmGroupsExactAtKnots() throws {
        let db = try #require(KernelDatabase.bundled(gpu: "h100-sxm"))
        let table = try #require(db.gemm["bf16"])
        let shape = try model("llama-3.1-8b")
        let workload = ForwardWorkload.target(shape)
        let context = ExecutionContext(hardware: try hardware("h100-sxm"), overhead: .ideal, kernels: db)
        let forward = try #require(MeasuredForward(workload, context: context, database: db))
        for rows in [1.0, 16, 256, 4096] {
            var expected = 0.0
            for gemm in workload.operations!.gemms {
                let curve = table.curve(overFirstAxisAt: [gemm.outputs, gemm.inputs])
                expected += gemm.count * curve.seconds(logX: log(rows))
                // Inside the measured range the curve is the table itself.
                if gemm.outputs <= 65536, gemm.inputs <= 65536 {
                    #expect(isClose(curve.seconds(logX: log(rows)), table.seconds(rows, gemm.outputs, gemm.inputs), relative: 1e-12))
                }
            }
            let cost = forward.cost(tokensPerSequence: 1, batch: rows, contextTokens: 0)
            // 1e-9: sums of exp(log(·)) round trips.
            #expect(isClose(cost.breakdown.seconds(.gemm), expected, relative: 1e-9), "rows \(rows)")
        }
    }

    @Test("MoE routing skew: exact at the measured skews, between them in log latency, the nearest beyond them")
    func routingSkew() throws {
        let moe = try #require(KernelDatabase.bundled(gpu: "h200")?.moe)
        func curve(_ skew: Double) throws -> KernelCurve {
            try #require(try moe.curve(dtype: "fp8Block", hidden: 7168, ffnSize: 2048, activeExperts: 8, routedExperts: 256,
                                       tensorParallel: 8, expertParallel: 1, routingSkew: skew))
        }
        let measured = try #require(moe.curves.first {
            $0.dtype == "fp8Block" && $0.hidden == 7168 && $0.ffnSize == 2048 && $0.activeExperts == 8 && $0.routedExperts == 256
                && $0.tensorParallel == 8 && $0.expertParallel == 1 && $0.routingSkew == 1.01 })
        let tokens = measured.tokens ?? moe.tokens
        for (i, t) in tokens.enumerated() {
            #expect(isClose(try curve(1.01).seconds(logX: log(t)), measured.microseconds[i] * 1e-6, relative: 1e-9))
        }
        for t in [1.0, 64, 1000] {
            let a = try curve(1.01).seconds(logX: log(t)), b = try curve(1.2).seconds(logX: log(t)), mid = try curve(1.105).seconds(logX: log(t))
            #expect(isClose(mid, (a * b).squareRoot(), relative: 1e-9), "halfway in skew is the geometric mean at \(t) tokens")
            #expect(isClose(try curve(5).seconds(logX: log(t)), b, relative: 1e-12))
        }
        #expect(try moe.curve(dtype: "fp8Block", hidden: 7168, ffnSize: 2048, activeExperts: 8, routedExperts: 256,
                              tensorParallel: 3, expertParallel: 1, routingSkew: 0) == nil)
    }

    @Test("all-reduce: measured device counts exact, others in between, the roofline beyond the largest")
    func allReduceDevices() throws {
        let db = try #require(KernelDatabase.bundled(gpu: "h100-sxm"))
        let shape = try model("llama-3.1-70b")
        func communication(_ devices: Int) throws -> (seconds: Double, priced: String) {
            let context = ExecutionContext(hardware: try hardware("h100-sxm"), overhead: .ideal, devices: devices, kernels: db)
            let forward = try #require(MeasuredForward(ForwardWorkload.target(shape), context: context, database: db))
            let cost = forward.cost(tokensPerSequence: 1, batch: 16, contextTokens: 1024)
            return (cost.breakdown.seconds(.communication), forward.pricedBy.first { $0.0 == .communication }!.1)
        }
        let slabs = try #require(db.allReduce)
        let elements = 16.0 * 8192
        for devices in [2, 4, 8] {
            let expected = 160 * slabs.slab(Double(devices))!.table.seconds(elements)
            #expect(isClose(try communication(devices).seconds, expected, relative: 1e-9), "\(devices) devices")
        }
        let three = try communication(3).seconds, two = try communication(2).seconds, four = try communication(4).seconds
        #expect(three >= min(two, four) && three <= max(two, four))
        #expect(try communication(16).priced.hasPrefix("roofline"))
    }

    @Test("a malformed table is rejected with one line")
    func malformed() throws {
        expectAnalyticError(mentioning: ["needs 4 values"]) { _ = try Self.table(["x"], [[1, 2, 3, 4]], [1, 2]) }
        expectAnalyticError(mentioning: ["increase"]) { _ = try Self.table(["x"], [[2, 1]], [1, 2]) }
        expectAnalyticError(mentioning: ["not positive"]) { _ = try Self.table(["x"], [[1, 2]], [1, 0]) }
    }

    // MARK: bundled databases and their fixture

    static let fixture: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/kernel-points.csv")

    @Test("every bundled database loads, names its source and states a fit error for every table")
    func bundled() throws {
        for gpu in ["a100-80gb", "h100-sxm", "h200", "b200"] {
            let frameworks = KernelDatabase.bundledFrameworks(gpu: gpu)
            #expect(frameworks.contains("sglang"), "\(gpu) has no sglang tables")
            for framework in frameworks {
                let db = try #require(KernelDatabase.bundled(gpu: gpu, framework: framework), "\(gpu).\(framework) does not load")
                #expect(db.gpu == gpu && db.framework == framework)
                #expect(db.source.package == "aiconfigurator-core" && !db.source.packageVersion.isEmpty)
                #expect(db.gemm["bf16"] != nil && db.attention["bf16"] != nil)
                for (name, fit) in db.fits {
                    #expect(fit.points > 0 && fit.medianRelativeError <= fit.p90RelativeError
                            && fit.p90RelativeError <= fit.maxRelativeError, "\(gpu).\(framework) \(name)")
                }
            }
        }
        #expect(KernelDatabase.bundledFrameworks(gpu: "mi300x").isEmpty)
    }

    @Test("the committed fixture of measured points is reproduced within each table's stated fit error")
    func fixtureReproduced() throws {
        let text = try String(contentsOf: Self.fixture, encoding: .utf8)
        var lines = text.split(separator: "\n").map(String.init)
        #expect(lines.removeFirst() == "gpu,framework,table,point,measured_microseconds")
        #expect(lines.count >= 200, "only \(lines.count) fixture points")
        var errorsByTable: [String: [Double]] = [:]
        var stated: [String: KernelFitError] = [:]
        for line in lines {
            let f = line.split(separator: ",").map(String.init)
            let db = try #require(KernelDatabase.bundled(gpu: f[0], framework: f[1]), "no database \(f[0]).\(f[1])")
            var point: [String: Double] = [:]
            for pair in f[3].split(separator: ";") {
                let kv = pair.split(separator: "=")
                point[String(kv[0])] = Double(kv[1])!
            }
            let measured = Double(f[4])! * 1e-6
            let parts = f[2].split(separator: ".").map(String.init)
            let predicted: Double
            let fit: KernelFitError
            switch parts[0] {
            case "gemm":
                let t = try #require(db.gemm[parts[1]])
                predicted = t.seconds(point["rows"]!, point["n"]!, point["k"]!); fit = t.fit
            case "attention":
                let slabs = try #require(db.attention[parts[1]])
                let slab = try #require(slabs.slab(point["kvHeads"]!))
                predicted = slab.table.seconds(point["queryHeads"]!, point["batch"]!, point["kvTokens"]!); fit = slab.table.fit
            case "contextAttention":
                let slab = try #require(db.contextAttention?[parts[1]]?.slab(point["kvHeads"]!))
                predicted = slab.table.seconds(point["queryHeads"]!, point["inputTokens"]!, point["batch"]!); fit = slab.table.fit
            case "mla":
                let t = try #require(db.mla?[parts[1]])
                predicted = t.seconds(point["queryHeads"]!, point["batch"]!, point["kvTokens"]!); fit = t.fit
            case "moe":
                // moe.<dtype>.<hidden>.<ffn>.<top-k>.<experts>.<tp>.<ep>.<skew>
                let moe = try #require(db.moe)
                let n = parts.dropFirst(2).prefix(6).map { Int($0)! }
                let skew = Double(parts.dropFirst(8).joined(separator: "."))!
                let curve = try #require(try moe.curve(dtype: parts[1], hidden: n[0], ffnSize: n[1], activeExperts: n[2], routedExperts: n[3],
                                                       tensorParallel: n[4], expertParallel: n[5], routingSkew: skew))
                predicted = curve.seconds(logX: log(point["tokens"]!)); fit = moe.fit
            case "allReduce":
                let slab = try #require(db.allReduce?.slab(point["devices"]!))
                predicted = slab.table.seconds(point["elements"]!); fit = slab.table.fit
            default:
                Issue.record("unknown table \(f[2])"); continue
            }
            let error = abs(predicted / measured - 1)
            // Every point within the table's stated maximum error over all its measured points
            // (the fixture is a sample of those points); 1e-3 absorbs the 5-digit rounding of the JSON.
            #expect(error <= fit.maxRelativeError + 1e-3, "\(line): predicted \(predicted), error \(error) > stated max \(fit.maxRelativeError)")
            let key = "\(f[0]).\(f[1]).\(f[2])"
            errorsByTable[key, default: []].append(error)
            stated[key] = fit
        }
        for (key, errors) in errorsByTable where errors.count >= 10 {
            let median = errors.sorted()[errors.count / 2]
            // A random sample's median lies near the stated median; the stated 90th percentile bounds it.
            #expect(median <= stated[key]!.p90RelativeError + 1e-3, "\(key): sample median \(median)")
        }
    }

    // MARK: step cost

    static func config(_ hw: String, _ modelName: String, method: DraftMethod = .ntp, devices: Int = 1,
                       kernels: KernelSelection = .auto) throws -> PredictionConfig {
        var config = PredictionConfig(hardware: try hardware(hw), model: try model(modelName), method: method,
                                      draftLength: method == .ntp ? 0 : 4, batch: 1, contextTokens: 2048, devices: devices,
                                      acceptance: .iid(alpha: 0.8))
        config.kernels = kernels
        return config
    }

    @Test("a GPU with measurements is priced by them and says so; one without falls back to the roofline and says so")
    func pricedBy() throws {
        let measured = try Predictor(Self.config("h100-sxm", "llama-3.1-8b"))
        #expect(measured.pricedBy.hasPrefix("measured kernels: h100-sxm, sglang "))
        let fallback = try Predictor(Self.config("mi300x", "llama-3.1-8b"))
        #expect(fallback.pricedBy == "roofline")
        let asked = try Predictor(Self.config("h100-sxm", "llama-3.1-8b", kernels: .roofline))
        #expect(asked.pricedBy == "roofline")
        // The fallback is the roofline itself: the same step as the roofline's own pricing.
        let roofline = Roofline.stepCost(ForwardWorkload.target(try model("llama-3.1-8b")), tokensPerSequence: 1, batch: 1,
                                         contextTokens: 2048, context: ExecutionContext(hardware: try hardware("mi300x")))
        #expect(isClose(try fallback.predict().targetStepSeconds, roofline.seconds, relative: 1e-12))
        expectAnalyticError(mentioning: ["no measured", "mi300x", "roofline"]) {
            _ = try Predictor(Self.config("mi300x", "llama-3.1-8b", kernels: .framework("sglang")))
        }
        expectAnalyticError(mentioning: ["auto, roofline, sglang"]) { _ = try KernelSelection.named("cuda") }
    }

    @Test("the breakdown's parts add up to the step, measured and roofline, plain and speculative, TP and MoE")
    func breakdownSums() throws {
        let cases: [(String, String, DraftMethod, Int, KernelSelection)] = [
            ("h100-sxm", "llama-3.1-8b", .ntp, 1, .auto), ("h100-sxm", "llama-3.1-8b", .eagle3, 1, .auto),
            ("h100-sxm", "llama-3.1-70b", .eagle1, 4, .auto), ("h200", "deepseek-v3", .mtp, 8, .auto),
            ("h100-sxm", "mixtral-8x7b", .medusa, 2, .auto), ("h100-sxm", "llama-3.1-8b", .eagle3, 1, .roofline),
            ("mi300x", "deepseek-v3", .mtp, 8, .auto), ("a100-80gb", "vicuna-7b", .blockwise, 1, .auto),
        ]
        for (hw, model, method, devices, kernels) in cases {
            let p = try Predictor(Self.config(hw, model, method: method, devices: devices, kernels: kernels)).predict()
            for cost in [p.targetStepCost, p.verifyCost] {
                // Tolerance 1e-12 relative: a sum of a few dozen doubles.
                #expect(isClose(cost.breakdown.total, cost.seconds, relative: 1e-12), "\(hw) \(model) \(method): \(cost.breakdown.total) vs \(cost.seconds)")
                #expect(isClose(cost.memoryBoundSeconds + cost.computeBoundSeconds + cost.overheadSeconds + cost.communicationSeconds,
                                cost.seconds, relative: 1e-12))
                #expect(OperationClass.allCases.allSatisfy { cost.breakdown.seconds($0) >= 0 })
            }
            if devices > 1 { #expect(p.targetStepCost.breakdown.seconds(.communication) > 0) }
        }
    }

    @Test("the operations list the same weights as the aggregate workload")
    func operationsMatchWorkload() throws {
        for name in ["llama-3.1-8b", "llama-3.1-70b", "qwen2.5-7b", "mixtral-8x7b", "deepseek-v3", "vicuna-7b"] {
            let workload = ForwardWorkload.target(try model(name))
            let ops = try #require(workload.operations)
            // Biases and router biases are in the aggregate but are not matrices: 0.1%.
            #expect(isClose(ops.gemmWeights, workload.denseParameters, relative: 1e-3), "\(name): \(ops.gemmWeights) vs \(workload.denseParameters)")
            if let experts = ops.experts {
                #expect(isClose(experts.matrices * experts.hidden * experts.ffnSize, workload.expertParameters, relative: 1e-9))
            }
        }
        #expect(ForwardWorkload.target(try model("t5-xxl")).operations == nil)
    }

    @Test("measured GEMMs: flat in rows at decode sizes, then compute-bound (Llama-3.1-8B on H100)")
    func gemmShapeOverRows() throws {
        let db = try #require(KernelDatabase.bundled(gpu: "h100-sxm"))
        let t = try #require(db.gemm["bf16"])
        // The FFN up projection (28672 × 4096): a 235 MB weight read takes ~90 µs at 80% of 3.35 TB/s.
        let one = t.seconds(1, 28672, 4096), sixtyFour = t.seconds(64, 28672, 4096), big = t.seconds(8192, 28672, 4096)
        #expect(one > 60e-6 && one < 130e-6, "T(1) = \(one)")
        #expect(sixtyFour < 1.25 * one, "T(64)/T(1) = \(sixtyFour / one)")
        // 8192 rows: 1.92 TFLOP... 2·8192·28672·4096 = 1.9e12 FLOP at ≤ 989 TFLOP/s ≥ 1.9 ms.
        #expect(big > 1.9e-3, "T(8192) = \(big)")
    }
}
