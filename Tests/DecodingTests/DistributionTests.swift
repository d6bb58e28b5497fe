import Foundation
import LinAlg
import Testing
@testable import Decoding
@testable import Transformer

/// A bigram target over a tiny vocabulary: p(next | node) = table[token(node)].
final class BigramTarget: TargetModel, NodeDistributions {
    let table: [[Double]]
    var committed: [Int32] = []
    var lastTree = TokenTree(root: 0)
    var afterPrefill = false

    init(table: [[Double]]) { self.table = table }
    var vocabulary: Int { table.count }
    var committedLength: Int { committed.count }

    func prefill(_ prompt: [Int32], settings: SamplingSettings) -> NodeDistributions {
        committed = prompt
        lastTree = TokenTree(root: prompt.last!)
        return self
    }
    func verify(_ tree: TokenTree, settings: SamplingSettings) -> NodeDistributions {
        lastTree = tree
        return self
    }
    func accept(path: [Int]) { committed += path.map { lastTree.tokens[$0] } }
    func argmax(_ node: Int) -> Int {
        let row = table[Int(lastTree.tokens[node])]
        return row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }!
    }
    func probabilities(_ node: Int) -> [Double] { table[Int(lastTree.tokens[node])] }
}

/// A bigram draft table sampled autoregressively; records the q of every draft.
final class BigramDrafter: Drafter {
    let table: [[Double]]
    let draftLength: Int
    init(table: [[Double]], draftLength: Int) { self.table = table; self.draftLength = draftLength }
    var name: String { "bigram" }
    func reset(prompt: [Int32], first: Int32) {}
    func update(accepted: [Int32], extra: Int32) {}
    func propose(root: Int32, context: [Int32], settings: SamplingSettings, rng: RandomSource) -> DraftProposal {
        var tree = TokenTree(root: root)
        var q: [[Double]] = [[]]
        var previous = root
        for _ in 0..<draftLength {
            let row = table[Int(previous)]
            let token = Int32(sample(row, uniform: rng.uniform()))
            tree.add(token: token, parent: tree.count - 1, draftProbability: row[Int(token)])
            q.append(row)
            previous = token
        }
        return DraftProposal(tree: tree, q: q)
    }
}

/// Deterministic candidates (point masses): the draft's argmax chain, verified by V3.
final class ArgmaxDrafter: Drafter {
    let table: [[Double]]
    let draftLength: Int
    init(table: [[Double]], draftLength: Int) { self.table = table; self.draftLength = draftLength }
    var name: String { "argmax" }
    func reset(prompt: [Int32], first: Int32) {}
    func update(accepted: [Int32], extra: Int32) {}
    func propose(root: Int32, context: [Int32], settings: SamplingSettings, rng: RandomSource) -> DraftProposal {
        var drafts: [Int32] = []
        var previous = root
        for _ in 0..<draftLength {
            let row = table[Int(previous)]
            previous = Int32(row.indices.max { row[$0] < row[$1] }!)
            drafts.append(previous)
        }
        return DraftProposal(tree: .chain(root: root, drafts: drafts))
    }
}

/// A token tree from the bigram draft: every node of depth < `depth` gets `width` children drawn from
/// the draft row of its token without replacement (V4), or its top-`width` tokens as point masses (V3).
final class BigramTreeDrafter: Drafter {
    let table: [[Double]]
    let width: Int
    let depth: Int
    let sampled: Bool
    init(table: [[Double]], width: Int, depth: Int, sampled: Bool) {
        self.table = table; self.width = width; self.depth = depth; self.sampled = sampled
    }
    var name: String { "bigram-tree" }
    func reset(prompt: [Int32], first: Int32) {}
    func update(accepted: [Int32], extra: Int32) {}
    func propose(root: Int32, context: [Int32], settings: SamplingSettings, rng: RandomSource) -> DraftProposal {
        var tree = TokenTree(root: root)
        var q: [[Double]] = [[]]
        var frontier = [0]
        for _ in 0..<depth {
            var next: [Int] = []
            for node in frontier {
                let row = table[Int(tree.tokens[node])]
                var remaining = row
                for _ in 0..<width {
                    let token: Int
                    if sampled {
                        token = sample(remaining, uniform: rng.uniform())
                    } else {
                        token = remaining.indices.max { remaining[$0] < remaining[$1] }!
                    }
                    let mass = remaining.reduce(0, +)
                    next.append(tree.add(token: Int32(token), parent: node, draftProbability: remaining[token] / mass))
                    q.append(row)
                    remaining[token] = 0
                }
            }
            frontier = next
        }
        return DraftProposal(tree: tree, q: sampled ? q : nil)
    }
}

// The toy of ALGORITHMS.md §15.6: V = 4, a bigram target and a different bigram draft.
let targetTable: [[Double]] = [[0.50, 0.20, 0.20, 0.10], [0.05, 0.05, 0.60, 0.30],
                               [0.25, 0.25, 0.25, 0.25], [0.70, 0.10, 0.10, 0.10]]
