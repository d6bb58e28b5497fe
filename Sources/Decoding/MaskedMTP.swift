// Masked-input multi-token prediction with gated LoRA (Samragh et al. 2025,
// "Your LLM knows the future"; ALGORITHMS.md §8). The target itself drafts:
// k mask tokens appended after a real token at position P (positions P+1…P+k)
// run through the target with a LoRA adapter gated on mask rows; mask m_j's
// output, through a light sampler head conditioned on the previous token,
// predicts x_{P+j+1}. Real rows never see mask rows, so the target's own
// next-token outputs are unchanged bit for bit.
//
// Sampler: z = f + W_2 SiLU(W_1 [f ; E(y_prev)]), q = softmax(W_U · RMSNorm(z)), with f the
// mask row's feature (after the final norm), W_2 zero at init.
// Training (frozen target; LoRA, mask embeddings and sampler learn): every real token is
// followed by a mask block, and the loss is CE of W_U f(m_j) + CE of the sampler (teacher
// forcing: the true previous token) + ‖f(m_j) − stopgrad(f(x_{t+j}))‖² / d, each averaged over
// the mask rows whose target lies in the window.
// Decoding (quadratic, §8): each round verifies the chain [r, s_1…s_k] and carries a mask block
// after every chain node as side rows of the same forward (never committed); the block after the
// last accepted node, with the sampler fed the bonus token, gives the next round's k drafts.

import Foundation
import LinAlg
import Transformer

/// The sampler head's weights.
public final class MaskSampler: @unchecked Sendable {
    public let config: ModelConfig
    public let parameters: ParameterSet
    let w1: Int, w2: Int, norm: Int

    public init(config: ModelConfig) {
        self.config = config
        let d = config.width
        var layout = ParameterLayout()
        w1 = layout.add("sampler.w1", [d, 2 * d])
        w2 = layout.add("sampler.w2", [d, d])
        norm = layout.add("sampler.norm", [d], decays: false)
        parameters = ParameterSet(layout: layout)
    }

    /// W_1 ~ N(0, 0.02), W_2 = 0 (the sampler starts as the LM head on the mask feature), norm 1.
    public func initialize(seed: UInt64) {
        parameters.initialize(seed: seed)
        parameters.pointer(w2).update(repeating: 0, count: config.width * config.width)
    }

    /// Saved values of one forward over n rows.
    struct Saved {
        let cat, pre, act, z, normed, rstd: UnsafeMutablePointer<Float>
    }

    /// logits (n, V) of rows (f, previous token); `scratch` keeps what the backward needs.
    func forward(features f: UnsafePointer<Float>, previous: [Int32], embedding: UnsafePointer<Float>,
                 unembedding: UnsafePointer<Float>, rows n: Int, scratch: ScratchBuffers, logits: UnsafeMutablePointer<Float>) -> Saved {
        let d = config.width
        let s = Saved(cat: scratch("s.cat", n * 2 * d), pre: scratch("s.pre", n * d), act: scratch("s.act", n * d),
                      z: scratch("s.z", n * d), normed: scratch("s.normed", n * d), rstd: scratch("s.rstd", n))
        for r in 0..<n {
            (s.cat + r * 2 * d).update(from: f + r * d, count: d)
            (s.cat + r * 2 * d + d).update(from: embedding + Int(previous[r]) * d, count: d)
        }
        Layers.matmulForward(out: s.pre, inp: s.cat, weight: parameters.pointer(w1), n: n, c: 2 * d, oc: d)
        for i in 0..<(n * d) { s.act[i] = s.pre[i] / (1 + Foundation.exp(-s.pre[i])) }
        Layers.matmulForward(out: s.z, inp: s.act, weight: parameters.pointer(w2), n: n, c: d, oc: d)
        for i in 0..<(n * d) { s.z[i] += f[i] }
        Layers.rmsnormForward(out: s.normed, rstd: s.rstd, inp: s.z, weight: parameters.pointer(norm), n: n, c: d,
                              epsilon: Float(config.normEpsilon))
        Layers.matmulForward(out: logits, inp: s.normed, weight: unembedding, n: n, c: d, oc: config.vocab)
        return s
    }

