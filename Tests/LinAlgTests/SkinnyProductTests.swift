// Tests of SkinnyProduct (multiply, openBLASProduct, linear, the Matrix API)
// against a naive Double-accumulated loop, and of its bitwise determinism
// across thread counts and k. Depends on LinAlg and Swift Testing only.

import Testing
import LinAlg

/// Float32 unit roundoff, 2⁻²⁴.
private let unitRoundoff = Double(Float.ulpOfOne) / 2

/// Reference Y (k, out) = X·Wᵀ + bias + Y0 in Double, and for every element
/// the scale Σᵢ|x·w| + |bias| + |y0| that bounds its Float32 rounding error.
private func reference(weights: Matrix, inputs: Matrix, bias: [Float]?, initial: Matrix?)
    -> (values: [Double], scale: [Double]) {
    let k = inputs.rows, out = weights.rows, n = weights.cols
    var values = [Double](repeating: 0, count: k * out)
    var scale = [Double](repeating: 0, count: k * out)
    for j in 0..<k {
        for o in 0..<out {
            var sum = 0.0, magnitude = 0.0
            for i in 0..<n {
                let term = Double(inputs.values[j * n + i]) * Double(weights.values[o * n + i])
                sum += term
                magnitude += abs(term)
            }
            if let bias { sum += Double(bias[o]); magnitude += abs(Double(bias[o])) }
            if let initial {
                sum += Double(initial.values[j * out + o]); magnitude += abs(Double(initial.values[j * out + o]))
            }
            values[j * out + o] = sum
            scale[j * out + o] = magnitude
        }
    }
    return (values, scale)
}

/// The error bound γ_m·scale with γ_m = m·u/(1 − m·u) (Higham, recursive
/// summation): every term of a dot product goes through at most m roundings.
/// SkinnyProduct sums in eight lanes of ⌈in/8⌉ terms, folds them in 3 levels,
/// adds up to 7 tail terms one by one, then bias and the old value:
/// m ≤ 1 (product) + ⌈in/8⌉ + 3 + 7 + 2. OpenBLAS's order is unknown, so for
/// it m = in + 3 (the worst case of any order).
private func roundings(inFeatures: Int, skinny: Bool) -> Int {
    skinny ? 1 + (inFeatures + 7) / 8 + 3 + 7 + 2 : inFeatures + 3
}

private func expectClose(_ actual: Matrix, _ expected: (values: [Double], scale: [Double]),
                         roundings m: Int, _ label: String) {
    let gamma = Double(m) * unitRoundoff / (1 - Double(m) * unitRoundoff)
    var worst = 0.0, worstIndex = -1
    for index in actual.values.indices {
        let error = abs(Double(actual.values[index]) - expected.values[index])
        // The floor covers results that underflow to subnormals (none here in practice).
        let allowed = gamma * expected.scale[index] + 1e-30
        if error / allowed > worst { worst = error / allowed; worstIndex = index }
    }
    #expect(worst <= 1, "\(label): element \(worstIndex) off by \(worst)× the rounding bound")
}

private func randomProblem(out: Int, in n: Int, k: Int, seed: UInt64)
    -> (weights: Matrix, inputs: Matrix, bias: [Float], initial: Matrix) {
    let rng = RandomSource(seed: seed)
    let weights = Matrix.uniform(rows: out, cols: n, using: rng)
    let inputs = Matrix.uniform(rows: k, cols: n, using: rng)
    let bias = Matrix.uniform(rows: 1, cols: out, using: rng).values
    let initial = Matrix.uniform(rows: k, cols: out, using: rng)
    return (weights, inputs, bias, initial)
}

@Suite("SkinnyProduct")
struct SkinnyProductTests {
    @Test("matches a Double reference on odd shapes (in, out, k not multiples of the blocks)",
          arguments: [1, 7, 8, 9, 63, 130])
    func oddShapes(inFeatures: Int) {
        for out in [1, 3, 5, 64, 131] {
            for k in [1, 2, 3, 4, 5, 8, 13] {
                let problem = randomProblem(out: out, in: inFeatures, k: k,
                                            seed: UInt64(inFeatures * 10_000 + out * 100 + k))
                var result = Matrix(rows: k, cols: out, repeating: .nan)   // old contents ignored
                SkinnyProduct.multiply(problem.inputs, weights: problem.weights, into: &result, threads: 1)
                expectClose(result, reference(weights: problem.weights, inputs: problem.inputs, bias: nil, initial: nil),
                            roundings: roundings(inFeatures: inFeatures, skinny: true),
                            "in \(inFeatures) out \(out) k \(k)")
            }
        }
    }

