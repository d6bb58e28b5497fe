// Medusa heads (Cai et al. 2024; ALGORITHMS.md §9): K heads on the target's
// top feature f; head k predicts x_{t+1+k} through one residual SiLU layer and
// its own unembedding, initialised as a copy of W_U:
//   z_k = f + SiLU(W_1,k f + b_1,k)      (W_1 = 0, b = 0 at init: z = f)
//   logits_k = W_2,k z_k
// so every head starts as the base LM head. Candidates form Medusa's sparse
// tree: node [i_1, …, i_k] is "the i_1-th choice of head 1, then the i_2-th of
// head 2, …", chosen greedily by the calibration accuracy Π_k acc_k(i_k).
// Medusa-1 trains the heads on the frozen base; Medusa-2 fine-tunes the base
// jointly (L_LM + λ_0 Σ_k 0.8^k CE_k) after a heads-only warm-up.
// Hydra heads (Ankner et al. 2024; §9) are the same heads made sequentially
// dependent: head k also reads the embeddings of the tokens on its path,
//   z_k = f + SiLU(W_1,k [f ; E(x_{t+1}) ; … ; E(x_{t+k})] + b_1,k),
// so sibling subtrees get different continuations (one head evaluation per
// tree node with children, instead of one per depth).

import Foundation
import LinAlg
import Transformer

public final class MedusaHeads: @unchecked Sendable {
    public let config: ModelConfig
    public let heads: Int
    /// Hydra: head k (0-based) also reads the embeddings of the k + 1 tokens before its target.
    public let conditioned: Bool
    public let parameters: ParameterSet
    let w1: [Int], b1: [Int], w2: [Int]
    /// acc[k][i]: calibration probability that the i-th ranked token of head k is the true token.
    public var accuracies: [[Double]] = []
    public static var fileName: String { file.name }
    /// Ranks per head whose accuracy is measured (and offered to the sparse tree).
    public static let ranks = 4

    public init(config: ModelConfig, heads: Int, conditioned: Bool = false) {
        precondition(heads >= 1, "Medusa needs at least one head")
        self.config = config
        self.heads = heads
        self.conditioned = conditioned
        let d = config.width, v = config.vocab
        var layout = ParameterLayout()
        var w1: [Int] = [], b1: [Int] = [], w2: [Int] = []
        for k in 1...heads {
            w1.append(layout.add("medusa.\(k).w1", [d, d * (conditioned ? k + 2 : 1)]))
            b1.append(layout.add("medusa.\(k).b1", [d], decays: false))
            w2.append(layout.add("medusa.\(k).unembedding", [v, d]))
        }
        self.w1 = w1; self.b1 = b1; self.w2 = w2
        parameters = ParameterSet(layout: layout)
    }

    /// W_1 = 0, b_1 = 0 and W_2 = W_U: every head outputs the base LM head's logits.
    public func initialize(copying network: Network<Float>) {
        let d = config.width, v = config.vocab
        for k in 0..<heads {
            parameters.pointer(w1[k]).update(repeating: 0, count: d * inputWidth(head: k))
            parameters.pointer(b1[k]).update(repeating: 0, count: d)
            parameters.pointer(w2[k]).update(from: network.outputWeights, count: v * d)
        }
    }

    /// Width of head k's input: d, or (Hydra) d · (k + 2) for [f ; the k + 1 path embeddings].
    func inputWidth(head k: Int) -> Int { config.width * (conditioned ? k + 2 : 1) }

    /// Hydra's input rows [f ; E(path tokens)] (rows, inputWidth); `path[r]` holds row r's k + 1 tokens.
    func conditionedInput(head k: Int, features f: UnsafePointer<Float>, path: [[Int32]], embedding: UnsafePointer<Float>,
                          into u: UnsafeMutablePointer<Float>) {
        let d = config.width, width = inputWidth(head: k)
        for (r, tokens) in path.enumerated() {
            precondition(tokens.count == k + 1, "Hydra head \(k + 1) reads \(k + 1) path tokens")
            (u + r * width).update(from: f + r * d, count: d)
            for (i, token) in tokens.enumerated() { (u + r * width + (i + 1) * d).update(from: embedding + Int(token) * d, count: d) }
        }
    }

