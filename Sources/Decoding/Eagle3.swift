// EAGLE-3 (Li et al. 2025; ALGORITHMS.md §12): EAGLE's feature-level drafter
// with fused multi-layer target features and training-time test (TTT).
//   g_j   = W_fc [l_j ; m_j ; h_j]                  (3d → d, no bias: three target residual streams)
//   u     = W_in [RMSNorm_e(E(x)) ; RMSNorm_g(g)]   (2d → d)
//   a     = Block(u)                               (one decoder block, RoPE position = element + step)
//   q     = softmax(W_U · RMSNorm_out(a))          (own output norm, the target's frozen unembedding)
// At later draft steps the drafter's own output a takes g's place (no fc).
// Only the token loss is trained (no feature regression): Σ_s 0.8^s · CE(p, q^s)
// with the target's distribution as soft label, the drafter unrolled S steps on
// its own outputs with the attention a depth-(s+1) tree node has at inference.
//
// Our simplification, stated: the reference block feeds the 2d-wide
// [norm(E); norm(g)] straight into q/k/v (2d → heads) and carries g on the
// residual branch; ours projects it to d first (W_in, as DeepSeek's MTP module
// does) and runs the same `Block` as every other drafter, whose residual
// carries u. The feature path, the fusion, the loss and TTT are the paper's.

import Foundation
import LinAlg
import Transformer

/// What an EAGLE-style drafter must provide at decode time: how it forms its
/// input rows and which target activations its step-0 features come from.
public protocol FeatureDrafter: AnyObject {
    var config: ModelConfig { get }
    /// "eagle1" or "eagle3": the method's default name.
    var family: String { get }
    /// Target residual streams the drafter reads (empty: the target's top feature f).
    var targetResidualLayers: Set<Int> { get }
    /// Writes the step-0 feature of row `row` of the target's last forward (d values).
    func targetFeature(_ target: InferenceModel, row: Int, into feature: UnsafeMutablePointer<Float>)
    /// u (rows, d) for drafter rows of (token, feature); `scratch` provides named buffers.
    func inputRows(tokens: [Int32], features: UnsafePointer<Float>, embedding: UnsafePointer<Float>, rows: Int,
                   scratch: ScratchBuffers) -> UnsafePointer<Float>
    /// The drafter's block, frozen (inference).
    var inferenceBlock: BlockWeights<Float> { get }
    /// The norm before the shared unembedding; nil: the block's output is read by W_U directly.
    var outputNorm: UnsafePointer<Float>? { get }
}

extension EagleWeights: FeatureDrafter {
    public var family: String { "eagle1" }
    public var targetResidualLayers: Set<Int> { [] }

    public func targetFeature(_ target: InferenceModel, row: Int, into feature: UnsafeMutablePointer<Float>) {
        feature.update(from: target.features + row * config.width, count: config.width)
    }

    public func inputRows(tokens: [Int32], features: UnsafePointer<Float>, embedding: UnsafePointer<Float>, rows n: Int,
                          scratch: ScratchBuffers) -> UnsafePointer<Float> {
        let u = scratch("eagle.u", n * config.width)
        input(tokens: tokens, features: features, embedding: embedding, rows: n,
              concatenated: scratch("eagle.cat", n * 2 * config.width), output: u)
        return UnsafePointer(u)
    }

    public var inferenceBlock: BlockWeights<Float> { blockWeights(frozen: true) }
    public var outputNorm: UnsafePointer<Float>? { nil }
}

public final class Eagle3Weights: FeatureDrafter, SingleFileWeights, @unchecked Sendable {
    public let config: ModelConfig
    public let parameters: ParameterSet
    /// The fused residual streams (low, mid, high): stream l is the input of block l (0 = embeddings).
    public let streams: [Int]
    let fuse: Int, embeddingNorm: Int, featureNorm: Int, projection: Int, finalNorm: Int
    let block: BlockOffsets

