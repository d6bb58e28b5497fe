// Plain next-token decoding: the baseline every speedup divides by.

import Analytic
import Decoding
import Foundation
import Transformer

extension MethodDescriptor {
    static let ntp = MethodDescriptor(
        name: "ntp", title: "plain decoding",
        summary: "one target forward per token; nothing drafted",
        source: "The baseline of every speedup: the speculation cycle at draft length 0",
        verifier: .targetSample, lossless: .lossless("it is the target's own decoding"),
        engine: .workload { _ in .ntp }, options: [], drafts: false,
        rows: { _, _ in 1 },
        build: { _ in .speculation { NoDrafter() } })
}
