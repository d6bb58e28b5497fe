// The network: parameters in one allocation carved into named tensors, the
// training forward over (B, T) windows and its backward. The forward is split
// at the final RMSNorm output f (the "top feature", ALGORITHMS.md §0) so that
// extra heads (MTP, Medusa, EAGLE) can add losses on f or on the residual
// streams and push their gradient back through the trunk.

import Foundation
import LinAlg

/// Where each named tensor lives in the flat parameter buffer.
public struct ParameterLayout: Sendable {
    public struct Entry: Sendable {
        public var name: String
        public var offset: Int
        public var shape: [Int]
        /// AdamW weight decay applies (matrices yes; norm scales no).
        public var decays: Bool
        public var count: Int { shape.reduce(1, *) }
    }
    public private(set) var entries: [Entry] = []
    public private(set) var count = 0

    public init() {}

    public mutating func add(_ name: String, _ shape: [Int], decays: Bool = true) -> Int {
        let offset = count
        entries.append(Entry(name: name, offset: offset, shape: shape, decays: decays))
        count += shape.reduce(1, *)
        return offset
    }

    public func entry(named name: String) -> Entry? { entries.first { $0.name == name } }
}

/// A decoder-only transformer over scalar type T (Float for the model, Double for gradient checks).
public final class Network<T: Real>: @unchecked Sendable {
    public let config: ModelConfig
    public let layout: ParameterLayout
    let embeddingOffset: Int
    let blocks: [BlockOffsets]
    let finalNormOffset: Int
    let outputOffset: Int
    /// All parameters, one allocation.
    public let parameters: UnsafeMutableBufferPointer<T>
    /// Gradients, same layout.
    public let gradients: UnsafeMutableBufferPointer<T>
    /// Inference forwards run through these weights (by any `InferenceModel` over them): an account of
    /// target forwards kept apart from the decoding loops' own counters.
    public var inferenceForwards = 0

    public init(config: ModelConfig) throws {
        try config.validate()
        self.config = config
        var layout = ParameterLayout()
        let d = config.width
        embeddingOffset = layout.add("tok_embeddings", [config.vocab, d])
        let blocks = (0..<config.layers).map { BlockOffsets.add(to: &layout, prefix: "layers.\($0)", config: config) }
        self.blocks = blocks
        finalNormOffset = layout.add("norm", [d], decays: false)
        outputOffset = config.tiedEmbeddings ? embeddingOffset : layout.add("output", [config.vocab, d])
        self.layout = layout
        parameters = Network.allocateWeights(count: layout.count)
        gradients = .allocate(capacity: layout.count)
        gradients.initialize(repeating: 0)
    }

    deinit {
        free(parameters.baseAddress)
        gradients.deallocate()
    }

    /// Weights on 2 MiB-aligned memory with the kernel's huge-page advice:
    /// decode streams every weight once per step, and huge pages cut TLB misses
    /// (about 5% on T(1), 15% on T(8) here; see LinAlg's WeightBuffer).
    static func allocateWeights(count: Int) -> UnsafeMutableBufferPointer<T> {
        let alignment = 2 << 20
        let bytes = (max(1, count) * MemoryLayout<T>.stride + alignment - 1) / alignment * alignment
        var raw: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&raw, alignment, bytes) == 0, let raw else {
            preconditionFailure("cannot allocate \(bytes) bytes of weights")
        }
        #if os(Linux)
        _ = madvise(raw, bytes, MADV_HUGEPAGE)
        #endif
        let typed = raw.bindMemory(to: T.self, capacity: max(1, count))
        typed.initialize(repeating: 0, count: max(1, count))
        return UnsafeMutableBufferPointer(start: typed, count: count)
    }

    public var parameterCount: Int { layout.count }

    /// GPT-2 initialisation: N(0, 0.02) for matrices, residual output
    /// projections (wo, w2) scaled by 1/√(2L) (Radford et al. 2019), norms 1.
    public func initialize(seed: UInt64) {
        let rng = RandomSource(seed: seed)
        let residualScale = 1 / (2 * Double(config.layers)).squareRoot()
        for entry in layout.entries {
            let values = parameters.baseAddress! + entry.offset
            if !entry.decays {
                for i in 0..<entry.count { values[i] = 1 }
                continue
            }
            let std = entry.name.hasSuffix(".wo") || entry.name.hasSuffix(".w2") ? 0.02 * residualScale : 0.02
            for i in 0..<entry.count { values[i] = T(rng.normal(mean: 0, standardDeviation: std)) }
        }
    }

    /// Copies parameters from a network of another scalar type (e.g. Float → Double for gradient checks).
    public func copyParameters<U: Real>(from other: Network<U>) {
        precondition(other.layout.count == layout.count, "parameter layouts differ")
        for i in 0..<layout.count { parameters[i] = T(other.parameters[i]) }
    }

    public func zeroGradients() { gradients.update(repeating: 0) }

    /// The unembedding W_U (vocab, width): the output head, or the embedding table when tied.
    public var outputWeights: UnsafeMutablePointer<T> { p(outputOffset) }

    /// Block l of the trunk, its gradients included.
    public func blockWeights(_ l: Int) -> BlockWeights<T> {
        BlockWeights(parameters: parameters.baseAddress!, gradients: gradients.baseAddress!, offsets: blocks[l])
    }

    /// The final RMSNorm scale (width).
    public var finalNormWeights: UnsafeMutablePointer<T> { p(finalNormOffset) }
    public var finalNormGradients: UnsafeMutablePointer<T> { g(finalNormOffset) }
    /// Gradient of W_U.
    public var outputGradients: UnsafeMutablePointer<T> { g(outputOffset) }
    /// The token embedding table E (vocab, width) and its gradient.
    public var embeddingWeights: UnsafeMutablePointer<T> { p(embeddingOffset) }
    public var embeddingGradients: UnsafeMutablePointer<T> { g(embeddingOffset) }

    // Raw views.
    @inline(__always) func p(_ offset: Int) -> UnsafeMutablePointer<T> { parameters.baseAddress! + offset }
    @inline(__always) func g(_ offset: Int) -> UnsafeMutablePointer<T> { gradients.baseAddress! + offset }
}

