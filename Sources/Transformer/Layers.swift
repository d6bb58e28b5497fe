// The layers of the reference transformer, forward and backward side by side
// (llm.c style). Row-major buffers; N = rows (tokens), C = channels. Generic
// over Real so gradient checks run the same code in Double.
// Backward functions ACCUMULATE (+=) into parameter and input gradients.

import Foundation

public enum Layers {
    // MARK: embedding

    /// out (N, C) = table[tokens[n]] — table (V, C). (Not pre-specialised: a copy per row.)
    public static func embeddingForward<T: Real>(out: UnsafeMutablePointer<T>, tokens: UnsafePointer<Int32>,
                                                 table: UnsafePointer<T>, n: Int, c: Int) {
        for row in 0..<n {
            (out + row * c).update(from: table + Int(tokens[row]) * c, count: c)
        }
    }

    /// dtable[tokens[n]] += dout[n] — dout (N, C), dtable (V, C).
    @_specialize(exported: true, where T == Float)
    public static func embeddingBackward<T: Real>(dtable: UnsafeMutablePointer<T>, dout: UnsafePointer<T>,
                                                  tokens: UnsafePointer<Int32>, n: Int, c: Int) {
        for row in 0..<n {
            let target = dtable + Int(tokens[row]) * c, source = dout + row * c
            for j in 0..<c { target[j] += source[j] }
        }
    }

    // MARK: matmul

    /// out (N, OC) = inp (N, C) · weight (OC, C)ᵀ.
    @inline(__always)
    public static func matmulForward<T: Real>(out: UnsafeMutablePointer<T>, inp: UnsafePointer<T>,
                                              weight: UnsafePointer<T>, n: Int, c: Int, oc: Int) {
        T.gemm(transposeA: false, transposeB: true, m: n, n: oc, k: c, alpha: 1, a: inp, lda: c,
               b: weight, ldb: c, beta: 0, c: out, ldc: oc)
    }

    /// dinp (N, C) += dout (N, OC) · weight (OC, C); dweight (OC, C) += doutᵀ · inp (N, C).
    /// Either gradient may be skipped (nil): a frozen weight needs no dweight.
    @_specialize(exported: true, where T == Float)
    public static func matmulBackward<T: Real>(dinp: UnsafeMutablePointer<T>?, dweight: UnsafeMutablePointer<T>?,
                                               dout: UnsafePointer<T>, inp: UnsafePointer<T>, weight: UnsafePointer<T>,
                                               n: Int, c: Int, oc: Int) {
        if let dinp {
            T.gemm(transposeA: false, transposeB: false, m: n, n: c, k: oc, alpha: 1, a: dout, lda: oc,
                   b: weight, ldb: c, beta: 1, c: dinp, ldc: c)
        }
        if let dweight {
            T.gemm(transposeA: true, transposeB: false, m: oc, n: c, k: n, alpha: 1, a: dout, lda: oc,
                   b: inp, ldb: c, beta: 1, c: dweight, ldc: c)
        }
    }

    // MARK: RMSNorm (Zhang & Sennrich 2019)

    /// out = inp · rstd · weight, rstd = 1 / sqrt(mean(inp²) + ε) — inp, out (N, C), weight (C), rstd (N).
    @_specialize(exported: true, where T == Float)
    public static func rmsnormForward<T: Real>(out: UnsafeMutablePointer<T>, rstd: UnsafeMutablePointer<T>,
                                               inp: UnsafePointer<T>, weight: UnsafePointer<T>, n: Int, c: Int,
                                               epsilon: T) {
        for row in 0..<n {
            let x = inp + row * c, y = out + row * c
            var sum: T = 0
            for j in 0..<c { sum += x[j] * x[j] }
            let scale = 1 / T.squareRoot(sum / T(c) + epsilon)
            rstd[row] = scale
            for j in 0..<c { y[j] = x[j] * scale * weight[j] }
        }
    }

    /// With x̂ = x·rstd: dweight += Σ dout·x̂; dx += rstd · (g − x̂ · mean(g·x̂)), g = dout·weight.
    @_specialize(exported: true, where T == Float)
    public static func rmsnormBackward<T: Real>(dinp: UnsafeMutablePointer<T>, dweight: UnsafeMutablePointer<T>,
                                                dout: UnsafePointer<T>, inp: UnsafePointer<T>, weight: UnsafePointer<T>,
                                                rstd: UnsafePointer<T>, n: Int, c: Int) {
        for row in 0..<n {
            let x = inp + row * c, dy = dout + row * c, dx = dinp + row * c
            let scale = rstd[row]
            var dot: T = 0
            for j in 0..<c {
                let xhat = x[j] * scale
                dweight[j] += dy[j] * xhat
                dot += dy[j] * weight[j] * xhat
            }
            let mean = dot / T(c)
            for j in 0..<c {
                dx[j] += scale * (dy[j] * weight[j] - x[j] * scale * mean)
            }
        }
    }

    // MARK: rotary position embedding (Su et al. 2021), half-split pairs (i, i + hd/2)

