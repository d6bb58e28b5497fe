// The KV cache of one sequence: per layer, K and V of each KV head as capacity × headDim
// rows (keys stored already rotated), and a committed length n. Head-major: one head's
// cached keys are contiguous, so attention streams them in order (a token-major layout
// would read each head's 256 bytes at a stride of the whole KV width, defeating the
// hardware prefetcher on a long cache). A forward over m
// new tokens writes rows n..<n+m tentatively; nothing is committed until the
// caller says which rows to keep (ALGORITHMS.md §1.1).

import Foundation

public final class KVCache: @unchecked Sendable {
    public let layers: Int
    public let kvHeads: Int
    public let headDim: Int
    public var kvWidth: Int { kvHeads * headDim }
    public let capacity: Int
    /// Committed length n.
    public private(set) var length = 0
    let keys: [UnsafeMutablePointer<Float>]
    let values: [UnsafeMutablePointer<Float>]

    public init(layers: Int, kvHeads: Int, headDim: Int, capacity: Int) {
        self.layers = layers
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.capacity = capacity
        let kvWidth = kvHeads * headDim
        keys = (0..<layers).map { _ in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: capacity * kvWidth)
            p.initialize(repeating: 0, count: capacity * kvWidth)
            return p
        }
        values = (0..<layers).map { _ in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: capacity * kvWidth)
            p.initialize(repeating: 0, count: capacity * kvWidth)
            return p
        }
    }

    public convenience init(config: ModelConfig, capacity: Int? = nil) {
        self.init(layers: config.layers, kvHeads: config.kvHeads, headDim: config.headDim,
                  capacity: capacity ?? config.contextLength)
    }

    deinit {
        for p in keys { p.deallocate() }
        for p in values { p.deallocate() }
    }

    /// Room for m more tentative rows?
    public func canHold(_ newRows: Int) -> Bool { length + newRows <= capacity }

    /// Commits the next `count` tentative rows (a chain's accepted prefix).
    public func commit(_ count: Int) {
        precondition(count >= 0 && length + count <= capacity, "KVCache.commit: \(count) rows beyond capacity")
        length += count
    }

    /// Rollback: the committed length becomes n' ≤ n; rows beyond are garbage.
    public func truncate(to newLength: Int) {
        precondition(newLength >= 0 && newLength <= length, "KVCache.truncate: \(newLength) not in 0...\(length)")
        length = newLength
    }

    /// Keeps an accepted tree path: for k = 0..<path.count copy row n + path[k]
    /// to row n + k in every layer, then commit path.count rows. In place and
    /// order-safe because tree indices are topologically ordered (path[k] ≥ k).
    public func compact(path: [Int]) {
        let n = length
        for (k, index) in path.enumerated() {
            precondition(index >= k, "KVCache.compact: path index \(index) at depth \(k) is not topologically ordered")
            precondition(n + index < capacity, "KVCache.compact: row \(n + index) beyond capacity")
            guard index != k else { continue }
            for l in 0..<layers {
                for h in 0..<kvHeads {
                    (keys[l] + offset(head: h, row: n + k)).update(from: keys[l] + offset(head: h, row: n + index), count: headDim)
                    (values[l] + offset(head: h, row: n + k)).update(from: values[l] + offset(head: h, row: n + index), count: headDim)
                }
            }
        }
        length = n + path.count
    }

    /// Becomes a copy of another cache of the same shape: its committed rows and length.
    public func copy(from other: KVCache) {
        precondition(other.layers == layers && other.kvHeads == kvHeads && other.headDim == headDim && other.length <= capacity,
                     "KVCache.copy: caches of different shapes")
        for l in 0..<layers {
            for h in 0..<kvHeads {
                (keys[l] + offset(head: h, row: 0)).update(from: other.keys[l] + other.offset(head: h, row: 0), count: other.length * headDim)
                (values[l] + offset(head: h, row: 0)).update(from: other.values[l] + other.offset(head: h, row: 0),
                                                             count: other.length * headDim)
            }
        }
        length = other.length
    }

    /// Offset of KV head h's entry for token row r in a layer's buffer.
    @inline(__always)
    func offset(head h: Int, row r: Int) -> Int { (h * capacity + r) * headDim }

    /// Writes m token-major rows (m × kvWidth, as a projection produces them) at rows r..<r+m of layer l.
    func write(keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>, rows m: Int, at r: Int, layer l: Int) {
        for t in 0..<m {
            for h in 0..<kvHeads {
                (keys[l] + offset(head: h, row: r + t)).update(from: k + t * kvWidth + h * headDim, count: headDim)
                (values[l] + offset(head: h, row: r + t)).update(from: v + t * kvWidth + h * headDim, count: headDim)
            }
        }
    }

    /// Row r of layer l's keys / values, token-major (kvWidth values; for tests and drafter catch-up checks).
    public func keyRow(layer: Int, row: Int) -> [Float] { gather(keys[layer], row: row) }
    public func valueRow(layer: Int, row: Int) -> [Float] { gather(values[layer], row: row) }

    private func gather(_ buffer: UnsafeMutablePointer<Float>, row: Int) -> [Float] {
        (0..<kvHeads).flatMap { Array(UnsafeBufferPointer(start: buffer + offset(head: $0, row: row), count: headDim)) }
    }
}
