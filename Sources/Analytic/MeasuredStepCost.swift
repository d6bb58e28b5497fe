// Step cost from measured kernels: every operation of a forward (ForwardOperations) priced from
// the GPU's measured latency tables (KernelDatabase) instead of one roofline with one efficiency.
//
//   GEMM       T_gemm(rows, N/devices or N, K or K/devices) per product (column/row split, Megatron-LM)
//   attention  T_attn(KV heads per device; query heads per device × k, batch, (L + k) · hd / 128):
//              k queries per sequence are packed into the query-head axis of the decode kernel, as
//              FlashAttention-3's PackGQA and FlashMLA pack them (the KV cache is read once for all k)
//   MLA        T_mla(query heads per device × k, batch, L + k) (absorbed, DeepSeek-V2 §2.1.2)
//   experts    T_moe(b·k tokens) for the model's expert shape, dtype, split (tensor or expert parallel)
//              and routing skew, measured as one fused grouped-GEMM kernel; shared experts run on a
//              second stream beside it (a MoE layer costs max(shared, routed))
//   all-reduce 2 per layer, T_allreduce(devices, rows · d elements)
//   small      per kernel a constant latency + bytes / (scaling × bandwidth)
//   runtime    the runtime's per-forward cost (and its per-layer cost where that is host time)
//
// An operation without a measured table (no MoE data for a framework, fp32 products, a KV dtype the
// GPU was not measured with) is priced by the roofline for that operation alone; `MeasuredForward.
// pricedBy` says so. The tables and their fit errors come from tools/aiconfigurator/convert_kernels.py.

import Foundation

/// A group of a forward's GEMMs priced together: those repeated in every layer, those run once per
/// forward, the shared experts (beside the routed ones), each with the same rows per token. Its curve
/// over rows is the sum of its GEMMs' latencies at the GEMM table's row knots (exact there; between
/// knots the sum is interpolated as one power law), `knots` log seconds from `offset` in the forward's
/// curve buffer.
struct GemmGroup: Sendable {
    let offset: Int
    let perLayer: Bool
    let rowsPerToken: Double
    let overlapsExperts: Bool
    /// Weight bytes read and FLOPs per row, all GEMMs of the group on one device.
    let weightBytes: Double
    let flopsPerRow: Double
}

/// The attention kernel's table for one forward's KV heads per device: one measured slab, or the two
/// around it with the upper one's weight in log(KV heads). A class, so the hot path does not copy tables.
final class AttentionTables: Sendable {
    let lower: KernelTable
    let upper: KernelTable?
    let weight: Double

    init(lower: KernelTable, upper: KernelTable?, weight: Double) {
        self.lower = lower
        self.upper = upper
        self.weight = weight
    }

    /// Latency at a point of the tables' three axes, in order (query heads, batch, KV tokens for the
    /// decode kernel; query heads, input tokens, batch for the prefill kernel).
    @inline(__always)
    func seconds(_ x0: Double, _ x1: Double, _ x2: Double) -> Double {
        let l0 = log(x0), l1 = log(x1), l2 = log(x2)
        var value = lower.logSeconds(logX0: l0, logX1: l1, logX2: l2)
        if let upper { value += weight * (upper.logSeconds(logX0: l0, logX1: l1, logX2: l2) - value) }
        return exp(value)
    }
}

/// One forward's operations bound to a GPU's measured tables, with the per-GEMM curves over rows
/// precomputed (a sweep varies rows, batch and context, never the shapes).
public final class MeasuredForward: Sendable {
    public let workload: ForwardWorkload
    let operations: ForwardOperations
    let context: ExecutionContext
    let databaseGPU: String
    let attentionHeadDim: Double
    let smallLatencySeconds: Double
    let smallBytesPerSecond: Double
    let bandwidth: Double
    let peak: Double
    let devices: Double
    /// The GEMM groups (nil: no GEMM table for the weight type → roofline) and their curves over rows,
    /// one after the other in one buffer.
    let gemmGroups: [GemmGroup]?
    let gemmLogSeconds: [Double]
    let gemmRowKnots: [Double]
    /// The attention tables bracketing this forward's KV heads per device (GQA), or the MLA table.
    let attentionTables: AttentionTables?
    /// The prefill kernel's tables for the same KV heads (axes: query heads, input tokens, batch).
    let prefillTables: AttentionTables?
    let mlaTables: AttentionTables?
    let expertCurve: KernelCurve?
    /// The routing skews measured for this forward's expert shape and split.
    let expertSkews: [Double]
    let allReduceCurve: KernelCurve?
    let runtimePerLayerSeconds: Double

