// Lookahead decoding: a Jacobi window and an n-gram pool.

import Analytic
import Decoding
import Foundation
import Transformer

extension MethodDescriptor {
    /// N = 3 and G = W = the draft length: the CPU settings Fu et al. suggest.
    static let lookaheadNgram = 3

    static let lookahead = MethodDescriptor(
        name: "lookahead", title: "lookahead decoding",
        summary: "a Jacobi window of W = γ guesses plus G = W pool n-grams (N = 3) verified in one forward",
        source: "Fu et al. 2024, lookahead decoding",
        verifier: .deterministic, tree: .layout,
        lossless: .lossless("every candidate is checked by the target (V1/V3)"),
        engine: .workload { _ in DraftMethod(name: "lookahead", rows: .lookahead(ngram: lookaheadNgram)) },
        rows: { gamma, _ in 1 + gamma + gamma * (lookaheadNgram - 1) },
        build: { context in
            .speculation {
                LookaheadDrafter(target: context.target, window: context.draftLength, ngram: lookaheadNgram,
                                 candidates: context.draftLength)
            }
        })
}