    /// §12: h^(1), h^(⌈L/2⌉), h^(L−1) for L ≥ 4; with fewer layers the last three streams 0…L.
    public static func streams(layers: Int) -> [Int] {
        layers >= 4 ? [1, (layers + 1) / 2, layers - 1] : Array(Array(0...layers).suffix(3))
    }

    public init(config: ModelConfig) {
        precondition(config.layers >= 2, "EAGLE-3 fuses three residual streams: the target needs at least 2 layers")
        self.config = config
        streams = Self.streams(layers: config.layers)
        let d = config.width
        var layout = ParameterLayout()
        fuse = layout.add("fc.weight", [d, 3 * d])
        embeddingNorm = layout.add("embedding_norm", [d], decays: false)
        featureNorm = layout.add("feature_norm", [d], decays: false)
        projection = layout.add("input.weight", [d, 2 * d])
        block = BlockOffsets.add(to: &layout, prefix: "block", config: config)
        finalNorm = layout.add("output_norm", [d], decays: false)
        parameters = ParameterSet(layout: layout)
    }

    public var family: String { "eagle3" }
    public var targetResidualLayers: Set<Int> { Set(streams) }

    /// The block starts as a copy of the target's last block and the output norm as its final norm;
    /// W_fc passes the high stream through and W_in the feature half (identity), the rest N(0, 0.02).
    public func initialize(copying network: Network<Float>, seed: UInt64) {
        parameters.initialize(seed: seed, residualScale: 1 / (2 * Double(config.layers)).squareRoot())
        let d = config.width
        let source = network.blockWeights(config.layers - 1)
        parameters.pointer(block.start).update(from: source.parameters + source.offsets.start,
                                               count: BlockOffsets.count(config: config))
        parameters.pointer(finalNorm).update(from: network.finalNormWeights, count: d)
        let w = parameters.pointer(fuse), m = parameters.pointer(projection)
        for r in 0..<d {
            for c in 0..<d {
                w[r * 3 * d + 2 * d + c] = r == c ? 1 : 0
                m[r * 2 * d + d + c] = r == c ? 1 : 0
            }
        }
    }

    func blockWeights(frozen: Bool) -> BlockWeights<Float> {
        BlockWeights(parameters: parameters.parameters.baseAddress!,
                     gradients: frozen ? nil : parameters.gradients.baseAddress!, offsets: block)
    }

    public var inferenceBlock: BlockWeights<Float> { blockWeights(frozen: true) }
    public var outputNorm: UnsafePointer<Float>? { UnsafePointer(parameters.pointer(finalNorm)) }

    public func targetFeature(_ target: InferenceModel, row: Int, into feature: UnsafeMutablePointer<Float>) {
        let d = config.width
        var streams: [Float] = []
        streams.reserveCapacity(3 * d)
        for l in self.streams {
            guard let stream = target.residualStreams[l] else { preconditionFailure("the target did not keep residual stream \(l)") }
            streams += UnsafeBufferPointer(start: stream + row * d, count: d)
        }
        streams.withUnsafeBufferPointer { s in
            Layers.matmulForward(out: feature, inp: s.baseAddress!, weight: parameters.pointer(fuse), n: 1, c: 3 * d, oc: d)
        }
    }

    /// u (rows, d) = W_in [RMSNorm_e(E(tokens)) ; RMSNorm_g(features)]; keeps E(tokens), the normalised
    /// halves and both rstd in `scratch` (under `prefix`) for `inputBackward`.
    func input(tokens: [Int32], features g: UnsafePointer<Float>, embedding: UnsafePointer<Float>, rows n: Int,
               scratch: ScratchBuffers, prefix: String = "eagle3") -> UnsafeMutablePointer<Float> {
        let d = config.width, eps = Float(config.normEpsilon)
        let e = scratch("\(prefix).e", n * d), normed = scratch("\(prefix).normed", n * d)
        let cat = scratch("\(prefix).cat", n * 2 * d), u = scratch("\(prefix).u", n * d)
        tokens.withUnsafeBufferPointer { tok in
            Layers.embeddingForward(out: e, tokens: tok.baseAddress!, table: embedding, n: n, c: d)
        }
        Layers.rmsnormForward(out: normed, rstd: scratch("\(prefix).rstdE", n), inp: e, weight: parameters.pointer(embeddingNorm),
                              n: n, c: d, epsilon: eps)
        for r in 0..<n { (cat + r * 2 * d).update(from: normed + r * d, count: d) }
        Layers.rmsnormForward(out: normed, rstd: scratch("\(prefix).rstdG", n), inp: g, weight: parameters.pointer(featureNorm),
                              n: n, c: d, epsilon: eps)
        for r in 0..<n { (cat + r * 2 * d + d).update(from: normed + r * d, count: d) }
        Layers.matmulForward(out: u, inp: cat, weight: parameters.pointer(projection), n: n, c: 2 * d, oc: d)
        return u
    }

