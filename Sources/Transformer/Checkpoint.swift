// Checkpoints: a directory with model.safetensors (every named tensor, F32)
// and config.json (the model configuration and the run's metadata). Both
// files are written atomically (temp + rename); loading checks the config,
// every tensor's presence, shape and size, and names the problem.
//
// Reading one in Python (documentation only, not a dependency):
//   from safetensors.numpy import load_file
//   import json
//   tensors = load_file("DIR/model.safetensors")      # {"tok_embeddings": (256, d) float32, ...}
//   config = json.load(open("DIR/config.json"))["model"]

import Foundation

public struct CheckpointInfo: Codable, Sendable {
    public var model: ModelConfig
    /// Free-form provenance: corpus, steps, seed, validation bits per byte, date.
    public var metadata: [String: String]
}

public enum Checkpoint {
    public static let weightsFile = "model.safetensors"
    public static let configFile = "config.json"

    public static func save<T: Real>(_ network: Network<T>, to directory: URL, metadata: [String: String] = [:]) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var file = SafetensorsFile(metadata: metadata.merging(["format": "speclab-v1"]) { a, _ in a })
        for entry in network.layout.entries {
            let values = (0..<entry.count).map { Float(network.parameters[entry.offset + $0]) }
            file.tensors.append((name: entry.name, shape: entry.shape, values: values))
        }
        try file.write(to: directory.appendingPathComponent(weightsFile))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(CheckpointInfo(model: network.config, metadata: metadata))
        // Foundation's .atomic writes a temporary file and renames it into place.
        try data.write(to: directory.appendingPathComponent(configFile), options: .atomic)
    }

    public static func info(at directory: URL) throws -> CheckpointInfo {
        let url = directory.appendingPathComponent(configFile)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ModelError("no checkpoint at '\(directory.path)': \(configFile) is missing (train one with 'speclab train --out \(directory.path)')")
        }
        do {
            return try JSONDecoder().decode(CheckpointInfo.self, from: data)
        } catch {
            throw ModelError("checkpoint '\(directory.path)': \(configFile) is not a SpecLab model config (\(error.localizedDescription))")
        }
    }

    public static func load(from directory: URL) throws -> Network<Float> {
        let info = try info(at: directory)
        let network = try Network<Float>(config: info.model)
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile.read(from: directory.appendingPathComponent(weightsFile))
        } catch let error as SafetensorsError {
            throw ModelError("checkpoint '\(directory.path)': \(error.description)")
        }
        for entry in network.layout.entries {
            guard let tensor = file.tensor(named: entry.name) else {
                throw ModelError("checkpoint '\(directory.path)': tensor '\(entry.name)' is missing from \(weightsFile)")
            }
            guard tensor.shape == entry.shape else {
                throw ModelError("checkpoint '\(directory.path)': tensor '\(entry.name)' has shape \(tensor.shape), the config needs \(entry.shape)")
            }
            for i in 0..<entry.count { network.parameters[entry.offset + i] = tensor.values[i] }
        }
        return network
    }
}
