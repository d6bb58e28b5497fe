// Statistics: summary statistics of [Double] samples (gsl_stats_*), used to
// report medians and spreads of timing repetitions and acceptance rates, and
// bootstrap intervals over prompts. Depends on CGSL (and RandomSource); no I/O.

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

    /// Percentile bootstrap interval of a statistic over `units` independent units (Efron & Tibshirani,
    /// *An Introduction to the Bootstrap*, 1993, §13.3): `statistic` is evaluated on `resamples` draws of
    /// `units` indices with replacement (GSL mt19937 seeded with `seed`, so the interval is reproducible)
    /// and the (1 − level)/2 and (1 + level)/2 percentiles of its values are returned. A statistic that
    /// pairs two measurements of the same unit (a method and plain decoding on the same prompts) is
    /// resampled by unit, so the pairing is kept. Non-finite values (a resample with no tokens) are dropped.
    public static func bootstrapInterval(units: Int, level: Double = 0.95, resamples: Int = 2000, seed: UInt64 = 1,
                                         statistic: ([Int]) -> Double) -> ClosedRange<Double>? {
        precondition(units >= 1 && resamples >= 1, "Statistics.bootstrapInterval: needs a unit and a resample")
        precondition(level > 0 && level < 1, "Statistics.bootstrapInterval: level \(level) not in (0, 1)")
        let random = RandomSource(seed: seed)
        var values: [Double] = []
        values.reserveCapacity(resamples)
        var indices = [Int](repeating: 0, count: units)
        for _ in 0..<resamples {
            for i in 0..<units { indices[i] = random.uniformInt(below: units) }
            let value = statistic(indices)
            if value.isFinite { values.append(value) }
        }
        guard !values.isEmpty else { return nil }
        return percentile(values, percent: 50 * (1 - level))...percentile(values, percent: 50 * (1 + level))
    }

    private static func sortedCopy(_ values: [Double], caller: String) -> [Double] {
        precondition(!values.isEmpty, "Statistics.\(caller): empty sample")
        precondition(!values.contains(where: \.isNaN), "Statistics.\(caller): sample contains NaN")
        return values.sorted()
    }
}
