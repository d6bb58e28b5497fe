// Tree acceptance: the expected tokens per verify forward of a draft tree,
// from the probability that the drafter's r-th candidate at depth d is the
// target's token (Medusa's sparse-tree estimator, Cai et al. 2024 §2.3.3;
// ALGORITHMS.md §9, §11).
//
// Greedy verification accepts a root-to-node path; a node is on it iff every
// candidate along its path is the target's token. With q[d][r] = P(the target's
// next token is the drafter's rank-r candidate at depth d | its parent was
// accepted), the value of a node with rank path (r_1, …, r_d) is
// Π_j q[j][r_j], and the expected accepted length is τ = 1 + Σ_nodes value.
// Sibling events are disjoint (one target token), so Σ_r q[d][r] ≤ 1.

import Foundation

public struct RankAcceptance: Sendable, Equatable {
    /// q[d][r]: depth d (0 = first draft depth), rank r (0 = top-1).
    public let q: [[Double]]

    public init(_ q: [[Double]]) throws {
        guard !q.isEmpty, q.allSatisfy({ !$0.isEmpty }) else {
            throw AnalyticError("rank acceptance needs at least one depth with one rank")
        }
        for (d, row) in q.enumerated() {
            for (r, value) in row.enumerated() { try Check.probability(value, "q[\(d)][\(r)]") }
            guard row.reduce(0, +) <= 1 + 1e-9 else {
                throw AnalyticError("q[\(d)] sums to \(row.reduce(0, +)) > 1: the ranks at one depth are disjoint events")
            }
        }
        self.q = q
    }

    /// A model with top-1 conditional rates α_d and the remaining mass split
    /// geometrically over ranks: q[d][r] = α_d for r = 0, else (1 − α_d)(1 − ρ)ρ^(r−1)
    /// truncated to `ranks` candidates (ρ = how much of the leftover mass the next rank keeps).
    public static func geometric(topOne alphas: [Double], ranks: Int, decay rho: Double) throws -> RankAcceptance {
        try Check.probability(rho, "--decay")
        try Check.within(ranks, 1...1024, "--ranks", "candidates per node")
        for (d, alpha) in alphas.enumerated() { try Check.probability(alpha, "--alphas entry \(d + 1)") }
        guard !alphas.isEmpty, alphas.count <= Limits.draftLength.maximum else {
            throw AnalyticError("--alphas needs 1…\(Limits.draftLength.maximum) depths, got \(alphas.count)")
        }
        return try RankAcceptance(alphas.map { alpha in
            (0..<ranks).map { r in r == 0 ? alpha : (1 - alpha) * (1 - rho) * pow(rho, Double(r - 1)) }
        })
    }

    public var depth: Int { q.count }

    /// Value of a node given its rank path (ranks beyond the table have probability 0).
    public func value(rankPath: [Int]) -> Double {
        var value = 1.0
        for (d, r) in rankPath.enumerated() {
            guard d < q.count, r < q[d].count else { return 0 }
            value *= q[d][r]
        }
        return value
    }

    /// τ of a static tree given as rank paths of its nodes (root excluded), e.g.
    /// EAGLE-1's 25-node tree. Every prefix of a path must be in the tree.
    public func tau(staticTree paths: [[Int]]) throws -> Double {
        let set = Set(paths)
        for path in paths where path.count > 1 && !set.contains(Array(path.dropLast())) {
            throw AnalyticError("tree path \(path) has no parent \(Array(path.dropLast())) in the tree")
        }
        return 1 + paths.reduce(0) { $0 + value(rankPath: $1) }
    }

    /// τ of the best tree of each size 1…maxNodes (draft nodes, root excluded):
    /// the M largest node values, which form an ancestor-closed tree because a
    /// child's value never exceeds its parent's (EAGLE-2's rerank; Medusa's
    /// sparse tree). `width` caps the candidates per node (the drafter's top-K).
    public func bestTreeTaus(maxNodes: Int, width: Int) throws -> [Double] {
        try Check.within(maxNodes, from: 1, Limits.treeSize, "--max-nodes")
        try Check.within(width, 1...1024, "--width", "children per node")
        var frontier: [(value: Double, path: [Int])] = (0..<min(width, q[0].count)).map { (value(rankPath: [$0]), [$0]) }
        var taus: [Double] = []
        var total = 1.0
        while taus.count < maxNodes, let bestIndex = frontier.indices.max(by: { frontier[$0].value < frontier[$1].value }) {
            let best = frontier.remove(at: bestIndex)
            total += best.value
            taus.append(total)
            let d = best.path.count
            if d < q.count {
                for r in 0..<min(width, q[d].count) {
                    frontier.append((best.value * q[d][r], best.path + [r]))
                }
            }
        }
        while taus.count < maxNodes { taus.append(total) }   // the table ran out of nodes
        return taus
    }

    /// EAGLE-1's released static tree (`mc_sim_7b_63`, 25 draft nodes, depth 5; ALGORITHMS.md §10).
    public static let eagle1Tree: [[Int]] = [
        [0], [1], [2], [3],
        [0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [2, 0], [2, 1], [3, 0],
        [0, 0, 0], [0, 0, 1], [0, 0, 2], [0, 1, 0], [0, 1, 1], [0, 2, 0], [0, 2, 1], [1, 0, 0],
        [0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 2],
        [0, 0, 0, 0, 0], [0, 0, 0, 0, 1],
    ]
}
