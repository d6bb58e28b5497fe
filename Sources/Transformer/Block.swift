// One pre-norm decoder block (RMSNorm → GQA attention with RoPE → residual,
// RMSNorm → SwiGLU → residual) as a reusable unit: its tensors are offsets
// into some parameter buffer, so the trunk's layers, multi-token-prediction
// head blocks (ALGORITHMS.md §6) and sequential MTP modules (§7) run the same
// training forward, backward and inference code.

import Foundation

/// Offsets of one block's tensors in a parameter buffer.
public struct BlockOffsets: Sendable {
    var attentionNorm = 0, wq = 0, wk = 0, wv = 0, wo = 0, ffnNorm = 0, w1 = 0, w3 = 0, w2 = 0

    public init() {}

    /// Adds a block's tensors under `prefix` (e.g. "layers.3"). wq, wk, wv are
    /// consecutive (one fused inference product), and so are w1, w3.
    public static func add(to layout: inout ParameterLayout, prefix: String, config: ModelConfig) -> BlockOffsets {
        let d = config.width, kv = config.kvWidth, f = config.ffnHidden
        var b = BlockOffsets()
        b.attentionNorm = layout.add("\(prefix).attention_norm", [d], decays: false)
        b.wq = layout.add("\(prefix).attention.wq", [d, d])
        b.wk = layout.add("\(prefix).attention.wk", [kv, d])
        b.wv = layout.add("\(prefix).attention.wv", [kv, d])
        b.wo = layout.add("\(prefix).attention.wo", [d, d])
        b.ffnNorm = layout.add("\(prefix).ffn_norm", [d], decays: false)
        b.w1 = layout.add("\(prefix).feed_forward.w1", [f, d])
        b.w3 = layout.add("\(prefix).feed_forward.w3", [f, d])
        b.w2 = layout.add("\(prefix).feed_forward.w2", [d, f])
        return b
    }

    /// Parameters of one block.
    public static func count(config: ModelConfig) -> Int {
        let d = config.width, kv = config.kvWidth, f = config.ffnHidden
        return 2 * d + 2 * d * d + 2 * kv * d + 3 * f * d
    }

    /// The first tensor's offset; a block's tensors occupy [start, start + count).
    public var start: Int { attentionNorm }
}

/// A block's weights: its parameter buffer and offsets, and where its
/// gradients go (nil: frozen, no weight gradient is computed).
public struct BlockWeights<T: Real> {
    public var parameters: UnsafeMutablePointer<T>
    public var gradients: UnsafeMutablePointer<T>?
    public var offsets: BlockOffsets

    public init(parameters: UnsafeMutablePointer<T>, gradients: UnsafeMutablePointer<T>?, offsets: BlockOffsets) {
        self.parameters = parameters
        self.gradients = gradients
        self.offsets = offsets
    }

    @inline(__always) func p(_ offset: Int) -> UnsafeMutablePointer<T> { parameters + offset }
    @inline(__always) func g(_ offset: Int) -> UnsafeMutablePointer<T>? { gradients.map { $0 + offset } }
}

/// A gated low-rank adapter on a block's seven linear maps (ALGORITHMS.md §8):
/// W x + g · (α/r) · B A x, with g ∈ {0, 1} per row. Offsets of A (r, in) and
/// B (out, r) per map in the order wq, wk, wv, wo, w1, w3, w2.
public struct BlockAdapter<T: Real> {
    public var parameters: UnsafeMutablePointer<T>
    public var gradients: UnsafeMutablePointer<T>?
    public var a: [Int], b: [Int]
    public var rank: Int
    public var scale: T
    /// Per row: 1 where the adapter acts (mask rows), 0 elsewhere.
    public var gate: UnsafePointer<T>

    public init(parameters: UnsafeMutablePointer<T>, gradients: UnsafeMutablePointer<T>?, a: [Int], b: [Int], rank: Int,
                scale: T, gate: UnsafePointer<T>) {
        self.parameters = parameters; self.gradients = gradients; self.a = a; self.b = b
        self.rank = rank; self.scale = scale; self.gate = gate
    }

    /// out (n, oc) += g · scale · (inp · Aᵀ) · Bᵀ for map `i`; keeps the gated h = g · scale · inp · Aᵀ in `hidden` (n, r).
    func forward(_ i: Int, out: UnsafeMutablePointer<T>, inp: UnsafePointer<T>, n: Int, c: Int, oc: Int,
                 hidden h: UnsafeMutablePointer<T>) {
        Layers.matmulForward(out: h, inp: inp, weight: parameters + a[i], n: n, c: c, oc: rank)
        for row in 0..<n {
            let g = gate[row] * scale
            for j in 0..<rank { h[row * rank + j] *= g }
        }
        T.gemm(transposeA: false, transposeB: true, m: n, n: oc, k: rank, alpha: 1, a: h, lda: rank,
               b: parameters + b[i], ldb: rank, beta: 1, c: out, ldc: oc)
    }