    /// Backward from dlogits: the sampler's gradients accumulate; dFeatures (n, d) += ∂L/∂f.
    func backward(_ s: Saved, dlogits: UnsafePointer<Float>, unembedding: UnsafePointer<Float>, rows n: Int,
                  scratch: ScratchBuffers, dFeatures: UnsafeMutablePointer<Float>) {
        let d = config.width
        let dnormed = scratch("s.dnormed", n * d), dz = scratch("s.dz", n * d), dact = scratch("s.dact", n * d)
        let dcat = scratch("s.dcat", n * 2 * d)
        dnormed.update(repeating: 0, count: n * d)
        Layers.matmulBackward(dinp: dnormed, dweight: nil, dout: dlogits, inp: s.normed, weight: unembedding, n: n, c: d,
                              oc: config.vocab)
        dz.update(repeating: 0, count: n * d)
        Layers.rmsnormBackward(dinp: dz, dweight: parameters.gradient(norm), dout: dnormed, inp: s.z,
                               weight: parameters.pointer(norm), rstd: s.rstd, n: n, c: d)
        Layers.accumulate(dFeatures, dz, count: n * d)
        dact.update(repeating: 0, count: n * d)
        Layers.matmulBackward(dinp: dact, dweight: parameters.gradient(w2), dout: dz, inp: s.act, weight: parameters.pointer(w2),
                              n: n, c: d, oc: d)
        // SiLU'(x) = σ(x) (1 + x (1 − σ(x))).
        for i in 0..<(n * d) {
            let sigma = 1 / (1 + Foundation.exp(-s.pre[i]))
            dact[i] *= sigma * (1 + s.pre[i] * (1 - sigma))
        }
        dcat.update(repeating: 0, count: n * 2 * d)
        Layers.matmulBackward(dinp: dcat, dweight: parameters.gradient(w1), dout: dact, inp: s.cat, weight: parameters.pointer(w1),
                              n: n, c: 2 * d, oc: d)
        for r in 0..<n { Layers.accumulate(dFeatures + r * d, dcat + r * 2 * d, count: d) }
    }
}

/// The adapter (with its mask embeddings) and the sampler: what `train-drafter --kind masked-mtp` saves.
public final class MaskedMTP: @unchecked Sendable {
    public let adapter: GatedLoRA
    public let sampler: MaskSampler
    public var masks: Int { adapter.masks }

    public init(config: ModelConfig, masks: Int, rank: Int) {
        adapter = GatedLoRA(config: config, rank: rank, masks: masks)
        sampler = MaskSampler(config: config)
    }

    public func initialize(seed: UInt64) {
        adapter.initialize(seed: seed)
        sampler.initialize(seed: seed &+ 1)
    }

    static let adapterFile = DrafterFile(name: "masked_adapter.safetensors", kind: "masked-mtp", sizeKey: "masks",
                                         what: "mask tokens and gated LoRA adapter")
    static let samplerFile = DrafterFile(name: "masked_sampler.safetensors", kind: "masked-mtp", sizeKey: nil,
                                         what: "masked-MTP sampler head")

    public func save(to directory: URL, metadata: [String: String]) throws {
        let config = adapter.config
        try Self.adapterFile.save(adapter.parameters, to: directory, target: config, size: masks,
                                  metadata: metadata.merging(["rank": String(adapter.rank)]) { _, b in b })
        try Self.samplerFile.save(sampler.parameters, to: directory, target: config, size: nil, metadata: metadata)
    }

    public static func load(from directory: URL, target: ModelConfig) throws -> MaskedMTP {
        let masks = try adapterFile.size(in: directory)
        let file = directory.appendingPathComponent(adapterFile.name)
        guard let rank = (try? SafetensorsFile.read(from: file))?.metadata["rank"].flatMap(Int.init), rank >= 1 else {
            throw ModelError("'\(file.path)' does not say its LoRA rank (\(adapterFile.hint))")
        }
        let weights = MaskedMTP(config: target, masks: masks, rank: rank)
        try adapterFile.load(weights.adapter.parameters, from: directory, target: target)
        try samplerFile.load(weights.sampler.parameters, from: directory, target: target)
        return weights
    }
}

