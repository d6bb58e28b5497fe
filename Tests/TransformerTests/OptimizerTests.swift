// Tests of AdamW, the learning-rate schedule and gradient clipping against
// hand computations (formulas written out here in Double), not against the
// code's own output.

import Foundation
import Testing
@testable import Transformer

@Suite("Optimizer")
struct OptimizerTests {
    /// AdamW as PyTorch's torch.optim.AdamW, in Double, for one parameter over
    /// a sequence of gradients: θ ← θ(1 − lr·λ) − lr·m̂/(√v̂ + ε).
    private func referenceAdamW(theta initial: Double, gradients: [Double], learningRate lr: Double,
                                beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double) -> Double {
        var theta = initial, m = 0.0, v = 0.0
        for (index, g) in gradients.enumerated() {
            let t = Double(index + 1)
            theta *= 1 - lr * weightDecay
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            let mHat = m / (1 - pow(beta1, t))
            let vHat = v / (1 - pow(beta2, t))
            theta -= lr * mHat / (vHat.squareRoot() + epsilon)
        }
        return theta
    }

    @Test("one AdamW step on a tiny vector matches the hand computation")
    func adamWOneStepByHand() {
        // Step 1: m̂ = g and v̂ = g², so θ' = θ(1 − lr·λ) − lr·g/(|g| + ε).
        // θ = 1, g = 0.1, lr = 0.01, λ = 0.1: 1·0.999 − 0.01·0.1/(0.1 + 1e-8) = 0.98900000010.
        var optimizer = AdamW(parameterCount: 3, config: AdamWConfig(learningRate: 0.01))
        var parameters: [Float] = [1.0, -2.0, 0.5]
        optimizer.step(parameters: &parameters, gradients: [0.1, -0.3, 2.0],
                       learningRate: 0.01, decayMask: .all)
        // Float tolerance: ~10 rounded operations of ½ ulp at |θ| ≤ 2 (ulp 2.4e-7) stay below 2e-6.
        let expected: [Double] = [0.98900000010, -2.0 * 0.999 + 0.01 * 0.3 / (0.3 + 1e-8),
                                  0.5 * 0.999 - 0.01 * 2.0 / (2.0 + 1e-8)]
        for i in 0..<3 { #expect(abs(Double(parameters[i]) - expected[i]) < 2e-6, "θ[\(i)]") }
        #expect(optimizer.stepCount == 1)
        // m = (1 − β₁)·g, v = (1 − β₂)·g²; tolerance 1 ulp-scale relative.
        #expect(abs(Double(optimizer.firstMoment[2]) - 0.1 * 2.0) < 1e-7)
        #expect(abs(Double(optimizer.secondMoment[2]) - 0.05 * 4.0) < 1e-7)
    }

    @Test("three AdamW steps with bias correction match the Double reference")
    func adamWThreeStepsMatchReference() {
        let config = AdamWConfig(learningRate: 0.003, beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1)
        let gradientSequence: [[Float]] = [[0.5, -1.0, 0.01, 3.0],
                                           [0.2, 0.4, -0.02, 2.0],
                                           [-0.1, 0.3, 0.03, -1.0]]
        let start: [Float] = [0.3, -0.7, 1.5, 0.0]
        let rates: [Float] = [0.001, 0.003, 0.002]   // a schedule passes a new rate each step
        var parameters = start
        var optimizer = AdamW(parameterCount: 4, config: config)
        for (gradients, rate) in zip(gradientSequence, rates) {
            optimizer.step(parameters: &parameters, gradients: gradients, learningRate: rate, decayMask: .all)
        }
        for i in 0..<4 {
            // The reference with per-step rates, written out (lr changes each step).
            var theta = Double(start[i]), m = 0.0, v = 0.0
            for step in 0..<3 {
                let g = Double(gradientSequence[step][i]), lr = Double(rates[step]), t = Double(step + 1)
                theta *= 1 - lr * 0.1
                m = 0.9 * m + 0.1 * g
                v = 0.95 * v + 0.05 * g * g
                theta -= lr * (m / (1 - pow(0.9, t))) / ((v / (1 - pow(0.95, t))).squareRoot() + 1e-8)
            }
            // Float32 state over 3 steps: errors of a few ulps of |θ| ≤ 1.5 (ulp 1.2e-7); 1e-6 leaves margin.
            #expect(abs(Double(parameters[i]) - theta) < 1e-6, "θ[\(i)] = \(parameters[i]), reference \(theta)")
        }
    }

    @Test("weight decay is skipped where the mask says so (ranges and per-element flags agree)")
    func weightDecayMask() {
        let config = AdamWConfig(learningRate: 0.01, weightDecay: 0.5)
        let start: [Float] = [1, 2, 3, 4, 5, 6]
        let gradients: [Float] = [0.1, 0.2, -0.3, 0.4, -0.5, 0.6]
        func run(_ mask: WeightDecayMask) -> [Float] {
            var optimizer = AdamW(parameterCount: 6, config: config)
            var parameters = start
            optimizer.step(parameters: &parameters, gradients: gradients, learningRate: 0.01, decayMask: mask)
            return parameters
        }
        let ranged = run(.ranges([4..<6, 0..<2, 1..<2]))   // unsorted and overlapping on purpose
        let flagged = run(.elements([true, true, false, false, true, true]))
        #expect(ranged == flagged)
        for i in 0..<6 {
            let decayed = [0, 1, 4, 5].contains(i)
            let expected = referenceAdamW(theta: Double(start[i]), gradients: [Double(gradients[i])],
                                          learningRate: 0.01, beta1: 0.9, beta2: 0.95, epsilon: 1e-8,
                                          weightDecay: decayed ? 0.5 : 0)
            // Same Float tolerance argument as the one-step test, |θ| ≤ 6 (ulp 4.8e-7).
            #expect(abs(Double(ranged[i]) - expected) < 4e-6, "θ[\(i)] decayed: \(decayed)")
        }
        // Undecayed elements move by exactly the Adam step, lr·sign(g) at step 1.
        #expect(abs(Double(ranged[2]) - (3 + 0.01)) < 4e-6)
        #expect(run(.none)[0] != run(.all)[0])
        #expect(run(.all) == run(.ranges([0..<6])))
    }

    @Test("AdamW minimises Σ(x_i − c_i)² to within 1e-3 in 600 steps")
    func adamWMinimisesQuadratic() {
        let target: [Float] = [1, -2, 3, 0.5, -0.25, 0]
        var x = [Float](repeating: 0, count: target.count)
        // Weight decay off: with λ > 0 the minimiser of the decayed objective is not c.
        var optimizer = AdamW(parameterCount: x.count, config: AdamWConfig(learningRate: 0.1, weightDecay: 0))
        let schedule = LearningRateSchedule(peak: 0.1, warmupSteps: 10, totalSteps: 600, minimumFraction: 0.001)
        for step in 0..<600 {
            let gradients = zip(x, target).map { 2 * ($0 - $1) }   // ∇f = 2(x − c)
            optimizer.step(parameters: &x, gradients: gradients,
                           learningRate: schedule.rate(atStep: step), decayMask: .none)
        }
        // Reaches ~4e-7 here (deterministic: no random draws); 1e-3 is the stated goal.
        for i in x.indices { #expect(abs(x[i] - target[i]) < 1e-3, "x[\(i)] = \(x[i]), c = \(target[i])") }
    }
}

@Suite("LearningRateSchedule")
struct ScheduleTests {
    // peak 1e-3, warm-up 100, total 1100, floor 10 %: the cosine runs over 1000 steps.
    let schedule = LearningRateSchedule(peak: 1e-3, warmupSteps: 100, totalSteps: 1100)

    /// Relative tolerance 1e-6: the rate is computed in Double and rounded once to Float (½ ulp ≈ 6e-8).
    private func close(_ value: Float, _ expected: Double) -> Bool {
        abs(Double(value) - expected) <= 1e-6 * abs(expected) + 1e-12
    }

    @Test("warm-up: 0 at step 0, half at step 50, peak at the end of warm-up")
    func warmUp() {
        #expect(schedule.rate(atStep: 0) == 0)
        #expect(close(schedule.rate(atStep: 50), 5e-4))
        #expect(close(schedule.rate(atStep: 100), 1e-3))
    }

    @Test("cosine: (1 + 0.1)/2 · peak at the midpoint, quarter point by hand, floor at and after the end")
    func cosineDecay() {
        #expect(close(schedule.rate(atStep: 600), 0.55e-3))
        // step 350: progress ¼, ½(1 + cos(π/4)) = 0.853553390593; 1e-4 + 9e-4 · that.
        #expect(close(schedule.rate(atStep: 350), 1e-4 + 9e-4 * 0.853553390593))
        #expect(close(schedule.rate(atStep: 1100), 1e-4))
        #expect(close(schedule.rate(atStep: 5000), 1e-4))
        // Monotone non-increasing after warm-up.
        let rates = (100...1100).map { schedule.rate(atStep: $0) }
        #expect(zip(rates, rates.dropFirst()).allSatisfy { $0 >= $1 })
    }

    @Test("no warm-up starts at the peak")
    func noWarmUp() {
        let flat = LearningRateSchedule(peak: 2e-3, warmupSteps: 0, totalSteps: 10, minimumFraction: 0)
        #expect(flat.rate(atStep: 0) == 2e-3)
        #expect(close(flat.rate(atStep: 5), 1e-3))
        #expect(flat.rate(atStep: 10) == 0)
    }
}

@Suite("GradientClipping")
struct ClippingTests {
    @Test("a large gradient is scaled to exactly maxNorm and its norm before clipping is returned")
    func clipsLargeGradients() {
        var gradients: [Float] = [3, 4]   // norm 5
        let norm = GradientClipping.clipGlobalNorm(&gradients, maxNorm: 1)
        #expect(norm == 5)
        // 0.6 and 0.8 are one rounding of 3·0.2 and 4·0.2 away: 1 ulp tolerance.
        #expect(abs(gradients[0] - 0.6) <= Float(0.6).ulp && abs(gradients[1] - 0.8) <= Float(0.8).ulp)

        var many = (0..<1000).map { Float(sin(Double($0))) * 10 }
        let before = GradientClipping.clipGlobalNorm(&many, maxNorm: 2.5)
        let after = many.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        #expect(before > 2.5)
        // Each element is rounded once after scaling (relative ½ ulp = 6e-8), so the norm is within 1e-6 relative.
        #expect(abs(after - 2.5) < 2.5e-6)
    }

    @Test("a gradient below maxNorm is left bit-for-bit alone")
    func leavesSmallGradients() {
        let original: [Float] = [0.3, -0.4, 0]
        var gradients = original
        let norm = GradientClipping.clipGlobalNorm(&gradients, maxNorm: 1)
        #expect(gradients == original)
        #expect(abs(norm - 0.5) < 1e-7)
    }

    @Test("a non-finite gradient is reported and not scaled")
    func nonFinite() {
        var gradients: [Float] = [1, .infinity, 2]
        let norm = GradientClipping.clipGlobalNorm(&gradients, maxNorm: 1)
        #expect(!norm.isFinite)
        #expect(gradients[0] == 1 && gradients[2] == 2)
    }
}
