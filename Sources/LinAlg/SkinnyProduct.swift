// SkinnyProduct: the decode-time matrix product Y (k, out) = X (k, in) · Wᵀ
// for a row-major weight matrix W (out, in) far larger than cache and few
// right-hand vectors k (1…64): the "multi-vector GEMV" of GPU decode kernels.
// Each weight row is streamed from memory once and applied to all k vectors,
// so the time stays near weight bytes / bandwidth while k is small, where
// OpenBLAS 0.3.21's sgemm is ~4× slower (MACHINE-NOTES.md). `linear` picks this
// kernel for k ≤ `crossover(threads:)` and cblas_sgemm above it.
//
// Depends on CGSL (cblas_sgemm / cblas_sgemv for the large-k path), Dispatch
// (row split across cores) and the C library (processor count). No Foundation, no I/O.
//
// Kernel layout (tuned on the 2-vCPU AMD EPYC of MACHINE-NOTES.md, W 403 MB):
// - Register blocks of 8 weight rows × 1 or 2 vectors when k ≤ 2 (more rows
//   in flight = more cache misses outstanding = closer to the bandwidth; the
//   16 accumulators of 8×2 spill a little and still win), of 4 rows × 2
//   vectors when k > 2 (8 SIMD8 accumulators, no spills with 16 ymm
//   registers); single rows for the out mod block tail, one vector for an
//   odd k.
// - When k > 2, each block of rows is walked in tiles of 256 floats per row
//   and every vector pair is applied to a tile while it is in L1, so W is
//   read from memory once, in small steps interleaved with the arithmetic
//   (whole rows at once: T(8) +20 %).
// - X is first packed so that a vector pair's 8-float chunks are adjacent:
//   rows of X (and W) lie a multiple of 4 KiB apart and would otherwise
//   fall into the same L1 set.
// - `a = a.addingProduct(w, x)` on SIMD8<Float> (and on Float in the
//   tails): a fused multiply-add, one rounding per term. With `-target-cpu
//   haswell` (the Makefile's builds on a CPU with AVX2 and FMA) it is one
//   vfmadd per 8 terms, half the instructions of a multiply and an add, which
//   is what lets a product over 8 vectors stay near the bandwidth plateau; a
//   portable build computes the same fused result through the C library's
//   fmaf (bit-identical, only slower). Unaligned raw-pointer loads; scalar
//   tails for in mod 8.
// - Rows are split across threads in chunks of whole blocks claimed in
//   order (a helper thread that wakes late just takes fewer chunks).
// The micro-kernels `kernelRxV` at the end are written out from one
// pattern; keep their arithmetic identical when editing (see below).
//
// Summation order (what makes results bitwise reproducible): every output
// element y[j, o] = Σᵢ x[j, i]·w[o, i] is computed by exactly one kernel call
// on one thread, as: eight lane sums over i ≡ lane (mod 8) for the first
// ⌊in/8⌋·8 terms, each in increasing i; the lanes folded as a tree
// ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)); then the remaining in mod 8 terms
// added one by one; then `+ bias[o]`; then, with `accumulate`, `y_old + that`.
// This order depends on `in` only, not on k, the block sizes, the thread
// count or the CPU flags, so row j of a k-vector product equals the 1-vector
// product of x[j] bit for bit.

import CGSL
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Y (k, out) = X (k, in) · Wᵀ (+ bias) (+ Y) for few vectors k, streaming the
/// weights once. All matrices are row-major and densely packed: W (out, in),
/// X (k, in) — vector j is `inputs[j*in ..< (j+1)*in]` — and Y (k, out).
public enum SkinnyProduct {
    /// Weight rows per register block when k ≤ 2: more rows in flight, more
    /// cache misses outstanding, closer to the bandwidth (k = 1: 8 rows 15.6
    /// ms, 4 rows 17.0, 12 rows 16.4, 16 rows 18.3; k = 2: 8 rows 18.3 ms
    /// despite spilling, 4 rows 20.5; W 403 MB, one thread).
    public static let fewVectorRowBlock = 8
    /// Weight rows per register block when k > 2.
    public static let rowBlock = 4
    /// Input vectors per register block.
    public static let vectorBlock = 2
    /// Elements of a weight row per tile when k > vectorBlock: a block's tile
    /// (rows · tileLength floats) stays in L1 while every vector block uses it
    /// (256: T(8) 30 ms; 128: 33; 512: 31–33; 1024: 34.6; whole rows: 36).
    public static let tileLength = 256
    /// Weight matrices of at most this many bytes are multiplied on one
    /// thread. Measured: streaming 1 MB matrices from memory back to back
    /// (the decode pattern), 2 threads beat 1 by ~20 %; for one isolated
    /// call on cache-resident weights the helper's wake-up (30 µs – 1 ms on
    /// this VM) makes 2 threads break even only from ~4–8 MB.
    public static let parallelThresholdBytes = 1 << 20
    /// `linear` uses this kernel for k ≤ the crossover and OpenBLAS sgemm above.
    /// One thread — measured on W (24576, 4096), median of 3: this kernel wins
    /// up to k = 48 (166 ms against 179 ms) and loses at 64 (254 against 204);
    /// in the whole `large` model it still wins at k = 8 (57 against 76 ms).
    /// Two threads — on the single matrix it wins at 40 (75 against 99 ms),
    /// but in the whole `large` model, whose ~50 products are 0.6–6 MB each,
    /// sgemm is faster from k = 8 (a forward over 8 / 16 / 32 rows: 36 / 43 /
    /// 62 ms against 50 / 99 / 166 ms through this kernel).
    public static let sgemmCrossover = 40
    /// The crossover with two or more threads.
    public static let sgemmCrossoverThreaded = 7

    /// The largest k `linear` sends to this kernel with `threads` threads.
    public static func crossover(threads: Int) -> Int { threads > 1 ? sgemmCrossoverThreaded : sgemmCrossover }

