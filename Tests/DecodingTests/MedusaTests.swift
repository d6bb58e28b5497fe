import Foundation
import LinAlg
import Testing
@testable import Decoding
@testable import Transformer

func medusaHeads(_ model: InferenceModel, heads: Int, spread: Double, seed: UInt64, hydra: Bool = false) -> MedusaHeads {
    let medusa = MedusaHeads(config: model.config, heads: heads, conditioned: hydra)
    medusa.initialize(copying: model.network)
    perturb(medusa.parameters.parameters, spread: spread, seed: seed)
    var accuracies: [[Double]] = []
    for k in 0..<heads {
        var row: [Double] = []
        for i in 0..<MedusaHeads.ranks { row.append(0.6 / Double(k + 1) / Double(i + 1)) }
        accuracies.append(row)
    }
    medusa.accuracies = accuracies
    return medusa
}

@Suite("Medusa heads")
struct MedusaTests {
    @Test("at initialisation (W_1 = 0, W_2 = W_U) every head outputs the base LM head's logits")
    func initIsBaseHead() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 50)
        let medusa = medusaHeads(model, heads: 3, spread: 0, seed: 1)
        let cache = KVCache(config: targetConfig)
        let expected = model.prefill(prompt, cache: cache)
        let d = targetConfig.width, v = targetConfig.vocab
        let f = model.features + (prompt.count - 1) * d
        let pre = UnsafeMutablePointer<Float>.allocate(capacity: d), z = UnsafeMutablePointer<Float>.allocate(capacity: d)
        let logits = UnsafeMutablePointer<Float>.allocate(capacity: v)
        defer { pre.deallocate(); z.deallocate(); logits.deallocate() }
        for k in 0..<3 {
            medusa.forward(head: k, features: f, rows: 1, pre: pre, z: z, logits: logits)
            let worst = (0..<v).map { abs(logits[$0] - expected[$0]) }.max()!
            #expect(worst < 1e-4, "head \(k + 1) differs by \(worst)")
        }
    }

    @Test("the sparse tree takes paths by the product of rank accuracies and is closed under ancestors")
    func sparseTree() throws {
        let medusa = MedusaHeads(config: targetConfig, heads: 2)
        medusa.accuracies = [[0.6, 0.2, 0.1, 0.05], [0.5, 0.1, 0.05, 0.01]]
        // Values: [0] .6, [0,0] .3, [1] .2, [2] .1, [1,0] .1, [0,1] .06, …
        let tree = medusa.sparseTree(size: 5)
        #expect(Array(tree.prefix(3)) == [[0], [0, 0], [1]])
        #expect(Set(tree.suffix(2)) == Set([[2], [1, 0]]))
        #expect(throws: Never.self) { try EagleTree.validate(tree.sorted { $0.count < $1.count }) }
    }

    @Test("greedy Medusa decoding equals plain greedy for sparse trees of 1, 4, 8 and 16 nodes", arguments: [1, 4, 8, 16])
    func greedyEquality(size: Int) throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 51)
        let reference = plainGreedy(model, tokens: 60)
        let medusa = medusaHeads(model, heads: 4, spread: 0.01, seed: 2)
        let drafter = MedusaDrafter(heads: medusa, target: model, choices: medusa.sparseTree(size: size))
        let result = SpeculativeDecoding.generate(target: TransformerTarget(model: model), drafter: drafter, prompt: prompt,
                                                  maxNewTokens: 60, settings: .greedy, seed: 1)
        #expect(result.tokens == reference)
        #expect(result.stats.drafted == size * result.stats.rounds)
    }

    @Test("typical acceptance (V5) at T = 0 is greedy: equal to plain greedy output")
    func typicalAtZeroIsGreedy() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 52)
        let reference = plainGreedy(model, tokens: 50)
        let medusa = medusaHeads(model, heads: 3, spread: 0.01, seed: 3)
        let drafter = MedusaDrafter(heads: medusa, target: model, choices: medusa.sparseTree(size: 8))
        let result = SpeculativeDecoding.generate(target: TransformerTarget(model: model), drafter: drafter, prompt: prompt,
                                                  maxNewTokens: 50, settings: .greedy, seed: 1,
                                                  acceptance: .typical(epsilon: 0.09, delta: 0.3))
        #expect(result.tokens == reference)
        #expect(result.stats.tau > 1)
    }

    @Test("V5 accepts the longest path whose tokens clear the entropy-scaled threshold")
    func typicalRule() {
        // Bigram toy: after token 0, p = (0.5, 0.2, 0.2, 0.1); H = 1.22 nats → threshold min(0.09, 0.3·e^−1.22) = 0.0885.
        let target = BigramTarget(table: targetTable)
        var tree = TokenTree(root: 0)
        let a = tree.add(token: 3, parent: 0)        // p(3 | 0) = 0.1 > 0.0885: accepted
        _ = tree.add(token: 1, parent: a)            // p(1 | 3) = 0.1; H(p(·|3)) = 0.94 → threshold 0.09: accepted
        let b = tree.add(token: 0, parent: 0)        // p(0 | 0) = 0.5: accepted, but its child is not
        _ = tree.add(token: 3, parent: b)            // p(3 | 0) = 0.1 > 0.0885: accepted too; tie on depth, log-sum decides
        target.lastTree = tree
        let result = Verification.typical(tree: tree, target: target, epsilon: 0.09, delta: 0.3)
        // Depth 2 both ways; Σ log p: path b (log .5 + log .1) beats path a (log .1 + log .1).
        #expect(result.path == [0, 3, 4])
        #expect(result.extra == Int32(target.argmax(4)))
    }

    @Test("Medusa-1 and Medusa-2 training gradients against central finite differences (Float)", arguments: [false, true])
    func gradients(joint: Bool) throws {
        let network = try Network<Float>(config: gradientConfig)
        network.initialize(seed: 24)
        perturb(network.parameters, spread: 0.3, seed: 25)
        let medusa = MedusaHeads(config: gradientConfig, heads: 2)
        medusa.initialize(copying: network)
        perturb(medusa.parameters.parameters, spread: 0.3, seed: 26)
        let objective = MedusaObjective(network: network, heads: medusa, trainTrunk: joint)
        let state = TrainingState<Float>(config: gradientConfig, batch: 2, length: 8)
        let loss = { objective.step(inputs: gradientInputs, targets: gradientTargets, state: state)["loss"]! }
        _ = loss()
        let headGradient = Array(medusa.parameters.gradients), trunkGradient = Array(network.gradients)
        #expect(finiteDifferenceFailures(parameters: medusa.parameters.parameters, analytic: headGradient, stride: 41, loss: loss) == 0)
        if joint {
            #expect(finiteDifferenceFailures(parameters: network.parameters, analytic: trunkGradient, stride: 29,
                                             range: firstBlockRange(network), loss: loss) == 0)
        } else {
            #expect(trunkGradient.allSatisfy { $0 == 0 })
        }
    }

    @Test("Hydra: at initialisation every head outputs the base LM head's logits, whatever its path")
    func hydraInitIsBaseHead() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 53)
        let hydra = medusaHeads(model, heads: 3, spread: 0, seed: 1, hydra: true)
        let expected = model.prefill(prompt, cache: KVCache(config: targetConfig))
        let d = targetConfig.width, v = targetConfig.vocab
        let f = model.features + (prompt.count - 1) * d
        let buffers = ScratchBuffers()
        for k in 0..<3 {
            let input = buffers("input", hydra.inputWidth(head: k))
            hydra.conditionedInput(head: k, features: f, path: [(0...k).map { Int32(40 + $0) }],
                                   embedding: model.network.embeddingWeights, into: input)
            hydra.forward(head: k, features: f, rows: 1, pre: buffers("pre", d), z: buffers("z", d), logits: buffers("logits", v),
                          input: input)
            let logits = buffers("logits", v)
            let worst = (0..<v).map { abs(logits[$0] - expected[$0]) }.max()!
            #expect(worst < 1e-4, "head \(k + 1) differs by \(worst)")
        }
    }

    @Test("Hydra heads read their path: sibling subtrees get different continuations (Medusa's are the same)")
    func hydraPathDependence() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 54)
        func secondLevel(_ heads: MedusaHeads) -> [[Int32]] {
            let drafter = MedusaDrafter(heads: heads, target: model, choices: [[0], [1], [2], [0, 0], [0, 1], [0, 2], [1, 0], [1, 1],
                                                                                [1, 2], [2, 0], [2, 1], [2, 2]])
            let target = TransformerTarget(model: model)
            _ = target.prefill(prompt, settings: .greedy)
            drafter.targetForwardDone(keptRows: [prompt.count - 1])
            let tree = drafter.propose(root: 7, context: prompt, settings: .greedy, rng: RandomSource(seed: 1)).tree
            return (1...3).map { tree.children(of: $0).map { tree.tokens[$0] } }
        }
        let medusa = secondLevel(medusaHeads(model, heads: 2, spread: 1, seed: 5))
        #expect(Set(medusa).count == 1)
        let hydra = secondLevel(medusaHeads(model, heads: 2, spread: 1, seed: 5, hydra: true))
        #expect(Set(hydra).count > 1)
    }

    @Test("greedy Hydra decoding equals plain greedy for sparse trees of 4 and 16 nodes", arguments: [4, 16])
    func hydraGreedyEquality(size: Int) throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 55)
        let reference = plainGreedy(model, tokens: 60)
        let hydra = medusaHeads(model, heads: 4, spread: 0.01, seed: 6, hydra: true)
        let drafter = MedusaDrafter(heads: hydra, target: model, choices: hydra.sparseTree(size: size))
        #expect(drafter.name == "hydra")
        let result = SpeculativeDecoding.generate(target: TransformerTarget(model: model), drafter: drafter, prompt: prompt,
                                                  maxNewTokens: 60, settings: .greedy, seed: 1)
        #expect(result.tokens == reference)
        #expect(result.stats.tau > 1)
    }

    @Test("Hydra training gradients (frozen and joint trunk) against central finite differences (Float)", arguments: [false, true])
    func hydraGradients(joint: Bool) throws {
        let network = try Network<Float>(config: gradientConfig)
        network.initialize(seed: 27)
        perturb(network.parameters, spread: 0.3, seed: 28)
        let hydra = MedusaHeads(config: gradientConfig, heads: 2, conditioned: true)
        hydra.initialize(copying: network)
        perturb(hydra.parameters.parameters, spread: 0.3, seed: 29)
        let objective = MedusaObjective(network: network, heads: hydra, trainTrunk: joint)
        let state = TrainingState<Float>(config: gradientConfig, batch: 2, length: 8)
        let loss = { objective.step(inputs: gradientInputs, targets: gradientTargets, state: state)["loss"]! }
        _ = loss()
        let headGradient = Array(hydra.parameters.gradients), trunkGradient = Array(network.gradients)
        #expect(finiteDifferenceFailures(parameters: hydra.parameters.parameters, analytic: headGradient, stride: 37, loss: loss) == 0)
        if joint {
            #expect(finiteDifferenceFailures(parameters: network.parameters, analytic: trunkGradient, stride: 29,
                                             range: firstBlockRange(network), loss: loss) == 0)
        }
    }
}
