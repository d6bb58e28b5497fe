// EAGLE-1: feature-level drafting of a token tree.

import Analytic
import Decoding
import Foundation
import Transformer

extension MethodDescriptor {
    static let eagle1 = MethodDescriptor(
        name: "eagle1", title: "EAGLE-1",
        summary: "a one-layer drafter over the target's feature and the next token drafts a static tree",
        source: "Li et al. 2024, EAGLE",
        drafter: .trained(kinds: ["eagle"], what: "a drafter from 'speclab train-drafter --kind eagle'"),
        verifier: .treeRejection, tree: .staticShape,
        lossless: .lossless("the sampled tree is verified with V4 (V2 on a chain), greedy with V1"),
        engine: .workload { _ in .eagle1 },
        rows: { gamma, tree in try tree.tree(.staticShape, draftLength: gamma).nodes + 1 },
        build: { try DrafterLoading.eagle($0, policy: .staticShape, fused: false, name: "eagle1") })
}
