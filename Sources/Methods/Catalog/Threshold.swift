// Threshold (adaptive-length) multi-token generation over MTP heads or modules.

import Analytic
import Decoding
import Foundation
import Transformer

extension MethodDescriptor {
    static let threshold = MethodDescriptor(
        name: "threshold", title: "threshold MTP generation",
        summary: "MTP heads or modules draft while their confidence (per token or cumulative) stays above --draft-threshold",
        source: "llama.cpp's draft p_min; Raj et al. 2024 (speech-LLM MTP decoding)",
        drafter: .trained(kinds: ["mtp-parallel", "mtp-sequential"],
                          what: "heads from 'speclab train-drafter --kind mtp-parallel' or 'mtp-sequential'"),
        verifier: .chainRejection, lossless: .lossless("a stopping rule that reads only the drafter leaves verification exact"),
        // The parallel heads' workload; the draft length comes from the acceptance model: a threshold
        // acceptance file (the drafter's confidence histogram, the policy and θ) gives τ and the drafts per
        // round. For sequential modules: --method mtp-sequential with the same file.
        engine: .workload { _ in DraftMethod(name: "threshold", heads: .parallelMTP) },
        options: [.confidenceThreshold, .cumulativeThreshold, .unverifiedChain, .typicalAcceptance],
        build: { context in
            let directory = try context.drafterDirectory()
            // Whichever MTP drafter the directory holds.
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent(SequentialModules.fileName).path) {
                return try DrafterLoading.sequentialModulesPlan(context, in: directory)
            }
            return try DrafterLoading.parallelHeadsPlan(context, in: directory)
        })
}
