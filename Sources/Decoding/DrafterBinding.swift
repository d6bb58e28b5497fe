// A drafter belongs to the trunk it was trained on: every drafter file records that trunk's content id
// (`Checkpoint.contentId`), and decoding refuses a drafter beside any other target, even one of the same
// shape (a shape check alone accepts heads trained on another run's trunk, which then draft nonsense).

import Foundation
import Transformer

public enum DrafterBinding {
    /// Metadata key of the trunk's content id in a drafter file.
    public static let targetIdKey = "target_content_id"

    /// Throws unless every drafter file in `directory` that records a trunk was trained on `target`.
    /// Files from before ids were recorded carry none and are accepted on their shapes, as before.
    /// `targetId`: `Checkpoint.contentId(of:)` of the target decoded from.
    public static func check(drafterDirectory directory: URL, targetId: String, targetPath: String) throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names.sorted() where name.hasSuffix(".safetensors") && name != Checkpoint.weightsFile {
            guard let file = try? SafetensorsFile.read(from: directory.appendingPathComponent(name)),
                  let recorded = file.metadata[targetIdKey] else { continue }
            guard recorded == targetId else {
                if (try? Checkpoint.contentId(at: directory)) == recorded {
                    throw ModelError("the drafter '\(directory.appendingPathComponent(name).path)' was trained together with the trunk saved beside it; decode with --model \(directory.path)")
                }
                let trainedOn = file.metadata["target"].map { " ('\($0)')" } ?? ""
                throw ModelError("the drafter '\(directory.appendingPathComponent(name).path)' was trained on another target\(trainedOn), not '\(targetPath)' (content id \(recorded) vs \(targetId)); train one for this target with 'speclab train-drafter --target \(targetPath)'")
            }
        }
    }
}
