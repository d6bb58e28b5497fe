// Prefix beam search over MTP heads: blocks of tokens without verification.

import Analytic
import Decoding
import Foundation
import Transformer

extension MethodDescriptor {
    static let prefixBeam = MethodDescriptor(
        name: "prefix-beam", title: "prefix beam search",
        summary: "hypotheses extend by blocks of 1…γ+1 tokens from the target and its parallel MTP heads, merged by prefix; no verification",
        source: "Raj et al. 2024, Faster Speech-LLaMA inference with multi-token prediction",
        drafter: .trained(kinds: ["mtp-parallel"], what: "heads from 'speclab train-drafter --kind mtp-parallel'"),
        verifier: .none,
        lossless: .lossy("the output is the beam's best hypothesis under the heads' factorised joint, not the target's"),
        // One forward a step feeds every hypothesis's newest block (τ tokens, from --tau: what the search
        // yields per step) through the target and its parallel heads; W hypotheses, each with its own cache.
        engine: .workload { options in
            DraftMethod(name: "prefix-beam", heads: .parallelMTP, rows: .beamSearch, beamWidth: options.beamWidth)
        },
        options: [.beamWidth], ownAcceptance: .unverified,
        singleSequence: "it runs its own loop over hypotheses, one sequence at a time",
        greedyOnlyReason: "it is a search",
        build: { context in .prefixBeam(try DrafterLoading.parallelHeads(context)) })
}
