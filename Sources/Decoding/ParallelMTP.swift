// Native parallel multi-token prediction (Gloeckle et al. 2024; ALGORITHMS.md
// §6): a shared trunk — the target's first L − 1 blocks — and n head blocks
// on its output z; head 1 is the target's own last block, heads 2..n are extra
// blocks. Every head goes through the shared final RMSNorm and unembedding:
//   P(x_{t+i} | x_{≤t}) = softmax(W_U · norm(head_i(z_t))).
// Trained with the summed loss, either as heads on a frozen trained trunk or
// jointly with the trunk from scratch; decoded self-speculatively with heads
// 2..n as drafters (each keeping its own KV cache, appended with the target's).

import Foundation
import LinAlg
import Transformer

/// The extra head blocks 2..n of a parallel-MTP model.
public final class ParallelHeads: @unchecked Sendable {
    public let config: ModelConfig
    /// n − 1: heads beyond the target's own next-token head.
    public let extraHeads: Int
    public let parameters: ParameterSet
    let offsets: [BlockOffsets]
    public static var fileName: String { file.name }

    public init(config: ModelConfig, extraHeads: Int) {
        precondition(extraHeads >= 1, "parallel MTP needs at least one extra head")
        precondition(config.layers >= 2, "parallel MTP needs a trunk of at least one block besides head 1")
        self.config = config
        self.extraHeads = extraHeads
        var layout = ParameterLayout()
        offsets = (0..<extraHeads).map { BlockOffsets.add(to: &layout, prefix: "heads.\($0 + 2)", config: config) }
        parameters = ParameterSet(layout: layout)
    }

    /// The trunk's output z is the residual stream after this many blocks.
    public var trunkBlocks: Int { config.layers - 1 }

    /// Every extra head starts as a copy of head 1 (the target's last block), so each begins as the next-token head.
    public func initialize(copying network: Network<Float>) {
        let source = network.blockWeights(config.layers - 1)
        let count = BlockOffsets.count(config: config)
        for o in offsets {
            parameters.pointer(o.start).update(from: source.parameters + source.offsets.start, count: count)
        }
    }

    /// GPT-2 initialisation, as the trunk's (for joint training from scratch).
    public func initialize(seed: UInt64) {
        parameters.initialize(seed: seed, residualScale: 1 / (2 * Double(config.layers)).squareRoot())
    }

    /// Extra head j (predicting x_{t+j+2}); frozen = no weight gradient.
    public func weights(_ j: Int, frozen: Bool = false) -> BlockWeights<Float> {
        BlockWeights(parameters: parameters.parameters.baseAddress!,
                     gradients: frozen ? nil : parameters.gradients.baseAddress!, offsets: offsets[j])
    }

    static let file = DrafterFile(name: "mtp_heads.safetensors", kind: "mtp-parallel", sizeKey: "extra_heads",
                                  what: "parallel MTP heads")

    public func save(to directory: URL, metadata: [String: String]) throws {
        try Self.file.save(parameters, to: directory, target: config, size: extraHeads, metadata: metadata)
    }

    public static func load(from directory: URL, target: ModelConfig) throws -> ParallelHeads {
        let heads = ParallelHeads(config: target, extraHeads: try file.size(in: directory))
        try file.load(heads.parameters, from: directory, target: target)
        return heads
    }
}

/// Σ_{i=1..n} w_i · CE(head i at t, x_{t+i}), averaged over valid t, with the
/// memory-efficient backward order of §6: the trunk forward once; each head in
/// turn forward, loss, backward into the head (and W_U, final norm when the
/// trunk trains), accumulating ∂L/∂z; the trunk backward once.
public final class ParallelMTPObjective: HeadObjective {
    public let network: Network<Float>
    public let heads: ParallelHeads
    /// Train the trunk (and head 1, W_U, norms) too: joint training; false: heads on a frozen trunk.
    public let trainTrunk: Bool
    /// Loss weight of head i (index 0 = head 1); the sum is Gloeckle's loss with all ones.
    public var lossWeights: [Float]
    public private(set) var lastAccuracy: [Double] = []
    public var extraHeadCount: Int { heads.extraHeads }
    private let buffer = ScratchBuffers()
    private var saved: [String: BlockActivations<Float>] = [:]

    public init(network: Network<Float>, heads: ParallelHeads, trainTrunk: Bool) {
        self.network = network
        self.heads = heads
        self.trainTrunk = trainTrunk
        lossWeights = [Float](repeating: 1, count: heads.extraHeads + 1)
    }

