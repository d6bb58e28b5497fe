// Output safety: what the tool writes never replaces what it did not write, and an artifact folder is
// swapped in whole, with leftovers of an interrupted swap recovered by the next write.

import Files
import Foundation
import Testing

@Suite("Output safety")
struct OutputSafetyTests {
    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("speclab-files-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func read(_ url: URL) -> String? { try? String(contentsOf: url, encoding: .utf8) }

    @Test("a file written through a symbolic link replaces the file it points to; the link stays")
    func symlinkWrittenThrough() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let real = dir.appendingPathComponent("real.csv"), link = dir.appendingPathComponent("link.csv")
        try "old\n".write(to: real, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "real.csv")
        try AtomicFile.write("new\n", to: link)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == "real.csv")
        #expect(Self.read(real) == "new\n")
    }

    @Test("a folder given as an output file is refused with one line naming it; a device is written to")
    func folderRefusedDeviceWritten() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "keep\n".write(to: dir.appendingPathComponent("mine.txt"), atomically: true, encoding: .utf8)
        do {
            try AtomicFile.write("x", to: dir)
            Issue.record("a folder was accepted as an output file")
        } catch let error as OutputError {
            #expect(error.description.contains(dir.path) && error.description.contains("folder"))
            #expect(!error.description.contains("\n"))
        }
        #expect(Self.read(dir.appendingPathComponent("mine.txt")) == "keep\n")
        try AtomicFile.write("discarded\n", to: URL(fileURLWithPath: "/dev/null"))
        let kind = try FileManager.default.attributesOfItem(atPath: "/dev/null")[.type] as? FileAttributeType
        #expect(kind == .typeCharacterSpecial)
    }

    @Test("an artifact is never written over a folder of the user's files, nor over a file")
    func foreignFolderRefused() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try "thesis\n".write(to: out.appendingPathComponent("chapter1.tex"), atomically: true, encoding: .utf8)
        #expect(throws: OutputError.self) {
            try ArtifactDirectory.write(to: out, kind: "validation", recognisedBy: ["validation.csv"]) { staging in
                try "a\n".write(to: staging.appendingPathComponent("validation.csv"), atomically: true, encoding: .utf8)
            }
        }
        #expect(Self.read(out.appendingPathComponent("chapter1.tex")) == "thesis\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out"])

        let file = dir.appendingPathComponent("results.txt")
        try "mine\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: OutputError.self) {
            try ArtifactDirectory.write(to: file, kind: "validation") { _ in }
        }
        #expect(Self.read(file) == "mine\n")
    }

    @Test("an earlier artifact, an empty folder and a folder recognised by its files are replaced whole")
    func replacedWhole() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("001")
        for run in 1...2 {
            try ArtifactDirectory.write(to: out, kind: "experiment result", recognisedBy: ["run.json"]) { staging in
                try "\(run)\n".write(to: staging.appendingPathComponent("run.json"), atomically: true, encoding: .utf8)
                if run == 1 { try "x\n".write(to: staging.appendingPathComponent("only-in-1.csv"), atomically: true, encoding: .utf8) }
            }
        }
        #expect(Self.read(out.appendingPathComponent("run.json")) == "2\n")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("only-in-1.csv").path))
        #expect(Self.read(out.appendingPathComponent(ArtifactDirectory.markerName)) == "experiment result\n")
        // Nothing but the artifact is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["001"])
        // A folder from before markers, recognised by run.json.
        let legacy = dir.appendingPathComponent("002")
        try FileManager.default.createDirectory(at: legacy, withIntermediateDirectories: true)
        try "old\n".write(to: legacy.appendingPathComponent("run.json"), atomically: true, encoding: .utf8)
        try ArtifactDirectory.write(to: legacy, kind: "experiment result", recognisedBy: ["run.json"]) { staging in
            try "new\n".write(to: staging.appendingPathComponent("run.json"), atomically: true, encoding: .utf8)
        }
        #expect(Self.read(legacy.appendingPathComponent("run.json")) == "new\n")
        // Another kind's artifact is not replaced.
        #expect(throws: OutputError.self) {
            try ArtifactDirectory.write(to: out, kind: "validation") { _ in }
        }
    }

    @Test("an artifact written through a link to its folder replaces the folder; the link stays")
    func artifactThroughLink() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let real = dir.appendingPathComponent("real"), link = dir.appendingPathComponent("results")
        for (at, run) in [(real, "1"), (link, "2")] {
            if run == "2" { try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "real") }
            try ArtifactDirectory.write(to: at, kind: "experiment result") { staging in
                try "\(run)\n".write(to: staging.appendingPathComponent("run.json"), atomically: true, encoding: .utf8)
            }
        }
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == "real")
        #expect(Self.read(real.appendingPathComponent("run.json")) == "2\n")
    }

    @Test("a swap interrupted between its renames is recovered: the previous artifact comes back, leftovers go")
    func interruptedSwapRecovered() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("036")
        try ArtifactDirectory.write(to: out, kind: "experiment result") { staging in
            try "good\n".write(to: staging.appendingPathComponent("run.json"), atomically: true, encoding: .utf8)
        }
        // The state a kill between the renames leaves: the good folder aside, a staging folder, no final.
        try FileManager.default.moveItem(at: out, to: dir.appendingPathComponent(".old-036-1a2b3c4d"))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".tmp-036-5e6f7a8b"), withIntermediateDirectories: true)
        // The next run fails in the middle of its work: the previous result is back, nothing else remains.
        struct Failure: Error {}
        #expect(throws: Failure.self) {
            try ArtifactDirectory.write(to: out, kind: "experiment result") { _ in throw Failure() }
        }
        #expect(Self.read(out.appendingPathComponent("run.json")) == "good\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["036"])
    }
}
