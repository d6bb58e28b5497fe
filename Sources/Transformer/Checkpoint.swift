// Checkpoints: a directory with model.safetensors (every named tensor, F32)
// and config.json (the model configuration and the run's metadata). Both
// files are written atomically (temp + rename); loading checks the config,
// every tensor's presence, shape and size, and names the problem.
//
// The two files are bound by a content id (FNV-1a, 64 bits, over the weights'
// bit patterns in layout order), recorded in both. A save keeps the previous
// weights as a hard link `.model.safetensors.previous` until the new config is
// in place, so a save killed between the two renames leaves a config whose
// weights are still on disk: loading finds them by the id and puts them back.
// Other files in the folder (drafters) are never touched.
//
// Reading one in Python (documentation only, not a dependency):
//   from safetensors.numpy import load_file
//   import json
//   tensors = load_file("DIR/model.safetensors")      # {"tok_embeddings": (256, d) float32, ...}
//   config = json.load(open("DIR/config.json"))["model"]

import Files
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public struct CheckpointInfo: Codable, Sendable {
    public var model: ModelConfig
    /// Free-form provenance: corpus, steps, seed, validation bits per byte, date.
    public var metadata: [String: String]
}

/// FNV-1a, 64 bits (Fowler, Noll and Vo), over 32-bit words: the checkpoint's content id.
struct ContentHash {
    private var state: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func add(_ word: UInt32) {
        var w = word
        for _ in 0..<4 {
            state = (state ^ UInt64(w & 0xff)) &* 0x0000_0100_0000_01b3
            w >>= 8
        }
    }
    var id: String { String(state, radix: 16).leftPadded(to: 16) }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

public enum Checkpoint {
    public static let weightsFile = "model.safetensors"
    public static let configFile = "config.json"

    /// The metadata key of the content id, in config.json's metadata and in the weights file's.
    public static let contentIdKey = "content_id"
    static let previousWeightsFile = ".model.safetensors.previous"

    /// Saves `network` into `directory`; returns the content id that binds its two files.
    @discardableResult
    public static func save<T: Real>(_ network: Network<T>, to directory: URL, metadata: [String: String] = [:]) throws -> String {
        try ArtifactDirectory.prepareFolder(directory, for: "checkpoint")
        var stamped = metadata
        let id = contentId(of: network)
        stamped[contentIdKey] = id
        var file = SafetensorsFile(metadata: stamped.merging(["format": "speclab-v1"]) { a, _ in a })
        for entry in network.layout.entries {
            let values = (0..<entry.count).map { Float(network.parameters[entry.offset + $0]) }
            file.tensors.append((name: entry.name, shape: entry.shape, values: values))
        }
        let weights = directory.appendingPathComponent(weightsFile)
        let previous = directory.appendingPathComponent(previousWeightsFile)
        // The weights the current config.json was saved with stay on disk until the new config is in place.
        unlink(previous.path)
        if FileManager.default.fileExists(atPath: weights.path) { _ = link(weights.path, previous.path) }
        try file.write(to: weights)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(CheckpointInfo(model: network.config, metadata: stamped))
        try AtomicFile.write(data, to: directory.appendingPathComponent(configFile))
        unlink(previous.path)
        return id
    }

    /// The content id of a network's weights as a save would record it.
    public static func contentId<T: Real>(of network: Network<T>) -> String {
        var hash = ContentHash()
        for entry in network.layout.entries {
            for i in 0..<entry.count { hash.add(Float(network.parameters[entry.offset + i]).bitPattern) }
        }
        return hash.id
    }

    /// The checkpoint's content id (nil for checkpoints saved before ids were recorded).
    public static func contentId(at directory: URL) throws -> String? {
        try info(at: directory).metadata[contentIdKey]
    }

    public static func info(at directory: URL) throws -> CheckpointInfo {
        let url = directory.appendingPathComponent(configFile)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ModelError("no checkpoint at '\(directory.path)': \(configFile) is missing (train one with 'speclab train --out \(directory.path)')")
        }
        let data: Data
        do { data = try InputFile.read(url.path, what: "checkpoint config", limitBytes: 1 << 24) } catch let error as InputError {
            throw ModelError(error.description)
        }
        let info: CheckpointInfo
        do {
            info = try JSONDecoder().decode(CheckpointInfo.self, from: data)
        } catch {
            throw ModelError("checkpoint '\(directory.path)': \(configFile) is not a SpecLab model config (\(error.localizedDescription))")
        }
        do {
            try info.model.validate()
        } catch let error as ModelError {
            throw ModelError("checkpoint '\(directory.path)': \(error.message)")
        }
        return info
    }

    public static func load(from directory: URL) throws -> Network<Float> {
        let info = try info(at: directory)
        let network = try Network<Float>(config: info.model)
        var file: SafetensorsFile
        do {
            file = try SafetensorsFile.read(from: directory.appendingPathComponent(weightsFile))
        } catch let error as SafetensorsError {
            throw ModelError("checkpoint '\(directory.path)': \(error.description)")
        }
        if let id = info.metadata[contentIdKey], file.metadata[contentIdKey] != id {
            // A save interrupted between the weights and the config: the config's weights are kept aside.
            let previous = directory.appendingPathComponent(previousWeightsFile)
            guard let kept = try? SafetensorsFile.read(from: previous), kept.metadata[contentIdKey] == id else {
                throw ModelError("checkpoint '\(directory.path)': \(weightsFile) is not the one \(configFile) was saved with (content id \(file.metadata[contentIdKey] ?? "none") vs \(id)); save it again or restore both files from a copy")
            }
            file = kept
            if rename(previous.path, directory.appendingPathComponent(weightsFile).path) != 0 {
                throw ModelError("checkpoint '\(directory.path)': cannot restore the weights of the last complete save from \(previousWeightsFile): \(String(cString: strerror(errno)))")
            }
        }
        for entry in network.layout.entries {
            guard let tensor = file.tensor(named: entry.name) else {
                throw ModelError("checkpoint '\(directory.path)': tensor '\(entry.name)' is missing from \(weightsFile)")
            }
            guard tensor.shape == entry.shape else {
                throw ModelError("checkpoint '\(directory.path)': tensor '\(entry.name)' has shape \(tensor.shape), the config needs \(entry.shape)")
            }
            if let bad = tensor.values.firstIndex(where: { !$0.isFinite }) {
                throw ModelError("checkpoint '\(directory.path)': tensor '\(entry.name)' holds \(tensor.values[bad]) at element \(bad); the weights are damaged (a diverged run?) — retrain or restore them")
            }
            for i in 0..<entry.count { network.parameters[entry.offset + i] = tensor.values[i] }
        }
        return network
    }
}