    /// The number of online processors (sysconf), at least 1: the default
    /// thread count of `multiply` and `linear`.
    public static var defaultThreads: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    // MARK: Raw-pointer API

    /// outputs (k, out) ← inputs (k, in) · weightsᵀ (+ bias) (+ outputs).
    ///
    /// - Parameters:
    ///   - weights: W (outFeatures, inFeatures), row-major.
    ///   - inputs: X (k, inFeatures), row-major.
    ///   - outputs: Y (k, outFeatures), row-major; must not overlap the inputs,
    ///     weights or bias. Without `accumulate` its old contents are ignored
    ///     (may be anything, even NaN).
    ///   - bias: optional (outFeatures), added to every output row.
    ///   - accumulate: Y ← Y + (X·Wᵀ + bias) instead of Y ← X·Wᵀ + bias.
    ///   - threads: threads the output rows are split across (1 = the calling
    ///     thread only), in chunks of whole row blocks claimed in order. The
    ///     result does not depend on it, bit for bit (see the file comment).
    ///   - minimumParallelBytes: weight matrices of at most this many bytes run
    ///     on one thread whatever `threads` says.
    public static func multiply(weights: UnsafePointer<Float>, outFeatures: Int, inFeatures: Int,
                                inputs: UnsafePointer<Float>, vectors k: Int,
                                outputs: UnsafeMutablePointer<Float>,
                                bias: UnsafePointer<Float>? = nil, accumulate: Bool = false,
                                threads: Int = SkinnyProduct.defaultThreads,
                                minimumParallelBytes: Int = SkinnyProduct.parallelThresholdBytes,
                                scratch: UnsafeMutablePointer<Float>? = nil) {
        precondition(outFeatures >= 0 && inFeatures >= 0 && k >= 0,
                     "SkinnyProduct.multiply: negative shape W (\(outFeatures),\(inFeatures)), k = \(k)")
        precondition(threads >= 1, "SkinnyProduct.multiply: need at least 1 thread, got \(threads)")
        if outFeatures == 0 || k == 0 { return }
        // The packed inputs: in the caller's scratch (≥ k · inFeatures floats) when given,
        // so a decode loop that reuses its buffers allocates nothing here.
        let owned = scratch == nil ? UnsafeMutablePointer<Float>.allocate(capacity: max(1, k * (inFeatures & ~7))) : nil
        defer { owned?.deallocate() }
        let packed = scratch ?? owned!
        pack(inputs, vectors: k, inFeatures: inFeatures, into: packed)
        let job = Job(weights: weights, outFeatures: outFeatures, inFeatures: inFeatures,
                        inputs: inputs, packed: UnsafePointer(packed), vectors: k,
                        outputs: outputs, bias: bias, accumulate: accumulate)
        let rowBlock = rowBlock(vectors: k)
        let blocks = (outFeatures + rowBlock - 1) / rowBlock
        let weightBytes = outFeatures * inFeatures * MemoryLayout<Float>.stride
        let threadCount = weightBytes > minimumParallelBytes ? min(threads, blocks) : 1
        if threadCount == 1 {
            job.run(rows: 0, to: outFeatures)
            return
        }
        // Chunks of whole row blocks, about 8 per thread, claimed in order by
        // whichever thread is free: a helper thread that wakes late (tens of
        // µs to ~1 ms on this VM) takes fewer chunks instead of delaying the end.
        let chunkRows = max(1, blocks / (8 * threadCount)) * rowBlock
        let chunks = (outFeatures + chunkRows - 1) / chunkRows
        let counter = ChunkCounter()
        DispatchQueue.concurrentPerform(iterations: threadCount) { _ in
            while true {
                let chunk = counter.next()
                if chunk >= chunks { break }
                job.run(rows: chunk * chunkRows, to: min(outFeatures, (chunk + 1) * chunkRows))
            }
        }
    }

