// Tests that the cblas_* symbols LinAlg calls come from OpenBLAS, not GSL's
// reference gslcblas (see MACHINE-NOTES.md), and that thread control works.

import Testing
import LinAlg

@Suite("OpenBLAS linkage")
struct OpenBLASTests {
    @Test("openblas_get_config links and names OpenBLAS")
    func configNamesOpenBLAS() {
        // openblas_get_config exists only in libopenblas: this test would not
        // even link if the BLAS were gslcblas alone.
        let description = OpenBLAS.configDescription
        #expect(description.contains("OpenBLAS"), "config: \(description)")
        #expect(description.contains("core="))
    }

    @Test("cblas_sgemm is bound to libopenblas, not libgslcblas")
    func sgemmComesFromOpenBLAS() throws {
        let path = try #require(OpenBLAS.sgemmProviderPath)
        #expect(path.lowercased().contains("openblas"), "cblas_sgemm from \(path)")
        #expect(!path.contains("gslcblas"), "cblas_sgemm from \(path)")
    }

    @Test("setThreads changes the reported thread count")
    func threadControl() {
        let original = OpenBLAS.threads
        defer { OpenBLAS.setThreads(original) }
        OpenBLAS.setThreads(1)
        #expect(OpenBLAS.threads == 1)
        #expect(original >= 1)
    }
}
