// Medusa-2: heads on the target's feature, verified as a sparse tree.

import Analytic
import Decoding
import Foundation
import Transformer

extension MethodDescriptor {
    /// The same heads and sparse tree as Medusa-1; only their training differs (the target is fine-tuned with them).
    static let medusa2 = medusa1.variant(
        name: "medusa2", title: "Medusa-2",
        summary: "Medusa heads trained with the target jointly (the target's weights change) fill a sparse tree",
        source: "Cai et al. 2024, Medusa (Medusa-2: heads and target trained jointly)")
}
