import LinAlg
import Testing
@testable import Transformer

/// Central finite differences in Double: (L(θ + ε) − L(θ − ε)) / 2ε with
/// ε = 1e-5 has truncation error O(ε²) ≈ 1e-10 relative and rounding error
/// ≈ 1e-16 / ε ≈ 1e-11, so analytic and numeric gradients must agree to ~1e-6
/// relative (we allow 1e-5 plus a 1e-8 absolute floor for near-zero entries).
private let epsilon = 1e-5
private func close(_ analytic: Double, _ numeric: Double) -> Bool {
    abs(analytic - numeric) <= 1e-5 * max(abs(analytic), abs(numeric)) + 1e-8
}

private func randomArray(_ count: Int, _ rng: RandomSource, scale: Double = 1) -> [Double] {
    (0..<count).map { _ in rng.normal(mean: 0, standardDeviation: scale) }
}

/// Checks d(Σ r ⊙ f(x))/dx for a layer given as a forward and an accumulating backward.
private func checkLayer(inputs: inout [Double], outputCount: Int, seed: UInt64,
                        forward: ([Double]) -> [Double],
                        backward: ([Double], [Double]) -> [Double]) -> (worst: Double, ok: Bool) {
    let rng = RandomSource(seed: seed)
    let r = randomArray(outputCount, rng)
    func loss(_ x: [Double]) -> Double { zip(forward(x), r).reduce(0) { $0 + $1.0 * $1.1 } }
    let analytic = backward(inputs, r)
    var worst = 0.0, ok = true
    for i in inputs.indices {
        let saved = inputs[i]
        inputs[i] = saved + epsilon; let plus = loss(inputs)
        inputs[i] = saved - epsilon; let minus = loss(inputs)
        inputs[i] = saved
        let numeric = (plus - minus) / (2 * epsilon)
        worst = max(worst, abs(analytic[i] - numeric))
        if !close(analytic[i], numeric) { ok = false }
    }
    return (worst, ok)
}

@Suite("Gradient checks (Double, central differences)")
struct GradientCheckTests {
    @Test("matmul: d/dinput and d/dweight")
    func matmul() {
        let n = 3, c = 5, oc = 4
        let rng = RandomSource(seed: 1)
        var packed = randomArray(n * c + oc * c, rng)
        let result = checkLayer(inputs: &packed, outputCount: n * oc, seed: 2, forward: { x in
            var out = [Double](repeating: 0, count: n * oc)
            x.withUnsafeBufferPointer { xp in
                Layers.matmulForward(out: &out, inp: xp.baseAddress!, weight: xp.baseAddress! + n * c, n: n, c: c, oc: oc)
            }
            return out
        }, backward: { x, r in
            var grad = [Double](repeating: 0, count: x.count)
            x.withUnsafeBufferPointer { xp in
                grad.withUnsafeMutableBufferPointer { gp in
                    Layers.matmulBackward(dinp: gp.baseAddress!, dweight: gp.baseAddress! + n * c, dout: r, inp: xp.baseAddress!,
                                          weight: xp.baseAddress! + n * c, n: n, c: c, oc: oc)
                }
            }
            return grad
        })
        #expect(result.ok, "worst abs error \(result.worst)")
    }

    @Test("RMSNorm: d/dinput and d/dweight")
    func rmsnorm() {
        let n = 3, c = 6
        let rng = RandomSource(seed: 3)
        var packed = randomArray(n * c + c, rng)
        let result = checkLayer(inputs: &packed, outputCount: n * c, seed: 4, forward: { x in
            var out = [Double](repeating: 0, count: n * c), rstd = [Double](repeating: 0, count: n)
            x.withUnsafeBufferPointer { xp in
                Layers.rmsnormForward(out: &out, rstd: &rstd, inp: xp.baseAddress!, weight: xp.baseAddress! + n * c,
                                      n: n, c: c, epsilon: 1e-5)
            }
            return out
        }, backward: { x, r in
            var grad = [Double](repeating: 0, count: x.count)
            var out = [Double](repeating: 0, count: n * c), rstd = [Double](repeating: 0, count: n)
            x.withUnsafeBufferPointer { xp in
                Layers.rmsnormForward(out: &out, rstd: &rstd, inp: xp.baseAddress!, weight: xp.baseAddress! + n * c,
                                      n: n, c: c, epsilon: 1e-5)
                grad.withUnsafeMutableBufferPointer { gp in
                    Layers.rmsnormBackward(dinp: gp.baseAddress!, dweight: gp.baseAddress! + n * c, dout: r,
                                           inp: xp.baseAddress!, weight: xp.baseAddress! + n * c, rstd: rstd, n: n, c: c)
                }
            }
            return grad
        })
        #expect(result.ok, "worst abs error \(result.worst)")
    }