    /// Backward of `forward` for map `i`: dinp (n, c) += …; A's and B's gradients accumulate.
    func backward(_ i: Int, dinp: UnsafeMutablePointer<T>, dout: UnsafePointer<T>, inp: UnsafePointer<T>, n: Int, c: Int,
                  oc: Int, hidden h: UnsafePointer<T>, scratch dh: UnsafeMutablePointer<T>) {
        dh.update(repeating: 0, count: n * rank)
        Layers.matmulBackward(dinp: dh, dweight: gradients.map { $0 + b[i] }, dout: dout, inp: h, weight: parameters + b[i],
                              n: n, c: rank, oc: oc)
        for row in 0..<n {
            let g = gate[row] * scale
            for j in 0..<rank { dh[row * rank + j] *= g }
        }
        Layers.matmulBackward(dinp: dinp, dweight: gradients.map { $0 + a[i] }, dout: dh, inp: inp, weight: parameters + a[i],
                              n: n, c: c, oc: rank)
    }
}

/// Saved activations of one block over `batch` windows of `length` rows.
public final class BlockActivations<T: Real>: @unchecked Sendable {
    let norm1, rstd1, q, k, v, probs, attention, mid, norm2, rstd2, gate, up, hidden: UnsafeMutablePointer<T>
    private let pool: [UnsafeMutablePointer<T>]
    private let rows: Int
    /// An adapter's gated hidden rows (7 maps × rows × rank) and a gradient scratch, allocated on first use.
    private var adapterStorage: (rank: Int, hidden: UnsafeMutablePointer<T>, scratch: UnsafeMutablePointer<T>)?

    func adapterBuffers(rank: Int) -> (hidden: UnsafeMutablePointer<T>, scratch: UnsafeMutablePointer<T>) {
        if let s = adapterStorage, s.rank == rank { return (s.hidden, s.scratch) }
        if let s = adapterStorage { s.hidden.deallocate(); s.scratch.deallocate() }
        let h = UnsafeMutablePointer<T>.allocate(capacity: 7 * rows * rank), d = UnsafeMutablePointer<T>.allocate(capacity: rows * rank)
        h.initialize(repeating: 0, count: 7 * rows * rank)
        d.initialize(repeating: 0, count: rows * rank)
        adapterStorage = (rank, h, d)
        return (h, d)
    }

    public init(config: ModelConfig, batch: Int, length: Int) {
        let n = batch * length, d = config.width, kv = config.kvWidth, f = config.ffnHidden
        var pool: [UnsafeMutablePointer<T>] = []
        func make(_ count: Int) -> UnsafeMutablePointer<T> {
            let pointer = UnsafeMutablePointer<T>.allocate(capacity: max(count, 1))
            pointer.initialize(repeating: 0, count: max(count, 1))
            pool.append(pointer)
            return pointer
        }
        norm1 = make(n * d); rstd1 = make(n); q = make(n * d); k = make(n * kv); v = make(n * kv)
        probs = make(batch * config.heads * length * length); attention = make(n * d)
        mid = make(n * d); norm2 = make(n * d); rstd2 = make(n)
        gate = make(n * f); up = make(n * f); hidden = make(n * f)
        self.pool = pool
        rows = n
    }

    deinit {
        for pointer in pool { pointer.deallocate() }
        if let s = adapterStorage { s.hidden.deallocate(); s.scratch.deallocate() }
    }
}

/// Scratch shared by every block's forward and backward over one window shape
/// (buffer 2 is free for a caller's running gradient).
public final class BlockScratch<T: Real>: @unchecked Sendable {
    let buffers: [UnsafeMutablePointer<T>]
    /// (N, max(d, f, vocab)) rows, free for a caller between block calls (e.g. logits gradients).
    public var wide: UnsafeMutablePointer<T> { buffers[0] }

    public init(config: ModelConfig, batch: Int, length: Int) {
        let n = batch * length, d = config.width, kv = config.kvWidth, f = config.ffnHidden
        let wide = n * max(d, f, config.vocab)
        buffers = [wide, wide, n * d, n * kv, n * kv, length * length, n * f, n * f, d].map { count in
            let pointer = UnsafeMutablePointer<T>.allocate(capacity: max(count, 1))
            pointer.initialize(repeating: 0, count: max(count, 1))
            return pointer
        }
    }

    deinit { for pointer in buffers { pointer.deallocate() } }
}

