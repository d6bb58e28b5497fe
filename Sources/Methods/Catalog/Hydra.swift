// Hydra: sequentially dependent Medusa heads.

import Analytic
import Decoding
import Foundation
import Transformer

extension MethodDescriptor {
    static let hydra = MethodDescriptor(
        name: "hydra", title: "Hydra",
        summary: "Medusa heads that also read the embeddings of the tokens on their path, one head evaluation per depth",
        source: "Ankner et al. 2024, Hydra",
        drafter: .trained(kinds: ["hydra"], what: "heads from 'speclab train-drafter --kind hydra'"),
        verifier: .deterministic, tree: .sparse,
        lossless: .lossless("deterministic candidates checked by V1/V3 (lossy only with --typical, V5)"),
        engine: .workload { _ in
            DraftMethod(name: "hydra", drafter: .hydraHeads, schedule: .depths, rows: .tree(dynamic: false))
        },
        rows: { _, tree in tree.size + 1 },
        build: { context in try DrafterLoading.medusa(context, conditioned: true) })
}