    /// Backward of `input` (same rows, scratch and prefix): accumulates the weight gradients of W_in
    /// and both norms and writes ∂L/∂features into `dFeatures` (overwritten).
    func inputBackward(du: UnsafePointer<Float>, features g: UnsafePointer<Float>, rows n: Int, scratch: ScratchBuffers,
                       dFeatures: UnsafeMutablePointer<Float>, prefix: String = "eagle3") {
        let d = config.width
        let dcat = scratch("\(prefix).dcat", n * 2 * d), half = scratch("\(prefix).dhalf", n * d)
        dcat.update(repeating: 0, count: n * 2 * d)
        Layers.matmulBackward(dinp: dcat, dweight: parameters.gradient(projection), dout: du,
                              inp: scratch("\(prefix).cat", n * 2 * d), weight: parameters.pointer(projection),
                              n: n, c: 2 * d, oc: d)
        // The embedding is frozen: only its norm's scale learns (the input gradient goes to a throwaway buffer).
        for r in 0..<n { (half + r * d).update(from: dcat + r * 2 * d, count: d) }
        let sink = scratch("\(prefix).sink", n * d)
        Layers.rmsnormBackward(dinp: sink, dweight: parameters.gradient(embeddingNorm), dout: half,
                               inp: scratch("\(prefix).e", n * d), weight: parameters.pointer(embeddingNorm),
                               rstd: scratch("\(prefix).rstdE", n), n: n, c: d)
        for r in 0..<n { (half + r * d).update(from: dcat + r * 2 * d + d, count: d) }
        dFeatures.update(repeating: 0, count: n * d)
        Layers.rmsnormBackward(dinp: dFeatures, dweight: parameters.gradient(featureNorm), dout: half, inp: g,
                               weight: parameters.pointer(featureNorm), rstd: scratch("\(prefix).rstdG", n), n: n, c: d)
    }

    public func inputRows(tokens: [Int32], features: UnsafePointer<Float>, embedding: UnsafePointer<Float>, rows n: Int,
                          scratch: ScratchBuffers) -> UnsafePointer<Float> {
        UnsafePointer(input(tokens: tokens, features: features, embedding: embedding, rows: n, scratch: scratch))
    }

    static let file = DrafterFile(name: "eagle3.safetensors", kind: "eagle3", sizeKey: nil, what: "EAGLE-3 drafter weights")
    public static var fileName: String { file.name }

    public func save(to directory: URL, metadata: [String: String]) throws { try saveFile(to: directory, metadata: metadata) }

    public static func load(from directory: URL, target: ModelConfig) throws -> Eagle3Weights {
        try loadFile(from: directory, target: target)
    }
}

/// The training-time test: each window of L positions is unrolled S steps into one
/// attention window of S·L rows, row s·L + j being element j at step s (RoPE
/// position j + s). Row (s, j) sees the step-0 rows 0…j and its own rows (1…s, j):
/// exactly what a depth-(s+1) node sees at inference (true-feature context, then
/// its own chain). With S = 1 this is the causal mask.
public enum TrainingTimeTest {
    /// visible[(s·L + j) · S·L + (s'·L + j')] for one window.
    public static func mask(length: Int, steps: Int) -> [Bool] {
        let w = steps * length
        var visible = [Bool](repeating: false, count: w * w)
        for s in 0..<steps {
            for j in 0..<length {
                let row = (s * length + j) * w
                for i in 0...j { visible[row + i] = true }
                if s >= 1 { for t in 1...s { visible[row + t * length + j] = true } }
            }
        }
        return visible
    }
}

