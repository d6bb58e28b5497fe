// A multi-file artifact (an experiment's results, validate's output) written whole or not at all, and
// never over a folder SpecLab did not write.
//
// Writing: everything goes into a hidden staging folder beside the final one (`.tmp-NAME-ID`), which
// carries a marker file naming the artifact's kind; then the previous folder is renamed aside
// (`.old-NAME-ID`), the staged one renamed into place, and the previous one removed. A run killed at any
// point leaves either the previous folder or the new one in place, or — between the two renames — the
// previous one aside; `recover` (called before every write) puts it back and removes staging leftovers.
// A final path that is a symbolic link to a folder is written through: the link stays.
//
// Ownership: an existing folder is replaced only when it is empty, carries the marker, or holds one of
// the files by which the artifact's kind recognises an older run of itself (e.g. an experiment's
// run.json). Anything else — a folder of the user's files, a file, a device — is refused with one line.

import Foundation

public enum ArtifactDirectory {
    /// The marker file every artifact folder carries; its content is the artifact's kind.
    public static let markerName = ".speclab-artifact"

    /// Writes the artifact `final` of `kind` with `fill` (which writes into the staging folder it is
    /// given). `recognisedBy`: file names that mark an existing folder as an earlier artifact of this kind.
    /// If `fill` throws, `final` is untouched and the staging folder removed.
    public static func write<T>(to path: URL, kind: String, recognisedBy: [String] = [],
                                _ fill: (URL) throws -> T) throws -> T {
        let fm = FileManager.default
        // Through a link to a folder: the folder it points to is the artifact, the link stays.
        let final = path.resolvingSymlinksInPath()
        let parent = final.deletingLastPathComponent(), name = final.lastPathComponent
        try recover(final)
        try checkReplaceable(final, kind: kind, recognisedBy: recognisedBy)
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw OutputError(final.path, "its parent folder cannot be created (\(AtomicFile.reason(of: error)))")
        }
        let staging = parent.appendingPathComponent(".tmp-\(name)-\(UUID().uuidString.prefix(8))")
        do {
            try Interrupts.writing(staging) { try fm.createDirectory(at: staging, withIntermediateDirectories: false) }
        } catch {
            throw OutputError(final.path, "\(parent.path) is not writable (\(AtomicFile.reason(of: error)))")
        }
        defer {
            try? fm.removeItem(at: staging)
            Interrupts.finished(staging)
        }
        try AtomicFile.write(kind + "\n", to: staging.appendingPathComponent(markerName))
        let result = try fill(staging)
        if (try FileKind.of(final)) == .missing {
            try AtomicFile.replace(final, with: staging)
        } else {
            let old = parent.appendingPathComponent(".old-\(name)-\(UUID().uuidString.prefix(8))")
            try AtomicFile.replace(old, with: final)
            try AtomicFile.replace(final, with: staging)
            try? fm.removeItem(at: old)
        }
        return result
    }

    /// Puts back a previous artifact left aside by an interrupted swap (when `final` is missing) and
    /// removes leftovers of interrupted runs: staging folders, and folders aside once `final` is in place.
    public static func recover(_ final: URL) throws {
        let fm = FileManager.default
        let parent = final.deletingLastPathComponent(), name = final.lastPathComponent
        guard let names = try? fm.contentsOfDirectory(atPath: parent.path) else { return }
        let aside = names.filter { $0.hasPrefix(".old-\(name)-") && $0.count == ".old-\(name)-".count + 8 }
        let staged = names.filter { $0.hasPrefix(".tmp-\(name)-") && $0.count == ".tmp-\(name)-".count + 8 }
        if (try FileKind.of(final)) == .missing, let newest = aside.max(by: { modified(parent, $0) < modified(parent, $1) }) {
            try AtomicFile.replace(final, with: parent.appendingPathComponent(newest))
        }
        // What is still there bears this type's names (`.old-NAME-` or `.tmp-NAME-` and an eight-character id).
        for leftover in aside + staged { try? fm.removeItem(at: parent.appendingPathComponent(leftover)) }
    }

    /// Throws unless `final` is missing, an empty folder, or an earlier artifact of `kind`.
    public static func checkReplaceable(_ final: URL, kind: String, recognisedBy: [String]) throws {
        switch try FileKind.of(final) {
        case .missing: return
        case .regular, .stream, .symlink:
            throw OutputError(final.path, "it is a file, not a folder; give a new or empty folder for the \(kind)")
        case .directory:
            let names = (try? FileManager.default.contentsOfDirectory(atPath: final.path)) ?? []
            if names.isEmpty { return }
            if names.contains(markerName) {
                let marked = (try? String(contentsOf: final.appendingPathComponent(markerName), encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                if marked == kind { return }
                throw OutputError(final.path, "it holds a SpecLab \(marked ?? "artifact"), not a \(kind); give another folder")
            }
            if names.contains(where: recognisedBy.contains) { return }
            throw OutputError(final.path, "the folder holds files SpecLab did not write (\(names.sorted().prefix(3).joined(separator: ", "))\(names.count > 3 ? ", …" : "")); give a new or empty folder")
        }
    }

    /// Checks, before any work and without creating anything, that `folder` is missing or a folder.
    public static func checkFolder(_ folder: URL, for what: String) throws {
        switch try FileKind.of(folder) {
        case .missing, .directory: return
        case .regular, .stream, .symlink:
            throw OutputError(folder.path, "it is a file, not a folder; give a folder for the \(what)")
        }
    }

    /// Makes sure `folder` is a folder SpecLab can write its own files into (files of the user's beside
    /// them stay): missing folders are created; a file, a device or a link to one is refused with one line.
    public static func prepareFolder(_ folder: URL, for what: String) throws {
        try checkFolder(folder, for: what)
        guard try FileKind.of(folder) == .missing else { return }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw OutputError(folder.path, "the folder cannot be created (\(AtomicFile.reason(of: error)))")
        }
    }

    private static func modified(_ parent: URL, _ name: String) -> Date {
        ((try? FileManager.default.attributesOfItem(atPath: parent.appendingPathComponent(name).path))?[.modificationDate] as? Date)
            ?? .distantPast
    }
}
