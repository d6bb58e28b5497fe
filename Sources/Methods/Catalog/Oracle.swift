// The oracle drafter: a known acceptance rate, for validation.

import Analytic
import Decoding
import Foundation
import Transformer

extension MethodDescriptor {
    static let oracle = MethodDescriptor(
        name: "oracle", title: "oracle drafter",
        summary: "the target's own greedy continuation, each draft corrupted with probability 1 − α: the i.i.d. model exactly, drafting free",
        source: "a validation instrument (the i.i.d. acceptance model, Leviathan et al. 2023 §3)",
        verifier: .greedyOnly, lossless: .lossless("greedy verification of any chain is exact"),
        engine: .workload { _ in DraftMethod(name: "oracle") },
        options: [.oracleAlpha, .unverifiedChain],
        greedyOnlyReason: "it drafts the greedy continuation",
        build: { context in
            let continuations = context.greedyContinuations(context.maxTokens + context.draftLength + 1)
            return .speculation {
                OracleDrafter(continuations: continuations, draftLength: context.draftLength, alpha: context.oracleAlpha)
            }
        })
}
