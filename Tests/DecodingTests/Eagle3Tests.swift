import Foundation
import LinAlg
import Testing
@testable import Decoding
@testable import Transformer

/// An EAGLE-3 drafter initialised from the target plus noise.
func eagle3Weights(_ model: InferenceModel, spread: Double, seed: UInt64) -> Eagle3Weights {
    let weights = Eagle3Weights(config: model.config)
    weights.initialize(copying: model.network, seed: seed)
    perturb(weights.parameters.parameters, spread: spread, seed: seed + 1)
    return weights
}

/// Four layers: the fused streams are distinct inner ones (1, 2, 3).
let fourLayerConfig = ModelConfig(name: "target-4", width: 32, layers: 4, heads: 4, kvHeads: 2, ffnHidden: 64,
                                  contextLength: 256, tiedEmbeddings: false)

@Suite("EAGLE-3 drafter (fused features, training-time test)")
struct Eagle3Tests {
    @Test("fused streams: 1, ⌈L/2⌉, L − 1 for L ≥ 4; the last three streams for shallower targets")
    func streams() {
        #expect(Eagle3Weights.streams(layers: 4) == [1, 2, 3])
        #expect(Eagle3Weights.streams(layers: 6) == [1, 3, 5])
        #expect(Eagle3Weights.streams(layers: 12) == [1, 6, 11])
        #expect(Eagle3Weights.streams(layers: 2) == [0, 1, 2])
        #expect(Eagle3Weights.streams(layers: 3) == [1, 2, 3])
    }

