import Foundation
import LinAlg
import Testing
@testable import Decoding
@testable import Transformer

/// Fixed target distributions per node (vocabulary 4).
private final class FixedDistributions: NodeDistributions {
    let rows: [[Double]]
    init(_ rows: [[Double]]) { self.rows = rows }
    func argmax(_ node: Int) -> Int { rows[node].indices.max { rows[node][$0] < rows[node][$1] }! }
    func probabilities(_ node: Int) -> [Double] { rows[node] }
}

@Suite("Multi-token joint decoding (MTJD / MTAD)")
struct JointDecodingTests {
    /// Chain root → 1 → 2 with q = 1.0, 0.25; p(1 | root) = 0.2, p(2 | 1) = 1: R_1 = 0.2, R_2 = 0.8.
    /// With η between them the longest passing prefix is both drafts, where stopping at the first
    /// failure would keep none: the rule is "longest prefix", as MTAD specifies.
    @Test("joint-ratio verification by hand: the longest prefix whose ratio reaches η")
    func jointRatioByHand() throws {
        var tree = TokenTree(root: 0)
        _ = tree.add(token: 1, parent: 0, draftProbability: 1.0)
        _ = tree.add(token: 2, parent: 1, draftProbability: 0.25)
        let target = FixedDistributions([[0.1, 0.2, 0.3, 0.4], [0, 0, 1, 0], [0.7, 0.1, 0.1, 0.1]])
        let settings = SamplingSettings(temperature: 1)
        var checked = 0
        for seed in UInt64(1)...200 {
            let eta = RandomSource(seed: seed).uniform()
            let result = Verification.jointRatio(tree: tree, target: target, settings: settings, rng: RandomSource(seed: seed))
            let expected = eta <= 0.8 ? 2 : 0
            #expect(result.accepted == expected, "η \(eta)")
            if eta > 0.2 && eta <= 0.8 { checked += 1 }
        }
        #expect(checked > 20)
    }

