// Sequential multi-token prediction (DeepSeek-V3 §2.2; ALGORITHMS.md §7): D
// modules keep the full causal chain at each depth. Module k at position i:
//   u_i^k = M_k [ RMSNorm_h(h_i^{k−1}) ; RMSNorm_e(E(x_{i+k})) ]     (M_k: d × 2d)
//   h^k = TRM_k(u^k)                                                 (one causal block)
//   P^k(x_{i+k+1}) = softmax(W_U · RMSNorm_out(h_i^k))               (shared E and W_U)
// with h^0 the target's last block output (before the final norm). Loss
// L_MTP = (λ/D) Σ_k L^k, added to the main loss when the trunk trains.

import Foundation
import LinAlg
import Transformer

/// Offsets of one module's tensors.
struct ModuleOffsets {
    var hiddenNorm = 0, embeddingNorm = 0, projection = 0, outputNorm = 0
    var block = BlockOffsets()
}

/// D sequential MTP modules for a target.
public final class SequentialModules: @unchecked Sendable {
    public let config: ModelConfig
    public let depth: Int
    public let parameters: ParameterSet
    let offsets: [ModuleOffsets]
    public static var fileName: String { file.name }

    public init(config: ModelConfig, depth: Int) {
        precondition(depth >= 1, "sequential MTP needs at least one module")
        self.config = config
        self.depth = depth
        var layout = ParameterLayout()
        let d = config.width
        offsets = (1...depth).map { k in
            var o = ModuleOffsets()
            o.hiddenNorm = layout.add("modules.\(k).hidden_norm", [d], decays: false)
            o.embeddingNorm = layout.add("modules.\(k).embedding_norm", [d], decays: false)
            // The hidden half first, as the paper writes it.
            o.projection = layout.add("modules.\(k).projection", [d, 2 * d])
            o.block = BlockOffsets.add(to: &layout, prefix: "modules.\(k).block", config: config)
            o.outputNorm = layout.add("modules.\(k).output_norm", [d], decays: false)
            return o
        }
        parameters = ParameterSet(layout: layout)
    }

    /// GPT-2 initialisation (every matrix N(0, 0.02), norms 1), for joint training from scratch.
    public func initialize(seed: UInt64) {
        parameters.initialize(seed: seed, residualScale: 1 / (2 * Double(config.layers)).squareRoot())
    }

    /// For a trained, frozen target: each module's block starts as a copy of the
    /// target's last block and its output norm as the target's final norm; M_k
    /// passes the hidden half through (identity) and starts the embedding half at N(0, 0.02).
    public func initialize(copying network: Network<Float>, seed: UInt64) {
        initialize(seed: seed)
        let d = config.width
        let source = network.blockWeights(config.layers - 1)
        for o in offsets {
            parameters.pointer(o.block.start).update(from: source.parameters + source.offsets.start,
                                                     count: BlockOffsets.count(config: config))
            parameters.pointer(o.outputNorm).update(from: network.finalNormWeights, count: d)
            let m = parameters.pointer(o.projection)
            for r in 0..<d {
                for c in 0..<d { m[r * 2 * d + c] = r == c ? 1 : 0 }
            }
        }
    }

    func blockWeights(_ m: Int, frozen: Bool = false) -> BlockWeights<Float> {
        BlockWeights(parameters: parameters.parameters.baseAddress!,
                     gradients: frozen ? nil : parameters.gradients.baseAddress!, offsets: offsets[m].block)
    }

    func p(_ offset: Int) -> UnsafeMutablePointer<Float> { parameters.pointer(offset) }
    func g(_ offset: Int) -> UnsafeMutablePointer<Float> { parameters.gradient(offset) }