/// The training forward and backward of one block.
public enum Block {
    /// output (N, d) = block(input (N, d)); saves what the backward needs in `saved`. `visible`
    /// narrows the causal mask (see `Layers.attentionForward`); the backward follows from `saved`.
    @_specialize(exported: true, where T == Float)
    public static func forward<T: Real>(_ w: BlockWeights<T>, config: ModelConfig, input x: UnsafePointer<T>,
                                        output: UnsafeMutablePointer<T>, saved s: BlockActivations<T>,
                                        positions: UnsafePointer<Int32>, batch: Int, length: Int,
                                        scratch: BlockScratch<T>, visible: UnsafePointer<Bool>? = nil,
                                        adapter: BlockAdapter<T>? = nil) {
        let n = batch * length, d = config.width, kv = config.kvWidth, f = config.ffnHidden
        let eps = T(config.normEpsilon), b = w.offsets
        let adapterHidden = adapter.map { s.adapterBuffers(rank: $0.rank).hidden }
        /// Adds map i's adapter term (before RoPE, so the backward mirrors it).
        func adapt(_ i: Int, _ out: UnsafeMutablePointer<T>, _ inp: UnsafePointer<T>, _ c: Int, _ oc: Int) {
            guard let adapter, let adapterHidden else { return }
            adapter.forward(i, out: out, inp: inp, n: n, c: c, oc: oc, hidden: adapterHidden + i * n * adapter.rank)
        }
        Layers.rmsnormForward(out: s.norm1, rstd: s.rstd1, inp: x, weight: w.p(b.attentionNorm), n: n, c: d, epsilon: eps)
        Layers.matmulForward(out: s.q, inp: s.norm1, weight: w.p(b.wq), n: n, c: d, oc: d)
        Layers.matmulForward(out: s.k, inp: s.norm1, weight: w.p(b.wk), n: n, c: d, oc: kv)
        Layers.matmulForward(out: s.v, inp: s.norm1, weight: w.p(b.wv), n: n, c: d, oc: kv)
        adapt(0, s.q, s.norm1, d, d); adapt(1, s.k, s.norm1, d, kv); adapt(2, s.v, s.norm1, d, kv)
        Layers.rope(s.q, positions: positions, n: n, heads: config.heads, headDim: config.headDim, theta: config.ropeTheta)
        Layers.rope(s.k, positions: positions, n: n, heads: config.kvHeads, headDim: config.headDim, theta: config.ropeTheta)
        Layers.attentionForward(out: s.attention, probs: s.probs, q: s.q, k: s.k, v: s.v, batch: batch, length: length,
                                heads: config.heads, kvHeads: config.kvHeads, headDim: config.headDim, visible: visible)
        let projected = scratch.buffers[0]
        Layers.matmulForward(out: projected, inp: s.attention, weight: w.p(b.wo), n: n, c: d, oc: d)
        adapt(3, projected, s.attention, d, d)
        Layers.add(s.mid, x, projected, count: n * d)
        Layers.rmsnormForward(out: s.norm2, rstd: s.rstd2, inp: s.mid, weight: w.p(b.ffnNorm), n: n, c: d, epsilon: eps)
        Layers.matmulForward(out: s.gate, inp: s.norm2, weight: w.p(b.w1), n: n, c: d, oc: f)
        Layers.matmulForward(out: s.up, inp: s.norm2, weight: w.p(b.w3), n: n, c: d, oc: f)
        adapt(4, s.gate, s.norm2, d, f); adapt(5, s.up, s.norm2, d, f)
        Layers.swigluForward(out: s.hidden, gate: s.gate, up: s.up, count: n * f)
        Layers.matmulForward(out: projected, inp: s.hidden, weight: w.p(b.w2), n: n, c: f, oc: d)
        adapt(6, projected, s.hidden, f, d)
        Layers.add(output, s.mid, projected, count: n * d)
    }

