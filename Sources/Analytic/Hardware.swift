// Hardware presets: peak memory bandwidth, dense tensor throughput, capacity,
// interconnect, achievable fractions, GEMM tile size and the runtime's fixed
// costs. Values come from the vendors' datasheets and the sources named beside
// each preset; user presets come from JSON (`--hardware-file`).

import Foundation

/// A serving stack's costs beyond the kernels' own: kernel launches or graph replays, sampling, the
/// host side of drafting and verification, the scheduler, and which of them the stack hides behind the
/// device. Every component is named so that `predict --breakdown` can show it and `speclab fit` can
/// set it from a user's measurements (the DocC article "Serving stacks" lists the sources).
public struct RuntimeOverhead: Codable, Sendable, Equatable {
    public var name: String
    /// Paid once by every forward, target's or drafter's (embedding, final norm, head, sampling, graph
    /// replay or launch of the forward).
    public var perForwardSeconds: Double
    /// Paid per transformer layer of every forward (kernel launches / per-op latency).
    public var perLayerSeconds: Double
    /// Paid once per speculation cycle: the acceptance test (rejection-sampling kernels), rollback of
    /// rejected KV slots, synchronisation with the host.
    public var perCycleSeconds: Double
    /// Latency of one all-reduce between devices (tensor parallel), on top of its bytes.
    public var perAllReduceSeconds: Double
    /// Host time of an n-gram / prompt-lookup search, per context token scanned.
    public var ngramSecondsPerContextToken: Double
    /// Per drafted token (or per extra head) beyond the drafter's forward: the drafter's launch
    /// preparation, top-k or sampling over the (draft) vocabulary, synchronisation.
    @Defaulted<Zero> public var perDraftStepSeconds: Double
    /// True where the per-forward and per-layer costs are host time (Python dispatch and kernel
    /// launches) spent while the device runs earlier kernels: eager PyTorch launches asynchronously,
    /// so a forward costs max(host, device) — launch-bound when the device work per layer is short,
    /// device-bound when it is long (PyTorch CUDA semantics: "asynchronous execution"). False where
    /// they are device-side latencies (CUDA graphs, XLA) or the host computes the forward itself
    /// (a CPU): they add to the roofline. Per-cycle costs add either way (the acceptance test waits
    /// for the verify's logits).
    @Defaulted<False> public var hostOverlapsDevice: Bool
    /// True where `perLayerSeconds` stands for the device-side latency of the small kernels a roofline
    /// does not price (CUDA graphs, XLA): measured kernel tables price those kernels themselves, so
    /// with them this per-layer cost is not added again. False where it is host time (eager).
    @Defaulted<False> public var perLayerIsKernelLatency: Bool
    /// The draft-extend pass of EAGLE-family and MTP drafters: after every verify the drafter re-runs
    /// over the accepted tokens to refresh its features and KV cache (SGLang: draft extend after
    /// decode; vLLM: the first draft forward over the accepted tokens). Its bytes and FLOPs are priced
    /// as a drafter forward over τ tokens; this is its fixed cost beyond a draft step's (metadata for a
    /// variable number of tokens per sequence, its own launch where it is not graph-captured).
    @Defaulted<Zero> public var draftExtendSeconds: Double
    /// Verify in extend mode, per tree node per sequence: tree-mask and position construction and the
    /// tree-attention bookkeeping that grows with the tree (tree methods only).
    @Defaulted<Zero> public var treeSecondsPerNode: Double
    /// Verify in extend mode: the extra fraction of a decode step's attention time per query token
    /// beyond the first. 0 = the k queries of a sequence share one read of its KV cache (a decode
    /// kernel with the queries packed beside the heads); 1 = each query re-reads it (a kernel that
    /// treats the k queries as k sequences).
    @Defaulted<Zero> public var extendAttentionRereadFraction: Double
    /// Scheduler and host time per engine step (a plain step or a speculation cycle): fixed, and per
    /// sequence in the batch (request bookkeeping, detokenisation, input preparation).
    @Defaulted<Zero> public var schedulerSeconds: Double
    @Defaulted<Zero> public var schedulerSecondsPerSequence: Double
    /// Whether the stack runs the scheduler for step n + 1 while the device computes step n, in plain
    /// decoding and with speculation: then a step costs max(device, scheduler) instead of their sum.
    @Defaulted<False> public var schedulerOverlapsPlainDecoding: Bool
    @Defaulted<False> public var schedulerOverlapsSpeculation: Bool
    /// Stacks of one family share the constants fitted from measurements (`speclab fit`, experiment
    /// 036): CUDA-graph stacks ("graph"), eager PyTorch ("eager"), T5X on TPU ("t5x").
    @Defaulted<EmptyText> public var family: String
    /// The versions the profile holds for, and where its structure comes from.
    @Defaulted<EmptyText> public var version: String
    @Defaulted<EmptyText> public var source: String

