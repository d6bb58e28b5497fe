// RandomSource: the one seeded random number generator of SpecLab, a GSL
// Mersenne Twister (mt19937), for weight initialisation, sampling and
// synthetic acceptance draws. Depends on CGSL only.

import CGSL

/// A seeded GSL mt19937 stream. The same seed always gives the same sequence
/// of draws, whatever the mix of calls, on every machine.
///
/// Deliberately not `Sendable`: each draw mutates the generator state in C
/// memory with no lock. Give every task or thread its own `RandomSource`
/// (e.g. seeded with `seed + workerIndex`) instead of sharing one.
public final class RandomSource {
    /// The seed this stream was created with (record it with every result).
    public let seed: UInt64
    private let generator: UnsafeMutablePointer<gsl_rng>

    /// A new stream from `seed`.
    ///
    /// GSL's mt19937 accepts a 32-bit seed and treats 0 as 4357, so the 64-bit
    /// seed is first mixed (SplitMix64 finaliser) into 32 bits: nearby seeds
    /// such as 1, 2, 3 or 1 and 2³²+1 give unrelated streams. Distinct seeds can
    /// still collide (2⁶⁴ seeds onto 2³² states), with chance ~2⁻³² per pair.
    public init(seed: UInt64) {
        GSL.disableAbortOnError()
        guard let generator = gsl_rng_alloc(speclab_rng_mt19937()) else {
            preconditionFailure("RandomSource: gsl_rng_alloc(mt19937) failed (out of memory)")
        }
        self.seed = seed
        self.generator = generator
        gsl_rng_set(generator, UInt(RandomSource.mixedSeed(seed)))
    }

    deinit {
        gsl_rng_free(generator)
    }

    /// The 32-bit seed actually passed to `gsl_rng_set` for a 64-bit `seed`.
    public static func mixedSeed(_ seed: UInt64) -> UInt32 {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let folded = UInt32(truncatingIfNeeded: z ^ (z >> 32))
        return folded == 0 ? 1 : folded   // gsl maps 0 to 4357; keep 0 out of play
    }

    /// A uniform draw in [0, 1) with 32 random bits (gsl_rng_uniform).
    public func uniform() -> Double {
        gsl_rng_uniform(generator)
    }

    /// A uniform draw in `range` = [lower, upper).
    public func uniform(in range: Range<Double>) -> Double {
        precondition(range.lowerBound.isFinite && range.upperBound.isFinite,
                     "RandomSource.uniform(in:): range \(range) is not finite")
        let value = range.lowerBound + (range.upperBound - range.lowerBound) * uniform()
        // Rounding can land exactly on the upper bound; keep the range half-open.
        return value < range.upperBound ? value : range.upperBound.nextDown
    }

    /// A Gaussian draw N(mean, standardDeviation²) (gsl_ran_gaussian, Box–Muller polar method).
    public func normal(mean: Double = 0, standardDeviation: Double = 1) -> Double {
        precondition(standardDeviation >= 0,
                     "RandomSource.normal: standardDeviation \(standardDeviation) is negative")
        return mean + gsl_ran_gaussian(generator, standardDeviation)
    }

    /// A uniform integer in 0..<upperBound (gsl_rng_uniform_int, unbiased).
    /// `upperBound` must be in 1...4294967295 (mt19937 yields 32 bits).
    public func uniformInt(below upperBound: Int) -> Int {
        precondition(upperBound >= 1 && upperBound <= Int(UInt32.max),
                     "RandomSource.uniformInt(below:): \(upperBound) not in 1...\(UInt32.max)")
        return Int(gsl_rng_uniform_int(generator, UInt(upperBound)))
    }

    /// An index i drawn with probability probabilities[i] / Σ probabilities, by
    /// inverting the cumulative sum at one uniform draw. The weights need not be
    /// normalised, but must be finite, non-negative and have a positive sum;
    /// an index with weight 0 is never returned. O(n), no allocation.
    public func categorical(probabilities: [Double]) -> Int {
        probabilities.withUnsafeBufferPointer { categoricalIndex(weights: $0) }
    }

    /// Float32 weights (e.g. a softmax over logits): as `categorical(probabilities:)`,
    /// summed in Double.
    public func categorical(probabilities: [Float]) -> Int {
        probabilities.withUnsafeBufferPointer { categoricalIndex(weights: $0) }
    }

    /// As `categorical(probabilities:)`, for weights in caller-owned memory.
    public func categorical<Weight: BinaryFloatingPoint>(weights: UnsafeBufferPointer<Weight>) -> Int {
        categoricalIndex(weights: weights)
    }

    private func categoricalIndex<Weight: BinaryFloatingPoint>(weights: UnsafeBufferPointer<Weight>) -> Int {
        var total = 0.0
        for weight in weights {
            let value = Double(weight)
            precondition(value >= 0 && value.isFinite,
                         "RandomSource.categorical: weight \(value) is negative or not finite")
            total += value
        }
        precondition(total > 0, "RandomSource.categorical: weights sum to \(total), need a positive sum")
        let threshold = uniform() * total
        var cumulative = 0.0
        var lastPositive = 0
        for index in weights.indices {
            let value = Double(weights[index])
            guard value > 0 else { continue }
            cumulative += value
            lastPositive = index
            if threshold < cumulative { return index }
        }
        // Rounding left the threshold at or above the running sum: the last
        // positive-weight index owns the top of the interval.
        return lastPositive
    }
}
