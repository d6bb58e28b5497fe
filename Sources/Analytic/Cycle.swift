// The speculation cycle: draft → one verify forward → accept, priced with the
// roofline step cost at the given batch and context (ALGORITHMS.md §0).
//
//   speedup = τ · T_target(1 token) / (drafting time + verify time + per-cycle overhead)
//
// with verify time = one target forward over γ + 1 tokens (chain) or N tokens
// (tree, root included) per sequence. Plain decoding (`ntp`) is the cycle with
// draft length 0: τ = 1, no drafting, a verify forward of one token.

import Foundation

/// Everything `predict` needs.
public struct PredictionConfig: Sendable, Equatable {
    public var hardware: Hardware
    /// Runtime fixed costs; nil = the hardware's default runtime.
    public var overhead: RuntimeOverhead?
    public var model: ModelShape
    public var method: DraftMethod
    /// The draft model of `sd`.
    public var draftModel: ModelShape?
    /// γ: drafts per cycle (chain length; tree depth for tree methods; heads for head methods).
    public var draftLength: Int
    /// Tokens in the verify forward of a tree, root included (EAGLE's total_token); nil = chain.
    public var treeSize: Int?
    /// Frontier width K of a dynamic tree (EAGLE-2/3 top-K per depth).
    public var treeTopK: Int
    /// EAGLE-3 reduced draft vocabulary.
    public var eagle3DraftVocab: Int
    /// Sequences verified together.
    public var batch: Int
    /// Tokens already in each sequence's KV cache.
    public var contextTokens: Int
    /// Encoder tokens of an encoder-decoder model (cross-attention); nil = contextTokens.
    public var sourceTokens: Int?
    /// Tensor/expert-parallel devices.
    public var devices: Int
    /// Weight type override (nil = the model's own).
    public var weightType: WeightType?
    public var acceptance: AcceptanceModel
    /// Which kernel model prices the GPU's operations (default: measured tables where bundled).
    public var kernels: KernelSelection = .auto
    /// Routed experts split by expert parallelism over the devices (attention stays tensor parallel);
    /// false: every expert sliced over all devices (tensor parallel).
    public var expertParallel = false
    /// MoE routing skew for measured expert kernels: 0 = balanced (every expert equally loaded, the
    /// most experts touched), or the Zipf exponent of a power-law routing (1.01, 1.2 measured).
    public var routingSkew = 0.0
    /// KV-cache value type (nil: 2-byte values, 4-byte for fp32 weights); fp8 halves the cache.
    public var kvType: WeightType?
    /// Tokens the drafter's KV cache keeps (a StreamingLLM-style budget: attention sinks plus a recent
    /// window, as MagicDec's drafts): the drafter attends to min(context, budget) tokens and stores that
    /// many; nil = the whole context.
    public var draftKVBudget: Int?
    /// Tensor-parallel devices of the drafter when it runs on fewer than the target's (a TP1 drafter
    /// beside a TP8 target); nil = the target's devices.
    public var draftDevices: Int?
    /// `sd` with the target's own weights as the drafter (self-speculation; usually with a
    /// `draftKVBudget`): no extra weights in memory.
    public var selfDraft = false

    public init(hardware: Hardware, overhead: RuntimeOverhead? = nil, model: ModelShape, method: DraftMethod,
                draftModel: ModelShape? = nil, draftLength: Int, treeSize: Int? = nil, treeTopK: Int = 10,
                eagle3DraftVocab: Int = 32000, batch: Int = 1, contextTokens: Int = 1024,
                sourceTokens: Int? = nil, devices: Int = 1, weightType: WeightType? = nil,
                acceptance: AcceptanceModel) {
        self.hardware = hardware
        self.overhead = overhead
        self.model = model
        self.method = method
        self.draftModel = draftModel
        self.draftLength = draftLength
        self.treeSize = treeSize
        self.treeTopK = treeTopK
        self.eagle3DraftVocab = eagle3DraftVocab
        self.batch = batch
        self.contextTokens = contextTokens
        self.sourceTokens = sourceTokens
        self.devices = devices
        self.weightType = weightType
        self.acceptance = acceptance
    }

    /// Tokens per sequence in the verify forward.
    public var verifyTokens: Int { method.verifyRows(draftLength: draftLength, treeSize: treeSize) }