    // JSON: `name`, `perForwardSeconds`, `perLayerSeconds`, `perCycleSeconds`, `perAllReduceSeconds` and
    // `ngramSecondsPerContextToken` are required; every `Defaulted` field takes 0 / false / "" when missing,
    // and an empty `family` is the name (`withFamily`).

    /// The profile with its family filled in (the name when a file gives none).
    public func withFamily() -> RuntimeOverhead {
        var profile = self
        if profile.family.isEmpty { profile.family = profile.name }
        return profile
    }

    public init(name: String, perForwardSeconds: Double, perLayerSeconds: Double,
                perCycleSeconds: Double, perAllReduceSeconds: Double,
                ngramSecondsPerContextToken: Double, perDraftStepSeconds: Double = 0,
                hostOverlapsDevice: Bool = false, perLayerIsKernelLatency: Bool = false,
                family: String? = nil, version: String = "", source: String = "") {
        self.perDraftStepSeconds = perDraftStepSeconds
        self.hostOverlapsDevice = hostOverlapsDevice
        self.perLayerIsKernelLatency = perLayerIsKernelLatency
        self.name = name
        self.perForwardSeconds = perForwardSeconds
        self.perLayerSeconds = perLayerSeconds
        self.perCycleSeconds = perCycleSeconds
        self.perAllReduceSeconds = perAllReduceSeconds
        self.ngramSecondsPerContextToken = ngramSecondsPerContextToken
        draftExtendSeconds = 0
        treeSecondsPerNode = 0
        extendAttentionRereadFraction = 0
        schedulerSeconds = 0
        schedulerSecondsPerSequence = 0
        schedulerOverlapsPlainDecoding = false
        schedulerOverlapsSpeculation = false
        self.family = family ?? name
        self.version = version
        self.source = source
    }

    /// Scheduler and host time of one engine step of `batch` sequences.
    public func schedulerSeconds(batch: Double) -> Double { schedulerSeconds + batch * schedulerSecondsPerSequence }

    /// The part of the scheduler's time a step of `deviceSeconds` does not hide: all of it where the
    /// stack runs them in turn, the excess over the device's time where it overlaps them.
    public func exposedSchedulerSeconds(batch: Double, deviceSeconds: Double, speculative: Bool) -> Double {
        let host = schedulerSeconds(batch: batch)
        let overlaps = speculative ? schedulerOverlapsSpeculation : schedulerOverlapsPlainDecoding
        return overlaps ? max(0, host - deviceSeconds) : host
    }

    /// No fixed costs: the pure roofline.
    public static let ideal = RuntimeOverhead(
        name: "ideal", perForwardSeconds: 0, perLayerSeconds: 0, perCycleSeconds: 0,
        perAllReduceSeconds: 0, ngramSecondsPerContextToken: 0, source: "no runtime costs")

    /// Compiled runtime (CUDA graphs: vLLM, SGLang, TensorRT-LLM) without a scheduler model. Per layer:
    /// about 8 memory-bound ops × 3 µs constant latency each, the `mem_empirical_constant_latency` of
    /// ai-dynamo/aiconfigurator's system files (not added where measured kernel tables price those
    /// kernels). Per forward / cycle / all-reduce: estimates (tens of µs of sampling and scheduling).
    public static let compiled = RuntimeOverhead(
        name: "compiled", perForwardSeconds: 30e-6, perLayerSeconds: 24e-6, perCycleSeconds: 30e-6,
        perAllReduceSeconds: 10e-6, ngramSecondsPerContextToken: 2e-9, perLayerIsKernelLatency: true,
        family: "compiled", source: "aiconfigurator system files (per-layer small-kernel latency); other constants estimated")

    /// Eager PyTorch / Hugging Face transformers at batch 1: the research code the EAGLE, Medusa and
    /// Hydra papers time (their `ea_model.eagenerate` / `medusa_generate` loops). Per layer 0.71 ms of
    /// host dispatch, derived from EAGLE-1 Table 4 (LLaMA2-Chat 7B on one RTX 3090: HF FP16 24.5 tok/s
    /// vs gpt-fast FP16 55.1 tok/s at the same weights): (1/24.5 − 1/55.1) s / 32 layers, added to the
    /// GPU time. Per cycle 1 ms of Python-side verification (tree decoding, index bookkeeping).
    public static let eager = RuntimeOverhead(
        name: "hf-eager", perForwardSeconds: 0.2e-3, perLayerSeconds: (1 / 24.5 - 1 / 55.1) / 32,
        perCycleSeconds: 1e-3, perAllReduceSeconds: 30e-6, ngramSecondsPerContextToken: 20e-9,
        family: "eager", version: "transformers 4.3x, PyTorch 2.x eager (EAGLE, Medusa, Hydra research code)",
        source: "EAGLE-1 Table 4 (HF vs gpt-fast on one RTX 3090)")

