// Matrix: a dense row-major Float32 matrix, the one tensor type of LinAlg.
// Vectors are plain `[Float]` (see BLAS.gemv / dot / axpy).
// Depends on nothing but the standard library and LinAlg's RandomSource for
// random fills; must not depend on BLAS so it stays a plain value type.

/// A dense `rows` × `cols` Float32 matrix stored row-major in one array:
/// element (row, col) lives at `values[row * cols + col]`.
///
/// A value type with copy-on-write storage: copying a `Matrix` is O(1) until one
/// copy is mutated.
public struct Matrix: Equatable, Sendable, CustomStringConvertible {
    /// Number of rows (the M of a product).
    public let rows: Int
    /// Number of columns; also the row stride (leading dimension) of `values`.
    public let cols: Int
    /// Row-major storage, `rows * cols` elements. Read-only from outside so the
    /// count always matches the shape; mutate through the subscript or
    /// `withUnsafeMutableBufferPointer`.
    public private(set) var values: [Float]

    /// A matrix (rows, cols) with every element equal to `value`.
    public init(rows: Int, cols: Int, repeating value: Float = 0) {
        precondition(rows >= 0 && cols >= 0, "Matrix: negative shape (\(rows),\(cols))")
        self.rows = rows
        self.cols = cols
        self.values = [Float](repeating: value, count: rows * cols)
    }

    /// A matrix (rows, cols) over row-major `values`; `values.count` must be `rows * cols`.
    public init(rows: Int, cols: Int, values: [Float]) {
        precondition(rows >= 0 && cols >= 0, "Matrix: negative shape (\(rows),\(cols))")
        precondition(values.count == rows * cols,
                     "Matrix: shape (\(rows),\(cols)) needs \(rows * cols) values, got \(values.count)")
        self.rows = rows
        self.cols = cols
        self.values = values
    }

    /// The (size, size) identity matrix.
    public static func identity(_ size: Int) -> Matrix {
        var result = Matrix(rows: size, cols: size)
        for index in 0..<size { result[index, index] = 1 }
        return result
    }

    /// A (rows, cols) matrix of independent uniform draws from `range`, filled
    /// row-major from `rng` (same seed, same matrix).
    public static func uniform(rows: Int, cols: Int, in range: Range<Float> = -1..<1,
                               using rng: RandomSource) -> Matrix {
        var result = Matrix(rows: rows, cols: cols)
        let lower = Double(range.lowerBound), upper = Double(range.upperBound)
        result.withUnsafeMutableBufferPointer { buffer in
            for index in buffer.indices {
                buffer[index] = Float(rng.uniform(in: lower..<upper))
            }
        }
        return result
    }

    /// A (rows, cols) matrix of independent Gaussian draws N(mean, standardDeviation²),
    /// filled row-major from `rng` (same seed, same matrix).
    public static func normal(rows: Int, cols: Int, mean: Float = 0, standardDeviation: Float = 1,
                              using rng: RandomSource) -> Matrix {
        var result = Matrix(rows: rows, cols: cols)
        result.withUnsafeMutableBufferPointer { buffer in
            for index in buffer.indices {
                buffer[index] = Float(rng.normal(mean: Double(mean),
                                                 standardDeviation: Double(standardDeviation)))
            }
        }
        return result
    }

    /// Element at (row, col), bounds-checked.
    public subscript(row: Int, col: Int) -> Float {
        get {
            precondition(row >= 0 && row < rows && col >= 0 && col < cols,
                         "Matrix: index (\(row),\(col)) outside shape (\(rows),\(cols))")
            return values[row * cols + col]
        }
        set {
            precondition(row >= 0 && row < rows && col >= 0 && col < cols,
                         "Matrix: index (\(row),\(col)) outside shape (\(rows),\(cols))")
            values[row * cols + col] = newValue
        }
    }

    /// The shape as `(rows, cols)`.
    public var shape: (rows: Int, cols: Int) { (rows, cols) }

    /// "(rows,cols)", for precondition messages.
    public var shapeDescription: String { "(\(rows),\(cols))" }

    /// Row `row` as a slice of `values` (cols elements).
    public func row(_ row: Int) -> ArraySlice<Float> {
        precondition(row >= 0 && row < rows, "Matrix: row \(row) outside shape \(shapeDescription)")
        return values[(row * cols)..<((row + 1) * cols)]
    }

    /// self (rows, cols) -> result (cols, rows), a new matrix.
    public func transposed() -> Matrix {
        var result = Matrix(rows: cols, cols: rows)
        values.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { target in
                for row in 0..<rows {
                    for col in 0..<cols {
                        target[col * rows + row] = source[row * cols + col]
                    }
                }
            }
        }
        return result
    }

    /// Read access to the row-major storage without copying.
    public func withUnsafeBufferPointer<Result>(
        _ body: (UnsafeBufferPointer<Float>) throws -> Result
    ) rethrows -> Result {
        try values.withUnsafeBufferPointer(body)
    }

    /// Write access to the row-major storage in place (copies once if the
    /// storage is shared with another `Matrix`). The buffer cannot be resized.
    public mutating func withUnsafeMutableBufferPointer<Result>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> Result
    ) rethrows -> Result {
        try values.withUnsafeMutableBufferPointer { buffer in try body(buffer) }
    }

    public var description: String {
        var text = "Matrix\(shapeDescription)"
        for row in 0..<min(rows, 8) {
            let shown = self.row(row).prefix(8).map { "\($0)" }.joined(separator: " ")
            text += "\n  [" + shown + (cols > 8 ? " …]" : "]")
        }
        if rows > 8 { text += "\n  …" }
        return text
    }
}
