// LinAlg: the Swift face of GSL and OpenBLAS for SpecLab. Dense Float32
// matrices and BLAS products (OpenBLAS cblas), a seeded GSL random source,
// summary statistics and root finding.
//
// Depends only on CGSL (GSL linked against OpenBLAS, never gslcblas) and the
// Swift standard library. It must not depend on Foundation, on any other
// SpecLab module, or do I/O: every module above it (Transformer, Decoding,
// Analytic, Validation) may use it.

import CGSL

/// Process-wide GSL settings.
public enum GSL {
    /// Runs `gsl_set_error_handler_off()` exactly once per process. A Swift
    /// `static let` is initialised lazily and atomically, so concurrent callers
    /// are safe and later calls cost one atomic load.
    private static let errorHandlerTurnedOff: Void = {
        _ = gsl_set_error_handler_off()
    }()

    /// Stops GSL from aborting the process on an error (its default); GSL
    /// functions then return a status code instead, which LinAlg turns into
    /// typed Swift errors. Idempotent and thread-safe. LinAlg calls it before
    /// every GSL call that can fail, so callers rarely need it themselves.
    public static func disableAbortOnError() {
        _ = errorHandlerTurnedOff
    }

    /// GSL's text for a status code, e.g. `GSL_EINVAL` -> "invalid argument supplied by user".
    public static func message(forStatus status: Int32) -> String {
        guard let text = gsl_strerror(status) else { return "GSL status \(status)" }
        return String(cString: text)
    }
}
