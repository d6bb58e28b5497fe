import Foundation
import LinAlg
import Testing
@testable import Decoding
@testable import Transformer

/// An EAGLE drafter initialised from the target (copy of its last block) plus noise.
func eagleWeights(_ model: InferenceModel, spread: Double, seed: UInt64) -> EagleWeights {
    let weights = EagleWeights(config: model.config)
    weights.initialize(copying: model.network, seed: seed)
    perturb(weights.parameters.parameters, spread: spread, seed: seed + 1)
    return weights
}

/// Decodes with an EAGLE drafter, returning the result and the drafter.
func eagleDecode(_ model: InferenceModel, _ weights: EagleWeights, tree: EagleTree, tokens: Int,
                 settings: SamplingSettings = .greedy) -> (DecodeResult, EagleDrafter) {
    let drafter = EagleDrafter(weights: weights, target: model, tree: tree)
    let result = SpeculativeDecoding.generate(target: TransformerTarget(model: model), drafter: drafter, prompt: prompt,
                                              maxNewTokens: tokens, settings: settings, seed: 1)
    return (result, drafter)
}

@Suite("EAGLE-1 and EAGLE-2 drafters")
struct EagleTests {
    static let trees: [(String, EagleTree)] = [
        ("chain of 4", .fixed(EagleTree.chain(4))), ("EAGLE-1 25 nodes", .fixed(EagleTree.eagle25)),
        ("EAGLE-1 10 nodes", .fixed(EagleTree.eagle10)), ("dynamic K2 depth 3 M 8", .dynamic(topK: 2, depth: 3, size: 8)),
        ("dynamic K3 depth 4 M 16", .dynamic(topK: 3, depth: 4, size: 16)), ("dynamic K4 depth 5 M 24", .dynamic(topK: 4, depth: 5, size: 24)),
    ]

