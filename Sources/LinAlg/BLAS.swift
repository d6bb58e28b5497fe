// BLAS: Float32 matrix products on OpenBLAS's cblas (cblas_sgemm, cblas_sgemv,
// cblas_sdot, cblas_saxpy), with shapes checked in Swift before the call.
// Depends on CGSL and Matrix only. Must not link or call GSL's gslcblas: the
// CGSL module map links libopenblas, which provides these symbols.
//
// Note (MACHINE-NOTES.md): OpenBLAS 0.3.21 sgemm is ~4x above the bandwidth
// bound for skinny products (2…16 columns); decode-time kernels for small k
// belong in the Transformer module, not here.

import CGSL

/// Float32 BLAS on OpenBLAS. All matrices are row-major `Matrix` values;
/// vectors are `[Float]`. Outputs are written into caller-owned storage
/// (`into:`), so a loop that reuses its output allocates nothing.
public enum BLAS {

    /// c ← alpha · op(a) · op(b) + beta · c, where op(x) is x or xᵀ.
    ///
    /// Shapes: op(a) (M,K), op(b) (K,N), c (M,N) -> c (M,N).
    /// With `transposeA` the stored a is (K,M); with `transposeB` the stored b is (N,K).
    /// When `beta` is 0, c's old contents are ignored (they may be anything,
    /// even NaN, per the BLAS convention).
    public static func gemm(_ a: Matrix, _ b: Matrix,
                            transposeA: Bool = false, transposeB: Bool = false,
                            alpha: Float = 1, beta: Float = 0,
                            into c: inout Matrix) {
        let outputRows = transposeA ? a.cols : a.rows      // M
        let innerA = transposeA ? a.rows : a.cols          // K as seen from a
        let innerB = transposeB ? b.cols : b.rows          // K as seen from b
        let outputCols = transposeB ? b.rows : b.cols      // N
        // fatalError, not precondition: its message survives optimised builds.
        if innerA != innerB {
            fatalError("BLAS.gemm: inner dimensions differ: op(a) is (\(outputRows),\(innerA)) from a \(a.shapeDescription)\(transposeA ? "ᵀ" : ""), op(b) is (\(innerB),\(outputCols)) from b \(b.shapeDescription)\(transposeB ? "ᵀ" : "")")
        }
        if c.rows != outputRows || c.cols != outputCols {
            fatalError("BLAS.gemm: c is \(c.shapeDescription) but op(a)·op(b) is (\(outputRows),\(outputCols)) [a \(a.shapeDescription)\(transposeA ? "ᵀ" : ""), b \(b.shapeDescription)\(transposeB ? "ᵀ" : "")]")
        }
        if outputRows == 0 || outputCols == 0 { return }
        let inner = innerA
        let leadingA = Int32(max(1, a.cols)), leadingB = Int32(max(1, b.cols)), leadingC = Int32(max(1, c.cols))
        a.withUnsafeBufferPointer { aBuffer in
            b.withUnsafeBufferPointer { bBuffer in
                c.withUnsafeMutableBufferPointer { cBuffer in
                    cblas_sgemm(CblasRowMajor,
                                transposeA ? CblasTrans : CblasNoTrans,
                                transposeB ? CblasTrans : CblasNoTrans,
                                Int32(outputRows), Int32(outputCols), Int32(inner),
                                alpha,
                                aBuffer.baseAddress, leadingA,
                                bBuffer.baseAddress, leadingB,
                                beta,
                                cBuffer.baseAddress, leadingC)
                }
            }
        }
    }

    /// a (M,K), b (K,N) -> a·b (M,N), in a new matrix. Allocates; in a loop
    /// prefer `gemm(_:_:into:)` with a reused output.
    public static func matmul(_ a: Matrix, _ b: Matrix,
                              transposeA: Bool = false, transposeB: Bool = false) -> Matrix {
        var c = Matrix(rows: transposeA ? a.cols : a.rows,
                       cols: transposeB ? b.rows : b.cols)
        gemm(a, b, transposeA: transposeA, transposeB: transposeB, alpha: 1, beta: 0, into: &c)
        return c
    }

    /// y ← alpha · op(a) · x + beta · y, where op(a) is a or aᵀ.
    ///
    /// Shapes: a (M,N); without transpose x (N) -> y (M); with transpose x (M) -> y (N).
    /// When `beta` is 0, y's old contents are ignored.
    public static func gemv(_ a: Matrix, _ x: [Float], transpose: Bool = false,
                            alpha: Float = 1, beta: Float = 0,
                            into y: inout [Float]) {
        let inputCount = transpose ? a.rows : a.cols
        let outputCount = transpose ? a.cols : a.rows
        precondition(x.count == inputCount,
                     "BLAS.gemv: a \(a.shapeDescription)\(transpose ? "ᵀ" : "") needs x of \(inputCount), got x of \(x.count)")
        precondition(y.count == outputCount,
                     "BLAS.gemv: a \(a.shapeDescription)\(transpose ? "ᵀ" : "") gives y of \(outputCount), got y of \(y.count)")
        if outputCount == 0 { return }
        a.withUnsafeBufferPointer { aBuffer in
            x.withUnsafeBufferPointer { xBuffer in
                y.withUnsafeMutableBufferPointer { yBuffer in
                    cblas_sgemv(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans,
                                Int32(a.rows), Int32(a.cols),
                                alpha,
                                aBuffer.baseAddress, Int32(max(1, a.cols)),
                                xBuffer.baseAddress, 1,
                                beta,
                                yBuffer.baseAddress, 1)
                }
            }
        }
    }

    /// a (M,N), x (N) -> a·x (M), in a new array. Allocates; in a loop prefer
    /// `gemv(_:_:into:)`.
    public static func matvec(_ a: Matrix, _ x: [Float], transpose: Bool = false) -> [Float] {
        var y = [Float](repeating: 0, count: transpose ? a.cols : a.rows)
        gemv(a, x, transpose: transpose, alpha: 1, beta: 0, into: &y)
        return y
    }

    /// x (N), y (N) -> Σ xᵢ·yᵢ (Float32 accumulation, as cblas_sdot does).
    public static func dot(_ x: [Float], _ y: [Float]) -> Float {
        precondition(x.count == y.count, "BLAS.dot: x of \(x.count) and y of \(y.count) differ in length")
        return x.withUnsafeBufferPointer { xBuffer in
            y.withUnsafeBufferPointer { yBuffer in
                cblas_sdot(Int32(x.count), xBuffer.baseAddress, 1, yBuffer.baseAddress, 1)
            }
        }
    }

    /// y ← alpha · x + y. Shapes: x (N), y (N) -> y (N).
    public static func axpy(alpha: Float, x: [Float], y: inout [Float]) {
        precondition(x.count == y.count, "BLAS.axpy: x of \(x.count) and y of \(y.count) differ in length")
        let count = Int32(x.count)
        x.withUnsafeBufferPointer { xBuffer in
            y.withUnsafeMutableBufferPointer { yBuffer in
                cblas_saxpy(count, alpha, xBuffer.baseAddress, 1, yBuffer.baseAddress, 1)
            }
        }
    }
}