/// The training layout: each real row i of a window is followed by its mask block, row i·(k+1) + j
/// (j = 0 the real token, j ≥ 1 mask m_j at position i + j). Real rows see real rows ≤ i; mask
/// (i, j) sees real rows ≤ i and masks (i, 1…j).
public enum MaskedLayout {
    public static func visible(length: Int, masks k: Int) -> [Bool] {
        let w = length * (k + 1)
        var visible = [Bool](repeating: false, count: w * w)
        for i in 0..<length {
            for j in 0...k {
                let row = (i * (k + 1) + j) * w
                for r in 0...i { visible[row + r * (k + 1)] = true }
                if j >= 1 { for m in 1...j { visible[row + i * (k + 1) + m] = true } }
            }
        }
        return visible
    }
}

public final class MaskedMTPObjective: HeadObjective {
    public let network: Network<Float>
    public let weights: MaskedMTP
    public var latentWeight: Float = 1
    private let buffer = ScratchBuffers()
    private var saved: [String: (acts: [BlockActivations<Float>], scratch: BlockScratch<Float>, visible: [Bool])] = [:]
    public private(set) var lastAccuracy: [Double] = []
    public var extraHeadCount: Int { weights.masks }

    public init(network: Network<Float>, weights: MaskedMTP) {
        self.network = network
        self.weights = weights
    }

    public var trainables: [TrainableParameters] { [weights.adapter.parameters, weights.sampler.parameters] }

    public func step(inputs: [Int32], targets: [Int32], state: TrainingState<Float>) -> [String: Double] {
        for t in trainables { t.gradients.update(repeating: 0) }
        return run(inputs: inputs, targets: targets, state: state, train: true)
    }

    public func evaluate(inputs: [Int32], targets: [Int32], state: TrainingState<Float>) -> [String: Double] {
        var result = run(inputs: inputs, targets: targets, state: state, train: false)
        result["loss"] = result["target_loss"]
        return result
    }

    /// Features of the expanded window after `run` (row b·W + i·(k+1) + j).
    public var expandedFeatures: UnsafePointer<Float> { UnsafePointer(buffer("features", 1)) }