/// Σ_s 0.8^s · mean_j CE(p_{j+1+s}, q_j^s) over the rows whose target lies in the window; the
/// target's distribution is the soft label. Back-propagated through the drafter's own features
/// (a^{s−1} feeds step s).
///
/// Forward: prefix window P = 1…S holds steps 0…P−1 (P·L rows per sequence); its inputs are known
/// once window P − 1 has run, and it computes those steps exactly (no row sees a later step).
/// Backward: pass k runs through window S − k, carrying the gradient of the outputs of steps ≤ S−1−k
/// (first the losses', then what step s's inputs send back to step s − 1's outputs).
public final class Eagle3Objective: HeadObjective {
    public let network: Network<Float>
    public let weights: Eagle3Weights
    public let steps: Int
    public var stepDecay: Float = 0.8
    private let buffer = ScratchBuffers()
    /// Per prefix window P (index P − 1): saved activations, keyed by batch × length.
    private var saved: [String: [BlockActivations<Float>]] = [:]
    private var masks: [String: [Bool]] = [:]
    /// RoPE positions of each prefix window's rows (j + s), by window.
    private var positions: [Int: [Int32]] = [:]
    private var scratches: [String: BlockScratch<Float>] = [:]
    public private(set) var lastAccuracy: [Double] = []
    public var extraHeadCount: Int { steps }

    public init(network: Network<Float>, weights: Eagle3Weights, steps: Int) {
        precondition(steps >= 1, "EAGLE-3 needs at least one training-time-test step")
        self.network = network
        self.weights = weights
        self.steps = steps
    }

    public var trainables: [TrainableParameters] { [weights.parameters] }

    public func step(inputs: [Int32], targets: [Int32], state: TrainingState<Float>) -> [String: Double] {
        weights.parameters.gradients.update(repeating: 0)
        return run(inputs: inputs, targets: targets, state: state, train: true)
    }

    public func evaluate(inputs: [Int32], targets: [Int32], state: TrainingState<Float>) -> [String: Double] {
        var result = run(inputs: inputs, targets: targets, state: state, train: false)
        result["loss"] = result["target_loss"]
        return result
    }

    /// The drafter's outputs a of the whole unrolled window after a step or evaluation:
    /// row b·S·L + s·L + j is sequence b's element j at step s.
    public var unrolledOutputs: UnsafePointer<Float> { UnsafePointer(buffer("a\(steps)", 1)) }

    /// Names of prefix window P's buffers.
    private func name(_ what: String, _ prefix: Int) -> String { "\(what)\(prefix)" }

