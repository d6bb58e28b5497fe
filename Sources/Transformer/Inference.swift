// The inference forward: m new tokens per sequence, explicit position ids and
// an attention mask, against each sequence's KV cache (ALGORITHMS.md §1.4–1.5).
// One call scores a single token, a chain, a block or a token tree, for one
// sequence or a batch of sequences of different lengths (rows stacked, so every
// weight matrix is streamed once per call). Buffers are reused across calls:
// the decode loop allocates nothing once the workspace has grown.

import Foundation
import LinAlg

/// Which new rows a new row may attend to (cached rows are always visible).
public enum AttentionMask: Sendable, Equatable {
    /// Row i sees new rows 0...i (a chain, a prefill, a block).
    case causal
    /// Row i sees new row j iff allowed[i * m + j] (a token tree's ancestor mask).
    case tree([Bool])

    /// The ancestor mask of a tree given by parent indices (parent[i] < i, −1 for the root):
    /// anc[i][j] = (i == j) || anc[parent[i]][j], built in one pass.
    public static func ancestors(parents: [Int]) -> AttentionMask {
        let m = parents.count
        var allowed = [Bool](repeating: false, count: m * m)
        for i in 0..<m {
            let parent = parents[i]
            precondition(parent < i, "tree parents must precede their children (node \(i) has parent \(parent))")
            if parent >= 0 { for j in 0..<m where allowed[parent * m + j] { allowed[i * m + j] = true } }
            allowed[i * m + i] = true
        }
        return .tree(allowed)
    }
}

/// One sequence's part of a forward.
public struct SequenceStep {
    public var tokens: [Int32]
    public var positions: [Int32]
    public var mask: AttentionMask
    public var cache: KVCache
    /// Tentative rows already written after the committed length by earlier
    /// forwards of this round (a drafter's previous tree levels): the new rows
    /// go after them, and new row i sees pending row j iff pendingVisible[i · pendingRows + j].
    public var pendingRows: Int
    public var pendingVisible: [Bool]

    public init(tokens: [Int32], positions: [Int32]? = nil, mask: AttentionMask = .causal, cache: KVCache,
                pendingRows: Int = 0, pendingVisible: [Bool] = []) {
        precondition(pendingVisible.count == tokens.count * pendingRows, "one visibility flag per new row and pending row")
        self.tokens = tokens
        self.positions = positions ?? (0..<tokens.count).map { Int32(cache.length + pendingRows + $0) }
        self.mask = mask
        self.cache = cache
        self.pendingRows = pendingRows
        self.pendingVisible = pendingVisible
    }
}

/// A Float network ready to decode, with its reusable workspace.
public final class InferenceModel: @unchecked Sendable {
    public let network: Network<Float>
    public var config: ModelConfig { network.config }
    private var capacityRows = 0
    private var buffers: [UnsafeMutablePointer<Float>] = []
    private var x: UnsafeMutablePointer<Float>!, xn: UnsafeMutablePointer<Float>!, q: UnsafeMutablePointer<Float>!
    private var k: UnsafeMutablePointer<Float>!, v: UnsafeMutablePointer<Float>!, att: UnsafeMutablePointer<Float>!
    private var proj: UnsafeMutablePointer<Float>!, gate: UnsafeMutablePointer<Float>!, up: UnsafeMutablePointer<Float>!
    private var hidden: UnsafeMutablePointer<Float>!, rstd: UnsafeMutablePointer<Float>!
    /// Output of a fused product ([q | k | v] or [gate | up]) before it is split.
    private var fused: UnsafeMutablePointer<Float>!
    /// The skinny product's packed copy of its inputs (rows × the widest input).
    private var packedInputs: UnsafeMutablePointer<Float>!
    /// Logits of the last forward, (rows, vocab).
    public private(set) var logits: UnsafeMutablePointer<Float>!
    /// Features f (final RMSNorm output) of the last forward, (rows, width).
    public private(set) var features: UnsafeMutablePointer<Float>!
    private var scores: UnsafeMutablePointer<Float>!
    private var scoreCapacity = 0
    /// Residual streams after the requested blocks (index = block count; 0 = embeddings), (rows, width).
    public private(set) var residualStreams: [Int: UnsafeMutablePointer<Float>] = [:]
    public private(set) var rows = 0
    private var positionScratch: [Int32] = []

    public init(network: Network<Float>) { self.network = network }

    /// Mask tokens and their gated adapter (§8): rows whose token id is ≥ vocab are mask rows,
    /// embedded from the adapter's mask table and run through the adapted maps; other rows are
    /// computed exactly as without it.
    public var adapter: GatedLoRA?
    /// Rows of the current `forward` that are mask rows.
    private var gatedRows: [Int] = []

