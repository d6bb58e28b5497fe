// Tests of Statistics against values computed by hand.

import Testing
import LinAlg

@Suite("Statistics")
struct StatisticsTests {
    // Sorted: 2 4 4 4 5 5 7 9 (given unsorted). Mean 5; squared deviations
    // 9 1 1 1 0 0 4 16 sum to 32, so the sample variance is 32/7.
    let sample: [Double] = [5, 2, 9, 4, 7, 4, 5, 4]

    /// Tolerance 1e-12: inputs are small integers, so only a few roundings
    /// (GSL's running-mean recurrence) separate the result from the exact value.
    @Test("mean, sample variance and standard deviation")
    func moments() {
        #expect(abs(Statistics.mean(sample) - 5) < 1e-12)
        #expect(abs(Statistics.variance(sample) - 32.0 / 7) < 1e-12)
        #expect(abs(Statistics.standardDeviation(sample) - (32.0 / 7).squareRoot()) < 1e-12)
    }

    @Test("median of even and odd samples, unsorted input")
    func median() {
        #expect(Statistics.median(sample) == 4.5)          // (4 + 5) / 2
        #expect(Statistics.median([3, 1, 2]) == 2)
        #expect(Statistics.median([7]) == 7)
    }

    /// Position (n − 1)·p/100 in the sorted sample, interpolated linearly.
    @Test("percentiles interpolate between order statistics")
    func percentiles() {
        #expect(Statistics.percentile(sample, percent: 0) == 2)
        #expect(Statistics.percentile(sample, percent: 100) == 9)
        #expect(Statistics.percentile(sample, percent: 50) == 4.5)
        #expect(Statistics.percentile(sample, percent: 25) == 4)     // position 1.75: 4 + 0.75·(4 − 4)
        // position 6.3: 7 + 0.3·(9 − 7) = 7.6; 1e-12 allows the rounding of 0.3.
        #expect(abs(Statistics.percentile(sample, percent: 90) - 7.6) < 1e-12)
    }

    /// Points (0, 1), (1, 3), (2, 4), (3, 8): x̄ = 1.5, ȳ = 4, Σ(x − x̄)(y − ȳ) = 11, Σ(x − x̄)² = 5,
    /// so slope 11/5 = 2.2 and intercept 4 − 2.2 · 1.5 = 0.7; an exact line is recovered exactly.
    @Test("least-squares line by hand")
    func linearFit() {
        let fit = Statistics.linearFit(x: [0, 1, 2, 3], y: [1, 3, 4, 8])
        #expect(abs(fit.slope - 2.2) < 1e-12)
        #expect(abs(fit.intercept - 0.7) < 1e-12)
        let exact = Statistics.linearFit(x: [41, 64, 128], y: [41 * 0.5 + 6, 64 * 0.5 + 6, 128 * 0.5 + 6])
        #expect(abs(exact.slope - 0.5) < 1e-12 && abs(exact.intercept - 6) < 1e-9)
    }
}