    /// The same eager stack read the other way: host dispatch overlapping the GPU
    /// (`hostOverlapsDevice`). From the same EAGLE-1 Table 4 pair: the GPU needs
    /// 1/55.1 s per token, HF takes 1/24.5 s, so HF is launch-bound there and its
    /// host time per forward is the whole 1/24.5 s = 0.2 ms + 32 × 1.27 ms. A
    /// forward costs max(host, device): launch-bound for small layers, device-bound
    /// once a layer's GPU work exceeds 1.27 ms (a 70B layer on an A100). Fits the
    /// published tables worse than `hf-eager` (experiment 014's README).
    public static let eagerAsync: RuntimeOverhead = {
        var profile = eager
        profile.name = "eager-async"
        profile.perLayerSeconds = (1 / 24.5 - eager.perForwardSeconds) / 32
        profile.hostOverlapsDevice = true
        return profile
    }()

    /// T5X on TPU v4 (Leviathan et al. 2023's stack). 20 µs per layer makes the
    /// roofline reproduce the paper's profiled draft/target cost ratios
    /// c = 0.02 / 0.04 / 0.11 for T5-small / base / large against T5-XXL (Leviathan et al. §3.1).
    public static let t5x = RuntimeOverhead(
        name: "t5x", perForwardSeconds: 0, perLayerSeconds: 20e-6, perCycleSeconds: 0,
        perAllReduceSeconds: 10e-6, ngramSecondsPerContextToken: 2e-9, perLayerIsKernelLatency: true,
        family: "t5x", version: "T5X on TPU v4 (2022)", source: "Leviathan et al. 2023 §3.1 (profiled c)")

    /// A CUDA-graph serving stack: the graph family's constants (perForward, perDraftStep, draft extend,
    /// per-sequence scheduler, extend-attention re-read, fitted together in experiment 036) with the
    /// stack's own structure.
    static func graphStack(name: String, version: String, source: String,
                           overlapsPlain: Bool, overlapsSpeculation: Bool, scheduler: Bool = true) -> RuntimeOverhead {
        var stack = RuntimeOverhead(
            name: name, perForwardSeconds: GraphFamily.perForwardSeconds, perLayerSeconds: 24e-6,
            perCycleSeconds: GraphFamily.perCycleSeconds, perAllReduceSeconds: 10e-6, ngramSecondsPerContextToken: 2e-9,
            perDraftStepSeconds: GraphFamily.perDraftStepSeconds, perLayerIsKernelLatency: true,
            family: "graph", version: version, source: source)
        stack.draftExtendSeconds = GraphFamily.draftExtendSeconds
        stack.treeSecondsPerNode = GraphFamily.treeSecondsPerNode
        stack.extendAttentionRereadFraction = GraphFamily.extendAttentionRereadFraction
        stack.schedulerSecondsPerSequence = scheduler ? GraphFamily.schedulerSecondsPerSequence : 0
        stack.schedulerSeconds = scheduler ? GraphFamily.schedulerSeconds : 0
        stack.schedulerOverlapsPlainDecoding = overlapsPlain
        stack.schedulerOverlapsSpeculation = overlapsSpeculation
        return stack
    }

    /// vLLM V1 (0.9–0.10, mid 2025): CUDA graphs for the target and the EAGLE/MTP proposer; the
    /// scheduler runs between steps (async scheduling arrived in 0.10 as an option and refused
    /// speculative decoding: vllm-project/vllm PR #19970; on by default with EAGLE/MTP from 0.14,
    /// PR #31998 — for those versions use `--runtime-file` with the overlap set).
    public static let vllm = graphStack(
        name: "vllm", version: "vLLM V1 0.9–0.10",
        source: "vllm-project/vllm PR #19970 (no async scheduling with speculative decoding)",
        overlapsPlain: false, overlapsSpeculation: false)

