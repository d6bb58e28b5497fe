// Blockwise parallel decoding heads (Stern, Shazeer, Uszkoreit 2018;
// ALGORITHMS.md §5): K extra heads on the target's top feature f_t; head j
// (j = 1…K) predicts x_{t+1+j} through a residual feed-forward layer and the
// target's own (frozen, shared) unembedding:
//   h_j = f + W_out,j · SiLU(W_in,j · f),   logits_j = W_U · h_j.
// W_out starts at zero, so every head starts as the base LM head.

import Files
import Foundation
import LinAlg
import Transformer

public final class BlockwiseHeads: TrainableParameters, @unchecked Sendable {
    public let heads: Int
    public let width: Int
    public let hidden: Int
    public let parameters: UnsafeMutableBufferPointer<Float>
    public let gradients: UnsafeMutableBufferPointer<Float>
    public var decayMask: WeightDecayMask { .all }

    public init(heads: Int, width: Int, hidden: Int? = nil) {
        precondition(heads >= 1, "blockwise needs at least one extra head")
        self.heads = heads
        self.width = width
        self.hidden = hidden ?? width
        let count = heads * 2 * width * (hidden ?? width)
        parameters = .allocate(capacity: count); parameters.initialize(repeating: 0)
        gradients = .allocate(capacity: count); gradients.initialize(repeating: 0)
    }

    deinit { parameters.deallocate(); gradients.deallocate() }

    /// W_in ~ N(0, 0.02), W_out = 0 (heads start as the base head).
    public func initialize(seed: UInt64) {
        let rng = RandomSource(seed: seed)
        for j in 0..<heads {
            let w = wIn(j)
            for i in 0..<(hidden * width) { w[i] = Float(rng.normal(mean: 0, standardDeviation: 0.02)) }
            wOut(j).update(repeating: 0, count: width * hidden)
        }
    }

    /// W_in,j (hidden, width) and W_out,j (width, hidden).
    func wIn(_ j: Int) -> UnsafeMutablePointer<Float> { parameters.baseAddress! + j * 2 * width * hidden }
    func wOut(_ j: Int) -> UnsafeMutablePointer<Float> { wIn(j) + hidden * width }
    func gIn(_ j: Int) -> UnsafeMutablePointer<Float> { gradients.baseAddress! + j * 2 * width * hidden }
    func gOut(_ j: Int) -> UnsafeMutablePointer<Float> { gIn(j) + hidden * width }

    /// Head j's hidden state h_j (width) for one feature row f (width); `scratch` holds `hidden` floats.
    public func hiddenState(head j: Int, feature f: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                            into h: UnsafeMutablePointer<Float>) {
        Layers.matmulForward(out: scratch, inp: f, weight: wIn(j), n: 1, c: width, oc: hidden)
        for i in 0..<hidden { let x = scratch[i]; scratch[i] = x / (1 + Foundation.exp(-x)) }
        Layers.matmulForward(out: h, inp: scratch, weight: wOut(j), n: 1, c: hidden, oc: width)
        for i in 0..<width { h[i] += f[i] }
    }

    // MARK: safetensors

    public func save(to directory: URL, target: ModelConfig, metadata: [String: String]) throws {
        try ArtifactDirectory.prepareFolder(directory, for: "blockwise heads")
        var file = SafetensorsFile(metadata: metadata.merging(
            ["kind": "blockwise", "heads": String(heads), "width": String(width), "hidden": String(hidden),
             "target_layers": String(target.layers), "target_width": String(target.width)]) { a, _ in a })
        for j in 0..<heads {
            file.tensors.append((name: "heads.\(j).w_in", shape: [hidden, width],
                                 values: Array(UnsafeBufferPointer(start: wIn(j), count: hidden * width))))
            file.tensors.append((name: "heads.\(j).w_out", shape: [width, hidden],
                                 values: Array(UnsafeBufferPointer(start: wOut(j), count: width * hidden))))
        }
        try file.write(to: directory.appendingPathComponent("heads.safetensors"))
    }

