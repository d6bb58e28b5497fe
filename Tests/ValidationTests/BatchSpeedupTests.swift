import Analytic
import Foundation
import Testing
@testable import Validation

@Suite("Speedup over batch")
struct BatchSpeedupTests {
    /// Worked by hand: between batch 2 (1.5×) and 4 (0.5×) the curve crosses 1 halfway in speedup, so at
    /// exp(ln 2 + 0.5 (ln 4 − ln 2)) = 2√2 ≈ 2.83 on the geometric batch axis.
    @Test("the crossover batch interpolates geometrically between the batches around 1×, or says where it lies")
    func crossover() {
        #expect(BatchSpeedupValidation.crossoverBatch([(1, 2.0), (2, 1.5), (4, 0.5)]) == "2.8")
        #expect(BatchSpeedupValidation.crossoverBatch([(1, 0.9), (2, 0.8)]) == "below 1 from batch 1")
        #expect(BatchSpeedupValidation.crossoverBatch([(1, 3.0), (16, 1.2)]) == "beyond 16")
        #expect(BatchSpeedupValidation.crossoverBatch([]) == "?")
    }

    @Test("a group's median |error| is its middle row; a group without rows has none")
    func medianError() {
        let rows = [ValidationRow(group: "a", setting: "1", predicted: 1.1, measured: 1),
                    ValidationRow(group: "a", setting: "2", predicted: 0.7, measured: 1),
                    ValidationRow(group: "a", setting: "3", predicted: 1.2, measured: 1),
                    ValidationRow(group: "b", setting: "1", predicted: 9, measured: 1)]
        // |errors| of group a: 0.1, 0.3, 0.2 → sorted 0.1, 0.2, 0.3 → 0.2.
        #expect(abs(ValidationRow.medianAbsoluteError(rows, group: "a") - 0.2) < 1e-12)
        #expect(ValidationRow.medianAbsoluteError(rows, group: "c").isNaN)
    }
}
