// Jacobi decoding: fixed-point iteration over a window of guesses.

import Analytic
import Decoding
import Foundation
import Transformer

extension MethodDescriptor {
    static let jacobi = MethodDescriptor(
        name: "jacobi", title: "Jacobi decoding",
        summary: "a window of W = γ guesses, replaced each round by the target's outputs at them (no n-gram pool)",
        source: "Santilli et al. 2023, parallel Jacobi decoding",
        verifier: .deterministic,
        lossless: .lossless("the window is checked by the target (V1/V3)"),
        engine: .workload { _ in DraftMethod(name: "jacobi") },
        build: { context in
            .speculation { LookaheadDrafter(target: context.target, window: context.draftLength, ngram: 3, candidates: 0) }
        })
}
