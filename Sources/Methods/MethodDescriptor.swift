// A decoding method as one value: what it is called, what drafts for it and
// how that drafter is built, how its drafts are checked, its tree, whether it
// is lossless and why, and what the analytic engine prices of it. Every path
// that names a method — decode, predict, experiments, validation, training —
// reads these descriptors (MethodRegistry), never a method's name.

import Analytic
import Decoding
import Foundation
import Transformer

/// What drafts for a method on the reference model.
public enum DrafterNeed: Sendable, Equatable {
    /// Nothing to train: the method drafts from the context, the target, or not at all.
    case none
    /// A trained drafter in --drafter DIR: the `speclab train-drafter --kind` values that make one
    /// (a draft-model checkpoint also comes from `speclab train --preset draft`), and what to pass.
    case trained(kinds: [String], what: String)

    public var kinds: [String] { if case .trained(let kinds, _) = self { return kinds } else { return [] } }
}

/// How a method's drafts are checked at T > 0 (T = 0: greedy matching, V1, for every verified method).
public enum SamplingVerifier: String, Sendable, Equatable {
    /// Nothing drafted: the target's own sample (plain decoding).
    case targetSample = "the target's own sample (nothing drafted)"
    /// V2: the drafter's sampled chain with its distributions q, rejection sampling (Leviathan Algorithm 1).
    case chainRejection = "V2 chain rejection sampling"
    /// V4 for a sampled tree (siblings drawn without replacement), V2 for a chain.
    case treeRejection = "V4 tree rejection sampling (V2 on a chain)"
    /// V3: deterministic candidates, accepted by the target's own sampling along the tree.
    case deterministic = "V3 deterministic candidates"
    /// MTAD's joint likelihood ratio against one uniform threshold a round (greedy matching at T = 0).
    case jointRatio = "joint likelihood ratio (MTAD)"
    /// Nothing checks the drafts: they are kept.
    case none = "none (drafts kept unchecked)"
    /// The method runs at T = 0 only, checked by greedy matching.
    case greedyOnly = "V1 only (runs at T = 0)"
}

/// Whether the method's output is the target's.
public enum Losslessness: Sendable, Equatable {
    /// Greedy output equals plain greedy decoding's; sampled output follows the target's distribution.
    case lossless(String)
    /// Equal to plain greedy at T = 0; another distribution at T > 0.
    case greedyOnly(String)
    /// Not the target's output at any temperature.
    case lossy(String)

    public var label: String {
        switch self {
        case .lossless: return "lossless"
        case .greedyOnly: return "lossless at T = 0 only"
        case .lossy: return "lossy"
        }
    }

    public var reason: String {
        switch self { case .lossless(let why), .greedyOnly(let why), .lossy(let why): return why }
    }

    /// Lossless at this temperature when the user asks for no lossy acceptance rule.
    public func holds(temperature: Double) -> Bool {
        switch self {
        case .lossless: return true
        case .greedyOnly: return temperature == 0
        case .lossy: return false
        }
    }
}

/// The shape of what a method verifies.
public enum TreePolicy: String, Sendable, Equatable {
    /// A chain of drafts (--draft-length).
    case chain
    /// A static tree shape (--tree eagle25, eagle10, chain).
    case staticShape = "static tree shape"
    /// The dynamic top-K tree (--tree-topk, --tree-depth, --tree-size).
    case dynamic = "dynamic tree"
    /// A static shape or the dynamic tree (--tree dynamic).
    case staticOrDynamic = "static or dynamic tree"
    /// Medusa's sparse tree of --tree-size nodes chosen by the heads' calibration accuracies.
    case sparse = "sparse tree"
    /// A layout fixed by the method (window and n-gram candidates; mask blocks beside the chain).
    case layout = "fixed layout"
}

/// What a request sets of a method's engine workload.
public struct EngineOptions: Sendable {
    /// What is priced: the method as its paper runs it, or as the reference model implements it here
    /// (the two differ where the reference model simplifies: lookahead feeds one Jacobi level per forward).
    public enum Implementation: Sendable { case paper, referenceModel }

    public var implementation: Implementation
    /// Beam methods (MTAD, MTJD, prefix beam search): beams per depth (--beam-width).
    public var beamWidth: Int
    /// Lookahead decoding's N, levels and G (nil: the implementation's own).
    public var lookahead: LookaheadShape?

    public init(implementation: Implementation = .paper, beamWidth: Int = 4, lookahead: LookaheadShape? = nil) {
        self.implementation = implementation; self.beamWidth = beamWidth; self.lookahead = lookahead
    }
}

/// What the analytic engine prices of a method.
public enum EngineModel: Sendable {
    /// The cycle's workload for the request's options.
    case workload(@Sendable (EngineOptions) -> DraftMethod)
    /// No engine workload, and why.
    case none(String)

    public func workload(_ options: EngineOptions = EngineOptions()) -> DraftMethod? {
        if case .workload(let make) = self { return make(options) } else { return nil }
    }
}

/// What a method's builder gets: the loaded target and the decode's settings.
public struct DrafterContext {
    public let target: InferenceModel
    public let draftLength: Int
    public let settings: SamplingSettings
    public let stopping: DraftStopping
    public let tree: TreeSpec
    public let beamWidth: Int
    public let oracleAlpha: Double
    /// The --drafter directory checked against the target, or one line saying what to pass (the method's hint).
    public let drafterDirectory: () throws -> URL
    /// The target's greedy continuations of the prompts, `tokens` long (the oracle drafts from them).
    public let greedyContinuations: (_ tokens: Int) -> [[Int32]: [Int32]]
    public let maxTokens: Int

