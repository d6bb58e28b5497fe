// The decode report's 95% intervals over prompt groups, on hand-made groups.

import Decoding
import Testing
@testable import Methods

@Suite("Decode intervals")
struct DecodeIntervalTests {
    func report(_ groups: [RoundSample], base: [RoundSample]?) -> DecodeReport {
        var report = DecodeReport(method: "sd", stats: DecodeStats(), seconds: 1, ntpTokensPerSecond: nil, lossless: true,
                                  samples: groups.count)
        report.groups = groups
        report.ntpGroups = base
        report.roundTokens = groups.reduce(0) { $0 + $1.roundTokens }
        report.roundSeconds = groups.reduce(0) { $0 + $1.roundSeconds }
        if let base {
            report.ntpRoundTokensPerSecond = Double(base.reduce(0) { $0 + $1.roundTokens }) / base.reduce(0) { $0 + $1.roundSeconds }
        }
        return report
    }

    /// Every prompt decodes twice as fast as plain decoding of the same prompt, at very different rates: any
    /// resample of the prompts, kept paired, gives exactly 2 — the interval is the point 2. Unpaired
    /// resampling would have spread it.
    @Test("paired by prompt: a uniform 2× speedup over unequal prompts has the point interval 2")
    func paired() throws {
        let method = [RoundSample(roundTokens: 10, roundSeconds: 1, emitted: 10, targetForwards: 5),
                      RoundSample(roundTokens: 40, roundSeconds: 16, emitted: 40, targetForwards: 10),
                      RoundSample(roundTokens: 30, roundSeconds: 2, emitted: 30, targetForwards: 30)]
        let plain = method.map { RoundSample(roundTokens: $0.roundTokens, roundSeconds: 2 * $0.roundSeconds,
                                             emitted: $0.roundTokens, targetForwards: $0.roundTokens) }
        let measured = report(method, base: plain)
        #expect(measured.decodeSpeedup == 2)
        #expect(measured.decodeSpeedupInterval == 2...2)
        // τ per prompt is 2, 4 and 1: a resample of only the first gives 2, of only the second 4, of only the
        // third 1; the 95% interval lies within [1, 4] and holds τ over all of them, 80/45.
        let tau = try #require(measured.tauInterval)
        #expect(tau.lowerBound >= 1 && tau.upperBound <= 4 && tau.contains(80.0 / 45.0), "\(tau)")
        // Without plain decoding, or with one prompt, there is no interval.
        #expect(report(method, base: nil).decodeSpeedupInterval == nil)
        #expect(report([method[0]], base: [plain[0]]).decodeSpeedupInterval == nil)
        #expect(report([method[0]], base: [plain[0]]).tauInterval == nil)
    }
}
