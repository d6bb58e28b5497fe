// Step cost from measured kernels: every operation of a forward (ForwardOperations) priced from
// the GPU's measured latency tables (KernelDatabase) instead of one roofline with one efficiency.
//
//   GEMM       T_gemm(rows, N/devices or N, K or K/devices) per product (column/row split, Megatron-LM)
//   attention  T_attn(KV heads per device; query heads per device × k, batch, (L + k) · hd / 128):
//              k queries per sequence are packed into the query-head axis of the decode kernel, as
//              FlashAttention-3's PackGQA and FlashMLA pack them (the KV cache is read once for all k)
//   MLA        T_mla(query heads per device × k, batch, L + k) (absorbed, DeepSeek-V2 §2.1.2)
//   experts    E_touched · T_expert(rows per touched expert, …): only the distinct experts the b·k rows
//              touch are read (uniform routing, the upper end; `MoE.expectedDistinctExperts`)
//   all-reduce 2 per layer, T_allreduce(devices, rows · d · 2 bytes)
//   small      per kernel a constant latency + bytes / (scaling × bandwidth)
//   runtime    the runtime's per-forward cost (and its per-layer cost where that is host time)
//
// An operation without a measured table (no MoE data for a framework, fp32 products, a KV dtype the
// GPU was not measured with) is priced by the roofline for that operation alone; `MeasuredForward.
// pricedBy` says so. The tables and their fit errors come from tools/aiconfigurator/convert_kernels.py.

import Foundation

/// One forward's operations bound to a GPU's measured tables, with the per-GEMM curves over rows
/// precomputed (a sweep varies rows, batch and context, never the shapes).
public struct MeasuredForward: Sendable {
    public let workload: ForwardWorkload
    let operations: ForwardOperations
    let context: ExecutionContext
    let database: KernelDatabase
    let devices: Double
    /// One curve over rows per GEMM (nil: no GEMM table for the weight type → roofline).
    let gemmCurves: [(curve: KernelCurve, count: Double, perLayer: Bool, rowsPerToken: Double, outputs: Double, inputs: Double)]?
    let attentionSlabs: KernelSlabs?
    let mlaTable: KernelTable?
    let expertTable: KernelTable?
    let allReduceCurve: KernelCurve?
    let runtimePerLayerSeconds: Double

    /// Nil when the workload lists no operations (the roofline prices it).
    public init?(_ workload: ForwardWorkload, context: ExecutionContext, database: KernelDatabase) {
        guard let operations = workload.operations else { return nil }
        self.workload = workload
        self.operations = operations
        self.context = context
        self.database = database
        let devices = Double(context.devices)
        self.devices = devices
        if let table = database.gemmTable(for: context.weightType) {
            gemmCurves = operations.gemms.map { gemm in
                let shape = gemm.perDevice(devices)
                return (table.curve(overFirstAxisAt: [shape.outputs, shape.inputs]), gemm.count, gemm.perLayer,
                        gemm.rowsPerToken, shape.outputs, shape.inputs)
            }
        } else {
            gemmCurves = nil
        }
        let kvType = context.kvBytesPerValue == 1 ? "fp8" : "bf16"
        attentionSlabs = context.kvBytesPerValue <= 2 ? database.attention[kvType] : nil
        mlaTable = context.kvBytesPerValue <= 2 ? database.mla?[kvType] : nil
        expertTable = database.moe?[context.weightType == .fp8 ? "fp8Block" : "bf16"]
            ?? (context.weightType == .fp8 ? database.moe?["fp8"] : nil)
        if context.devices > 1, let slabs = database.allReduce {
            // The nearest measured device count at or below (collectives over more devices are slower).
            let slab = slabs.slabs.last(where: { $0.parameter <= devices }) ?? slabs.slabs[0]
            allReduceCurve = slab.table.curve(overFirstAxisAt: [])
        } else {
            allReduceCurve = nil
        }
        runtimePerLayerSeconds = context.overhead.perLayerIsKernelLatency ? 0 : context.overhead.perLayerSeconds
    }