    /// SGLang 0.4–0.5: the overlap ("zero-overhead") scheduler hides host time behind the device in plain
    /// decoding (LMSYS, "SGLang v0.4", Dec 2024) and is switched off with EAGLE/MTP speculation
    /// (server_args: "Overlap scheduler is disabled because of using eagle speculative decoding").
    public static let sglang = graphStack(
        name: "sglang", version: "SGLang 0.4.x–0.5.x",
        source: "LMSYS SGLang v0.4 blog (overlap scheduler); sglang server_args (disabled with EAGLE)",
        overlapsPlain: true, overlapsSpeculation: false)

    /// TensorRT-LLM's PyTorch backend (1.0): the overlap scheduler on by default, MTP and EAGLE-3 included
    /// (TensorRT-LLM docs, features/overlap-scheduler.md).
    public static let trtllm = graphStack(
        name: "trt-llm", version: "TensorRT-LLM 1.0 (PyTorch backend)",
        source: "NVIDIA/TensorRT-LLM docs/source/features/overlap-scheduler.md",
        overlapsPlain: true, overlapsSpeculation: true)

    /// gpt-fast style research code (torch.compile with CUDA graphs, one static batch, no serving
    /// scheduler): MagicDec's and EAGLE-1 Table 4's compiled baseline.
    public static let gptFast = graphStack(
        name: "gpt-fast", version: "pytorch-labs/gpt-fast (torch.compile, mode reduce-overhead)",
        source: "pytorch-labs/gpt-fast generate.py (static batch, no scheduler)",
        overlapsPlain: false, overlapsSpeculation: false, scheduler: false)

    public static let presets: [RuntimeOverhead] = [.ideal, .compiled, .eager, .eagerAsync, .t5x, .vllm, .sglang, .trtllm, .gptFast]
    public static var presetNames: [String] { presets.map(\.name) }

    /// A runtime profile from a JSON file (the fields of `RuntimeOverhead`, seconds; see `init(from:)`).
    public static func load(fromFile path: String) throws -> RuntimeOverhead {
        let profile = try JSONFiles.decode(RuntimeOverhead.self, from: path, what: "runtime").withFamily()
        do { try profile.validate() } catch let error as AnalyticError {
            throw AnalyticError("runtime file '\(path)': \(error.message)")
        }
        return profile
    }

    public static func preset(named name: String) throws -> RuntimeOverhead {
        guard let found = presets.first(where: { $0.name == name }) else {
            throw AnalyticError.unknownPreset(kind: "runtime", name: name, valid: presetNames)
        }
        return found
    }

    func validate() throws {
        try Check.nonNegative(perForwardSeconds, "overhead.perForwardSeconds")
        try Check.nonNegative(perLayerSeconds, "overhead.perLayerSeconds")
        try Check.nonNegative(perCycleSeconds, "overhead.perCycleSeconds")
        try Check.nonNegative(perAllReduceSeconds, "overhead.perAllReduceSeconds")
        try Check.nonNegative(ngramSecondsPerContextToken, "overhead.ngramSecondsPerContextToken")
        try Check.nonNegative(perDraftStepSeconds, "overhead.perDraftStepSeconds")
        try Check.nonNegative(draftExtendSeconds, "overhead.draftExtendSeconds")
        try Check.nonNegative(treeSecondsPerNode, "overhead.treeSecondsPerNode")
        try Check.nonNegative(extendAttentionRereadFraction, "overhead.extendAttentionRereadFraction")
        try Check.nonNegative(schedulerSeconds, "overhead.schedulerSeconds")
        try Check.nonNegative(schedulerSecondsPerSequence, "overhead.schedulerSecondsPerSequence")
    }
}

/// One accelerator (or CPU) as the roofline sees it.
public struct Hardware: Codable, Sendable, Equatable {
    public var name: String
    /// Device memory capacity in bytes.
    public var memoryBytes: Double
    /// Peak memory bandwidth, bytes per second.
    public var memoryBytesPerSecond: Double
    /// Dense (no 2:4 sparsity) 16-bit tensor throughput, FLOP/s.
    public var flopsPerSecond16: Double
    /// Dense 8-bit (FP8) tensor throughput, FLOP/s; nil where the chip has no FP8 units.
    public var flopsPerSecond8: Double?
    /// Device-to-device bandwidth for collectives, bytes per second per direction.
    public var interconnectBytesPerSecond: Double
    /// Achievable fraction of peak bandwidth for large weight streams.
    public var bandwidthEfficiency: Double
    /// Achievable fraction of peak FLOP/s for large matrix products.
    public var computeEfficiency: Double
    /// Rows (tokens) of one GEMM tile: a product over M < tile rows costs as
    /// much compute as one over a full tile (tile quantization).
    public var gemmTileRows: Double
    /// Fixed costs of the runtime normally used on this hardware.
    public var overhead: RuntimeOverhead
    /// Where the numbers come from.
    public var source: String
    /// What a CPU host adds to the roofline (its cache, its imperfect overlap, its kernel switch); nil on
    /// GPUs, whose caches are far smaller than any model and whose kernels overlap memory and compute.
    public var cpu: CPUEffects? = nil