    /// u (rows, d) = M [RMSNorm_h(h) ; RMSNorm_e(E(tokens))] for module m (0-based); saves the
    /// normalised halves in `concatenated` (rows, 2d) and the norms' rstd when given.
    func input(module m: Int, hidden h: UnsafePointer<Float>, tokens: [Int32], embedding: UnsafePointer<Float>,
               rows n: Int, embedded e: UnsafeMutablePointer<Float>, concatenated cat: UnsafeMutablePointer<Float>,
               hiddenRstd: UnsafeMutablePointer<Float>, embeddingRstd: UnsafeMutablePointer<Float>,
               normScratch: UnsafeMutablePointer<Float>, output u: UnsafeMutablePointer<Float>) {
        let d = config.width, eps = Float(config.normEpsilon), o = offsets[m]
        tokens.withUnsafeBufferPointer { tok in
            Layers.embeddingForward(out: e, tokens: tok.baseAddress!, table: embedding, n: n, c: d)
        }
        Layers.rmsnormForward(out: normScratch, rstd: hiddenRstd, inp: h, weight: p(o.hiddenNorm), n: n, c: d, epsilon: eps)
        for r in 0..<n { (cat + r * 2 * d).update(from: normScratch + r * d, count: d) }
        Layers.rmsnormForward(out: normScratch, rstd: embeddingRstd, inp: e, weight: p(o.embeddingNorm), n: n, c: d, epsilon: eps)
        for r in 0..<n { (cat + r * 2 * d + d).update(from: normScratch + r * d, count: d) }
        Layers.matmulForward(out: u, inp: cat, weight: p(o.projection), n: n, c: 2 * d, oc: d)
    }

    static let file = DrafterFile(name: "mtp_modules.safetensors", kind: "mtp-sequential", sizeKey: "depth",
                                  what: "sequential MTP modules")

    public func save(to directory: URL, metadata: [String: String]) throws {
        try Self.file.save(parameters, to: directory, target: config, size: depth, metadata: metadata)
    }

    public static func load(from directory: URL, target: ModelConfig) throws -> SequentialModules {
        let modules = SequentialModules(config: target, depth: try file.size(in: directory))
        try file.load(modules.parameters, from: directory, target: target)
        return modules
    }
}

/// L_main (when the trunk trains) + (λ/D) Σ_k L^k. λ follows DeepSeek-V3's
/// schedule scaled to the run: `lambda` for the first two thirds of the steps,
/// `finalLambda` for the last third.
public final class SequentialMTPObjective: HeadObjective {
    public let network: Network<Float>
    public let modules: SequentialModules
    public let trainTrunk: Bool
    public var lambda: Float
    public var finalLambda: Float
    public let totalSteps: Int
    public private(set) var stepsTaken = 0
    public private(set) var lastAccuracy: [Double] = []
    public var extraHeadCount: Int { modules.depth }
    private let buffer = ScratchBuffers()
    private var saved: [String: [BlockActivations<Float>]] = [:]

    public init(network: Network<Float>, modules: SequentialModules, trainTrunk: Bool, totalSteps: Int,
                lambda: Float = 0.3, finalLambda: Float = 0.1) {
        self.network = network
        self.modules = modules
        self.trainTrunk = trainTrunk
        self.totalSteps = totalSteps
        self.lambda = lambda
        self.finalLambda = finalLambda
    }

    public var trainables: [TrainableParameters] { trainTrunk ? [network, modules.parameters] : [modules.parameters] }

    /// λ at the current step.
    public var currentLambda: Float { stepsTaken * 3 >= totalSteps * 2 ? finalLambda : lambda }

    public func step(inputs: [Int32], targets: [Int32], state: TrainingState<Float>) -> [String: Double] {
        for t in trainables { t.gradients.update(repeating: 0) }
        defer { stepsTaken += 1 }
        return run(inputs: inputs, targets: targets, state: state, train: true)
    }

    public func evaluate(inputs: [Int32], targets: [Int32], state: TrainingState<Float>) -> [String: Double] {
        var result = run(inputs: inputs, targets: targets, state: state, train: false)
        result["loss"] = result["main_loss"]
        return result
    }