    /// Nil when the workload lists no operations (the roofline prices it).
    public init?(_ workload: ForwardWorkload, context: ExecutionContext, database: KernelDatabase) {
        guard let operations = workload.operations else { return nil }
        self.workload = workload
        self.operations = operations
        self.context = context
        databaseGPU = database.gpu
        attentionHeadDim = database.attentionHeadDim
        smallLatencySeconds = database.smallKernels.latencySeconds
        smallBytesPerSecond = context.hardware.memoryBytesPerSecond * database.smallKernels.bandwidthScaling
        bandwidth = context.hardware.memoryBytesPerSecond * context.hardware.bandwidthEfficiency
        peak = context.peakFlopsPerSecond
        let devices = Double(context.devices)
        self.devices = devices
        if let table = database.gemmTable(for: context.weightType) {
            gemmRowKnots = table.logKnots[0]
            var buffer: [Double] = [], groups: [GemmGroup] = []
            var keys: [(Bool, Double, Bool)] = []
            for gemm in operations.gemms where !keys.contains(where: { $0 == (gemm.perLayer, gemm.rowsPerToken, gemm.overlapsExperts) }) {
                keys.append((gemm.perLayer, gemm.rowsPerToken, gemm.overlapsExperts))
            }
            for key in keys {
                let members = operations.gemms.filter { ($0.perLayer, $0.rowsPerToken, $0.overlapsExperts) == key }
                var bytes = 0.0, flopsPerRow = 0.0
                var priced: [(count: Double, inner: [Double])] = []
                for gemm in members {
                    let shape = gemm.perDevice(devices)
                    priced.append((gemm.count, [shape.outputs, shape.inputs]))
                    bytes += gemm.count * shape.outputs * shape.inputs * workload.bytesPerWeight
                    flopsPerRow += gemm.count * 2 * gemm.rowsPerToken * shape.outputs * shape.inputs
                }
                groups.append(GemmGroup(offset: buffer.count, perLayer: key.0, rowsPerToken: key.1, overlapsExperts: key.2,
                                        weightBytes: bytes, flopsPerRow: flopsPerRow))
                buffer += table.summedLogCurve(priced)
            }
            gemmGroups = groups
            gemmLogSeconds = buffer
        } else {
            gemmGroups = nil
            gemmLogSeconds = []
            gemmRowKnots = []
        }
        let kvType = context.kvBytesPerValue == 1 ? "fp8" : "bf16"
        let attentionSlabs = context.kvBytesPerValue <= 2 ? database.attention[kvType] : nil
        if let attention = operations.attention, attention.latentWidth == nil, let attentionSlabs {
            let bracket = attentionSlabs.bracket(max(1, attention.kvHeads / devices))
            attentionTables = AttentionTables(lower: bracket.lower, upper: bracket.upper, weight: bracket.weight)
        } else {
            attentionTables = nil
        }
        if let attention = operations.attention, attention.latentWidth == nil, context.kvBytesPerValue <= 2,
           let slabs = database.contextAttention?["bf16"] {
            let bracket = slabs.bracket(max(1, attention.kvHeads / devices))
            prefillTables = AttentionTables(lower: bracket.lower, upper: bracket.upper, weight: bracket.weight)
        } else {
            prefillTables = nil
        }
        mlaTables = (context.kvBytesPerValue <= 2 ? database.mla?[kvType] : nil).map { AttentionTables(lower: $0, upper: nil, weight: 0) }
        var expertCurve: KernelCurve? = nil
        var expertSkews: [Double] = []
        if let experts = operations.experts, let moe = database.moe {
            let split = context.expertParallel ? (1, context.devices) : (context.devices, 1)
            for dtype in MeasuredForward.moeTypes(context.weightType) where expertCurve == nil {
                expertCurve = try? moe.curve(dtype: dtype, hidden: Int(experts.hidden), ffnSize: Int(experts.ffnSize),
                                             activeExperts: Int(experts.activeExperts), routedExperts: Int(experts.routedExperts),
                                             tensorParallel: split.0, expertParallel: split.1, routingSkew: context.routingSkew)
                if expertCurve != nil {
                    expertSkews = moe.matching(dtype: dtype, hidden: Int(experts.hidden), ffnSize: Int(experts.ffnSize),
                                               activeExperts: Int(experts.activeExperts), routedExperts: Int(experts.routedExperts),
                                               tensorParallel: split.0, expertParallel: split.1).map(\.routingSkew)
                }
            }
        }
        self.expertCurve = expertCurve
        self.expertSkews = expertSkews
        if context.devices > 1, let slabs = database.allReduce, devices <= slabs.slabs[slabs.slabs.count - 1].parameter {
            // Between measured device counts the latency is interpolated in log(devices); beyond the largest
            // (other nodes, other links) there is no measurement and the roofline's ring all-reduce prices it.
            let bracket = slabs.bracket(devices)
            let lower = bracket.lower.curve(overFirstAxisAt: [])
            allReduceCurve = bracket.upper.map { lower.blended(toward: $0.curve(overFirstAxisAt: []), weight: bracket.weight) } ?? lower
        } else {
            allReduceCurve = nil
        }
        runtimePerLayerSeconds = context.overhead.perLayerIsKernelLatency ? 0 : context.overhead.perLayerSeconds
    }