    public var trainables: [TrainableParameters] { trainTrunk ? [network, heads.parameters] : [heads.parameters] }

    public func step(inputs: [Int32], targets: [Int32], state: TrainingState<Float>) -> [String: Double] {
        for t in trainables { t.gradients.update(repeating: 0) }
        return run(inputs: inputs, targets: targets, state: state, train: true)
    }

    public func evaluate(inputs: [Int32], targets: [Int32], state: TrainingState<Float>) -> [String: Double] {
        var result = run(inputs: inputs, targets: targets, state: state, train: false)
        result["loss"] = result["head1_loss"]
        return result
    }

    private func activations(for state: TrainingState<Float>) -> BlockActivations<Float> {
        let key = "\(state.batch)x\(state.length)"
        if let a = saved[key] { return a }
        let a = BlockActivations<Float>(config: network.config, batch: state.batch, length: state.length)
        saved[key] = a
        return a
    }

    private func run(inputs: [Int32], targets: [Int32], state: TrainingState<Float>, train: Bool) -> [String: Double] {
        let config = network.config
        let n = state.rows, d = config.width, v = config.vocab
        network.forwardTrunk(tokens: inputs, state: state)
        let main = network.languageModelLoss(targets: targets, state: state,
                                             weight: train && trainTrunk ? lossWeights[0] : 0)
        var result: [String: Double] = ["head1_loss": Double(main)]
        var total = Double(lossWeights[0]) * Double(main)
        let z = state.residualStream(heads.trunkBlocks)
        let output = buffer("h", n * d), normalized = buffer("f", n * d), rstd = buffer("rstd", n)
        let logits = buffer("logits", n * v), dfeatures = buffer("df", n * d), dh = buffer("dh", n * d)
        let sink = buffer("sink", d)
        let saved = activations(for: state)
        var accuracies: [Double] = []
        state.positions.withUnsafeBufferPointer { pos in
            for j in 0..<heads.extraHeads {
                let w = heads.weights(j, frozen: !train)
                Block.forward(w, config: config, input: z, output: output, saved: saved, positions: pos.baseAddress!,
                              batch: state.batch, length: state.length, scratch: state.blockScratch)
                Layers.rmsnormForward(out: normalized, rstd: rstd, inp: output, weight: network.finalNormWeights, n: n, c: d,
                                      epsilon: Float(config.normEpsilon))
                Layers.matmulForward(out: logits, inp: normalized, weight: network.outputWeights, n: n, c: d, oc: v)
                // Head j + 2 predicts x_{t+j+2} = targets[t + j + 1].
                let weight = lossWeights[j + 1]
                let ce = ShiftedCrossEntropy.evaluate(logits: logits, targets: targets, rows: n, length: state.length,
                                                      shift: j + 1, vocab: v, scratch: buffer,
                                                      gradientScale: train ? weight : nil)
                total += Double(weight) * ce.loss
                accuracies.append(ce.accuracy)
                result["head\(j + 2)_loss"] = ce.loss
                result["head\(j + 2)_top1"] = ce.accuracy
                guard train, weight != 0 else { continue }
                dfeatures.update(repeating: 0, count: n * d)
                Layers.matmulBackward(dinp: dfeatures, dweight: trainTrunk ? network.outputGradients : nil, dout: logits,
                                      inp: normalized, weight: network.outputWeights, n: n, c: d, oc: v)
                dh.update(repeating: 0, count: n * d)
                Layers.rmsnormBackward(dinp: dh, dweight: trainTrunk ? network.finalNormGradients : sink, dout: dfeatures,
                                       inp: output, weight: network.finalNormWeights, rstd: rstd, n: n, c: d)
                Block.backward(w, config: config, input: z, saved: saved, gradient: dh, positions: pos.baseAddress!,
                               batch: state.batch, length: state.length, scratch: state.blockScratch)
                if trainTrunk { Layers.accumulate(state.residualGradients[heads.trunkBlocks], dh, count: n * d) }
            }
        }
        if train && trainTrunk { network.backwardTrunk(state: state) }
        lastAccuracy = accuracies
        result["loss"] = total
        return result
    }
}