    /// Rotates each head of x (N, heads, hd) in place by angle position · θ^(−2i/hd).
    /// `direction` −1 applies the inverse rotation (the backward of a rotation is its transpose).
    @_specialize(exported: true, where T == Float)
    public static func rope<T: Real>(_ x: UnsafeMutablePointer<T>, positions: UnsafePointer<Int32>, n: Int, heads: Int,
                                     headDim: Int, theta: Double, direction: T = 1) {
        let half = headDim / 2
        for row in 0..<n {
            let position = Double(positions[row])
            for i in 0..<half {
                let angle = position * pow(theta, -2 * Double(i) / Double(headDim))
                let cosine = T(cos(angle)), sine = direction * T(sin(angle))
                for h in 0..<heads {
                    let base = x + (row * heads + h) * headDim
                    let a = base[i], b = base[i + half]
                    base[i] = a * cosine - b * sine
                    base[i + half] = a * sine + b * cosine
                }
            }
        }
    }

    // MARK: causal self-attention over whole sequences (training)

    /// Causal attention within each of `batch` sequences of `length` rows.
    /// q (N, H, hd), k and v (N, Hkv, hd) with N = batch · length → out (N, H, hd);
    /// probs (batch, H, length, length) saved for the backward. `visible` (length × length,
    /// row-major, the same for every sequence) narrows the causal mask further: row t sees
    /// key s ≤ t only where visible[t · length + s] (EAGLE-3's training-time test, §12).
    /// The backward needs no mask: hidden keys have probability 0.
    @_specialize(exported: true, where T == Float)
    public static func attentionForward<T: Real>(out: UnsafeMutablePointer<T>, probs: UnsafeMutablePointer<T>,
                                                 q: UnsafePointer<T>, k: UnsafePointer<T>, v: UnsafePointer<T>,
                                                 batch: Int, length: Int, heads: Int, kvHeads: Int, headDim: Int,
                                                 visible: UnsafePointer<Bool>? = nil) {
        let qStride = heads * headDim, kvStride = kvHeads * headDim
        let group = heads / kvHeads
        let scale = 1 / T.squareRoot(T(headDim))
        for b in 0..<batch {
            for h in 0..<heads {
                let p = probs + ((b * heads + h) * length) * length
                let qh = q + b * length * qStride + h * headDim
                let kh = k + b * length * kvStride + (h / group) * headDim
                let vh = v + b * length * kvStride + (h / group) * headDim
                // scores (T, T) = Q_h · K_hᵀ · scale
                T.gemm(transposeA: false, transposeB: true, m: length, n: length, k: headDim, alpha: scale,
                       a: qh, lda: qStride, b: kh, ldb: kvStride, beta: 0, c: p, ldc: length)
                for t in 0..<length {
                    let row = p + t * length
                    if let visible {
                        // Hidden keys get probability 0; the row's own key is always visible.
                        let allowed = visible + t * length
                        var maximum = row[t]
                        for s in 0...t where allowed[s] && row[s] > maximum { maximum = row[s] }
                        var sum: T = 0
                        for s in 0...t {
                            row[s] = allowed[s] || s == t ? T.exponential(row[s] - maximum) : 0
                            sum += row[s]
                        }
                        let inverse = 1 / sum
                        for s in 0...t { row[s] *= inverse }
                    } else {
                        var maximum = row[0]
                        for s in 0...t where row[s] > maximum { maximum = row[s] }
                        var sum: T = 0
                        for s in 0...t { row[s] = T.exponential(row[s] - maximum); sum += row[s] }
                        let inverse = 1 / sum
                        for s in 0...t { row[s] *= inverse }
                    }
                    for s in (t + 1)..<length { row[s] = 0 }
                }
                // out_h (T, hd) = P · V_h
                T.gemm(transposeA: false, transposeB: false, m: length, n: headDim, k: length, alpha: 1,
                       a: p, lda: length, b: vh, ldb: kvStride, beta: 0,
                       c: out + b * length * qStride + h * headDim, ldc: qStride)
            }
        }
    }

