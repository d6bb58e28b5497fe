// The measured kernels of one GPU under one serving framework, as the converter wrote them
// (tools/aiconfigurator/convert_kernels.py): GEMMs by dtype, decode attention by KV dtype and KV
// heads, MLA decode, routed experts, all-reduce and all-to-all by device count, and the small-kernel
// constants of the GPU's system description. Bundled files live in Resources/kernels/ as
// `<hardware preset>.<framework>.json`.

import Foundation

/// Where a database's numbers come from.
public struct KernelProvenance: Codable, Sendable, Equatable {
    public var package: String
    public var packageVersion: String
    /// aiconfigurator's system name (h100_sxm, …).
    public var system: String
    public var converter: String
    public var converted: String
}

/// Small memory-bound kernels: a constant latency each plus their bytes at a scaled bandwidth.
public struct SmallKernelConstants: Codable, Sendable, Equatable {
    public var latencySeconds: Double
    public var bandwidthScaling: Double
}

public struct KernelDatabase: Codable, Sendable, Equatable {
    /// SpecLab hardware preset the measurements belong to.
    public var gpu: String
    /// Serving framework (sglang, vllm, trtllm) and its version.
    public var framework: String
    public var version: String
    public var source: KernelProvenance
    /// GEMM tables by dtype: bf16, fp8 (per-tensor scaled), fp8Block (DeepGEMM block-scaled).
    public var gemm: [String: KernelTable]
    /// Head dimension of the attention tables (other head dims scale their KV tokens by hd / this).
    public var attentionHeadDim: Double
    /// Decode attention by KV-cache dtype (bf16, fp8), slabs by KV heads per device.
    public var attention: [String: KernelSlabs]
    /// Prefill (context) attention by KV-cache dtype, slabs by KV heads: query heads × input tokens × batch.
    public var contextAttention: [String: KernelSlabs]?
    /// MLA decode by KV-cache dtype: query heads per device × batch × KV tokens.
    public var mla: [String: KernelTable]?
    /// Routed experts (fused grouped GEMM): one curve over tokens per measured expert shape, dtype,
    /// split and routing skew.
    public var moe: MoECurves?
    /// All-reduce (the framework's custom kernel under CUDA graphs), slabs by device count, over the
    /// 16-bit elements of the message.
    public var allReduce: KernelSlabs?
    /// Expert-parallel all-to-all (dispatch + combine), slabs by device count, over bytes per device.
    public var allToAll: KernelSlabs?
    public var smallKernels: SmallKernelConstants

    /// "h100-sxm, sglang 0.5.14".
    public var label: String { "\(gpu), \(framework) \(version)" }

    public static let frameworks = ["sglang", "vllm", "trtllm"]
    /// The framework whose tables the engine uses unless told otherwise.
    public static let defaultFramework = "sglang"

    /// The GEMM table for a weight type; nil for fp32 and int4 (weight-only int4 reads a quarter of the
    /// bytes of a 16-bit GEMM and has no measured table here: the roofline prices it).
    public func gemmTable(for dtype: WeightType) -> KernelTable? {
        switch dtype {
        case .bf16, .fp16: return gemm["bf16"]
        case .fp8: return gemm["fp8"] ?? gemm["fp8Block"]
        case .fp32, .int4: return nil
        }
    }

    /// Every table's fit, named, for listings.
    public var fits: [(String, KernelFitError)] {
        var list: [(String, KernelFitError)] = gemm.keys.sorted().map { ("gemm \($0)", gemm[$0]!.fit) }
        list += attention.keys.sorted().map { ("attention \($0) KV", attention[$0]!.fit) }
        if let contextAttention { list += contextAttention.keys.sorted().map { ("prefill attention \($0) KV", contextAttention[$0]!.fit) } }
        if let mla { list += mla.keys.sorted().map { ("mla \($0) KV", mla[$0]!.fit) } }
        if let moe { list.append(("moe (\(moe.curves.count) shapes and splits)", moe.fit)) }
        if let allReduce { list.append(("all-reduce", allReduce.fit)) }
        if let allToAll { list.append(("all-to-all", allToAll.fit)) }
        return list
    }

    public static func load(fromFile path: String) throws -> KernelDatabase {
        try JSONFiles.decode(KernelDatabase.self, from: path, what: "kernel database")
    }

    /// The bundled database of a hardware preset under a framework, if measured.
    public static func bundled(gpu: String, framework: String = defaultFramework) -> KernelDatabase? {
        let key = "\(gpu).\(framework)"
        return BundledKernels.shared.database(key)
    }

    /// Frameworks with a bundled database for this hardware preset.
    public static func bundledFrameworks(gpu: String) -> [String] {
        frameworks.filter { BundledKernels.shared.exists("\(gpu).\($0)") }
    }
}

/// Loads bundled databases once each (they are read-only).
final class BundledKernels: @unchecked Sendable {
    static let shared = BundledKernels()
    private let lock = NSLock()
    private var cache: [String: KernelDatabase?] = [:]

    private func url(_ key: String) -> URL? {
        Bundle.module.url(forResource: key, withExtension: "json", subdirectory: "kernels")
    }

