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

    /// Two units with values 0 and 1: a resample's mean is 0, ½ or 1 with probabilities ¼, ½, ¼, so a 95%
    /// interval spans [0, 1] and a 40% one (percentiles 30 and 70, inside the ½ mass) is the single point ½.
    /// Identical units give a point interval; the same seed, the same interval.
    @Test("bootstrap intervals: hand-worked resampling distributions, reproducible for a seed")
    func bootstrap() throws {
        let values: [Double] = [0, 1]
        let mean: ([Int]) -> Double = { picks in picks.reduce(0) { $0 + values[$1] } / Double(picks.count) }
        let wide = try #require(Statistics.bootstrapInterval(units: 2, level: 0.95, resamples: 4000, statistic: mean))
        #expect(wide == 0...1)
        let narrow = try #require(Statistics.bootstrapInterval(units: 2, level: 0.4, resamples: 4000, statistic: mean))
        #expect(narrow == 0.5...0.5)
        let same = try #require(Statistics.bootstrapInterval(units: 5, statistic: { _ in 3.25 }))
        #expect(same == 3.25...3.25)
        let sample = self.sample
        let sampleMean: ([Int]) -> Double = { picks in picks.reduce(0) { $0 + sample[$1] } / Double(picks.count) }
        let first = Statistics.bootstrapInterval(units: sample.count, seed: 7, statistic: sampleMean)
        #expect(first == Statistics.bootstrapInterval(units: sample.count, seed: 7, statistic: sampleMean))
        // The sample mean (5) lies inside, and the interval inside the sample's range [2, 9].
        let interval = try #require(first)
        #expect(interval.contains(5) && interval.lowerBound >= 2 && interval.upperBound <= 9)
        // A statistic that is never finite has no interval.
        #expect(Statistics.bootstrapInterval(units: 3, statistic: { _ in .nan }) == nil)
    }
}
