// Gated LoRA and mask tokens (Samragh et al. 2025, "Your LLM knows the future";
// ALGORITHMS.md §8): k input-only mask embeddings (token ids vocab … vocab + k − 1)
// and a low-rank adapter on every linear map of every block that acts only on
// mask rows: W x + g · (α/r) · B A x, g = 1 on mask rows, 0 on real rows. B starts
// at zero. Real rows never attend to mask rows, so with the adapter present a
// real row computes exactly what the plain model computes.

import Foundation
import LinAlg

public final class GatedLoRA: @unchecked Sendable {
    public let config: ModelConfig
    public let rank: Int
    public let alpha: Float
    /// Mask tokens k.
    public let masks: Int
    public let parameters: ParameterSet
    /// Per layer, per map (wq, wk, wv, wo, w1, w3, w2): offsets of A (r, in) and B (out, r).
    let a: [[Int]], b: [[Int]]
    /// The mask embeddings (k, d).
    public let maskEmbedding: Int

    public var scale: Float { alpha / Float(rank) }

    /// (in, out) of map i.
    static func shape(_ i: Int, _ config: ModelConfig) -> (inFeatures: Int, outFeatures: Int) {
        let d = config.width, kv = config.kvWidth, f = config.ffnHidden
        return [(d, d), (d, kv), (d, kv), (d, d), (d, f), (d, f), (f, d)][i]
    }

    static let maps = ["wq", "wk", "wv", "wo", "w1", "w3", "w2"]

    public init(config: ModelConfig, rank: Int, alpha: Float? = nil, masks: Int) {
        precondition(rank >= 1 && masks >= 1, "gated LoRA needs rank >= 1 and at least one mask token")
        self.config = config
        self.rank = rank
        self.alpha = alpha ?? Float(2 * rank)
        self.masks = masks
        var layout = ParameterLayout()
        var a: [[Int]] = [], b: [[Int]] = []
        for l in 0..<config.layers {
            var la: [Int] = [], lb: [Int] = []
            for (i, name) in Self.maps.enumerated() {
                let (c, oc) = Self.shape(i, config)
                la.append(layout.add("layers.\(l).\(name).lora_a", [rank, c]))
                lb.append(layout.add("layers.\(l).\(name).lora_b", [oc, rank]))
            }
            a.append(la); b.append(lb)
        }
        self.a = a
        self.b = b
        maskEmbedding = layout.add("mask_embedding", [masks, config.width])
        parameters = ParameterSet(layout: layout)
    }

    /// A ~ N(0, 1/in) (LoRA's choice up to the distribution), B = 0 (the adapter starts as nothing),
    /// mask embeddings ~ N(0, 0.02).
    public func initialize(seed: UInt64) {
        parameters.initialize(seed: seed)
        let rng = RandomSource(seed: seed &+ 17)
        for l in 0..<config.layers {
            for i in 0..<Self.maps.count {
                let (c, oc) = Self.shape(i, config)
                let pa = parameters.pointer(a[l][i])
                for j in 0..<(rank * c) { pa[j] = Float(rng.normal(mean: 0, standardDeviation: 1 / Double(c).squareRoot())) }
                parameters.pointer(b[l][i]).update(repeating: 0, count: oc * rank)
            }
        }
    }

    /// Layer l's adapter with per-row gates (1 = mask row); `frozen` leaves the gradients alone.
    public func adapter(layer l: Int, gate: UnsafePointer<Float>, frozen: Bool) -> BlockAdapter<Float> {
        BlockAdapter(parameters: parameters.parameters.baseAddress!, gradients: frozen ? nil : parameters.gradients.baseAddress!,
                     a: a[l], b: b[l], rank: rank, scale: scale, gate: gate)
    }

    /// The embedding row of mask token j (0-based).
    public func maskRow(_ j: Int) -> UnsafeMutablePointer<Float> { parameters.pointer(maskEmbedding + j * config.width) }
}
