// Probes: measurements of this machine for calibrating the cost model —
// streaming-read bandwidth, sgemm FLOP/s, SkinnyProduct times against k — and
// `KernelBenchmark`, the report behind `speclab bench-kernels`. Each probe
// returns a value type holding the figure, its samples and how it was taken.
//
// Depends on CGSL (OpenBLAS), Dispatch, the standard library's ContinuousClock,
// SkinnyProduct and OpenBLAS. No Foundation and no I/O: the report comes back
// as lines (and optionally line by line through a callback) for the caller to print.
// Timings on a shared VM vary between runs: compare ratios taken in one run.

import CGSL
import Dispatch

/// A streaming-read bandwidth measurement.
public struct BandwidthProbe: Sendable, Equatable, CustomStringConvertible {
    /// Median over the repetitions of bytes read per second.
    public let bytesPerSecond: Double
    /// Size of the buffer read once per repetition.
    public let bytes: Int
    public let threads: Int
    /// Seconds of each repetition, in the order taken.
    public let samples: [Double]
    /// Sum of the buffer, returned so the reads cannot be optimised away; the
    /// buffer holds 1.0 everywhere, so it is the element count when exact.
    public let checksum: Double
    public let method: String

    public var description: String {
        "\(Format.fixed(bytesPerSecond / 1e9, 2)) GB/s streaming read (\(threads) thread\(threads == 1 ? "" : "s"), \(Format.bytes(bytes)), median of \(samples.count))"
    }
}

/// A floating-point throughput measurement.
public struct FlopsProbe: Sendable, Equatable, CustomStringConvertible {
    /// Median over the repetitions of floating-point operations per second.
    public let flopsPerSecond: Double
    /// Matrix size n of the n×n×n product (2·n³ operations).
    public let size: Int
    public let threads: Int
    public let samples: [Double]
    public let method: String

    public var description: String {
        "\(Format.fixed(flopsPerSecond / 1e9, 1)) GFLOP/s sgemm \(size)³ (\(threads) thread\(threads == 1 ? "" : "s"), median of \(samples.count))"
    }
}

/// Time of one product Y (k, out) = X (k, in) · Wᵀ at one k.
public struct ProductTiming: Sendable, Equatable {
    public let k: Int
    /// Median over the repetitions, seconds.
    public let seconds: Double
    public let samples: [Double]
}

/// Which implementation a product timing used.
public enum ProductPath: String, Sendable, CaseIterable {
    /// `SkinnyProduct.multiply`.
    case skinny
    /// `SkinnyProduct.openBLASProduct` (sgemv for k = 1, sgemm otherwise).
    case openBLAS
}

/// Machine measurements. Every probe warms up once before its timed repetitions.
public enum Probes {
    /// Bytes read per second when `threads` threads sum a `bytes`-sized Float
    /// buffer (4 SIMD8 accumulators per thread, so the adds keep up with
    /// memory and the reads dominate; with several threads, in 1 MiB chunks
    /// claimed in order). The buffer is written
    /// once before timing so its pages exist; it is a `WeightBuffer` (huge
    /// pages advised unless `hugePages` is false), like the weights of
    /// `productTimes`, so the two compare. Median of `repetitions`.
    public static func streamingReadBandwidth(bytes: Int = 512 << 20,
                                              threads: Int = SkinnyProduct.defaultThreads,
                                              repetitions: Int = 5,
                                              hugePages: Bool = true) -> BandwidthProbe {
        precondition(bytes >= 4, "Probes.streamingReadBandwidth: need at least one Float, got \(bytes) bytes")
        precondition(threads >= 1 && repetitions >= 1,
                     "Probes.streamingReadBandwidth: threads \(threads) and repetitions \(repetitions) must be ≥ 1")
        let count = bytes / MemoryLayout<Float>.stride
        let storage = WeightBuffer(count: count, hugePages: hugePages)
        defer { withExtendedLifetime(storage) {} }   // keep the memory until the end
        let buffer = storage.baseAddress
        buffer.update(repeating: 1, count: count)
        let partials = UnsafeMutablePointer<Double>.allocate(capacity: threads)
        partials.initialize(repeating: 0, count: threads)
        defer { partials.deallocate() }
        let shared = SharedPointers(floats: UnsafePointer(buffer), doubles: partials)
        // 1 MiB chunks claimed in order, so a helper thread that wakes late
        // (tens of µs to ~1 ms on this VM) takes fewer chunks.
        let chunkLength = 1 << 18
        let chunks = (count + chunkLength - 1) / chunkLength
        func pass() -> Double {
            if threads == 1 {
                partials[0] = Double(sumFloats(UnsafePointer(buffer), count: count))
            } else {
                let counter = SkinnyProduct.ChunkCounter()
                DispatchQueue.concurrentPerform(iterations: threads) { part in
                    var sum = 0.0
                    while true {
                        let chunk = counter.next()
                        if chunk >= chunks { break }
                        let start = chunk * chunkLength
                        sum += Double(sumFloats(shared.floats + start, count: min(chunkLength, count - start)))
                    }
                    shared.doubles[part] = sum
                }
            }
            var total = 0.0
            for part in 0..<threads { total += partials[part] }
            return total
        }
        var checksum = pass()
        let samples = timed(repetitions: repetitions) { checksum = pass() }
        let median = Statistics.median(samples)
        return BandwidthProbe(bytesPerSecond: Double(count * 4) / median, bytes: count * 4,
                              threads: threads, samples: samples, checksum: checksum,
                              method: "sum of \(count) Float32 with SIMD8, \(threads) thread(s) on 1 MiB chunks, \(storage.hugePagesAdvised ? "huge pages advised" : "4 KiB pages"), 1 warm-up, median of \(repetitions)")
    }

