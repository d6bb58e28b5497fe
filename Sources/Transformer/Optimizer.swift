// Optimizer: AdamW with decoupled weight decay, the warm-up + cosine learning
// rate schedule, and global-norm gradient clipping, for the reference model.
//
// Parameters live in ONE contiguous Float buffer (the model carves named
// tensors out of it) and gradients in a second buffer of the same length, so
// every function here works on flat buffers and knows nothing of layers.
// Depends on the Swift standard library and Foundation (cos) only.

import Foundation

/// Hyper-parameters of AdamW. Defaults are the GPT-3 / nanoGPT choices
/// (β₂ = 0.95 instead of Adam's 0.999, weight decay 0.1).
public struct AdamWConfig: Codable, Sendable, Equatable {
    /// The learning rate used by `AdamW.step(parameters:gradients:decayMask:)`;
    /// a schedule passes its own rate to the other `step` overload instead.
    public var learningRate: Float
    /// Decay rate of the first moment (mean of gradients).
    public var beta1: Float
    /// Decay rate of the second moment (mean of squared gradients).
    public var beta2: Float
    /// Added to √v̂ in the denominator, keeps the step finite where v̂ ≈ 0.
    public var epsilon: Float
    /// Decoupled weight decay λ: each decayed parameter shrinks by lr·λ·θ per step.
    public var weightDecay: Float

    public init(learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.95,
                epsilon: Float = 1e-8, weightDecay: Float = 0.1) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }
}

/// Which parameters weight decay applies to. Matrices (embeddings, projections)
/// are decayed; RMSNorm scales and biases are not (the nanoGPT / GPT-3 practice:
/// decaying a norm scale pulls it towards 0, not towards the identity 1).
public enum WeightDecayMask: Sendable, Equatable {
    /// Every parameter is decayed.
    case all
    /// No parameter is decayed (plain Adam with bias correction).
    case none
    /// Only the elements inside these ranges of the flat parameter buffer are
    /// decayed; ranges may come in any order and may overlap.
    case ranges([Range<Int>])
    /// One flag per parameter: `true` = decayed. Its count must equal the
    /// parameter count.
    case elements([Bool])
}

/// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization",
/// ICLR 2019, Algorithm 2), in the form of PyTorch's `torch.optim.AdamW`
/// (decay scaled by the current learning rate, bias-corrected moments):
///
///     θ ← θ − lr·λ·θ                       (decayed elements only, applied first)
///     m ← β₁·m + (1 − β₁)·g
///     v ← β₂·v + (1 − β₂)·g²
///     m̂ = m / (1 − β₁ᵗ),   v̂ = v / (1 − β₂ᵗ)   (t = steps taken, from 1)
///     θ ← θ − lr · m̂ / (√v̂ + ε)
///
/// The moments are Float buffers as long as the parameters; the bias
/// corrections are computed in Double. No allocation per step.
public struct AdamW: Sendable {
    public var config: AdamWConfig
    /// m, the exponential moving average of gradients (one per parameter).
    public private(set) var firstMoment: [Float]
    /// v, the exponential moving average of squared gradients.
    public private(set) var secondMoment: [Float]
    /// Number of `step` calls so far (t in the bias corrections).
    public private(set) var stepCount: Int

    /// A fresh optimizer for `parameterCount` parameters: zero moments, step 0.
    public init(parameterCount: Int, config: AdamWConfig) {
        precondition(parameterCount >= 0, "AdamW: parameterCount \(parameterCount) is negative")
        self.config = config
        self.firstMoment = [Float](repeating: 0, count: parameterCount)
        self.secondMoment = [Float](repeating: 0, count: parameterCount)
        self.stepCount = 0
    }

    /// Resumes from saved state (e.g. moments stored in a checkpoint).
    public init(config: AdamWConfig, firstMoment: [Float], secondMoment: [Float], stepCount: Int) {
        precondition(firstMoment.count == secondMoment.count,
                     "AdamW: firstMoment has \(firstMoment.count) values, secondMoment \(secondMoment.count)")
        precondition(stepCount >= 0, "AdamW: stepCount \(stepCount) is negative")
        self.config = config
        self.firstMoment = firstMoment
        self.secondMoment = secondMoment
        self.stepCount = stepCount
    }

    /// Number of parameters this optimizer was built for.
    public var parameterCount: Int { firstMoment.count }

