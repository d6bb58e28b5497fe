// A named set of extra parameters (MTP head blocks, sequential MTP modules):
// one flat buffer carved by a ParameterLayout, with gradients, weight-decay
// mask and safetensors save/load by tensor name. Loading checks that every
// tensor is present with its shape and that the file was made for this target.

import Foundation
import LinAlg

public final class ParameterSet: TrainableParameters, @unchecked Sendable {
    public let layout: ParameterLayout
    public let parameters: UnsafeMutableBufferPointer<Float>
    public let gradients: UnsafeMutableBufferPointer<Float>

    public init(layout: ParameterLayout) {
        self.layout = layout
        parameters = .allocate(capacity: max(layout.count, 1)); parameters.initialize(repeating: 0)
        gradients = .allocate(capacity: max(layout.count, 1)); gradients.initialize(repeating: 0)
    }

    deinit { parameters.deallocate(); gradients.deallocate() }

    public var decayMask: WeightDecayMask {
        .ranges(layout.entries.filter(\.decays).map { $0.offset..<($0.offset + $0.count) })
    }

    /// N(0, std) for matrices (residual output projections wo, w2 scaled by `residualScale`), 1 for norm scales.
    public func initialize(seed: UInt64, standardDeviation std: Double = 0.02, residualScale: Double = 1) {
        let rng = RandomSource(seed: seed)
        for entry in layout.entries {
            let values = parameters.baseAddress! + entry.offset
            if !entry.decays {
                for i in 0..<entry.count { values[i] = 1 }
                continue
            }
            let scale = entry.name.hasSuffix(".wo") || entry.name.hasSuffix(".w2") ? residualScale : 1
            for i in 0..<entry.count { values[i] = Float(rng.normal(mean: 0, standardDeviation: std * scale)) }
        }
    }

    public func pointer(_ offset: Int) -> UnsafeMutablePointer<Float> { parameters.baseAddress! + offset }
    public func gradient(_ offset: Int) -> UnsafeMutablePointer<Float> { gradients.baseAddress! + offset }

    /// Writes every tensor to `file` (atomically, via SafetensorsFile).
    public func save(to file: URL, metadata: [String: String]) throws {
        var out = SafetensorsFile(metadata: metadata)
        for entry in layout.entries {
            out.tensors.append((name: entry.name, shape: entry.shape,
                                values: Array(UnsafeBufferPointer(start: pointer(entry.offset), count: entry.count))))
        }
        try out.write(to: file)
    }

    /// Reads every tensor of the layout from `file`; the metadata must match `expected`.
    /// Returns the file's metadata.
    @discardableResult
    public func load(from file: URL, expected: [String: String], hint: String) throws -> [String: String] {
        let data: SafetensorsFile
        do { data = try SafetensorsFile.read(from: file) } catch {
            throw ModelError("cannot read '\(file.path)': \(error) (\(hint))")
        }
        let mismatches = expected.sorted(by: { $0.key < $1.key }).filter { data.metadata[$0.key] != $0.value }
        if !mismatches.isEmpty {
            let found = mismatches.map { "\($0.key) = \(data.metadata[$0.key] ?? "none")" }.joined(separator: ", ")
            let needed = mismatches.map { "\($0.value)" }.joined(separator: ", ")
            throw ModelError("'\(file.path)' has \(found); this target needs \(needed) (\(hint))")
        }
        for entry in layout.entries {
            guard let tensor = data.tensor(named: entry.name) else {
                throw ModelError("'\(file.path)' lacks tensor '\(entry.name)' (\(hint))")
            }
            guard tensor.shape == entry.shape, tensor.values.count == entry.count else {
                throw ModelError("'\(file.path)': tensor '\(entry.name)' has shape \(tensor.shape), expected \(entry.shape) (\(hint))")
            }
            if let bad = tensor.values.firstIndex(where: { !$0.isFinite }) {
                throw ModelError("'\(file.path)': tensor '\(entry.name)' holds \(tensor.values[bad]) at element \(bad); the weights are damaged — retrain them")
            }
            pointer(entry.offset).update(from: tensor.values, count: entry.count)
        }
        return data.metadata
    }
}

extension ModelConfig {
    /// Metadata naming the target a set of extra parameters was trained for.
    public var targetMetadata: [String: String] {
        ["target_vocab": String(vocab), "target_width": String(width), "target_layers": String(layers),
         "target_heads": String(heads), "target_kv_heads": String(kvHeads), "target_ffn_hidden": String(ffnHidden)]
    }
}