    public static func load(from directory: URL, target: ModelConfig) throws -> BlockwiseHeads {
        let file: SafetensorsFile
        do { file = try SafetensorsFile.read(from: directory.appendingPathComponent("heads.safetensors")) } catch {
            throw ModelError("no blockwise heads at '\(directory.path)': \(error) (train them with 'speclab train-drafter --kind blockwise')")
        }
        guard file.metadata["kind"] == "blockwise", let heads = file.metadata["heads"].flatMap(Int.init),
              let width = file.metadata["width"].flatMap(Int.init), let hidden = file.metadata["hidden"].flatMap(Int.init) else {
            throw ModelError("'\(directory.path)/heads.safetensors' is not a blockwise-heads file")
        }
        guard width == target.width, file.metadata["target_layers"] == String(target.layers) else {
            throw ModelError("the heads at '\(directory.path)' were trained for a target of width \(width) and \(file.metadata["target_layers"] ?? "?") layers; this target has width \(target.width) and \(target.layers) layers")
        }
        let result = BlockwiseHeads(heads: heads, width: width, hidden: hidden)
        for j in 0..<heads {
            guard let a = file.tensor(named: "heads.\(j).w_in"), let b = file.tensor(named: "heads.\(j).w_out"),
                  a.values.count == hidden * width, b.values.count == width * hidden else {
                throw ModelError("'\(directory.path)/heads.safetensors' lacks head \(j) or has the wrong shapes")
            }
            result.wIn(j).update(from: a.values, count: a.values.count)
            result.wOut(j).update(from: b.values, count: b.values.count)
        }
        return result
    }
}

/// Trains the heads on a frozen trunk: Σ_j CE(head j at t, x_{t+1+j}) (Stern
/// et al. §4, base frozen). The trunk's forward runs once per batch; no trunk gradient.
public final class BlockwiseObjective: HeadObjective {
    public let network: Network<Float>
    public let heads: BlockwiseHeads
    private let buffer = ScratchBuffers()
    /// Top-1 accuracy of each head on the last `evaluate` call.
    public private(set) var lastAccuracy: [Double] = []
    public var extraHeadCount: Int { heads.heads }

    public init(network: Network<Float>, heads: BlockwiseHeads) {
        self.network = network
        self.heads = heads
    }

    public var trainables: [TrainableParameters] { [heads] }

    public func step(inputs: [Int32], targets: [Int32], state: TrainingState<Float>) -> [String: Double] {
        heads.gradients.update(repeating: 0)
        return run(inputs: inputs, targets: targets, state: state, train: true)
    }

    public func evaluate(inputs: [Int32], targets: [Int32], state: TrainingState<Float>) -> [String: Double] {
        // Validation in bits per byte is the base LM's (unchanged, frozen trunk); heads report accuracy.
        network.forwardTrunk(tokens: inputs, state: state)
        let base = network.languageModelLoss(targets: targets, state: state, weight: 0)
        var result = run(inputs: inputs, targets: targets, state: state, train: false, trunkDone: true)
        result["loss"] = Double(base)
        return result
    }

