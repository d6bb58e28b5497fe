// Verifiers (ALGORITHMS.md §2): given a token tree and the target's warped
// distribution p at every node, return the accepted path and the extra token
// y (the correction after a rejection, or the bonus after full acceptance).
// V1 greedy match, V2 chain speculative sampling (Leviathan et al. 2023,
// Chen et al. 2023), V3 tree verification with deterministic candidates, V4
// tree verification with candidates sampled without replacement (SpecInfer,
// Miao et al. 2024; EAGLE-1 at T > 0).

import Foundation
import LinAlg
import Transformer

/// The target's view of the tree nodes after one verify forward.
public protocol NodeDistributions: AnyObject {
    /// argmax of the target's logits at node i (ties to the lowest index).
    func argmax(_ node: Int) -> Int
    /// The warped target distribution p at node i (the distribution of the token after node i).
    func probabilities(_ node: Int) -> [Double]
}

public struct VerifyResult: Sendable, Equatable {
    /// Accepted tree indices, root (0) first.
    public var path: [Int]
    /// The extra token emitted after the accepted drafts.
    public var extra: Int32
    public var accepted: Int { path.count - 1 }
}

/// Draws from a (not necessarily normalised) non-negative vector with one uniform.
@inline(__always)
func sample(_ weights: [Double], uniform u: Double) -> Int {
    let total = weights.reduce(0, +)
    var target = u * total, last = 0
    for (i, w) in weights.enumerated() where w > 0 {
        last = i
        if target < w { return i }
        target -= w
    }
    return last
}

/// How the token after a rejection is drawn. `exact` is normalize(max(0, p − q))
/// (the only lossless rule); `targetDistribution` resamples from p itself, the
/// classic bug (it double-counts tokens the draft already proposed), kept
/// internal so the distribution test can show that it fails.
enum ResidualRule: Sendable {
    case exact
    case targetDistribution
}

/// How drafts are accepted: losslessly (V1 at T = 0; V2, V3 or V4 at T > 0), or by Medusa's
/// typical acceptance (V5), which does not reproduce the target distribution.
public enum AcceptanceRule: Sendable, Equatable {
    case lossless
    /// Accept while p(token) > min(ε, δ · exp(−H(p))); Medusa's defaults ε = 0.09, δ = 0.3.
    case typical(epsilon: Double, delta: Double)
    /// Keep every draft of the chain unchecked (threshold generation without verification, as
    /// speech LLMs decode with MTP heads): the target's forward only extends its cache and gives
    /// the token after the last draft. Lossy.
    case unverified
    /// MTAD (Qin et al. 2025): the longest chain prefix whose joint likelihood ratio target/drafter reaches
    /// one uniform threshold per round. Lossy at T > 0; greedy matching at T = 0.
    case jointRatio

    public var isLossless: Bool { self == .lossless }
}

public enum Verification {
    /// Keeps the whole first-child chain of the tree (every draft of a chain); the extra token is the
    /// target's at its last node — its argmax at T = 0, else a sample from p.
    public static func unverified(tree: TokenTree, target: NodeDistributions, settings: SamplingSettings,
                                  rng: RandomSource) -> VerifyResult {
        let path = firstChildChain(tree)
        return VerifyResult(path: path, extra: targetToken(after: path.last!, target: target, settings: settings, rng: rng))
    }

    /// The root and, from each node, its first child: a chain's every node.
    static func firstChildChain(_ tree: TokenTree) -> [Int] {
        var chain = [0]
        while let child = (1..<tree.count).first(where: { tree.parents[$0] == chain.last! }) { chain.append(child) }
        return chain
    }

    /// The target's own token after `node`: its argmax at T = 0, else a sample from p (the lossy rules' extra token).
    static func targetToken(after node: Int, target: NodeDistributions, settings: SamplingSettings, rng: RandomSource) -> Int32 {
        Int32(settings.temperature == 0 ? target.argmax(node) : sample(target.probabilities(node), uniform: rng.uniform()))
    }

    /// V5 (Cai et al. 2024, lossy): along every root-to-leaf path accept drafts while
    /// p_parent(token) > min(ε, δ · exp(−H(p_parent))); keep the longest accepted path
    /// (ties: the larger Σ log p); the extra token is the argmax at its last node.
    public static func typical(tree: TokenTree, target: NodeDistributions, epsilon: Double, delta: Double) -> VerifyResult {
        var threshold: [Int: Double] = [:]
        func limit(_ node: Int) -> Double {
            if let t = threshold[node] { return t }
            let p = target.probabilities(node)
            var entropy = 0.0
            for x in p where x > 0 { entropy -= x * Foundation.log(x) }
            let t = min(epsilon, delta * Foundation.exp(-entropy))
            threshold[node] = t
            return t
        }
        // ok[i]: node i and all its ancestors pass; logSum[i]: Σ log p along the path.
        var ok = [Bool](repeating: false, count: tree.count), logSum = [Double](repeating: 0, count: tree.count)
        ok[0] = true
        var best = 0
        for i in 1..<tree.count {
            let parent = tree.parents[i]
            guard ok[parent] else { continue }
            let p = target.probabilities(parent)[Int(tree.tokens[i])]
            guard p > limit(parent) else { continue }
            ok[i] = true
            logSum[i] = logSum[parent] + Foundation.log(p)
            if tree.depths[i] > tree.depths[best] || (tree.depths[i] == tree.depths[best] && logSum[i] > logSum[best]) { best = i }
        }
        return VerifyResult(path: tree.path(to: best), extra: Int32(target.argmax(best)))
    }

