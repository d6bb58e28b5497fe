// Roofline cost of one forward over k new tokens for b sequences at context L.
//
// A forward is split into three operation groups, each priced by the roofline
// max(bytes / effective bandwidth, FLOPs / effective compute) (Williams,
// Waterman, Patterson 2009, "Roofline"), plus communication and fixed costs:
//   dense  — every weight applied to every token (attention projections, dense
//            FFN, shared experts, routers, LM head); weights read once per step;
//   experts — routed MoE experts: only the distinct experts the b·k tokens touch
//            are read (occupancy expectation, `MoE.expectedDistinctExperts`);
//   attention — the attention core: the KV cache is read once per sequence
//            (GQA/MLA-aware bytes) and every query attends to its context.
// Compute is charged for at least one GEMM tile of rows: a product over M <
// tile rows costs as much compute as one over a full tile (tile quantization,
// NVIDIA "Matrix Multiplication Background User's Guide"), so compute
// efficiency is low for small M. Above one tile the charge is linear in M:
// libraries pick tile shapes per problem, and charging ceil(M / tile) whole
// tiles would put artificial cliffs (+1/n per extra tile) into batch sweeps.

import Foundation

/// A forward pass as the roofline sees it: weights, expert structure, attention.
public struct ForwardWorkload: Sendable, Equatable {
    public var name: String
    /// Weights every token is multiplied by (parameters).
    public var denseParameters: Double
    /// Extra FLOPs per token that read no extra weights (e.g. extra heads
    /// applying the shared unembedding already streamed by the LM head).
    public var extraFlopsPerToken: Double
    /// MoE layers and their routed experts.
    public var moeLayers: Double
    public var expertParameters: Double
    public var routedExperts: Double
    public var activeExperts: Double
    /// Self-attention layers with a KV cache over the context.
    public var attentionLayers: Double
    public var kvValuesPerTokenPerLayer: Double
    public var attentionFlopsPerQueryPerContextToken: Double
    /// Cross-attention layers over a fixed-length source (encoder-decoder).
    public var crossAttentionLayers: Double
    public var crossKVValuesPerSourceTokenPerLayer: Double
    public var crossFlopsPerQueryPerSourceToken: Double
    /// Layers that pay per-layer fixed costs and tensor-parallel all-reduces.
    public var layers: Double
    /// Forwards (launch groups) this workload counts as: 1 for a separate
    /// forward, 0 when it runs inside another forward (heads on the target).
    public var forwards: Double
    public var hidden: Double
    public var bytesPerWeight: Double
    /// The same forward as operations, for per-operation pricing from measured kernels
    /// (`MeasuredForward`); nil where only the aggregate above is known (priced by the roofline).
    public var operations: ForwardOperations?

    public init(name: String, denseParameters: Double, extraFlopsPerToken: Double = 0,
                moeLayers: Double = 0, expertParameters: Double = 0, routedExperts: Double = 0,
                activeExperts: Double = 0, attentionLayers: Double, kvValuesPerTokenPerLayer: Double,
                attentionFlopsPerQueryPerContextToken: Double, crossAttentionLayers: Double = 0,
                crossKVValuesPerSourceTokenPerLayer: Double = 0, crossFlopsPerQueryPerSourceToken: Double = 0,
                layers: Double, forwards: Double = 1, hidden: Double, bytesPerWeight: Double) {
        self.name = name
        self.denseParameters = denseParameters
        self.extraFlopsPerToken = extraFlopsPerToken
        self.moeLayers = moeLayers
        self.expertParameters = expertParameters
        self.routedExperts = routedExperts
        self.activeExperts = activeExperts
        self.attentionLayers = attentionLayers
        self.kvValuesPerTokenPerLayer = kvValuesPerTokenPerLayer
        self.attentionFlopsPerQueryPerContextToken = attentionFlopsPerQueryPerContextToken
        self.crossAttentionLayers = crossAttentionLayers
        self.crossKVValuesPerSourceTokenPerLayer = crossKVValuesPerSourceTokenPerLayer
        self.crossFlopsPerQueryPerSourceToken = crossFlopsPerQueryPerSourceToken
        self.layers = layers
        self.forwards = forwards
        self.hidden = hidden
        self.bytesPerWeight = bytesPerWeight
    }