    /// FLOP/s of cblas_sgemm on size×size×size (2·size³ operations) with the
    /// OpenBLAS thread count set to `threads` for the measurement and restored
    /// after. Median of `repetitions`.
    public static func sgemmThroughput(size: Int = 1024, threads: Int = 1,
                                       repetitions: Int = 5) -> FlopsProbe {
        precondition(size >= 1 && threads >= 1 && repetitions >= 1,
                     "Probes.sgemmThroughput: size \(size), threads \(threads), repetitions \(repetitions) must be ≥ 1")
        let previousThreads = OpenBLAS.threads
        OpenBLAS.setThreads(threads)
        defer { OpenBLAS.setThreads(previousThreads) }
        let a = filledArray(count: size * size, seed: 1)
        let b = filledArray(count: size * size, seed: 2)
        var c = [Float](repeating: 0, count: size * size)
        let n = Int32(size)
        func product() {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n,
                        1, a, n, b, n, 0, &c, n)
        }
        product()
        let samples = timed(repetitions: repetitions, product)
        let operations = 2 * Double(size) * Double(size) * Double(size)
        return FlopsProbe(flopsPerSecond: operations / Statistics.median(samples), size: size,
                          threads: threads, samples: samples,
                          method: "cblas_sgemm row-major NoTrans·NoTrans \(size)³, OpenBLAS threads = \(threads), 1 warm-up, median of \(repetitions)")
    }

    /// Median time of `SkinnyProduct.multiply` for W (out, in) and each k in
    /// `ks`, with `threads` threads (weights in a `WeightBuffer` filled with
    /// pseudo-random values in [-1, 1), no bias). Report T(k)/T(1) from one call.
    public static func skinnyProductTimes(out: Int, in inFeatures: Int, ks: [Int],
                                          threads: Int = SkinnyProduct.defaultThreads,
                                          repetitions: Int = 5,
                                          hugePages: Bool = true) -> [ProductTiming] {
        productTimes(out: out, in: inFeatures, ks: ks, path: .skinny, threads: threads,
                     repetitions: repetitions, hugePages: hugePages)
    }

    /// Median time of the product for each k in `ks` on `path`. For `.openBLAS`
    /// the OpenBLAS thread count is set to `threads` and restored after.
    public static func productTimes(out: Int, in inFeatures: Int, ks: [Int], path: ProductPath,
                                    threads: Int = SkinnyProduct.defaultThreads,
                                    repetitions: Int = 5,
                                    hugePages: Bool = true) -> [ProductTiming] {
        precondition(out >= 1 && inFeatures >= 1, "Probes.productTimes: W (\(out),\(inFeatures)) must be non-empty")
        let weights = WeightBuffer(count: out * inFeatures, hugePages: hugePages)
        defer { withExtendedLifetime(weights) {} }   // keep the memory until the end
        fillPseudoRandom(weights.baseAddress, count: out * inFeatures, seed: 3)
        return productTimes(weights: weights.baseAddress, out: out, in: inFeatures, ks: ks, path: path,
                            threads: threads, repetitions: repetitions)
    }

    static func productTimes(weights: UnsafePointer<Float>, out: Int, in inFeatures: Int, ks: [Int],
                             path: ProductPath, threads: Int, repetitions: Int) -> [ProductTiming] {
        precondition(ks.allSatisfy { $0 >= 1 } && threads >= 1 && repetitions >= 1,
                     "Probes.productTimes: ks \(ks), threads \(threads), repetitions \(repetitions) must be ≥ 1")
        guard let largest = ks.max() else { return [] }
        let inputArray = filledArray(count: largest * inFeatures, seed: 4)
        let inputs = UnsafeMutablePointer<Float>.allocate(capacity: largest * inFeatures)
        inputs.initialize(from: inputArray, count: largest * inFeatures)
        let outputs = UnsafeMutablePointer<Float>.allocate(capacity: largest * out)
        outputs.initialize(repeating: 0, count: largest * out)
        defer { inputs.deallocate(); outputs.deallocate() }
        let previousThreads = OpenBLAS.threads
        OpenBLAS.setThreads(path == .openBLAS ? threads : 1)
        defer { OpenBLAS.setThreads(previousThreads) }
        return ks.map { k in
            func product() {
                switch path {
                case .skinny:
                    SkinnyProduct.multiply(weights: weights, outFeatures: out, inFeatures: inFeatures,
                                           inputs: inputs, vectors: k, outputs: outputs, threads: threads)
                case .openBLAS:
                    SkinnyProduct.openBLASProduct(weights: weights, outFeatures: out, inFeatures: inFeatures,
                                                  inputs: inputs, vectors: k, outputs: outputs)
                }
            }
            product()
            let samples = timed(repetitions: repetitions, product)
            return ProductTiming(k: k, seconds: Statistics.median(samples), samples: samples)
        }
    }

    // MARK: Helpers

    /// Seconds of each of `repetitions` calls of `body`.
    static func timed(repetitions: Int, _ body: () -> Void) -> [Double] {
        let clock = ContinuousClock()
        return (0..<repetitions).map { _ in
            let start = clock.now
            body()
            return seconds(start.duration(to: clock.now))
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }

    /// `count` Floats in [-1, 1) (see `fillPseudoRandom`).
    static func filledArray(count: Int, seed: UInt64) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if let base = buffer.baseAddress { fillPseudoRandom(base, count: count, seed: seed) }
            initialized = count
        }
    }

    /// Writes `count` Floats in [-1, 1) from a xorshift64* stream (fast enough
    /// for hundreds of MB; timing inputs only, not for statistics).
    static func fillPseudoRandom(_ buffer: UnsafeMutablePointer<Float>, count: Int, seed: UInt64) {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        for index in 0..<count {
            state ^= state >> 12; state ^= state << 25; state ^= state >> 27
            let bits = (state &* 0x2545_F491_4F6C_DD1D) >> 40            // 24 bits
            buffer[index] = Float(bits) * (2.0 / 16_777_216.0) - 1
        }
    }

    /// Σ buffer[0..<count] with four SIMD8 accumulators.
    static func sumFloats(_ buffer: UnsafePointer<Float>, count: Int) -> Float {
        let raw = UnsafeRawPointer(buffer)
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        let bodyBytes = (count & ~31) * 4
        var offset = 0
        while offset < bodyBytes {
            a0 += raw.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a1 += raw.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self)
            a2 += raw.loadUnaligned(fromByteOffset: offset + 64, as: SIMD8<Float>.self)
            a3 += raw.loadUnaligned(fromByteOffset: offset + 96, as: SIMD8<Float>.self)
            offset += 128
        }
        var total = ((a0 + a1) + (a2 + a3)).sum()
        for index in (count & ~31)..<count { total += buffer[index] }
        return total
    }

    private struct SharedPointers: @unchecked Sendable {
        let floats: UnsafePointer<Float>
        let doubles: UnsafeMutablePointer<Double>
    }
}

