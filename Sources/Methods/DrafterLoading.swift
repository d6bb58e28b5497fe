// Loaders that several methods share (a draft-model checkpoint, MTP heads,
// MTP modules, Medusa/Hydra heads): one place checks each drafter file against the target.

import Analytic
import Decoding
import Foundation
import Transformer

enum DrafterLoading {
    /// A draft model's checkpoint in --drafter, with the target's vocabulary.
    static func draftModel(_ context: DrafterContext) throws -> Network<Float> {
        let directory = try context.drafterDirectory()
        let network = try Checkpoint.load(from: directory)
        guard network.config.vocab == context.config.vocab else {
            throw ModelError("the drafter at '\(directory.path)' has a vocabulary of \(network.config.vocab), the target \(context.config.vocab)")
        }
        return network
    }

    /// Parallel MTP heads in --drafter (or in `directory`, already checked against the target).
    static func parallelHeads(_ context: DrafterContext, in directory: URL? = nil) throws -> ParallelHeads {
        let directory = try directory ?? context.drafterDirectory()
        let heads = try ParallelHeads.load(from: directory, target: context.config)
        try context.requireDraftLength(atMost: heads.extraHeads, "extra heads", at: directory)
        return heads
    }

    /// The parallel heads drafting a chain, stopped on their confidence as the context asks.
    static func parallelHeadsPlan(_ context: DrafterContext, in directory: URL? = nil) throws -> DecodingPlan {
        let heads = try parallelHeads(context, in: directory)
        return .speculation {
            ParallelHeadsDrafter(heads: heads, target: context.target, draftLength: context.draftLength, stopping: context.stopping)
        }
    }

    /// Sequential MTP modules drafting a chain, stopped on their confidence as the context asks.
    static func sequentialModulesPlan(_ context: DrafterContext, in directory: URL? = nil) throws -> DecodingPlan {
        let directory = try directory ?? context.drafterDirectory()
        let modules = try SequentialModules.load(from: directory, target: context.config)
        try context.requireDraftLength(atMost: modules.depth, "modules", at: directory)
        return .speculation {
            SequentialMTPDrafter(modules: modules, target: context.target, draftLength: context.draftLength, stopping: context.stopping)
        }
    }

    /// Medusa (or, `conditioned`, Hydra) heads filling the sparse tree of --tree-size nodes.
    static func medusa(_ context: DrafterContext, conditioned: Bool) throws -> DecodingPlan {
        let directory = try context.drafterDirectory()
        let heads = try MedusaHeads.load(from: directory, target: context.config, conditioned: conditioned)
        let choices = heads.sparseTree(size: context.tree.size)
        guard (choices.map(\.count).max() ?? 0) <= heads.heads else {
            throw ModelError("the sparse tree needs more than the \(heads.heads) heads at '\(directory.path)'")
        }
        return .speculation { MedusaDrafter(heads: heads, target: context.target, choices: choices) }
    }

    /// An EAGLE drafter (`fused`: EAGLE-3's) drafting the tree of `policy`, reported under `name`.
    static func eagle(_ context: DrafterContext, policy: TreePolicy, fused: Bool, name: String) throws -> DecodingPlan {
        let directory = try context.drafterDirectory()
        let weights: FeatureDrafter = fused ? try Eagle3Weights.load(from: directory, target: context.config)
                                            : try EagleWeights.load(from: directory, target: context.config)
        let shape = try context.tree.tree(policy, draftLength: context.draftLength)
        return .speculation { EagleDrafter(weights: weights, target: context.target, tree: shape, name: name) }
    }

    /// Masked-input MTP's mask tokens, adapter and sampler, decoding in `mode`.
    static func maskedMTP(_ context: DrafterContext, mode: MaskedDecoding) throws -> DecodingPlan {
        let directory = try context.drafterDirectory()
        let weights = try MaskedMTP.load(from: directory, target: context.config)
        try context.requireDraftLength(atMost: weights.masks, "mask tokens", at: directory)
        return .speculation {
            MaskedMTPDrafter(weights: weights, target: context.target, draftLength: context.draftLength, mode: mode)
        }
    }
}