    private func run(inputs: [Int32], targets: [Int32], state: TrainingState<Float>, train: Bool) -> [String: Double] {
        let config = network.config, k = weights.masks, d = config.width, v = config.vocab, layers = config.layers
        let batch = state.batch, length = state.length, window = length * (k + 1), rows = batch * window
        let key = "\(batch)x\(length)"
        if saved[key] == nil {
            let acts: [BlockActivations<Float>] = (0..<layers).map { _ in BlockActivations<Float>(config: config, batch: batch, length: window) }
            let scratch = BlockScratch<Float>(config: config, batch: batch, length: window)
            saved[key] = (acts, scratch, MaskedLayout.visible(length: length, masks: k))
        }
        let cached = saved[key]!
        var positions = [Int32](repeating: 0, count: rows)
        let gate = buffer("gate", rows)
        let residual = (0...layers).map { buffer("residual\($0)", rows * d) }
        for b in 0..<batch {
            for i in 0..<length {
                for j in 0...k {
                    let row = b * window + i * (k + 1) + j
                    positions[row] = Int32(i + j)
                    gate[row] = j == 0 ? 0 : 1
                    let source: UnsafePointer<Float>
                    if j == 0 {
                        source = UnsafePointer(network.embeddingWeights + Int(inputs[b * length + i]) * d)
                    } else {
                        source = UnsafePointer(weights.adapter.maskRow(j - 1))
                    }
                    (residual[0] + row * d).update(from: source, count: d)
                }
            }
        }
        func baseBlock(_ l: Int) -> BlockWeights<Float> {
            let w = network.blockWeights(l)
            return BlockWeights(parameters: w.parameters, gradients: nil, offsets: w.offsets)
        }
        positions.withUnsafeBufferPointer { pos in
            cached.visible.withUnsafeBufferPointer { vis in
                for l in 0..<layers {
                    Block.forward(baseBlock(l), config: config, input: residual[l], output: residual[l + 1], saved: cached.acts[l],
                                  positions: pos.baseAddress!, batch: batch, length: window, scratch: cached.scratch,
                                  visible: vis.baseAddress!, adapter: weights.adapter.adapter(layer: l, gate: gate, frozen: !train))
                }
            }
        }
        let features = buffer("features", rows * d), finalRstd = buffer("finalRstd", rows)
        Layers.rmsnormForward(out: features, rstd: finalRstd, inp: residual[layers], weight: network.finalNormWeights,
                              n: rows, c: d, epsilon: Float(config.normEpsilon))
        // The target's own loss, for the report: its real rows never see a mask row, so they are the plain
        // model's features and no second trunk forward is needed.
        let realFeatures = buffer("realFeatures", batch * length * d), realLogits = buffer("realLogits", batch * length * v)
        for b in 0..<batch {
            for i in 0..<length {
                (realFeatures + (b * length + i) * d).update(from: features + (b * window + i * (k + 1)) * d, count: d)
            }
        }
        Layers.matmulForward(out: realLogits, inp: realFeatures, weight: network.outputWeights, n: batch * length, c: d, oc: v)
        let realLosses = buffer("realLosses", batch * length)
        Layers.crossEntropyForward(losses: realLosses, probs: buffer("realProbs", batch * length * v), logits: realLogits,
                                   targets: targets, n: batch * length, v: v)
        let targetLoss = (0..<(batch * length)).reduce(0.0) { $0 + Double(realLosses[$1]) } / Double(batch * length)
        // Mask rows with a target in the window: (b, i, j) with i + j < length, target x_{i+j+1}.
        var maskRows: [Int] = [], realRows: [Int] = [], labels: [Int32] = [], previous: [Int32] = [], heads: [Int] = []
        for b in 0..<batch {
            for i in 0..<length {
                for j in 1...k where i + j < length {
                    maskRows.append(b * window + i * (k + 1) + j)
                    realRows.append(b * window + (i + j) * (k + 1))
                    labels.append(targets[b * length + i + j])
                    previous.append(inputs[b * length + i + j])
                    heads.append(j - 1)
                }
            }
        }
        let n = maskRows.count
        guard n > 0 else { return ["loss": 0, "target_loss": Double(targetLoss)] }
        let f = buffer("maskFeatures", n * d)
        for (r, row) in maskRows.enumerated() { (f + r * d).update(from: features + row * d, count: d) }
        // (1) the LM head on the mask features; (2) the sampler with the true previous token.
        let lmLogits = buffer("lmLogits", n * v), samplerLogits = buffer("samplerLogits", n * v)
        Layers.matmulForward(out: lmLogits, inp: f, weight: network.outputWeights, n: n, c: d, oc: v)
        let s = weights.sampler.forward(features: f, previous: previous, embedding: network.embeddingWeights,
                                        unembedding: network.outputWeights, rows: n, scratch: buffer, logits: samplerLogits)
        let probs = buffer("probs", n * v), losses = buffer("losses", n)
        func crossEntropy(_ logits: UnsafeMutablePointer<Float>, correct: inout [Int]) -> Double {
            Layers.crossEntropyForward(losses: losses, probs: probs, logits: logits, targets: labels, n: n, v: v)
            var total = 0.0
            for r in 0..<n {
                total += Double(losses[r])
                if Sampling.argmax(UnsafeBufferPointer(start: probs + r * v, count: v)) == Int(labels[r]) { correct[heads[r]] += 1 }
            }
            // The logits buffer becomes ∂(mean CE)/∂logits.
            Layers.crossEntropyBackward(dlogits: logits, probs: probs, targets: labels, n: n, v: v, scale: 1 / Float(n))
            return total / Double(n)
        }
        var lmCorrect = [Int](repeating: 0, count: k), samplerCorrect = [Int](repeating: 0, count: k)
        let lmLoss = crossEntropy(lmLogits, correct: &lmCorrect)
        let samplerLoss = crossEntropy(samplerLogits, correct: &samplerCorrect)
        // (3) latent consistency against the (stopped) real row that predicts the same token.
        let dF = buffer("dF", n * d)
        var latent = 0.0
        for (r, row) in realRows.enumerated() {
            for c in 0..<d {
                let diff = f[r * d + c] - features[row * d + c]
                latent += Double(diff * diff)
                dF[r * d + c] = latentWeight * 2 * diff / Float(n * d)
            }
        }
        latent /= Double(n * d)
        let perHead = (0..<k).map { j in max(heads.filter { $0 == j }.count, 1) }
        lastAccuracy = (0..<k).map { Double(samplerCorrect[$0]) / Double(perHead[$0]) }
        let total = lmLoss + samplerLoss + Double(latentWeight) * latent
        if train {
            Layers.matmulBackward(dinp: dF, dweight: nil, dout: lmLogits, inp: f, weight: network.outputWeights, n: n, c: d, oc: v)
            weights.sampler.backward(s, dlogits: samplerLogits, unembedding: network.outputWeights, rows: n, scratch: buffer,
                                     dFeatures: dF)
            let dFeatures = buffer("dFeatures", rows * d), dx = buffer("dx", rows * d), sink = buffer("sink", d)
            dFeatures.update(repeating: 0, count: rows * d)
            for (r, row) in maskRows.enumerated() { Layers.accumulate(dFeatures + row * d, dF + r * d, count: d) }
            dx.update(repeating: 0, count: rows * d)
            Layers.rmsnormBackward(dinp: dx, dweight: sink, dout: dFeatures, inp: residual[layers], weight: network.finalNormWeights,
                                   rstd: finalRstd, n: rows, c: d)
            positions.withUnsafeBufferPointer { pos in
                for l in stride(from: layers - 1, through: 0, by: -1) {
                    Block.backward(baseBlock(l), config: config, input: residual[l], saved: cached.acts[l], gradient: dx,
                                   positions: pos.baseAddress!, batch: batch, length: window, scratch: cached.scratch,
                                   adapter: weights.adapter.adapter(layer: l, gate: gate, frozen: false))
                }
            }
            // The mask embeddings learn from their rows (the real embedding is frozen).
            for b in 0..<batch {
                for i in 0..<length {
                    for j in 1...k {
                        let row = b * window + i * (k + 1) + j
                        Layers.accumulate(weights.adapter.parameters.gradient(weights.adapter.maskEmbedding + (j - 1) * d),
                                          dx + row * d, count: d)
                    }
                }
            }
        }
        var result: [String: Double] = ["loss": total, "lm_ce": lmLoss, "sampler_ce": samplerLoss, "latent": latent,
                                        "target_loss": Double(targetLoss)]
        for j in 0..<k {
            result["head\(j + 2)_top1"] = lastAccuracy[j]
            result["mask\(j + 1)_lm_top1"] = Double(lmCorrect[j]) / Double(perHead[j])
        }
        return result
    }
}

