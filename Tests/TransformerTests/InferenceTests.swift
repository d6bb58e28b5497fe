import Foundation
import LinAlg
import Testing
@testable import Transformer

/// A small random model: equivalence tests need no training.
private func makeModel(seed: UInt64 = 1, tied: Bool = false) throws -> InferenceModel {
    let config = ModelConfig(name: "test", width: 32, layers: 2, heads: 4, kvHeads: 2, ffnHidden: 64,
                             contextLength: 64, tiedEmbeddings: tied)
    let network = try Network<Float>(config: config)
    network.initialize(seed: seed)
    // Larger weights than the init so that logits differ clearly between contexts.
    let rng = RandomSource(seed: seed + 100)
    for i in 0..<network.parameterCount { network.parameters[i] += Float(rng.normal(mean: 0, standardDeviation: 0.1)) }
    return InferenceModel(network: network)
}

private func tokens(_ count: Int, seed: UInt64) -> [Int32] {
    let rng = RandomSource(seed: seed)
    return (0..<count).map { _ in Int32(rng.uniformInt(below: 256)) }
}

/// Float32 sums in a different order (one m-row product vs m one-row products,
/// a longer softmax) differ by a few ULPs per operation; through 2 layers that
/// stays below 1e-4 relative to the logit scale.
private func maxRelativeDifference(_ a: [Float], _ b: [Float]) -> Float {
    let scale = max(a.map(abs).max() ?? 1, 1e-6)
    return zip(a, b).map { abs($0 - $1) }.max()! / scale
}

private func logitRows(_ model: InferenceModel, _ range: Range<Int>) -> [[Float]] {
    range.map { Array(model.logitsRow($0)) }
}