    @Test("bias, accumulate, and both")
    func biasAndAccumulate() {
        for (out, n, k) in [(131, 63, 5), (64, 130, 13), (5, 9, 3)] {
            let p = randomProblem(out: out, in: n, k: k, seed: UInt64(out + n + k))
            var withBias = Matrix(rows: k, cols: out, repeating: .nan)
            SkinnyProduct.multiply(p.inputs, weights: p.weights, bias: p.bias, into: &withBias, threads: 1)
            expectClose(withBias, reference(weights: p.weights, inputs: p.inputs, bias: p.bias, initial: nil),
                        roundings: roundings(inFeatures: n, skinny: true), "bias \(out)×\(n) k \(k)")

            var accumulated = p.initial
            SkinnyProduct.multiply(p.inputs, weights: p.weights, accumulate: true, into: &accumulated, threads: 1)
            expectClose(accumulated, reference(weights: p.weights, inputs: p.inputs, bias: nil, initial: p.initial),
                        roundings: roundings(inFeatures: n, skinny: true), "accumulate \(out)×\(n) k \(k)")

            var both = p.initial
            SkinnyProduct.multiply(p.inputs, weights: p.weights, bias: p.bias, accumulate: true, into: &both, threads: 1)
            expectClose(both, reference(weights: p.weights, inputs: p.inputs, bias: p.bias, initial: p.initial),
                        roundings: roundings(inFeatures: n, skinny: true), "bias+accumulate \(out)×\(n) k \(k)")
        }
    }

    /// Each output element is summed by one thread in an order fixed by `in`
    /// alone, so any thread split gives the same bits. `minimumParallelBytes: 0`
    /// forces the split on small matrices; (613, 515) is also above the
    /// default 1 MB threshold.
    @Test("1 and 2 threads give bitwise identical results")
    func threadCountsAgree() {
        for (out, n, k) in [(131, 63, 13), (613, 515, 13), (7, 130, 5), (1, 9, 2)] {
            let p = randomProblem(out: out, in: n, k: k, seed: UInt64(7 * out + n))
            var results: [[Float]] = []
            for threads in [1, 2, 3] {
                for threshold in [0, SkinnyProduct.parallelThresholdBytes] {
                    var y = [Float](repeating: .nan, count: k * out)
                    p.weights.withUnsafeBufferPointer { w in
                        p.inputs.withUnsafeBufferPointer { x in
                            p.bias.withUnsafeBufferPointer { b in
                                y.withUnsafeMutableBufferPointer { yb in
                                    SkinnyProduct.multiply(weights: w.baseAddress!, outFeatures: out, inFeatures: n,
                                                           inputs: x.baseAddress!, vectors: k,
                                                           outputs: yb.baseAddress!, bias: b.baseAddress!,
                                                           threads: threads, minimumParallelBytes: threshold)
                                }
                            }
                        }
                    }
                    results.append(y)
                }
            }
            for result in results.dropFirst() {
                #expect(result.map(\.bitPattern) == results[0].map(\.bitPattern), "(\(out),\(n)) k \(k)")
            }
        }
    }

    /// Every row count a verify can send to the kernel, 1…64, against OpenBLAS's sgemm (and both against the
    /// Double reference): within the sum of the two rounding bounds.
    @Test("every k in 1…64 matches OpenBLAS sgemm to float tolerance")
    func everyRowCount() {
        for k in 1...64 {
            let p = randomProblem(out: 37, in: 131, k: k, seed: UInt64(500 + k))
            var skinny = Matrix(rows: k, cols: 37, repeating: .nan)
            SkinnyProduct.multiply(p.inputs, weights: p.weights, into: &skinny, threads: 1 + k % 2)
            var blas = [Float](repeating: .nan, count: k * 37)
            p.weights.values.withUnsafeBufferPointer { w in
                p.inputs.values.withUnsafeBufferPointer { x in
                    blas.withUnsafeMutableBufferPointer { y in
                        SkinnyProduct.openBLASProduct(weights: w.baseAddress!, outFeatures: 37, inFeatures: 131,
                                                      inputs: x.baseAddress!, vectors: k, outputs: y.baseAddress!)
                    }
                }
            }
            let exact = reference(weights: p.weights, inputs: p.inputs, bias: nil, initial: nil)
            let m = roundings(inFeatures: 131, skinny: true) + roundings(inFeatures: 131, skinny: false)
            expectClose(skinny, (blas.map(Double.init), exact.scale), roundings: m, "k \(k) against sgemm")
            expectClose(skinny, exact, roundings: roundings(inFeatures: 131, skinny: true), "k \(k) against Double")
        }
    }