/// Self-speculative drafting with parallel MTP heads: after every target
/// forward each extra head block runs over the trunk outputs z of the rows
/// that were kept (appending them to its own KV cache, in step with the
/// target's), and heads 2..γ+1 at the last kept row propose d_1..d_γ. At
/// T = 0 the drafts are the heads' argmax (V1); at T > 0 they are sampled from
/// the heads' warped distributions and verified with V2 (q = that distribution).
public final class ParallelHeadsDrafter: Drafter {
    public let heads: ParallelHeads
    public let target: InferenceModel
    public var draftLength: Int
    /// Threshold stopping (§14), from the first head on; `.never` drafts every head.
    public var stopping: DraftStopping
    /// Its own workspace over the target's weights (the target's last outputs stay intact).
    private let runner: InferenceModel
    public let caches: [KVCache]
    private var headLogits: [[Float]]
    private var distribution: [Double] = []
    private var scratch: [Double] = []
    private let gathered = ScratchBuffers()

    public init(heads: ParallelHeads, target: InferenceModel, draftLength: Int, stopping: DraftStopping = .never) {
        precondition(draftLength >= 1 && draftLength <= heads.extraHeads,
                     "draft length \(draftLength) is not in 1...\(heads.extraHeads) (the extra heads available)")
        self.heads = heads
        self.target = target
        self.draftLength = draftLength
        self.stopping = stopping
        runner = InferenceModel(network: target.network)
        caches = (0..<draftLength).map { _ in
            KVCache(layers: 1, kvHeads: target.config.kvHeads, headDim: target.config.headDim, capacity: target.config.contextLength)
        }
        headLogits = [[Float]](repeating: [], count: draftLength)
    }

    public var name: String { "mtp-parallel" }
    public var targetResidualLayers: Set<Int> { [heads.trunkBlocks] }

    public func reset(prompt: [Int32], first: Int32) {
        for cache in caches { cache.truncate(to: 0) }
    }

    public func update(accepted: [Int32], extra: Int32) {}

    public func targetForwardDone(keptRows: [Int]) {
        guard let z = target.residualStreams[heads.trunkBlocks] else {
            preconditionFailure("the target did not keep the trunk output (residual stream \(heads.trunkBlocks))")
        }
        let kept = keptRows.count, d = target.config.width
        let input = gathered("z", kept * d)
        for (i, row) in keptRows.enumerated() { (input + i * d).update(from: z + row * d, count: d) }
        for j in 0..<draftLength {
            let cache = caches[j]
            let step = SequenceStep(tokens: [Int32](repeating: 0, count: kept), cache: cache)
            runner.forwardBlocks(input: input, steps: [step], blocks: [heads.weights(j, frozen: true)])
            cache.commit(kept)
            headLogits[j] = Array(runner.logitsRow(kept - 1))
        }
    }

    /// Head j's logits at the last kept row (it predicts the token j + 1 places after the target's next one).
    public func headLogitsRow(_ j: Int) -> [Float] { headLogits[j] }

    /// Takes over another drafter's state (head caches and last logits): a beam hypothesis branching.
    public func copyState(from other: ParallelHeadsDrafter) {
        precondition(other.draftLength == draftLength && other.heads === heads, "copyState: another drafter's heads")
        for (mine, theirs) in zip(caches, other.caches) { mine.copy(from: theirs) }
        headLogits = other.headLogits
    }

    public func propose(root: Int32, context: [Int32], settings: SamplingSettings, rng: RandomSource) -> DraftProposal {
        var tree = TokenTree(root: root)
        var q: [[Double]] = [[]]
        var confidences: [Double] = [], product = 1.0
        for j in 0..<draftLength {
            let confidence = headLogits[j].withUnsafeBufferPointer {
                DraftStopping.confidence($0, settings: settings, into: &scratch)
            }
            product *= confidence
            guard stopping.passes(confidence: confidence, product: product) else { break }
            confidences.append(confidence)
            let token: Int32
            if settings.temperature == 0 {
                token = Int32(headLogits[j].withUnsafeBufferPointer { Sampling.argmax($0) })
            } else {
                headLogits[j].withUnsafeBufferPointer { Sampling.warp($0, settings, into: &distribution) }
                token = Int32(sample(distribution, uniform: rng.uniform()))
                q.append(distribution)
            }
            tree.add(token: token, parent: tree.count - 1,
                     draftProbability: settings.temperature == 0 ? 1 : distribution[Int(token)])
        }
        return DraftProposal(tree: tree, q: settings.temperature == 0 ? nil : q, drafterForwards: 0, confidences: confidences)
    }
}