    /// The same product through OpenBLAS: cblas_sgemv for k = 1, cblas_sgemm
    /// (X · Wᵀ, W transposed in place) otherwise; the bias is written into
    /// (or added to) Y first and the product added with beta = 1. Uses the
    /// OpenBLAS thread count (`OpenBLAS.setThreads`, OPENBLAS_NUM_THREADS);
    /// bitwise reproducible only at a fixed one. Same shapes and semantics as
    /// `multiply` up to rounding.
    public static func openBLASProduct(weights: UnsafePointer<Float>, outFeatures: Int, inFeatures: Int,
                                       inputs: UnsafePointer<Float>, vectors k: Int,
                                       outputs: UnsafeMutablePointer<Float>,
                                       bias: UnsafePointer<Float>? = nil, accumulate: Bool = false) {
        precondition(outFeatures >= 0 && inFeatures >= 0 && k >= 0,
                     "SkinnyProduct.openBLASProduct: negative shape W (\(outFeatures),\(inFeatures)), k = \(k)")
        if outFeatures == 0 || k == 0 { return }
        if let bias {
            for j in 0..<k {
                let row = outputs + j * outFeatures
                if accumulate {
                    for o in 0..<outFeatures { row[o] += bias[o] }
                } else {
                    row.update(from: bias, count: outFeatures)
                }
            }
        }
        let beta: Float = (accumulate || bias != nil) ? 1 : 0
        if inFeatures == 0 {
            if beta == 0 { outputs.update(repeating: 0, count: k * outFeatures) }
            return
        }
        precondition(outFeatures <= Int(Int32.max) && inFeatures <= Int(Int32.max) && k <= Int(Int32.max),
                     "SkinnyProduct.openBLASProduct: shape exceeds cblas's 32-bit sizes")
        if k == 1 {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(outFeatures), Int32(inFeatures),
                        1, weights, Int32(inFeatures), inputs, 1, beta, outputs, 1)
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
                        Int32(k), Int32(outFeatures), Int32(inFeatures),
                        1, inputs, Int32(inFeatures), weights, Int32(inFeatures),
                        beta, outputs, Int32(outFeatures))
        }
    }

    /// The product for any k: `multiply` (with `threads`) for k ≤ `crossover(threads:)`,
    /// `openBLASProduct` (OpenBLAS's own thread count) above. Same parameters
    /// and semantics as `multiply`.
    public static func linear(weights: UnsafePointer<Float>, outFeatures: Int, inFeatures: Int,
                              inputs: UnsafePointer<Float>, vectors k: Int,
                              outputs: UnsafeMutablePointer<Float>,
                              bias: UnsafePointer<Float>? = nil, accumulate: Bool = false,
                              threads: Int = SkinnyProduct.defaultThreads,
                              scratch: UnsafeMutablePointer<Float>? = nil) {
        if k <= crossover(threads: threads) {
            multiply(weights: weights, outFeatures: outFeatures, inFeatures: inFeatures,
                     inputs: inputs, vectors: k, outputs: outputs,
                     bias: bias, accumulate: accumulate, threads: threads, scratch: scratch)
        } else {
            openBLASProduct(weights: weights, outFeatures: outFeatures, inFeatures: inFeatures,
                            inputs: inputs, vectors: k, outputs: outputs,
                            bias: bias, accumulate: accumulate)
        }
    }

    // MARK: Matrix API

    /// outputs (k, out) ← inputs (k, in) · weightsᵀ (+ bias) (+ outputs), on `multiply`.
    /// weights is (out, in); bias, if given, has out elements.
    public static func multiply(_ inputs: Matrix, weights: Matrix, bias: [Float]? = nil,
                                accumulate: Bool = false, into outputs: inout Matrix,
                                threads: Int = SkinnyProduct.defaultThreads) {
        withCheckedShapes(inputs, weights, bias, &outputs, caller: "multiply") { w, x, b, y in
            multiply(weights: w, outFeatures: weights.rows, inFeatures: weights.cols,
                     inputs: x, vectors: inputs.rows, outputs: y,
                     bias: b, accumulate: accumulate, threads: threads)
        }
    }

    /// outputs (k, out) ← inputs (k, in) · weightsᵀ (+ bias) (+ outputs), on `linear`
    /// (this kernel for k ≤ `sgemmCrossover`, OpenBLAS above).
    public static func linear(_ inputs: Matrix, weights: Matrix, bias: [Float]? = nil,
                              accumulate: Bool = false, into outputs: inout Matrix,
                              threads: Int = SkinnyProduct.defaultThreads) {
        withCheckedShapes(inputs, weights, bias, &outputs, caller: "linear") { w, x, b, y in
            linear(weights: w, outFeatures: weights.rows, inFeatures: weights.cols,
                   inputs: x, vectors: inputs.rows, outputs: y,
                   bias: b, accumulate: accumulate, threads: threads)
        }
    }

    private static func withCheckedShapes(
        _ inputs: Matrix, _ weights: Matrix, _ bias: [Float]?, _ outputs: inout Matrix, caller: String,
        _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>?, UnsafeMutablePointer<Float>) -> Void
    ) {
        precondition(inputs.cols == weights.cols,
                     "SkinnyProduct.\(caller): inputs \(inputs.shapeDescription) need weights (out,\(inputs.cols)), got \(weights.shapeDescription)")
        precondition(outputs.rows == inputs.rows && outputs.cols == weights.rows,
                     "SkinnyProduct.\(caller): outputs \(outputs.shapeDescription) should be (\(inputs.rows),\(weights.rows)) for inputs \(inputs.shapeDescription), weights \(weights.shapeDescription)")
        if let bias {
            precondition(bias.count == weights.rows,
                         "SkinnyProduct.\(caller): bias of \(bias.count) for weights \(weights.shapeDescription)")
        }
        // Empty arrays may have no storage; hand the kernels a valid pointer anyway.
        var scratch: Float = 0
        withUnsafeMutablePointer(to: &scratch) { fallback in
            weights.withUnsafeBufferPointer { w in
                inputs.withUnsafeBufferPointer { x in
                    outputs.withUnsafeMutableBufferPointer { y in
                        let wp = w.baseAddress ?? UnsafePointer(fallback)
                        let xp = x.baseAddress ?? UnsafePointer(fallback)
                        let yp = y.baseAddress ?? fallback
                        if let bias {
                            bias.withUnsafeBufferPointer { b in body(wp, xp, b.baseAddress ?? UnsafePointer(fallback), yp) }
                        } else {
                            body(wp, xp, nil, yp)
                        }
                    }
                }
            }
        }
    }

    // MARK: Driver

    /// One product's operands, shared read-only by the threads; each thread
    /// writes a disjoint range of output columns.
    private struct Job: @unchecked Sendable {
        let weights: UnsafePointer<Float>
        let outFeatures: Int
        let inFeatures: Int
        let inputs: UnsafePointer<Float>
        /// The inputs' first in & ~7 columns in the layout of `pack`.
        let packed: UnsafePointer<Float>
        let vectors: Int
        let outputs: UnsafeMutablePointer<Float>
        let bias: UnsafePointer<Float>?
        let accumulate: Bool

        /// Output columns (weight rows) start..<end, for all vectors. With
        /// more than one vector block, each block of weight rows is walked in
        /// tiles of `tileLength` floats and every vector block is applied to a
        /// tile while it is in L1, so the weights come from memory once.
        func run(rows start: Int, to end: Int) {
            let rowBlock = SkinnyProduct.rowBlock(vectors: vectors), vectorBlock = SkinnyProduct.vectorBlock
            let body = inFeatures & ~7
            // One vector block: nothing to reuse, so whole rows (no tiles).
            let tileLength = vectors > vectorBlock ? SkinnyProduct.tileLength : max(8, body)
            let slots = rowBlock * ((vectors + vectorBlock - 1) / vectorBlock) * vectorBlock
            withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: slots) { scratch in
                let partials = scratch.baseAddress!
                var row = start
                while row < end {
                    let rows = min(rowBlock, end - row)
                    let kernelRows = rows == rowBlock ? rowBlock : 1
                    for sub in stride(from: row, to: row + rows, by: kernelRows) {
                        let w = weights + sub * inFeatures
                        let b = bias.map { $0 + sub }
                        var tileStart = 0
                        repeat {
                            let tileEnd = min(body, tileStart + tileLength)
                            let last = tileEnd == body
                            var j = 0
                            while j < vectors {
                                let count = min(vectorBlock, vectors - j)
                                let tile = Tile(weights: w, inputs: inputs + j * inFeatures,
                                                packed: packed + j * body, count: inFeatures,
                                                begin: tileStart, end: tileEnd, partials: partials + j * kernelRows,
                                                outputs: last ? outputs + (j * outFeatures + sub) : nil,
                                                outStride: outFeatures, bias: b, accumulate: accumulate)
                                SkinnyProduct.block(rows: kernelRows, vectors: count, tile)
                                j += count
                            }
                            tileStart = tileEnd
                        } while tileStart < body
                    }
                    row += rows
                }
            }
        }
    }

    /// Hands out 0, 1, 2, … to concurrent callers (a pthread mutex: no
    /// stdlib atomics before macOS 15, and a claim per chunk costs nothing).
    final class ChunkCounter: @unchecked Sendable {
        private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        private var value = 0
        init() { pthread_mutex_init(mutex, nil) }
        deinit { pthread_mutex_destroy(mutex); mutex.deallocate() }
        func next() -> Int {
            pthread_mutex_lock(mutex)
            defer { pthread_mutex_unlock(mutex) }
            value += 1
            return value - 1
        }
    }

    /// One micro-kernel call: rows × vectors dot products over the elements
    /// begin..<end (multiples of 8) of weight rows and input vectors of length `count`.
    struct Tile {
        /// First weight row of the block; rows are `count` apart.
        let weights: UnsafePointer<Float>
        /// First input vector of the block; vectors are `count` apart (read
        /// for the count mod 8 tail only).
        let inputs: UnsafePointer<Float>
        /// The block's vectors packed by `pack`: for element i (a multiple of
        /// 8), vector v's x[i..<i+8] is at packed[i·vectors + 8·v].
        let packed: UnsafePointer<Float>
        let count: Int
        let begin: Int
        let end: Int
        /// rows·vectors SIMD8 lane sums carried from tile to tile, [row][vector];
        /// ignored when begin = 0 (the sums start at zero).
        let partials: UnsafeMutablePointer<SIMD8<Float>>
        /// Set on the last tile (end = count & ~7): add the count mod 8 tail
        /// terms, fold the lanes and store to outputs[vector·outStride + row].
        let outputs: UnsafeMutablePointer<Float>?
        let outStride: Int
        /// Bias of the block's first row, or nil.
        let bias: UnsafePointer<Float>?
        let accumulate: Bool
    }

    @inline(__always)
    static func block(rows: Int, vectors: Int, _ tile: Tile) {
        switch (rows, vectors) {
        case (8, 2): kernel8x2(tile)
        case (8, 1): kernel8x1(tile)
        case (4, 2): kernel4x2(tile)
        case (4, 1): kernel4x1(tile)
        case (1, 2): kernel1x2(tile)
        case (1, 1): kernel1x1(tile)
        default: preconditionFailure("SkinnyProduct: no kernel for \(rows) rows × \(vectors) vectors")
        }
    }

    /// Weight rows per register block for k vectors.
    static func rowBlock(vectors: Int) -> Int {
        vectors <= 2 ? fewVectorRowBlock : rowBlock
    }

    /// Copies the first in & ~7 columns of X (k, in) into `packed`, vector
    /// block by vector block (blocks of `vectorBlock`, the last one smaller):
    /// block j… holds, for each 8-column chunk c, the chunk of each of its n
    /// vectors in turn, at packed[j·body + c·8·n + 8·v]. A kernel then reads
    /// its vectors' chunks from one contiguous run instead of n rows whose
    /// addresses differ by a multiple of 4 KiB (same L1 set: they would evict
    /// each other).
    static func pack(_ inputs: UnsafePointer<Float>, vectors k: Int, inFeatures: Int,
                     into packed: UnsafeMutablePointer<Float>) {
        let body = inFeatures & ~7
        var j = 0
        while j < k {
            let n = min(vectorBlock, k - j)
            let target = UnsafeMutableRawPointer(packed + j * body)
            for v in 0..<n {
                let source = UnsafeRawPointer(inputs + (j + v) * inFeatures)
                var column = 0
                while column < body {
                    let chunk = source.loadUnaligned(fromByteOffset: column * 4, as: SIMD8<Float>.self)
                    target.storeBytes(of: chunk, toByteOffset: (column * n + 8 * v) * 4, as: SIMD8<Float>.self)
                    column += 8
                }
            }
            j += n
        }
    }

    // MARK: Micro-kernels

    /// Tree sum of the eight lanes: ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)).
    @inline(__always)
    static func lanesSum(_ a: SIMD8<Float>) -> Float {
        let four = a.lowHalf + a.highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }

    /// y ← sum + bias[row] (or y + (sum + bias[row]) when accumulating).
    @inline(__always)
    static func store(_ sum: Float, _ y: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>?,
                      _ row: Int, _ accumulate: Bool) {
        var value = sum
        if let bias { value += bias[row] }
        if accumulate { y.pointee += value } else { y.pointee = value }
    }

    /// 8 weight rows × 2 vectors (16 dot products); see `Tile`.
    @inline(never)
    static func kernel8x2(_ t: Tile) {
        let w0 = UnsafeRawPointer(t.weights)
        let w1 = UnsafeRawPointer(t.weights + 1 * t.count)
        let w2 = UnsafeRawPointer(t.weights + 2 * t.count)
        let w3 = UnsafeRawPointer(t.weights + 3 * t.count)
        let w4 = UnsafeRawPointer(t.weights + 4 * t.count)
        let w5 = UnsafeRawPointer(t.weights + 5 * t.count)
        let w6 = UnsafeRawPointer(t.weights + 6 * t.count)
        let w7 = UnsafeRawPointer(t.weights + 7 * t.count)
        let xp = UnsafeRawPointer(t.packed)
        let fresh = t.begin == 0
        var a00 = fresh ? SIMD8<Float>() : t.partials[0]
        var a01 = fresh ? SIMD8<Float>() : t.partials[1]
        var a10 = fresh ? SIMD8<Float>() : t.partials[2]
        var a11 = fresh ? SIMD8<Float>() : t.partials[3]
        var a20 = fresh ? SIMD8<Float>() : t.partials[4]
        var a21 = fresh ? SIMD8<Float>() : t.partials[5]
        var a30 = fresh ? SIMD8<Float>() : t.partials[6]
        var a31 = fresh ? SIMD8<Float>() : t.partials[7]
        var a40 = fresh ? SIMD8<Float>() : t.partials[8]
        var a41 = fresh ? SIMD8<Float>() : t.partials[9]
        var a50 = fresh ? SIMD8<Float>() : t.partials[10]
        var a51 = fresh ? SIMD8<Float>() : t.partials[11]
        var a60 = fresh ? SIMD8<Float>() : t.partials[12]
        var a61 = fresh ? SIMD8<Float>() : t.partials[13]
        var a70 = fresh ? SIMD8<Float>() : t.partials[14]
        var a71 = fresh ? SIMD8<Float>() : t.partials[15]
        var offset = t.begin &* 4
        var packedOffset = t.begin &* 8
        let endBytes = t.end &* 4
        while offset < endBytes {
            let v0 = xp.loadUnaligned(fromByteOffset: packedOffset, as: SIMD8<Float>.self)
            let v1 = xp.loadUnaligned(fromByteOffset: packedOffset &+ 32, as: SIMD8<Float>.self)
            let r0 = w0.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a00 = a00.addingProduct(r0, v0); a01 = a01.addingProduct(r0, v1)
            let r1 = w1.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a10 = a10.addingProduct(r1, v0); a11 = a11.addingProduct(r1, v1)
            let r2 = w2.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a20 = a20.addingProduct(r2, v0); a21 = a21.addingProduct(r2, v1)
            let r3 = w3.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a30 = a30.addingProduct(r3, v0); a31 = a31.addingProduct(r3, v1)
            let r4 = w4.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a40 = a40.addingProduct(r4, v0); a41 = a41.addingProduct(r4, v1)
            let r5 = w5.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a50 = a50.addingProduct(r5, v0); a51 = a51.addingProduct(r5, v1)
            let r6 = w6.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a60 = a60.addingProduct(r6, v0); a61 = a61.addingProduct(r6, v1)
            let r7 = w7.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a70 = a70.addingProduct(r7, v0); a71 = a71.addingProduct(r7, v1)
            offset &+= 32
            packedOffset &+= 64
        }
        guard let y = t.outputs else {
            t.partials[0] = a00; t.partials[1] = a01; t.partials[2] = a10; t.partials[3] = a11; t.partials[4] = a20; t.partials[5] = a21; t.partials[6] = a30; t.partials[7] = a31; t.partials[8] = a40; t.partials[9] = a41; t.partials[10] = a50; t.partials[11] = a51; t.partials[12] = a60; t.partials[13] = a61; t.partials[14] = a70; t.partials[15] = a71
            return
        }
        var s00 = lanesSum(a00)
        var s01 = lanesSum(a01)
        var s10 = lanesSum(a10)
        var s11 = lanesSum(a11)
        var s20 = lanesSum(a20)
        var s21 = lanesSum(a21)
        var s30 = lanesSum(a30)
        var s31 = lanesSum(a31)
        var s40 = lanesSum(a40)
        var s41 = lanesSum(a41)
        var s50 = lanesSum(a50)
        var s51 = lanesSum(a51)
        var s60 = lanesSum(a60)
        var s61 = lanesSum(a61)
        var s70 = lanesSum(a70)
        var s71 = lanesSum(a71)
        let x = t.inputs, w = t.weights, count = t.count
        var i = t.end
        while i < count {
            let v0 = x[i]
            let v1 = x[1 * count + i]
            let r0 = w[i]
            s00 = s00.addingProduct(r0, v0); s01 = s01.addingProduct(r0, v1)
            let r1 = w[1 * count + i]
            s10 = s10.addingProduct(r1, v0); s11 = s11.addingProduct(r1, v1)
            let r2 = w[2 * count + i]
            s20 = s20.addingProduct(r2, v0); s21 = s21.addingProduct(r2, v1)
            let r3 = w[3 * count + i]
            s30 = s30.addingProduct(r3, v0); s31 = s31.addingProduct(r3, v1)
            let r4 = w[4 * count + i]
            s40 = s40.addingProduct(r4, v0); s41 = s41.addingProduct(r4, v1)
            let r5 = w[5 * count + i]
            s50 = s50.addingProduct(r5, v0); s51 = s51.addingProduct(r5, v1)
            let r6 = w[6 * count + i]
            s60 = s60.addingProduct(r6, v0); s61 = s61.addingProduct(r6, v1)
            let r7 = w[7 * count + i]
            s70 = s70.addingProduct(r7, v0); s71 = s71.addingProduct(r7, v1)
            i &+= 1
        }
        store(s00, y + (0 * t.outStride + 0), t.bias, 0, t.accumulate)
        store(s01, y + (1 * t.outStride + 0), t.bias, 0, t.accumulate)
        store(s10, y + (0 * t.outStride + 1), t.bias, 1, t.accumulate)
        store(s11, y + (1 * t.outStride + 1), t.bias, 1, t.accumulate)
        store(s20, y + (0 * t.outStride + 2), t.bias, 2, t.accumulate)
        store(s21, y + (1 * t.outStride + 2), t.bias, 2, t.accumulate)
        store(s30, y + (0 * t.outStride + 3), t.bias, 3, t.accumulate)
        store(s31, y + (1 * t.outStride + 3), t.bias, 3, t.accumulate)
        store(s40, y + (0 * t.outStride + 4), t.bias, 4, t.accumulate)
        store(s41, y + (1 * t.outStride + 4), t.bias, 4, t.accumulate)
        store(s50, y + (0 * t.outStride + 5), t.bias, 5, t.accumulate)
        store(s51, y + (1 * t.outStride + 5), t.bias, 5, t.accumulate)
        store(s60, y + (0 * t.outStride + 6), t.bias, 6, t.accumulate)
        store(s61, y + (1 * t.outStride + 6), t.bias, 6, t.accumulate)
        store(s70, y + (0 * t.outStride + 7), t.bias, 7, t.accumulate)
        store(s71, y + (1 * t.outStride + 7), t.bias, 7, t.accumulate)
    }

    /// 8 weight rows × 1 vector (8 dot products); see `Tile`.
    @inline(never)
    static func kernel8x1(_ t: Tile) {
        let w0 = UnsafeRawPointer(t.weights)
        let w1 = UnsafeRawPointer(t.weights + 1 * t.count)
        let w2 = UnsafeRawPointer(t.weights + 2 * t.count)
        let w3 = UnsafeRawPointer(t.weights + 3 * t.count)
        let w4 = UnsafeRawPointer(t.weights + 4 * t.count)
        let w5 = UnsafeRawPointer(t.weights + 5 * t.count)
        let w6 = UnsafeRawPointer(t.weights + 6 * t.count)
        let w7 = UnsafeRawPointer(t.weights + 7 * t.count)
        let xp = UnsafeRawPointer(t.packed)
        let fresh = t.begin == 0
        var a00 = fresh ? SIMD8<Float>() : t.partials[0]
        var a10 = fresh ? SIMD8<Float>() : t.partials[1]
        var a20 = fresh ? SIMD8<Float>() : t.partials[2]
        var a30 = fresh ? SIMD8<Float>() : t.partials[3]
        var a40 = fresh ? SIMD8<Float>() : t.partials[4]
        var a50 = fresh ? SIMD8<Float>() : t.partials[5]
        var a60 = fresh ? SIMD8<Float>() : t.partials[6]
        var a70 = fresh ? SIMD8<Float>() : t.partials[7]
        var offset = t.begin &* 4
        var packedOffset = t.begin &* 4
        let endBytes = t.end &* 4
        while offset < endBytes {
            let v0 = xp.loadUnaligned(fromByteOffset: packedOffset, as: SIMD8<Float>.self)
            let r0 = w0.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a00 = a00.addingProduct(r0, v0)
            let r1 = w1.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a10 = a10.addingProduct(r1, v0)
            let r2 = w2.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a20 = a20.addingProduct(r2, v0)
            let r3 = w3.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a30 = a30.addingProduct(r3, v0)
            let r4 = w4.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a40 = a40.addingProduct(r4, v0)
            let r5 = w5.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a50 = a50.addingProduct(r5, v0)
            let r6 = w6.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a60 = a60.addingProduct(r6, v0)
            let r7 = w7.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a70 = a70.addingProduct(r7, v0)
            offset &+= 32
            packedOffset &+= 32
        }
        guard let y = t.outputs else {
            t.partials[0] = a00; t.partials[1] = a10; t.partials[2] = a20; t.partials[3] = a30; t.partials[4] = a40; t.partials[5] = a50; t.partials[6] = a60; t.partials[7] = a70
            return
        }
        var s00 = lanesSum(a00)
        var s10 = lanesSum(a10)
        var s20 = lanesSum(a20)
        var s30 = lanesSum(a30)
        var s40 = lanesSum(a40)
        var s50 = lanesSum(a50)
        var s60 = lanesSum(a60)
        var s70 = lanesSum(a70)
        let x = t.inputs, w = t.weights, count = t.count
        var i = t.end
        while i < count {
            let v0 = x[i]
            let r0 = w[i]
            s00 = s00.addingProduct(r0, v0)
            let r1 = w[1 * count + i]
            s10 = s10.addingProduct(r1, v0)
            let r2 = w[2 * count + i]
            s20 = s20.addingProduct(r2, v0)
            let r3 = w[3 * count + i]
            s30 = s30.addingProduct(r3, v0)
            let r4 = w[4 * count + i]
            s40 = s40.addingProduct(r4, v0)
            let r5 = w[5 * count + i]
            s50 = s50.addingProduct(r5, v0)
            let r6 = w[6 * count + i]
            s60 = s60.addingProduct(r6, v0)
            let r7 = w[7 * count + i]
            s70 = s70.addingProduct(r7, v0)
            i &+= 1
        }
        store(s00, y + (0 * t.outStride + 0), t.bias, 0, t.accumulate)
        store(s10, y + (0 * t.outStride + 1), t.bias, 1, t.accumulate)
        store(s20, y + (0 * t.outStride + 2), t.bias, 2, t.accumulate)
        store(s30, y + (0 * t.outStride + 3), t.bias, 3, t.accumulate)
        store(s40, y + (0 * t.outStride + 4), t.bias, 4, t.accumulate)
        store(s50, y + (0 * t.outStride + 5), t.bias, 5, t.accumulate)
        store(s60, y + (0 * t.outStride + 6), t.bias, 6, t.accumulate)
        store(s70, y + (0 * t.outStride + 7), t.bias, 7, t.accumulate)
    }

    /// 4 weight rows × 2 vectors (8 dot products); see `Tile`.
    @inline(never)
    static func kernel4x2(_ t: Tile) {
        let w0 = UnsafeRawPointer(t.weights)
        let w1 = UnsafeRawPointer(t.weights + 1 * t.count)
        let w2 = UnsafeRawPointer(t.weights + 2 * t.count)
        let w3 = UnsafeRawPointer(t.weights + 3 * t.count)
        let xp = UnsafeRawPointer(t.packed)
        let fresh = t.begin == 0
        var a00 = fresh ? SIMD8<Float>() : t.partials[0]
        var a01 = fresh ? SIMD8<Float>() : t.partials[1]
        var a10 = fresh ? SIMD8<Float>() : t.partials[2]
        var a11 = fresh ? SIMD8<Float>() : t.partials[3]
        var a20 = fresh ? SIMD8<Float>() : t.partials[4]
        var a21 = fresh ? SIMD8<Float>() : t.partials[5]
        var a30 = fresh ? SIMD8<Float>() : t.partials[6]
        var a31 = fresh ? SIMD8<Float>() : t.partials[7]
        var offset = t.begin &* 4
        var packedOffset = t.begin &* 8
        let endBytes = t.end &* 4
        while offset < endBytes {
            let v0 = xp.loadUnaligned(fromByteOffset: packedOffset, as: SIMD8<Float>.self)
            let v1 = xp.loadUnaligned(fromByteOffset: packedOffset &+ 32, as: SIMD8<Float>.self)
            let r0 = w0.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a00 = a00.addingProduct(r0, v0); a01 = a01.addingProduct(r0, v1)
            let r1 = w1.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a10 = a10.addingProduct(r1, v0); a11 = a11.addingProduct(r1, v1)
            let r2 = w2.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a20 = a20.addingProduct(r2, v0); a21 = a21.addingProduct(r2, v1)
            let r3 = w3.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a30 = a30.addingProduct(r3, v0); a31 = a31.addingProduct(r3, v1)
            offset &+= 32
            packedOffset &+= 64
        }
        guard let y = t.outputs else {
            t.partials[0] = a00; t.partials[1] = a01; t.partials[2] = a10; t.partials[3] = a11; t.partials[4] = a20; t.partials[5] = a21; t.partials[6] = a30; t.partials[7] = a31
            return
        }
        var s00 = lanesSum(a00)
        var s01 = lanesSum(a01)
        var s10 = lanesSum(a10)
        var s11 = lanesSum(a11)
        var s20 = lanesSum(a20)
        var s21 = lanesSum(a21)
        var s30 = lanesSum(a30)
        var s31 = lanesSum(a31)
        let x = t.inputs, w = t.weights, count = t.count
        var i = t.end
        while i < count {
            let v0 = x[i]
            let v1 = x[1 * count + i]
            let r0 = w[i]
            s00 = s00.addingProduct(r0, v0); s01 = s01.addingProduct(r0, v1)
            let r1 = w[1 * count + i]
            s10 = s10.addingProduct(r1, v0); s11 = s11.addingProduct(r1, v1)
            let r2 = w[2 * count + i]
            s20 = s20.addingProduct(r2, v0); s21 = s21.addingProduct(r2, v1)
            let r3 = w[3 * count + i]
            s30 = s30.addingProduct(r3, v0); s31 = s31.addingProduct(r3, v1)
            i &+= 1
        }
        store(s00, y + (0 * t.outStride + 0), t.bias, 0, t.accumulate)
        store(s01, y + (1 * t.outStride + 0), t.bias, 0, t.accumulate)
        store(s10, y + (0 * t.outStride + 1), t.bias, 1, t.accumulate)
        store(s11, y + (1 * t.outStride + 1), t.bias, 1, t.accumulate)
        store(s20, y + (0 * t.outStride + 2), t.bias, 2, t.accumulate)
        store(s21, y + (1 * t.outStride + 2), t.bias, 2, t.accumulate)
        store(s30, y + (0 * t.outStride + 3), t.bias, 3, t.accumulate)
        store(s31, y + (1 * t.outStride + 3), t.bias, 3, t.accumulate)
    }

    /// 4 weight rows × 1 vector (4 dot products); see `Tile`.
    @inline(never)
    static func kernel4x1(_ t: Tile) {
        let w0 = UnsafeRawPointer(t.weights)
        let w1 = UnsafeRawPointer(t.weights + 1 * t.count)
        let w2 = UnsafeRawPointer(t.weights + 2 * t.count)
        let w3 = UnsafeRawPointer(t.weights + 3 * t.count)
        let xp = UnsafeRawPointer(t.packed)
        let fresh = t.begin == 0
        var a00 = fresh ? SIMD8<Float>() : t.partials[0]
        var a10 = fresh ? SIMD8<Float>() : t.partials[1]
        var a20 = fresh ? SIMD8<Float>() : t.partials[2]
        var a30 = fresh ? SIMD8<Float>() : t.partials[3]
        var offset = t.begin &* 4
        var packedOffset = t.begin &* 4
        let endBytes = t.end &* 4
        while offset < endBytes {
            let v0 = xp.loadUnaligned(fromByteOffset: packedOffset, as: SIMD8<Float>.self)
            let r0 = w0.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a00 = a00.addingProduct(r0, v0)
            let r1 = w1.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a10 = a10.addingProduct(r1, v0)
            let r2 = w2.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a20 = a20.addingProduct(r2, v0)
            let r3 = w3.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a30 = a30.addingProduct(r3, v0)
            offset &+= 32
            packedOffset &+= 32
        }
        guard let y = t.outputs else {
            t.partials[0] = a00; t.partials[1] = a10; t.partials[2] = a20; t.partials[3] = a30
            return
        }
        var s00 = lanesSum(a00)
        var s10 = lanesSum(a10)
        var s20 = lanesSum(a20)
        var s30 = lanesSum(a30)
        let x = t.inputs, w = t.weights, count = t.count
        var i = t.end
        while i < count {
            let v0 = x[i]
            let r0 = w[i]
            s00 = s00.addingProduct(r0, v0)
            let r1 = w[1 * count + i]
            s10 = s10.addingProduct(r1, v0)
            let r2 = w[2 * count + i]
            s20 = s20.addingProduct(r2, v0)
            let r3 = w[3 * count + i]
            s30 = s30.addingProduct(r3, v0)
            i &+= 1
        }
        store(s00, y + (0 * t.outStride + 0), t.bias, 0, t.accumulate)
        store(s10, y + (0 * t.outStride + 1), t.bias, 1, t.accumulate)
        store(s20, y + (0 * t.outStride + 2), t.bias, 2, t.accumulate)
        store(s30, y + (0 * t.outStride + 3), t.bias, 3, t.accumulate)
    }

    /// 1 weight row × 2 vectors (2 dot products); see `Tile`.
    @inline(never)
    static func kernel1x2(_ t: Tile) {
        let w0 = UnsafeRawPointer(t.weights)
        let xp = UnsafeRawPointer(t.packed)
        let fresh = t.begin == 0
        var a00 = fresh ? SIMD8<Float>() : t.partials[0]
        var a01 = fresh ? SIMD8<Float>() : t.partials[1]
        var offset = t.begin &* 4
        var packedOffset = t.begin &* 8
        let endBytes = t.end &* 4
        while offset < endBytes {
            let v0 = xp.loadUnaligned(fromByteOffset: packedOffset, as: SIMD8<Float>.self)
            let v1 = xp.loadUnaligned(fromByteOffset: packedOffset &+ 32, as: SIMD8<Float>.self)
            let r0 = w0.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a00 = a00.addingProduct(r0, v0); a01 = a01.addingProduct(r0, v1)
            offset &+= 32
            packedOffset &+= 64
        }
        guard let y = t.outputs else {
            t.partials[0] = a00; t.partials[1] = a01
            return
        }
        var s00 = lanesSum(a00)
        var s01 = lanesSum(a01)
        let x = t.inputs, w = t.weights, count = t.count
        var i = t.end
        while i < count {
            let v0 = x[i]
            let v1 = x[1 * count + i]
            let r0 = w[i]
            s00 = s00.addingProduct(r0, v0); s01 = s01.addingProduct(r0, v1)
            i &+= 1
        }
        store(s00, y + (0 * t.outStride + 0), t.bias, 0, t.accumulate)
        store(s01, y + (1 * t.outStride + 0), t.bias, 0, t.accumulate)
    }

    /// 1 weight row × 1 vector (1 dot product); see `Tile`.
    @inline(never)
    static func kernel1x1(_ t: Tile) {
        let w0 = UnsafeRawPointer(t.weights)
        let xp = UnsafeRawPointer(t.packed)
        let fresh = t.begin == 0
        var a00 = fresh ? SIMD8<Float>() : t.partials[0]
        var offset = t.begin &* 4
        var packedOffset = t.begin &* 4
        let endBytes = t.end &* 4
        while offset < endBytes {
            let v0 = xp.loadUnaligned(fromByteOffset: packedOffset, as: SIMD8<Float>.self)
            let r0 = w0.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a00 = a00.addingProduct(r0, v0)
            offset &+= 32
            packedOffset &+= 32
        }
        guard let y = t.outputs else {
            t.partials[0] = a00
            return
        }
        var s00 = lanesSum(a00)
        let x = t.inputs, w = t.weights, count = t.count
        var i = t.end
        while i < count {
            let v0 = x[i]
            let r0 = w[i]
            s00 = s00.addingProduct(r0, v0)
            i &+= 1
        }
        store(s00, y + (0 * t.outStride + 0), t.bias, 0, t.accumulate)
    }
}