    /// Lane 0 sees −1·1 at i = 0, then (1 + 2⁻¹³)(1 − 2⁻¹³) = 1 − 2⁻²⁶ at i = 8. Fused, the lane holds
    /// −1 + (1 − 2⁻²⁶) = −2⁻²⁶ exactly; a rounded product (1 − 2⁻²⁶ rounds to 1) would leave 0.
    @Test("each term is a fused multiply-add: one rounding per term")
    func fusedTerms() {
        var w = [Float](repeating: 0, count: 16), x = [Float](repeating: 0, count: 16)
        w[0] = 1; x[0] = -1
        w[8] = 1 + 0x1p-13; x[8] = 1 - 0x1p-13
        var y = Matrix(rows: 1, cols: 1)
        SkinnyProduct.multiply(Matrix(rows: 1, cols: 16, values: x), weights: Matrix(rows: 1, cols: 16, values: w),
                               into: &y, threads: 1)
        #expect(y.values == [-0x1p-26])
    }

    /// Row j of a k-vector product equals the product of x[j] alone bit for
    /// bit: verifying k draft tokens gives the logits of decoding them one by one.
    @Test("row j of a k-vector product equals the 1-vector product, bitwise")
    func independentOfK() {
        let p = randomProblem(out: 67, in: 131, k: 13, seed: 99)
        var all = Matrix(rows: 13, cols: 67)
        SkinnyProduct.multiply(p.inputs, weights: p.weights, bias: p.bias, into: &all, threads: 2)
        for j in [0, 4, 12] {
            let single = Matrix(rows: 1, cols: 131, values: Array(p.inputs.row(j)))
            var one = Matrix(rows: 1, cols: 67)
            SkinnyProduct.multiply(single, weights: p.weights, bias: p.bias, into: &one, threads: 1)
            #expect(one.values.map(\.bitPattern) == all.row(j).map(\.bitPattern), "row \(j)")
        }
    }