    /// One AdamW update of `parameters` in place from `gradients`, at
    /// `learningRate` (e.g. `LearningRateSchedule.rate(atStep:)`), decaying
    /// only where `decayMask` says so.
    public mutating func step(parameters: UnsafeMutableBufferPointer<Float>,
                              gradients: UnsafeBufferPointer<Float>,
                              learningRate: Float,
                              decayMask: WeightDecayMask) {
        let count = parameterCount
        precondition(parameters.count == count,
                     "AdamW.step: \(parameters.count) parameters, optimizer built for \(count)")
        precondition(gradients.count == count,
                     "AdamW.step: \(gradients.count) gradients for \(count) parameters")
        stepCount += 1
        let t = Double(stepCount)
        let config = self.config
        let kernel = Kernel(
            beta1: config.beta1, beta2: config.beta2, epsilon: config.epsilon,
            stepSize: Float(Double(learningRate) / (1 - pow(Double(config.beta1), t))),
            inverseSqrtCorrection2: Float(1 / (1 - pow(Double(config.beta2), t)).squareRoot()),
            decayFactor: 1 - learningRate * config.weightDecay)
        guard count > 0, let theta = parameters.baseAddress, let g = gradients.baseAddress else { return }

        firstMoment.withUnsafeMutableBufferPointer { mBuffer in
            secondMoment.withUnsafeMutableBufferPointer { vBuffer in
                let m = mBuffer.baseAddress!, v = vBuffer.baseAddress!
                switch decayMask {
                case .all:
                    kernel.update(theta, g, m, v, 0..<count, decay: true)
                case .none:
                    kernel.update(theta, g, m, v, 0..<count, decay: false)
                case .ranges(let ranges):
                    var start = 0
                    for range in AdamW.merged(ranges, count: count) {
                        kernel.update(theta, g, m, v, start..<range.lowerBound, decay: false)
                        kernel.update(theta, g, m, v, range, decay: true)
                        start = range.upperBound
                    }
                    kernel.update(theta, g, m, v, start..<count, decay: false)
                case .elements(let flags):
                    precondition(flags.count == count,
                                 "AdamW.step: decay mask has \(flags.count) flags for \(count) parameters")
                    var start = 0
                    while start < count {   // runs of equal flags
                        var end = start + 1
                        while end < count && flags[end] == flags[start] { end += 1 }
                        kernel.update(theta, g, m, v, start..<end, decay: flags[start])
                        start = end
                    }
                }
            }
        }
    }

    /// As above, at `config.learningRate`.
    public mutating func step(parameters: UnsafeMutableBufferPointer<Float>,
                              gradients: UnsafeBufferPointer<Float>,
                              decayMask: WeightDecayMask) {
        step(parameters: parameters, gradients: gradients,
             learningRate: config.learningRate, decayMask: decayMask)
    }

    /// Convenience for arrays (tests, small models).
    public mutating func step(parameters: inout [Float], gradients: [Float],
                              learningRate: Float, decayMask: WeightDecayMask) {
        parameters.withUnsafeMutableBufferPointer { p in
            gradients.withUnsafeBufferPointer { g in
                step(parameters: p, gradients: g, learningRate: learningRate, decayMask: decayMask)
            }
        }
    }

    /// Sorted, non-overlapping ranges clamped to 0..<count.
    static func merged(_ ranges: [Range<Int>], count: Int) -> [Range<Int>] {
        for range in ranges {
            precondition(range.lowerBound >= 0 && range.upperBound <= count,
                         "AdamW.step: decay range \(range) outside the \(count) parameters")
        }
        var result: [Range<Int>] = []
        for range in ranges.filter({ !$0.isEmpty }).sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = result.last, range.lowerBound <= last.upperBound {
                result[result.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                result.append(range)
            }
        }
        return result
    }

    /// The per-element update with this step's constants folded in.
    private struct Kernel {
        let beta1: Float, beta2: Float, epsilon: Float
        let stepSize: Float                // lr / (1 − β₁ᵗ)
        let inverseSqrtCorrection2: Float  // 1 / √(1 − β₂ᵗ), so √v̂ = √v · this
        let decayFactor: Float             // 1 − lr·λ

        @inline(__always)
        func update(_ theta: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>,
                    _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>,
                    _ range: Range<Int>, decay: Bool) {
            let oneMinusBeta1 = 1 - beta1, oneMinusBeta2 = 1 - beta2
            let factor: Float = decay ? decayFactor : 1
            for i in range {
                let gradient = g[i]
                let mi = beta1 * m[i] + oneMinusBeta1 * gradient
                let vi = beta2 * v[i] + oneMinusBeta2 * gradient * gradient
                m[i] = mi
                v[i] = vi
                let denominator = vi.squareRoot() * inverseSqrtCorrection2 + epsilon
                theta[i] = theta[i] * factor - stepSize * mi / denominator
            }
        }
    }
}

