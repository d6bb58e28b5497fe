// Transformer: the reference model of SpecLab — a small byte-level
// decoder-only transformer on GSL + OpenBLAS (via LinAlg) that is trained
// here and actually decodes: KV cache, tree-masked multi-token forward,
// hand-written backward, AdamW, safetensors checkpoints, corpora.
//
// Depends on LinAlg (and Foundation) only; never on Analytic, Charts or the CLI.

import Foundation
import LinAlg
