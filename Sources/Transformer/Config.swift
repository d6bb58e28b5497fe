// The model configuration: a small value type; presets are named instances.

import Foundation

public struct ModelConfig: Codable, Sendable, Equatable {
    public var name: String
    /// Byte vocabulary: 256.
    public var vocab: Int
    public var width: Int
    public var layers: Int
    public var heads: Int
    /// Grouped KV heads (heads must be a multiple).
    public var kvHeads: Int
    /// SwiGLU intermediate size.
    public var ffnHidden: Int
    /// Longest sequence (positions) the model is trained and run at.
    public var contextLength: Int
    public var ropeTheta: Double
    public var normEpsilon: Double
    public var tiedEmbeddings: Bool

    public init(name: String, vocab: Int = 256, width: Int, layers: Int, heads: Int, kvHeads: Int, ffnHidden: Int,
                contextLength: Int, ropeTheta: Double = 10_000, normEpsilon: Double = 1e-5, tiedEmbeddings: Bool) {
        self.name = name
        self.vocab = vocab
        self.width = width
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads
        self.ffnHidden = ffnHidden
        self.contextLength = contextLength
        self.ropeTheta = ropeTheta
        self.normEpsilon = normEpsilon
        self.tiedEmbeddings = tiedEmbeddings
    }

    public var headDim: Int { width / heads }
    public var kvWidth: Int { kvHeads * headDim }

    /// Trains to a useful loss in a few minutes here; tests and CI.
    public static let tiny = ModelConfig(name: "tiny", width: 64, layers: 2, heads: 4, kvHeads: 2, ffnHidden: 176,
                                         contextLength: 128, tiedEmbeddings: true)
    /// The default target for decoding experiments.
    public static let small = ModelConfig(name: "small", width: 256, layers: 4, heads: 8, kvHeads: 4, ffnHidden: 704,
                                          contextLength: 256, tiedEmbeddings: false)
    /// The trained target of the memory-bound experiments: ≈ 18M parameters,
    /// 72 MB of float32 weights, more than twice a 32 MiB last-level cache, so
    /// a decode step streams its weights from memory; trains on 2 cores in
    /// about two hours (experiment 037).
    public static let medium = ModelConfig(name: "medium", width: 512, layers: 6, heads: 8, kvHeads: 4, ffnHidden: 1408,
                                           contextLength: 512, tiedEmbeddings: false)
    /// Weights far beyond the 32 MiB L3 (≈ 85M parameters, 340 MB in float32):
    /// decode is memory-bandwidth-bound, as on a GPU. Timing runs may use random
    /// or partly trained weights.
    public static let large = ModelConfig(name: "large", width: 768, layers: 12, heads: 12, kvHeads: 4, ffnHidden: 2048,
                                          contextLength: 1024, tiedEmbeddings: false)
    /// A draft model for classic speculative decoding against `small`.
    public static let draft = ModelConfig(name: "draft", width: 96, layers: 1, heads: 4, kvHeads: 4, ffnHidden: 256,
                                          contextLength: 256, tiedEmbeddings: true)

    public static let presets: [ModelConfig] = [.tiny, .small, .medium, .large, .draft]

    public static func preset(named name: String) throws -> ModelConfig {
        guard let found = presets.first(where: { $0.name == name }) else {
            throw ModelError("unknown model preset '\(name)'; valid: \(presets.map(\.name).joined(separator: ", "))")
        }
        return found
    }

    public func validate() throws {
        guard vocab >= 2, width >= 2, layers >= 1, heads >= 1, kvHeads >= 1, ffnHidden >= 1, contextLength >= 2 else {
            throw ModelError("model config '\(name)': every size must be positive")
        }
        guard width % heads == 0, headDim % 2 == 0 else {
            throw ModelError("model config '\(name)': width \(width) must be a multiple of heads \(heads) with an even head size")
        }
        guard heads % kvHeads == 0 else {
            throw ModelError("model config '\(name)': heads \(heads) must be a multiple of kvHeads \(kvHeads)")
        }
        // The reference model lives in this machine's memory: its float32 weights (and the optimizer's two
        // moments when training) must fit before anything is allocated.
        let perLayer = 4.0 * Double(width) * Double(width) + 3.0 * Double(width) * Double(ffnHidden)
        let parameters = Double(layers) * perLayer + Double(vocab) * Double(width) * (tiedEmbeddings ? 1 : 2)
        try MachineMemory.check(4 * parameters, String(format: "model config '%@': %.3g parameters need", name, parameters), "of float32 weights")
    }
}

/// What this machine can hold: refusing, before allocating, what would not fit.
public enum MachineMemory {
    /// Physical memory less a fifth for the system and the rest of the process.
    public static var usableBytes: Double { 0.8 * Double(ProcessInfo.processInfo.physicalMemory) }

    /// Throws "<subject> about X GB <what>, this machine has Y GB" when `bytes` exceed `usableBytes`.
    public static func check(_ bytes: Double, _ subject: String, _ what: String, advice: String = "") throws {
        guard bytes <= usableBytes else {
            throw ModelError(String(format: "%@ about %.1f GB %@, this machine has %.1f GB%@", subject, bytes / 1e9, what,
                                    Double(ProcessInfo.processInfo.physicalMemory) / 1e9, advice))
        }
    }
}

/// Thread counts for products and BLAS (`--threads`): at least one, at most more than any machine offers.
public enum ThreadCount {
    public static let maximum = 1024
    public static func check(_ threads: Int) throws {
        guard (1...maximum).contains(threads) else { throw ModelError("--threads must be in 1...\(maximum), got \(threads)") }
    }
}

/// Errors of the reference model, one line each.
public struct ModelError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}
