// Tests of Matrix and BLAS (gemm, gemv, dot, axpy) against naive loops in
// Double precision. Depends on LinAlg and Swift Testing only.

import Testing
@testable import LinAlg

/// Float32 unit roundoff, 2⁻²⁴.
private let unitRoundoff = Double(Float.ulpOfOne) / 2

/// Reference c = alpha·op(a)·op(b) + beta·c0 in Double, with the matching
/// error scale Σₖ|alpha·op(a)ᵢₖ·op(b)ₖⱼ| + |beta·c0ᵢⱼ| for each element.
private func naiveGemm(_ a: Matrix, _ b: Matrix, transposeA: Bool, transposeB: Bool,
                       alpha: Float, beta: Float, c0: Matrix) -> (values: [Double], scale: [Double]) {
    let m = c0.rows, n = c0.cols, k = transposeA ? a.rows : a.cols
    var values = [Double](repeating: 0, count: m * n)
    var scale = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0, magnitude = 0.0
            for p in 0..<k {
                let aValue = Double(transposeA ? a.values[p * a.cols + i] : a.values[i * a.cols + p])
                let bValue = Double(transposeB ? b.values[j * b.cols + p] : b.values[p * b.cols + j])
                sum += aValue * bValue
                magnitude += abs(aValue * bValue)
            }
            let previous = Double(c0.values[i * n + j])
            values[i * n + j] = Double(alpha) * sum + Double(beta) * previous
            scale[i * n + j] = abs(Double(alpha)) * magnitude + abs(Double(beta) * previous)
        }
    }
    return (values, scale)
}

@Suite("Matrix")
struct MatrixTests {
    @Test("init, subscript and row-major layout")
    func layout() {
        var m = Matrix(rows: 2, cols: 3, values: [1, 2, 3, 4, 5, 6])
        #expect(m[0, 2] == 3)
        #expect(m[1, 0] == 4)
        m[1, 2] = 60
        #expect(m.values == [1, 2, 3, 4, 5, 60])
        #expect(Array(m.row(1)) == [4, 5, 60])
        #expect(Matrix(rows: 2, cols: 2, repeating: 7).values == [7, 7, 7, 7])
    }

    @Test("identity and transposed")
    func identityAndTranspose() {
        #expect(Matrix.identity(3).values == [1, 0, 0, 0, 1, 0, 0, 0, 1])
        let m = Matrix(rows: 2, cols: 3, values: [1, 2, 3, 4, 5, 6])
        let t = m.transposed()
        #expect(t.rows == 3 && t.cols == 2)
        #expect(t.values == [1, 4, 2, 5, 3, 6])
        #expect(t.transposed() == m)
    }

    @Test("random fills are reproducible and in range")
    func randomFill() {
        let first = Matrix.uniform(rows: 5, cols: 7, in: -2..<3, using: RandomSource(seed: 9))
        let second = Matrix.uniform(rows: 5, cols: 7, in: -2..<3, using: RandomSource(seed: 9))
        #expect(first == second)
        #expect(first.values.allSatisfy { $0 >= -2 && $0 < 3 })
        let normal = Matrix.normal(rows: 4, cols: 4, standardDeviation: 0.02, using: RandomSource(seed: 9))
        #expect(normal == Matrix.normal(rows: 4, cols: 4, standardDeviation: 0.02, using: RandomSource(seed: 9)))
        #expect(Set(normal.values).count == 16)
    }
}

@Suite("BLAS against naive loops")
struct BLASTests {
    /// Tolerance: a K-term Float32 dot product has error ≤ γ_K·Σ|aᵢbᵢ| with
    /// γ_K ≈ K·u (Higham, Accuracy and Stability, §3.1); alpha and beta add two
    /// more roundings; a factor 2 covers OpenBLAS's blocked summation order.
    @Test("gemm on random non-square shapes, all transposes, alpha and beta",
          arguments: [false, true], [false, true])
    func gemmMatchesNaive(transposeA: Bool, transposeB: Bool) {
        let rng = RandomSource(seed: 2024 + (transposeA ? 1 : 0) + (transposeB ? 2 : 0))
        var shapesChecked = 0
        for trial in 0..<6 {
            let m = 1 + rng.uniformInt(below: 67)
            let n = 1 + rng.uniformInt(below: 67)
            let k = 1 + rng.uniformInt(below: 67)
            let a = transposeA ? Matrix.uniform(rows: k, cols: m, using: rng)
                               : Matrix.uniform(rows: m, cols: k, using: rng)
            let b = transposeB ? Matrix.uniform(rows: n, cols: k, using: rng)
                               : Matrix.uniform(rows: k, cols: n, using: rng)
            // First trial: plain product (alpha 1, beta 0); others: random alpha and beta.
            let alpha: Float = trial == 0 ? 1 : Float(rng.uniform(in: -2..<2))
            let beta: Float = trial == 0 ? 0 : Float(rng.uniform(in: -2..<2))
            let c0 = Matrix.uniform(rows: m, cols: n, using: rng)
            var c = c0
            BLAS.gemm(a, b, transposeA: transposeA, transposeB: transposeB,
                      alpha: alpha, beta: beta, into: &c)
            let reference = naiveGemm(a, b, transposeA: transposeA, transposeB: transposeB,
                                      alpha: alpha, beta: beta, c0: c0)
            let bound = 2 * Double(k + 2) * unitRoundoff
            var worstRatio = 0.0
            for index in 0..<(m * n) {
                let error = abs(Double(c.values[index]) - reference.values[index])
                worstRatio = max(worstRatio, error / (bound * reference.scale[index] + 1e-30))
            }
            #expect(worstRatio <= 1, "shape op(a) (\(m),\(k)) op(b) (\(k),\(n)), alpha \(alpha) beta \(beta)")
            shapesChecked += 1
        }
        #expect(shapesChecked == 6)
    }

