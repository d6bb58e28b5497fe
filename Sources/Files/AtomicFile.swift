// Files: how SpecLab writes what it produces without losing what it did not. A single file is written
// to a temporary file beside it and renamed over it (a reader sees the old file or the new one, never
// half of either); a multi-file artifact is an `ArtifactDirectory`, staged whole and swapped in.
//
// What an output path may be: a new path, or an existing regular file (replaced atomically), or a
// symbolic link (written through: the file it points to is replaced, the link stays), or a character
// device or FIFO such as /dev/stdout (written to directly: there is nothing to replace). A folder is
// refused. Every failure is one `OutputError` line naming the path and the reason.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One line saying which output path failed and why.
public struct OutputError: Error, CustomStringConvertible, LocalizedError, Sendable {
    public var description: String
    public init(_ path: String, _ reason: String) { description = "cannot write '\(path)': \(reason)" }
    public var errorDescription: String? { description }
}

extension OutputError {
    /// One line for a Foundation file error raised anywhere (path and reason, no domain or code), or nil
    /// when `error` is not one.
    public static func describe(_ error: Error) -> String? {
        if let error = error as? OutputError { return error.description }
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain else { return nil }
        let path = (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
        let reason = AtomicFile.reason(of: error)
        return path.map { "'\($0)': \(reason)" } ?? reason
    }
}

/// Writes files by writing a temporary file in the target's directory and
/// renaming it over the target (rename(2) is atomic within one file system).
public enum AtomicFile {
    /// Writes `data` to `url` atomically, creating the parent directory if needed.
    /// On failure the target is untouched and no temporary file is left behind.
    public static func write(_ data: Data, to url: URL) throws {
        try write(data, to: url, linksFollowed: 0)
    }

    private static func write(_ data: Data, to url: URL, linksFollowed: Int) throws {
        let target: URL
        switch try FileKind.of(url) {
        case .directory:
            throw OutputError(url.path, "it is a folder; give a file path")
        case .stream:
            // /dev/stdout, a FIFO: written through, nothing to replace. A pipe is opened without waiting:
            // with nobody reading it, the write would never end.
            let descriptor = open(url.path, O_WRONLY | O_NONBLOCK)
            guard descriptor >= 0 else {
                throw OutputError(url.path, errno == ENXIO ? "it is a pipe nobody is reading" : String(cString: strerror(errno)))
            }
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
            let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
            defer { try? handle.close() }
            do { try handle.write(contentsOf: data) } catch { throw OutputError(url.path, reason(of: error)) }
            return
        case .symlink(let destination):
            // The link stays; the file it points to is replaced.
            guard linksFollowed < 32 else { throw OutputError(url.path, "too many levels of symbolic links") }
            return try write(data, to: destination, linksFollowed: linksFollowed + 1)
        case .missing, .regular:
            target = url
        }
        let directory = target.deletingLastPathComponent()
        let temporary = temporaryURL(for: target)
        defer { Interrupts.finished(temporary) }
        do {
            try Interrupts.writing(temporary) {
                do {
                    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                } catch {
                    throw OutputError(target.path, "its folder cannot be created (\(reason(of: error)))")
                }
                guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
                    throw OutputError(target.path, "\(directory.path) is not writable")
                }
            }
            let handle = try FileHandle(forWritingTo: temporary)
            defer { try? handle.close() }
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try replace(target, with: temporary)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            if let error = error as? OutputError { throw error }
            throw OutputError(target.path, reason(of: error))
        }
    }

    /// Writes `text` as UTF-8 to `url` atomically.
    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    /// Renames `temporary` over `target` in one step (both in the same directory).
    public static func replace(_ target: URL, with temporary: URL) throws {
        if rename(temporary.path, target.path) != 0 {
            throw OutputError(target.path, "cannot rename \(temporary.lastPathComponent) over it: \(String(cString: strerror(errno)))")
        }
    }

    /// A fresh hidden name beside `url`: `.NAME.tmp-UUID`.
    public static func temporaryURL(for url: URL) -> URL {
        url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString)")
    }

    /// A Foundation error's own words without its domain and code.
    static func reason(of error: Error) -> String {
        if let error = error as? OutputError { return error.description }
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        switch ns.code {
        case CocoaError.fileWriteNoPermission.rawValue, CocoaError.fileReadNoPermission.rawValue: return "permission denied"
        case CocoaError.fileWriteOutOfSpace.rawValue: return "no space left on the device"
        case CocoaError.fileWriteFileExists.rawValue: return "a file is in the way"
        case CocoaError.fileWriteVolumeReadOnly.rawValue: return "the file system is read-only"
        case CocoaError.fileNoSuchFile.rawValue, CocoaError.fileReadNoSuchFile.rawValue: return "a folder on the way does not exist and cannot be made"
        default: return ns.localizedDescription
        }
    }
}

/// What is at a path, without following a final symbolic link.
enum FileKind: Equatable {
    case missing, regular, directory, stream
    case symlink(URL)

    static func of(_ url: URL) throws -> FileKind {
        var info = stat()
        guard lstat(url.path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return .missing }
            throw OutputError(url.path, String(cString: strerror(errno)))
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        case S_IFLNK:
            // What the link leads to decides: a device or pipe (/dev/stdout) is written to through the link,
            // a folder is refused, a file (or nothing yet) is replaced at the link's destination.
            var followed = stat()
            if stat(url.path, &followed) == 0 {
                switch followed.st_mode & S_IFMT {
                case S_IFCHR, S_IFIFO: return .stream
                case S_IFDIR: return .directory
                case S_IFREG: break
                default: throw OutputError(url.path, "it leads to neither a file nor a folder (a socket or a block device)")
                }
            }
            guard let destination = try? FileManager.default.destinationOfSymbolicLink(atPath: url.path) else {
                throw OutputError(url.path, "it is a symbolic link that cannot be read")
            }
            return .symlink(destination.hasPrefix("/") ? URL(fileURLWithPath: destination)
                : url.deletingLastPathComponent().appendingPathComponent(destination))
        case S_IFCHR, S_IFIFO: return .stream
        default: throw OutputError(url.path, "it is neither a file nor a folder (a socket or a block device)")
        }
    }
}
