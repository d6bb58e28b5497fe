// EAGLE-1 / EAGLE-2 (Li et al. 2024a, 2024b; ALGORITHMS.md §10–11): a
// feature-level autoregressive drafter. Element j pairs the target's top
// feature f_j with the next token x_{j+1}:
//   u_j = W_fc [E(x_{j+1}) ; f_j] + b      (2d → d; E the target's frozen embedding)
//   f̂_{j+1} = Block(u_j)                   (one decoder block, causal over j, own RoPE position j)
//   q(x_{j+2}) = softmax(W_U f̂_{j+1})      (the target's frozen unembedding)
// Trained on the frozen target with SmoothL1(f̂, f) + 0.1 · CE(p, q) (soft
// label: the target's own distribution) and uniform noise on the input
// features. One drafter serves a static tree (EAGLE-1) and the dynamic,
// context-aware tree (EAGLE-2). Our block keeps its first RMSNorm (EAGLE drops it).

import Foundation
import LinAlg
import Transformer

public final class EagleWeights: SingleFileWeights, @unchecked Sendable {
    public let config: ModelConfig
    public let parameters: ParameterSet
    let fc: Int, bias: Int
    let block: BlockOffsets

    public init(config: ModelConfig) {
        self.config = config
        let d = config.width
        var layout = ParameterLayout()
        fc = layout.add("fc.weight", [d, 2 * d])
        bias = layout.add("fc.bias", [d], decays: false)
        block = BlockOffsets.add(to: &layout, prefix: "block", config: config)
        parameters = ParameterSet(layout: layout)
    }

    /// W_fc passes the feature half through (identity) and starts the embedding half at N(0, 0.02);
    /// the block starts as a copy of the target's last block.
    public func initialize(copying network: Network<Float>, seed: UInt64) {
        parameters.initialize(seed: seed, residualScale: 1 / (2 * Double(config.layers)).squareRoot())
        let d = config.width
        let source = network.blockWeights(config.layers - 1)
        parameters.pointer(block.start).update(from: source.parameters + source.offsets.start,
                                               count: BlockOffsets.count(config: config))
        let w = parameters.pointer(fc)
        for r in 0..<d { for c in 0..<d { w[r * 2 * d + d + c] = r == c ? 1 : 0 } }
        parameters.pointer(bias).update(repeating: 0, count: d)
    }

    func blockWeights(frozen: Bool) -> BlockWeights<Float> {
        BlockWeights(parameters: parameters.parameters.baseAddress!,
                     gradients: frozen ? nil : parameters.gradients.baseAddress!, offsets: block)
    }

    /// u (rows, d) = W_fc [E(tokens) ; features] + b; `concatenated` (rows, 2d) keeps the input.
    func input(tokens: [Int32], features: UnsafePointer<Float>, embedding: UnsafePointer<Float>, rows n: Int,
               concatenated cat: UnsafeMutablePointer<Float>, output u: UnsafeMutablePointer<Float>) {
        let d = config.width
        for r in 0..<n {
            (cat + r * 2 * d).update(from: embedding + Int(tokens[r]) * d, count: d)
            (cat + r * 2 * d + d).update(from: features + r * d, count: d)
        }
        Layers.matmulForward(out: u, inp: cat, weight: parameters.pointer(fc), n: n, c: 2 * d, oc: d)
        let b = parameters.pointer(bias)
        for r in 0..<n { for c in 0..<d { u[r * d + c] += b[c] } }
    }

    static let file = DrafterFile(name: "eagle.safetensors", kind: "eagle", sizeKey: nil, what: "EAGLE drafter weights")
    public static var fileName: String { file.name }

    public func save(to directory: URL, metadata: [String: String]) throws { try saveFile(to: directory, metadata: metadata) }

    public static func load(from directory: URL, target: ModelConfig) throws -> EagleWeights {
        try loadFile(from: directory, target: target)
    }
}