    /// Rejects impossible settings with one line naming the flag.
    public func validate() throws {
        try Check.within(batch, from: 1, Limits.batch, "--batch")
        try Check.within(contextTokens, from: 0, Limits.context, "--context")
        try Check.within(devices, from: 1, Limits.devices, "--devices")
        // Tensor parallelism splits attention heads (expert parallelism, experts): past both, added devices
        // hold nothing.
        let parallelUnits = max(model.heads, model.moe?.routedExperts ?? 0)
        guard devices <= parallelUnits else {
            throw AnalyticError("--devices \(devices) exceeds what \(model.name) can be split over (\(model.heads) attention heads\(model.moe.map { ", \($0.routedExperts) experts" } ?? "")); use at most \(parallelUnits)")
        }
        if method != .ntp {
            try Check.within(draftLength, from: 1, Limits.draftLength, "--draft-length")
            if method.verified { try acceptance.validate() }
        }
        if let treeSize {
            guard method.supportsTree else {
                throw AnalyticError("--tree-size applies to methods that verify a token tree, not \(method.name) (it verifies \(method.rows == .chain ? "a chain" : "a fixed layout of rows"))")
            }
            try Check.within(treeSize, from: 1, Limits.treeSize, "--tree-size")
            guard treeSize >= draftLength + 1 else {
                throw AnalyticError("--tree-size \(treeSize) cannot hold a path of depth \(draftLength) (needs at least \(draftLength + 1) tokens incl. the root)")
            }
        }
        try Check.atLeast(treeTopK, 1, "--tree-topk")
        try Check.within(method.beamWidth, from: 1, Limits.beamWidth, "--beam-width")
        if case .lookahead(let shape) = method.rows {
            try Check.within(shape.ngram, from: 2, Limits.lookaheadNgram, "--lookahead-ngram")
            try Check.within(shape.levels, 1...(shape.ngram - 1), "--lookahead-levels",
                             "a window has N − 1 levels, N = \(shape.ngram)")
            if let guesses = shape.guesses { try Check.within(guesses, from: 0, Limits.treeSize, "--lookahead-guesses") }
        }
        guard routingSkew.isFinite, routingSkew >= 0 else {
            throw AnalyticError("--routing-skew must be 0 (balanced) or a power-law exponent > 0, got \(routingSkew)")
        }
        if let kvType, ![.bf16, .fp16, .fp8, .fp32].contains(kvType) {
            throw AnalyticError("--kv-dtype must be bf16, fp16, fp8 or fp32, got \(kvType.rawValue)")
        }
        if expertParallel, model.moe == nil {
            throw AnalyticError("--expert-parallel applies to MoE models; \(model.name) has no experts")
        }
        try Check.atLeast(eagle3DraftVocab, 1, "--draft-vocab")
        if method.drafter == .draftModel, draftModel == nil, !selfDraft {
            throw AnalyticError("--method \(method.name) needs --draft-model (a model preset, --draft-model-file, or self)")
        }
        if selfDraft, method.drafter != .draftModel {
            throw AnalyticError("--draft-model self applies to methods that draft with a separate model (sd, mtad), not \(method.name)")
        }
        if let draftKVBudget {
            try Check.atLeast(draftKVBudget, 1, "--draft-kv-budget")
            guard method.drafterHasCache else {
                throw AnalyticError("--draft-kv-budget applies to methods whose drafter keeps a KV cache of its own, not \(method.name)")
            }
        }
        if let draftDevices {
            try Check.atLeast(draftDevices, 1, "--draft-devices")
            guard draftDevices <= devices else {
                throw AnalyticError("--draft-devices \(draftDevices) exceeds the target's --devices \(devices): the drafter runs on a subset of the target's devices")
            }
            guard method.drafterHasCache else {
                throw AnalyticError("--draft-devices applies to methods with a drafter network of their own, not \(method.name)")
            }
        }
        if let sourceTokens { try Check.atLeast(sourceTokens, 0, "--source-length") }
        try hardware.validate()
        try model.validate()
        try draftModel?.validate()
    }
}