/// Where masked decoding puts its mask blocks (Samragh et al. 2025 §3.3).
public enum MaskedDecoding: String, Sendable {
    /// A block after every chain node: whichever node is accepted last, its block drafts the next round;
    /// (k + 1)² rows a verify.
    case quadratic
    /// One block, after the last chain node: it drafts the next round only when every draft was accepted;
    /// after a rejection the next round verifies the bonus token alone with a fresh block (2k + 1 rows, then k + 1).
    case linear
}

/// Masked decoding (§8): the target drafts for itself. Each round's chain [r, s_1…s_k] carries mask
/// blocks as side rows (after every node, or after the last); after verification, the block after the
/// last accepted node (if it has one) and the sampler (fed the bonus token, then its own drafts) give k
/// new drafts. A round with no block to read — the first after a prefill, and in the linear mode the one
/// after a rejection — drafts nothing.
public final class MaskedMTPDrafter: Drafter {
    public let weights: MaskedMTP
    public let target: InferenceModel
    /// Drafts per round (≤ the mask tokens).
    public let draftLength: Int
    public let mode: MaskedDecoding
    private var maskFeatures: [Float]? = nil
    /// The chain's length in the last proposal, and the chain nodes that carried a mask block.
    private var sideAnchors = 0
    private var anchorNodes: [Int] = []
    private let scratch = ScratchBuffers()

