// Decoding: every decoding method of ALGORITHMS.md on the reference
// transformer — token trees, verifiers, the speculation loop with its
// counters, and the drafters. Depends on Transformer and LinAlg only.
//
// One mechanism: plain decoding is speculation with draft length 0, a chain
// is a tree with one child per node, and every verifier consumes a token tree
// plus the target's distributions at its nodes.

import Foundation
import Transformer

/// A token tree as flat arrays (ALGORITHMS.md §1.3). Node 0 is the root (the
/// pending token r); parents precede children; children are listed in rank order.
public struct TokenTree: Sendable, Equatable {
    public private(set) var tokens: [Int32]
    public private(set) var parents: [Int]
    public private(set) var depths: [Int]
    /// Order among siblings (0 = the drafter's first choice).
    public private(set) var ranks: [Int]
    /// q-probability the verifier uses for this node (V4: of the without-replacement draw).
    public private(set) var draftProbabilities: [Double]

    public init(root: Int32) {
        tokens = [root]; parents = [-1]; depths = [0]; ranks = [0]; draftProbabilities = [1]
    }

    /// A chain root → d_1 → … → d_γ.
    public static func chain(root: Int32, drafts: [Int32], probabilities: [Double]? = nil) -> TokenTree {
        var tree = TokenTree(root: root)
        for (i, token) in drafts.enumerated() {
            _ = tree.add(token: token, parent: i, draftProbability: probabilities?[i] ?? 1)
        }
        return tree
    }

    public var count: Int { tokens.count }
    public var depth: Int { depths.max() ?? 0 }

    /// Adds a child of `parent`; returns its index.
    @discardableResult
    public mutating func add(token: Int32, parent: Int, draftProbability: Double = 1) -> Int {
        precondition(parent >= 0 && parent < count, "TokenTree.add: parent \(parent) not in the tree")
        let rank = parents.filter { $0 == parent }.count
        tokens.append(token); parents.append(parent); depths.append(depths[parent] + 1); ranks.append(rank)
        draftProbabilities.append(draftProbability)
        return count - 1
    }

    /// Children of node i in rank order.
    public func children(of i: Int) -> [Int] {
        (0..<count).filter { parents[$0] == i }
    }

    /// Positions of the nodes for a cache holding n tokens: n + depth (§1.2).
    public func positions(cacheLength n: Int) -> [Int32] { depths.map { Int32(n + $0) } }

    /// The ancestor mask of the tree (§1.3); a chain's is causal.
    public var mask: AttentionMask { isChain ? .causal : .ancestors(parents: parents) }

    public var isChain: Bool { parents.enumerated().allSatisfy { $0.element == $0.offset - 1 } }

    /// The root-to-node path of node i (tree indices, root first).
    public func path(to i: Int) -> [Int] {
        var path = [i]
        while parents[path[0]] >= 0 { path.insert(parents[path[0]], at: 0) }
        return path
    }
}