    /// The full decode forward of a model: decoder layers, cross-attention
    /// q/o (T5: cross k/v are computed once per sequence, not per step) and the
    /// LM head; the input embedding is a gather, not a stream (REFERENCES.md §2.2).
    public static func target(_ shape: ModelShape) -> ForwardWorkload {
        let counts = shape.parameterCounts
        var workload = ForwardWorkload(
            name: shape.name,
            denseParameters: counts.decoderAttention + counts.crossAttentionQO + counts.denseFFN
                + counts.sharedExperts + counts.routers + counts.headStreamed,
            moeLayers: Double(shape.moeLayerCount),
            expertParameters: counts.oneExpert,
            routedExperts: Double(shape.moe?.routedExperts ?? 0),
            activeExperts: Double(shape.moe?.activeExperts ?? 0),
            attentionLayers: Double(shape.layers),
            kvValuesPerTokenPerLayer: shape.kvValuesPerTokenPerLayer,
            attentionFlopsPerQueryPerContextToken: shape.attentionFlopsPerQueryPerContextToken,
            crossAttentionLayers: shape.isEncoderDecoder ? Double(shape.layers) : 0,
            crossKVValuesPerSourceTokenPerLayer: shape.isEncoderDecoder ? 2 * shape.attentionWidth : 0,
            crossFlopsPerQueryPerSourceToken: shape.isEncoderDecoder ? 4 * shape.attentionWidth : 0,
            layers: Double(shape.layers),
            hidden: Double(shape.hidden),
            bytesPerWeight: shape.weightType.bytesPerWeight)
        workload.operations = ForwardOperations.target(shape)
        return workload
    }
}

/// Which term of the roofline dominates a forward.
public enum Bound: String, Sendable, Codable {
    case memory, compute, overhead, communication
}

/// The operation classes a step's time is split into, as a profiler's summary groups kernels.
public enum OperationClass: Int, Sendable, CaseIterable {
    /// Dense matrix products (projections, shared experts, routers, LM head, drafter heads).
    case gemm
    /// The attention core (decode or multi-query kernel over the KV cache).
    case attention
    /// Routed experts (grouped GEMM).
    case moe
    /// All-reduce and all-to-all between devices.
    case communication
    /// Small memory-bound kernels: norms, rotary, activation, cache writes, embedding, sampling.
    case other
    /// The runtime's fixed costs per forward and per layer (launches, scheduling).
    case runtime

    public var name: String {
        switch self {
        case .gemm: return "gemm"
        case .attention: return "attention"
        case .moe: return "moe"
        case .communication: return "communication"
        case .other: return "other"
        case .runtime: return "runtime"
        }
    }
}

/// A step's time by operation class, split into the part repeated in every layer (summed over the
/// layers) and the part paid once per forward.
public struct OperationBreakdown: Sendable, Equatable {
    public var layers: SIMD8<Double> = .zero
    public var forward: SIMD8<Double> = .zero

    public init() {}

    @inline(__always)
    public mutating func add(_ kind: OperationClass, _ seconds: Double, perLayer: Bool) {
        if perLayer { layers[kind.rawValue] += seconds } else { forward[kind.rawValue] += seconds }
    }

    public func seconds(_ kind: OperationClass) -> Double { layers[kind.rawValue] + forward[kind.rawValue] }
    public var perLayerTotal: Double { layers.sum() }
    public var perForwardTotal: Double { forward.sum() }
    public var total: Double { perLayerTotal + perForwardTotal }
}

/// Everything a forward costs, split by cause.
public struct StepCost: Sendable, Equatable {
    public var seconds: Double
    /// Time of the operation groups that were bandwidth-bound.
    public var memoryBoundSeconds: Double
    /// Time of the operation groups that were compute-bound.
    public var computeBoundSeconds: Double
    public var overheadSeconds: Double
    public var communicationSeconds: Double
    /// A CPU's imperfect overlap: the part of each group's shorter term (memory or compute) not hidden
    /// behind the longer (CPUEffects.overlapPenalty; 0 on GPUs). The five terms add up to `seconds`.
    public var overlapSeconds = 0.0
    /// Bytes read and written per device.
    public var weightBytes: Double
    public var kvCacheBytes: Double
    /// FLOPs per device (without tile padding).
    public var flops: Double
    /// The same time by operation class (sums to `seconds`).
    public var breakdown = OperationBreakdown()