/// Linear warm-up from 0 to `peak` over `warmupSteps`, then a half-cosine
/// decay to `minimumFraction · peak` at `totalSteps`, constant after that.
///
/// The cosine shape is SGDR's annealing (Loshchilov & Hutter, "SGDR: Stochastic
/// Gradient Descent with Warm Restarts", ICLR 2017, Eq. 5) without restarts;
/// warm-up plus decay to 10 % of the peak is GPT-3's recipe (Brown et al.,
/// "Language Models are Few-Shot Learners", 2020, Appendix B), also nanoGPT's.
///
///     rate(s) = peak · s / W                                    0 ≤ s < W
///     rate(s) = min + (peak − min) · ½(1 + cos(π (s − W)/(N − W)))   W ≤ s ≤ N
///     rate(s) = min                                             s > N
///
/// with min = minimumFraction · peak, W = warmupSteps, N = totalSteps. Steps
/// count from 0, so the first update runs at rate 0 (as Hugging Face's
/// `get_cosine_schedule_with_warmup`); it still fills Adam's moments.
public struct LearningRateSchedule: Codable, Sendable, Equatable {
    public var peak: Float
    public var warmupSteps: Int
    public var totalSteps: Int
    public var minimumFraction: Float

    public init(peak: Float, warmupSteps: Int, totalSteps: Int, minimumFraction: Float = 0.1) {
        precondition(peak >= 0 && peak.isFinite, "LearningRateSchedule: peak \(peak) must be finite and ≥ 0")
        precondition(warmupSteps >= 0, "LearningRateSchedule: warmupSteps \(warmupSteps) is negative")
        precondition(totalSteps >= warmupSteps,
                     "LearningRateSchedule: totalSteps \(totalSteps) < warmupSteps \(warmupSteps)")
        precondition((0...1).contains(minimumFraction),
                     "LearningRateSchedule: minimumFraction \(minimumFraction) not in 0...1")
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.minimumFraction = minimumFraction
    }

    /// The learning rate for update number `step` (0-based).
    public func rate(atStep step: Int) -> Float {
        let peak = Double(self.peak)
        let minimum = Double(minimumFraction) * peak
        if step < warmupSteps {
            return Float(peak * Double(max(step, 0)) / Double(warmupSteps))
        }
        if step >= totalSteps { return Float(minimum) }
        let progress = Double(step - warmupSteps) / Double(totalSteps - warmupSteps)
        return Float(minimum + (peak - minimum) * 0.5 * (1 + cos(Double.pi * progress)))
    }
}

/// Gradient clipping by the global L2 norm over all parameters (Pascanu,
/// Mikolov & Bengio, "On the difficulty of training recurrent neural
/// networks", ICML 2013, Algorithm 1; PyTorch's `clip_grad_norm_` without its
/// 1e-6 guard, so a clipped gradient has norm maxNorm up to Float rounding).
public enum GradientClipping {
    /// Scales `gradients` by maxNorm / ‖g‖₂ when ‖g‖₂ > maxNorm and returns
    /// ‖g‖₂ before clipping (accumulated in Double). A non-finite norm
    /// (an inf or NaN gradient) is returned with the gradients untouched, so
    /// the caller can skip the step and report it.
    @discardableResult
    public static func clipGlobalNorm(_ gradients: UnsafeMutableBufferPointer<Float>, maxNorm: Float) -> Float {
        precondition(maxNorm > 0, "GradientClipping.clipGlobalNorm: maxNorm \(maxNorm) must be > 0")
        var sumOfSquares = 0.0
        for value in gradients {
            let wide = Double(value)
            sumOfSquares += wide * wide
        }
        let norm = sumOfSquares.squareRoot()
        guard norm.isFinite else { return Float(norm) }
        if norm > Double(maxNorm) {
            let scale = Float(Double(maxNorm) / norm)
            for i in gradients.indices { gradients[i] *= scale }
        }
        return Float(norm)
    }

    /// As above, for an array.
    @discardableResult
    public static func clipGlobalNorm(_ gradients: inout [Float], maxNorm: Float) -> Float {
        gradients.withUnsafeMutableBufferPointer { clipGlobalNorm($0, maxNorm: maxNorm) }
    }
}
