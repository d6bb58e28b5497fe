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
    /// One KV cache per sequence of a batch (one for single-sequence decoding).
    public let caches: [KVCache]
    /// Sequence 0's cache: the single-sequence calls use it.
    public var cache: KVCache { caches[0] }
    private let views: [LogitDistributions]
    private var residualLayers: Set<Int> = []

    public init(model: InferenceModel, capacity: Int? = nil, sequences: Int = 1) {
        precondition(sequences >= 1, "a target holds at least one sequence")
        self.model = model
        caches = (0..<sequences).map { _ in KVCache(config: model.config, capacity: capacity ?? model.config.contextLength) }
        views = (0..<sequences).map { _ in LogitDistributions(model: model) }
    }

    public var vocabulary: Int { model.config.vocab }
    public var committedLength: Int { cache.length }
    public var sequenceCapacity: Int { caches.count }
    public func keepResidualStreams(_ layers: Set<Int>) { residualLayers = layers }

    public func prefill(_ prompt: [Int32], settings: SamplingSettings) -> NodeDistributions {
        prefill(batch: [prompt], settings: settings)[0].distributions
    }

    public func verify(_ tree: TokenTree, settings: SamplingSettings) -> NodeDistributions {
        verify(batch: [SequenceTree(sequence: 0, tree: tree, side: nil)], settings: settings)[0].distributions
    }

    public func verify(_ tree: TokenTree, side: SideRows, settings: SamplingSettings) -> NodeDistributions {
        verify(batch: [SequenceTree(sequence: 0, tree: tree, side: side)], settings: settings)[0].distributions
    }

    public func accept(path: [Int]) { accept(sequence: 0, path: path) }

    /// One forward over every prompt (ragged rows), each into its sequence's emptied cache.
    public func prefill(batch prompts: [[Int32]], settings: SamplingSettings) -> [SequenceRows] {
        precondition(prompts.count <= caches.count, "more prompts than sequences")
        for b in prompts.indices { caches[b].truncate(to: 0) }
        model.forward(prompts.enumerated().map { SequenceStep(tokens: $0.element, cache: caches[$0.offset]) },
                      residualLayers: residualLayers)
        var row = 0
        return prompts.enumerated().map { b, prompt in
            caches[b].commit(prompt.count)
            views[b].reset(settings: settings)
            views[b].offset = row + prompt.count - 1
            defer { row += prompt.count }
            return SequenceRows(distributions: views[b], firstRow: row)
        }
    }

    /// One forward over the sequences' trees (positions n + depth, ancestor masks), rows stacked in order.
    public func verify(batch trees: [SequenceTree], settings: SamplingSettings) -> [SequenceRows] {
        model.forward(trees.map { $0.tree.verifyStep(side: $0.side, cache: caches[$0.sequence]) }, residualLayers: residualLayers)
        var row = 0
        return trees.map { entry in
            let view = views[entry.sequence]
            view.reset(settings: settings)
            view.offset = row
            defer { row += entry.tree.count + (entry.side?.tokens.count ?? 0) }
            return SequenceRows(distributions: view, firstRow: row)
        }
    }

    public func accept(sequence: Int, path: [Int]) {
        let cache = caches[sequence]
        if path == Array(0..<path.count) { cache.commit(path.count) } else { cache.compact(path: path) }
    }
}