    public init(seconds: Double, memoryBoundSeconds: Double, computeBoundSeconds: Double, overheadSeconds: Double,
                communicationSeconds: Double, weightBytes: Double, kvCacheBytes: Double, flops: Double,
                breakdown: OperationBreakdown = OperationBreakdown()) {
        self.seconds = seconds
        self.memoryBoundSeconds = memoryBoundSeconds
        self.computeBoundSeconds = computeBoundSeconds
        self.overheadSeconds = overheadSeconds
        self.communicationSeconds = communicationSeconds
        self.weightBytes = weightBytes
        self.kvCacheBytes = kvCacheBytes
        self.flops = flops
        self.breakdown = breakdown
    }

    public static let zero = StepCost(seconds: 0, memoryBoundSeconds: 0, computeBoundSeconds: 0,
                                      overheadSeconds: 0, communicationSeconds: 0, weightBytes: 0,
                                      kvCacheBytes: 0, flops: 0)

    public var bound: Bound {
        var best = (Bound.memory, memoryBoundSeconds)
        if computeBoundSeconds > best.1 { best = (.compute, computeBoundSeconds) }
        if overheadSeconds > best.1 { best = (.overhead, overheadSeconds) }
        if communicationSeconds > best.1 { best = (.communication, communicationSeconds) }
        return best.0
    }

    public static func + (a: StepCost, b: StepCost) -> StepCost {
        var breakdown = OperationBreakdown()
        breakdown.layers = a.breakdown.layers + b.breakdown.layers
        breakdown.forward = a.breakdown.forward + b.breakdown.forward
        return StepCost(seconds: a.seconds + b.seconds,
                        memoryBoundSeconds: a.memoryBoundSeconds + b.memoryBoundSeconds,
                        computeBoundSeconds: a.computeBoundSeconds + b.computeBoundSeconds,
                        overheadSeconds: a.overheadSeconds + b.overheadSeconds,
                        communicationSeconds: a.communicationSeconds + b.communicationSeconds,
                        weightBytes: a.weightBytes + b.weightBytes, kvCacheBytes: a.kvCacheBytes + b.kvCacheBytes,
                        flops: a.flops + b.flops, breakdown: breakdown).with(overlap: a.overlapSeconds + b.overlapSeconds)
    }

    func with(overlap: Double) -> StepCost {
        var out = self
        out.overlapSeconds = overlap
        return out
    }

    public static func * (a: StepCost, times: Double) -> StepCost {
        var breakdown = OperationBreakdown()
        breakdown.layers = a.breakdown.layers * times
        breakdown.forward = a.breakdown.forward * times
        return StepCost(seconds: a.seconds * times, memoryBoundSeconds: a.memoryBoundSeconds * times,
                        computeBoundSeconds: a.computeBoundSeconds * times, overheadSeconds: a.overheadSeconds * times,
                        communicationSeconds: a.communicationSeconds * times, weightBytes: a.weightBytes * times,
                        kvCacheBytes: a.kvCacheBytes * times, flops: a.flops * times, breakdown: breakdown)
            .with(overlap: a.overlapSeconds * times)
    }
}

/// Where a forward runs.
public struct ExecutionContext: Sendable, Equatable {
    public var hardware: Hardware
    public var overhead: RuntimeOverhead
    /// Tensor/expert-parallel devices: weights, KV and FLOPs split N ways,
    /// two all-reduces per layer (Megatron-LM, Shoeybi et al. 2019 §3).
    public var devices: Int
    /// Peak dense FLOP/s for the weight type in use.
    public var peakFlopsPerSecond: Double
    /// Bytes per KV-cache value (BF16: 2).
    public var kvBytesPerValue: Double
    /// Bytes per activation value exchanged in all-reduces.
    public var activationBytes: Double
    /// Measured kernels of this GPU and serving framework (nil: the roofline prices every operation).
    public var kernels: KernelDatabase?

    /// The weight type of the products (picks the measured GEMM table).
    public var weightType: WeightType
    /// Routed experts split over the devices by expert parallelism (whole experts per device) rather
    /// than tensor parallelism (every expert sliced over all devices); attention stays tensor parallel.
    public var expertParallel = false
    /// Routing skew of the MoE measurements used: 0 = balanced, or the Zipf exponent of a power law.
    public var routingSkew = 0.0

