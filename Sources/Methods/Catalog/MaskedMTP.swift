// Masked-input multi-token prediction: the target drafts for itself through mask tokens.

import Analytic
import Decoding
import Foundation
import Transformer

extension MethodDescriptor {
    static let maskedMTP = MethodDescriptor(
        name: "masked-mtp", title: "masked-input MTP (quadratic)",
        summary: "mask tokens after every chain node run beside the verify (gated LoRA); a sampler head drafts from them",
        source: "Samragh et al. 2025, Your LLM knows the future",
        drafter: .trained(kinds: ["masked-mtp"], what: "mask tokens and adapter from 'speclab train-drafter --kind masked-mtp'"),
        verifier: .chainRejection, tree: .layout,
        lossless: .lossless("real rows never see mask rows, so the target's outputs are unchanged; the chain is verified with V1/V2"),
        engine: .workload { _ in
            DraftMethod(name: "masked-mtp", drafter: .maskSampler, schedule: .autoregressive, rows: .maskedQuadratic)
        },
        options: [.unverifiedChain, .typicalAcceptance],
        rows: { gamma, _ in (gamma + 1) * (gamma + 1) },
        build: { try DrafterLoading.maskedMTP($0, mode: .quadratic) })
}
