// What every extra-head objective (blockwise, parallel MTP, sequential MTP)
// shares: named scratch buffers that grow with the batch, and the shifted
// cross-entropy of a head that predicts the token `shift` places after the
// usual next-token target, with its top-1 accuracy (the per-head figure Stern,
// Medusa and Gloeckle report) and its logits gradient.

import Files
import Foundation
import LinAlg
import Transformer

/// An objective whose extra heads report top-1 accuracy per head.
public protocol HeadObjective: TrainingObjective {
    /// Top-1 accuracy of each extra head on the last `evaluate` call (head k predicts x_{t+k}, k = 2, 3, …).
    var lastAccuracy: [Double] { get }
    var extraHeadCount: Int { get }
}

/// Named scratch buffers of at least the requested size (grown when a larger batch comes).
public final class ScratchBuffers {
    private var buffers: [String: (pointer: UnsafeMutablePointer<Float>, capacity: Int)] = [:]

    public init() {}

    public func callAsFunction(_ name: String, _ count: Int) -> UnsafeMutablePointer<Float> {
        if let b = buffers[name], b.capacity >= count { return b.pointer }
        buffers[name]?.pointer.deallocate()
        let b = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        b.initialize(repeating: 0, count: max(count, 1))
        buffers[name] = (b, max(count, 1))
        return b
    }

    deinit { for (_, b) in buffers { b.pointer.deallocate() } }
}

enum ShiftedCrossEntropy {
    struct Result { var loss: Double; var accuracy: Double; var validRows: Int }

    /// Rows t of windows of `length` whose head predicts targets[t + shift] (shift 0 = next token).
    /// Computes the mean CE over rows with t + shift < length and the top-1 accuracy; when
    /// `gradientScale` is given, overwrites `logits` with gradientScale · ∂(mean CE)/∂logits
    /// (zero on rows without a target).
    static func evaluate(logits: UnsafeMutablePointer<Float>, targets: [Int32], rows n: Int, length: Int, shift: Int,
                         vocab v: Int, scratch: ScratchBuffers, gradientScale: Float?) -> Result {
        let probs = scratch("ce.probs", n * v), losses = scratch("ce.losses", n)
        var shifted = [Int32](repeating: 0, count: n)
        var valid = [Bool](repeating: false, count: n)
        var validCount = 0
        for row in 0..<n where row % length + shift < length {
            shifted[row] = targets[row + shift]
            valid[row] = true
            validCount += 1
        }
        Layers.crossEntropyForward(losses: losses, probs: probs, logits: logits, targets: shifted, n: n, v: v)
        var loss = 0.0, correct = 0
        for row in 0..<n where valid[row] {
            loss += Double(losses[row])
            if Sampling.argmax(UnsafeBufferPointer(start: probs + row * v, count: v)) == Int(shifted[row]) { correct += 1 }
        }
        let count = max(validCount, 1)
        if let gradientScale {
            Layers.crossEntropyBackward(dlogits: logits, probs: probs, targets: shifted, n: n, v: v,
                                        scale: gradientScale / Float(count))
            for row in 0..<n where !valid[row] { (logits + row * v).update(repeating: 0, count: v) }
        }
        return Result(loss: loss / Double(count), accuracy: Double(correct) / Double(count), validRows: validCount)
    }
}

/// The safetensors file of a drafter's parameters; its metadata names the kind, the
/// target it was trained for and its size (heads, modules), so a mismatch is one clear line.
struct DrafterFile {
    let name: String
    let kind: String
    /// Metadata key of the size (nil: the drafter has no size).
    let sizeKey: String?
    /// What the file holds, for messages ("parallel MTP heads").
    let what: String
    var hint: String { "train with 'speclab train-drafter --kind \(kind)'" }

    func save(_ parameters: ParameterSet, to directory: URL, target: ModelConfig, size: Int?,
              metadata: [String: String]) throws {
        try ArtifactDirectory.prepareFolder(directory, for: what)
        var all = metadata.merging(target.targetMetadata) { _, b in b }
        all["kind"] = kind
        if let sizeKey, let size { all[sizeKey] = String(size) }
        try parameters.save(to: directory.appendingPathComponent(name), metadata: all)
    }

    /// The size recorded in the file (1 when the drafter has none).
    func size(in directory: URL) throws -> Int {
        let file = directory.appendingPathComponent(name)
        guard let data = try? SafetensorsFile.read(from: file), data.metadata["kind"] == kind else {
            throw ModelError("no \(what) at '\(directory.path)' (\(hint))")
        }
        guard let sizeKey else { return 1 }
        guard let size = data.metadata[sizeKey].flatMap(Int.init), size >= 1 else {
            throw ModelError("'\(file.path)' does not say its \(sizeKey) (\(hint))")
        }
        return size
    }

    /// Reads every tensor into `parameters`, checking the file was trained for `target`; returns its metadata.
    @discardableResult
    func load(_ parameters: ParameterSet, from directory: URL, target: ModelConfig) throws -> [String: String] {
        try parameters.load(from: directory.appendingPathComponent(name),
                            expected: target.targetMetadata.merging(["kind": kind]) { a, _ in a },
                            hint: "these \(what) were trained for another target; \(hint)")
    }
}

/// Drafter weights held in one parameter set and one file, with no size to record (EAGLE-1/2, EAGLE-3).
protocol SingleFileWeights: AnyObject {
    init(config: ModelConfig)
    var config: ModelConfig { get }
    var parameters: ParameterSet { get }
    static var file: DrafterFile { get }
}

extension SingleFileWeights {
    func saveFile(to directory: URL, metadata: [String: String]) throws {
        try Self.file.save(parameters, to: directory, target: config, size: nil, metadata: metadata)
    }

    static func loadFile(from directory: URL, target: ModelConfig) throws -> Self {
        _ = try file.size(in: directory)
        let weights = Self(config: target)
        try file.load(weights.parameters, from: directory, target: target)
        return weights
    }
}
