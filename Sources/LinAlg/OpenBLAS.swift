// OpenBLAS: thread control and build facts of the BLAS that LinAlg calls, for
// provenance in results (run.json) and for pinning thread counts in tests.
// Depends on CGSL and the C library's dynamic-loader calls only.

import CGSL
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The OpenBLAS library behind `BLAS`.
///
/// OpenBLAS results are bitwise reproducible only at a fixed thread count:
/// pin it (here or with `OPENBLAS_NUM_THREADS`) before comparing outputs across runs.
public enum OpenBLAS {
    /// Sets the number of threads OpenBLAS uses for every later call (process-wide).
    public static func setThreads(_ threadCount: Int) {
        precondition(threadCount >= 1, "OpenBLAS.setThreads: need at least 1 thread, got \(threadCount)")
        openblas_set_num_threads(Int32(threadCount))
    }

    /// The number of threads OpenBLAS currently uses.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// Build configuration and the CPU kernel OpenBLAS chose, e.g.
    /// "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64; core=Cooperlake".
    /// Only links when libopenblas is linked, so it also proves the BLAS is OpenBLAS.
    public static var configDescription: String {
        let config = openblas_get_config().map { String(cString: $0) } ?? "unknown config"
        let core = openblas_get_corename().map { String(cString: $0) } ?? "unknown core"
        return "\(config.trimmingSpaces()); core=\(core.trimmingSpaces())"
    }

    /// Path of the shared library whose `cblas_sgemm` the dynamic loader binds
    /// for this process (e.g. "/usr/lib/x86_64-linux-gnu/libopenblas.so.0"),
    /// or nil if it cannot be found. Contains "openblas" when linking is right,
    /// "gslcblas" when GSL's reference BLAS (~20x slower) shadowed it.
    public static var sgemmProviderPath: String? {
        guard let symbol = dlsym(nil, "cblas_sgemm") else { return nil }
        return sharedObjectPath(containing: UInt(bitPattern: symbol))
    }

    #if os(Linux)
    /// The file mapped at `address` in this process, from /proc/self/maps
    /// (Glibc's `dladdr` needs _GNU_SOURCE, which Swift's Glibc module lacks).
    /// A maps line reads "start-end perms offset dev inode path".
    private static func sharedObjectPath(containing address: UInt) -> String? {
        guard let file = fopen("/proc/self/maps", "r") else { return nil }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            let fields = String(cString: line).split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6 else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2,
                  let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16),
                  start <= address, address < end else { continue }
            return fields[5...].joined(separator: " ").trimmingSpaces()
        }
        return nil
    }
    #else
    private static func sharedObjectPath(containing address: UInt) -> String? {
        var info = Dl_info()
        guard dladdr(UnsafeRawPointer(bitPattern: address), &info) != 0,
              let name = info.dli_fname else { return nil }
        return String(cString: name)
    }
    #endif
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var text = Substring(self)
        while let last = text.last, last == " " || last == "\n" { text.removeLast() }
        while let first = text.first, first == " " { text.removeFirst() }
        return String(text)
    }
}
