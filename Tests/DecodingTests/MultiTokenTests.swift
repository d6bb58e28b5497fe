import Foundation
import LinAlg
import Testing
@testable import Decoding
@testable import Transformer

/// Parallel heads copied from the target's last block, plus noise of `spread`.
func parallelHeads(_ model: InferenceModel, extra: Int, spread: Double, seed: UInt64) -> ParallelHeads {
    let heads = ParallelHeads(config: model.config, extraHeads: extra)
    heads.initialize(copying: model.network)
    let rng = RandomSource(seed: seed)
    for i in 0..<heads.parameters.layout.count {
        heads.parameters.parameters[i] += Float(rng.normal(mean: 0, standardDeviation: spread))
    }
    return heads
}

func sequentialModules(_ model: InferenceModel, depth: Int, spread: Double, seed: UInt64) -> SequentialModules {
    let modules = SequentialModules(config: model.config, depth: depth)
    modules.initialize(copying: model.network, seed: seed)
    let rng = RandomSource(seed: seed + 1)
    for i in 0..<modules.parameters.layout.count {
        modules.parameters.parameters[i] += Float(rng.normal(mean: 0, standardDeviation: spread))
    }
    return modules
}

/// Largest relative difference between the committed rows of two one-layer caches.
func committedDifference(_ a: KVCache, _ b: KVCache) -> Float {
    var worst: Float = 0
    for r in 0..<min(a.length, b.length) {
        let x = a.keyRow(layer: 0, row: r) + a.valueRow(layer: 0, row: r)
        let y = b.keyRow(layer: 0, row: r) + b.valueRow(layer: 0, row: r)
        let scale = max(y.map(abs).max() ?? 1, 1e-6)
        worst = max(worst, zip(x, y).map { abs($0 - $1) }.max()! / scale)
    }
    return worst
}

/// Central differences in Float (ε = 1e-2; see BlockwiseTests for the tolerance's reasoning)
/// of `loss` w.r.t. every `stride`-th element of `parameters` in `range`, against `analytic`.
func finiteDifferenceFailures(parameters: UnsafeMutableBufferPointer<Float>, analytic: [Float], stride: Int,
                              range: Range<Int>? = nil, loss: () -> Double) -> Int {
    let epsilon: Float = 1e-2
    var failures = 0
    let range = range ?? 0..<parameters.count
    for i in Swift.stride(from: range.lowerBound, to: range.upperBound, by: stride) {
        let saved = parameters[i]
        parameters[i] = saved + epsilon
        let plus = loss()
        parameters[i] = saved - epsilon
        let minus = loss()
        parameters[i] = saved
        let numeric = (plus - minus) / Double(2 * epsilon)
        if abs(numeric - Double(analytic[i])) > 0.05 * abs(numeric) + 3e-4 { failures += 1 }
    }
    return failures
}

let gradientConfig = ModelConfig(name: "grad", width: 16, layers: 2, heads: 2, kvHeads: 1, ffnHidden: 32,
                                 contextLength: 16, tiedEmbeddings: false)
/// The trunk's block 0 (the only trunk block of `gradientConfig` under parallel heads).
func firstBlockRange(_ network: Network<Float>) -> Range<Int> {
    let entries = network.layout.entries.filter { $0.name.hasPrefix("layers.0.") }
    return entries.first!.offset..<(entries.last!.offset + entries.last!.count)
}

/// Adds N(0, spread) to every parameter (larger gradients than the N(0, 0.02) initialisation).
func perturb(_ parameters: UnsafeMutableBufferPointer<Float>, spread: Double, seed: UInt64) {
    let rng = RandomSource(seed: seed)
    for i in 0..<parameters.count { parameters[i] += Float(rng.normal(mean: 0, standardDeviation: spread)) }
}

let gradientInputs = (0..<16).map { Int32(($0 * 37 + 5) % 256) }
let gradientTargets = (0..<16).map { Int32(($0 * 11 + 3) % 256) }

