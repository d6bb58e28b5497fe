// Prompt lookup: n-gram drafting from the context.

import Analytic
import Decoding
import Foundation
import Transformer

extension MethodDescriptor {
    static let pld = MethodDescriptor(
        name: "pld", title: "prompt lookup",
        summary: "the tokens after the latest earlier match of the last n-gram, found on the host",
        source: "Saxena 2023, prompt lookup decoding",
        verifier: .deterministic, lossless: .lossless("deterministic candidates checked by the target's own sampling (V1/V3)"),
        engine: .workload { _ in .pld }, options: [.unverifiedChain, .typicalAcceptance],
        build: { context in .speculation { PromptLookupDrafter(draftLength: context.draftLength) } })
}