    /// What priced each operation class: measured tables or the roofline.
    public var pricedBy: [(OperationClass, String)] {
        var list: [(OperationClass, String)] = [(.gemm, gemmGroups != nil ? "measured" : "roofline (no \(context.weightType.rawValue) GEMM table)")]
        if let attention = operations.attention {
            if attention.latentWidth != nil {
                list.append((.attention, mlaTables != nil ? "measured (MLA)" : "roofline (no MLA table)"))
            } else {
                list.append((.attention, attentionTables != nil ? "measured" : "roofline (no attention table)"))
            }
        }
        if let experts = operations.experts {
            let measuredSkews = expertSkews.map { String(format: "%g", $0) }.joined(separator: ", ")
            list.append((.moe, expertCurve != nil ? "measured (\(context.expertParallel ? "expert" : "tensor") parallel, routing skew \(String(format: "%g", context.routingSkew)); measured at \(measuredSkews), interpolated between them, the nearest outside)"
                         : "roofline (no measurement of \(Int(experts.routedExperts)) experts × \(Int(experts.hidden))/\(Int(experts.ffnSize)), top-\(Int(experts.activeExperts)) on \(context.devices) devices)"))
        }
        if context.devices > 1 {
            list.append((.communication, allReduceCurve != nil ? "measured all-reduce" : "roofline (no all-reduce measured on \(context.devices) devices)"))
        }
        list.append((.other, "constant latency + bytes (\(databaseGPU) system description)"))
        return list
    }

    /// Cost of one forward over `tokensPerSequence` new tokens for `batch` sequences at `contextTokens`.
    @inline(__always)
    public func cost(tokensPerSequence k: Double, batch b: Double, contextTokens L: Double) -> StepCost {
        price(tokensPerSequence: k, batch: b, contextTokens: L, prefill: false)
    }

    /// The prefill of `inputTokens` new tokens per sequence with nothing cached: the attention priced by
    /// the prefill (context) kernel's table where measured, the roofline's causal attention otherwise.
    public func prefill(inputTokens: Double, batch: Double) -> StepCost {
        price(tokensPerSequence: inputTokens, batch: batch, contextTokens: 0, prefill: true)
    }