/// SmoothL1(f̂_{j+1}, f_{j+1}) + w_cls · CE(softmax(W_U f_{j+1}), softmax(W_U f̂_{j+1})), averaged over
/// the rows whose next feature lies in the window; noise U(−a, a) with a = `noise` · RMS(f) on the input features.
public final class EagleObjective: HeadObjective {
    public let network: Network<Float>
    public let weights: EagleWeights
    public var classificationWeight: Float = 0.1
    /// Input-feature noise amplitude as a fraction of the features' RMS (ALGORITHMS.md §10: 1–5%).
    public var noise: Float
    private let rng: RandomSource
    private let buffer = ScratchBuffers()
    private var saved: [String: BlockActivations<Float>] = [:]
    public private(set) var lastAccuracy: [Double] = []
    public var extraHeadCount: Int { 1 }

    public init(network: Network<Float>, weights: EagleWeights, noise: Float = 0.02, seed: UInt64 = 1) {
        self.network = network
        self.weights = weights
        self.noise = noise
        rng = RandomSource(seed: seed)
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

    private func run(inputs: [Int32], targets: [Int32], state: TrainingState<Float>, train: Bool) -> [String: Double] {
        let config = network.config
        let n = state.rows, d = config.width, v = config.vocab, length = state.length
        network.forwardTrunk(tokens: inputs, state: state)
        let targetLoss = network.languageModelLoss(targets: targets, state: state, weight: 0)
        let f = state.features
        // The target's distribution at every row: the soft label of the row before.
        let p = buffer("p", n * v)
        Layers.matmulForward(out: p, inp: f, weight: network.outputWeights, n: n, c: d, oc: v)
        Self.softmaxRows(p, rows: n, vocab: v)
        let noisy = buffer("noisy", n * d)
        noisy.update(from: f, count: n * d)
        if train && noise > 0 {
            var sum: Float = 0
            for i in 0..<(n * d) { sum += f[i] * f[i] }
            let amplitude = noise * (sum / Float(n * d)).squareRoot()
            for i in 0..<(n * d) { noisy[i] += amplitude * Float(2 * rng.uniform() - 1) }
        }
        let cat = buffer("cat", n * 2 * d), u = buffer("u", n * d), predicted = buffer("fhat", n * d)
        weights.input(tokens: targets, features: noisy, embedding: network.embeddingWeights, rows: n,
                      concatenated: cat, output: u)
        let key = "\(state.batch)x\(length)"
        let acts = saved[key] ?? BlockActivations<Float>(config: config, batch: state.batch, length: length)
        saved[key] = acts
        let block = weights.blockWeights(frozen: !train)
        state.positions.withUnsafeBufferPointer { pos in
            Block.forward(block, config: config, input: u, output: predicted, saved: acts, positions: pos.baseAddress!,
                          batch: state.batch, length: length, scratch: state.blockScratch)
        }
        let q = buffer("q", n * v)
        Layers.matmulForward(out: q, inp: predicted, weight: network.outputWeights, n: n, c: d, oc: v)
        Self.softmaxRows(q, rows: n, vocab: v)
        // Row j predicts f_{j+1}: valid when j + 1 < length.
        var valid = 0, regression = 0.0, classification = 0.0, agree = 0
        let dq = q  // overwritten in place by the logits gradient
        let dfeature = buffer("dfhat", n * d)
        dfeature.update(repeating: 0, count: n * d)
        let rowsValid = (0..<n).filter { $0 % length + 1 < length }
        valid = rowsValid.count
        let scale = 1 / Float(max(valid, 1))
        for row in 0..<n {
            let qRow = q + row * v
            guard row % length + 1 < length else {
                qRow.update(repeating: 0, count: v)
                continue
            }
            let pNext = p + (row + 1) * v, fNext = f + (row + 1) * d, fHat = predicted + row * d
            let (ce, agrees) = Self.softLabelRow(q: qRow, p: pNext, vocab: v, gradientScale: classificationWeight * scale)
            classification += ce
            if agrees { agree += 1 }
            for c in 0..<d {
                let diff = fHat[c] - fNext[c]
                regression += Double(abs(diff) < 1 ? 0.5 * diff * diff : abs(diff) - 0.5)
                dfeature[row * d + c] = (abs(diff) < 1 ? diff : (diff > 0 ? 1 : -1)) * scale / Float(d)
            }
        }
        regression /= Double(max(valid, 1) * d)
        classification /= Double(max(valid, 1))
        let accuracy = Double(agree) / Double(max(valid, 1))
        lastAccuracy = [accuracy]
        let total = regression + Double(classificationWeight) * classification
        if train {
            Layers.matmulBackward(dinp: dfeature, dweight: nil, dout: dq, inp: predicted, weight: network.outputWeights,
                                  n: n, c: d, oc: v)
            state.positions.withUnsafeBufferPointer { pos in
                Block.backward(block, config: config, input: u, saved: acts, gradient: dfeature, positions: pos.baseAddress!,
                               batch: state.batch, length: length, scratch: state.blockScratch)
            }
            // dfeature now holds ∂L/∂u: W_fc and b get their gradients.
            Layers.matmulBackward(dinp: nil, dweight: weights.parameters.gradient(weights.fc), dout: dfeature, inp: cat,
                                  weight: weights.parameters.pointer(weights.fc), n: n, c: 2 * d, oc: d)
            let db = weights.parameters.gradient(weights.bias)
            for r in 0..<n { for c in 0..<d { db[c] += dfeature[r * d + c] } }
        }
        return ["loss": total, "regression": regression, "classification": classification,
                "target_loss": Double(targetLoss), "head2_top1": accuracy]
    }

    /// One row of the soft-label loss CE(p, q) = −Σ p log q with q = softmax(logits): returns the loss and
    /// whether q's and p's top tokens agree, and overwrites q with gradientScale · ∂CE/∂logits = scale · (q − p).
    static func softLabelRow(q: UnsafeMutablePointer<Float>, p: UnsafePointer<Float>, vocab v: Int,
                             gradientScale: Float) -> (loss: Double, agrees: Bool) {
        var ce = 0.0, bestQ = 0, bestP = 0
        for x in 0..<v {
            ce -= Double(p[x]) * Foundation.log(Double(max(q[x], 1e-30)))
            if q[x] > q[bestQ] { bestQ = x }
            if p[x] > p[bestP] { bestP = x }
        }
        for x in 0..<v { q[x] = gradientScale * (q[x] - p[x]) }
        return (ce, bestQ == bestP)
    }

    static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, vocab v: Int) {
        for r in 0..<rows {
            let row = x + r * v
            var maximum = -Float.infinity
            for i in 0..<v where row[i] > maximum { maximum = row[i] }
            var sum: Float = 0
            for i in 0..<v { row[i] = Foundation.exp(row[i] - maximum); sum += row[i] }
            for i in 0..<v { row[i] /= sum }
        }
    }
}