    /// What priced each operation class: measured tables or the roofline.
    public var pricedBy: [(OperationClass, String)] {
        var list: [(OperationClass, String)] = [(.gemm, gemmCurves != nil ? "measured" : "roofline (no \(context.weightType.rawValue) GEMM table)")]
        if let attention = operations.attention {
            if attention.latentWidth != nil {
                list.append((.attention, mlaTable != nil ? "measured (MLA)" : "roofline (no MLA table)"))
            } else {
                list.append((.attention, attentionSlabs != nil ? "measured" : "roofline (no attention table)"))
            }
        }
        if operations.experts != nil { list.append((.moe, expertTable != nil ? "measured" : "roofline (no MoE table)")) }
        if context.devices > 1 { list.append((.communication, allReduceCurve != nil ? "measured all-reduce" : "roofline")) }
        list.append((.other, "constant latency + bytes (\(database.gpu) system description)"))
        return list
    }

    /// Cost of one forward over `tokensPerSequence` new tokens for `batch` sequences at `contextTokens`.
    public func cost(tokensPerSequence k: Double, batch b: Double, contextTokens L: Double) -> StepCost {
        var cost = StepCost.zero
        guard k > 0, b > 0 else { return cost }
        let rows = k * b
        let hw = context.hardware
        let bandwidth = hw.memoryBytesPerSecond * hw.bandwidthEfficiency
        let peak = context.peakFlopsPerSecond
        let bytesPerWeight = workload.bytesPerWeight

        // GEMMs.
        if let gemmCurves {
            var weightBytes = 0.0
            for gemm in gemmCurves {
                let m = rows * gemm.rowsPerToken
                let seconds = gemm.count * gemm.curve.seconds(logX: log(m))
                let bytes = gemm.outputs * gemm.inputs * bytesPerWeight
                let flops = 2 * m * gemm.outputs * gemm.inputs
                weightBytes += gemm.count * bytes
                cost.flops += gemm.count * flops
                classify(seconds, memorySeconds: bytes / bandwidth, computeSeconds: flops / peak, into: &cost)
                cost.breakdown.add(.gemm, seconds, perLayer: gemm.perLayer)
            }
            cost.weightBytes += weightBytes
        } else {
            var dense = workload
            dense.moeLayers = 0; dense.attentionLayers = 0; dense.crossAttentionLayers = 0; dense.forwards = 0; dense.layers = 0
            let part = Roofline.stepCost(dense, tokensPerSequence: k, batch: b, contextTokens: L, context: rooflineContext)
            cost = cost + part
        }

        // Attention core.
        if let attention = operations.attention {
            let kvTokens = L + k
            let kvHeadsPerDevice = max(1, attention.kvHeads / devices)
            let headsPerDevice = max(1, attention.heads / devices)
            let kvBytes = b * kvTokens * workload.kvValuesPerTokenPerLayer * context.kvBytesPerValue / devices
            let flops = rows * workload.attentionFlopsPerQueryPerContextToken * (L + (k + 1) / 2) / devices
            var seconds: Double? = nil
            if attention.latentWidth != nil, let mlaTable {
                seconds = mlaTable.seconds(headsPerDevice * k, b, kvTokens)
            } else if attention.latentWidth == nil, let attentionSlabs {
                let equivalentTokens = kvTokens * attention.headDim / database.attentionHeadDim
                seconds = attentionSlabs.seconds(parameter: kvHeadsPerDevice, [headsPerDevice * k, b, max(1, equivalentTokens)])
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

        // Routed experts.
        if let experts = operations.experts {
            let distinct = MoE.expectedDistinctExperts(experts: experts.routedExperts, active: experts.activeExperts, tokens: rows)
            if let expertTable {
                // Experts are spread over the devices (expert parallel) or each split over them (tensor
                // parallel): per device, distinct/devices whole experts or distinct slices of 1/devices.
                let rowsPerExpert = rows * experts.activeExperts / distinct
                let perExpert = expertTable.seconds(max(1, rowsPerExpert), experts.ffnSize / devices, experts.hidden)
                let total = experts.layers * distinct * perExpert
                let bytes = experts.layers * distinct * experts.matrices * experts.hidden * experts.ffnSize * bytesPerWeight / devices
                let flops = 2 * experts.layers * rows * experts.activeExperts * experts.matrices * experts.hidden * experts.ffnSize / devices
                classify(total, memorySeconds: bytes / bandwidth, computeSeconds: flops / peak, into: &cost)
                cost.breakdown.add(.moe, total, perLayer: true)
                cost.weightBytes += bytes
                cost.flops += flops
            } else {
                var routed = workload
                routed.denseParameters = 0; routed.extraFlopsPerToken = 0; routed.attentionLayers = 0
                routed.crossAttentionLayers = 0; routed.forwards = 0; routed.layers = 0
                cost = cost + Roofline.stepCost(routed, tokensPerSequence: k, batch: b, contextTokens: L, context: rooflineContext)
            }
        }

        // Tensor-parallel all-reduces.
        if context.devices > 1 {
            let bytes = rows * operations.hidden * context.activationBytes
            let perAllReduce: Double
            if let allReduceCurve {
                perAllReduce = allReduceCurve.seconds(logX: log(bytes))
            } else {
                perAllReduce = 2 * (devices - 1) / devices * bytes / hw.interconnectBytesPerSecond + context.overhead.perAllReduceSeconds
            }
            let total = operations.allReducesPerForward * perAllReduce
            cost.communicationSeconds += total
            cost.seconds += total
            cost.breakdown.add(.communication, total, perLayer: true)
        }

        // Small kernels.
        let small = operations.small
        let smallBandwidth = hw.memoryBytesPerSecond * database.smallKernels.bandwidthScaling
        let latency = database.smallKernels.latencySeconds
        let perLayerSmall = operations.layers * (small.perLayer * latency + rows * small.bytesPerRowPerLayer / smallBandwidth)
        let perForwardSmall = workload.forwards * (small.perForward * latency + rows * small.bytesPerRowPerForward / smallBandwidth)
        cost.overheadSeconds += perLayerSmall + perForwardSmall
        cost.seconds += perLayerSmall + perForwardSmall
        cost.breakdown.add(.other, perLayerSmall, perLayer: true)
        cost.breakdown.add(.other, perForwardSmall, perLayer: false)

        Roofline.addRuntimeFixedCosts(workload, context: context, perLayerSeconds: runtimePerLayerSeconds, into: &cost)
        return cost
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

extension StepCostModel {
    /// Which model priced a forward on this context: "measured kernels: h100-sxm, sglang 0.5.14" or "roofline".
    public static func label(_ context: ExecutionContext) -> String {
        context.kernels.map { "measured kernels: \($0.label)" } ?? "roofline"
    }
}

/// One entry point for a forward's cost: measured kernels where the context has them and the
/// workload lists its operations, the roofline otherwise.
public enum StepCostModel {
    public static func stepCost(_ workload: ForwardWorkload, tokensPerSequence: Double, batch: Double,
                                contextTokens: Double, sourceTokens: Double = 0,
                                context: ExecutionContext) -> StepCost {
        if let database = context.kernels, let measured = MeasuredForward(workload, context: context, database: database) {
            return measured.cost(tokensPerSequence: tokensPerSequence, batch: batch, contextTokens: contextTokens)
        }
        return Roofline.stepCost(workload, tokensPerSequence: tokensPerSequence, batch: batch,
                                 contextTokens: contextTokens, sourceTokens: sourceTokens, context: context)
    }
}

/// A forward priced once per (workload, context): measured when possible (curves precomputed), the
/// roofline otherwise. The Predictor holds one per workload.
public struct PricedForward: Sendable {
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

    @inline(__always)
    public func cost(tokensPerSequence: Double, batch: Double, contextTokens: Double, sourceTokens: Double = 0) -> StepCost {
        if let measured { return measured.cost(tokensPerSequence: tokensPerSequence, batch: batch, contextTokens: contextTokens) }
        return Roofline.stepCost(workload, tokensPerSequence: tokensPerSequence, batch: batch, contextTokens: contextTokens,
                                 sourceTokens: sourceTokens, context: context)
    }
}