    @Test("SwiGLU: d/dgate and d/dup")
    func swiglu() {
        let count = 7
        let rng = RandomSource(seed: 5)
        var packed = randomArray(2 * count, rng, scale: 2)
        let result = checkLayer(inputs: &packed, outputCount: count, seed: 6, forward: { x in
            var out = [Double](repeating: 0, count: count)
            x.withUnsafeBufferPointer { xp in
                Layers.swigluForward(out: &out, gate: xp.baseAddress!, up: xp.baseAddress! + count, count: count)
            }
            return out
        }, backward: { x, r in
            var grad = [Double](repeating: 0, count: x.count)
            x.withUnsafeBufferPointer { xp in
                grad.withUnsafeMutableBufferPointer { gp in
                    Layers.swigluBackward(dgate: gp.baseAddress!, dup: gp.baseAddress! + count, dout: r,
                                          gate: xp.baseAddress!, up: xp.baseAddress! + count, count: count)
                }
            }
            return grad
        })
        #expect(result.ok, "worst abs error \(result.worst)")
    }

    @Test("RoPE: the backward (inverse rotation) is the transpose of the forward")
    func rope() {
        let n = 4, heads = 2, hd = 6
        let positions: [Int32] = [0, 3, 7, 1]
        let rng = RandomSource(seed: 7)
        var packed = randomArray(n * heads * hd, rng)
        let result = checkLayer(inputs: &packed, outputCount: n * heads * hd, seed: 8, forward: { x in
            var out = x
            Layers.rope(&out, positions: positions, n: n, heads: heads, headDim: hd, theta: 10_000)
            return out
        }, backward: { _, r in
            var grad = r
            Layers.rope(&grad, positions: positions, n: n, heads: heads, headDim: hd, theta: 10_000, direction: -1)
            return grad
        })
        #expect(result.ok, "worst abs error \(result.worst)")
    }

    @Test("causal attention with grouped KV heads: d/dq, d/dk, d/dv")
    func attention() {
        let batch = 2, length = 4, heads = 4, kvHeads = 2, hd = 3
        let nq = batch * length * heads * hd, nkv = batch * length * kvHeads * hd
        let rng = RandomSource(seed: 9)
        var packed = randomArray(nq + 2 * nkv, rng)
        func run(_ x: [Double], _ r: [Double]?) -> ([Double], [Double]) {
            var out = [Double](repeating: 0, count: nq)
            var probs = [Double](repeating: 0, count: batch * heads * length * length)
            var grad = [Double](repeating: 0, count: x.count)
            var scratch = [Double](repeating: 0, count: length * length)
            x.withUnsafeBufferPointer { xp in
                let q = xp.baseAddress!, k = q + nq, v = k + nkv
                Layers.attentionForward(out: &out, probs: &probs, q: q, k: k, v: v, batch: batch, length: length,
                                        heads: heads, kvHeads: kvHeads, headDim: hd)
                if let r {
                    grad.withUnsafeMutableBufferPointer { gp in
                        let g = gp.baseAddress!
                        Layers.attentionBackward(dq: g, dk: g + nq, dv: g + nq + nkv, dout: r, probs: probs, q: q, k: k,
                                                 v: v, scratch: &scratch, batch: batch, length: length, heads: heads,
                                                 kvHeads: kvHeads, headDim: hd)
                    }
                }
            }
            return (out, grad)
        }
        let result = checkLayer(inputs: &packed, outputCount: nq, seed: 10, forward: { run($0, nil).0 },
                                backward: { run($0, $1).1 })
        #expect(result.ok, "worst abs error \(result.worst)")
    }