    private func run(inputs: [Int32], targets: [Int32], state: TrainingState<Float>, train: Bool,
                     trunkDone: Bool = false) -> [String: Double] {
        if !trunkDone { network.forwardTrunk(tokens: inputs, state: state) }
        let n = state.rows, d = heads.width, hid = heads.hidden, v = network.config.vocab
        let pre = buffer("pre", n * hid), act = buffer("act", n * hid), h = buffer("h", n * d)
        let logits = buffer("logits", n * v)
        let dh = buffer("dh", n * d), dact = buffer("dact", n * hid)
        let f = state.features
        let unembedding = network.outputWeights
        var total = 0.0
        var accuracies: [Double] = []
        for j in 0..<heads.heads {
            Layers.matmulForward(out: pre, inp: f, weight: heads.wIn(j), n: n, c: d, oc: hid)
            for i in 0..<(n * hid) { let x = pre[i]; act[i] = x / (1 + Foundation.exp(-x)) }
            Layers.matmulForward(out: h, inp: act, weight: heads.wOut(j), n: n, c: hid, oc: d)
            for i in 0..<(n * d) { h[i] += f[i] }
            Layers.matmulForward(out: logits, inp: h, weight: unembedding, n: n, c: d, oc: v)
            // Head j predicts x_{t+1+j} = targets[t + j + 1].
            let ce = ShiftedCrossEntropy.evaluate(logits: logits, targets: targets, rows: n, length: state.length,
                                                  shift: j + 1, vocab: v, scratch: buffer, gradientScale: train ? 1 : nil)
            total += ce.loss
            accuracies.append(ce.accuracy)
            guard train else { continue }
            dh.update(repeating: 0, count: n * d)
            // W_U is frozen: only the gradient into h is needed.
            Layers.matmulBackward(dinp: dh, dweight: nil, dout: logits, inp: h, weight: unembedding, n: n, c: d, oc: v)
            dact.update(repeating: 0, count: n * hid)
            Layers.matmulBackward(dinp: dact, dweight: heads.gOut(j), dout: dh, inp: act, weight: heads.wOut(j),
                                  n: n, c: hid, oc: d)
            for i in 0..<(n * hid) {
                let x = pre[i], s = 1 / (1 + Foundation.exp(-x))
                dact[i] *= s * (1 + x * (1 - s))
            }
            Layers.matmulBackward(dinp: nil, dweight: heads.gIn(j), dout: dact, inp: f, weight: heads.wIn(j),
                                  n: n, c: d, oc: hid)
        }
        lastAccuracy = accuracies
        var result: [String: Double] = ["loss": total]
        for (j, a) in accuracies.enumerated() { result["head\(j + 2)_top1"] = a }
        return result
    }
}

/// Self-speculative drafting with blockwise heads: at the node that predicted
/// the pending token r, head j proposes d_j (ALGORITHMS.md §5). Drafts are the
/// heads' argmax: deterministic candidates (V1 at T = 0, V3 at T > 0).
public final class BlockwiseDrafter: Drafter {
    public let heads: BlockwiseHeads
    public let model: InferenceModel
    public var draftLength: Int
    private var drafts: [Int32] = []
    private let scratch: UnsafeMutablePointer<Float>
    private let hiddenState: UnsafeMutablePointer<Float>
    private let logits: UnsafeMutablePointer<Float>

    public init(heads: BlockwiseHeads, model: InferenceModel, draftLength: Int? = nil) {
        self.heads = heads
        self.model = model
        self.draftLength = min(draftLength ?? heads.heads, heads.heads)
        scratch = .allocate(capacity: heads.hidden)
        hiddenState = .allocate(capacity: heads.width)
        logits = .allocate(capacity: model.config.vocab)
    }

    deinit { scratch.deallocate(); hiddenState.deallocate(); logits.deallocate() }

    public var name: String { "blockwise" }
    public func reset(prompt: [Int32], first: Int32) {}
    public func update(accepted: [Int32], extra: Int32) {}

    public func targetForwardDone(keptRows: [Int]) {
        let f = model.features + keptRows.last! * model.config.width
        drafts.removeAll(keepingCapacity: true)
        for j in 0..<draftLength {
            heads.hiddenState(head: j, feature: f, scratch: scratch, into: hiddenState)
            Layers.matmulForward(out: logits, inp: hiddenState, weight: model.network.outputWeights, n: 1,
                                 c: heads.width, oc: model.config.vocab)
            drafts.append(Int32(Sampling.argmax(UnsafeBufferPointer(start: logits, count: model.config.vocab))))
        }
    }

    public func propose(root: Int32, context: [Int32], settings: SamplingSettings, rng: RandomSource) -> DraftProposal {
        DraftProposal(tree: .chain(root: root, drafts: drafts))
    }
}