/// The prediction for one configuration. Times are per cycle for the whole batch.
public struct Prediction: Sendable, Equatable {
    /// One forward of the target over 1 token per sequence (device time and the runtime's fixed costs).
    public var targetStepSeconds: Double
    /// One plain decoding step as the stack runs it: the target forward plus the scheduler time it does
    /// not hide. Speedups are relative to this.
    public var plainStepSeconds: Double
    /// One drafter forward at one token per sequence (0 for head and n-gram methods).
    public var draftStepSeconds: Double
    public var draftSecondsPerCycle: Double
    public var verifySeconds: Double
    public var hostSecondsPerCycle: Double
    public var cycleSeconds: Double
    /// Leviathan's c: drafting time per draft / target step time.
    public var c: Double
    public var tau: Double
    public var speedup: Double
    /// Tokens per second of the whole batch.
    public var tokensPerSecond: Double
    public var tokensPerSecondPerSequence: Double
    /// Which term bounds the verify forward.
    public var bound: Bound
    public var verifyTokensPerSequence: Int
    /// Device memory in use: weights + KV cache, bytes per device.
    public var memoryBytesPerDevice: Double
    public var verifyCost: StepCost
    public var targetStepCost: StepCost
    /// The cycle's named parts (they sum to `cycleSeconds`).
    public var components: CycleComponents
    /// Forwards of the target per cycle: the verify, and the drafting forwards of a drafter that is the
    /// target itself (MTJD). `tau` is tokens per cycle; per target forward it is tau / this.
    public var targetForwardsPerCycle = 1.0

    /// Tokens per forward of the target (the τ a decode measures).
    public var tokensPerTargetForward: Double { tau / targetForwardsPerCycle }
}

/// The parts of one speculation cycle (or plain step), whole batch, seconds.
public struct CycleComponents: Sendable, Equatable {
    /// Drafter forwards (device time and per-forward costs), the draft-extend pass included.
    public var draftForwardSeconds = 0.0
    /// Per drafted token beyond the forward: launch preparation, top-k / sampling, synchronisation.
    public var draftStepFixedSeconds = 0.0
    /// The draft-extend pass's fixed cost.
    public var draftExtendSeconds = 0.0
    /// The target's verify forward (a plain step: its one-token forward).
    public var verifyForwardSeconds = 0.0
    /// Extra attention of extend mode (k queries per sequence re-reading the KV cache).
    public var verifyExtendAttentionSeconds = 0.0
    /// Tree-mask construction and tree bookkeeping.
    public var verifyTreeSeconds = 0.0
    /// Acceptance test, rejection sampling, rollback (per cycle).
    public var acceptanceSeconds = 0.0
    /// N-gram search on the host (prompt lookup).
    public var ngramSeconds = 0.0
    /// Scheduler and host time the stack does not hide behind the device.
    public var schedulerSeconds = 0.0

    public init() {}

    public var total: Double {
        draftForwardSeconds + draftStepFixedSeconds + draftExtendSeconds + verifyForwardSeconds
            + verifyExtendAttentionSeconds + verifyTreeSeconds + acceptanceSeconds + ngramSeconds + schedulerSeconds
    }

    /// Every part times `weight` (one round type's share of a mixture of rounds).
    public func scaled(by weight: Double) -> CycleComponents {
        var out = CycleComponents()
        out.draftForwardSeconds = weight * draftForwardSeconds
        out.draftStepFixedSeconds = weight * draftStepFixedSeconds
        out.draftExtendSeconds = weight * draftExtendSeconds
        out.verifyForwardSeconds = weight * verifyForwardSeconds
        out.verifyExtendAttentionSeconds = weight * verifyExtendAttentionSeconds
        out.verifyTreeSeconds = weight * verifyTreeSeconds
        out.acceptanceSeconds = weight * acceptanceSeconds
        out.ngramSeconds = weight * ngramSeconds
        out.schedulerSeconds = weight * schedulerSeconds
        return out
    }

    public static func + (a: CycleComponents, b: CycleComponents) -> CycleComponents {
        var out = a
        out.draftForwardSeconds += b.draftForwardSeconds
        out.draftStepFixedSeconds += b.draftStepFixedSeconds
        out.draftExtendSeconds += b.draftExtendSeconds
        out.verifyForwardSeconds += b.verifyForwardSeconds
        out.verifyExtendAttentionSeconds += b.verifyExtendAttentionSeconds
        out.verifyTreeSeconds += b.verifyTreeSeconds
        out.acceptanceSeconds += b.acceptanceSeconds
        out.ngramSeconds += b.ngramSeconds
        out.schedulerSeconds += b.schedulerSeconds
        return out
    }