    public init(target: InferenceModel, draftLength: Int, settings: SamplingSettings, stopping: DraftStopping,
                tree: TreeSpec, beamWidth: Int, oracleAlpha: Double, maxTokens: Int,
                drafterDirectory: @escaping () throws -> URL,
                greedyContinuations: @escaping (Int) -> [[Int32]: [Int32]]) {
        self.target = target; self.draftLength = draftLength; self.settings = settings; self.stopping = stopping
        self.tree = tree; self.beamWidth = beamWidth; self.oracleAlpha = oracleAlpha; self.maxTokens = maxTokens
        self.drafterDirectory = drafterDirectory; self.greedyContinuations = greedyContinuations
    }

    public var config: ModelConfig { target.config }

    /// Refuses a draft length the drafter at `directory` cannot draft.
    public func requireDraftLength(atMost available: Int, _ what: String, at directory: URL) throws {
        guard draftLength <= available else {
            throw ModelError("--draft-length \(draftLength) exceeds the \(available) \(what) available at '\(directory.path)'")
        }
    }
}

/// How a method decodes: the speculation loop with a fresh drafter per sequence, or prefix beam search's
/// own loop (hypotheses with their own caches; the difference is stated in `PrefixBeamSearch`).
public enum DecodingPlan {
    case speculation(() -> Drafter)
    case prefixBeam(ParallelHeads)
}

/// Settings of `decode` that only some methods read.
public struct MethodOptions: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// --draft-threshold (the drafter stops on its confidence).
    public static let confidenceThreshold = MethodOptions(rawValue: 1)
    /// --cumulative (the threshold on the running product of confidences).
    public static let cumulativeThreshold = MethodOptions(rawValue: 2)
    /// --beam-width.
    public static let beamWidth = MethodOptions(rawValue: 4)
    /// --oracle-alpha.
    public static let oracleAlpha = MethodOptions(rawValue: 8)
    /// --unverified (a chain kept unchecked).
    public static let unverifiedChain = MethodOptions(rawValue: 16)
    /// --typical (Medusa's typical acceptance, V5).
    public static let typicalAcceptance = MethodOptions(rawValue: 32)
}

/// One decoding method.
public struct MethodDescriptor: Sendable {
    /// The name `--method` takes.
    public private(set) var name: String
    /// Other names it answers to (the engine's, the papers').
    public private(set) var aliases: [String]
    public private(set) var title: String
    /// One line: what drafts and how it is checked.
    public private(set) var summary: String
    /// The paper (or the project's article) the method follows.
    public private(set) var source: String
    public let drafter: DrafterNeed
    public let verifier: SamplingVerifier
    public let tree: TreePolicy
    public let lossless: Losslessness
    public let engine: EngineModel
    public let options: MethodOptions
    /// The acceptance rule the method imposes (nil: the lossless verifiers, or a lossy rule the user picks).
    public let ownAcceptance: AcceptanceRule?
    /// Why the method decodes one sequence at a time (nil: it batches).
    public let singleSequence: String?
    /// Why the method runs at T = 0 only (nil: any temperature).
    public let greedyOnlyReason: String?
    /// Rows of one verify forward per sequence, root included (so that prompt + budget + verify fit the context).
    let rows: @Sendable (_ draftLength: Int, _ tree: TreeSpec) throws -> Int
    /// Loads the drafter's weights once and returns the plan (a fresh drafter per sequence).
    let build: @Sendable (DrafterContext) throws -> DecodingPlan

    public init(name: String, aliases: [String] = [], title: String, summary: String, source: String,
                drafter: DrafterNeed = .none, verifier: SamplingVerifier, tree: TreePolicy = .chain,
                lossless: Losslessness, engine: EngineModel, options: MethodOptions = [.typicalAcceptance],
                ownAcceptance: AcceptanceRule? = nil, singleSequence: String? = nil, greedyOnlyReason: String? = nil,
                drafts: Bool = true,
                rows: @escaping @Sendable (Int, TreeSpec) throws -> Int = { gamma, _ in gamma + 1 },
                build: @escaping @Sendable (DrafterContext) throws -> DecodingPlan) {
        self.name = name; self.aliases = aliases; self.title = title; self.summary = summary; self.source = source
        self.drafter = drafter; self.verifier = verifier; self.tree = tree; self.lossless = lossless
        self.engine = engine; self.options = options; self.ownAcceptance = ownAcceptance
        self.singleSequence = singleSequence; self.greedyOnlyReason = greedyOnlyReason
        self.drafts = drafts; self.rows = rows; self.build = build
    }

    /// Whether the method drafts at all (plain decoding does not).
    public let drafts: Bool

    public func verifyRows(draftLength: Int, tree: TreeSpec) throws -> Int { try rows(draftLength, tree) }

    public func plan(_ context: DrafterContext) throws -> DecodingPlan { try build(context) }

    /// The drafter directory's description for messages: "heads from 'speclab train-drafter --kind medusa'".
    public var drafterHint: String? { if case .trained(_, let what) = drafter { return what } else { return nil } }

    /// This method under another name (a variant that differs in how its drafter was trained).
    func variant(name: String, aliases: [String] = [], title: String, summary: String, source: String) -> MethodDescriptor {
        var copy = self
        copy.name = name; copy.aliases = aliases; copy.title = title; copy.summary = summary; copy.source = source
        return copy
    }
}