    @inline(__always)
    private func price(tokensPerSequence k: Double, batch b: Double, contextTokens L: Double, prefill: Bool) -> StepCost {
        var cost = StepCost.zero
        guard k > 0, b > 0 else { return cost }
        let rows = k * b
        let bandwidth = self.bandwidth, peak = self.peak
        let bytesPerWeight = workload.bytesPerWeight

        // GEMMs.
        var sharedExpertSeconds = 0.0, sharedMemory = 0.0, sharedCompute = 0.0
        if let gemmGroups {
            // Every group's curve shares the row knots: find the segment once per row count.
            let segment = KernelTable.AxisPosition(gemmRowKnots, log(rows))
            for group in gemmGroups {
                let seconds = group.rowsPerToken == 1
                    ? segment.seconds(gemmLogSeconds, from: group.offset)
                    : KernelTable.AxisPosition(gemmRowKnots, log(rows * group.rowsPerToken)).seconds(gemmLogSeconds, from: group.offset)
                let flops = group.flopsPerRow * rows
                cost.weightBytes += group.weightBytes
                cost.flops += flops
                if group.overlapsExperts {
                    sharedExpertSeconds += seconds
                    sharedMemory += group.weightBytes / bandwidth; sharedCompute += flops / peak
                    continue
                }
                classify(seconds, memorySeconds: group.weightBytes / bandwidth, computeSeconds: flops / peak, into: &cost)
                cost.breakdown.add(.gemm, seconds, perLayer: group.perLayer)
            }
        } else {
            var dense = workload
            dense.moeLayers = 0; dense.attentionLayers = 0; dense.crossAttentionLayers = 0; dense.forwards = 0; dense.layers = 0
            let part = Roofline.stepCost(dense, tokensPerSequence: k, batch: b, contextTokens: L, context: rooflineContext)
            cost = cost + part
        }

        // Attention core.
        if let attention = operations.attention {
            let kvTokens = L + k
            let headsPerDevice = max(1, attention.heads / devices)
            let kvBytes = b * kvTokens * workload.kvValuesPerTokenPerLayer * context.kvBytesPerValue / devices
            let flops = rows * workload.attentionFlopsPerQueryPerContextToken * (L + (k + 1) / 2) / devices
            var seconds: Double? = nil
            if prefill {
                if attention.latentWidth == nil, let prefillTables, L == 0 {
                    // Other head dims: the prefill kernel's work scales with the head dim.
                    seconds = prefillTables.seconds(headsPerDevice, k, b) * attention.headDim / attentionHeadDim
                }
            } else if attention.latentWidth != nil, let mlaTables {
                seconds = mlaTables.seconds(headsPerDevice * k, b, kvTokens)
            } else if let attentionTables {
                let equivalentTokens = kvTokens * attention.headDim / attentionHeadDim
                seconds = attentionTables.seconds(headsPerDevice * k, b, max(1, equivalentTokens))
            }
            if let seconds {
                let total = attention.layers * seconds
                classify(total, memorySeconds: attention.layers * kvBytes / bandwidth,
                         computeSeconds: attention.layers * flops / peak, into: &cost)
                cost.breakdown.add(.attention, total, perLayer: true)
                cost.flops += attention.layers * flops
                cost.kvCacheBytes += attention.layers * kvBytes
            } else {
                var core = workload
                core.denseParameters = 0; core.extraFlopsPerToken = 0; core.moeLayers = 0; core.forwards = 0; core.layers = 0
                cost = cost + Roofline.stepCost(core, tokensPerSequence: k, batch: b, contextTokens: L, context: rooflineContext)
            }
        }

        // Routed experts, with the shared experts beside them.
        if let experts = operations.experts {
            var routed = 0.0
            if let expertCurve {
                routed = experts.layers * expertCurve.seconds(logX: log(rows))
                let distinct = MoE.expectedDistinctExperts(experts: experts.routedExperts, active: experts.activeExperts, tokens: rows)
                let bytes = experts.layers * distinct * experts.matrices * experts.hidden * experts.ffnSize * bytesPerWeight / devices
                let flops = 2 * experts.layers * rows * experts.activeExperts * experts.matrices * experts.hidden * experts.ffnSize / devices
                classify(routed, memorySeconds: bytes / bandwidth, computeSeconds: flops / peak, into: &cost)
                cost.weightBytes += bytes
                cost.flops += flops
            } else {
                var routedOnly = workload
                routedOnly.denseParameters = 0; routedOnly.extraFlopsPerToken = 0; routedOnly.attentionLayers = 0
                routedOnly.crossAttentionLayers = 0; routedOnly.forwards = 0; routedOnly.layers = 0
                let part = Roofline.stepCost(routedOnly, tokensPerSequence: k, batch: b, contextTokens: L, context: rooflineContext)
                routed = part.seconds
                var moved = part
                moved.breakdown = OperationBreakdown()
                cost = cost + moved
            }
            cost.breakdown.add(.moe, routed, perLayer: true)
            // The shared experts show only where they outlast the routed ones.
            let exposed = max(0, sharedExpertSeconds - routed)
            if exposed > 0 {
                classify(exposed, memorySeconds: sharedMemory, computeSeconds: sharedCompute, into: &cost)
                cost.breakdown.add(.gemm, exposed, perLayer: true)
            }
        }

        // Tensor-parallel all-reduces.
        if context.devices > 1 {
            let elements = rows * operations.hidden
            let bytes = elements * context.activationBytes
            let perAllReduce: Double
            if let allReduceCurve {
                perAllReduce = allReduceCurve.seconds(logX: log(elements))
            } else {
                perAllReduce = 2 * (devices - 1) / devices * bytes / context.hardware.interconnectBytesPerSecond
                    + context.overhead.perAllReduceSeconds
            }
            let total = operations.allReducesPerForward * perAllReduce
            cost.communicationSeconds += total
            cost.seconds += total
            cost.breakdown.add(.communication, total, perLayer: true)
        }

        // Small kernels.
        let small = operations.small
        let smallBandwidth = smallBytesPerSecond
        let latency = smallLatencySeconds
        let perLayerSmall = operations.layers * (small.perLayer * latency + rows * small.bytesPerRowPerLayer / smallBandwidth)
        let perForwardSmall = workload.forwards * (small.perForward * latency + rows * small.bytesPerRowPerForward / smallBandwidth)
        cost.overheadSeconds += perLayerSmall + perForwardSmall
        cost.seconds += perLayerSmall + perForwardSmall
        cost.breakdown.add(.other, perLayerSmall, perLayer: true)
        cost.breakdown.add(.other, perForwardSmall, perLayer: false)

        Roofline.addRuntimeFixedCosts(forwards: workload.forwards, layers: workload.layers, overhead: context.overhead,
                                      perLayerSeconds: runtimePerLayerSeconds, into: &cost)
        return cost
    }