    /// (name, seconds) in cycle order, for tables and JSON.
    public var named: [(String, Double)] {
        [("draft forwards", draftForwardSeconds), ("draft step fixed", draftStepFixedSeconds),
         ("draft extend fixed", draftExtendSeconds), ("verify forward", verifyForwardSeconds),
         ("verify extend attention", verifyExtendAttentionSeconds), ("verify tree", verifyTreeSeconds),
         ("acceptance", acceptanceSeconds), ("n-gram search", ngramSeconds), ("scheduler", schedulerSeconds)]
    }
}

/// Precomputed workloads for one (hardware, model, method) so sweeps over
/// draft length, batch, context and acceptance evaluate without rebuilding them.
public struct Predictor: Sendable {
    public let config: PredictionConfig
    let context: ExecutionContext
    let target: PricedForward
    let drafter: PricedForward?
    let heads: PricedForward?
    let weightType: WeightType
    let staticWeightBytes: Double
    /// KV-cache bytes per token of the target, per source token (cross-attention), per drafter token.
    let kvBytesPerToken: (target: Double, crossPerSource: Double, drafter: Double)

    public init(_ config: PredictionConfig) throws {
        try config.validate()
        self.config = config
        let weightType = config.weightType ?? config.model.weightType
        self.weightType = weightType
        let model = config.model.with(weightType: weightType)
        let kvBytes = config.kvType.map { $0 == .fp32 ? 4.0 : ($0 == .fp8 ? 1.0 : 2.0) } ?? (weightType == .fp32 ? 4 : 2)
        var context = ExecutionContext(hardware: config.hardware, overhead: config.overhead, devices: config.devices,
                                       weightType: weightType, kvBytesPerValue: kvBytes,
                                       kernels: try config.kernels.database(for: config.hardware))
        context.expertParallel = config.expertParallel
        context.routingSkew = config.routingSkew
        self.context = context
        let target = ForwardWorkload.target(model)
        self.target = PricedForward(target, context: context)
        var drafterWeights = 0.0
        let method = config.method
        var drafter: ForwardWorkload? = nil, heads: ForwardWorkload? = nil
        switch method.drafter {
        case nil: break
        case .draftModel:
            // Self-speculation drafts with the target's own weights: nothing more to hold.
            let draft = config.selfDraft ? model
                : config.draftModel!.with(weightType: config.weightType ?? config.draftModel!.weightType)
            drafter = ForwardWorkload.target(draft)
            drafterWeights = config.selfDraft ? 0 : draft.weightBytes
        case .target:
            // The target's own forwards (MTJD's beam): its weights are already held.
            drafter = ForwardWorkload.target(model)
        case .eagle:
            let workload = DrafterWorkload.eagle(model)
            drafter = workload
            drafterWeights = (workload.denseParameters - Double(model.vocab * model.hidden)) * weightType.bytesPerWeight
        case .eagle3:
            let workload = DrafterWorkload.eagle3(model, draftVocab: config.eagle3DraftVocab)
            drafter = workload
            drafterWeights = workload.denseParameters * weightType.bytesPerWeight
        case .mtpModule:
            let workload = DrafterWorkload.sequentialMTP(model)
            drafter = workload
            drafterWeights = (workload.denseParameters - Double(model.vocab * model.hidden)
                + workload.routedExperts * workload.expertParameters) * weightType.bytesPerWeight
        case .hydraHeads:
            // One forward evaluates one (mean) head; all K heads are held.
            let workload = DrafterWorkload.hydraHead(model, heads: config.draftLength)
            drafter = workload
            drafterWeights = Double(config.draftLength) * workload.denseParameters * weightType.bytesPerWeight
        case .maskSampler:
            // The sampler's own matrices; the unembedding is the target's.
            let workload = DrafterWorkload.maskSampler(model)
            drafter = workload
            drafterWeights = (workload.denseParameters - Double(model.vocab * model.hidden)) * weightType.bytesPerWeight
        }
        switch method.heads {
        case nil: break
        case .medusa: heads = DrafterWorkload.medusaHeads(model, heads: config.draftLength)
        case .blockwise: heads = DrafterWorkload.blockwiseHeads(model, heads: config.draftLength)
        case .parallelMTP: heads = DrafterWorkload.parallelMTPHeads(model, heads: config.draftLength)
        }
        if let heads { drafterWeights += heads.denseParameters * weightType.bytesPerWeight }
        staticWeightBytes = model.weightBytes + drafterWeights
        kvBytesPerToken = (target.attentionLayers * target.kvValuesPerTokenPerLayer * context.kvBytesPerValue,
                           target.crossAttentionLayers * target.crossKVValuesPerSourceTokenPerLayer * context.kvBytesPerValue,
                           // MTJD's beam runs in the target's own cache (tentative rows).
                           method.drafter == .target ? 0
                               : drafter.map { $0.attentionLayers * $0.kvValuesPerTokenPerLayer * context.kvBytesPerValue } ?? 0)
        var drafterContext = context
        drafterContext.devices = config.draftDevices ?? config.devices
        self.drafter = drafter.map { PricedForward($0, context: drafterContext) }
        self.heads = heads.map { PricedForward($0, context: context) }
    }