    @Test("the training-time-test mask: causal at S = 1; at step s the step-0 prefix plus the element's own chain")
    func mask() {
        let length = 7
        let causal = TrainingTimeTest.mask(length: length, steps: 1)
        for t in 0..<length { for s in 0..<length { #expect(causal[t * length + s] == (s <= t)) } }
        let steps = 3, w = steps * length
        let m = TrainingTimeTest.mask(length: length, steps: steps)
        // Element 4 at step 2 (row 2·7 + 4) sees step-0 rows 0…4 and rows (1, 4), (2, 4), nothing else.
        let row = (2 * length + 4) * w
        let seen = (0..<w).filter { m[row + $0] }
        #expect(seen == [0, 1, 2, 3, 4, length + 4, 2 * length + 4])
        // No row sees a later row (the layout is causal in step order).
        for t in 0..<w { for s in (t + 1)..<max(t + 1, w) { #expect(!m[t * w + s]) } }
    }

    @Test("TTT: the unrolled step-s output of element j equals an inference chain of depth s + 1 from the same inputs")
    func unrolledMatchesInference() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(fourLayerConfig, seed: 80)
        let weights = eagle3Weights(model, spread: 0.05, seed: 81)
        let steps = 3, length = 12, d = model.config.width
        let text = Array("static double gsl_sf_bessel_J0".utf8).map { Int32($0) }
        let inputs = Array(text[0..<length]), targets = Array(text[1...length])
        let objective = Eagle3Objective(network: model.network, weights: weights, steps: steps)
        let state = TrainingState<Float>(config: model.config, batch: 1, length: length)
        _ = objective.evaluate(inputs: inputs, targets: targets, state: state)
        let unrolled = objective.unrolledOutputs
        // The target's fused step-0 features at inference.
        let cache = KVCache(config: model.config)
        model.forward([SequenceStep(tokens: inputs, cache: cache)], residualLayers: weights.targetResidualLayers)
        var g0 = [Float](repeating: 0, count: length * d)
        g0.withUnsafeMutableBufferPointer { g in
            for r in 0..<length { weights.targetFeature(model, row: r, into: g.baseAddress! + r * d) }
        }
        let scratch = ScratchBuffers()
        var worst: Float = 0
        func compare(_ inference: UnsafePointer<Float>, step s: Int, element j: Int) {
            let trained = unrolled + (s * length + j) * d
            let scale = max((0..<d).map { abs(inference[$0]) }.max()!, 1e-6)
            worst = max(worst, (0..<d).map { abs(inference[$0] - trained[$0]) }.max()! / scale)
        }
        for j in [0, 5, length - steps] {
            let runner = InferenceModel(network: model.network)
            let drafterCache = KVCache(layers: 1, kvHeads: model.config.kvHeads, headDim: model.config.headDim, capacity: 64)
            // Catch-up: elements 0…j with their true fused features, tokens x_1…x_{j+1}.
            let tokens = Array(targets[0...j])
            let u = g0.withUnsafeBufferPointer { g in
                weights.inputRows(tokens: tokens, features: g.baseAddress!, embedding: model.network.embeddingWeights,
                                  rows: j + 1, scratch: scratch)
            }
            runner.forwardBlocks(input: u, steps: [SequenceStep(tokens: tokens, cache: drafterCache)],
                                 blocks: [weights.inferenceBlock], finalNorm: weights.outputNorm)
            drafterCache.commit(j + 1)
            var feature = Array(UnsafeBufferPointer(start: runner.hiddenStates + j * d, count: d))
            feature.withUnsafeBufferPointer { compare($0.baseAddress!, step: 0, element: j) }
            // The chain: step s feeds x_{j+1+s} with the previous output, at position j + s.
            for s in 1..<steps {
                let token = [targets[j + s]]
                let u = feature.withUnsafeBufferPointer { f in
                    weights.inputRows(tokens: token, features: f.baseAddress!, embedding: model.network.embeddingWeights,
                                      rows: 1, scratch: scratch)
                }
                runner.forwardBlocks(input: u, steps: [SequenceStep(tokens: token, positions: [Int32(j + s)], cache: drafterCache)],
                                     blocks: [weights.inferenceBlock], finalNorm: weights.outputNorm)
                drafterCache.commit(1)
                feature = Array(UnsafeBufferPointer(start: runner.hiddenStates, count: d))
                feature.withUnsafeBufferPointer { compare($0.baseAddress!, step: s, element: j) }
            }
        }
        #expect(worst < 1e-4, "largest relative difference \(worst)")
    }

    @Test("EAGLE-3 training gradients (through the unrolled steps) against central finite differences (Float)")
    func gradients() throws {
        let config = ModelConfig(name: "grad-4", width: 16, layers: 4, heads: 2, kvHeads: 1, ffnHidden: 32,
                                 contextLength: 16, tiedEmbeddings: false)
        let network = try Network<Float>(config: config)
        network.initialize(seed: 30)
        perturb(network.parameters, spread: 0.3, seed: 31)
        let weights = Eagle3Weights(config: config)
        weights.initialize(copying: network, seed: 32)
        perturb(weights.parameters.parameters, spread: 0.3, seed: 33)
        let objective = Eagle3Objective(network: network, weights: weights, steps: 3)
        objective.stepDecay = 1  // every step weighs as much as step 0
        let state = TrainingState<Float>(config: config, batch: 2, length: 8)
        let loss = { objective.step(inputs: gradientInputs, targets: gradientTargets, state: state)["loss"]! }
        _ = loss()
        let analytic = Array(weights.parameters.gradients)
        #expect(analytic.contains { $0 != 0 })
        #expect(finiteDifferenceFailures(parameters: weights.parameters.parameters, analytic: analytic, stride: 23, loss: loss) == 0)
        // W_fc's gradient reaches it only through step-0 rows; the block's through every pass.
        let fc = weights.fuse..<(weights.fuse + 16 * 48)
        #expect(finiteDifferenceFailures(parameters: weights.parameters.parameters, analytic: analytic, stride: 5, range: fc,
                                         loss: loss) == 0)
        #expect(network.gradients.allSatisfy { $0 == 0 })
    }

    @Test("greedy EAGLE-3 decoding equals plain greedy (chain, static and dynamic trees)", arguments: 0..<3)
    func greedyEquality(index: Int) throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(fourLayerConfig, seed: 82)
        let reference = plainGreedy(model, tokens: 60)
        let weights = eagle3Weights(model, spread: 0.02, seed: 83)
        let tree: EagleTree = [.fixed(EagleTree.chain(4)), .fixed(EagleTree.eagle10), .dynamic(topK: 3, depth: 3, size: 12)][index]
        let drafter = EagleDrafter(weights: weights, target: model, tree: tree)
        #expect(drafter.name == "eagle3")
        let result = SpeculativeDecoding.generate(target: TransformerTarget(model: model), drafter: drafter, prompt: prompt,
                                                  maxNewTokens: 60, settings: .greedy, seed: 1)
        #expect(result.tokens == reference)
        #expect(result.stats.tau > 1, "no draft was ever accepted: the test would not exercise acceptance")
    }

    @Test("the EAGLE-3 drafter's cache after decoding equals the drafter run from scratch on the committed sequence")
    func catchUp() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(fourLayerConfig, seed: 84)
        let weights = eagle3Weights(model, spread: 0.02, seed: 85)
        let tree = EagleTree.dynamic(topK: 2, depth: 3, size: 8)
        let drafter = EagleDrafter(weights: weights, target: model, tree: tree)
        let result = SpeculativeDecoding.generate(target: TransformerTarget(model: model), drafter: drafter, prompt: prompt,
                                                  maxNewTokens: 50, settings: .greedy, seed: 1)
        let committed = Array(result.sequence.dropLast()), root = result.sequence.last!
        _ = drafter.propose(root: root, context: committed, settings: .greedy, rng: RandomSource(seed: 1))
        let fresh = EagleDrafter(weights: weights, target: model, tree: tree)
        let rebuilt = TransformerTarget(model: model)
        rebuilt.keepResidualStreams(fresh.targetResidualLayers)
        _ = rebuilt.prefill(committed, settings: .greedy)
        fresh.reset(prompt: committed, first: root)
        fresh.targetForwardDone(keptRows: Array(0..<committed.count))
        _ = fresh.propose(root: root, context: committed, settings: .greedy, rng: RandomSource(seed: 1))
        #expect(drafter.cache.length == committed.count)
        #expect(committedDifference(drafter.cache, fresh.cache) < 1e-4)
    }
}
