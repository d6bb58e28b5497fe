// Fitting a serving stack's free constants to measurements: nonlinear least squares on the log ratio of
// predicted to measured values (GSL's gsl_multifit_nlinear via LinAlg.NonlinearLeastSquares), constants
// kept non-negative by an active set (a constant the unconstrained fit drives below zero is fixed at
// zero and the rest refitted), standard errors from the Jacobian at the solution, and the two
// cross-validations the project reports: leave one row out (`speclab fit`) and leave one source out
// (experiment 036: a constant is never judged on the source it was fitted to).

import Analytic
import Foundation
import LinAlg

/// One measurement and how the engine predicts it for given values of the free constants.
public struct FitObservation: Sendable {
    public var label: String
    /// The table or measurement block it comes from (the unit left out in cross-validation).
    public var source: String
    public var measured: Double
    /// The engine's value for the free constants' values (display units, `StackConstant.displayScale`).
    public var predict: @Sendable ([Double]) throws -> Double

    public init(label: String, source: String, measured: Double, predict: @escaping @Sendable ([Double]) throws -> Double) {
        self.label = label
        self.source = source
        self.measured = measured
        self.predict = predict
    }
}

/// A fitted constant.
public struct ConstantEstimate: Sendable, Equatable {
    public var constant: StackConstant
    /// Display units.
    public var value: Double
    /// Standard error (display units); nil where the fit has no spare measurement or the constant sits at 0.
    public var standardError: Double?
    /// Fixed at zero: the unconstrained fit wanted it negative.
    public var atBound: Bool
}

public struct StackFitResult: Sendable {
    public var estimates: [ConstantEstimate]
    /// The engine's value for every observation at the fitted constants.
    public var fitted: [Double]
    public var values: [Double] { estimates.map(\.value) }
}

public enum StackFit {
    /// Fits `constants` (starting from `start`, display units) to `observations`.
    public static func fit(_ observations: [FitObservation], constants: [StackConstant],
                           start: [Double]) throws -> StackFitResult {
        guard !observations.isEmpty else { throw AnalyticError("no measurements to fit") }
        for o in observations where !(o.measured.isFinite && o.measured > 0) {
            throw AnalyticError("\(o.label): the measured value must be a positive number, got \(o.measured)")
        }
        var free = Array(constants.indices)
        var values = start.map { max($0, 0) }
        var errors: [Double?] = Array(repeating: nil, count: constants.count)
        while true {
            guard !free.isEmpty else { break }
            guard observations.count >= free.count else {
                throw AnalyticError("\(observations.count) measurements cannot determine \(free.count) constants (\(free.map { constants[$0].rawValue }.joined(separator: ", "))): give more rows or fewer constants")
            }
            let fixed = values
            let solution: NonlinearFit
            do {
                solution = try NonlinearLeastSquares.fit(start: free.map { fixed[$0] }, count: observations.count) { theta in
                    var full = fixed
                    for (slot, index) in free.enumerated() { full[index] = theta[slot] }
                    // Below zero a constant acts as zero (the engine refuses negative costs); one that ends
                    // there is fixed at its bound below.
                    let clamped = full.map { max($0, 0) }
                    return observations.map { o in
                        guard let p = try? o.predict(clamped), p.isFinite else { return .nan }
                        // A step that drives the prediction to zero is a very bad (finite) residual, which the
                        // trust region rejects.
                        return log(max(p, 1e-300) / o.measured)
                    }
                }
            } catch {
                throw AnalyticError("the fit failed: \(error.message)")
            }
            for (slot, index) in free.enumerated() {
                values[index] = solution.parameters[slot]
                errors[index] = solution.standardErrors?[slot]
            }
            // Active set: the most negative constant goes to its bound, the others are refitted.
            guard let worst = free.min(by: { values[$0] < values[$1] }), values[worst] <= 0 else { break }
            values[worst] = 0
            errors[worst] = nil
            free.removeAll { $0 == worst }
        }
        let estimates = constants.indices.map { i in
            ConstantEstimate(constant: constants[i], value: values[i], standardError: free.contains(i) ? errors[i] : nil,
                             atBound: !free.contains(i))
        }
        let fitted = try observations.map { try $0.predict(values) }
        return StackFitResult(estimates: estimates, fitted: fitted)
    }

    /// The prediction of every observation by a fit to all the others (nil where the others are fewer
    /// than the constants).
    public static func leaveOneOut(_ observations: [FitObservation], constants: [StackConstant],
                                   start: [Double]) throws -> [Double?] {
        try observations.indices.map { held in
            let rest = observations.enumerated().filter { $0.offset != held }.map(\.element)
            guard rest.count >= constants.count else { return nil }
            let fit = try fit(rest, constants: constants, start: start)
            return try observations[held].predict(fit.values)
        }
    }

    /// Every source's observations predicted by a fit to the other sources' observations only. A source
    /// whose left-out fit has too few rows keeps nil predictions. Returns, per observation, the prediction
    /// and the constants it was made with.
    public static func leaveOneSourceOut(_ observations: [FitObservation], constants: [StackConstant],
                                         start: [Double]) throws -> [(predicted: Double?, values: [Double]?)] {
        var out: [(predicted: Double?, values: [Double]?)] = Array(repeating: (nil, nil), count: observations.count)
        let sources = Array(Set(observations.map(\.source))).sorted()
        for source in sources {
            let training = observations.filter { $0.source != source }
            guard training.count >= constants.count, !training.isEmpty else { continue }
            let fit = try fit(training, constants: constants, start: start)
            for (i, o) in observations.enumerated() where o.source == source {
                out[i] = (try o.predict(fit.values), fit.values)
            }
        }
        return out
    }
}