    /// Head k's (0-based) logits for `rows` feature rows; `pre` and `z` (rows, d) keep the activations.
    /// Hydra heads take `input` (rows, inputWidth) from `conditionedInput`; Medusa's read f.
    func forward(head k: Int, features f: UnsafePointer<Float>, rows n: Int, pre: UnsafeMutablePointer<Float>,
                 z: UnsafeMutablePointer<Float>, logits: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>? = nil) {
        let d = config.width, v = config.vocab
        precondition(!conditioned || input != nil, "a Hydra head needs its path input")
        Layers.matmulForward(out: pre, inp: input ?? f, weight: parameters.pointer(w1[k]), n: n, c: inputWidth(head: k), oc: d)
        let b = parameters.pointer(b1[k])
        for r in 0..<n {
            for c in 0..<d {
                let x = pre[r * d + c] + b[c]
                pre[r * d + c] = x
                z[r * d + c] = f[r * d + c] + x / (1 + Foundation.exp(-x))
            }
        }
        Layers.matmulForward(out: logits, inp: z, weight: parameters.pointer(w2[k]), n: n, c: d, oc: v)
    }

    static let file = DrafterFile(name: "medusa.safetensors", kind: "medusa", sizeKey: "heads", what: "Medusa heads")
    static let hydraFile = DrafterFile(name: "hydra.safetensors", kind: "hydra", sizeKey: "heads", what: "Hydra heads")

    public func save(to directory: URL, metadata: [String: String]) throws {
        var all = metadata
        all["accuracies"] = accuracies.map { $0.map { String(format: "%.5f", $0) }.joined(separator: " ") }.joined(separator: ";")
        try (conditioned ? Self.hydraFile : Self.file).save(parameters, to: directory, target: config, size: heads, metadata: all)
    }

    public static func load(from directory: URL, target: ModelConfig, conditioned: Bool = false) throws -> MedusaHeads {
        let file = conditioned ? hydraFile : self.file
        let heads = MedusaHeads(config: target, heads: try file.size(in: directory), conditioned: conditioned)
        let metadata = try file.load(heads.parameters, from: directory, target: target)
        heads.accuracies = (metadata["accuracies"] ?? "").split(separator: ";").map {
            $0.split(separator: " ").compactMap { Double($0) }
        }
        return heads
    }

    /// Medusa's sparse tree of `size` nodes: greedily the path [i_1, …, i_k] of highest Π_k acc_k(i_k)
    /// among the children of the nodes chosen so far (values fall along a path, so the set stays
    /// closed under ancestors). Paths are returned in the order chosen.
    public func sparseTree(size: Int) -> [[Int]] {
        guard !accuracies.isEmpty else { return EagleTree.chain(min(size, heads)) }
        var chosen: [[Int]] = []
        var frontier: [([Int], Double)] = accuracies[0].enumerated().map { ([$0.offset], $0.element) }
        while chosen.count < size, let best = frontier.indices.max(by: { frontier[$0].1 < frontier[$1].1 }) {
            let (path, value) = frontier.remove(at: best)
            chosen.append(path)
            if path.count < heads {
                for (i, a) in accuracies[path.count].enumerated() { frontier.append((path + [i], value * a)) }
            }
        }
        return chosen
    }
}

/// Σ_k λ_k CE(head k at t, x_{t+1+k}), λ_k = `decay`^k; with `trainTrunk` the base's LM loss is
/// added and the trunk trains too (Medusa-2), after `warmupSteps` of heads only.
public final class MedusaObjective: HeadObjective {
    public let network: Network<Float>
    public let heads: MedusaHeads
    public let trainTrunk: Bool
    public var decay: Double = 0.8
    /// Medusa-2: λ_0, the heads' weight against the LM loss.
    public var headsWeight: Float = 0.2
    public var warmupSteps: Int
    public private(set) var stepsTaken = 0
    public private(set) var lastAccuracy: [Double] = []
    /// Accuracy of the i-th ranked token of each head on the last `evaluate` call.
    public private(set) var lastRankAccuracy: [[Double]] = []
    public var extraHeadCount: Int { heads.heads }
    private let buffer = ScratchBuffers()

    public init(network: Network<Float>, heads: MedusaHeads, trainTrunk: Bool, warmupSteps: Int = 0) {
        self.network = network
        self.heads = heads
        self.trainTrunk = trainTrunk
        self.warmupSteps = warmupSteps
    }

    private var trunkTrains: Bool { trainTrunk && stepsTaken >= warmupSteps }

    public var trainables: [TrainableParameters] { trainTrunk ? [network, heads.parameters] : [heads.parameters] }

    public func step(inputs: [Int32], targets: [Int32], state: TrainingState<Float>) -> [String: Double] {
        for t in trainables { t.gradients.update(repeating: 0) }
        defer { stepsTaken += 1 }
        return run(inputs: inputs, targets: targets, state: state, train: true)
    }

