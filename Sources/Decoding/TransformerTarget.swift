// The reference transformer as a speculation target: one KV cache, verify
// forwards over token trees, compaction of the accepted path.

import Foundation
import Transformer

/// Node distributions read lazily from the last forward's logits.
final class LogitDistributions: NodeDistributions {
    let model: InferenceModel
    var settings = SamplingSettings.greedy
    var cached: [Int: [Double]] = [:]
    /// Node i is row offset + i of the last forward.
    var offset = 0

    init(model: InferenceModel) { self.model = model }

    func reset(settings: SamplingSettings) {
        self.settings = settings
        cached.removeAll(keepingCapacity: true)
    }

    func argmax(_ node: Int) -> Int { Sampling.argmax(model.logitsRow(node + offset)) }

    func probabilities(_ node: Int) -> [Double] {
        if let p = cached[node] { return p }
        var p: [Double] = []
        Sampling.warp(model.logitsRow(node + offset), settings, into: &p)
        cached[node] = p
        return p
    }
}

public final class TransformerTarget: TargetModel {
    public let model: InferenceModel
    public let cache: KVCache
    private let view: LogitDistributions
    private var residualLayers: Set<Int> = []

    public init(model: InferenceModel, capacity: Int? = nil) {
        self.model = model
        cache = KVCache(config: model.config, capacity: capacity ?? model.config.contextLength)
        view = LogitDistributions(model: model)
    }

    public var vocabulary: Int { model.config.vocab }
    public var committedLength: Int { cache.length }
    public func keepResidualStreams(_ layers: Set<Int>) { residualLayers = layers }

    public func prefill(_ prompt: [Int32], settings: SamplingSettings) -> NodeDistributions {
        cache.truncate(to: 0)
        model.forward([SequenceStep(tokens: prompt, cache: cache)], residualLayers: residualLayers)
        cache.commit(prompt.count)
        view.reset(settings: settings)
        view.offset = prompt.count - 1
        return view
    }

    public func verify(_ tree: TokenTree, settings: SamplingSettings) -> NodeDistributions {
        model.forward([SequenceStep(tokens: tree.tokens, positions: tree.positions(cacheLength: cache.length),
                                    mask: tree.mask, cache: cache)], residualLayers: residualLayers)
        view.reset(settings: settings)
        view.offset = 0
        return view
    }

    public func verify(_ tree: TokenTree, side: SideRows, settings: SamplingSettings) -> NodeDistributions {
        model.forward([tree.verifyStep(side: side, cache: cache)], residualLayers: residualLayers)
        view.reset(settings: settings)
        view.offset = 0
        return view
    }

    public func accept(path: [Int]) {
        if path == Array(0..<path.count) { cache.commit(path.count) } else { cache.compact(path: path) }
    }
}