    deinit {
        for p in buffers { p.deallocate() }
        for (_, p) in residualStreams { p.deallocate() }
        scores?.deallocate()
    }

    private func ensure(rows needed: Int, layers wanted: Set<Int>) {
        let d = config.width, kv = config.kvWidth, f = config.ffnHidden
        if needed > capacityRows {
            for p in buffers { p.deallocate() }
            buffers.removeAll()
            let rowsToHold = max(needed, 2 * capacityRows)
            func make(_ width: Int) -> UnsafeMutablePointer<Float> {
                let p = UnsafeMutablePointer<Float>.allocate(capacity: rowsToHold * width)
                p.initialize(repeating: 0, count: rowsToHold * width)
                buffers.append(p)
                return p
            }
            x = make(d); xn = make(d); q = make(d); k = make(kv); v = make(kv); att = make(d); proj = make(d)
            gate = make(f); up = make(f); hidden = make(f); rstd = make(1); logits = make(config.vocab); features = make(d)
            fused = make(max(d + 2 * kv, 2 * f))
            packedInputs = make(max(d, f))
            for (_, p) in residualStreams { p.deallocate() }
            residualStreams.removeAll()
            capacityRows = rowsToHold
        }
        for l in wanted where residualStreams[l] == nil {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: capacityRows * d)
            p.initialize(repeating: 0, count: capacityRows * d)
            residualStreams[l] = p
        }
    }

    /// Runs the sequences' new tokens through the model. Writes their K/V rows
    /// to cache slots n..<n+m (not committed). Results stay valid until the next call:
    /// `logits`, `features` and the requested `residualStreams`, rows in sequence order.
    public func forward(_ steps: [SequenceStep], residualLayers: Set<Int> = []) {
        network.inferenceForwards += 1
        let d = config.width
        let total = prepare(steps, residualLayers: residualLayers)
        let net = network, vocab = config.vocab
        var row = 0
        gatedRows.removeAll(keepingCapacity: true)
        for step in steps {
            for token in step.tokens {
                if token < vocab {
                    (x + row * d).update(from: net.p(net.embeddingOffset) + Int(token) * d, count: d)
                } else {
                    guard let adapter, Int(token) - vocab < adapter.masks else {
                        preconditionFailure("token \(token) is a mask token but the model has no adapter with that many masks")
                    }
                    (x + row * d).update(from: adapter.maskRow(Int(token) - vocab), count: d)
                    gatedRows.append(row)
                }
                row += 1
            }
        }
        if let stream = residualStreams[0], residualLayers.contains(0) { stream.update(from: x, count: total * d) }
        positionScratch.withUnsafeBufferPointer { pos in
            for l in 0..<config.layers {
                blockForward(net.blockWeights(l), cacheLayer: l, steps: steps, rows: total, positions: pos.baseAddress!,
                             adapterLayer: gatedRows.isEmpty ? nil : l)
                if residualLayers.contains(l + 1), let stream = residualStreams[l + 1] { stream.update(from: x, count: total * d) }
            }
        }
        finish(rows: total, finalNorm: net.p(net.finalNormOffset))
    }

    /// Runs extra blocks (multi-token heads, MTP modules) over given input rows
    /// (the residual stream they read, (rows, width)): block i attends over cache
    /// layer i of each step's cache (tokens only count rows; positions are used).
    /// Then `finalNorm` (default: the network's; none when `normalize` is false) and the shared unembedding.
    /// Results: `hiddenStates` (the last block's output), `features`, `logits`.
    public func forwardBlocks(input: UnsafePointer<Float>, steps: [SequenceStep], blocks: [BlockWeights<Float>],
                              finalNorm: UnsafePointer<Float>? = nil, normalize: Bool = true) {
        let total = prepare(steps, residualLayers: [])
        x.update(from: input, count: total * config.width)
        positionScratch.withUnsafeBufferPointer { pos in
            for (i, block) in blocks.enumerated() {
                blockForward(block, cacheLayer: i, steps: steps, rows: total, positions: pos.baseAddress!)
            }
        }
        if normalize {
            finish(rows: total, finalNorm: finalNorm ?? UnsafePointer(network.p(network.finalNormOffset)))
        } else {
            // The blocks' output is itself the feature the unembedding reads (an EAGLE drafter's f̂).
            features.update(from: x, count: total * config.width)
            Linear.forward(out: logits, inp: features, weight: network.p(network.outputOffset), rows: total,
                           inFeatures: config.width, outFeatures: config.vocab, scratch: packedInputs)
        }
    }

    /// The last blocks' output before the final norm, (rows, width), of the last `forwardBlocks`
    /// (after `forward`: the last block's output).
    public var hiddenStates: UnsafePointer<Float> { UnsafePointer(x) }

    /// Checks the steps, grows the workspace, gathers positions; returns the row count.
    private func prepare(_ steps: [SequenceStep], residualLayers: Set<Int>) -> Int {
        let total = steps.reduce(0) { $0 + $1.tokens.count }
        precondition(total > 0, "forward needs at least one token")
        ensure(rows: total, layers: residualLayers)
        rows = total
        positionScratch.removeAll(keepingCapacity: true)
        for step in steps {
            precondition(step.positions.count == step.tokens.count, "one position per token")
            precondition(step.cache.canHold(step.pendingRows + step.tokens.count),
                         "the KV cache holds \(step.cache.capacity) tokens; \(step.cache.length) + \(step.pendingRows + step.tokens.count) do not fit")
            positionScratch.append(contentsOf: step.positions)
        }
        return total
    }

    /// features = RMSNorm(x), logits = features · W_Uᵀ.
    private func finish(rows total: Int, finalNorm: UnsafePointer<Float>) {
        let d = config.width
        Layers.rmsnormForward(out: features, rstd: rstd, inp: x, weight: finalNorm, n: total, c: d,
                              epsilon: Float(config.normEpsilon))
        Linear.forward(out: logits, inp: features, weight: network.p(network.outputOffset), rows: total, inFeatures: d,
                       outFeatures: config.vocab, scratch: packedInputs)
    }

    /// x ← block(x) for every row; the new K/V rows go to `cacheLayer` of each step's cache at n..<n+m.
    private func blockForward(_ w: BlockWeights<Float>, cacheLayer l: Int, steps: [SequenceStep], rows total: Int,
                              positions pos: UnsafePointer<Int32>, adapterLayer: Int? = nil) {
        let d = config.width, kv = config.kvWidth, f = config.ffnHidden, hd = config.headDim
        let eps = Float(config.normEpsilon), b = w.offsets
        /// out_row += (α/r) · B (A inp_row) on the mask rows, for map i of the adapted layer.
        func adapt(_ i: Int, _ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ c: Int, _ oc: Int) {
            guard let layer = adapterLayer, let adapter else { return }
            let r = adapter.rank, pa = adapter.parameters.pointer(adapter.a[layer][i])
            let pb = adapter.parameters.pointer(adapter.b[layer][i])
            var h = [Float](repeating: 0, count: r)
            for row in gatedRows {
                let input = inp + row * c, output = out + row * oc
                for j in 0..<r {
                    var sum: Float = 0
                    for t in 0..<c { sum += pa[j * c + t] * input[t] }
                    h[j] = adapter.scale * sum
                }
                for o in 0..<oc {
                    var sum: Float = 0
                    for j in 0..<r { sum += pb[o * r + j] * h[j] }
                    output[o] += sum
                }
            }
        }
        Layers.rmsnormForward(out: xn, rstd: rstd, inp: x, weight: w.p(b.attentionNorm), n: total, c: d, epsilon: eps)
        // wq, wk, wv are consecutive rows of the parameter buffer: one product streams all three.
        Linear.forward(out: fused, inp: xn, weight: w.p(b.wq), rows: total, inFeatures: d, outFeatures: d + 2 * kv, scratch: packedInputs)
        split(fused, rows: total, into: [(q, d), (k, kv), (v, kv)])
        adapt(0, q, xn, d, d); adapt(1, k, xn, d, kv); adapt(2, v, xn, d, kv)
        Layers.rope(q, positions: pos, n: total, heads: config.heads, headDim: hd, theta: config.ropeTheta)
        Layers.rope(k, positions: pos, n: total, heads: config.kvHeads, headDim: hd, theta: config.ropeTheta)
        var start = 0
        for step in steps {
            let m = step.tokens.count, n = step.cache.length + step.pendingRows
            precondition(l < step.cache.layers, "the KV cache has \(step.cache.layers) layers; block \(l) has none")
            precondition(step.cache.kvHeads == config.kvHeads && step.cache.headDim == hd,
                         "the KV cache holds \(step.cache.kvHeads) heads of \(step.cache.headDim); the model \(config.kvHeads) of \(hd)")
            step.cache.write(keys: k + start * kv, values: v + start * kv, rows: m, at: n, layer: l)
            attend(step: step, layer: l, queryRows: start, m: m, n: n)
            start += m
        }
        Linear.forward(out: proj, inp: att, weight: w.p(b.wo), rows: total, inFeatures: d, outFeatures: d, scratch: packedInputs)
        adapt(3, proj, att, d, d)
        for i in 0..<(total * d) { x[i] += proj[i] }
        Layers.rmsnormForward(out: xn, rstd: rstd, inp: x, weight: w.p(b.ffnNorm), n: total, c: d, epsilon: eps)
        // w1 and w3 are consecutive: one product for gate and up.
        Linear.forward(out: fused, inp: xn, weight: w.p(b.w1), rows: total, inFeatures: d, outFeatures: 2 * f, scratch: packedInputs)
        split(fused, rows: total, into: [(gate, f), (up, f)])
        adapt(4, gate, xn, d, f); adapt(5, up, xn, d, f)
        Layers.swigluForward(out: hidden, gate: gate, up: up, count: total * f)
        Linear.forward(out: proj, inp: hidden, weight: w.p(b.w2), rows: total, inFeatures: f, outFeatures: d, scratch: packedInputs)
        adapt(6, proj, hidden, f, d)
        for i in 0..<(total * d) { x[i] += proj[i] }
    }

    /// Splits rows of a fused product (rows, Σ widths) into separate (rows, width) buffers.
    @inline(__always)
    private func split(_ source: UnsafeMutablePointer<Float>, rows: Int,
                       into parts: [(UnsafeMutablePointer<Float>, Int)]) {
        let stride = parts.reduce(0) { $0 + $1.1 }
        for r in 0..<rows {
            var offset = r * stride
            for (target, width) in parts {
                (target + r * width).update(from: source + offset, count: width)
                offset += width
            }
        }
    }

    /// Attention of one sequence's m new rows over its n cached rows (committed
    /// ones all visible, pending ones per the step's flags) and its new rows
    /// (visible per the mask).
    ///
    /// Heads are taken a KV group at a time (the query heads sharing one key/value head under GQA):
    /// with few query rows (decode, verify) each cached key and value is loaded once for the whole
    /// group, in one in-order pass over the head's contiguous cache rows (KVCache is head-major).
    /// Many rows (prefill): sgemm per head.
    private func attend(step: SequenceStep, layer: Int, queryRows start: Int, m: Int, n: Int) {
        let d = config.width, hd = config.headDim
        let group = config.heads / config.kvHeads
        let keysCount = n + m
        // Score rows of one KV group: (query head in the group, query row), each over every key.
        let groupRows = group * m
        if groupRows * keysCount > scoreCapacity {
            scores?.deallocate()
            scoreCapacity = max(groupRows * keysCount, 2 * scoreCapacity)
            scores = .allocate(capacity: scoreCapacity)
        }
        let scale = 1 / Float(hd).squareRoot()
        let keys = step.cache.keys[layer], values = step.cache.values[layer], capacity = step.cache.capacity
        let direct = m <= 16 && hd % 8 == 0
        /// Query and output of row r of the group's score rows: head g·group + r / m, query row r % m.
        func headOffset(_ g: Int, _ r: Int) -> Int { (start + r % m) * d + (g * group + r / m) * hd }
        for g in 0..<config.kvHeads {
            // KV head g's keys and values: keysCount contiguous rows of hd (KVCache's head-major layout).
            let groupKeys = keys + g * capacity * hd, groupValues = values + g * capacity * hd
            if direct {
                for j in 0..<keysCount {
                    let key = groupKeys + j * hd
                    for r in 0..<groupRows { scores[r * keysCount + j] = scale * Self.dot(q + headOffset(g, r), key, count: hd) }
                }
            } else {
                for h in 0..<group {
                    Float.gemm(transposeA: false, transposeB: true, m: m, n: keysCount, k: hd, alpha: scale,
                               a: q + start * d + (g * group + h) * hd, lda: d, b: groupKeys, ldb: hd, beta: 0,
                               c: scores + h * m * keysCount, ldc: keysCount)
                }
            }
            for r in 0..<groupRows {
                let i = r % m, row = scores + r * keysCount
                switch step.mask {
                case .causal:
                    for j in (i + 1)..<m { row[n + j] = -.infinity }
                case .tree(let allowed):
                    for j in 0..<m where !allowed[i * m + j] { row[n + j] = -.infinity }
                }
                let p = step.pendingRows, committed = n - p
                for j in 0..<p where !step.pendingVisible[i * p + j] { row[committed + j] = -.infinity }
                var maximum = -Float.infinity
                for j in 0..<keysCount where row[j] > maximum { maximum = row[j] }
                var sum: Float = 0
                for j in 0..<keysCount {
                    let e = row[j] == -.infinity ? 0 : Foundation.exp(row[j] - maximum)
                    row[j] = e
                    sum += e
                }
                let inverse = 1 / sum
                for j in 0..<keysCount { row[j] *= inverse }
            }
            if direct {
                for r in 0..<groupRows { (att + headOffset(g, r)).initialize(repeating: 0, count: hd) }
                for j in 0..<keysCount {
                    let value = groupValues + j * hd
                    for r in 0..<groupRows {
                        Self.accumulate(scores[r * keysCount + j], value, into: att + headOffset(g, r), width: hd)
                    }
                }
            } else {
                for h in 0..<group {
                    Float.gemm(transposeA: false, transposeB: false, m: m, n: hd, k: keysCount, alpha: 1,
                               a: scores + h * m * keysCount, lda: keysCount, b: groupValues, ldb: hd, beta: 0,
                               c: att + start * d + (g * group + h) * hd, ldc: d)
                }
            }
        }
    }

    /// Σ a[t]·b[t] with SIMD8 accumulators (count a multiple of 8).
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD8<Float>()
        var t = 0
        while t < count {
            let x = UnsafeRawPointer(a + t).loadUnaligned(as: SIMD8<Float>.self)
            let y = UnsafeRawPointer(b + t).loadUnaligned(as: SIMD8<Float>.self)
            acc += x * y
            t += 8
        }
        return acc.sum()
    }

    /// out[0..<width] += weight · row[0..<width] (width a multiple of 8).
    @inline(__always)
    static func accumulate(_ weight: Float, _ row: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, width: Int) {
        var t = 0
        while t < width {
            let o = UnsafeMutableRawPointer(out + t)
            o.storeBytes(of: o.loadUnaligned(as: SIMD8<Float>.self)
                         + weight * UnsafeRawPointer(row + t).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
            t += 8
        }
    }

    /// Logits of row r of the last forward.
    public func logitsRow(_ r: Int) -> UnsafeBufferPointer<Float> {
        precondition(r < rows, "row \(r) of \(rows)")
        return UnsafeBufferPointer(start: logits + r * config.vocab, count: config.vocab)
    }

    /// Features (final RMSNorm output) of row r of the last forward.
    public func featuresRow(_ r: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: features + r * config.width, count: config.width)
    }

    /// Prefills a prompt into an empty cache (causal chain at positions 0..<P), commits it,
    /// and returns the logits of the last prompt token.
    public func prefill(_ prompt: [Int32], cache: KVCache) -> [Float] {
        precondition(cache.length == 0, "prefill expects an empty cache")
        forward([SequenceStep(tokens: prompt, cache: cache)])
        cache.commit(prompt.count)
        return Array(logitsRow(prompt.count - 1))
    }
}