/// How an EAGLE drafter shapes its tree.
public enum EagleTree: Sendable, Equatable {
    /// EAGLE-1: a fixed shape given as paths of child ranks from the root ([0], [1], [0, 0], …).
    case fixed([[Int]])
    /// EAGLE-2: expand the `topK` best frontier nodes for `depth` levels, keep the best `size` nodes by path probability.
    case dynamic(topK: Int, depth: Int, size: Int)

    /// The 25-node EAGLE-1 reference tree (ALGORITHMS.md §10).
    public static let eagle25: [[Int]] = [
        [0], [1], [2], [3],
        [0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [2, 0], [2, 1], [3, 0],
        [0, 0, 0], [0, 0, 1], [0, 0, 2], [0, 1, 0], [0, 1, 1], [0, 2, 0], [0, 2, 1], [1, 0, 0],
        [0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 2],
        [0, 0, 0, 0, 0], [0, 0, 0, 0, 1],
    ]

    /// A reduced 10-node tree of depth 4 (the 25-node shape's most valuable paths).
    public static let eagle10: [[Int]] = [
        [0], [1], [2], [0, 0], [0, 1], [1, 0], [0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 0, 0],
    ]

    /// Drafted nodes per round (the root excluded); a dynamic tree's size.
    public var nodes: Int {
        switch self {
        case .fixed(let choices): return choices.count
        case .dynamic(_, _, let size): return size
        }
    }

    /// A chain of γ drafts: [0], [0, 0], ….
    public static func chain(_ length: Int) -> [[Int]] { (1...max(1, length)).map { [Int](repeating: 0, count: $0) } }

    /// Checks that every path's parent path is listed before it and that each node's child ranks
    /// are 0, 1, …, k − 1 (every draw kept: V4 conditions each sibling on the ones drawn before it).
    public static func validate(_ choices: [[Int]]) throws {
        var seen: Set<[Int]> = [[]]
        for path in choices {
            guard !path.isEmpty, path.allSatisfy({ $0 >= 0 }) else { throw ModelError("tree path \(path) is empty or has a negative rank") }
            guard seen.contains(Array(path.dropLast())) else {
                throw ModelError("tree path \(path) comes before its parent \(Array(path.dropLast()))")
            }
            guard !seen.contains(path) else { throw ModelError("tree path \(path) is listed twice") }
            seen.insert(path)
        }
        for (parent, paths) in Dictionary(grouping: choices, by: { Array($0.dropLast()) }) {
            let ranks = paths.map { $0.last! }.sorted()
            guard ranks == Array(0..<ranks.count) else {
                throw ModelError("the children of tree node \(parent) have ranks \(ranks); they must be 0…\(ranks.count - 1)")
            }
        }
    }
}

/// The EAGLE drafter at decode time. Its KV cache holds entries computed from
/// true target features only (pairs (f_i, x_{i+1}) for committed positions i);
/// each round it first catches up on the newly committed positions (the last
/// pair being (f_t, r) with the pending root r), whose output starts the tree.
/// Tree levels are fed one drafter forward per depth, at drafter position
/// t + depth, each node with its parent's predicted feature, attending to the
/// committed entries and to its own ancestors among the tentative rows.
public final class EagleDrafter: Drafter {
    /// EAGLE-1's or EAGLE-3's drafter (`FeatureDrafter`); the tree code is the same.
    public let weights: FeatureDrafter
    public let target: InferenceModel
    public let tree: EagleTree
    private let runner: InferenceModel
    public let cache: KVCache
    private let history: UnsafeMutablePointer<Float>
    private var historyLength = 0
    private let workspace = ScratchBuffers()
    private let method: String

