// Blockwise parallel decoding: extra heads on the target's last feature.

import Analytic
import Decoding
import Foundation
import Transformer

extension MethodDescriptor {
    static let blockwise = MethodDescriptor(
        name: "blockwise", title: "blockwise parallel decoding",
        summary: "k residual feed-forward heads on the target's feature predict the next k tokens; shared unembedding",
        source: "Stern et al. 2018",
        drafter: .trained(kinds: ["blockwise"], what: "heads from 'speclab train-drafter --kind blockwise'"),
        verifier: .deterministic, lossless: .lossless("the heads' argmax chain is checked by the target (V1/V3)"),
        engine: .workload { _ in .blockwise }, options: [.unverifiedChain, .typicalAcceptance],
        build: { context in
            let directory = try context.drafterDirectory()
            let heads = try BlockwiseHeads.load(from: directory, target: context.config)
            try context.requireDraftLength(atMost: heads.heads, "heads", at: directory)
            return .speculation { BlockwiseDrafter(heads: heads, model: context.target, draftLength: context.draftLength) }
        })
}
