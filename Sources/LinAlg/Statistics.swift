// Statistics: summary statistics of [Double] samples (gsl_stats_*), used to
// report medians and spreads of timing repetitions and acceptance rates.
// Depends on CGSL only; no I/O.

import CGSL

/// Summary statistics of a sample. Every function requires a non-empty sample
/// without NaN and states any further requirement in its precondition message.
public enum Statistics {
    /// Arithmetic mean (gsl_stats_mean).
    public static func mean(_ values: [Double]) -> Double {
        precondition(!values.isEmpty, "Statistics.mean: empty sample")
        return values.withUnsafeBufferPointer { gsl_stats_mean($0.baseAddress, 1, $0.count) }
    }

    /// Sample variance Σ(x − mean)² / (n − 1) (gsl_stats_variance); needs n ≥ 2.
    public static func variance(_ values: [Double]) -> Double {
        precondition(values.count >= 2, "Statistics.variance: sample variance needs at least 2 values, got \(values.count)")
        return values.withUnsafeBufferPointer { gsl_stats_variance($0.baseAddress, 1, $0.count) }
    }

    /// Sample standard deviation, √variance; needs n ≥ 2.
    public static func standardDeviation(_ values: [Double]) -> Double {
        variance(values).squareRoot()
    }

    /// Median: the middle value, or the mean of the two middle values when n is
    /// even. The input need not be sorted (a sorted copy is made).
    public static func median(_ values: [Double]) -> Double {
        let sorted = sortedCopy(values, caller: "median")
        return sorted.withUnsafeBufferPointer {
            gsl_stats_median_from_sorted_data($0.baseAddress, 1, $0.count)
        }
    }

    /// The `percent`-th percentile, `percent` in 0...100, by linear
    /// interpolation between order statistics (gsl_stats_quantile_from_sorted_data:
    /// position (n − 1)·percent/100 in the sorted sample). 0 gives the minimum,
    /// 50 the median, 100 the maximum. The input need not be sorted.
    public static func percentile(_ values: [Double], percent: Double) -> Double {
        precondition(percent >= 0 && percent <= 100,
                     "Statistics.percentile: percent \(percent) not in 0...100")
        let sorted = sortedCopy(values, caller: "percentile")
        return sorted.withUnsafeBufferPointer {
            gsl_stats_quantile_from_sorted_data($0.baseAddress, 1, $0.count, percent / 100)
        }
    }

    /// Least-squares line y ≈ intercept + slope · x (gsl_fit_linear); needs at least two distinct x.
    public static func linearFit(x: [Double], y: [Double]) -> (intercept: Double, slope: Double) {
        precondition(x.count == y.count && x.count >= 2, "Statistics.linearFit: one y per x, at least two points")
        precondition(Set(x).count >= 2, "Statistics.linearFit: x needs at least two distinct values")
        var c0 = 0.0, c1 = 0.0, cov00 = 0.0, cov01 = 0.0, cov11 = 0.0, sumsq = 0.0
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeBufferPointer { ys in
                _ = gsl_fit_linear(xs.baseAddress, 1, ys.baseAddress, 1, xs.count, &c0, &c1, &cov00, &cov01, &cov11, &sumsq)
            }
        }
        return (c0, c1)
    }

    private static func sortedCopy(_ values: [Double], caller: String) -> [Double] {
        precondition(!values.isEmpty, "Statistics.\(caller): empty sample")
        precondition(!values.contains(where: \.isNaN), "Statistics.\(caller): sample contains NaN")
        return values.sorted()
    }
}
