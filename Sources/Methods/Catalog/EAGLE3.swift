// EAGLE-3: feature-level drafting of a token tree.

import Analytic
import Decoding
import Foundation
import Transformer

extension MethodDescriptor {
    static let eagle3 = MethodDescriptor(
        name: "eagle3", title: "EAGLE-3",
        summary: "a drafter fusing three target layers, trained on its own outputs, drafts a static or dynamic tree",
        source: "Li et al. 2025, EAGLE-3",
        drafter: .trained(kinds: ["eagle3"], what: "a drafter from 'speclab train-drafter --kind eagle3'"),
        verifier: .treeRejection, tree: .staticOrDynamic,
        lossless: .lossless("the sampled tree is verified with V4 (V2 on a chain), greedy with V1"),
        engine: .workload { _ in .eagle3 },
        rows: { gamma, tree in try tree.tree(.staticOrDynamic, draftLength: gamma).nodes + 1 },
        build: { try DrafterLoading.eagle($0, policy: .staticOrDynamic, fused: true, name: "eagle3") })
}