    /// The compute efficiency and overlap penalty of a weight product over `rows` rows: the blocked
    /// kernel's above its switch, the hardware's own otherwise (and for nil rows: attention's kernels).
    public func productKernel(rows: Double?) -> (computeEfficiency: Double, overlapPenalty: Double) {
        if let rows, let blocked = cpu?.blockedKernel, rows > blocked.rowsAbove {
            return (blocked.computeEfficiency, blocked.overlapPenalty)
        }
        return (computeEfficiency, cpu?.overlapPenalty ?? 0)
    }

    /// The rate at which a forward touching `workingSetBytes` streams them: the cache's when it fits, else
    /// the efficiency-scaled memory bandwidth.
    public func streamingBytesPerSecond(workingSetBytes: Double) -> Double {
        if let cache = cpu?.cache, workingSetBytes <= cache.bytes { return cache.bytesPerSecond }
        return memoryBytesPerSecond * bandwidthEfficiency
    }

    public init(name: String, memoryBytes: Double, memoryBytesPerSecond: Double,
                flopsPerSecond16: Double, flopsPerSecond8: Double?, interconnectBytesPerSecond: Double,
                bandwidthEfficiency: Double = 0.80, computeEfficiency: Double = 0.75,
                gemmTileRows: Double, overhead: RuntimeOverhead = .compiled, source: String) {
        self.name = name
        self.memoryBytes = memoryBytes
        self.memoryBytesPerSecond = memoryBytesPerSecond
        self.flopsPerSecond16 = flopsPerSecond16
        self.flopsPerSecond8 = flopsPerSecond8
        self.interconnectBytesPerSecond = interconnectBytesPerSecond
        self.bandwidthEfficiency = bandwidthEfficiency
        self.computeEfficiency = computeEfficiency
        self.gemmTileRows = gemmTileRows
        self.overhead = overhead
        self.source = source
    }

    /// Peak dense FLOP/s for a weight type: FP8 units where the model runs FP8
    /// and the chip has them, 16-bit units otherwise (int4 is weight-only
    /// quantization and computes in 16 bits).
    public func peakFlopsPerSecond(for dtype: WeightType) -> Double {
        if dtype == .fp8, let fp8 = flopsPerSecond8 { return fp8 }
        return flopsPerSecond16
    }

    /// Ridge point of the roofline at 16 bits, FLOP per byte.
    public var ridgeFlopsPerByte: Double { flopsPerSecond16 / memoryBytesPerSecond }

    public func validate() throws {
        try Check.positive(memoryBytes, "\(name).memoryBytes")
        try Check.positive(memoryBytesPerSecond, "\(name).memoryBytesPerSecond")
        try Check.positive(flopsPerSecond16, "\(name).flopsPerSecond16")
        if let fp8 = flopsPerSecond8 { try Check.positive(fp8, "\(name).flopsPerSecond8") }
        try Check.positive(interconnectBytesPerSecond, "\(name).interconnectBytesPerSecond")
        guard bandwidthEfficiency > 0, bandwidthEfficiency <= 1 else {
            throw AnalyticError("\(name).bandwidthEfficiency must be in (0, 1], got \(bandwidthEfficiency)")
        }
        guard computeEfficiency > 0, computeEfficiency <= 1 else {
            throw AnalyticError("\(name).computeEfficiency must be in (0, 1], got \(computeEfficiency)")
        }
        guard gemmTileRows >= 1 else {
            throw AnalyticError("\(name).gemmTileRows must be >= 1, got \(gemmTileRows)")
        }
        try cpu?.validate(name)
        try overhead.validate()
    }
}

/// The effects a CPU host adds to the roofline, each a named term of the step cost where it applies
/// (StepCost.overlapSeconds; the cache changes the rate at which memory terms stream).
public struct CPUEffects: Codable, Sendable, Equatable {
    /// The last-level cache: a forward whose weights and KV cache fit in it streams them at the cache's
    /// achieved rate (no efficiency applied).
    public var cache: CacheLevel?
    /// How much of the shorter of an operation group's memory and compute times is not hidden behind the
    /// longer: a group costs max + overlapPenalty · min (a CPU kernel that streams and multiplies in turn
    /// pays nearly both; calibrated from products at several k).
    public var overlapPenalty: Double
    /// A BLAS that switches kernels with the row count: products over more rows than
    /// `blockedKernel.rowsAbove` run a packed GEMM with their own efficiency and overlap.
    public var blockedKernel: BlockedKernel?