    public init(hardware: Hardware, overhead: RuntimeOverhead? = nil, devices: Int = 1,
                weightType: WeightType = .bf16, kvBytesPerValue: Double = 2, activationBytes: Double = 2,
                kernels: KernelDatabase? = nil) {
        self.hardware = hardware
        self.weightType = weightType
        self.kernels = kernels
        self.overhead = overhead ?? hardware.overhead
        self.devices = devices
        self.peakFlopsPerSecond = hardware.peakFlopsPerSecond(for: weightType)
        self.kvBytesPerValue = kvBytesPerValue
        self.activationBytes = activationBytes
    }
}

public enum MoE {
    /// Expected number of distinct experts touched when `tokens` tokens each
    /// pick `active` of `experts` experts uniformly without replacement:
    /// E · (1 − (1 − k/E)^n) (occupancy; P(an expert is missed by one token) =
    /// C(E−1, k)/C(E, k) = (E − k)/E, tokens independent). Real routers are
    /// skewed and touch fewer: this is the upper end of the expert-loading tax.
    @inline(__always)
    public static func expectedDistinctExperts(experts: Double, active: Double, tokens: Double) -> Double {
        guard experts > 0, active > 0, tokens > 0 else { return 0 }
        if active >= experts { return experts }
        return experts * (1 - pow(1 - active / experts, tokens))
    }
}

public enum Roofline {
    /// Time of one roofline operation group.
    /// `productRows`: rows multiplied by each weight of the group (picks the CPU's kernel; nil for attention).
    @inline(__always) @discardableResult
    static func group(bytes: Double, flops: Double, paddedFlops: Double, context: ExecutionContext,
                      bytesPerSecond: Double, productRows: Double?, into cost: inout StepCost) -> Double {
        let kernel = context.hardware.productKernel(rows: productRows)
        let memorySeconds = bytes / bytesPerSecond
        let computeSeconds = paddedFlops / (context.peakFlopsPerSecond * kernel.computeEfficiency)
        // The roofline's max, plus the part of the shorter term the hardware does not overlap.
        let bound = max(memorySeconds, computeSeconds)
        let overlap = kernel.overlapPenalty * min(memorySeconds, computeSeconds)
        if computeSeconds > memorySeconds {
            cost.computeBoundSeconds += bound
        } else {
            cost.memoryBoundSeconds += bound
        }
        cost.overlapSeconds += overlap
        let seconds = bound + overlap
        cost.seconds += seconds
        cost.flops += flops
        return seconds
    }

    @inline(__always)
    static func paddedRows(_ rows: Double, tile: Double) -> Double {
        guard rows > 0 else { return 0 }
        return max(rows, tile)
    }