    /// What priced the target's step: "measured kernels: h100-sxm, sglang 0.5.14" or "roofline".
    public var pricedBy: String {
        if target.isMeasured, let kernels = context.kernels { return "measured kernels: \(kernels.label)" }
        return "roofline"
    }

    /// How each operation class of the target's forward was priced.
    public var pricingDetail: [(OperationClass, String)] { target.pricedBy }

    /// One forward of the target over `tokensPerSequence` new tokens per sequence (a plain step at 1, a
    /// chain or tree verify above), for checks against other estimators.
    public func targetForward(tokensPerSequence: Int, batch: Int, contextTokens: Int) -> StepCost {
        target.cost(tokensPerSequence: Double(tokensPerSequence), batch: Double(batch), contextTokens: Double(contextTokens),
                    sourceTokens: Double(config.sourceTokens ?? contextTokens))
    }

    /// Predicts one configuration; `draftLength`, `batch`, `contextTokens` and
    /// `acceptance` override the stored config (the sweep fast path).
    public func predict(draftLength overrideDraftLength: Int? = nil, batch overrideBatch: Int? = nil,
                        contextTokens overrideContext: Int? = nil,
                        acceptance overrideAcceptance: AcceptanceModel? = nil) throws -> Prediction {
        let method = config.method
        let draftLength = method == .ntp ? 0 : (overrideDraftLength ?? config.draftLength)
        let batchCount = overrideBatch ?? config.batch
        let contextCount = overrideContext ?? config.contextTokens
        if overrideDraftLength != nil, method != .ntp { try Check.within(draftLength, from: 1, Limits.draftLength, "draft length") }
        if overrideBatch != nil { try Check.within(batchCount, from: 1, Limits.batch, "batch") }
        if overrideContext != nil { try Check.within(contextCount, from: 0, Limits.context, "context") }
        if let overrideAcceptance, method != .ntp { try overrideAcceptance.validate() }
        if method.workloadScalesWithDraftLength, overrideDraftLength != nil, overrideDraftLength != config.draftLength {
            // Head workloads depend on the number of heads: rebuild.
            var changed = config
            changed.draftLength = draftLength
            if let tree = changed.treeSize, tree < draftLength + 1 { changed.treeSize = draftLength + 1 }
            return try Predictor(changed).predict(batch: overrideBatch, contextTokens: overrideContext,
                                                  acceptance: overrideAcceptance)
        }
        let batch = Double(batchCount)
        let contextTokens = Double(contextCount)
        let sourceTokens = Double(config.sourceTokens ?? contextCount)
        let verifyTokens = method.verifyRows(draftLength: draftLength, treeSize: config.treeSize)

        // Prefix beam search keeps W hypotheses, each with its own cache: W sequences per sequence.
        let hypotheses = method.rows == .beamSearch ? Double(method.beamWidth) : 1
        // Memory: all weights once per device group, KV of every sequence.
        var kvBytes = batch * hypotheses * ((contextTokens + Double(verifyTokens)) * kvBytesPerToken.target + kvBytesPerToken.crossPerSource * sourceTokens)
        // The drafter attends to (and stores) its KV budget at most.
        let draftContext = config.draftKVBudget.map { min(contextTokens, Double($0)) } ?? contextTokens
        kvBytes += batch * (draftContext + Double(draftLength)) * kvBytesPerToken.drafter
        let totalBytes = staticWeightBytes + kvBytes
        let capacity = config.hardware.memoryBytes * Double(config.devices)
        if totalBytes > capacity {
            let needed = Int((totalBytes / config.hardware.memoryBytes).rounded(.up))
            throw AnalyticError("\(config.model.name) does not fit: needs \(Units.gigabytes(totalBytes)) (weights \(Units.gigabytes(staticWeightBytes)) + KV cache \(Units.gigabytes(kvBytes)) at batch \(batchCount), context \(contextCount)) but \(config.devices) × \(config.hardware.name) hold \(Units.gigabytes(capacity)), short by \(Units.gigabytes(totalBytes - capacity)); use --devices \(needed) or more, a smaller batch or context, or a smaller --dtype",
                                reason: .doesNotFit)
        }

        let targetStep = target.cost(tokensPerSequence: 1, batch: batch, contextTokens: contextTokens,
                                     sourceTokens: sourceTokens)
        let overhead = context.overhead
        let plainStep = targetStep.seconds
            + overhead.exposedSchedulerSeconds(batch: batch, deviceSeconds: targetStep.seconds, speculative: false)
        if method == .ntp {
            var parts = CycleComponents()
            parts.verifyForwardSeconds = targetStep.seconds
            parts.schedulerSeconds = plainStep - targetStep.seconds
            return Prediction(
                targetStepSeconds: targetStep.seconds, plainStepSeconds: plainStep, draftStepSeconds: 0, draftSecondsPerCycle: 0,
                verifySeconds: targetStep.seconds, hostSecondsPerCycle: parts.schedulerSeconds, cycleSeconds: plainStep,
                c: 0, tau: 1, speedup: 1, tokensPerSecond: batch / plainStep,
                tokensPerSecondPerSequence: 1 / plainStep, bound: targetStep.bound,
                verifyTokensPerSequence: 1, memoryBytesPerDevice: totalBytes / Double(config.devices),
                verifyCost: targetStep, targetStepCost: targetStep, components: parts)
        }

        // Unchecked drafts (MTJD) are all kept: γ + 1 tokens a cycle.
        let acceptance = overrideAcceptance ?? config.acceptance
        let tau = method.verified ? try acceptance.tau(draftLength: draftLength) : Double(draftLength + 1)
        // Drafts per round: γ, or fewer on a chain whose drafter stops on its confidence (threshold drafting).
        let drafts = method.rows == .chain ? try acceptance.expectedDrafts(draftLength: draftLength) : Double(draftLength)
        let forwards = method.rows == .chain ? try acceptance.draftForwards(draftLength: draftLength) : Double(draftLength)
        var verifyRows = Double(verifyTokens) - (Double(draftLength) - drafts)
        // Prefix beam search: each hypothesis feeds its newest block, τ tokens on average.
        if method.rows == .beamSearch { verifyRows = tau }
        var parts = CycleComponents()

        // Verify: one target forward over the chain or tree, plus heads computed in it.
        var verify = target.cost(tokensPerSequence: verifyRows, batch: batch * hypotheses,
                                 contextTokens: contextTokens, sourceTokens: sourceTokens)
        if let heads {
            verify = verify + heads.cost(tokensPerSequence: verifyRows, batch: batch * hypotheses,
                                         contextTokens: contextTokens)
        }
        parts.verifyForwardSeconds = verify.seconds
        // Extend mode: the kernel's extra reads of the KV cache for the k − 1 further queries, and the tree's
        // mask and bookkeeping per node.
        parts.verifyExtendAttentionSeconds = overhead.extendAttentionRereadFraction * (verifyRows - 1)
            * targetStep.breakdown.seconds(.attention)
        if config.treeSize != nil {
            parts.verifyTreeSeconds = overhead.treeSecondsPerNode * Double(verifyTokens) * batch
        }

        // Drafting.
        var draftStep = 0.0
        parts.acceptanceSeconds = overhead.perCycleSeconds
        if let drafter {
            draftStep = drafter.cost(tokensPerSequence: 1, batch: batch, contextTokens: draftContext).seconds
            // Rows per sequence of each depth's forward: the tree's frontier, or the beam.
            var width = Double(method.beamWidth)
            if let treeSize = config.treeSize, method.supportsTree {
                width = method.dynamicTree
                    ? Double(config.treeTopK)
                    : Double(max(treeSize - 1, draftLength)) / Double(draftLength)
            }
            switch method.schedule {
            case .autoregressive:
                // γ autoregressive draft steps (Leviathan Algorithm 1).
                parts.draftForwardSeconds = forwards * draftStep
            case .depths:
                // One forward per depth over its frontier (Hydra's heads read the verify's feature).
                parts.draftForwardSeconds = forwards
                    * drafter.cost(tokensPerSequence: width, batch: batch, contextTokens: draftContext).seconds
            case .extendThenDepths:
                // Feature-level drafters, MTP modules and beam drafters: the first forward also
                // catches up on the τ tokens accepted last cycle (the draft-extend pass; EAGLE's drafter
                // cache catch-up, ALGORITHMS.md §10), then one forward per depth over that depth's frontier.
                let first = drafter.cost(tokensPerSequence: tau, batch: batch, contextTokens: draftContext).seconds
                let later = draftLength > 1
                    ? drafter.cost(tokensPerSequence: width, batch: batch, contextTokens: draftContext).seconds
                    : 0
                parts.draftForwardSeconds = first + max(forwards - 1, 0) * later
                parts.draftExtendSeconds = overhead.draftExtendSeconds
            }
        }
        if method.hostSearch {
            parts.ngramSeconds = contextTokens * overhead.ngramSecondsPerContextToken
        }
        // Per drafted token (drafters) or per extra head (head methods).
        if method.draftsOnDevice {
            // Per computed draft of a drafter; per head of head methods (every head runs).
            parts.draftStepFixedSeconds = (drafter != nil ? forwards : Double(draftLength)) * overhead.perDraftStepSeconds
        }
        var tokensPerCycle = tau
        if method.rows == .maskedLinear {
            // Linear masked decoding alternates two rounds: one that accepted every draft leaves a block to
            // draft from; after a rejection the next round verifies the bonus token alone with a fresh block
            // (γ + 1 rows, no drafting, one token). In the two-state chain the drafting rounds' share is
            // 1 / (2 − P(a = γ)).
            let full = try acceptance.distribution(draftLength: draftLength).probabilities[draftLength]
            let drafting = 1 / (2 - full)
            let rows = Double(draftLength + 1)
            var recovery = CycleComponents()
            recovery.verifyForwardSeconds = target.cost(tokensPerSequence: rows, batch: batch, contextTokens: contextTokens,
                                                        sourceTokens: sourceTokens).seconds
            recovery.verifyExtendAttentionSeconds = overhead.extendAttentionRereadFraction * (rows - 1)
                * targetStep.breakdown.seconds(.attention)
            recovery.acceptanceSeconds = overhead.perCycleSeconds
            parts = parts.scaled(by: drafting) + recovery.scaled(by: 1 - drafting)
            tokensPerCycle = drafting * tau + (1 - drafting)
        }
        let device = parts.total
        parts.schedulerSeconds = overhead.exposedSchedulerSeconds(batch: batch, deviceSeconds: device, speculative: true)

        let draftSeconds = parts.draftForwardSeconds + parts.draftStepFixedSeconds + parts.draftExtendSeconds
        let verifySeconds = parts.verifyForwardSeconds + parts.verifyExtendAttentionSeconds + parts.verifyTreeSeconds
        let hostSeconds = parts.acceptanceSeconds + parts.ngramSeconds + parts.schedulerSeconds
        let cycle = parts.total
        let perDraftSeconds = method.hostSearch ? (parts.ngramSeconds + parts.acceptanceSeconds) / Double(draftLength)
            : draftSeconds / max(drafts, 1e-9)
        return Prediction(
            targetStepSeconds: targetStep.seconds, plainStepSeconds: plainStep, draftStepSeconds: draftStep,
            draftSecondsPerCycle: draftSeconds, verifySeconds: verifySeconds, hostSecondsPerCycle: hostSeconds,
            cycleSeconds: cycle, c: perDraftSeconds / targetStep.seconds, tau: tokensPerCycle,
            speedup: tokensPerCycle * plainStep / cycle,
            tokensPerSecond: batch * tokensPerCycle / cycle, tokensPerSecondPerSequence: tokensPerCycle / cycle, bound: verify.bound,
            verifyTokensPerSequence: verifyTokens, memoryBytesPerDevice: totalBytes / Double(config.devices),
            verifyCost: verify, targetStepCost: targetStep, components: parts,
            targetForwardsPerCycle: 1 + (method.drafter == .target ? forwards : 0))
    }

