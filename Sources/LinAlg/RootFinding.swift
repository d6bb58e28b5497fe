// RootFinding: a bracketed scalar root of f(x) = 0 by Brent's method
// (gsl_root_fsolver_brent), for inverting analytic formulas such as the
// expected accepted length τ(α) of speculative decoding. Depends on CGSL only.

import CGSL

/// Why a root could not be found; every case carries the numbers that explain it.
public enum RootFindingError: Error, Equatable, CustomStringConvertible {
    /// f(lower) and f(upper) have the same sign, so [lower, upper] does not bracket a root.
    case bracketDoesNotChangeSign(lower: Double, upper: Double, valueAtLower: Double, valueAtUpper: Double)
    /// The bracket is empty, reversed or not finite.
    case invalidBracket(lower: Double, upper: Double)
    /// f returned NaN or ±infinity at x.
    case nonFiniteValue(x: Double, value: Double)
    /// The bracket was still wider than the tolerance after maxIterations steps.
    case didNotConverge(iterations: Int, lower: Double, upper: Double)
    /// GSL reported an error status (with its message).
    case gsl(status: Int32, message: String)

    public var description: String {
        switch self {
        case let .bracketDoesNotChangeSign(lower, upper, valueAtLower, valueAtUpper):
            return "bracket [\(lower), \(upper)] does not change sign: f(lower) = \(valueAtLower), f(upper) = \(valueAtUpper)"
        case let .invalidBracket(lower, upper):
            return "invalid bracket [\(lower), \(upper)]: need finite lower < upper"
        case let .nonFiniteValue(x, value):
            return "f(\(x)) = \(value) is not finite"
        case let .didNotConverge(iterations, lower, upper):
            return "no convergence after \(iterations) iterations; bracket [\(lower), \(upper)]"
        case let .gsl(status, message):
            return "GSL error \(status): \(message)"
        }
    }
}

/// Scalar root finding.
public enum RootFinding {
    /// A root of `f` in [lower, upper] by Brent's method (GSL
    /// `gsl_root_fsolver_brent`: bisection safeguarded inverse quadratic
    /// interpolation; Brent 1973, "Algorithms for Minimization without
    /// Derivatives", ch. 4).
    ///
    /// Stops when the bracket [a, b] satisfies
    /// |b − a| < tolerance + relativeTolerance · min(|a|, |b|) (gsl_root_test_interval)
    /// and returns the solver's current best estimate.
    ///
    /// - Parameters:
    ///   - f: continuous on [lower, upper] with f(lower) and f(upper) of opposite
    ///     sign (or one of them exactly 0, which is then returned).
    ///   - tolerance: absolute tolerance on x.
    ///   - relativeTolerance: relative tolerance on x.
    /// - Throws: `RootFindingError` naming the bracket and values that failed.
    public static func brent(f: (Double) -> Double, lower: Double, upper: Double,
                             tolerance: Double = 1e-12, relativeTolerance: Double = 1e-12,
                             maxIterations: Int = 200) throws(RootFindingError) -> Double {
        guard lower.isFinite, upper.isFinite, lower < upper else {
            throw .invalidBracket(lower: lower, upper: upper)
        }
        precondition(tolerance >= 0 && relativeTolerance >= 0 && tolerance + relativeTolerance > 0,
                     "RootFinding.brent: tolerances (\(tolerance), \(relativeTolerance)) must be non-negative, not both 0")
        precondition(maxIterations >= 1, "RootFinding.brent: maxIterations \(maxIterations) < 1")
        let valueAtLower = f(lower), valueAtUpper = f(upper)
        guard valueAtLower.isFinite else { throw .nonFiniteValue(x: lower, value: valueAtLower) }
        guard valueAtUpper.isFinite else { throw .nonFiniteValue(x: upper, value: valueAtUpper) }
        if valueAtLower == 0 { return lower }
        if valueAtUpper == 0 { return upper }
        guard (valueAtLower < 0) != (valueAtUpper < 0) else {
            throw .bracketDoesNotChangeSign(lower: lower, upper: upper,
                                            valueAtLower: valueAtLower, valueAtUpper: valueAtUpper)
        }

        GSL.disableAbortOnError()
        guard let solver = gsl_root_fsolver_alloc(speclab_root_brent()) else {
            throw .gsl(status: Int32(GSL_ENOMEM), message: "gsl_root_fsolver_alloc failed")
        }
        defer { gsl_root_fsolver_free(solver) }

        // GSL calls back through a C function pointer, which cannot capture:
        // the Swift closure travels in `params` and a non-capturing trampoline
        // calls it. The closure never escapes this function, so the context
        // lives on the stack for exactly as long as the solver can call it.
        // The trampoline records the first non-finite value so it can be reported.
        return try withoutActuallyEscaping(f) { (escapableF) throws(RootFindingError) -> Double in
            var context = FunctionContext(function: escapableF)
            return try withUnsafeMutablePointer(to: &context) { (contextPointer) throws(RootFindingError) -> Double in
                var function = gsl_function(function: { x, params in
                    let context = params!.assumingMemoryBound(to: FunctionContext.self)
                    let value = context.pointee.function(x)
                    if !value.isFinite && context.pointee.firstNonFinite == nil {
                        context.pointee.firstNonFinite = (x, value)
                    }
                    return value
                }, params: UnsafeMutableRawPointer(contextPointer))

                let setStatus = gsl_root_fsolver_set(solver, &function, lower, upper)
                guard setStatus == Int32(GSL_SUCCESS) else {
                    throw .gsl(status: setStatus, message: GSL.message(forStatus: setStatus))
                }
                for _ in 0..<maxIterations {
                    let iterateStatus = gsl_root_fsolver_iterate(solver)
                    if let (x, value) = contextPointer.pointee.firstNonFinite {
                        throw .nonFiniteValue(x: x, value: value)
                    }
                    guard iterateStatus == Int32(GSL_SUCCESS) else {
                        throw .gsl(status: iterateStatus, message: GSL.message(forStatus: iterateStatus))
                    }
                    let bracketLower = gsl_root_fsolver_x_lower(solver)
                    let bracketUpper = gsl_root_fsolver_x_upper(solver)
                    if gsl_root_test_interval(bracketLower, bracketUpper, tolerance, relativeTolerance) == Int32(GSL_SUCCESS) {
                        return gsl_root_fsolver_root(solver)
                    }
                }
                throw .didNotConverge(iterations: maxIterations,
                                      lower: gsl_root_fsolver_x_lower(solver),
                                      upper: gsl_root_fsolver_x_upper(solver))
            }
        }
    }
}

/// What the C trampoline of `RootFinding.brent` reaches through `params`.
private struct FunctionContext {
    let function: (Double) -> Double
    var firstNonFinite: (x: Double, value: Double)?
}
