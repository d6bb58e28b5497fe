// Multi-token joint decoding: the target's own beam over blocks.

import Analytic
import Decoding
import Foundation
import Transformer

extension MethodDescriptor {
    static let mtjd = MethodDescriptor(
        name: "mtjd", title: "MTJD",
        summary: "the target's own beam (width W) picks a block of γ tokens by joint likelihood; kept unchecked",
        source: "Qin et al. 2025, multi-token joint decoding (MTJD)",
        verifier: .none,
        lossless: .lossy("the block maximises the joint likelihood, which is not token-by-token greedy or sampling"),
        engine: .workload { options in
            DraftMethod(name: "mtjd", drafter: .target, schedule: .extendThenDepths, beamWidth: options.beamWidth, verified: false)
        },
        options: [.beamWidth], ownAcceptance: .unverified,
        build: { context in
            // The beam's forwards run the target's weights: they count as target forwards.
            .speculation {
                BeamDrafter(model: InferenceModel(network: context.target.network), draftLength: context.draftLength,
                            width: context.beamWidth, capacity: context.config.contextLength, isTarget: true)
            }
        })
}