    /// Runs prefix windows 1…S over the trunk's windows (`state` after a trunk forward).
    private func unroll(targets: [Int32], state: TrainingState<Float>, train: Bool) {
        let config = network.config, d = config.width, length = state.length, batch = state.batch
        // Step-0 features g_j = W_fc [l_j ; m_j ; h_j] for every trunk row.
        let cat3 = buffer("cat3", state.rows * 3 * d), g0 = buffer("g0", state.rows * d)
        for (i, l) in weights.streams.enumerated() {
            let stream = state.residualStream(l)
            for r in 0..<state.rows { (cat3 + r * 3 * d + i * d).update(from: stream + r * d, count: d) }
        }
        Layers.matmulForward(out: g0, inp: cat3, weight: weights.parameters.pointer(weights.fuse), n: state.rows, c: 3 * d, oc: d)
        let key = "\(batch)x\(length)"
        let acts = saved[key] ?? (1...steps).map { BlockActivations<Float>(config: config, batch: batch, length: $0 * length) }
        saved[key] = acts
        let scratch = windowScratch(batch: batch, window: steps * length)
        for prefix in 1...steps {
            let window = prefix * length, rows = batch * window
            let visible = mask(length: length, prefix: prefix)
            var tokens = [Int32](repeating: 0, count: rows), positions = [Int32](repeating: 0, count: rows)
            let features = buffer(name("g", prefix), rows * d), a = buffer(name("a", prefix), rows * d)
            for b in 0..<batch {
                for s in 0..<prefix {
                    for j in 0..<length {
                        let row = b * window + s * length + j
                        positions[row] = Int32(j + s)
                        // Element j at step s reads x_{j+1+s} (targets[j + s]); rows past the window are padding.
                        tokens[row] = j + s < length ? targets[b * length + j + s] : 0
                        // The fused target feature (step 0) or step s − 1's output, exact in window s.
                        let source = s == 0 ? UnsafePointer(g0 + (b * length + j) * d)
                                            : UnsafePointer(buffer(name("a", s), 1) + (b * s * length + (s - 1) * length + j) * d)
                        (features + row * d).update(from: source, count: d)
                    }
                }
            }
            let u = weights.input(tokens: tokens, features: features, embedding: network.embeddingWeights, rows: rows,
                                  scratch: buffer, prefix: name("in", prefix))
            positions.withUnsafeBufferPointer { pos in
                visible.withUnsafeBufferPointer { vis in
                    Block.forward(weights.blockWeights(frozen: !train), config: config, input: u, output: a,
                                  saved: acts[prefix - 1], positions: pos.baseAddress!, batch: batch, length: window,
                                  scratch: scratch, visible: vis.baseAddress!)
                }
            }
            self.positions[prefix] = positions
        }
    }

    private func mask(length: Int, prefix: Int) -> [Bool] {
        if let m = masks["\(length)x\(prefix)"] { return m }
        let m = TrainingTimeTest.mask(length: length, steps: prefix)
        masks["\(length)x\(prefix)"] = m
        return m
    }

    private func windowScratch(batch: Int, window: Int) -> BlockScratch<Float> {
        let key = "\(batch)x\(window)"
        if let s = scratches[key] { return s }
        let s = BlockScratch<Float>(config: network.config, batch: batch, length: window)
        scratches[key] = s
        return s
    }

    private func run(inputs: [Int32], targets: [Int32], state: TrainingState<Float>, train: Bool) -> [String: Double] {
        let config = network.config
        let n = state.rows, d = config.width, v = config.vocab, length = state.length, batch = state.batch
        let window = steps * length, rows = batch * window
        network.forwardTrunk(tokens: inputs, state: state)
        let targetLoss = network.languageModelLoss(targets: targets, state: state, weight: 0)
        // The target's distribution at every row: row j + 1 + s is the label of element j at step s.
        let p = buffer("p", n * v)
        Layers.matmulForward(out: p, inp: state.features, weight: network.outputWeights, n: n, c: d, oc: v)
        EagleObjective.softmaxRows(p, rows: n, vocab: v)
        unroll(targets: targets, state: state, train: train)
        let a = buffer(name("a", steps), rows * d), normed = buffer("normed", rows * d), rstd = buffer("rstd", rows)
        Layers.rmsnormForward(out: normed, rstd: rstd, inp: a, weight: weights.parameters.pointer(weights.finalNorm),
                              n: rows, c: d, epsilon: Float(config.normEpsilon))
        let q = buffer("q", rows * v)
        Layers.matmulForward(out: q, inp: normed, weight: network.outputWeights, n: rows, c: d, oc: v)
        EagleObjective.softmaxRows(q, rows: rows, vocab: v)
        var loss = [Double](repeating: 0, count: steps), agree = [Int](repeating: 0, count: steps)
        let validPerStep = (0..<steps).map { s in batch * max(0, length - 1 - s) }
        for b in 0..<batch {
            for s in 0..<steps {
                let scale = Float(pow(Double(stepDecay), Double(s))) / Float(max(validPerStep[s], 1))
                for j in 0..<length {
                    let row = b * window + s * length + j, qRow = q + row * v
                    guard j + 1 + s < length else { qRow.update(repeating: 0, count: v); continue }
                    // ∂(w_s · mean CE)/∂logits = w_s · (q − p) / valid rows.
                    let (ce, agrees) = EagleObjective.softLabelRow(q: qRow, p: p + (b * length + j + 1 + s) * v, vocab: v,
                                                                   gradientScale: scale)
                    loss[s] += ce
                    if agrees { agree[s] += 1 }
                }
            }
        }
        for s in 0..<steps { loss[s] /= Double(max(validPerStep[s], 1)) }
        lastAccuracy = (0..<steps).map { Double(agree[$0]) / Double(max(validPerStep[$0], 1)) }
        let total = (0..<steps).reduce(0.0) { $0 + pow(Double(stepDecay), Double($1)) * loss[$1] }
        if train { backward(dlogits: q, normed: normed, rstd: rstd, batch: batch, length: length, trunkRows: n) }
        var result: [String: Double] = ["loss": total, "target_loss": Double(targetLoss)]
        for s in 0..<steps { result["step\(s)_top1"] = lastAccuracy[s]; result["step\(s)_ce"] = loss[s] }
        return result
    }