    private func activations(for state: TrainingState<Float>) -> [BlockActivations<Float>] {
        let key = "\(state.batch)x\(state.length)"
        if let a = saved[key] { return a }
        let a = (0..<modules.depth).map { _ in
            BlockActivations<Float>(config: network.config, batch: state.batch, length: state.length)
        }
        saved[key] = a
        return a
    }

    private func run(inputs: [Int32], targets: [Int32], state: TrainingState<Float>, train: Bool) -> [String: Double] {
        let config = network.config
        let n = state.rows, d = config.width, v = config.vocab, length = state.length, depth = modules.depth
        let eps = Float(config.normEpsilon)
        network.forwardTrunk(tokens: inputs, state: state)
        let main = network.languageModelLoss(targets: targets, state: state, weight: train && trainTrunk ? 1 : 0)
        let weight = currentLambda / Float(depth)
        var result: [String: Double] = ["main_loss": Double(main), "lambda": Double(currentLambda)]
        var total = (trainTrunk ? Double(main) : 0)
        let acts = activations(for: state)
        let logits = buffer("logits", n * v), dfeatures = buffer("df", n * d), normScratch = buffer("normScratch", n * d)
        func named(_ name: String, _ m: Int, _ count: Int) -> UnsafeMutablePointer<Float> { buffer("\(name).\(m)", count) }
        var tokens: [[Int32]] = []
        var accuracies: [Double] = []
        state.positions.withUnsafeBufferPointer { pos in
            // Forward every module, and the gradient of its own loss w.r.t. its output h^k.
            for m in 0..<depth {
                let k = m + 1
                let hPrev = m == 0 ? state.residualStream(config.layers) : UnsafePointer(named("h", m - 1, n * d))
                // E(x_{i+k}) = the input token k places on; rows past the window read token 0 (their loss is masked).
                tokens.append((0..<n).map { row in row % length + k < length ? inputs[row + k] : 0 })
                let u = named("u", m, n * d), h = named("h", m, n * d)
                modules.input(module: m, hidden: hPrev, tokens: tokens[m], embedding: network.embeddingWeights, rows: n,
                              embedded: named("e", m, n * d), concatenated: named("cat", m, n * 2 * d),
                              hiddenRstd: named("rstdH", m, n), embeddingRstd: named("rstdE", m, n),
                              normScratch: normScratch, output: u)
                Block.forward(modules.blockWeights(m, frozen: !train), config: config, input: u, output: h,
                              saved: acts[m], positions: pos.baseAddress!, batch: state.batch, length: length,
                              scratch: state.blockScratch)
                let f = named("f", m, n * d), rstdO = named("rstdO", m, n)
                Layers.rmsnormForward(out: f, rstd: rstdO, inp: h, weight: modules.p(modules.offsets[m].outputNorm),
                                      n: n, c: d, epsilon: eps)
                Layers.matmulForward(out: logits, inp: f, weight: network.outputWeights, n: n, c: d, oc: v)
                // Module k at i predicts x_{i+k+1} = targets[i + k].
                let ce = ShiftedCrossEntropy.evaluate(logits: logits, targets: targets, rows: n, length: length, shift: k,
                                                      vocab: v, scratch: buffer, gradientScale: train ? weight : nil)
                total += Double(weight) * ce.loss
                accuracies.append(ce.accuracy)
                result["module\(k)_loss"] = ce.loss
                result["head\(k + 1)_top1"] = ce.accuracy
                guard train else { continue }
                dfeatures.update(repeating: 0, count: n * d)
                Layers.matmulBackward(dinp: dfeatures, dweight: trainTrunk ? network.outputGradients : nil, dout: logits,
                                      inp: f, weight: network.outputWeights, n: n, c: d, oc: v)
                let dh = named("dh", m, n * d)
                dh.update(repeating: 0, count: n * d)
                Layers.rmsnormBackward(dinp: dh, dweight: modules.g(modules.offsets[m].outputNorm), dout: dfeatures,
                                       inp: h, weight: modules.p(modules.offsets[m].outputNorm), rstd: rstdO, n: n, c: d)
            }
            guard train else { return }
            // Backward from the deepest module down: module k's input gradient w.r.t. h^{k−1} joins
            // module k−1's own; module 1's goes to the trunk's last residual stream.
            let dcat = buffer("dcat", n * 2 * d), dhalf = buffer("dhalf", n * d), de = buffer("de", n * d)
            let carry = buffer("carry", n * d)
            carry.update(repeating: 0, count: n * d)
            for m in stride(from: depth - 1, through: 0, by: -1) {
                let o = modules.offsets[m]
                let dh = named("dh", m, n * d)
                Layers.accumulate(dh, carry, count: n * d)
                let u = named("u", m, n * d)
                Block.backward(modules.blockWeights(m), config: config, input: u, saved: acts[m], gradient: dh,
                               positions: pos.baseAddress!, batch: state.batch, length: length, scratch: state.blockScratch)
                dcat.update(repeating: 0, count: n * 2 * d)
                Layers.matmulBackward(dinp: dcat, dweight: modules.g(o.projection), dout: dh, inp: named("cat", m, n * 2 * d),
                                      weight: modules.p(o.projection), n: n, c: 2 * d, oc: d)
                let hPrev = m == 0 ? state.residualStream(config.layers) : UnsafePointer(named("h", m - 1, n * d))
                for r in 0..<n { (dhalf + r * d).update(from: dcat + r * 2 * d, count: d) }
                carry.update(repeating: 0, count: n * d)
                Layers.rmsnormBackward(dinp: carry, dweight: modules.g(o.hiddenNorm), dout: dhalf, inp: hPrev,
                                       weight: modules.p(o.hiddenNorm), rstd: named("rstdH", m, n), n: n, c: d)
                for r in 0..<n { (dhalf + r * d).update(from: dcat + r * 2 * d + d, count: d) }
                de.update(repeating: 0, count: n * d)
                Layers.rmsnormBackward(dinp: de, dweight: modules.g(o.embeddingNorm), dout: dhalf, inp: named("e", m, n * d),
                                       weight: modules.p(o.embeddingNorm), rstd: named("rstdE", m, n), n: n, c: d)
                if trainTrunk {
                    tokens[m].withUnsafeBufferPointer { tok in
                        Layers.embeddingBackward(dtable: network.embeddingGradients, dout: de, tokens: tok.baseAddress!,
                                                 n: n, c: d)
                    }
                }
            }
            if trainTrunk { Layers.accumulate(state.residualGradients[config.layers], carry, count: n * d) }
        }
        if train && trainTrunk { network.backwardTrunk(state: state) }
        lastAccuracy = accuracies
        result["loss"] = total
        return result
    }
}