    public init(cache: CacheLevel? = nil, overlapPenalty: Double = 0, blockedKernel: BlockedKernel? = nil) {
        self.cache = cache; self.overlapPenalty = overlapPenalty; self.blockedKernel = blockedKernel
    }

    func validate(_ name: String) throws {
        if let cache {
            try Check.positive(cache.bytes, "\(name).cpu.cache.bytes")
            try Check.positive(cache.bytesPerSecond, "\(name).cpu.cache.bytesPerSecond")
        }
        guard (0...1).contains(overlapPenalty) else {
            throw AnalyticError("\(name).overlapPenalty must be in [0, 1], got \(overlapPenalty)")
        }
        if let blocked = blockedKernel {
            try Check.nonNegative(blocked.rowsAbove, "\(name).blockedKernel.rowsAbove")
            guard blocked.computeEfficiency > 0, blocked.computeEfficiency <= 1 else {
                throw AnalyticError("\(name).blockedKernel.computeEfficiency must be in (0, 1], got \(blocked.computeEfficiency)")
            }
            guard (0...1).contains(blocked.overlapPenalty) else {
                throw AnalyticError("\(name).blockedKernel.overlapPenalty must be in [0, 1], got \(blocked.overlapPenalty)")
            }
        }
    }
}

/// A cache level's size and the rate a working set inside it streams at.
public struct CacheLevel: Codable, Sendable, Equatable {
    public var bytes: Double
    public var bytesPerSecond: Double

    public init(bytes: Double, bytesPerSecond: Double) { self.bytes = bytes; self.bytesPerSecond = bytesPerSecond }
}

/// The packed GEMM a CPU BLAS runs for products over many rows (OpenBLAS sgemm here, beside the
/// skinny streaming kernel below the switch; LinAlg's SkinnyProduct).
public struct BlockedKernel: Codable, Sendable, Equatable {
    /// Products over more rows than this use the blocked kernel.
    public var rowsAbove: Double
    /// Its achieved fraction of the peak FLOP/s.
    public var computeEfficiency: Double
    /// Its overlap penalty (a group costs max + penalty · min).
    public var overlapPenalty: Double

    public init(rowsAbove: Double, computeEfficiency: Double, overlapPenalty: Double) {
        self.rowsAbove = rowsAbove
        self.computeEfficiency = computeEfficiency
        self.overlapPenalty = overlapPenalty
    }
}

private let GB = 1e9
private let GiB = 1_073_741_824.0
private let TFLOPS = 1e12