    private func backward(dlogits: UnsafePointer<Float>, normed: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                          batch: Int, length: Int, trunkRows: Int) {
        let config = network.config, d = config.width, v = config.vocab, rows = batch * steps * length
        let acts = saved["\(batch)x\(length)"]!
        let dnormed = buffer("dnormed", rows * d), seed = buffer("seed", rows * d), dg = buffer("dg", rows * d)
        let next = buffer("seed.next", rows * d)
        dnormed.update(repeating: 0, count: rows * d)
        Layers.matmulBackward(dinp: dnormed, dweight: nil, dout: dlogits, inp: normed, weight: network.outputWeights,
                              n: rows, c: d, oc: v)
        seed.update(repeating: 0, count: rows * d)
        Layers.rmsnormBackward(dinp: seed, dweight: weights.parameters.gradient(weights.finalNorm), dout: dnormed,
                               inp: buffer(name("a", steps), rows * d), weight: weights.parameters.pointer(weights.finalNorm),
                               rstd: rstd, n: rows, c: d)
        let scratch = windowScratch(batch: batch, window: steps * length)
        let dg0 = buffer("dg0", trunkRows * d)
        dg0.update(repeating: 0, count: trunkRows * d)
        for prefix in stride(from: steps, through: 1, by: -1) {
            let window = prefix * length, n = batch * window
            positions[prefix]!.withUnsafeBufferPointer { pos in
                Block.backward(weights.blockWeights(frozen: false), config: config,
                               input: buffer(name("in", prefix) + ".u", n * d), saved: acts[prefix - 1], gradient: seed,
                               positions: pos.baseAddress!, batch: batch, length: window, scratch: scratch)
            }
            weights.inputBackward(du: seed, features: buffer(name("g", prefix), n * d), rows: n, scratch: buffer,
                                  dFeatures: dg, prefix: name("in", prefix))
            // Step 0's feature gradient goes to W_fc; step s's to step s − 1's output: the next pass's seed
            // in window prefix − 1.
            let smaller = (prefix - 1) * length
            for b in 0..<batch {
                for j in 0..<length {
                    Layers.accumulate(dg0 + (b * length + j) * d, dg + (b * window + j) * d, count: d)
                }
                for s in 1..<prefix {
                    for j in 0..<length {
                        (next + (b * smaller + (s - 1) * length + j) * d).update(from: dg + (b * window + s * length + j) * d,
                                                                                 count: d)
                    }
                }
            }
            seed.update(from: next, count: batch * smaller * d)
        }
        Layers.matmulBackward(dinp: nil, dweight: weights.parameters.gradient(weights.fuse), dout: dg0,
                              inp: buffer("cat3", trunkRows * 3 * d), weight: weights.parameters.pointer(weights.fuse),
                              n: trunkRows, c: 3 * d, oc: d)
    }
}