let draftTable: [[Double]] = [[0.10, 0.60, 0.20, 0.10], [0.40, 0.10, 0.10, 0.40],
                              [0.05, 0.05, 0.45, 0.45], [0.25, 0.25, 0.25, 0.25]]

/// Exact probability of emitting (x1, x2, x3) after the prompt's last token s.
func exactSequenceProbability(_ s: Int, _ x: [Int]) -> Double {
    targetTable[s][x[0]] * targetTable[x[0]][x[1]] * targetTable[x[1]][x[2]]
}

/// Runs `runs` seeded generations of 3 tokens and returns (chi-square, total variation) against the exact law.
func sequenceFit(drafter: Drafter, runs: Int, residual: ResidualRule = .exact) -> (chiSquare: Double, tv: Double) {
    var counts = [Int](repeating: 0, count: 64)
    let target = BigramTarget(table: targetTable)
    let settings = SamplingSettings(temperature: 1)
    for seed in 0..<runs {
        let result = SpeculativeDecoding.generate(target: target, drafter: drafter, prompt: [0], maxNewTokens: 3,
                                                  settings: settings, seed: UInt64(seed), residual: residual)
        let x = result.tokens.map { Int($0) }
        counts[x[0] * 16 + x[1] * 4 + x[2]] += 1
    }
    var chiSquare = 0.0, tv = 0.0
    for index in 0..<64 {
        let expected = exactSequenceProbability(0, [index / 16, (index / 4) % 4, index % 4]) * Double(runs)
        chiSquare += (Double(counts[index]) - expected) * (Double(counts[index]) - expected) / expected
        tv += abs(Double(counts[index]) / Double(runs) - expected / Double(runs))
    }
    return (chiSquare, tv / 2)
}

/// χ²(63) has mean 63 and standard deviation 11.2; its 0.999 quantile is 103.4.
let chiSquareCritical = 103.4

@Suite("Losslessness on an enumerable toy (ALGORITHMS.md §15.6)")
struct DistributionTests {
    @Test("V2 chain speculative sampling reproduces the target's sequence law", arguments: [1, 2, 4])
    func chainSampling(draftLength: Int) {
        let fit = sequenceFit(drafter: BigramDrafter(table: draftTable, draftLength: draftLength), runs: 100_000)
        #expect(fit.chiSquare < chiSquareCritical, "χ² = \(fit.chiSquare)")
        #expect(fit.tv < 0.01, "TV = \(fit.tv)")
    }

    @Test("V3 with deterministic candidates reproduces the target's sequence law")
    func deterministicCandidates() {
        let fit = sequenceFit(drafter: ArgmaxDrafter(table: draftTable, draftLength: 2), runs: 100_000)
        #expect(fit.chiSquare < chiSquareCritical, "χ² = \(fit.chiSquare)")
        #expect(fit.tv < 0.01, "TV = \(fit.tv)")
    }

    @Test("V4 with siblings sampled without replacement reproduces the target's sequence law", arguments: [2, 3])
    func sampledTree(width: Int) {
        let fit = sequenceFit(drafter: BigramTreeDrafter(table: draftTable, width: width, depth: 2, sampled: true),
                              runs: 100_000)
        #expect(fit.chiSquare < chiSquareCritical, "χ² = \(fit.chiSquare)")
        #expect(fit.tv < 0.01, "TV = \(fit.tv)")
    }

    @Test("V3 on a tree of top-2 point-mass candidates reproduces the target's sequence law")
    func deterministicTree() {
        let fit = sequenceFit(drafter: BigramTreeDrafter(table: draftTable, width: 2, depth: 2, sampled: false),
                              runs: 100_000)
        #expect(fit.chiSquare < chiSquareCritical, "χ² = \(fit.chiSquare)")
        #expect(fit.tv < 0.01, "TV = \(fit.tv)")
    }

    @Test("negative check: V4 without the residual (P kept after a rejected sibling) is detected")
    func brokenTreeVerifierFails() {
        let fit = sequenceFit(drafter: BigramTreeDrafter(table: draftTable, width: 2, depth: 2, sampled: true),
                              runs: 100_000, residual: .targetDistribution)
        #expect(fit.chiSquare > chiSquareCritical, "the broken verifier passed: χ² = \(fit.chiSquare)")
    }

    @Test("negative check: resampling from p after a rejection (no residual) is detected")
    func brokenVerifierFails() {
        let fit = sequenceFit(drafter: BigramDrafter(table: draftTable, draftLength: 2), runs: 100_000,
                              residual: .targetDistribution)
        #expect(fit.chiSquare > chiSquareCritical, "the broken verifier passed: χ² = \(fit.chiSquare)")
    }

    @Test("the target as its own draft: every draft accepted, τ = γ + 1 at T = 1")
    func perfectDrafter() {
        let target = BigramTarget(table: targetTable)
        let result = SpeculativeDecoding.generate(target: target, drafter: BigramDrafter(table: targetTable, draftLength: 4),
                                                  prompt: [0], maxNewTokens: 200, settings: SamplingSettings(temperature: 1),
                                                  seed: 3)
        #expect(result.stats.tau == 5)
        #expect(result.stats.accepted == result.stats.drafted)
    }
}
