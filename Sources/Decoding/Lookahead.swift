// Jacobi / lookahead decoding (Santilli et al. 2023; Fu et al. 2024;
// ALGORITHMS.md §13), in the round form of the speculation loop. The drafter
// keeps a window of W guessed tokens after the pending token and proposes it
// as a chain (a Jacobi iteration: the target's outputs at the chain's nodes
// become the next guesses), plus up to G n-grams from a pool keyed by their
// first token that start with the pending token (the verification branch).
// The pool is filled from the Jacobi trajectories: the token at position p in
// one iteration, at p + 1 in the next, …, over N iterations. Everything is
// verified by the target (V1 / V3), so the output is exactly the target's.
//
// Our simplification: the lookahead branch is a single Jacobi chain that is
// itself a candidate (verified), and the levels are the iterates of the last
// N rounds, not N − 1 levels fed in every forward as in Fu et al.;
// a CPU has no spare parallel compute for the extra levels.

import Foundation
import LinAlg
import Transformer

public final class LookaheadDrafter: Drafter {
    public let target: InferenceModel
    /// W: guessed tokens after the pending one.
    public let window: Int
    /// N: n-gram length (first token + N − 1 continuation tokens).
    public let ngram: Int
    /// G: pool n-grams verified per round.
    public let candidates: Int
    /// Guesses for the positions after the pending token.
    private var guesses: [Int32] = []
    /// Past Jacobi levels: for each of the last N rounds, absolute position → the target's output token.
    private var levels: [[Int: Int32]] = []
    /// first token → continuations (N − 1 tokens), most recent last.
    public private(set) var pool: [Int32: [[Int32]]] = [:]
    /// Tree node → absolute position of the chain nodes of the last proposal.
    private var chainNodes: [(node: Int, position: Int)] = []
    private var rootPosition = 0

    public init(target: InferenceModel, window: Int = 5, ngram: Int = 3, candidates: Int = 5) {
        precondition(window >= 1 && ngram >= 2 && candidates >= 0, "lookahead needs W ≥ 1, N ≥ 2, G ≥ 0")
        self.target = target
        self.window = window
        self.ngram = ngram
        self.candidates = candidates
    }

    public var name: String { "lookahead" }

    public func reset(prompt: [Int32], first: Int32) {
        // Initial guesses: the prompt's last W tokens (Fu et al. seed the window from the prompt).
        guesses = Array(prompt.suffix(window))
        while guesses.count < window { guesses.append(prompt.last ?? 0) }
        levels = []
        pool = [:]
        // The prompt's own n-grams seed the pool.
        if prompt.count >= ngram {
            for start in 0...(prompt.count - ngram) {
                add(Array(prompt[start..<(start + ngram)]))
            }
        }
    }

    private func add(_ gram: [Int32]) {
        let continuation = Array(gram.dropFirst())
        var list = pool[gram[0], default: []]
        list.removeAll { $0 == continuation }
        list.append(continuation)
        if list.count > 4 * max(candidates, 1) { list.removeFirst() }
        pool[gram[0]] = list
    }

    public func update(accepted: [Int32], extra: Int32) {}

    public func propose(root: Int32, context: [Int32], settings: SamplingSettings, rng: RandomSource) -> DraftProposal {
        rootPosition = context.count
        var tree = TokenTree(root: root)
        // Children by (parent, token), so branches that share a prefix share nodes (siblings distinct).
        var children: [Int: [Int32: Int]] = [:]
        func extend(_ parent: Int, _ token: Int32) -> Int {
            if let existing = children[parent]?[token] { return existing }
            let node = tree.add(token: token, parent: parent)
            children[parent, default: [:]][token] = node
            return node
        }
        chainNodes = []
        var node = 0
        for (i, token) in guesses.enumerated() {
            node = extend(node, token)
            chainNodes.append((node, rootPosition + 1 + i))
        }
        for continuation in (pool[root] ?? []).suffix(candidates).reversed() {
            var parent = 0
            for token in continuation { parent = extend(parent, token) }
        }
        return DraftProposal(tree: tree)
    }

    public func targetForwardDone(keptRows: [Int]) {
        guard !chainNodes.isEmpty else { return }   // the prefill: no chain yet
        let offset = keptRows[0]   // the root's row in the last forward
        // The target's outputs at the chain nodes: the next Jacobi iterate, by absolute position.
        var level: [Int: Int32] = [:]
        level[rootPosition + 1] = Int32(Sampling.argmax(target.logitsRow(offset)))
        for (node, position) in chainNodes {
            level[position + 1] = Int32(Sampling.argmax(target.logitsRow(offset + node)))
        }
        // n-grams along the trajectories: level j at p, level j + 1 at p + 1, … (each output was
        // computed with the previous level's token at the position before it as input).
        levels.append(level)
        if levels.count > ngram { levels.removeFirst(levels.count - ngram) }
        if levels.count == ngram {
            for (p, first) in levels[0] {
                var gram = [first]
                for j in 1..<ngram {
                    guard let next = levels[j][p + j] else { break }
                    gram.append(next)
                }
                if gram.count == ngram { add(gram) }
            }
        }
        // The next round's guesses: this iterate after the newly committed tokens.
        let committedEnd = rootPosition + keptRows.count   // position of the new pending token
        guesses = (0..<window).map { i in level[committedEnd + 1 + i] ?? level.values.first ?? 0 }
        chainNodes = []
    }
}