extension Hardware {
    /// The built-in presets (REFERENCES.md §1.1 unless noted).
    /// Interconnect: NVLink figures are the vendor's bidirectional totals
    /// halved to one direction; these are not in REFERENCES.md (vendor
    /// datasheets: NVLink3 600 GB/s, NVLink4 900 GB/s, H800 400 GB/s, NVLink5
    /// 1.8 TB/s; PCIe 4.0/5.0 x16 32/64 GB/s per direction).
    /// GEMM tile rows: 64 on Hopper/Blackwell (the smallest wgmma M, PTX ISA),
    /// 16 on Ampere/Ada/CDNA3 (mma.sync m16n8k16, MFMA 16×16), 128 on TPU (128×128 MXU).
    public static let presets: [Hardware] = [
        // A100 datasheet "312 | 624*" (dense | sparse); 1,555 GB/s HBM2; 40 GB.
        Hardware(name: "a100-40gb", memoryBytes: 40 * GiB, memoryBytesPerSecond: 1555 * GB,
                 flopsPerSecond16: 312 * TFLOPS, flopsPerSecond8: nil, interconnectBytesPerSecond: 300 * GB,
                 gemmTileRows: 16, source: "NVIDIA A100 datasheet; cli99/llm-analysis a100-sxm-40gb.json"),
        // aiconfigurator a100_sxm.yaml: mem_bw 2.039e12, bf16 3.12e14, 80 GiB.
        Hardware(name: "a100-80gb", memoryBytes: 80 * GiB, memoryBytesPerSecond: 2039 * GB,
                 flopsPerSecond16: 312 * TFLOPS, flopsPerSecond8: nil, interconnectBytesPerSecond: 300 * GB,
                 gemmTileRows: 16, source: "ai-dynamo/aiconfigurator systems/a100_sxm.yaml"),
        // aiconfigurator h100_sxm.yaml: 3.35e12 B/s, bf16 989e12, fp8 1978e12 (dense).
        Hardware(name: "h100-sxm", memoryBytes: 80 * GiB, memoryBytesPerSecond: 3350 * GB,
                 flopsPerSecond16: 989 * TFLOPS, flopsPerSecond8: 1979 * TFLOPS, interconnectBytesPerSecond: 450 * GB,
                 gemmTileRows: 64, source: "ai-dynamo/aiconfigurator systems/h100_sxm.yaml; H100 datasheet (dense)"),
        // aiconfigurator h100_pcie.yaml: 756.5 TFLOPS dense bf16, 1513 fp8 dense, 2 TB/s.
        Hardware(name: "h100-pcie", memoryBytes: 80 * GiB, memoryBytesPerSecond: 2000 * GB,
                 flopsPerSecond16: 756.5 * TFLOPS, flopsPerSecond8: 1513 * TFLOPS, interconnectBytesPerSecond: 64 * GB,
                 gemmTileRows: 64, source: "ai-dynamo/aiconfigurator systems/h100_pcie.yaml"),
        // aiconfigurator h800_sxm.yaml: compute, HBM as H100 SXM; NVLink 400 GB/s bidirectional.
        Hardware(name: "h800", memoryBytes: 80 * GiB, memoryBytesPerSecond: 3350 * GB,
                 flopsPerSecond16: 989 * TFLOPS, flopsPerSecond8: 1979 * TFLOPS, interconnectBytesPerSecond: 200 * GB,
                 gemmTileRows: 64, source: "ai-dynamo/aiconfigurator systems/h800_sxm.yaml"),
        // aiconfigurator h200_sxm.yaml: 4.8e12 B/s, 141 GiB, bf16 989e12, fp8 1978e12.
        Hardware(name: "h200", memoryBytes: 141 * GiB, memoryBytesPerSecond: 4800 * GB,
                 flopsPerSecond16: 989 * TFLOPS, flopsPerSecond8: 1979 * TFLOPS, interconnectBytesPerSecond: 450 * GB,
                 gemmTileRows: 64, source: "ai-dynamo/aiconfigurator systems/h200_sxm.yaml"),
        // aiconfigurator b200_sxm.yaml (Blackwell datasheet): 7.7e12 B/s, 180 GiB,
        // bf16 2250e12, fp8 4500e12. The launch figures (192 GB, 8 TB/s) are the
        // alternative; a user preset file can select them.
        Hardware(name: "b200", memoryBytes: 180 * GiB, memoryBytesPerSecond: 7700 * GB,
                 flopsPerSecond16: 2250 * TFLOPS, flopsPerSecond8: 4500 * TFLOPS, interconnectBytesPerSecond: 900 * GB,
                 gemmTileRows: 64, source: "ai-dynamo/aiconfigurator systems/b200_sxm.yaml (datasheet values)"),
        // AMD MI300X datasheet: FP16/BF16 1307.4 dense, FP8 2614.9 dense, 192 GB, 5.3 TB/s.
        // Infinity Fabric: 896 GB/s aggregate peer bandwidth, halved (vendor; not in REFERENCES.md).
        Hardware(name: "mi300x", memoryBytes: 192 * GiB, memoryBytesPerSecond: 5300 * GB,
                 flopsPerSecond16: 1307.4 * TFLOPS, flopsPerSecond8: 2614.9 * TFLOPS, interconnectBytesPerSecond: 448 * GB,
                 gemmTileRows: 16, source: "AMD Instinct MI300X datasheet"),
        // GA102 whitepaper Table 9: FP16 tensor with FP32 accumulate 71 TFLOPS dense
        // (what BF16 GEMMs use); 936 GB/s; 24 GB. PCIe 4.0 x16.
        Hardware(name: "rtx-3090", memoryBytes: 24 * GiB, memoryBytesPerSecond: 936 * GB,
                 flopsPerSecond16: 71 * TFLOPS, flopsPerSecond8: nil, interconnectBytesPerSecond: 32 * GB,
                 gemmTileRows: 16, overhead: .compiled, source: "NVIDIA Ampere GA102 whitepaper, Appendix A Table 9"),
        // Ada whitepaper v2.1 Appendix A: FP16/BF16 FP32-acc 165.2 dense; FP8 FP32-acc 330.3; 1008 GB/s.
        Hardware(name: "rtx-4090", memoryBytes: 24 * GiB, memoryBytesPerSecond: 1008 * GB,
                 flopsPerSecond16: 165.2 * TFLOPS, flopsPerSecond8: 330.3 * TFLOPS, interconnectBytesPerSecond: 32 * GB,
                 gemmTileRows: 16, source: "NVIDIA Ada whitepaper v2.1, Appendix A"),
        // cloud.google.com/tpu/docs/v4: 275 TFLOPS bf16, 32 GiB HBM2 at 1200 GBps;
        // all-reduce bandwidth 1.1 PB/s per 4096-chip pod → 268 GB/s per chip (computed).
        Hardware(name: "tpu-v4", memoryBytes: 32 * GiB, memoryBytesPerSecond: 1200 * GB,
                 flopsPerSecond16: 275 * TFLOPS, flopsPerSecond8: nil, interconnectBytesPerSecond: 268 * GB,
                 gemmTileRows: 128, overhead: .t5x, source: "Google Cloud TPU v4 documentation"),
    ]