    public init(weights: FeatureDrafter, target: InferenceModel, tree: EagleTree, name: String? = nil) {
        self.weights = weights
        self.target = target
        self.tree = tree
        if case .fixed(let choices) = tree { precondition((try? EagleTree.validate(choices)) != nil, "invalid tree \(choices)") }
        runner = InferenceModel(network: target.network)
        let capacity = target.config.contextLength
        cache = KVCache(layers: 1, kvHeads: target.config.kvHeads, headDim: target.config.headDim, capacity: capacity + 512)
        history = .allocate(capacity: capacity * target.config.width)
        history.initialize(repeating: 0, count: capacity * target.config.width)
        if case .dynamic = tree, weights.family == "eagle1" { method = name ?? "eagle2" } else { method = name ?? weights.family }
    }

    deinit { history.deallocate() }

    public var name: String { method }

    public func reset(prompt: [Int32], first: Int32) {
        cache.truncate(to: 0)
        historyLength = 0
    }

    public func update(accepted: [Int32], extra: Int32) {}

    public var targetResidualLayers: Set<Int> { weights.targetResidualLayers }

    public func targetForwardDone(keptRows: [Int]) {
        let d = target.config.width
        for row in keptRows {
            weights.targetFeature(target, row: row, into: history + historyLength * d)
            historyLength += 1
        }
    }

    /// A node being drafted: its token, tree parent (draft index, −1 = root), path score Σ log q, and
    /// once fed, its predicted feature and warped q for its children.
    private struct Node {
        var token: Int32
        var parent: Int
        var depth: Int
        var score: Double
        var draftProbability: Double
        var q: [Double]?          // sampled draws: the distribution its siblings were drawn from
        var feature: [Float] = []
        var childDistribution: [Double] = []
        var slot = -1             // tentative cache row (order of feeding), −1 = not fed
    }