/// out (rows, outFeatures) = inp (rows, inFeatures) · weight (outFeatures, inFeatures)ᵀ for inference:
/// the skinny multi-vector product for few rows (each weight row streamed once
/// for all rows — OpenBLAS's sgemm is ~4× off the bandwidth limit there,
/// MACHINE-NOTES.md), sgemm above its crossover.
enum Linear {
    /// Threads for the skinny product; 1 gives results independent of the machine's core count.
    nonisolated(unsafe) static var threads = SkinnyProduct.defaultThreads

    @inline(__always)
    static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                        rows: Int, inFeatures: Int, outFeatures: Int, scratch: UnsafeMutablePointer<Float>) {
        SkinnyProduct.linear(weights: weight, outFeatures: outFeatures, inFeatures: inFeatures, inputs: inp,
                             vectors: rows, outputs: out, threads: threads, scratch: scratch)
    }
}

extension InferenceModel {
    /// Threads of the decode-time products (default: every core).
    public static var productThreads: Int {
        get { Linear.threads }
        set { Linear.threads = max(1, newValue) }
    }
}

extension InferenceModel {
    /// Median wall time of `repetitions` identical forwards over `steps` (after one warm-up forward unless
    /// `warmUp` is false): what calibration, step-time validation and the benchmark time. The caches
    /// are written but not committed, so every repetition sees the same state.
    public func medianForwardSeconds(_ steps: [SequenceStep], repetitions: Int, warmUp: Bool = true) -> Double {
        precondition(repetitions >= 1, "medianForwardSeconds: at least one repetition")
        if warmUp { forward(steps) }
        var samples: [Double] = []
        for _ in 0..<repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            forward(steps)
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return Statistics.median(samples)
    }
}