    @Test("a caller's scratch buffer for the packed inputs gives the same bits as the internal one")
    func scratchBuffer() {
        let p = randomProblem(out: 67, in: 131, k: 5, seed: 7)
        var ownBuffer = [Float](repeating: 0, count: 5 * 67)
        var external = [Float](repeating: 0, count: 5 * 67)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 5 * 131)
        defer { scratch.deallocate() }
        p.weights.withUnsafeBufferPointer { w in
            p.inputs.withUnsafeBufferPointer { x in
                SkinnyProduct.multiply(weights: w.baseAddress!, outFeatures: 67, inFeatures: 131, inputs: x.baseAddress!,
                                       vectors: 5, outputs: &ownBuffer, threads: 1)
                SkinnyProduct.multiply(weights: w.baseAddress!, outFeatures: 67, inFeatures: 131, inputs: x.baseAddress!,
                                       vectors: 5, outputs: &external, threads: 1, scratch: scratch)
            }
        }
        #expect(ownBuffer.map(\.bitPattern) == external.map(\.bitPattern))
    }

    @Test("linear uses SkinnyProduct up to the crossover (one thread / more) and OpenBLAS above, same results",
          arguments: [1, 2])
    func dispatcherMatchesBothPaths(threads: Int) {
        let crossover = SkinnyProduct.crossover(threads: threads)
        #expect(SkinnyProduct.crossover(threads: 1) == SkinnyProduct.sgemmCrossover)
        for k in [1, 3, crossover, crossover + 1, crossover + 7] {
            let p = randomProblem(out: 37, in: 70, k: k, seed: UInt64(1000 + k))
            var viaLinear = p.initial, viaSkinny = p.initial, viaBLAS = p.initial
            SkinnyProduct.linear(p.inputs, weights: p.weights, bias: p.bias, accumulate: true,
                                 into: &viaLinear, threads: threads)
            SkinnyProduct.multiply(p.inputs, weights: p.weights, bias: p.bias, accumulate: true,
                                   into: &viaSkinny, threads: 1)
            p.weights.withUnsafeBufferPointer { w in
                p.inputs.withUnsafeBufferPointer { x in
                    p.bias.withUnsafeBufferPointer { b in
                        viaBLAS.withUnsafeMutableBufferPointer { y in
                            SkinnyProduct.openBLASProduct(weights: w.baseAddress!, outFeatures: 37, inFeatures: 70,
                                                          inputs: x.baseAddress!, vectors: k,
                                                          outputs: y.baseAddress!, bias: b.baseAddress!,
                                                          accumulate: true)
                        }
                    }
                }
            }
            let expected = reference(weights: p.weights, inputs: p.inputs, bias: p.bias, initial: p.initial)
            expectClose(viaSkinny, expected, roundings: roundings(inFeatures: 70, skinny: true), "skinny k \(k)")
            expectClose(viaBLAS, expected, roundings: roundings(inFeatures: 70, skinny: false), "OpenBLAS k \(k)")
            let chosen = k <= crossover ? viaSkinny : viaBLAS
            #expect(viaLinear.values.map(\.bitPattern) == chosen.values.map(\.bitPattern),
                    "k \(k): linear should equal the \(k <= crossover ? "skinny" : "OpenBLAS") path bitwise")
        }
    }

    @Test("OpenBLAS path without bias or accumulate ignores old outputs, k = 1 (sgemv) and k > 1 (sgemm)")
    func openBLASPlain() {
        for k in [1, 2, 9] {
            let p = randomProblem(out: 19, in: 33, k: k, seed: UInt64(500 + k))
            var y = [Float](repeating: .nan, count: k * 19)
            p.weights.withUnsafeBufferPointer { w in
                p.inputs.withUnsafeBufferPointer { x in
                    y.withUnsafeMutableBufferPointer { yb in
                        SkinnyProduct.openBLASProduct(weights: w.baseAddress!, outFeatures: 19, inFeatures: 33,
                                                      inputs: x.baseAddress!, vectors: k, outputs: yb.baseAddress!)
                    }
                }
            }
            expectClose(Matrix(rows: k, cols: 19, values: y),
                        reference(weights: p.weights, inputs: p.inputs, bias: nil, initial: nil),
                        roundings: roundings(inFeatures: 33, skinny: false), "OpenBLAS plain k \(k)")
        }
    }

    @Test("Matrix.timesTransposed and empty shapes")
    func matrixConvenienceAndEdges() {
        let p = randomProblem(out: 9, in: 17, k: 4, seed: 5)
        let y = p.inputs.timesTransposed(p.weights, bias: p.bias)
        #expect(y.rows == 4 && y.cols == 9)
        expectClose(y, reference(weights: p.weights, inputs: p.inputs, bias: p.bias, initial: nil),
                    roundings: roundings(inFeatures: 17, skinny: true), "timesTransposed")

        // in = 0: the product is empty, so the result is the bias (or old + bias).
        let empty = Matrix(rows: 3, cols: 0)
        let weights = Matrix(rows: 2, cols: 0)
        var out = Matrix(rows: 3, cols: 2, repeating: .nan)
        SkinnyProduct.multiply(empty, weights: weights, bias: [1, -2], into: &out)
        #expect(out.values == [1, -2, 1, -2, 1, -2])
        // Same through linear above the crossover (the OpenBLAS path): zeros.
        let k = SkinnyProduct.sgemmCrossover + 1
        var blas = Matrix(rows: k, cols: 2, repeating: .nan)
        SkinnyProduct.linear(Matrix(rows: k, cols: 0), weights: weights, into: &blas, threads: 1)
        #expect(blas.values == [Float](repeating: 0, count: 2 * k))
        // k = 0 or out = 0: nothing to write.
        var none = Matrix(rows: 0, cols: 2)
        SkinnyProduct.multiply(Matrix(rows: 0, cols: 5), weights: Matrix(rows: 2, cols: 5), into: &none)
        #expect(none.values.isEmpty)
    }

    @Test("WeightBuffer: zeroed, 2 MiB-aligned, usable as weights")
    func weightBuffer() {
        for hugePages in [true, false] {
            let storage = WeightBuffer(count: 3 * 1000 + 5, hugePages: hugePages)
            #expect(storage.count == 3005 && storage.buffer.count == 3005)
            #expect(UInt(bitPattern: storage.baseAddress) % UInt(2 << 20) == 0)
            #expect(storage.buffer.allSatisfy { $0 == 0 })
            if !hugePages { #expect(!storage.hugePagesAdvised) }
            let p = randomProblem(out: 5, in: 601, k: 3, seed: 77)
            _ = storage.buffer.initialize(from: p.weights.values)
            var y = [Float](repeating: 0, count: 3 * 5)
            p.inputs.withUnsafeBufferPointer { x in
                y.withUnsafeMutableBufferPointer { yb in
                    SkinnyProduct.multiply(weights: storage.baseAddress, outFeatures: 5, inFeatures: 601,
                                           inputs: x.baseAddress!, vectors: 3, outputs: yb.baseAddress!)
                }
            }
            withExtendedLifetime(storage) {}
            var expected = Matrix(rows: 3, cols: 5)
            SkinnyProduct.multiply(p.inputs, weights: p.weights, into: &expected)
            #expect(y.map(\.bitPattern) == expected.values.map(\.bitPattern))
        }
    }
}
