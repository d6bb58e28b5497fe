// Multi-token assisted decoding: a small model's beam, checked by joint likelihood ratio.

import Analytic
import Decoding
import Foundation
import Transformer

extension MethodDescriptor {
    static let mtad = MethodDescriptor(
        name: "mtad", title: "MTAD",
        summary: "a small auxiliary model's beam (width W) proposes its best joint block; the target keeps the longest prefix whose joint likelihood ratio passes a uniform threshold",
        source: "Qin et al. 2025, multi-token joint decoding (MTAD)",
        drafter: .trained(kinds: ["draft-model"], what: "an auxiliary draft model checkpoint: 'speclab train-drafter --kind draft-model'"),
        verifier: .jointRatio,
        lossless: .greedyOnly("at T = 0 the ratio rule is greedy matching; at T > 0 it targets the joint distribution, not the target's token-wise one"),
        engine: .workload { options in
            DraftMethod(name: "mtad", drafter: .draftModel, schedule: .extendThenDepths, beamWidth: options.beamWidth)
        },
        options: [.beamWidth], ownAcceptance: .jointRatio,
        build: { context in
            let network = try DrafterLoading.draftModel(context)
            return .speculation {
                BeamDrafter(model: InferenceModel(network: network), draftLength: context.draftLength, width: context.beamWidth,
                            capacity: context.config.contextLength)
            }
        })
}