    @Test("matmul with the identity returns the matrix exactly")
    func matmulIdentity() {
        let a = Matrix.uniform(rows: 5, cols: 9, using: RandomSource(seed: 3))
        // Multiplying by 1 and adding exact zeros is exact in IEEE arithmetic.
        #expect(BLAS.matmul(a, .identity(9)) == a)
        #expect(BLAS.matmul(.identity(5), a) == a)
        #expect(BLAS.matmul(a, a, transposeA: false, transposeB: true).rows == 5)
        #expect(BLAS.matmul(a, .identity(5), transposeA: true) == a.transposed())
    }

    /// Same error bound as gemm with K = the length of the dot products.
    @Test("gemv on random non-square shapes, with and without transpose, alpha and beta",
          arguments: [false, true])
    func gemvMatchesNaive(transpose: Bool) {
        let rng = RandomSource(seed: transpose ? 77 : 78)
        for trial in 0..<8 {
            let rows = 1 + rng.uniformInt(below: 150)
            let cols = 1 + rng.uniformInt(below: 150)
            let a = Matrix.uniform(rows: rows, cols: cols, using: rng)
            let inputCount = transpose ? rows : cols, outputCount = transpose ? cols : rows
            let x = (0..<inputCount).map { _ in Float(rng.uniform(in: -1..<1)) }
            let y0 = (0..<outputCount).map { _ in Float(rng.uniform(in: -1..<1)) }
            let alpha: Float = trial == 0 ? 1 : Float(rng.uniform(in: -2..<2))
            let beta: Float = trial == 0 ? 0 : Float(rng.uniform(in: -2..<2))
            var y = y0
            BLAS.gemv(a, x, transpose: transpose, alpha: alpha, beta: beta, into: &y)
            // gemv is gemm with x as an (inputCount, 1) matrix.
            let reference = naiveGemm(a, Matrix(rows: inputCount, cols: 1, values: x),
                                      transposeA: transpose, transposeB: false,
                                      alpha: alpha, beta: beta,
                                      c0: Matrix(rows: outputCount, cols: 1, values: y0))
            let bound = 2 * Double(inputCount + 2) * unitRoundoff
            var worstRatio = 0.0
            for index in 0..<outputCount {
                let error = abs(Double(y[index]) - reference.values[index])
                worstRatio = max(worstRatio, error / (bound * reference.scale[index] + 1e-30))
            }
            #expect(worstRatio <= 1, "a (\(rows),\(cols)) transpose \(transpose), alpha \(alpha) beta \(beta)")
        }
        #expect(BLAS.matvec(.identity(4), [1, 2, 3, 4]) == [1, 2, 3, 4])
    }

    @Test("dot and axpy on small exact cases and a random case")
    func dotAndAxpy() {
        // Small integers: every product and sum is exact in Float32.
        #expect(BLAS.dot([1, 2, 3], [4, -5, 6]) == 12)
        var y: [Float] = [1, 1, 1]
        BLAS.axpy(alpha: 2, x: [1, 2, 3], y: &y)
        #expect(y == [3, 5, 7])

        let rng = RandomSource(seed: 5)
        let x = (0..<1000).map { _ in Float(rng.uniform(in: -1..<1)) }
        let z = (0..<1000).map { _ in Float(rng.uniform(in: -1..<1)) }
        let exact = zip(x, z).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let magnitude = zip(x, z).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
        // γ_n bound for a 1000-term Float32 dot product (see gemm).
        #expect(abs(Double(BLAS.dot(x, z)) - exact) <= 2 * 1000 * unitRoundoff * magnitude)
    }

    @Test("gemm with mismatched inner dimensions stops with a message naming the shapes")
    func gemmShapeMismatchTraps() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var c = Matrix(rows: 2, cols: 2)
            BLAS.gemm(Matrix(rows: 2, cols: 3), Matrix(rows: 4, cols: 2), into: &c)
        }
        let message = String(decoding: result.standardErrorContent, as: UTF8.self)
        #expect(message.contains("inner dimensions differ") && message.contains("(2,3)") && message.contains("(4,2)"),
                "stderr: \(message)")
    }
}