    /// The draft length in 1...maxDraftLength with the highest speedup at this
    /// batch (ties to the shorter). Acceptance models that cannot reach a
    /// length (too few per-position rates) end the scan there.
    public func bestDraftLength(batch: Int? = nil, maxDraftLength: Int = 16,
                                contextTokens: Int? = nil) throws -> (draftLength: Int, prediction: Prediction) {
        var best: (Int, Prediction)? = nil
        for gamma in 1...max(1, maxDraftLength) {
            if let tree = config.treeSize, tree < gamma + 1 { break }
            let prediction: Prediction
            do { prediction = try predict(draftLength: gamma, batch: batch, contextTokens: contextTokens) }
            catch let error as AnalyticError {
                if error.reason == .doesNotFit { throw error }
                if best == nil { throw error }
                break
            }
            if best == nil || prediction.speedup > best!.1.speedup * (1 + 1e-12) { best = (gamma, prediction) }
        }
        return best!
    }

    /// The smallest batch in 1...maxBatch at which even the best draft length
    /// gives speedup < 1, or nil if speculation still pays at maxBatch.
    /// Bisection between the last paying and first losing power of two.
    public func crossoverBatch(maxBatch: Int = 4096, maxDraftLength: Int = 16) throws -> Int? {
        func loses(_ batch: Int) throws -> Bool {
            try bestDraftLength(batch: batch, maxDraftLength: maxDraftLength).prediction.speedup < 1
        }
        if try loses(1) { return 1 }
        var low = 1, high = 2
        while high <= maxBatch {
            if try loses(high) { break }
            low = high
            high *= 2
        }
        if high > maxBatch {
            if low < maxBatch, try loses(maxBatch) { high = maxBatch } else { return nil }
        }
        while high - low > 1 {
            let mid = (low + high) / 2
            if try loses(mid) { high = mid } else { low = mid }
        }
        return high
    }
}