    public func evaluate(inputs: [Int32], targets: [Int32], state: TrainingState<Float>) -> [String: Double] {
        var result = run(inputs: inputs, targets: targets, state: state, train: false)
        result["loss"] = result["lm_loss"]
        return result
    }

    private func run(inputs: [Int32], targets: [Int32], state: TrainingState<Float>, train: Bool) -> [String: Double] {
        let config = network.config
        let n = state.rows, d = config.width, v = config.vocab, length = state.length
        network.forwardTrunk(tokens: inputs, state: state)
        let lm = network.languageModelLoss(targets: targets, state: state, weight: train && trunkTrains ? 1 : 0)
        let f = state.features
        let pre = buffer("pre", n * d), z = buffer("z", n * d), logits = buffer("logits", n * v)
        let dz = buffer("dz", n * d)
        let widest = heads.inputWidth(head: heads.heads - 1)
        let input = buffer("input", n * widest), dinput = buffer("dinput", n * widest)
        var total = trunkTrains ? Double(lm) : 0
        var accuracies: [Double] = [], rankAccuracy: [[Double]] = []
        var result: [String: Double] = ["lm_loss": Double(lm)]
        for k in 0..<heads.heads {
            if heads.conditioned {
                // Teacher forcing: head k reads the true x_{t+1} … x_{t+1+k} (targets[t] … targets[t + k]).
                let path = (0..<n).map { row -> [Int32] in
                    (0...k).map { i in row % length + i < length ? targets[row + i] : 0 }
                }
                heads.conditionedInput(head: k, features: f, path: path, embedding: network.embeddingWeights, into: input)
            }
            heads.forward(head: k, features: f, rows: n, pre: pre, z: z, logits: logits, input: heads.conditioned ? input : nil)
            if !train {
                // Rank accuracies for the sparse tree: is the i-th ranked token the true x_{t+2+k}?
                var hits = [Int](repeating: 0, count: MedusaHeads.ranks), count = 0
                for row in 0..<n where row % length + k + 1 < length {
                    let truth = Int(targets[row + k + 1])
                    let l = logits + row * v
                    var above = 0
                    for x in 0..<v where l[x] > l[truth] || (l[x] == l[truth] && x < truth) { above += 1 }
                    if above < MedusaHeads.ranks { hits[above] += 1 }
                    count += 1
                }
                rankAccuracy.append(hits.map { Double($0) / Double(max(count, 1)) })
            }
            // Head k + 1 (1-based) predicts x_{t+2+k} = targets[t + k + 1].
            let weight = Float(Foundation.pow(decay, Double(k + 1))) * (trainTrunk ? headsWeight : 1)
            let ce = ShiftedCrossEntropy.evaluate(logits: logits, targets: targets, rows: n, length: length, shift: k + 1,
                                                  vocab: v, scratch: buffer, gradientScale: train ? weight : nil)
            total += Double(weight) * ce.loss
            accuracies.append(ce.accuracy)
            result["head\(k + 2)_top1"] = ce.accuracy
            guard train else { continue }
            dz.update(repeating: 0, count: n * d)
            Layers.matmulBackward(dinp: dz, dweight: heads.parameters.gradient(heads.w2[k]), dout: logits, inp: z,
                                  weight: heads.parameters.pointer(heads.w2[k]), n: n, c: d, oc: v)
            // z = f + SiLU(pre): ∂pre = ∂z · SiLU'(pre); ∂f = ∂z + ∂pre · W_1.
            let dpre = pre  // reuse after reading pre
            for i in 0..<(n * d) {
                let x = pre[i], s = 1 / (1 + Foundation.exp(-x))
                dpre[i] = dz[i] * s * (1 + x * (1 - s))
            }
            let db = heads.parameters.gradient(heads.b1[k])
            for r in 0..<n { for c in 0..<d { db[c] += dpre[r * d + c] } }
            if heads.conditioned {
                // ∂f = ∂z + the f columns of ∂pre · W_1 (the embeddings are frozen).
                let width = heads.inputWidth(head: k)
                if trunkTrains { dinput.update(repeating: 0, count: n * width) }
                Layers.matmulBackward(dinp: trunkTrains ? dinput : nil, dweight: heads.parameters.gradient(heads.w1[k]),
                                      dout: dpre, inp: input, weight: heads.parameters.pointer(heads.w1[k]), n: n, c: width, oc: d)
                if trunkTrains { for r in 0..<n { Layers.accumulate(dz + r * d, dinput + r * width, count: d) } }
            } else {
                Layers.matmulBackward(dinp: trunkTrains ? dz : nil, dweight: heads.parameters.gradient(heads.w1[k]), dout: dpre,
                                      inp: f, weight: heads.parameters.pointer(heads.w1[k]), n: n, c: d, oc: d)
            }
            if trunkTrains { Layers.accumulate(state.featureGradients, dz, count: n * d) }
        }
        if train && trunkTrains { network.backwardTrunk(state: state) }
        lastAccuracy = accuracies
        if !train { lastRankAccuracy = rankAccuracy }
        result["loss"] = total
        return result
    }
}