    /// Runs the drafter over `rows` (tokens and input features) at `positions`; returns (features, warped q) per row.
    private func run(tokens: [Int32], features: UnsafePointer<Float>, positions: [Int32], treeLevel: Bool, pendingRows: Int,
                     pendingVisible: [Bool], settings: SamplingSettings) -> [([Float], [Double])] {
        let d = target.config.width, n = tokens.count
        let u = weights.inputRows(tokens: tokens, features: features, embedding: target.network.embeddingWeights, rows: n,
                                  scratch: workspace)
        // Catch-up rows are a causal chain; the nodes of one tree level see only themselves among the new rows.
        let mask: AttentionMask = treeLevel ? .ancestors(parents: [Int](repeating: -1, count: n)) : .causal
        runner.forwardBlocks(input: u, steps: [SequenceStep(tokens: tokens, positions: positions, mask: mask, cache: cache,
                                                            pendingRows: pendingRows, pendingVisible: pendingVisible)],
                             blocks: [weights.inferenceBlock], finalNorm: weights.outputNorm,
                             normalize: weights.outputNorm != nil)
        // q is the warped draft distribution (§2.6); at T = 0 the plain softmax ranks and scores the candidates.
        let warped = settings.temperature == 0 ? SamplingSettings(temperature: 1) : settings
        return (0..<n).map { r in
            var q: [Double] = []
            Sampling.warp(runner.logitsRow(r), warped, into: &q)
            return (Array(UnsafeBufferPointer(start: runner.hiddenStates + r * d, count: d)), q)
        }
    }