/// A request end to end: the prompt's prefill (time to first token), then decoding, in the terms serving
/// benchmarks report (vLLM's and SGLang's bench_serving: TTFT; TPOT = (E2E − TTFT) / (output − 1)).
/// Decoding is priced at the mean context of the generation, input + output / 2.
public struct EndToEndPrediction: Sendable, Equatable {
    public var inputTokens: Int
    public var outputTokens: Int
    /// Prefill of the prompt: the target's, plus the drafter's where it has its own forward.
    public var ttftSeconds: Double
    public var plainTTFTSeconds: Double
    /// Decode-phase time per output token per sequence: cycle / τ, and the plain step.
    public var tpotSeconds: Double
    public var plainTPOTSeconds: Double
    public var endToEndSeconds: Double
    public var plainEndToEndSeconds: Double
    /// Plain end-to-end latency over speculative end-to-end latency.
    public var speedup: Double
    /// The decode-phase prediction at the mean context.
    public var decode: Prediction
}

extension Predictor {
    /// One request of `inputTokens` prompt tokens and `outputTokens` generated tokens per sequence, at the
    /// configured batch: memory is checked at the end of the generation (input + output tokens cached).
    public func endToEnd(inputTokens: Int, outputTokens: Int) throws -> EndToEndPrediction {
        try Check.atLeast(inputTokens, 1, "--input-length")
        try Check.atLeast(outputTokens, 1, "--output-length")
        _ = try predict(contextTokens: inputTokens + outputTokens)
        let decode = try predict(contextTokens: inputTokens + outputTokens / 2)
        let batch = Double(config.batch), input = Double(inputTokens)
        let plainTTFT = target.prefill(inputTokens: input, batch: batch).seconds
        let ttft = plainTTFT + (drafter?.prefill(inputTokens: input, batch: batch).seconds ?? 0)
        let later = Double(outputTokens - 1)
        let tpot = decode.cycleSeconds / decode.tau
        let endToEnd = ttft + later * tpot
        let plainEndToEnd = plainTTFT + later * decode.plainStepSeconds
        return EndToEndPrediction(inputTokens: inputTokens, outputTokens: outputTokens, ttftSeconds: ttft,
                                  plainTTFTSeconds: plainTTFT, tpotSeconds: tpot, plainTPOTSeconds: decode.plainStepSeconds,
                                  endToEndSeconds: endToEnd, plainEndToEndSeconds: plainEndToEnd,
                                  speedup: plainEndToEnd / endToEnd, decode: decode)
    }
}

public enum Cycle {
    /// One-shot prediction of a configuration.
    public static func predict(_ config: PredictionConfig) throws -> Prediction {
        try Predictor(config).predict()
    }
}