/// Saved activations of one training forward over `batch` windows of `length` tokens.
public final class TrainingState<T: Real>: @unchecked Sendable {
    public let batch: Int
    public let length: Int
    public var rows: Int { batch * length }
    let config: ModelConfig
    var tokens: [Int32]
    public internal(set) var positions: [Int32]
    /// L + 1 residual streams, each (N, d): embeddings, then each block's output.
    var residual: [UnsafeMutablePointer<T>] = []
    /// Each block's saved activations.
    let activations: [BlockActivations<T>]
    /// Scratch of the blocks' forward and backward, shared with extra heads.
    public let blockScratch: BlockScratch<T>
    /// f: final RMSNorm output (N, d); its rstd.
    public let features: UnsafeMutablePointer<T>
    let finalRstd: UnsafeMutablePointer<T>
    /// ∂loss/∂f, accumulated by every head (N, d).
    public let featureGradients: UnsafeMutablePointer<T>
    /// Extra ∂loss/∂residual-stream per layer boundary, for heads that read h^{(l)} (EAGLE-3, DeepSeek MTP).
    public let residualGradients: [UnsafeMutablePointer<T>]
    // Head scratch.
    let logits: UnsafeMutablePointer<T>, headProbs: UnsafeMutablePointer<T>, losses: UnsafeMutablePointer<T>
    /// The running gradient of the residual stream in the backward.
    let runningGradient: UnsafeMutablePointer<T>
    private var allocations: [UnsafeMutablePointer<T>] = []

    public init(config: ModelConfig, batch: Int, length: Int) {
        self.config = config
        self.batch = batch
        self.length = length
        tokens = [Int32](repeating: 0, count: batch * length)
        positions = (0..<batch * length).map { Int32($0 % length) }
        let n = batch * length, d = config.width
        var pool: [UnsafeMutablePointer<T>] = []
        func make(_ count: Int) -> UnsafeMutablePointer<T> {
            let pointer = UnsafeMutablePointer<T>.allocate(capacity: max(count, 1))
            pointer.initialize(repeating: 0, count: max(count, 1))
            pool.append(pointer)
            return pointer
        }
        for _ in 0...config.layers { residual.append(make(n * d)) }
        activations = (0..<config.layers).map { _ in BlockActivations(config: config, batch: batch, length: length) }
        blockScratch = BlockScratch(config: config, batch: batch, length: length)
        features = make(n * d)
        finalRstd = make(n)
        featureGradients = make(n * d)
        var extra: [UnsafeMutablePointer<T>] = []
        for _ in 0...config.layers { extra.append(make(n * d)) }
        residualGradients = extra
        logits = make(n * config.vocab)
        headProbs = make(n * config.vocab)
        losses = make(n)
        runningGradient = make(n * d)
        allocations = pool
    }

    deinit { for pointer in allocations { pointer.deallocate() } }

    /// The residual stream after block l (l = 0: embeddings), (N, d).
    public func residualStream(_ l: Int) -> UnsafePointer<T> { UnsafePointer(residual[l]) }
}