/// The kernel report behind `speclab bench-kernels`: streaming-read
/// bandwidth, sgemm FLOP/s, and SkinnyProduct against OpenBLAS on a large
/// weight matrix for a range of k, each T(k) also as a fraction of its
/// roofline bound max(weight bytes / bandwidth, 2·out·in·k / sgemm FLOP/s),
/// with both limits measured in the same run.
public enum KernelBenchmark {
    /// Runs the probes and returns the report lines (also passed one by one
    /// to `progress` as they are ready). The default sizes take about a
    /// minute and ~1 GB of memory (a 403 MB weight matrix, a 512 MB read buffer).
    public static func run(outFeatures: Int = 24576, inFeatures: Int = 4096,
                           ks: [Int] = [1, 2, 4, 8, 16, 32, 64],
                           threadCounts: [Int] = [1, 2],
                           repetitions: Int = 5,
                           bandwidthBytes: Int = 512 << 20,
                           sgemmSize: Int = 1024,
                           hugePages: Bool = true,
                           progress: ((String) -> Void)? = nil) -> [String] {
        var lines: [String] = []
        func emit(_ line: String) { lines.append(line); progress?(line) }
        let weightBytes = Double(outFeatures * inFeatures * 4)
        emit("kernel benchmark: W (\(outFeatures), \(inFeatures)) float32 = \(Format.fixed(weightBytes / 1e6, 1)) MB, median of \(repetitions) repetitions, \(hugePages ? "huge pages advised" : "4 KiB pages") for W and the read buffer")
        emit("OpenBLAS: \(OpenBLAS.configDescription)")
        var bandwidth: [Int: BandwidthProbe] = [:]
        var flops: [Int: FlopsProbe] = [:]
        for threads in threadCounts {
            let probe = Probes.streamingReadBandwidth(bytes: bandwidthBytes, threads: threads,
                                                      repetitions: repetitions, hugePages: hugePages)
            bandwidth[threads] = probe
            emit("streaming read: \(probe)")
        }
        for threads in threadCounts {
            let probe = Probes.sgemmThroughput(size: sgemmSize, threads: threads, repetitions: repetitions)
            flops[threads] = probe
            emit("sgemm: \(probe)")
        }
        let weightStorage = WeightBuffer(count: outFeatures * inFeatures, hugePages: hugePages)
        defer { withExtendedLifetime(weightStorage) {} }   // keep the memory until the end
        Probes.fillPseudoRandom(weightStorage.baseAddress, count: outFeatures * inFeatures, seed: 3)
        let weights = UnsafePointer(weightStorage.baseAddress)
        for threads in threadCounts {
            guard let readRate = bandwidth[threads]?.bytesPerSecond,
                  let flopRate = flops[threads]?.flopsPerSecond else { continue }
            let skinny = Probes.productTimes(weights: weights, out: outFeatures, in: inFeatures, ks: ks,
                                             path: .skinny, threads: threads, repetitions: repetitions)
            let blas = Probes.productTimes(weights: weights, out: outFeatures, in: inFeatures, ks: ks,
                                           path: .openBLAS, threads: threads, repetitions: repetitions)
            let memoryBound = weightBytes / readRate
            emit("")
            emit("\(threads) thread\(threads == 1 ? "" : "s"): bound(k) = max(W bytes / \(Format.fixed(readRate / 1e9, 2)) GB/s = \(Format.fixed(memoryBound * 1e3, 2)) ms, 2·out·in·k / \(Format.fixed(flopRate / 1e9, 1)) GFLOP/s)")
            emit(Format.row(["k", "skinny ms", "T(k)/T(1)", "/bound", "OpenBLAS ms", "T(k)/T(1)", "/bound", "bound ms"]))
            let skinnyFirst = skinny.first?.seconds ?? .nan, blasFirst = blas.first?.seconds ?? .nan
            for (s, b) in zip(skinny, blas) {
                let bound = max(memoryBound, 2 * Double(outFeatures) * Double(inFeatures) * Double(s.k) / flopRate)
                emit(Format.row(["\(s.k)",
                                 Format.fixed(s.seconds * 1e3, 2), Format.fixed(s.seconds / skinnyFirst, 2),
                                 Format.fixed(s.seconds / bound, 2),
                                 Format.fixed(b.seconds * 1e3, 2), Format.fixed(b.seconds / blasFirst, 2),
                                 Format.fixed(b.seconds / bound, 2),
                                 Format.fixed(bound * 1e3, 2)]))
            }
            if let first = skinny.first {
                emit("T(\(first.k)) skinny / (W bytes / bandwidth) = \(Format.fixed(first.seconds / memoryBound, 2)) (\(threads) thread\(threads == 1 ? "" : "s"); OpenBLAS \(Format.fixed(blasFirst / memoryBound, 2)))")
            }
        }
        emit("")
        emit("T(k)/T(1) is relative to the first k listed; OpenBLAS uses sgemv for k = 1, sgemm otherwise; linear() uses SkinnyProduct for k ≤ \(SkinnyProduct.sgemmCrossover) on one thread (\(SkinnyProduct.sgemmCrossoverThreaded) on more), sgemm above")
        return lines
    }
}

/// Number formatting without Foundation.
enum Format {
    /// `value` with `digits` decimals ("12.35"), or "nan"/"inf".
    static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e18 else { return "\(value)" }
        let whole = Int(scaled)
        let integerPart = whole / Int(scale), fraction = whole % Int(scale)
        var text = (value < 0 && whole != 0 ? "-" : "") + "\(integerPart)"
        if digits > 0 {
            let fractionText = "\(fraction)"
            text += "." + String(repeating: "0", count: digits - fractionText.count) + fractionText
        }
        return text
    }

    /// "512 MiB", "1.5 KiB", "12 B".
    static func bytes(_ count: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB"]
        var value = Double(count), unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return (value == value.rounded() ? "\(Int(value))" : fixed(value, 1)) + " " + units[unit]
    }

    /// Right-aligned columns of width 11 (first column 4).
    static func row(_ cells: [String]) -> String {
        cells.enumerated().map { index, cell in
            let width = index == 0 ? 4 : 11
            return String(repeating: " ", count: max(0, width - cell.count)) + cell
        }.joined(separator: " ")
    }
}