extension Matrix {
    /// self (k, in) · weightsᵀ (+ bias), weights (out, in) -> (k, out), in a new
    /// matrix, through `SkinnyProduct.linear`. Allocates; in a loop prefer
    /// `SkinnyProduct.linear(_:weights:bias:accumulate:into:threads:)`.
    public func timesTransposed(_ weights: Matrix, bias: [Float]? = nil,
                                threads: Int = SkinnyProduct.defaultThreads) -> Matrix {
        var result = Matrix(rows: rows, cols: weights.rows)
        SkinnyProduct.linear(self, weights: weights, bias: bias, into: &result, threads: threads)
        return result
    }
}

/// Float storage for a large weight matrix that SkinnyProduct streams:
/// 2 MiB-aligned and, on Linux, advised as transparent huge pages
/// (madvise MADV_HUGEPAGE; with THP set to "madvise", as on this machine,
/// ordinary allocations get 4 KiB pages). Huge pages cut the TLB misses of
/// streaming: measured on a 403 MB matrix, one thread, T(1) ~5 % and T(8)
/// ~15 % faster. The memory is zero-filled at creation (which also faults
/// the pages in) and freed with the buffer.
public final class WeightBuffer: @unchecked Sendable {
    /// Number of Floats.
    public let count: Int
    /// The storage, `count` Floats.
    public let baseAddress: UnsafeMutablePointer<Float>
    /// Whether the huge-page advice was requested and accepted by the kernel
    /// (the kernel may still back parts with 4 KiB pages).
    public let hugePagesAdvised: Bool

    /// `count` zeroed Floats; `hugePages: false` gives the same alignment
    /// without the advice (for comparisons).
    public init(count: Int, hugePages: Bool = true) {
        precondition(count >= 0, "WeightBuffer: negative count \(count)")
        let alignment = 2 << 20
        let bytes = (max(1, count) * MemoryLayout<Float>.stride + alignment - 1) / alignment * alignment
        var raw: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&raw, alignment, bytes) == 0, let raw else {
            preconditionFailure("WeightBuffer: cannot allocate \(bytes) bytes")
        }
        #if os(Linux)
        hugePagesAdvised = hugePages && madvise(raw, bytes, MADV_HUGEPAGE) == 0
        #else
        hugePagesAdvised = false
        #endif
        self.count = count
        baseAddress = raw.bindMemory(to: Float.self, capacity: max(1, count))
        baseAddress.initialize(repeating: 0, count: max(1, count))
    }

    deinit { free(baseAddress) }

    /// The storage as a buffer of `count` Floats.
    public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: baseAddress, count: count)
    }
}
