// Classic speculative sampling with a separate small draft model.

import Analytic
import Decoding
import Foundation
import Transformer

extension MethodDescriptor {
    static let sd = MethodDescriptor(
        name: "sd", title: "draft model",
        summary: "a small model drafts a chain autoregressively from its own KV cache",
        source: "Leviathan et al. 2023; Chen et al. 2023",
        drafter: .trained(kinds: ["draft-model"], what: "a draft model checkpoint: 'speclab train --preset draft --out DIR'"),
        verifier: .chainRejection, lossless: .lossless("rejection sampling against the drafter's q keeps the target's distribution"),
        engine: .workload { _ in .sd }, options: [.confidenceThreshold, .unverifiedChain, .typicalAcceptance],
        build: { context in
            let network = try DrafterLoading.draftModel(context)
            guard network.config.contextLength >= context.config.contextLength else {
                throw ModelError("the drafter's context (\(network.config.contextLength)) is shorter than the target's (\(context.config.contextLength))")
            }
            let threshold = context.stopping.threshold
            return .speculation {
                DraftModelDrafter(model: InferenceModel(network: network), draftLength: context.draftLength,
                                  confidenceThreshold: threshold)
            }
        })
}
