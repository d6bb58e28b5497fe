// Sanity tests of the machine probes (tiny sizes: they check that the figures
// are positive, finite and plausibly ordered, never speed), and the gated full
// kernel report. Depends on LinAlg, Swift Testing and Foundation (environment).
//
// Full report (release build with the CPU flag, ~1 GB of memory, ~1 minute):
//   SPECLAB_KERNEL_BENCH=1 swift test -c release -Xswiftc -target-cpu -Xswiftc haswell \
//     --scratch-path .build-kernels --filter KernelBench

import Foundation
import Testing
import LinAlg

@Suite("Probes")
struct ProbeTests {
    @Test("streaming-read bandwidth is positive and reads every element", arguments: [1, 2])
    func bandwidth(threads: Int) {
        let bytes = (1 << 20) + 52              // not a multiple of the SIMD chunks
        let probe = Probes.streamingReadBandwidth(bytes: bytes, threads: threads, repetitions: 3)
        #expect(probe.bytesPerSecond > 0 && probe.bytesPerSecond.isFinite)
        #expect(probe.samples.count == 3 && probe.samples.allSatisfy { $0 > 0 })
        #expect(probe.threads == threads && probe.bytes == bytes)
        #expect(probe.checksum == Double(bytes / 4), "buffer of 1.0s should sum to its length")
        #expect(probe.description.contains("GB/s"))
    }

    @Test("sgemm throughput is positive and restores the OpenBLAS thread count")
    func sgemm() {
        let before = OpenBLAS.threads
        let probe = Probes.sgemmThroughput(size: 48, threads: 1, repetitions: 3)
        #expect(probe.flopsPerSecond > 0 && probe.flopsPerSecond.isFinite)
        #expect(probe.size == 48 && probe.samples.count == 3)
        #expect(OpenBLAS.threads == before)
    }

    @Test("skinny product times: one per k, positive, and 64 vectors cost more than 1")
    func skinnyTimes() {
        let times = Probes.skinnyProductTimes(out: 128, in: 96, ks: [1, 4, 64], threads: 1, repetitions: 3)
        #expect(times.map(\.k) == [1, 4, 64])
        #expect(times.allSatisfy { $0.seconds > 0 && $0.seconds.isFinite && $0.samples.count == 3 })
        // 64× the arithmetic of k = 1 on weights that fit in cache: slower by any measure.
        #expect(times[2].seconds > times[0].seconds)
        let blas = Probes.productTimes(out: 128, in: 96, ks: [1, 3], path: .openBLAS, threads: 1, repetitions: 2)
        #expect(blas.map(\.k) == [1, 3] && blas.allSatisfy { $0.seconds > 0 })
    }

    @Test("kernel benchmark report on tiny sizes has every section")
    func smallReport() {
        var streamed: [String] = []
        let lines = KernelBenchmark.run(outFeatures: 40, inFeatures: 24, ks: [1, 2, 5], threadCounts: [1, 2],
                                        repetitions: 2, bandwidthBytes: 1 << 16, sgemmSize: 16,
                                        progress: { streamed.append($0) })
        #expect(lines == streamed)
        let text = lines.joined(separator: "\n")
        #expect(text.contains("streaming read"))
        #expect(text.contains("GFLOP/s"))
        #expect(text.contains("1 thread:") && text.contains("2 threads:"))
        #expect(lines.filter { $0.hasPrefix("   5 ") }.count == 2, "one k = 5 row per thread count:\n\(text)")
    }
}

/// The full report of `KernelBenchmark.run()` (403 MB weights), printed; only
/// when SPECLAB_KERNEL_BENCH is set.
@Suite("KernelBenchmarkReport")
struct KernelBenchmarkReport {
    @Test("KernelBench: full kernel report",
          .enabled(if: ProcessInfo.processInfo.environment["SPECLAB_KERNEL_BENCH"] != nil))
    func report() {
        let lines = KernelBenchmark.run(progress: { print($0) })
        #expect(!lines.isEmpty)
    }
}