    public init(weights: MaskedMTP, target: InferenceModel, draftLength: Int? = nil, mode: MaskedDecoding = .quadratic) {
        self.weights = weights
        self.target = target
        self.draftLength = min(draftLength ?? weights.masks, weights.masks)
        self.mode = mode
        precondition(self.draftLength >= 1, "masked MTP drafts at least one token")
        target.adapter = weights.adapter
    }

    public var name: String { mode == .quadratic ? "masked-mtp" : "masked-mtp-linear" }

    public func reset(prompt: [Int32], first: Int32) {
        maskFeatures = nil
        sideAnchors = 0
    }

    public func update(accepted: [Int32], extra: Int32) {}

    public func targetForwardDone(keptRows: [Int]) {
        guard sideAnchors > 0, let base = keptRows.first else { maskFeatures = nil; return }
        // keptRows are the accepted chain's rows (root first); the side rows follow the chain's, one block
        // per anchor node in order. The last accepted node drafts next only if it carried a block.
        let k = draftLength, d = target.config.width
        guard let block = anchorNodes.firstIndex(of: keptRows.last! - base) else {
            maskFeatures = nil
            sideAnchors = 0
            return
        }
        var features = [Float](repeating: 0, count: k * d)
        for j in 0..<k {
            let row = base + sideAnchors + block * k + j
            for c in 0..<d { features[j * d + c] = target.features[row * d + c] }
        }
        maskFeatures = features
        sideAnchors = 0
    }

    public func propose(root: Int32, context: [Int32], settings: SamplingSettings, rng: RandomSource) -> DraftProposal {
        let k = draftLength, d = target.config.width, v = target.config.vocab
        var drafts: [Int32] = [], probabilities: [Double] = []
        var q: [[Double]] = [[]]
        if let maskFeatures {
            var previous = root
            let logits = scratch("logits", v)
            for j in 0..<k {
                maskFeatures.withUnsafeBufferPointer { f in
                    _ = weights.sampler.forward(features: f.baseAddress! + j * d, previous: [previous],
                                                embedding: target.network.embeddingWeights,
                                                unembedding: target.network.outputWeights, rows: 1, scratch: scratch, logits: logits)
                }
                let row = UnsafeBufferPointer(start: logits, count: v)
                let token: Int32
                if settings.temperature == 0 {
                    token = Int32(Sampling.argmax(row))
                    probabilities.append(1)
                } else {
                    var distribution: [Double] = []
                    Sampling.warp(row, settings, into: &distribution)
                    token = Int32(sample(distribution, uniform: rng.uniform()))
                    probabilities.append(distribution[Int(token)])
                    q.append(distribution)
                }
                drafts.append(token)
                previous = token
            }
        }
        let tree = TokenTree.chain(root: root, drafts: drafts, probabilities: probabilities)
        // A mask block m_1…m_k (ids vocab…vocab + k − 1) after every chain node, or after the last.
        anchorNodes = mode == .quadratic ? Array(0..<tree.count) : [tree.count - 1]
        var tokens: [Int32] = [], parents: [Int] = []
        for (block, anchor) in anchorNodes.enumerated() {
            for j in 0..<k {
                tokens.append(Int32(v + j))
                parents.append(j == 0 ? anchor : tree.count + block * k + j - 1)
            }
        }
        sideAnchors = tree.count
        return DraftProposal(tree: tree, q: settings.temperature == 0 || drafts.isEmpty ? nil : q,
                             drafterForwards: 0, sideRows: SideRows(tokens: tokens, parents: parents))
    }
}