    /// Cost of one forward of `workload` over `tokensPerSequence` new tokens
    /// for `batch` sequences whose caches hold `contextTokens` tokens
    /// (`sourceTokens`: encoder length for cross-attention).
    public static func stepCost(_ workload: ForwardWorkload, tokensPerSequence: Double, batch: Double,
                                contextTokens: Double, sourceTokens: Double = 0,
                                context: ExecutionContext) -> StepCost {
        var cost = StepCost.zero
        guard tokensPerSequence > 0, batch > 0 else { return cost }
        let devices = Double(context.devices)
        let tile = context.hardware.gemmTileRows
        let rows = tokensPerSequence * batch

        // Bytes of the three groups below, first: on a CPU, a working set that fits the
        // last-level cache streams at the cache's rate (Hardware.streamingBytesPerSecond).
        let denseBytes = workload.denseParameters * workload.bytesPerWeight / devices
        let distinct = workload.moeLayers > 0
            ? MoE.expectedDistinctExperts(experts: workload.routedExperts, active: workload.activeExperts, tokens: rows) : 0
        let expertBytes = workload.moeLayers * distinct * workload.expertParameters * workload.bytesPerWeight / devices
        let kvValuesPerToken = workload.attentionLayers * workload.kvValuesPerTokenPerLayer
        let crossValues = workload.crossAttentionLayers * workload.crossKVValuesPerSourceTokenPerLayer * sourceTokens
        let kvBytes = batch * ((contextTokens + tokensPerSequence) * kvValuesPerToken + crossValues)
            * context.kvBytesPerValue / devices
        let bytesPerSecond = context.hardware.streamingBytesPerSecond(workingSetBytes: denseBytes + expertBytes + kvBytes)

        // Dense group: weights streamed once, every row multiplied by them.
        let denseFlops = (2 * workload.denseParameters + workload.extraFlopsPerToken) * rows / devices
        let densePadded = denseFlops * paddedRows(rows, tile: tile) / rows
        let denseSeconds = group(bytes: denseBytes, flops: denseFlops, paddedFlops: densePadded, context: context,
                                 bytesPerSecond: bytesPerSecond, productRows: rows, into: &cost)
        // Per layer vs per forward: in proportion to the weights (the LM head and drafter projections
        // are per forward), when the workload lists its products.
        let perForwardShare = workload.operations?.perForwardWeightShare ?? 0
        cost.breakdown.add(.gemm, denseSeconds * (1 - perForwardShare), perLayer: true)
        cost.breakdown.add(.gemm, denseSeconds * perForwardShare, perLayer: false)
        cost.weightBytes += denseBytes

        // Expert group: the distinct experts touched by all rows.
        if workload.moeLayers > 0 {
            let expertFlops = 2 * workload.moeLayers * workload.activeExperts * workload.expertParameters * rows / devices
            let rowsPerExpert = rows * workload.activeExperts / distinct
            let expertPadded = expertFlops * paddedRows(rowsPerExpert, tile: tile) / rowsPerExpert
            let expertSeconds = group(bytes: expertBytes, flops: expertFlops, paddedFlops: expertPadded, context: context,
                                      bytesPerSecond: bytesPerSecond, productRows: rowsPerExpert, into: &cost)
            cost.breakdown.add(.moe, expertSeconds, perLayer: true)
            cost.weightBytes += expertBytes
        }

        // Attention group: each sequence reads its own cache and writes k new entries.
        let attendedContext = contextTokens + (tokensPerSequence + 1) / 2
        let attentionFlops = rows * (workload.attentionLayers * workload.attentionFlopsPerQueryPerContextToken * attendedContext
            + workload.crossAttentionLayers * workload.crossFlopsPerQueryPerSourceToken * sourceTokens) / devices
        let attentionSeconds = group(bytes: kvBytes, flops: attentionFlops, paddedFlops: attentionFlops, context: context,
                                     bytesPerSecond: bytesPerSecond, productRows: nil, into: &cost)
        cost.breakdown.add(.attention, attentionSeconds, perLayer: true)
        cost.kvCacheBytes += kvBytes

        // Tensor parallel: two ring all-reduces of the activations per layer.
        if context.devices > 1 {
            let bytes = rows * workload.hidden * context.activationBytes
            let perAllReduce = 2 * (devices - 1) / devices * bytes / context.hardware.interconnectBytesPerSecond
                + context.overhead.perAllReduceSeconds
            let communication = 2 * workload.layers * perAllReduce
            cost.communicationSeconds += communication
            cost.seconds += communication
            cost.breakdown.add(.communication, communication, perLayer: true)
        }
        addRuntimeFixedCosts(forwards: workload.forwards, layers: workload.layers, overhead: context.overhead,
                             perLayerSeconds: context.overhead.perLayerSeconds, into: &cost)
        return cost
    }

    /// The runtime's fixed costs of one forward: per forward and per layer, added to the device time,
    /// or, where host dispatch overlaps the device (eager launches), only the part the device does
    /// not cover. Split between per-forward and per-layer in proportion.
    @inline(__always)
    static func addRuntimeFixedCosts(forwards: Double, layers: Double, overhead: RuntimeOverhead, perLayerSeconds: Double,
                                     into cost: inout StepCost) {
        let perForward = forwards * overhead.perForwardSeconds
        let perLayer = layers * perLayerSeconds
        let fixed = perForward + perLayer
        guard fixed > 0 else { return }
        let exposed = overhead.hostOverlapsDevice ? max(0, fixed - cost.seconds) : fixed
        cost.overheadSeconds += exposed
        cost.seconds += exposed
        cost.breakdown.add(.runtime, exposed * perLayer / fixed, perLayer: true)
        cost.breakdown.add(.runtime, exposed * perForward / fixed, perLayer: false)
    }
}