@Suite("Parallel multi-token prediction (Gloeckle)")
struct ParallelMTPTests {
    @Test("an extra head copied from head 1, run by the drafter on the trunk output, reproduces the target's logits")
    func copiedHeadReproducesTarget() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 30)
        let heads = parallelHeads(model, extra: 2, spread: 0, seed: 1)
        let drafter = ParallelHeadsDrafter(heads: heads, target: model, draftLength: 2)
        let target = TransformerTarget(model: model)
        target.keepResidualStreams(drafter.targetResidualLayers)
        _ = target.prefill(prompt, settings: .greedy)
        let expected = Array(model.logitsRow(prompt.count - 1))
        drafter.reset(prompt: prompt, first: 0)
        drafter.targetForwardDone(keptRows: Array(0..<prompt.count))
        let runner = InferenceModel(network: model.network)
        let step = SequenceStep(tokens: prompt, cache: KVCache(layers: 1, kvHeads: targetConfig.kvHeads, headDim: targetConfig.headDim, capacity: 256))
        runner.forwardBlocks(input: model.residualStreams[heads.trunkBlocks]!, steps: [step],
                             blocks: [heads.weights(0, frozen: true)])
        let viaHead = Array(runner.logitsRow(prompt.count - 1))
        let worst = zip(expected, viaHead).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-4, "head copy differs from the target by \(worst)")
        #expect(drafter.caches.allSatisfy { $0.length == prompt.count })
    }

    @Test("greedy output with parallel MTP heads equals plain greedy, γ = 1, 2, 4, 8", arguments: [1, 2, 4, 8])
    func greedyEquality(gamma: Int) throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 31)
        let reference = plainGreedy(model, tokens: 60)
        let heads = parallelHeads(model, extra: 8, spread: 0.02, seed: 2)
        let drafter = ParallelHeadsDrafter(heads: heads, target: model, draftLength: gamma)
        let target = TransformerTarget(model: model)
        let result = SpeculativeDecoding.generate(target: target, drafter: drafter, prompt: prompt, maxNewTokens: 60,
                                                  settings: .greedy, seed: 1)
        #expect(result.tokens == reference)
        #expect(result.stats.drafted == gamma * result.stats.rounds)
        // Every head cache holds exactly the committed rows, equal to a run from scratch on the committed sequence.
        #expect(drafter.caches.allSatisfy { $0.length == target.committedLength })
        let fresh = ParallelHeadsDrafter(heads: heads, target: model, draftLength: gamma)
        let rebuilt = TransformerTarget(model: model)
        rebuilt.keepResidualStreams(fresh.targetResidualLayers)
        let committed = Array(result.sequence.dropLast())
        _ = rebuilt.prefill(committed, settings: .greedy)
        fresh.reset(prompt: committed, first: result.sequence.last!)
        fresh.targetForwardDone(keptRows: Array(0..<committed.count))
        for j in 0..<gamma { #expect(committedDifference(drafter.caches[j], fresh.caches[j]) < 1e-4) }
    }

    @Test("the accumulated trunk gradient (heads one after another, one trunk backward) equals the sum of per-head backwards")
    func accumulatedGradient() throws {
        let network = try Network<Float>(config: gradientConfig)
        network.initialize(seed: 7)
        let heads = ParallelHeads(config: gradientConfig, extraHeads: 2)
        heads.initialize(seed: 8)
        let objective = ParallelMTPObjective(network: network, heads: heads, trainTrunk: true)
        let state = TrainingState<Float>(config: gradientConfig, batch: 2, length: 8)
        _ = objective.step(inputs: gradientInputs, targets: gradientTargets, state: state)
        let together = Array(network.gradients), headsTogether = Array(heads.parameters.gradients)
        var summed = [Float](repeating: 0, count: together.count)
        var headsSummed = [Float](repeating: 0, count: headsTogether.count)
        for i in 0..<3 {
            objective.lossWeights = (0..<3).map { $0 == i ? 1 : 0 }
            _ = objective.step(inputs: gradientInputs, targets: gradientTargets, state: state)
            for k in summed.indices { summed[k] += network.gradients[k] }
            for k in headsSummed.indices { headsSummed[k] += heads.parameters.gradients[k] }
        }
        let scale = together.map(abs).max()!
        #expect(scale > 0)
        #expect(zip(together, summed).map { abs($0 - $1) }.max()! < 1e-5 * scale)
        #expect(zip(headsTogether, headsSummed).map { abs($0 - $1) }.max()! < 1e-5 * headsTogether.map(abs).max()!)
    }

    @Test("joint training: head and trunk gradients against central finite differences (Float)")
    func gradients() throws {
        let network = try Network<Float>(config: gradientConfig)
        network.initialize(seed: 9)
        let heads = ParallelHeads(config: gradientConfig, extraHeads: 2)
        heads.initialize(seed: 10)
        perturb(network.parameters, spread: 0.3, seed: 16)
        perturb(heads.parameters.parameters, spread: 0.3, seed: 17)
        let objective = ParallelMTPObjective(network: network, heads: heads, trainTrunk: true)
        // Only the extra head's loss: the trunk gradient then comes through z alone.
        objective.lossWeights = [0, 1, 1]
        let state = TrainingState<Float>(config: gradientConfig, batch: 2, length: 8)
        let loss = { objective.step(inputs: gradientInputs, targets: gradientTargets, state: state)["loss"]! }
        _ = loss()
        let headGradient = Array(heads.parameters.gradients), trunkGradient = Array(network.gradients)
        #expect(finiteDifferenceFailures(parameters: heads.parameters.parameters, analytic: headGradient, stride: 53, loss: loss) == 0)
        #expect(finiteDifferenceFailures(parameters: network.parameters, analytic: trunkGradient, stride: 29,
                                         range: firstBlockRange(network), loss: loss) == 0)
    }

    @Test("frozen trunk: only the heads get gradients, and the trunk's weights do not move")
    func frozenTrunk() throws {
        let network = try Network<Float>(config: gradientConfig)
        network.initialize(seed: 11)
        let heads = ParallelHeads(config: gradientConfig, extraHeads: 1)
        heads.initialize(copying: network)
        let objective = ParallelMTPObjective(network: network, heads: heads, trainTrunk: false)
        #expect(objective.trainables.count == 1)
        let state = TrainingState<Float>(config: gradientConfig, batch: 2, length: 8)
        let result = objective.step(inputs: gradientInputs, targets: gradientTargets, state: state)
        #expect(network.gradients.allSatisfy { $0 == 0 })
        #expect(heads.parameters.gradients.contains { $0 != 0 })
        // The loss of a frozen-trunk run excludes nothing: head 1's loss is reported, the total sums every head.
        #expect(abs(result["loss"]! - result["head1_loss"]! - result["head2_loss"]!) < 1e-6 * result["loss"]!)
    }
}