    @Test("MTAD at T = 0 is plain greedy decoding, whatever the beam width")
    func greedySanity() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 51)
        let auxiliary = try randomModel(targetConfig, seed: 52, spread: 0.3)
        let reference = plainGreedy(model, tokens: 40)
        for width in [1, 3] {
            let drafter = BeamDrafter(model: auxiliary, draftLength: 4, width: width)
            let result = SpeculativeDecoding.generate(target: TransformerTarget(model: model), drafter: drafter, prompt: prompt,
                                                      maxNewTokens: 40, settings: .greedy, seed: 1, acceptance: .jointRatio)
            #expect(result.tokens == reference, "width \(width)")
        }
    }

    /// Width 1 keeps the single most likely token at every depth: the greedy chain of a plain draft model.
    @Test("beam width 1 proposes the draft model's greedy chain")
    func widthOneIsGreedy() throws {
        InferenceModel.productThreads = 1
        let auxiliary = try randomModel(targetConfig, seed: 53, spread: 0.3)
        let beam = BeamDrafter(model: auxiliary, draftLength: 4, width: 1)
        beam.reset(prompt: prompt, first: 7)
        let proposed = beam.propose(root: 7, context: prompt, settings: .greedy, rng: RandomSource(seed: 1)).tree.tokens
        var expected: [Int32] = [7]
        for _ in 0..<4 {
            let cache = KVCache(config: auxiliary.config)
            auxiliary.forward([SequenceStep(tokens: prompt + expected, cache: cache)])
            expected.append(Int32(Sampling.argmax(auxiliary.logitsRow(prompt.count + expected.count - 1))))
        }
        #expect(proposed == expected)
    }

    /// The beam's rows are tentative rows that see only their own beam: each proposed token's probability
    /// must equal the draft model's conditional computed from scratch on context + the beam's prefix.
    @Test("beam search scores each beam by the draft model's own conditionals (tentative rows see only their beam)")
    func beamScores() throws {
        InferenceModel.productThreads = 1
        let auxiliary = try randomModel(targetConfig, seed: 54, spread: 0.3)
        let beam = BeamDrafter(model: auxiliary, draftLength: 4, width: 3)
        beam.reset(prompt: prompt, first: 7)
        let settings = SamplingSettings(temperature: 1)
        let tree = beam.propose(root: 7, context: prompt, settings: settings, rng: RandomSource(seed: 2)).tree
        #expect(tree.count == 5 && tree.isChain)
        for i in 1..<tree.count {
            let prefix = Array(tree.tokens[0..<i])
            let cache = KVCache(config: auxiliary.config)
            auxiliary.forward([SequenceStep(tokens: prompt + prefix, cache: cache)])
            let q = Sampling.warp(Array(auxiliary.logitsRow(prompt.count + prefix.count - 1)), settings)
            #expect(abs(q[Int(tree.tokens[i])] - tree.draftProbabilities[i]) < 1e-4, "depth \(i)")
        }
    }

    /// With the target as its own auxiliary model every ratio is 1: MTAD keeps every draft.
    @Test("the target as its own drafter: every joint ratio is 1, every draft kept")
    func targetAsDrafter() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 55)
        let own = BeamDrafter(model: InferenceModel(network: model.network), draftLength: 3, width: 2)
        let sampled = SpeculativeDecoding.generate(target: TransformerTarget(model: model), drafter: own, prompt: prompt,
                                                   maxNewTokens: 40, settings: SamplingSettings(temperature: 1), seed: 3,
                                                   acceptance: .jointRatio)
        #expect(sampled.stats.accepted == sampled.stats.drafted && sampled.stats.drafted == 3 * sampled.stats.rounds)
    }

    /// Depth 2 with as many beams as tokens is exhaustive: the block is the exact argmax of the joint
    /// p(x1, x2 | context) over all V² pairs (checked by brute force), and at least as likely as greedy's.
    @Test("MTJD's beam at depth 2 and width V is the exact joint argmax")
    func exactJointArgmax() throws {
        InferenceModel.productThreads = 1
        let model = try randomModel(targetConfig, seed: 56, spread: 0.3)
        let vocabulary = model.config.vocab, root: Int32 = 7
        let beam = BeamDrafter(model: InferenceModel(network: model.network), draftLength: 2, width: vocabulary)
        beam.reset(prompt: prompt, first: root)
        let block = Array(beam.propose(root: root, context: prompt, settings: .greedy, rng: RandomSource(seed: 1)).tree.tokens.dropFirst())
        func logSoftmax(_ logits: UnsafeBufferPointer<Float>) -> [Double] {
            let m = Double(logits.max()!)
            let z = Foundation.log(logits.reduce(0) { $0 + Foundation.exp(Double($1) - m) })
            return logits.map { Double($0) - m - z }
        }
        let context = prompt + [root]
        let cache = KVCache(config: model.config)
        model.forward([SequenceStep(tokens: context, cache: cache)])
        let first = logSoftmax(model.logitsRow(context.count - 1))
        var best = (score: -Double.infinity, pair: [Int32]())
        for x1 in 0..<vocabulary {
            let c = KVCache(config: model.config)
            model.forward([SequenceStep(tokens: context + [Int32(x1)], cache: c)])
            let second = logSoftmax(model.logitsRow(context.count))
            let x2 = second.indices.max { second[$0] < second[$1] }!
            if first[x1] + second[x2] > best.score { best = (first[x1] + second[x2], [Int32(x1), Int32(x2)]) }
        }
        #expect(block == best.pair)
        // Greedy's pair: the most likely first token, then the most likely second after it.
        let greedy1 = first.indices.max { first[$0] < first[$1] }!
        let c = KVCache(config: model.config)
        model.forward([SequenceStep(tokens: context + [Int32(greedy1)], cache: c)])
        let second = logSoftmax(model.logitsRow(context.count))
        #expect(best.score >= first[greedy1] + second.max()! - 1e-12)
    }
}