/// Medusa drafting: at the last accepted node the heads' top tokens fill the
/// sparse tree (a node's token depends only on its depth and rank). Candidates
/// are deterministic: V1 at T = 0, V3 at T > 0, or the lossy typical acceptance (V5).
public final class MedusaDrafter: Drafter {
    public let heads: MedusaHeads
    public let target: InferenceModel
    public let choices: [[Int]]
    private var topTokens: [[Int32]] = []
    private let buffer = ScratchBuffers()

    public init(heads: MedusaHeads, target: InferenceModel, choices: [[Int]]) {
        precondition((try? EagleTree.validate(choices)) != nil, "invalid Medusa tree")
        precondition((choices.map(\.count).max() ?? 0) <= heads.heads, "the tree is deeper than the heads")
        self.heads = heads
        self.target = target
        self.choices = choices
    }

    public var name: String { heads.conditioned ? "hydra" : "medusa" }
    public func reset(prompt: [Int32], first: Int32) {}
    public func update(accepted: [Int32], extra: Int32) {}
    /// Hydra: the feature of the last accepted node.
    private var feature: [Float] = []

    /// The `ranks` top tokens of head k for one row (its input given or f).
    private func rankedTokens(head k: Int, features f: UnsafePointer<Float>, input: UnsafePointer<Float>?, ranks: Int) -> [Int32] {
        let d = heads.config.width, v = heads.config.vocab
        let pre = buffer("pre", d), z = buffer("z", d), logits = buffer("logits", v)
        heads.forward(head: k, features: f, rows: 1, pre: pre, z: z, logits: logits, input: input)
        let order = (0..<v).sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        return order.prefix(ranks).map { Int32($0) }
    }

    public func targetForwardDone(keptRows: [Int]) {
        let d = heads.config.width
        let f = target.features + keptRows.last! * d
        if heads.conditioned {
            feature = Array(UnsafeBufferPointer(start: f, count: d))
            return
        }
        let ranksNeeded = (choices.map { $0.max() ?? 0 }.max() ?? 0) + 1
        let depth = choices.map(\.count).max() ?? 0
        topTokens = (0..<depth).map { k in rankedTokens(head: k, features: f, input: nil, ranks: ranksNeeded) }
    }

    public func propose(root: Int32, context: [Int32], settings: SamplingSettings, rng: RandomSource) -> DraftProposal {
        var tree = TokenTree(root: root)
        var index: [[Int]: Int] = [[]: 0]
        // Hydra: each node with children evaluates the next head on its own path.
        var children: [[Int]: [Int32]] = [:]
        let ranksNeeded = (choices.map { $0.max() ?? 0 }.max() ?? 0) + 1
        var forwards = 0
        // Parents before children, siblings in rank order.
        for path in choices.sorted(by: { $0.count != $1.count ? $0.count < $1.count : $0.lexicographicallyPrecedes($1) }) {
            let parentPath = Array(path.dropLast())
            guard let parent = index[parentPath] else { continue }
            let token: Int32
            if heads.conditioned {
                if children[parentPath] == nil {
                    let k = parentPath.count
                    let pathTokens = tree.path(to: parent).map { tree.tokens[$0] }
                    let input = buffer("input", heads.inputWidth(head: k))
                    children[parentPath] = feature.withUnsafeBufferPointer { f in
                        heads.conditionedInput(head: k, features: f.baseAddress!, path: [pathTokens],
                                               embedding: target.network.embeddingWeights, into: input)
                        return rankedTokens(head: k, features: f.baseAddress!, input: input, ranks: ranksNeeded)
                    }
                    forwards += 1
                }
                token = children[parentPath]![path.last!]
            } else {
                token = topTokens[path.count - 1][path.last!]
            }
            index[path] = tree.add(token: token, parent: parent)
        }
        return DraftProposal(tree: tree, drafterForwards: forwards)
    }
}
