// Fitting a serving stack's free constants to measurements: nonlinear least squares on the log ratio of
// predicted to measured values (GSL's gsl_multifit_nlinear via LinAlg.NonlinearLeastSquares), constants
// kept in their physical range (`StackConstant.bounds`) by an active set (a constant the unconstrained fit
// drives out of its range is fixed at the bound it crossed and the rest refitted), standard errors from the Jacobian at the solution, and the two
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
    /// Fixed at a bound of its physical range (`StackConstant.bounds`): the unconstrained fit wanted it beyond.
    public var atBound: Bool

    /// "at bound 0", "at bound 1e+05", or nil inside the range.
    public var boundNote: String? {
        atBound ? "at bound \(String(format: "%g", value))" : nil
    }
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
        let ranges = constants.map(\.bounds)
        func clamp(_ v: [Double]) -> [Double] { zip(v, ranges).map { min(max($0, $1.lowerBound), $1.upperBound) } }
        var values = clamp(start)
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
                    // Beyond its range a constant acts as its bound (the engine refuses negative costs); one
                    // that ends there is fixed at that bound below.
                    let clamped = clamp(full)
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
            // Active set: the constant furthest beyond its range (relative to the range's width) goes to the
            // bound it crossed, the others are refitted.
            func excess(_ i: Int) -> Double {
                let r = ranges[i], width = r.upperBound - r.lowerBound
                return max(r.lowerBound - values[i], values[i] - r.upperBound) / width
            }
            guard let worst = free.max(by: { excess($0) < excess($1) }),
                  values[worst] <= ranges[worst].lowerBound || values[worst] > ranges[worst].upperBound else { break }
            values[worst] = clamp(values)[worst]
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
