// Multi-token prediction with sequential modules (DeepSeek-V3).

import Analytic
import Decoding
import Foundation
import Transformer

extension MethodDescriptor {
    static let mtpSequential = MethodDescriptor(
        name: "mtp-sequential", aliases: ["mtp"], title: "sequential MTP modules",
        summary: "chained modules (projection + one block + shared head), each reading the previous one's feature",
        source: "DeepSeek-AI 2024, DeepSeek-V3 §2.2",
        drafter: .trained(kinds: ["mtp-sequential"], what: "modules from 'speclab train-drafter --kind mtp-sequential'"),
        verifier: .chainRejection, lossless: .lossless("the modules' chain is verified with its q (V1/V2)"),
        engine: .workload { _ in .mtp },
        options: [.confidenceThreshold, .cumulativeThreshold, .unverifiedChain, .typicalAcceptance],
        build: { try DrafterLoading.sequentialModulesPlan($0) })
}