    func exists(_ key: String) -> Bool { url(key) != nil }

    func database(_ key: String) -> KernelDatabase? {
        lock.lock(); defer { lock.unlock() }
        if let cached = cache[key] { return cached }
        var loaded: KernelDatabase? = nil
        if let url = url(key), let data = try? Data(contentsOf: url) {
            loaded = try? JSONDecoder().decode(KernelDatabase.self, from: data)
        }
        cache[key] = loaded
        return loaded
    }
}

/// Measured routed-expert latencies: per expert shape, dtype, split and routing distribution, a curve
/// over the tokens of one step (not multiplied by top-k). Under expert parallelism the latency is the
/// most loaded rank's.
public struct MoECurves: Codable, Sendable, Equatable {
    public var source: String
    public var fit: KernelFitError
    /// Token knots shared by the curves that do not list their own.
    public var tokens: [Double]
    public var curves: [MoECurve]

    /// The curve of a shape and split at a routing skew (0 = balanced; the Zipf exponents of the
    /// power-law distributions measured, 1.01 and 1.2): exact where measured, interpolated in log
    /// latency between the two nearest skews, the nearest beyond them; nil when the shape or split was
    /// not measured.
    public func curve(dtype: String, hidden: Int, ffnSize: Int, activeExperts: Int, routedExperts: Int,
                      tensorParallel: Int, expertParallel: Int, routingSkew: Double) throws -> KernelCurve? {
        let matching = self.matching(dtype: dtype, hidden: hidden, ffnSize: ffnSize, activeExperts: activeExperts,
                                     routedExperts: routedExperts, tensorParallel: tensorParallel, expertParallel: expertParallel)
        guard let first = matching.first, let last = matching.last else { return nil }
        func table(_ c: MoECurve) throws -> KernelTable {
            try KernelTable(axes: ["tokens"], knots: [c.tokens ?? tokens], microseconds: c.microseconds, fit: fit, source: source)
        }
        if routingSkew <= first.routingSkew { return try table(first).curve(overFirstAxisAt: []) }
        if routingSkew >= last.routingSkew { return try table(last).curve(overFirstAxisAt: []) }
        let i = matching.lastIndex { $0.routingSkew <= routingSkew }!
        let t = (routingSkew - matching[i].routingSkew) / (matching[i + 1].routingSkew - matching[i].routingSkew)
        return try table(matching[i]).curve(overFirstAxisAt: []).blended(toward: try table(matching[i + 1]).curve(overFirstAxisAt: []), weight: t)
    }
}

extension MoECurves {
    /// The curves measured for one expert shape, dtype and split, by increasing routing skew.
    public func matching(dtype: String, hidden: Int, ffnSize: Int, activeExperts: Int, routedExperts: Int,
                         tensorParallel: Int, expertParallel: Int) -> [MoECurve] {
        curves.filter {
            $0.dtype == dtype && $0.hidden == hidden && $0.ffnSize == ffnSize && $0.activeExperts == activeExperts
                && $0.routedExperts == routedExperts && $0.tensorParallel == tensorParallel && $0.expertParallel == expertParallel
        }.sorted { $0.routingSkew < $1.routingSkew }
    }
}

public struct MoECurve: Codable, Sendable, Equatable {
    public var dtype: String
    public var hidden: Int
    public var ffnSize: Int
    public var activeExperts: Int
    public var routedExperts: Int
    public var tensorParallel: Int
    public var expertParallel: Int
    public var routingSkew: Double
    public var microseconds: [Double]
    /// Own token knots, when not the shared ones.
    public var tokens: [Double]?
}

/// Which kernel model prices a GPU's operations.
public enum KernelSelection: Sendable, Equatable {
    /// The bundled measurements of the hardware preset under the default framework, else the roofline.
    case auto
    /// The roofline with the hardware's efficiencies, whatever is bundled.
    case roofline
    /// The bundled measurements under this framework (an error if there are none).
    case framework(String)
    /// A database read from a file.
    case database(KernelDatabase)

    /// Parses `auto`, `roofline` or a framework name (the `--kernels` flag).
    public static func named(_ name: String) throws -> KernelSelection {
        switch name {
        case "auto": return .auto
        case "roofline": return .roofline
        default:
            guard KernelDatabase.frameworks.contains(name) else {
                throw AnalyticError("unknown --kernels '\(name)'; valid: auto, roofline, \(KernelDatabase.frameworks.joined(separator: ", "))")
            }
            return .framework(name)
        }
    }

    /// The database this selection gives on `hardware` (nil: the roofline).
    public func database(for hardware: Hardware) throws -> KernelDatabase? {
        switch self {
        case .auto: return KernelDatabase.bundled(gpu: hardware.name)
        case .roofline: return nil
        case .framework(let name):
            if let found = KernelDatabase.bundled(gpu: hardware.name, framework: name) { return found }
            let available = KernelDatabase.bundledFrameworks(gpu: hardware.name)
            throw AnalyticError("no measured \(name) kernels for \(hardware.name)"
                + (available.isEmpty ? "; it has none (use --kernels roofline)" : "; it has: \(available.joined(separator: ", "))"))
        case .database(let database): return database
        }
    }
}
