// Lookahead decoding: a Jacobi window and an n-gram pool.

import Analytic
import Decoding
import Foundation
import Transformer

extension MethodDescriptor {
    /// The reference model's lookahead: N = 3 and G = W = the draft length (the CPU settings Fu et al.
    /// suggest), one Jacobi level per forward (its simplification: `LookaheadDrafter`).
    static let lookaheadReference = LookaheadShape(ngram: 3, levels: 1)

    static let lookahead = MethodDescriptor(
        name: "lookahead", title: "lookahead decoding",
        summary: "a Jacobi window of W = γ guesses plus G = W pool n-grams of N − 1 tokens verified in one forward (the engine: N − 1 window levels per forward as in the paper, N = 5 unless --lookahead-ngram; the reference model: one level, N = 3)",
        source: "Fu et al. 2024, lookahead decoding",
        verifier: .deterministic, tree: .layout,
        lossless: .lossless("every candidate is checked by the target (V1/V3)"),
        engine: .workload { options in
            let own = options.implementation == .referenceModel ? lookaheadReference : LookaheadShape.paper
            return DraftMethod(name: "lookahead", rows: .lookahead(options.lookahead ?? own))
        },
        rows: { gamma, _ in lookaheadReference.rows(window: gamma) },
        build: { context in
            .speculation {
                LookaheadDrafter(target: context.target, window: context.draftLength, ngram: lookaheadReference.ngram,
                                 candidates: context.draftLength)
            }
        })
}