    @Test("softmax cross-entropy: d/dlogits")
    func crossEntropy() {
        let n = 3, v = 5
        let targets: [Int32] = [1, 4, 0]
        let rng = RandomSource(seed: 11)
        var logits = randomArray(n * v, rng, scale: 2)
        func loss(_ z: [Double]) -> Double {
            var losses = [Double](repeating: 0, count: n), probs = [Double](repeating: 0, count: n * v)
            Layers.crossEntropyForward(losses: &losses, probs: &probs, logits: z, targets: targets, n: n, v: v)
            return losses.reduce(0, +) / Double(n)
        }
        var losses = [Double](repeating: 0, count: n), probs = [Double](repeating: 0, count: n * v)
        Layers.crossEntropyForward(losses: &losses, probs: &probs, logits: logits, targets: targets, n: n, v: v)
        var grad = [Double](repeating: 0, count: n * v)
        Layers.crossEntropyBackward(dlogits: &grad, probs: probs, targets: targets, n: n, v: v, scale: 1 / Double(n))
        for i in logits.indices {
            let saved = logits[i]
            logits[i] = saved + epsilon; let plus = loss(logits)
            logits[i] = saved - epsilon; let minus = loss(logits)
            logits[i] = saved
            #expect(close(grad[i], (plus - minus) / (2 * epsilon)), "logit \(i)")
        }
    }

    @Test("whole network: every parameter's gradient of the mean next-token loss")
    func wholeNetwork() throws {
        let config = ModelConfig(name: "check", vocab: 11, width: 8, layers: 2, heads: 2, kvHeads: 1, ffnHidden: 12,
                                 contextLength: 8, tiedEmbeddings: false)
        let network = try Network<Double>(config: config)
        network.initialize(seed: 12)
        // Larger weights than the 0.02 init so that every path carries signal.
        let rng = RandomSource(seed: 13)
        for i in 0..<network.parameterCount { network.parameters[i] += rng.normal(mean: 0, standardDeviation: 0.3) }
        let state = TrainingState<Double>(config: config, batch: 2, length: 5)
        let tokens: [Int32] = (0..<10).map { Int32(($0 * 7 + 3) % 11) }
        let targets: [Int32] = (0..<10).map { Int32(($0 * 5 + 1) % 11) }
        network.lossAndGradients(tokens: tokens, targets: targets, state: state)
        let analytic = Array(network.gradients)
        var failures = 0, worst = 0.0
        for i in 0..<network.parameterCount {
            let saved = network.parameters[i]
            network.parameters[i] = saved + epsilon
            network.forwardTrunk(tokens: tokens, state: state)
            let plus = network.languageModelLoss(targets: targets, state: state, weight: 0)
            network.parameters[i] = saved - epsilon
            network.forwardTrunk(tokens: tokens, state: state)
            let minus = network.languageModelLoss(targets: targets, state: state, weight: 0)
            network.parameters[i] = saved
            let numeric = (plus - minus) / (2 * epsilon)
            worst = max(worst, abs(numeric - analytic[i]))
            if !close(analytic[i], numeric) { failures += 1 }
        }
        #expect(failures == 0, "\(failures) of \(network.parameterCount) parameters disagree; worst abs error \(worst)")
    }

    @Test("tied embeddings: the shared table gets both gradients")
    func tiedEmbeddings() throws {
        let config = ModelConfig(name: "tied", vocab: 7, width: 4, layers: 1, heads: 2, kvHeads: 2, ffnHidden: 6,
                                 contextLength: 4, tiedEmbeddings: true)
        let network = try Network<Double>(config: config)
        network.initialize(seed: 14)
        let rng = RandomSource(seed: 15)
        for i in 0..<network.parameterCount { network.parameters[i] += rng.normal(mean: 0, standardDeviation: 0.3) }
        let state = TrainingState<Double>(config: config, batch: 1, length: 4)
        let tokens: [Int32] = [1, 5, 2, 6], targets: [Int32] = [5, 2, 6, 0]
        network.lossAndGradients(tokens: tokens, targets: targets, state: state)
        let analytic = Array(network.gradients)
        for i in 0..<(config.vocab * config.width) {
            let saved = network.parameters[i]
            network.parameters[i] = saved + epsilon
            network.forwardTrunk(tokens: tokens, state: state)
            let plus = network.languageModelLoss(targets: targets, state: state, weight: 0)
            network.parameters[i] = saved - epsilon
            network.forwardTrunk(tokens: tokens, state: state)
            let minus = network.languageModelLoss(targets: targets, state: state, weight: 0)
            network.parameters[i] = saved
            #expect(close(analytic[i], (plus - minus) / (2 * epsilon)), "embedding \(i)")
        }
    }
}
