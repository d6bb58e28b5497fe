// EAGLE-2: feature-level drafting of a token tree.

import Analytic
import Decoding
import Foundation
import Transformer

extension MethodDescriptor {
    static let eagle2 = MethodDescriptor(
        name: "eagle2", title: "EAGLE-2",
        summary: "the EAGLE-1 drafter expands a dynamic top-K tree by its confidences",
        source: "Li et al. 2024, EAGLE-2",
        drafter: .trained(kinds: ["eagle"], what: "a drafter from 'speclab train-drafter --kind eagle'"),
        verifier: .treeRejection, tree: .dynamic,
        lossless: .lossless("the sampled tree is verified with V4 (V2 on a chain), greedy with V1"),
        engine: .workload { _ in .eagle2 },
        rows: { gamma, tree in try tree.tree(.dynamic, draftLength: gamma).nodes + 1 },
        build: { try DrafterLoading.eagle($0, policy: .dynamic, fused: false, name: "eagle2") })
}
