// Reading what the user names: one check before any byte is read, so that a folder, a pipe that never
// ends, a device such as /dev/zero, or a file far larger than any input of its kind is one line, not a
// hang or an allocation of the machine's whole memory.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One line naming an input path and what is wrong with it.
public struct InputError: Error, CustomStringConvertible, LocalizedError, Sendable {
    public var description: String
    public init(_ what: String, _ path: String, _ reason: String) { description = "\(what) '\(path)': \(reason)" }
    public var errorDescription: String? { description }
}

public enum InputFile {
    /// The bytes of the regular file at `path` (symbolic links followed), at most `limitBytes` of them.
    /// `what` names the input in messages ("acceptance file", "--prompts").
    public static func read(_ path: String, what: String, limitBytes: Int = 1 << 30) throws -> Data {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw InputError(what, path, errno == ENOENT ? "no such file" : String(cString: strerror(errno)))
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw InputError(what, path, "it is a folder; give a file")
        default: throw InputError(what, path, "it is not a regular file (a pipe, socket or device); give a file")
        }
        guard Int(info.st_size) <= limitBytes else {
            throw InputError(what, path, String(format: "it is %.1f MB, more than the %.0f MB any such input needs", Double(info.st_size) / 1e6, Double(limitBytes) / 1e6))
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(what, path, access(path, R_OK) == 0 ? "it cannot be read" : "permission denied")
        }
        return data
    }
}