/// Sequential MTP modules as drafters of depth γ ≤ D (§7). Each module keeps
/// its own KV cache and lags the target: module k's row at position i needs
/// x_{i+k}, so it holds only the rows whose token is known. Each round, with t
/// the last committed position and r = x_{t+1} the pending root, module k runs
/// over positions from its committed length to t: rows with i + k ≤ t + 1 use
/// true tokens and h^{k−1} and are committed; the rest use this round's drafts
/// and are recomputed next round. Module k's row at t proposes d_k.
public final class SequentialMTPDrafter: Drafter {
    public let modules: SequentialModules
    public let target: InferenceModel
    public var draftLength: Int
    /// Threshold stopping (adaptive length, §14), from the first module on; `.never` drafts every module.
    public var stopping: DraftStopping
    private let runner: InferenceModel
    public let caches: [KVCache]
    /// history[k][i] = h_i^k (k = 0: the target's last block output), (capacity, d).
    private let history: [UnsafeMutablePointer<Float>]
    /// Positions with a true h^0 (= the target's committed length).
    private var historyLength = 0
    private var distribution: [Double] = []
    private var scratch: [Double] = []
    private var workspace = ScratchBuffers()

    public init(modules: SequentialModules, target: InferenceModel, draftLength: Int, stopping: DraftStopping = .never) {
        precondition(draftLength >= 1 && draftLength <= modules.depth,
                     "draft length \(draftLength) is not in 1...\(modules.depth) (the modules available)")
        self.modules = modules
        self.target = target
        self.draftLength = draftLength
        self.stopping = stopping
        runner = InferenceModel(network: target.network)
        let capacity = target.config.contextLength
        caches = (0..<draftLength).map { _ in KVCache(layers: 1, kvHeads: target.config.kvHeads, headDim: target.config.headDim, capacity: capacity) }
        history = (0...draftLength).map { _ in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: capacity * target.config.width)
            p.initialize(repeating: 0, count: capacity * target.config.width)
            return p
        }
    }

    deinit { for p in history { p.deallocate() } }

    public var name: String { "mtp-sequential" }
    public var targetResidualLayers: Set<Int> { [target.config.layers] }

    public func reset(prompt: [Int32], first: Int32) {
        for cache in caches { cache.truncate(to: 0) }
        historyLength = 0
    }

    public func update(accepted: [Int32], extra: Int32) {}

    public func targetForwardDone(keptRows: [Int]) {
        guard let h0 = target.residualStreams[target.config.layers] else {
            preconditionFailure("the target did not keep its last block output")
        }
        let d = target.config.width
        for row in keptRows {
            (history[0] + historyLength * d).update(from: h0 + row * d, count: d)
            historyLength += 1
        }
    }

    public func propose(root: Int32, context: [Int32], settings: SamplingSettings, rng: RandomSource) -> DraftProposal {
        let t = context.count - 1
        precondition(historyLength == t + 1, "sequential MTP drafter out of step with the target")
        let d = target.config.width
        var tree = TokenTree(root: root)
        var q: [[Double]] = [[]]
        var drafts: [Int32] = []
        var confidences: [Double] = [], product = 1.0
        var forwards = 0
        func known(_ position: Int) -> Int32 {
            position <= t ? context[position] : position == t + 1 ? root : drafts[position - t - 2]
        }
        for m in 0..<draftLength {
            let k = m + 1, cache = caches[m]
            let start = cache.length, rows = t - start + 1
            let tokens = (start...t).map { known($0 + k) }
            let u = workspace("u", rows * d)
            modules.input(module: m, hidden: history[m] + start * d, tokens: tokens, embedding: target.network.embeddingWeights,
                          rows: rows, embedded: workspace("e", rows * d), concatenated: workspace("cat", rows * 2 * d),
                          hiddenRstd: workspace("rstdH", rows), embeddingRstd: workspace("rstdE", rows),
                          normScratch: workspace("norm", rows * d), output: u)
            runner.forwardBlocks(input: u, steps: [SequenceStep(tokens: tokens, cache: cache)],
                                 blocks: [modules.blockWeights(m, frozen: true)],
                                 finalNorm: modules.p(modules.offsets[m].outputNorm))
            forwards += 1
            (history[k] + start * d).update(from: runner.hiddenStates, count: rows * d)
            // Rows with true tokens: i + k ≤ t + 1.
            cache.commit(max(0, min(rows, t + 2 - k - start)))
            let logits = runner.logitsRow(rows - 1)
            let confidence = DraftStopping.confidence(logits, settings: settings, into: &scratch)
            product *= confidence
            guard stopping.passes(confidence: confidence, product: product) else { break }
            confidences.append(confidence)
            let token: Int32
            if settings.temperature == 0 {
                token = Int32(Sampling.argmax(logits))
            } else {
                Sampling.warp(logits, settings, into: &distribution)
                token = Int32(sample(distribution, uniform: rng.uniform()))
            }
            drafts.append(token)
            tree.add(token: token, parent: tree.count - 1,
                     draftProbability: settings.temperature == 0 ? 1 : distribution[Int(token)])
            if settings.temperature > 0 { q.append(distribution) }
        }
        return DraftProposal(tree: tree, q: settings.temperature == 0 ? nil : q, drafterForwards: forwards,
                             confidences: confidences)
    }
}
