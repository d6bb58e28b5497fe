// Medusa-2: heads on the target's feature, verified as a sparse tree.

import Analytic
import Decoding
import Foundation
import Transformer

extension MethodDescriptor {
    static let medusa2 = MethodDescriptor(
        name: "medusa2", aliases: [], title: "Medusa-2",
        summary: "Medusa heads trained with the target jointly (the target's weights change) fill a sparse tree",
        source: "Cai et al. 2024, Medusa (Medusa-2: heads and target trained jointly)",
        drafter: .trained(kinds: ["medusa"], what: "heads from 'speclab train-drafter --kind medusa'"),
        verifier: .deterministic, tree: .sparse,
        lossless: .lossless("deterministic candidates checked by V1/V3 (lossy only with --typical, V5)"),
        engine: .workload { _ in .medusa },
        rows: { _, tree in tree.size + 1 },
        build: { context in try DrafterLoading.medusa(context, conditioned: false) })
}
