// The KV cache of one sequence: per layer, K and V as capacity × kvWidth rows
// (keys stored already rotated), and a committed length n. A forward over m
// new tokens writes rows n..<n+m tentatively; nothing is committed until the
// caller says which rows to keep (ALGORITHMS.md §1.1).

import Foundation

public final class KVCache: @unchecked Sendable {
    public let layers: Int
    public let kvWidth: Int
    public let capacity: Int
    /// Committed length n.
    public private(set) var length = 0
    let keys: [UnsafeMutablePointer<Float>]
    let values: [UnsafeMutablePointer<Float>]

    public init(layers: Int, kvWidth: Int, capacity: Int) {
        self.layers = layers
        self.kvWidth = kvWidth
        self.capacity = capacity
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
        self.init(layers: config.layers, kvWidth: config.kvWidth, capacity: capacity ?? config.contextLength)
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
                (keys[l] + (n + k) * kvWidth).update(from: keys[l] + (n + index) * kvWidth, count: kvWidth)
                (values[l] + (n + k) * kvWidth).update(from: values[l] + (n + index) * kvWidth, count: kvWidth)
            }
        }
        length = n + path.count
    }

    /// Row r of layer l's keys / values (for tests and drafter catch-up checks).
    public func keyRow(layer: Int, row: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: keys[layer] + row * kvWidth, count: kvWidth))
    }
    public func valueRow(layer: Int, row: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: values[layer] + row * kvWidth, count: kvWidth))
    }
}