    /// Backward of `attentionForward`; dq, dk, dv accumulate. `scratch` holds length² values.
    @_specialize(exported: true, where T == Float)
    public static func attentionBackward<T: Real>(dq: UnsafeMutablePointer<T>, dk: UnsafeMutablePointer<T>,
                                                  dv: UnsafeMutablePointer<T>, dout: UnsafePointer<T>,
                                                  probs: UnsafePointer<T>, q: UnsafePointer<T>, k: UnsafePointer<T>,
                                                  v: UnsafePointer<T>, scratch: UnsafeMutablePointer<T>,
                                                  batch: Int, length: Int, heads: Int, kvHeads: Int, headDim: Int) {
        let qStride = heads * headDim, kvStride = kvHeads * headDim
        let group = heads / kvHeads
        let scale = 1 / T.squareRoot(T(headDim))
        for b in 0..<batch {
            for h in 0..<heads {
                let p = probs + ((b * heads + h) * length) * length
                let qOffset = b * length * qStride + h * headDim
                let kvOffset = b * length * kvStride + (h / group) * headDim
                let doutH = dout + qOffset
                // dV_h += Pᵀ · dout_h
                T.gemm(transposeA: true, transposeB: false, m: length, n: headDim, k: length, alpha: 1,
                       a: p, lda: length, b: doutH, ldb: qStride, beta: 1, c: dv + kvOffset, ldc: kvStride)
                // dP = dout_h · V_hᵀ
                let dp = scratch
                T.gemm(transposeA: false, transposeB: true, m: length, n: length, k: headDim, alpha: 1,
                       a: doutH, lda: qStride, b: v + kvOffset, ldb: kvStride, beta: 0, c: dp, ldc: length)
                // dS = P ⊙ (dP − rowsum(P ⊙ dP))   (softmax backward; masked entries have P = 0)
                for t in 0..<length {
                    let prow = p + t * length, drow = dp + t * length
                    var dot: T = 0
                    for s in 0...t { dot += prow[s] * drow[s] }
                    for s in 0...t { drow[s] = prow[s] * (drow[s] - dot) }
                    for s in (t + 1)..<length { drow[s] = 0 }
                }
                // dQ_h += dS · K_h · scale; dK_h += dSᵀ · Q_h · scale
                T.gemm(transposeA: false, transposeB: false, m: length, n: headDim, k: length, alpha: scale,
                       a: dp, lda: length, b: k + kvOffset, ldb: kvStride, beta: 1, c: dq + qOffset, ldc: qStride)
                T.gemm(transposeA: true, transposeB: false, m: length, n: headDim, k: length, alpha: scale,
                       a: dp, lda: length, b: q + qOffset, ldb: qStride, beta: 1, c: dk + kvOffset, ldc: kvStride)
            }
        }
    }

    // MARK: SwiGLU (Shazeer 2020)

    /// h = SiLU(gate) · up, elementwise over `count` values.
    @_specialize(exported: true, where T == Float)
    public static func swigluForward<T: Real>(out: UnsafeMutablePointer<T>, gate: UnsafePointer<T>,
                                              up: UnsafePointer<T>, count: Int) {
        for i in 0..<count {
            let g = gate[i]
            out[i] = g / (1 + T.exponential(-g)) * up[i]
        }
    }

    /// dgate += dh · up · σ(g)(1 + g(1 − σ(g))); dup += dh · SiLU(g).
    @_specialize(exported: true, where T == Float)
    public static func swigluBackward<T: Real>(dgate: UnsafeMutablePointer<T>, dup: UnsafeMutablePointer<T>,
                                               dout: UnsafePointer<T>, gate: UnsafePointer<T>, up: UnsafePointer<T>,
                                               count: Int) {
        for i in 0..<count {
            let g = gate[i]
            let sigmoid = 1 / (1 + T.exponential(-g))
            dgate[i] += dout[i] * up[i] * sigmoid * (1 + g * (1 - sigmoid))
            dup[i] += dout[i] * g * sigmoid
        }
    }

    // MARK: softmax cross-entropy

    /// probs (N, V) = softmax(logits); losses[n] = −log probs[n, target[n]].
    @_specialize(exported: true, where T == Float)
    public static func crossEntropyForward<T: Real>(losses: UnsafeMutablePointer<T>, probs: UnsafeMutablePointer<T>,
                                                    logits: UnsafePointer<T>, targets: UnsafePointer<Int32>,
                                                    n: Int, v: Int) {
        for row in 0..<n {
            let z = logits + row * v, p = probs + row * v
            var maximum = z[0]
            for j in 1..<v where z[j] > maximum { maximum = z[j] }
            var sum: T = 0
            for j in 0..<v { p[j] = T.exponential(z[j] - maximum); sum += p[j] }
            let inverse = 1 / sum
            for j in 0..<v { p[j] *= inverse }
            losses[row] = -T.logarithm(max(p[Int(targets[row])], T.leastNormalMagnitude))
        }
    }

    /// dlogits (N, V) = (probs − onehot(target)) · scale (scale = 1 / number of rows averaged).
    @_specialize(exported: true, where T == Float)
    public static func crossEntropyBackward<T: Real>(dlogits: UnsafeMutablePointer<T>, probs: UnsafePointer<T>,
                                                     targets: UnsafePointer<Int32>, n: Int, v: Int, scale: T) {
        for row in 0..<n {
            let d = dlogits + row * v, p = probs + row * v
            for j in 0..<v { d[j] = p[j] * scale }
            d[Int(targets[row])] -= scale
        }
    }

    // MARK: residual

    @_specialize(exported: true, where T == Float)
    public static func add<T: Real>(_ out: UnsafeMutablePointer<T>, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, count: Int) {
        for i in 0..<count { out[i] = a[i] + b[i] }
    }

    @_specialize(exported: true, where T == Float)
    public static func accumulate<T: Real>(_ target: UnsafeMutablePointer<T>, _ source: UnsafePointer<T>, count: Int) {
        for i in 0..<count { target[i] += source[i] }
    }
}