    @Test("greedy tree decoding equals plain greedy for static and dynamic trees", arguments: 0..<6)
    func greedyEquality(index: Int) throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 40)
        let reference = plainGreedy(model, tokens: 60)
        let weights = eagleWeights(model, spread: 0.02, seed: 41)
        let (result, _) = eagleDecode(model, weights, tree: Self.trees[index].1, tokens: 60)
        #expect(result.tokens == reference, "\(Self.trees[index].0)")
        #expect(result.stats.tau > 1, "no draft was ever accepted: the test would not exercise acceptance")
    }

    @Test("the drafter's cache after decoding equals the drafter run from scratch on the committed sequence")
    func catchUp() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 42)
        let weights = eagleWeights(model, spread: 0.02, seed: 43)
        let (result, drafter) = eagleDecode(model, weights, tree: .dynamic(topK: 2, depth: 3, size: 8), tokens: 50)
        let committed = Array(result.sequence.dropLast()), root = result.sequence.last!
        _ = drafter.propose(root: root, context: committed, settings: .greedy, rng: RandomSource(seed: 1))
        let fresh = EagleDrafter(weights: weights, target: model, tree: .dynamic(topK: 2, depth: 3, size: 8))
        let rebuilt = TransformerTarget(model: model)
        _ = rebuilt.prefill(committed, settings: .greedy)
        fresh.reset(prompt: committed, first: root)
        fresh.targetForwardDone(keptRows: Array(0..<committed.count))
        _ = fresh.propose(root: root, context: committed, settings: .greedy, rng: RandomSource(seed: 1))
        #expect(drafter.cache.length == committed.count)
        #expect(fresh.cache.length == committed.count)
        #expect(committedDifference(drafter.cache, fresh.cache) < 1e-4)
    }

    @Test("tree levels see only their ancestors: the rank-0 path of the 25-node tree equals the chain's drafts")
    func treeMask() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 44)
        let weights = eagleWeights(model, spread: 0.05, seed: 45)
        func proposal(_ tree: EagleTree) -> TokenTree {
            let drafter = EagleDrafter(weights: weights, target: model, tree: tree)
            let target = TransformerTarget(model: model)
            _ = target.prefill(prompt, settings: .greedy)
            drafter.reset(prompt: prompt, first: 7)
            drafter.targetForwardDone(keptRows: Array(0..<prompt.count))
            return drafter.propose(root: 7, context: prompt, settings: .greedy, rng: RandomSource(seed: 1)).tree
        }
        let chain = proposal(.fixed(EagleTree.chain(5)))
        let tree = proposal(.fixed(EagleTree.eagle25))
        #expect(tree.count == 26)
        var node = 0, path: [Int32] = []
        while let first = tree.children(of: node).first { path.append(tree.tokens[first]); node = first }
        #expect(path == Array(chain.tokens.dropFirst()))
        // Later rows of a level too: node [2, 1] fed beside [0], [1], [3] equals [2, 1] of a tree where [2] is fed alone.
        let small = proposal(.fixed([[0], [1], [2], [2, 0], [2, 1]]))
        // Compared through the nodes' draft probabilities q(token) / (mass left), continuous in the drafter's output.
        func lookup(_ t: TokenTree, _ ranks: [Int]) -> (Int32, Double) {
            var node = 0
            for r in ranks { node = t.children(of: node)[r] }
            return (t.tokens[node], t.draftProbabilities[node])
        }
        let other = proposal(.fixed([[0], [0, 0], [0, 1], [0, 2], [0, 2, 0], [0, 2, 1]]))
        for (reference, ranks) in [(small, [2, 1]), (small, [2, 0]), (other, [0, 2, 1]), (other, [0, 2, 0])] {
            let (a, b) = (lookup(tree, ranks), lookup(reference, ranks))
            #expect(a.0 == b.0 && abs(a.1 - b.1) < 1e-5, "node \(ranks): \(a) vs \(b)")
        }
    }

    @Test("dynamic trees: distinct siblings, at most M nodes, closed under ancestors, positions n + depth")
    func dynamicTreeShape() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 46)
        let weights = eagleWeights(model, spread: 0.05, seed: 47)
        for (topK, depth, size) in [(2, 3, 8), (3, 4, 12), (4, 5, 24)] {
            let drafter = EagleDrafter(weights: weights, target: model, tree: .dynamic(topK: topK, depth: depth, size: size))
            let target = TransformerTarget(model: model)
            _ = target.prefill(prompt, settings: .greedy)
            drafter.reset(prompt: prompt, first: 7)
            drafter.targetForwardDone(keptRows: Array(0..<prompt.count))
            let tree = drafter.propose(root: 7, context: prompt, settings: .greedy, rng: RandomSource(seed: 1)).tree
            #expect(tree.count == size + 1)
            #expect(tree.depth <= depth + 1)
            for i in 0..<tree.count {
                let siblings = tree.children(of: i).map { tree.tokens[$0] }
                #expect(Set(siblings).count == siblings.count)
                if i > 0 { #expect(tree.parents[i] < i && tree.depths[i] == tree.depths[tree.parents[i]] + 1) }
            }
            #expect(tree.positions(cacheLength: 100) == tree.depths.map { Int32(100 + $0) })
        }
    }

    @Test("sampled EAGLE-1 trees (V4) and dynamic trees (V3) decode at T = 1 without breaking the caches")
    func sampledDecoding() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 48)
        let weights = eagleWeights(model, spread: 0.02, seed: 49)
        for tree in [EagleTree.fixed(EagleTree.eagle10), .dynamic(topK: 3, depth: 3, size: 10)] {
            let target = TransformerTarget(model: model)
            let drafter = EagleDrafter(weights: weights, target: model, tree: tree)
            let result = SpeculativeDecoding.generate(target: target, drafter: drafter, prompt: prompt, maxNewTokens: 40,
                                                      settings: SamplingSettings(temperature: 1), seed: 2)
            #expect(result.tokens.count == 40)
            #expect(cacheDifference(target.cache, model: model, tokens: Array(result.sequence.dropLast())) < 1e-5)
            // The drafter catches up on the last round at its next proposal.
            _ = drafter.propose(root: result.sequence.last!, context: Array(result.sequence.dropLast()),
                                settings: SamplingSettings(temperature: 1), rng: RandomSource(seed: 3))
            #expect(drafter.cache.length == result.sequence.count - 1)
        }
    }

    @Test("a tree whose child ranks skip a draw is refused")
    func invalidTree() {
        #expect(throws: ModelError.self) { try EagleTree.validate([[0], [0, 1]]) }
        #expect(throws: ModelError.self) { try EagleTree.validate([[0, 0], [0]]) }
        #expect(throws: Never.self) { try EagleTree.validate(EagleTree.eagle25) }
    }

    @Test("EAGLE training gradients against central finite differences (Float)")
    func gradients() throws {
        let network = try Network<Float>(config: gradientConfig)
        network.initialize(seed: 20)
        perturb(network.parameters, spread: 0.3, seed: 21)
        let weights = EagleWeights(config: gradientConfig)
        weights.initialize(copying: network, seed: 22)
        perturb(weights.parameters.parameters, spread: 0.3, seed: 23)
        let objective = EagleObjective(network: network, weights: weights, noise: 0)
        objective.classificationWeight = 1
        let state = TrainingState<Float>(config: gradientConfig, batch: 2, length: 8)
        let loss = { objective.step(inputs: gradientInputs, targets: gradientTargets, state: state)["loss"]! }
        _ = loss()
        let analytic = Array(weights.parameters.gradients)
        #expect(analytic.contains { $0 != 0 })
        #expect(finiteDifferenceFailures(parameters: weights.parameters.parameters, analytic: analytic, stride: 37, loss: loss) == 0)
        #expect(network.gradients.allSatisfy { $0 == 0 })
    }
}
