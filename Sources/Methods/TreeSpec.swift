// The tree options of `decode`: a static EAGLE shape or the dynamic tree's
// top-K, depth and size, read by the methods whose tree policy asks for them.

import Decoding
import Foundation
import Transformer

/// The tree of the tree methods: a static shape (`shape`: eagle25, eagle10 or chain, the latter of
/// --draft-length drafts) or the dynamic tree (`shape` dynamic: top-K, depth, size). eagle1 drafts
/// static shapes, eagle2 the dynamic tree, eagle3 either.
public struct TreeSpec: Sendable, Codable, Equatable {
    public var shape: String
    public var topK: Int
    public var depth: Int
    public var size: Int

    public init(shape: String = "eagle25", topK: Int = 3, depth: Int = 4, size: Int = 16) {
        self.shape = shape; self.topK = topK; self.depth = depth; self.size = size
    }

    public static let shapes = ["eagle25", "eagle10", "chain", "dynamic"]

    enum CodingKeys: String, CodingKey { case shape, topK, depth, size }

    /// Every field optional in a config file.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = TreeSpec()
        shape = try c.decodeIfPresent(String.self, forKey: .shape) ?? defaults.shape
        topK = try c.decodeIfPresent(Int.self, forKey: .topK) ?? defaults.topK
        depth = try c.decodeIfPresent(Int.self, forKey: .depth) ?? defaults.depth
        size = try c.decodeIfPresent(Int.self, forKey: .size) ?? defaults.size
    }

    /// The static tree for EAGLE-1.
    public func fixedTree(draftLength: Int) throws -> EagleTree {
        switch shape {
        case "eagle25": return .fixed(EagleTree.eagle25)
        case "eagle10": return .fixed(EagleTree.eagle10)
        case "chain": return .fixed(EagleTree.chain(draftLength))
        case "dynamic": throw ModelError("--tree dynamic is EAGLE-2's tree: use --method eagle2 (or eagle3)")
        default: throw ModelError("unknown --tree '\(shape)'; available: \(Self.shapes.joined(separator: ", "))")
        }
    }

    public func dynamicTree() throws -> EagleTree {
        guard topK >= 1, depth >= 0, size >= 1 else {
            throw ModelError("--tree-topk and --tree-size must be >= 1 and --tree-depth >= 0 (got \(topK), \(size), \(depth))")
        }
        // The reference model's context (at most a few thousand bytes) bounds every tree far below these.
        guard depth <= 1024, size <= 65_536, topK <= 65_536 else {
            throw ModelError("--tree-depth must be <= 1024 and --tree-size, --tree-topk <= 65536 (beyond any model's context), got \(depth), \(size), \(topK)")
        }
        return .dynamic(topK: topK, depth: depth, size: size)
    }

    /// The tree a method of this policy drafts: a static shape, the dynamic tree, or either (by `shape`).
    public func tree(_ policy: TreePolicy, draftLength: Int) throws -> EagleTree {
        switch policy {
        case .dynamic: return try dynamicTree()
        case .staticOrDynamic: return shape == "dynamic" ? try dynamicTree() : try fixedTree(draftLength: draftLength)
        default: return try fixedTree(draftLength: draftLength)
        }
    }
}
