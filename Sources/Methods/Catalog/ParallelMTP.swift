// Multi-token prediction with parallel heads on a shared trunk.

import Analytic
import Decoding
import Foundation
import Transformer

extension MethodDescriptor {
    static let mtpParallel = MethodDescriptor(
        name: "mtp-parallel", title: "parallel MTP heads",
        summary: "extra transformer-block heads on the shared trunk predict tokens 2…k+1 in the target's own forward",
        source: "Gloeckle et al. 2024",
        drafter: .trained(kinds: ["mtp-parallel"], what: "heads from 'speclab train-drafter --kind mtp-parallel'"),
        verifier: .chainRejection, lossless: .lossless("the heads' chain is verified with its q (V1/V2)"),
        engine: .workload { _ in .mtpParallel },
        options: [.confidenceThreshold, .cumulativeThreshold, .unverifiedChain, .typicalAcceptance],
        build: { try DrafterLoading.parallelHeadsPlan($0) })
}
