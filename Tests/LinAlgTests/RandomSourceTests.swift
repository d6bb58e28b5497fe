// Tests of RandomSource: reproducibility from a seed and distribution sanity.
// Bounds are 5 standard errors: a correct generator fails one with
// probability < 10⁻⁶ for any seed, and the seeds here are fixed anyway.

import Testing
import LinAlg

@Suite("RandomSource")
struct RandomSourceTests {
    /// One draw of every kind, interleaved, so every method's state use is covered.
    private func mixedStream(seed: UInt64, count: Int) -> [Double] {
        let rng = RandomSource(seed: seed)
        var draws: [Double] = []
        for _ in 0..<count {
            draws.append(rng.uniform())
            draws.append(rng.normal(mean: 1, standardDeviation: 2))
            draws.append(Double(rng.categorical(probabilities: [0.2, 0.5, 0.3])))
            draws.append(Double(rng.uniformInt(below: 1000)))
            draws.append(rng.uniform(in: -3..<7))
        }
        return draws
    }

    @Test("same seed gives the same stream")
    func sameSeedSameStream() {
        #expect(mixedStream(seed: 42, count: 1000) == mixedStream(seed: 42, count: 1000))
        #expect(RandomSource(seed: 42).seed == 42)
    }

    @Test("different seeds give different streams, including GSL's aliases 0/4357 and 1/2³²+1")
    func differentSeedsDiffer() {
        let base = mixedStream(seed: 1, count: 100)
        #expect(base != mixedStream(seed: 2, count: 100))
        #expect(base != mixedStream(seed: 1 + (1 << 32), count: 100))
        #expect(mixedStream(seed: 0, count: 100) != mixedStream(seed: 4357, count: 100))
        #expect(RandomSource.mixedSeed(0) != 0)
    }

    @Test("100k uniforms: in [0,1), mean 1/2 and variance 1/12 within 5 standard errors")
    func uniformMoments() {
        let rng = RandomSource(seed: 11)
        let n = 100_000
        let draws = (0..<n).map { _ in rng.uniform() }
        #expect(draws.allSatisfy { $0 >= 0 && $0 < 1 })
        // SE of the mean √(1/12/n); SE of the sample variance √((μ₄ − σ⁴)/n), μ₄ = 1/80.
        let meanError = (1.0 / 12 / Double(n)).squareRoot()
        let varianceError = ((1.0 / 80 - 1.0 / 144) / Double(n)).squareRoot()
        #expect(abs(Statistics.mean(draws) - 0.5) < 5 * meanError)
        #expect(abs(Statistics.variance(draws) - 1.0 / 12) < 5 * varianceError)

        let ranged = (0..<1000).map { _ in rng.uniform(in: 5..<6) }
        #expect(ranged.allSatisfy { $0 >= 5 && $0 < 6 })
    }

    @Test("100k normals N(2, 3²): mean and variance within 5 standard errors")
    func normalMoments() {
        let rng = RandomSource(seed: 12)
        let n = 100_000, mean = 2.0, standardDeviation = 3.0
        let draws = (0..<n).map { _ in rng.normal(mean: mean, standardDeviation: standardDeviation) }
        // SE of the mean σ/√n; SE of the sample variance σ²·√(2/n) for a Gaussian.
        let variance = standardDeviation * standardDeviation
        #expect(abs(Statistics.mean(draws) - mean) < 5 * standardDeviation / Double(n).squareRoot())
        #expect(abs(Statistics.variance(draws) - variance) < 5 * variance * (2 / Double(n)).squareRoot())
    }

    @Test("100k categorical draws from unnormalised weights: each bin within 5σ, zero bins never drawn")
    func categoricalFrequencies() {
        let rng = RandomSource(seed: 13)
        let weights: [Double] = [1, 0, 2.5, 4, 2.5, 0]   // sum 10, not normalised
        let n = 100_000
        var counts = [Int](repeating: 0, count: weights.count)
        for _ in 0..<n { counts[rng.categorical(probabilities: weights)] += 1 }
        for (index, weight) in weights.enumerated() {
            let p = weight / 10
            // Binomial standard deviation √(n·p·(1−p)) per bin.
            let sigma = (Double(n) * p * (1 - p)).squareRoot()
            #expect(abs(Double(counts[index]) - Double(n) * p) <= 5 * sigma,
                    "bin \(index): \(counts[index]) draws, expected \(Double(n) * p)")
        }
        #expect(counts[1] == 0 && counts[5] == 0)

        // Float32 weights use the same inverse CDF; a single positive weight is certain.
        let floatWeights: [Float] = [0, 0, 3, 0]
        #expect((0..<100).allSatisfy { _ in rng.categorical(probabilities: floatWeights) == 2 })
    }

    @Test("uniformInt(below: 7): values in 0..<7, each within 5σ of n/7")
    func uniformIntFrequencies() {
        let rng = RandomSource(seed: 14)
        let n = 70_000
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<n { counts[rng.uniformInt(below: 7)] += 1 }
        let sigma = (Double(n) * (1.0 / 7) * (6.0 / 7)).squareRoot()
        for count in counts { #expect(abs(Double(count) - Double(n) / 7) <= 5 * sigma) }
        #expect(rng.uniformInt(below: 1) == 0)
    }
}