    /// The measured MoE dtypes to try for a weight type, in order.
    static func moeTypes(_ type: WeightType) -> [String] {
        switch type {
        case .fp8: return ["fp8Block", "fp8"]
        case .bf16, .fp16: return ["bf16"]
        default: return []
        }
    }

    /// The context the roofline fallbacks use: no fixed costs (they are added once, above).
    private var rooflineContext: ExecutionContext {
        var plain = context
        plain.overhead = .ideal
        plain.kernels = nil
        plain.devices = context.devices
        return plain
    }

    @inline(__always)
    private func classify(_ seconds: Double, memorySeconds: Double, computeSeconds: Double, into cost: inout StepCost) {
        if computeSeconds > memorySeconds { cost.computeBoundSeconds += seconds } else { cost.memoryBoundSeconds += seconds }
        cost.seconds += seconds
    }
}

/// A forward priced once per (workload, context): measured when possible (curves precomputed), the
/// roofline otherwise. The Predictor holds one per workload.
public final class PricedForward: Sendable {
    public let workload: ForwardWorkload
    public let context: ExecutionContext
    let measured: MeasuredForward?

    public init(_ workload: ForwardWorkload, context: ExecutionContext) {
        self.workload = workload
        self.context = context
        measured = context.kernels.flatMap { MeasuredForward(workload, context: context, database: $0) }
    }

    public var isMeasured: Bool { measured != nil }
    public var pricedBy: [(OperationClass, String)] {
        measured?.pricedBy ?? [(.gemm, "roofline"), (.attention, "roofline")]
    }

    /// The prefill of `inputTokens` per sequence with nothing cached (the roofline's causal attention
    /// where the prefill kernel was not measured).
    public func prefill(inputTokens: Double, batch: Double) -> StepCost {
        if let measured { return measured.prefill(inputTokens: inputTokens, batch: batch) }
        return Roofline.stepCost(workload, tokensPerSequence: inputTokens, batch: batch, contextTokens: 0,
                                 sourceTokens: inputTokens, context: context)
    }

    @inline(__always)
    public func cost(tokensPerSequence: Double, batch: Double, contextTokens: Double, sourceTokens: Double = 0) -> StepCost {
        if let measured { return measured.cost(tokensPerSequence: tokensPerSequence, batch: batch, contextTokens: contextTokens) }
        return Roofline.stepCost(workload, tokensPerSequence: tokensPerSequence, batch: batch, contextTokens: contextTokens,
                                 sourceTokens: sourceTokens, context: context)
    }
}