    /// Backward: on entry `dx` holds ∂L/∂output, on return ∂L/∂input (in place);
    /// weight gradients are accumulated unless the block is frozen.
    @_specialize(exported: true, where T == Float)
    public static func backward<T: Real>(_ w: BlockWeights<T>, config: ModelConfig, input x: UnsafePointer<T>,
                                         saved s: BlockActivations<T>, gradient dx: UnsafeMutablePointer<T>,
                                         positions: UnsafePointer<Int32>, batch: Int, length: Int,
                                         scratch: BlockScratch<T>, adapter: BlockAdapter<T>? = nil) {
        let n = batch * length, d = config.width, kv = config.kvWidth, f = config.ffnHidden, b = w.offsets
        let adapterBuffers = adapter.map { s.adapterBuffers(rank: $0.rank) }
        func adapt(_ i: Int, _ dinp: UnsafeMutablePointer<T>, _ dout: UnsafePointer<T>, _ inp: UnsafePointer<T>, _ c: Int, _ oc: Int) {
            guard let adapter, let adapterBuffers else { return }
            adapter.backward(i, dinp: dinp, dout: dout, inp: inp, n: n, c: c, oc: oc,
                             hidden: adapterBuffers.hidden + i * n * adapter.rank, scratch: adapterBuffers.scratch)
        }
        let dA = scratch.buffers[0], dB = scratch.buffers[1]
        let dq = scratch.buffers[1], dk = scratch.buffers[3], dv = scratch.buffers[4]
        let dgate = scratch.buffers[6], dup = scratch.buffers[7]
        // A frozen norm's scale gradient goes to a throwaway row.
        let normSink = w.gradients == nil ? scratch.buffers[8] : nil
        // output = mid + W2 · h: dmid = dx (carried), dh = dx · W2.
        let dh = dA
        dh.update(repeating: 0, count: n * f)
        Layers.matmulBackward(dinp: dh, dweight: w.g(b.w2), dout: dx, inp: s.hidden, weight: w.p(b.w2), n: n, c: f, oc: d)
        adapt(6, dh, dx, s.hidden, f, d)
        dgate.update(repeating: 0, count: n * f)
        dup.update(repeating: 0, count: n * f)
        Layers.swigluBackward(dgate: dgate, dup: dup, dout: dh, gate: s.gate, up: s.up, count: n * f)
        let dnorm2 = dB
        dnorm2.update(repeating: 0, count: n * d)
        Layers.matmulBackward(dinp: dnorm2, dweight: w.g(b.w1), dout: dgate, inp: s.norm2, weight: w.p(b.w1), n: n, c: d, oc: f)
        Layers.matmulBackward(dinp: dnorm2, dweight: w.g(b.w3), dout: dup, inp: s.norm2, weight: w.p(b.w3), n: n, c: d, oc: f)
        adapt(4, dnorm2, dgate, s.norm2, d, f); adapt(5, dnorm2, dup, s.norm2, d, f)
        Layers.rmsnormBackward(dinp: dx, dweight: w.g(b.ffnNorm) ?? normSink!, dout: dnorm2, inp: s.mid,
                               weight: w.p(b.ffnNorm), rstd: s.rstd2, n: n, c: d)
        // mid = x + Wo · attention: dx carries on, dattention = dmid · Wo.
        let dattention = dA
        dattention.update(repeating: 0, count: n * d)
        Layers.matmulBackward(dinp: dattention, dweight: w.g(b.wo), dout: dx, inp: s.attention, weight: w.p(b.wo),
                              n: n, c: d, oc: d)
        adapt(3, dattention, dx, s.attention, d, d)
        dq.update(repeating: 0, count: n * d)
        dk.update(repeating: 0, count: n * kv)
        dv.update(repeating: 0, count: n * kv)
        Layers.attentionBackward(dq: dq, dk: dk, dv: dv, dout: dattention, probs: s.probs, q: s.q, k: s.k, v: s.v,
                                 scratch: scratch.buffers[5], batch: batch, length: length, heads: config.heads,
                                 kvHeads: config.kvHeads, headDim: config.headDim)
        Layers.rope(dq, positions: positions, n: n, heads: config.heads, headDim: config.headDim,
                    theta: config.ropeTheta, direction: -1)
        Layers.rope(dk, positions: positions, n: n, heads: config.kvHeads, headDim: config.headDim,
                    theta: config.ropeTheta, direction: -1)
        let dnorm1 = dA
        dnorm1.update(repeating: 0, count: n * d)
        Layers.matmulBackward(dinp: dnorm1, dweight: w.g(b.wq), dout: dq, inp: s.norm1, weight: w.p(b.wq), n: n, c: d, oc: d)
        Layers.matmulBackward(dinp: dnorm1, dweight: w.g(b.wk), dout: dk, inp: s.norm1, weight: w.p(b.wk), n: n, c: d, oc: kv)
        Layers.matmulBackward(dinp: dnorm1, dweight: w.g(b.wv), dout: dv, inp: s.norm1, weight: w.p(b.wv), n: n, c: d, oc: kv)
        adapt(0, dnorm1, dq, s.norm1, d, d); adapt(1, dnorm1, dk, s.norm1, d, kv); adapt(2, dnorm1, dv, s.norm1, d, kv)
        Layers.rmsnormBackward(dinp: dx, dweight: w.g(b.attentionNorm) ?? normSink!, dout: dnorm1, inp: x,
                               weight: w.p(b.attentionNorm), rstd: s.rstd1, n: n, c: d)
    }
}