extension Network {
    /// Forward over `state.batch` windows of `state.length` tokens up to the
    /// features f. `tokens` has batch · length entries.
    @_specialize(exported: true, where T == Float)
    public func forwardTrunk(tokens: [Int32], state: TrainingState<T>) {
        precondition(tokens.count == state.rows, "forwardTrunk: \(tokens.count) tokens for \(state.rows) rows")
        precondition(state.length <= config.contextLength, "window longer than the context length")
        state.tokens = tokens
        let n = state.rows, d = config.width
        let eps = T(config.normEpsilon)
        tokens.withUnsafeBufferPointer { tok in
            Layers.embeddingForward(out: state.residual[0], tokens: tok.baseAddress!, table: p(embeddingOffset), n: n, c: d)
        }
        state.positions.withUnsafeBufferPointer { pos in
            for l in 0..<config.layers {
                Block.forward(blockWeights(l), config: config, input: state.residual[l], output: state.residual[l + 1],
                              saved: state.activations[l], positions: pos.baseAddress!, batch: state.batch,
                              length: state.length, scratch: state.blockScratch)
            }
        }
        Layers.rmsnormForward(out: state.features, rstd: state.finalRstd, inp: state.residual[config.layers],
                              weight: p(finalNormOffset), n: n, c: d, epsilon: eps)
        state.featureGradients.update(repeating: 0, count: n * d)
        for buffer in state.residualGradients { buffer.update(repeating: 0, count: n * d) }
    }

    /// The LM head on f and its mean cross-entropy over all rows; adds
    /// `weight` · ∂loss/∂f to the feature gradients and ∂/∂W_out to the gradients.
    /// Returns the mean loss (nats per token).
    @discardableResult
    @_specialize(exported: true, where T == Float)
    public func languageModelLoss(targets: [Int32], state: TrainingState<T>, weight: T = 1) -> T {
        let n = state.rows, d = config.width, vocab = config.vocab
        Layers.matmulForward(out: state.logits, inp: state.features, weight: p(outputOffset), n: n, c: d, oc: vocab)
        var total: T = 0
        targets.withUnsafeBufferPointer { tgt in
            Layers.crossEntropyForward(losses: state.losses, probs: state.headProbs, logits: state.logits,
                                       targets: tgt.baseAddress!, n: n, v: vocab)
            for i in 0..<n { total += state.losses[i] }
            guard weight != 0 else { return }
            let dlogits = state.logits  // reuse: logits are not needed after this point
            Layers.crossEntropyBackward(dlogits: dlogits, probs: state.headProbs, targets: tgt.baseAddress!, n: n,
                                        v: vocab, scale: weight / T(n))
            Layers.matmulBackward(dinp: state.featureGradients, dweight: g(outputOffset), dout: dlogits,
                                  inp: state.features, weight: p(outputOffset), n: n, c: d, oc: vocab)
        }
        return total / T(n)
    }

    /// Back-propagates the accumulated feature (and residual-stream) gradients through the trunk.
    @_specialize(exported: true, where T == Float)
    public func backwardTrunk(state: TrainingState<T>) {
        let n = state.rows, d = config.width
        // dx: gradient of the residual stream being walked down.
        let dx = state.runningGradient
        dx.update(repeating: 0, count: n * d)
        Layers.accumulate(dx, state.residualGradients[config.layers], count: n * d)
        Layers.rmsnormBackward(dinp: dx, dweight: g(finalNormOffset), dout: state.featureGradients,
                               inp: state.residual[config.layers], weight: p(finalNormOffset), rstd: state.finalRstd,
                               n: n, c: d)
        state.positions.withUnsafeBufferPointer { pos in
            for l in stride(from: config.layers - 1, through: 0, by: -1) {
                Block.backward(blockWeights(l), config: config, input: state.residual[l], saved: state.activations[l],
                               gradient: dx, positions: pos.baseAddress!, batch: state.batch, length: state.length,
                               scratch: state.blockScratch)
                Layers.accumulate(dx, state.residualGradients[l], count: n * d)
            }
        }
        state.tokens.withUnsafeBufferPointer { tok in
            Layers.embeddingBackward(dtable: g(embeddingOffset), dout: dx, tokens: tok.baseAddress!, n: n, c: d)
        }
    }

    /// Next-token loss and its gradient (zeroes gradients first): forward, LM loss, backward.
    @discardableResult
    @_specialize(exported: true, where T == Float)
    public func lossAndGradients(tokens: [Int32], targets: [Int32], state: TrainingState<T>) -> T {
        zeroGradients()
        forwardTrunk(tokens: tokens, state: state)
        let loss = languageModelLoss(targets: targets, state: state)
        backwardTrunk(state: state)
        return loss
    }
}