    /// V1: follow the child whose token is the target's argmax; stop when none matches.
    public static func greedy(tree: TokenTree, target: NodeDistributions) -> VerifyResult {
        var node = 0, path = [0]
        while true {
            let best = target.argmax(node)
            guard let child = tree.children(of: node).first(where: { Int(tree.tokens[$0]) == best }) else {
                return VerifyResult(path: path, extra: Int32(best))
            }
            node = child
            path.append(child)
        }
    }

    /// V2 on a chain whose node i (1...γ) was drawn from q[i] (full distributions).
    public static func chainSampling(tree: TokenTree, q: [[Double]], target: NodeDistributions,
                                     rng: RandomSource) -> VerifyResult {
        chainSampling(tree: tree, q: q, target: target, rng: rng, residual: .exact)
    }

    static func chainSampling(tree: TokenTree, q: [[Double]], target: NodeDistributions, rng: RandomSource,
                              residual rule: ResidualRule) -> VerifyResult {
        precondition(tree.isChain, "V2 verifies chains; use V3/V4 for trees")
        var path = [0]
        for i in 1..<tree.count {
            let token = Int(tree.tokens[i])
            let p = target.probabilities(i - 1)
            let qi = q[i]
            precondition(qi[token] > 0, "V2: the draft token must have q > 0")
            let u = rng.uniform()
            if u * qi[token] < p[token] {
                path.append(i)
                continue
            }
            var residual = [Double](repeating: 0, count: p.count)
            for x in 0..<p.count {
                residual[x] = rule == .exact ? max(0, p[x] - qi[x]) : p[x]
            }
            let mass = residual.reduce(0, +)
            let y = mass < 1e-12 ? sample(p, uniform: rng.uniform()) : sample(residual, uniform: rng.uniform())
            return VerifyResult(path: path, extra: Int32(y))
        }
        let bonus = sample(target.probabilities(tree.count - 1), uniform: rng.uniform())
        return VerifyResult(path: path, extra: Int32(bonus))
    }

    /// V4: the children of a node were drawn from the drafter's q at that node
    /// without replacement, in rank order; `q[i]` is that full distribution for
    /// node i (the same for all siblings). Sibling j is tested against
    /// q^{(j)} = q with the earlier siblings removed and renormalised, and the
    /// running target P becomes normalize(max(0, P − q^{(j)})) after a rejection.
    public static func sampledTree(tree: TokenTree, q: [[Double]], target: NodeDistributions,
                                   rng: RandomSource) -> VerifyResult {
        sampledTree(tree: tree, q: q, target: target, rng: rng, residual: .exact)
    }

    static func sampledTree(tree: TokenTree, q: [[Double]], target: NodeDistributions, rng: RandomSource,
                            residual rule: ResidualRule) -> VerifyResult {
        var node = 0, path = [0]
        while true {
            var p = target.probabilities(node)
            var descended = false
            let children = tree.children(of: node)
            if let first = children.first {
                var qj = q[first]
                for child in children {
                    let token = Int(tree.tokens[child])
                    precondition(qj[token] > 0, "V4: a sampled candidate must have q > 0")
                    if rng.uniform() * qj[token] < p[token] {
                        node = child
                        path.append(child)
                        descended = true
                        break
                    }
                    if rule == .exact {
                        for x in 0..<p.count { p[x] = max(0, p[x] - qj[x]) }
                        let mass = p.reduce(0, +)
                        if mass > 1e-12 { for x in 0..<p.count { p[x] /= mass } }
                    }
                    // The next sibling was drawn from q without the siblings before it.
                    qj[token] = 0
                    let qMass = qj.reduce(0, +)
                    guard qMass > 1e-12 else { break }
                    for x in 0..<qj.count { qj[x] /= qMass }
                }
            }
            if !descended {
                let mass = p.reduce(0, +)
                let y = mass < 1e-12 ? sample(target.probabilities(node), uniform: rng.uniform()) : sample(p, uniform: rng.uniform())
                return VerifyResult(path: path, extra: Int32(y))
            }
        }
    }

    /// V3: children are fixed candidates (point masses), tried in rank order
    /// against the running residual of p; a chain is the one-child case.
    public static func deterministicTree(tree: TokenTree, target: NodeDistributions, rng: RandomSource) -> VerifyResult {
        var node = 0, path = [0]
        while true {
            var p = target.probabilities(node)
            var descended = false
            for child in tree.children(of: node) {
                let token = Int(tree.tokens[child])
                if rng.uniform() < p[token] {
                    node = child
                    path.append(child)
                    descended = true
                    break
                }
                p[token] = 0
                let mass = p.reduce(0, +)
                guard mass > 0 else { break }
                for x in 0..<p.count { p[x] /= mass }
            }
            if !descended {
                return VerifyResult(path: path, extra: Int32(sample(p, uniform: rng.uniform())))
            }
        }
    }
}