    public static var presetNames: [String] { presets.map(\.name) }

    public static func preset(named name: String) throws -> Hardware {
        guard let found = presets.first(where: { $0.name == name }) else {
            throw AnalyticError.unknownPreset(kind: "hardware", name: name, valid: presetNames)
        }
        return found
    }

    /// A user-defined preset from JSON. Every field of `Hardware` is required
    /// except `flopsPerSecond8`, `bandwidthEfficiency` (0.80),
    /// `computeEfficiency` (0.75), `gemmTileRows` (16), `overhead` (compiled)
    /// and `source`.
    public static func load(fromFile path: String) throws -> Hardware {
        let file = try JSONFiles.decode(HardwareFile.self, from: path, what: "hardware")
        let hardware = file.hardware
        do { try hardware.validate() } catch let error as AnalyticError {
            throw AnalyticError("hardware file '\(path)': \(error.message)")
        }
        return hardware
    }
}

/// JSON form of a user hardware preset, with defaults for the optional fields.
struct HardwareFile: Decodable {
    var hardware: Hardware

    enum Keys: String, CodingKey {
        case name, memoryBytes, memoryBytesPerSecond, flopsPerSecond16, flopsPerSecond8,
             interconnectBytesPerSecond, bandwidthEfficiency, computeEfficiency, gemmTileRows,
             overhead, source, cpu, cacheBytes, cacheBytesPerSecond, overlapPenalty, blockedKernel
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        hardware = Hardware(
            name: try c.decode(String.self, forKey: .name),
            memoryBytes: try c.decode(Double.self, forKey: .memoryBytes),
            memoryBytesPerSecond: try c.decode(Double.self, forKey: .memoryBytesPerSecond),
            flopsPerSecond16: try c.decode(Double.self, forKey: .flopsPerSecond16),
            flopsPerSecond8: try c.decodeIfPresent(Double.self, forKey: .flopsPerSecond8),
            interconnectBytesPerSecond: try c.decodeIfPresent(Double.self, forKey: .interconnectBytesPerSecond) ?? 32e9,
            bandwidthEfficiency: try c.decodeIfPresent(Double.self, forKey: .bandwidthEfficiency) ?? 0.80,
            computeEfficiency: try c.decodeIfPresent(Double.self, forKey: .computeEfficiency) ?? 0.75,
            gemmTileRows: try c.decodeIfPresent(Double.self, forKey: .gemmTileRows) ?? 16,
            overhead: try c.decodeIfPresent(RuntimeOverhead.self, forKey: .overhead)?.withFamily() ?? .compiled,
            source: try c.decodeIfPresent(String.self, forKey: .source) ?? "user file")
        // The CPU's effects: a "cpu" object, or (files written before it) flat keys beside the others.
        if let cpu = try c.decodeIfPresent(CPUEffects.self, forKey: .cpu) {
            hardware.cpu = cpu
        } else {
            let cacheBytes = try c.decodeIfPresent(Double.self, forKey: .cacheBytes)
            let cacheRate = try c.decodeIfPresent(Double.self, forKey: .cacheBytesPerSecond)
            guard (cacheBytes == nil) == (cacheRate == nil) else {
                throw AnalyticError("give both cacheBytes and cacheBytesPerSecond, or neither")
            }
            let penalty = try c.decodeIfPresent(Double.self, forKey: .overlapPenalty)
            let blocked = try c.decodeIfPresent(BlockedKernel.self, forKey: .blockedKernel)
            if cacheBytes != nil || penalty != nil || blocked != nil {
                hardware.cpu = CPUEffects(cache: cacheBytes.map { CacheLevel(bytes: $0, bytesPerSecond: cacheRate!) },
                                          overlapPenalty: penalty ?? 0, blockedKernel: blocked)
            }
        }
    }
}
