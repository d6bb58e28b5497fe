// NonlinearLeastSquares: minimise ½ Σ r_i(θ)² over parameters θ with GSL's trust-region
// Levenberg–Marquardt driver (gsl_multifit_nlinear, GSL manual §"Nonlinear Least-Squares Fitting"),
// the Jacobian by GSL's forward differences, and the parameter covariance from it:
// C = s² (JᵀJ)⁻¹ with s² = Σ r² / (n − p) (gsl_multifit_nlinear_covar; the usual scaling of an
// unweighted fit whose residual scale is estimated from the fit itself). Depends on CGSL only.

import CGSL

/// Why a fit could not run or finish.
public struct NonlinearFitError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A solved fit.
public struct NonlinearFit: Sendable, Equatable {
    /// The parameters at the minimum.
    public var parameters: [Double]
    /// Residuals at the minimum.
    public var residuals: [Double]
    /// Σ r².
    public var sumOfSquares: Double
    /// Standard errors of the parameters (√ diagonal of the covariance); nil when there are no more
    /// residuals than parameters (the residual scale cannot be estimated).
    public var standardErrors: [Double]?
    /// The driver's iterations.
    public var iterations: Int
}

public enum NonlinearLeastSquares {
    /// Minimises Σ residuals(θ)² from `start`. `residuals` must return `count` finite values.
    public static func fit(start: [Double], count: Int, maxIterations: Int = 200,
                           residuals: ([Double]) -> [Double]) throws(NonlinearFitError) -> NonlinearFit {
        let p = start.count
        guard p >= 1 else { throw NonlinearFitError("nothing to fit: no free parameters") }
        guard count >= p else {
            throw NonlinearFitError("\(count) measurements cannot determine \(p) parameters: give at least \(p)")
        }
        guard start.allSatisfy(\.isFinite) else { throw NonlinearFitError("starting parameters must be finite") }
        GSL.disableAbortOnError()
        var params = gsl_multifit_nlinear_default_parameters()
        // Scale-invariant steps (Moré's D = diag(JᵀJ)): the parameters differ by orders of magnitude.
        params.scale = speclab_nlinear_scale_more()
        guard let workspace = gsl_multifit_nlinear_alloc(speclab_nlinear_trust(), &params, count, p) else {
            throw NonlinearFitError("gsl_multifit_nlinear_alloc(\(count), \(p)) failed")
        }
        defer { gsl_multifit_nlinear_free(workspace) }
        let x = gsl_vector_alloc(p)!
        defer { gsl_vector_free(x) }
        for (i, value) in start.enumerated() { gsl_vector_set(x, i, value) }

        return try withoutActuallyEscaping(residuals) { (escapable) throws(NonlinearFitError) -> NonlinearFit in
            var context = ResidualContext(residuals: escapable, count: count)
            return try withUnsafeMutablePointer(to: &context) { (pointer) throws(NonlinearFitError) -> NonlinearFit in
                var fdf = gsl_multifit_nlinear_fdf()
                fdf.f = { xv, raw, fv in
                    let context = raw!.assumingMemoryBound(to: ResidualContext.self)
                    let n = Int(xv!.pointee.size)
                    let theta = (0..<n).map { gsl_vector_get(xv, $0) }
                    let r = context.pointee.residuals(theta)
                    guard r.count == context.pointee.count, r.allSatisfy(\.isFinite) else {
                        if context.pointee.failure == nil { context.pointee.failure = theta }
                        return Int32(GSL_EBADFUNC)
                    }
                    for (i, value) in r.enumerated() { gsl_vector_set(fv, i, value) }
                    return Int32(GSL_SUCCESS)
                }
                fdf.df = nil  // forward-difference Jacobian
                fdf.fvv = nil
                fdf.n = count
                fdf.p = p
                fdf.params = UnsafeMutableRawPointer(pointer)
                let initStatus = gsl_multifit_nlinear_init(x, &fdf, workspace)
                if let theta = pointer.pointee.failure {
                    throw NonlinearFitError("the model gave no finite value at the starting parameters \(theta)")
                }
                guard initStatus == Int32(GSL_SUCCESS) else { throw NonlinearFitError("GSL: \(GSL.message(forStatus: initStatus))") }
                var info: Int32 = 0
                let status = gsl_multifit_nlinear_driver(maxIterations, 1e-10, 1e-10, 1e-12, nil, nil, &info, workspace)
                if let theta = pointer.pointee.failure {
                    throw NonlinearFitError("the model gave no finite value at parameters \(theta)")
                }
                // GSL_EMAXITER and GSL_ENOPROG (no further progress) leave a usable minimum; anything else is an error.
                guard status == Int32(GSL_SUCCESS) || status == Int32(GSL_EMAXITER) || status == Int32(GSL_ENOPROG) else {
                    throw NonlinearFitError("GSL: \(GSL.message(forStatus: status))")
                }
                let solution = gsl_multifit_nlinear_position(workspace)!
                let f = gsl_multifit_nlinear_residual(workspace)!
                let theta = (0..<p).map { gsl_vector_get(solution, $0) }
                let r = (0..<count).map { gsl_vector_get(f, $0) }
                let sumOfSquares = r.reduce(0) { $0 + $1 * $1 }
                var errors: [Double]? = nil
                if count > p {
                    let covariance = gsl_matrix_alloc(p, p)!
                    defer { gsl_matrix_free(covariance) }
                    let jacobian = gsl_multifit_nlinear_jac(workspace)!
                    if gsl_multifit_nlinear_covar(jacobian, 0.0, covariance) == Int32(GSL_SUCCESS) {
                        let scale = sumOfSquares / Double(count - p)
                        errors = (0..<p).map { (gsl_matrix_get(covariance, $0, $0) * scale).squareRoot() }
                    }
                }
                return NonlinearFit(parameters: theta, residuals: r, sumOfSquares: sumOfSquares,
                                    standardErrors: errors, iterations: Int(gsl_multifit_nlinear_niter(workspace)))
            }
        }
    }
}

/// What the C trampoline reaches through `params`.
private struct ResidualContext {
    let residuals: ([Double]) -> [Double]
    let count: Int
    var failure: [Double]?
}