@Suite("Inference forward, KV cache and masks")
struct InferenceTests {
    @Test("a k-token forward equals k single-token forwards")
    func multiTokenEqualsSingle() throws {
        let model = try makeModel()
        let prompt = tokens(10, seed: 2), chunk = tokens(6, seed: 3)
        let a = KVCache(config: model.config), b = KVCache(config: model.config)
        _ = model.prefill(prompt, cache: a)
        _ = model.prefill(prompt, cache: b)
        model.forward([SequenceStep(tokens: chunk, cache: a)])
        let together = logitRows(model, 0..<6)
        var single: [[Float]] = []
        for t in chunk {
            model.forward([SequenceStep(tokens: [t], cache: b)])
            b.commit(1)
            single.append(Array(model.logitsRow(0)))
        }
        for i in 0..<6 { #expect(maxRelativeDifference(together[i], single[i]) < 1e-4, "row \(i)") }
    }

    @Test("the inference forward reproduces the training forward's logits")
    func inferenceMatchesTraining() throws {
        let model = try makeModel(seed: 4)
        let input = tokens(12, seed: 5)
        let state = TrainingState<Float>(config: model.config, batch: 1, length: 12)
        model.network.forwardTrunk(tokens: input, state: state)
        model.network.languageModelLoss(targets: input, state: state, weight: 0)
        let training = (0..<12).map { Array(UnsafeBufferPointer(start: state.logits + $0 * 256, count: 256)) }
        let cache = KVCache(config: model.config)
        model.forward([SequenceStep(tokens: input, cache: cache)])
        for i in 0..<12 { #expect(maxRelativeDifference(training[i], Array(model.logitsRow(i))) < 1e-4, "row \(i)") }
    }

    @Test("tree attention on a chain equals causal attention")
    func chainTreeEqualsCausal() throws {
        let model = try makeModel(seed: 6)
        let prompt = tokens(8, seed: 7), chain = tokens(5, seed: 8)
        let cache = KVCache(config: model.config)
        _ = model.prefill(prompt, cache: cache)
        model.forward([SequenceStep(tokens: chain, cache: cache)])
        let causal = logitRows(model, 0..<5)
        model.forward([SequenceStep(tokens: chain, mask: .ancestors(parents: [-1, 0, 1, 2, 3]), cache: cache)])
        let tree = logitRows(model, 0..<5)
        #expect(causal == tree)  // the same arithmetic: bit-identical
    }

    @Test("random trees: logits at node i equal running its root-to-i path as a chain (positions n + depth)")
    func treeNodesEqualTheirPaths() throws {
        let model = try makeModel(seed: 9)
        let rng = RandomSource(seed: 10)
        for trial in 0..<5 {
            let prompt = tokens(7 + trial, seed: 11 + UInt64(trial))
            let m = 9
            var parents = [-1], depth = [0]
            for i in 1..<m {
                let parent = rng.uniformInt(below: i)
                parents.append(parent)
                depth.append(depth[parent] + 1)
            }
            let nodes = tokens(m, seed: 30 + UInt64(trial))
            let cache = KVCache(config: model.config)
            _ = model.prefill(prompt, cache: cache)
            let n = cache.length
            model.forward([SequenceStep(tokens: nodes, positions: depth.map { Int32(n + $0) },
                                        mask: .ancestors(parents: parents), cache: cache)])
            let treeLogits = logitRows(model, 0..<m)
            // Flat index ≠ depth somewhere, or the test would not catch the position bug.
            #expect(depth != Array(0..<m) || trial > 0)
            for i in 0..<m {
                var path = [i]
                while parents[path[0]] >= 0 { path.insert(parents[path[0]], at: 0) }
                let fresh = KVCache(config: model.config)
                _ = model.prefill(prompt, cache: fresh)
                model.forward([SequenceStep(tokens: path.map { nodes[$0] }, cache: fresh)])
                let chainLogits = Array(model.logitsRow(path.count - 1))
                #expect(maxRelativeDifference(treeLogits[i], chainLogits) < 1e-4, "trial \(trial) node \(i)")
            }
        }
    }

    @Test("positions are n + depth: a flat-index position breaks the tree equivalence")
    func flatIndexPositionsAreWrong() throws {
        let model = try makeModel(seed: 12)
        let prompt = tokens(6, seed: 13)
        let parents = [-1, 0, 0, 1]          // node 2 is a sibling of node 1: depth 1, flat index 2
        let nodes = tokens(4, seed: 14)
        let cache = KVCache(config: model.config)
        _ = model.prefill(prompt, cache: cache)
        let n = cache.length
        model.forward([SequenceStep(tokens: nodes, positions: (0..<4).map { Int32(n + $0) },
                                    mask: .ancestors(parents: parents), cache: cache)])
        let wrong = Array(model.logitsRow(2))
        let fresh = KVCache(config: model.config)
        _ = model.prefill(prompt, cache: fresh)
        model.forward([SequenceStep(tokens: [nodes[0], nodes[2]], cache: fresh)])
        #expect(maxRelativeDifference(wrong, Array(model.logitsRow(1))) > 1e-3)
    }

    @Test("after rollback and compaction the cache equals one built from scratch on the accepted tokens")
    func rollbackAndCompaction() throws {
        let model = try makeModel(seed: 15)
        let prompt = tokens(9, seed: 16)
        let cache = KVCache(config: model.config)
        _ = model.prefill(prompt, cache: cache)
        // Chain round: 5 tentative tokens, accept 2 (+ root) → truncate to n + 3.
        let chain = tokens(5, seed: 17)
        model.forward([SequenceStep(tokens: chain, cache: cache)])
        cache.commit(5)
        cache.truncate(to: prompt.count + 3)
        var accepted = prompt + Array(chain.prefix(3))
        // Tree round: parents with i_k > k along the accepted path (order-safety).
        let parents = [-1, 0, 0, 2, 1, 3, 5]
        var depth = [0]
        for i in 1..<parents.count { depth.append(depth[parents[i]] + 1) }
        let nodes = tokens(parents.count, seed: 18)
        let n = cache.length
        model.forward([SequenceStep(tokens: nodes, positions: depth.map { Int32(n + $0) },
                                    mask: .ancestors(parents: parents), cache: cache)])
        let path = [0, 2, 3, 5, 6]
        cache.compact(path: path)
        accepted += path.map { nodes[$0] }
        let fresh = KVCache(config: model.config)
        _ = model.prefill(accepted, cache: fresh)
        #expect(cache.length == fresh.length)
        var worst: Float = 0
        for l in 0..<model.config.layers {
            for r in 0..<fresh.length {
                let a = cache.keyRow(layer: l, row: r) + cache.valueRow(layer: l, row: r)
                let b = fresh.keyRow(layer: l, row: r) + fresh.valueRow(layer: l, row: r)
                worst = max(worst, maxRelativeDifference(a, b))
            }
        }
        #expect(worst < 1e-5, "worst relative difference \(worst)")
    }

    @Test("a batch of sequences of different lengths equals separate forwards")
    func batchEqualsSeparate() throws {
        let model = try makeModel(seed: 19)
        let prompts = [tokens(5, seed: 20), tokens(11, seed: 21), tokens(8, seed: 22)]
        let news = [tokens(3, seed: 23), tokens(1, seed: 24), tokens(4, seed: 25)]
        let caches = prompts.map { _ in KVCache(config: model.config) }
        for (p, c) in zip(prompts, caches) { _ = model.prefill(p, cache: c) }
        model.forward(zip(news, caches).map { SequenceStep(tokens: $0, cache: $1) })
        let batched = logitRows(model, 0..<8)
        var separate: [[Float]] = []
        for (p, t) in zip(prompts, news) {
            let cache = KVCache(config: model.config)
            _ = model.prefill(p, cache: cache)
            model.forward([SequenceStep(tokens: t, cache: cache)])
            separate += logitRows(model, 0..<t.count)
        }
        for i in 0..<8 { #expect(maxRelativeDifference(batched[i], separate[i]) < 1e-4, "row \(i)") }
    }

    @Test("greedy generation is deterministic and matches argmax of a full forward at each step")
    func greedyGeneration() throws {
        let model = try makeModel(seed: 26)
        let generator = Generator(model: model)
        let prompt: [UInt8] = Array("int main(".utf8)
        let first = try generator.generate(prompt: prompt, maxTokens: 12, settings: .greedy, seed: 1)
        let second = try generator.generate(prompt: prompt, maxTokens: 12, settings: .greedy, seed: 99)
        #expect(first == second)
        // Recompute each token from scratch with a full causal forward over the sequence so far.
        var sequence = prompt.map { Int32($0) }
        for byte in first {
            let cache = KVCache(config: model.config)
            model.forward([SequenceStep(tokens: sequence, cache: cache)])
            let row = model.logitsRow(sequence.count - 1)
            let best = Sampling.argmax(row)
            var sorted = Array(row).sorted(by: >)
            let gap = sorted[0] - sorted[1]
            // A different argmax is only acceptable at a near-tie (§1.5 numerics).
            #expect(best == Int(byte) || gap < 1e-4 * abs(sorted[0]), "byte \(byte) vs \(best)")
            sequence.append(Int32(byte))
            sorted.removeAll()
        }
    }

    @Test("a prompt longer than the context is refused with one line")
    func promptTooLong() throws {
        let model = try makeModel()
        let generator = Generator(model: model)
        #expect(throws: ModelError.self) {
            try generator.generate(prompt: [UInt8](repeating: 65, count: 60), maxTokens: 10, settings: .greedy, seed: 1)
        }
    }
}

@Suite("Sampling warps")
struct SamplingTests {
    @Test("temperature 0 is one-hot at the argmax, ties to the lowest index")
    func greedy() {
        let p = Sampling.warp([1, 3, 3, 0], .greedy)
        #expect(p == [0, 1, 0, 0])
    }

    @Test("temperature, top-k and top-p by hand")
    func warps() {
        // T = 1: softmax of [0, ln 2, ln 3, ln 4] = [1, 2, 3, 4] / 10.
        let logits: [Float] = [0, Float(log(2.0)), Float(log(3.0)), Float(log(4.0))]
        let plain = Sampling.warp(logits, SamplingSettings(temperature: 1))
        for (got, want) in zip(plain, [0.1, 0.2, 0.3, 0.4]) { #expect(abs(got - want) < 1e-6) }
        // top-k 2 keeps 3 and 4 → [0, 0, 3/7, 4/7].
        let topK = Sampling.warp(logits, SamplingSettings(temperature: 1, topK: 2))
        for (got, want) in zip(topK, [0, 0, 3.0 / 7, 4.0 / 7]) { #expect(abs(got - want) < 1e-6) }
        // top-p 0.65: 0.4 + 0.3 = 0.7 ≥ 0.65 → keep {3, 4} → [0, 0, 3/7, 4/7].
        let topP = Sampling.warp(logits, SamplingSettings(temperature: 1, topP: 0.65))
        for (got, want) in zip(topP, [0, 0, 3.0 / 7, 4.0 / 7]) { #expect(abs(got - want) < 1e-6) }
        // T = 0.5 squares the ratios: [1, 4, 9, 16] / 30.
        let cold = Sampling.warp(logits, SamplingSettings(temperature: 0.5))
        for (got, want) in zip(cold, [1.0 / 30, 4.0 / 30, 9.0 / 30, 16.0 / 30]) { #expect(abs(got - want) < 1e-6) }
    }
}