    public func propose(root: Int32, context: [Int32], settings: SamplingSettings, rng: RandomSource) -> DraftProposal {
        let t = context.count - 1, d = target.config.width
        precondition(historyLength == t + 1, "EAGLE drafter out of step with the target")
        // Catch-up: pairs (f_i, x_{i+1}) for the positions not yet in the cache, the last being (f_t, r).
        let start = cache.length
        let catchUpTokens = (start...t).map { $0 < t ? context[$0 + 1] : root }
        let caught = run(tokens: catchUpTokens, features: history + start * d,
                         positions: (start...t).map { Int32($0) }, treeLevel: false, pendingRows: 0, pendingVisible: [],
                         settings: settings)
        cache.commit(caught.count)
        var forwards = 1
        let rootFeature = caught.last!.0, rootQ = caught.last!.1
        // Greedy and dynamic trees take top-ranked tokens (point masses: V1 / V3); a fixed tree at T > 0
        // draws its children from q without replacement (V4), as EAGLE-1 does.
        let sampled: Bool
        if case .fixed = tree { sampled = settings.temperature > 0 } else { sampled = false }
        var nodes: [Node] = []
        func children(of parentIndex: Int, distribution q: [Double], count: Int, parentScore: Double, depth: Int) -> [Node] {
            var remaining = q
            var result: [Node] = []
            for _ in 0..<min(count, q.filter { $0 > 0 }.count) {
                let mass = remaining.reduce(0, +)
                guard mass > 1e-12 else { break }
                let token = sampled ? sample(remaining, uniform: rng.uniform())
                                    : remaining.indices.max { remaining[$0] < remaining[$1] || (remaining[$0] == remaining[$1] && $0 > $1) }!
                result.append(Node(token: Int32(token), parent: parentIndex, depth: depth,
                                   score: parentScore + Foundation.log(max(q[token], 1e-300)),
                                   draftProbability: remaining[token] / mass, q: sampled ? q : nil))
                remaining[token] = 0
            }
            return result
        }
        var fedRows = 0
        /// Feeds `indices` (nodes of one depth) in one drafter forward; stores their features and child distributions.
        func feed(_ indices: [Int]) {
            guard !indices.isEmpty else { return }
            let depth = nodes[indices[0]].depth
            let input = workspace("features", indices.count * d)
            for (r, i) in indices.enumerated() {
                let parentFeature = nodes[i].parent < 0 ? rootFeature : nodes[nodes[i].parent].feature
                (input + r * d).update(from: parentFeature, count: d)
            }
            var visible = [Bool](repeating: false, count: indices.count * fedRows)
            for (r, i) in indices.enumerated() {
                var a = nodes[i].parent
                while a >= 0 { visible[r * fedRows + nodes[a].slot] = true; a = nodes[a].parent }
            }
            let out = run(tokens: indices.map { nodes[$0].token }, features: input,
                          positions: [Int32](repeating: Int32(t + depth), count: indices.count), treeLevel: true,
                          pendingRows: fedRows,
                          pendingVisible: visible, settings: settings)
            for (r, i) in indices.enumerated() {
                nodes[i].feature = out[r].0
                nodes[i].childDistribution = out[r].1
                nodes[i].slot = fedRows + r
            }
            fedRows += indices.count
            forwards += 1
        }
        let selected: [Int]
        switch tree {
        case .fixed(let choices):
            // Node for each path; a path's children come from its node's distribution in rank order.
            var index: [[Int]: Int] = [:]
            let maxDepth = choices.map(\.count).max() ?? 0
            for depth in 1...max(1, maxDepth) {
                let paths = choices.filter { $0.count == depth }
                // Feed the parents of this depth (nodes at depth − 1 that have children), then draw the children.
                let parents = Set(paths.map { Array($0.dropLast()) }).filter { !$0.isEmpty }.compactMap { index[$0] }.sorted()
                feed(parents.filter { nodes[$0].slot < 0 })
                let byParent = Dictionary(grouping: paths) { Array($0.dropLast()) }
                for parentPath in byParent.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                    let parentIndex = parentPath.isEmpty ? -1 : index[parentPath]!
                    let q = parentIndex < 0 ? rootQ : nodes[parentIndex].childDistribution
                    let ranks = byParent[parentPath]!.map { $0.last! }
                    let drawn = children(of: parentIndex, distribution: q, count: (ranks.max() ?? 0) + 1,
                                         parentScore: parentIndex < 0 ? 0 : nodes[parentIndex].score, depth: depth)
                    for path in byParent[parentPath]!.sorted(by: { $0.last! < $1.last! }) where path.last! < drawn.count {
                        nodes.append(drawn[path.last!])
                        index[path] = nodes.count - 1
                    }
                }
            }
            selected = Array(nodes.indices)
        case .dynamic(let topK, let depth, let size):
            var frontier: [Int] = []
            for node in children(of: -1, distribution: rootQ, count: topK, parentScore: 0, depth: 1) {
                nodes.append(node)
                frontier.append(nodes.count - 1)
            }
            for _ in 0..<depth {
                feed(frontier)
                var pool: [Int] = []
                for u in frontier {
                    for child in children(of: u, distribution: nodes[u].childDistribution, count: topK,
                                          parentScore: nodes[u].score, depth: nodes[u].depth + 1) {
                        nodes.append(child)
                        pool.append(nodes.count - 1)
                    }
                }
                // Stable: equal scores keep creation order.
                frontier = Array(pool.sorted { nodes[$0].score > nodes[$1].score || (nodes[$0].score == nodes[$1].score && $0 < $1) }
                    .prefix(topK))
            }
            // The best `size` of every drafted node, by score; ties to creation order (a parent precedes its child).
            selected = nodes.indices.sorted { nodes[$0].score > nodes[$1].score || (nodes[$0].score == nodes[$1].score && $0 < $1) }
                .prefix(size).sorted()
        }
        // Build the verified tree from the selected nodes (parents precede children: creation order).
        var tokenTree = TokenTree(root: root)
        var q: [[Double]] = [[]]
        var treeIndex: [Int: Int] = [-1: 0]
        for i in selected {
            guard let parent = treeIndex[nodes[i].parent] else { continue }
            treeIndex[i] = tokenTree.add(token: nodes[i].token, parent: parent, draftProbability: nodes[i].draftProbability)
            q.append(nodes[i].q ?? [])
        }
        return DraftProposal(tree: tokenTree, q: sampled ? q : nil, drafterForwards: forwards)
    }
}