@Suite("Sequential multi-token prediction (DeepSeek-V3)")
struct SequentialMTPTests {
    @Test("greedy output with sequential MTP modules equals plain greedy, γ = 1, 2, 4, 8", arguments: [1, 2, 4, 8])
    func greedyEquality(gamma: Int) throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 32)
        let reference = plainGreedy(model, tokens: 60)
        let modules = sequentialModules(model, depth: 8, spread: 0.02, seed: 3)
        let drafter = SequentialMTPDrafter(modules: modules, target: model, draftLength: gamma)
        let target = TransformerTarget(model: model)
        let result = SpeculativeDecoding.generate(target: target, drafter: drafter, prompt: prompt, maxNewTokens: 60,
                                                  settings: .greedy, seed: 1)
        #expect(result.tokens == reference)
        #expect(result.stats.drafted == gamma * result.stats.rounds)
        if gamma == 1 {
            // D = 1: τ = 1 + A_1.
            #expect(abs(result.stats.tau - 1 - (result.stats.perPositionAcceptance.first ?? 0)) < 1e-12)
        }
        // Module caches after catch-up equal the modules run from scratch on the committed sequence.
        let committed = Array(result.sequence.dropLast()), root = result.sequence.last!
        _ = drafter.propose(root: root, context: committed, settings: .greedy, rng: RandomSource(seed: 1))
        let fresh = SequentialMTPDrafter(modules: modules, target: model, draftLength: gamma)
        let rebuilt = TransformerTarget(model: model)
        rebuilt.keepResidualStreams(fresh.targetResidualLayers)
        _ = rebuilt.prefill(committed, settings: .greedy)
        fresh.reset(prompt: committed, first: root)
        fresh.targetForwardDone(keptRows: Array(0..<committed.count))
        _ = fresh.propose(root: root, context: committed, settings: .greedy, rng: RandomSource(seed: 1))
        for m in 0..<gamma {
            // Module k commits the rows whose token x_{i+k} is known: positions i ≤ t + 1 − k.
            #expect(drafter.caches[m].length == committed.count + 1 - (m + 1))
            #expect(fresh.caches[m].length == drafter.caches[m].length)
            #expect(committedDifference(drafter.caches[m], fresh.caches[m]) < 1e-4)
        }
    }

    @Test("stopping on a module's confidence keeps greedy equality and shortens drafts")
    func confidenceThreshold() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 33)
        let reference = plainGreedy(model, tokens: 50)
        let modules = sequentialModules(model, depth: 4, spread: 0.05, seed: 4)
        let drafter = SequentialMTPDrafter(modules: modules, target: model, draftLength: 4, stopping: DraftStopping(threshold: 0.99))
        let result = SpeculativeDecoding.generate(target: TransformerTarget(model: model), drafter: drafter, prompt: prompt,
                                                  maxNewTokens: 50, settings: .greedy, seed: 1)
        #expect(result.tokens == reference)
        #expect(result.stats.drafted < 4 * result.stats.rounds)
    }

    @Test("modules and joint trunk: gradients against central finite differences (Float)")
    func gradients() throws {
        let network = try Network<Float>(config: gradientConfig)
        network.initialize(seed: 12)
        let modules = SequentialModules(config: gradientConfig, depth: 2)
        modules.initialize(seed: 13)
        perturb(network.parameters, spread: 0.3, seed: 18)
        perturb(modules.parameters.parameters, spread: 0.3, seed: 19)
        let objective = SequentialMTPObjective(network: network, modules: modules, trainTrunk: true, totalSteps: 1000,
                                               lambda: 1, finalLambda: 1)
        let state = TrainingState<Float>(config: gradientConfig, batch: 2, length: 8)
        let loss = { objective.step(inputs: gradientInputs, targets: gradientTargets, state: state)["loss"]! }
        _ = loss()
        let moduleGradient = Array(modules.parameters.gradients), trunkGradient = Array(network.gradients)
        #expect(finiteDifferenceFailures(parameters: modules.parameters.parameters, analytic: moduleGradient, stride: 61,
                                         loss: loss) == 0)
        #expect(finiteDifferenceFailures(parameters: network.parameters, analytic: trunkGradient, stride: 29,
                                         range: firstBlockRange(network), loss: loss) == 0)
        // The shared embedding gets gradient from the modules' E(x_{i+k}) too.
        let embedding = network.layout.entry(named: "tok_embeddings")!
        #expect(finiteDifferenceFailures(parameters: network.parameters, analytic: trunkGradient, stride: 7,
                                         range: embedding.offset..<embedding.offset + embedding.count, loss: loss) == 0)
    }

    @Test("λ follows the schedule: the first value for two thirds of the steps, then the final one")
    func lambdaSchedule() throws {
        let network = try Network<Float>(config: gradientConfig)
        network.initialize(seed: 14)
        let modules = SequentialModules(config: gradientConfig, depth: 1)
        modules.initialize(copying: network, seed: 15)
        let objective = SequentialMTPObjective(network: network, modules: modules, trainTrunk: false, totalSteps: 3)
        let state = TrainingState<Float>(config: gradientConfig, batch: 2, length: 8)
        var seen: [Double] = []
        for _ in 0..<3 { seen.append(objective.step(inputs: gradientInputs, targets: gradientTargets, state: state)["lambda"]!) }
        #expect(seen.map { Float($0) } == [0.3, 0.3, 0.1])
    }
}

@Suite("MTP drafter files")
struct MTPFileTests {
    @Test("heads and modules round-trip through safetensors; a file for another target is refused with one clear message")
    func roundTripAndMismatch() throws {
        let model = try randomModel(targetConfig, seed: 34)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mtp-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let heads = parallelHeads(model, extra: 2, spread: 0.1, seed: 5)
        try heads.save(to: directory, metadata: [:])
        let modules = sequentialModules(model, depth: 2, spread: 0.1, seed: 6)
        try modules.save(to: directory, metadata: [:])
        let loadedHeads = try ParallelHeads.load(from: directory, target: targetConfig)
        #expect(Array(loadedHeads.parameters.parameters) == Array(heads.parameters.parameters))
        let loadedModules = try SequentialModules.load(from: directory, target: targetConfig)
        #expect(Array(loadedModules.parameters.parameters) == Array(modules.parameters.parameters))
        var other = targetConfig
        other.width = 64
        #expect(throws: ModelError.self) { try ParallelHeads.load(from: directory, target: other) }
        do {
            _ = try SequentialModules.load(from: directory, target: other)
        } catch let error as ModelError {
            #expect("\(error)".contains("target_width"))
        }
    }
}
