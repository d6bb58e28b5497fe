// Masked-input MTP, linear decoding: one mask block, after the last chain node.

import Analytic
import Decoding
import Foundation
import Transformer

extension MethodDescriptor {
    static let maskedMTPLinear = MethodDescriptor(
        name: "masked-mtp-linear", title: "masked-input MTP (linear)",
        summary: "one mask block after the last chain node drafts the next round if every draft was accepted; after a rejection the bonus token is verified alone with a fresh block",
        source: "Samragh et al. 2025, Your LLM knows the future (linear decoding)",
        drafter: .trained(kinds: ["masked-mtp"], what: "mask tokens and adapter from 'speclab train-drafter --kind masked-mtp'"),
        verifier: .chainRejection, tree: .layout,
        lossless: .lossless("real rows never see mask rows, so the target's outputs are unchanged; the chain is verified with V1/V2"),
        engine: .workload { _ in
            DraftMethod(name: "masked-mtp-linear", drafter: .maskSampler, schedule: .autoregressive, rows: .maskedLinear)
        },
        options: [.unverifiedChain, .typicalAcceptance],
        rows: { gamma, _ in 2 * gamma + 1 },
        build: { try DrafterLoading.maskedMTP($0, mode: .linear) })
}
