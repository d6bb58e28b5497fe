// Tests of the corpora (gsl, prose, a user directory), their deterministic
// train/validation split, the load errors, and the batch sampler.

import Foundation
import Testing
@testable import Transformer

/// A fresh empty directory under the system temporary directory.
func makeTemporaryDirectory(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("speclab-\(label)-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

private let gslPresent = FileManager.default.fileExists(atPath: Corpus.gslDirectory)
private let fortunesPresent = FileManager.default.fileExists(atPath: Corpus.fortunesDirectory)

@Suite("Corpus")
struct CorpusTests {
    /// The split rebuilt by hand from its definition: chunk c goes to validation iff c % 10 == 9.
    private func handSplit(_ bytes: [UInt8], chunkBytes: Int) -> (train: [UInt8], validation: [UInt8]) {
        var train: [UInt8] = [], validation: [UInt8] = []
        for (index, start) in stride(from: 0, to: bytes.count, by: chunkBytes).enumerated() {
            let chunk = bytes[start..<min(start + chunkBytes, bytes.count)]
            if index % 10 == 9 { validation += chunk } else { train += chunk }
        }
        return (train, validation)
    }

    private func checkSplit(_ corpus: Corpus) {
        #expect(corpus.train.count + corpus.validation.count == corpus.bytes.count)
        let fraction = Double(corpus.validation.count) / Double(corpus.bytes.count)
        #expect(fraction > 0.08 && fraction < 0.12, "validation fraction \(fraction)")
        let expected = handSplit(corpus.bytes, chunkBytes: corpus.chunkBytes)
        #expect(corpus.train == expected.train)
        #expect(corpus.validation == expected.validation)
    }

    @Test("gsl: > 500 KB of C headers with file markers, ~90/10 split, deterministic",
          .enabled(if: gslPresent, "/usr/include/gsl is missing: run 'make deps' (installs libgsl-dev)"))
    func gslCorpus() throws {
        let corpus = try Corpus.load("gsl")
        #expect(corpus.name == "gsl")
        #expect(corpus.bytes.count > 500_000)
        #expect(corpus.files.allSatisfy { $0.hasSuffix(".h") })
        #expect(corpus.files == corpus.files.sorted())
        #expect(corpus.bytes.starts(with: Array("/* file: ".utf8)))
        // Lines split on the byte 0x0A (Swift Strings treat "\r\n" as one character, and
        // gsl_sf_hermite.h has CRLF line ends; gsl_complex_math.h has a Latin-1 byte).
        let markers = corpus.bytes.split(separator: UInt8(ascii: "\n"))
            .map { String(decoding: $0, as: UTF8.self) }
            .filter { $0.hasPrefix("/* file: ") && $0.hasSuffix(".h */") }
        #expect(markers.count == corpus.files.count)
        checkSplit(corpus)
        let again = try Corpus.load("gsl")
        #expect(again.train == corpus.train && again.validation == corpus.validation)
        print("gsl corpus: \(corpus.bytes.count) bytes in \(corpus.files.count) files; train \(corpus.train.count), validation \(corpus.validation.count)")
    }

    @Test("prose: fortunes without .dat files or off/, '%' separators kept, ~90/10 split, deterministic",
          .enabled(if: fortunesPresent, "/usr/share/games/fortunes is missing: run 'make deps' (installs fortunes)"))
    func proseCorpus() throws {
        let corpus = try Corpus.load("prose")
        #expect(corpus.name == "prose")
        #expect(corpus.bytes.count > 500_000)
        #expect(!corpus.files.isEmpty)
        #expect(corpus.files.allSatisfy { !$0.hasSuffix(".dat") && !$0.hasSuffix(".u8") && !$0.contains("/off/") })
        #expect(corpus.bytes.suffix(3).elementsEqual(Array("\n%\n".utf8)))
        checkSplit(corpus)
        let again = try Corpus.load("prose")
        #expect(again.bytes == corpus.bytes && again.validation == corpus.validation)
        print("prose corpus: \(corpus.bytes.count) bytes in \(corpus.files.count) files; train \(corpus.train.count), validation \(corpus.validation.count)")
    }

    @Test("the split by hand: 100 bytes in 4-byte chunks, chunks 9 and 19 (bytes 36..<40, 76..<80) validate")
    func splitByHand() throws {
        let bytes = (0..<100).map { UInt8($0) }
        let corpus = try Corpus(name: "hand", bytes: bytes, chunkBytes: 4)
        #expect(corpus.validation == [36, 37, 38, 39, 76, 77, 78, 79])
        #expect(corpus.train == bytes.filter { !(36..<40).contains($0) && !(76..<80).contains($0) })
        #expect(Corpus.minimumBytes(chunkBytes: 4) == 40)
        #expect(Corpus.minimumBytes() == 163_840)
    }

    @Test("a temporary directory: regular files, recursive, sorted by path; hidden files and symlinks skipped")
    func directoryCorpus() throws {
        let root = try makeTemporaryDirectory("corpus")
        defer { try? FileManager.default.removeItem(at: root) }
        let fm = FileManager.default
        try fm.createDirectory(at: root.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try fm.createDirectory(at: root.appendingPathComponent(".git"), withIntermediateDirectories: true)
        let a = [UInt8](repeating: UInt8(ascii: "a"), count: 100)
        let b = [UInt8](repeating: UInt8(ascii: "b"), count: 60)
        let c = [UInt8](repeating: UInt8(ascii: "c"), count: 40)
        try Data(b).write(to: root.appendingPathComponent("sub/b.txt"))
        try Data(a).write(to: root.appendingPathComponent("a.txt"))
        try Data(c).write(to: root.appendingPathComponent("z.txt"))
        try Data("hidden".utf8).write(to: root.appendingPathComponent(".hidden"))
        try Data("git".utf8).write(to: root.appendingPathComponent(".git/config"))
        try fm.createSymbolicLink(at: root.appendingPathComponent("link.txt"),
                                  withDestinationURL: root.appendingPathComponent("a.txt"))

        let corpus = try Corpus.load(root.path, chunkBytes: 16)
        #expect(corpus.name == root.path)
        #expect(corpus.files.map { $0.replacingOccurrences(of: root.path + "/", with: "") }
                == ["a.txt", "sub/b.txt", "z.txt"])
        #expect(corpus.bytes == a + b + c)
        #expect(corpus.train.count + corpus.validation.count == 200)
        // 200 bytes in 16-byte chunks: 13 chunks, only chunk 9 (bytes 144..<160) validates.
        #expect(corpus.validation == Array((a + b + c)[144..<160]))

        // A single file works the same way.
        let single = try Corpus.load(root.appendingPathComponent("a.txt").path, chunkBytes: 10)
        #expect(single.bytes == a && single.validation == Array(a[90..<100]))
    }

    @Test("joined with '+': each part keeps its own split, the splits concatenated; each part's validation bytes findable")
    func joinedCorpus() throws {
        let root = try makeTemporaryDirectory("corpus-joined")
        defer { try? FileManager.default.removeItem(at: root) }
        // 50 and 60 bytes in 5-byte chunks: alone, each validates its chunk 9 (its bytes 45..<50).
        let a = (0..<50).map { UInt8($0) }, b = (100..<160).map { UInt8($0) }
        let pathA = root.appendingPathComponent("a.txt").path, pathB = root.appendingPathComponent("b.txt").path
        try Data(a).write(to: URL(fileURLWithPath: pathA))
        try Data(b).write(to: URL(fileURLWithPath: pathB))
        let joined = try Corpus.load(pathA + "+" + pathB, chunkBytes: 5)
        #expect(joined.name == pathA + "+" + pathB)
        #expect(joined.bytes == a + b)
        // Alone: a validates bytes 45..<50; b validates its bytes 45..<50 (values 145...149).
        #expect(joined.validation == [45, 46, 47, 48, 49, 145, 146, 147, 148, 149])
        #expect(joined.train == Array(a[0..<45]) + Array(b[0..<45]) + Array(b[50..<60]))
        #expect(joined.parts.map(\.name) == [pathA, pathB])
        #expect(joined.validation(of: pathB).map(Array.init) == [145, 146, 147, 148, 149])
        #expect(joined.validation(of: "nothing") == nil)
        // A single corpus is its own one part.
        let single = try Corpus.load(pathA, chunkBytes: 5)
        #expect(single.parts.map(\.name) == [pathA] && single.validation(of: pathA).map(Array.init) == [45, 46, 47, 48, 49])
        // An empty piece is refused, naming the whole spec.
        #expect(throws: CorpusError.pathNotFound(path: pathA + "++" + pathB)) {
            try Corpus.load(pathA + "++" + pathB, chunkBytes: 5)
        }
    }

    @Test("errors: missing path, missing built-in directory, empty file, too small; one line naming the path")
    func loadErrors() throws {
        let root = try makeTemporaryDirectory("corpus-errors")
        defer { try? FileManager.default.removeItem(at: root) }
        let missing = root.appendingPathComponent("nope").path
        #expect(throws: CorpusError.pathNotFound(path: missing)) { try Corpus.load(missing) }

        let builtIn = CorpusError.missingDirectory(corpus: "gsl", path: missing)
        #expect(throws: builtIn) { try Corpus.gsl(directory: missing) }
        #expect(builtIn.description.contains("run 'make deps' (installs libgsl-dev and fortunes)"))
        #expect(throws: CorpusError.missingDirectory(corpus: "prose", path: missing)) {
            try Corpus.prose(directory: missing)
        }

        let emptyFile = root.appendingPathComponent("empty.txt")
        try Data().write(to: emptyFile)
        #expect(throws: CorpusError.empty(corpus: emptyFile.path, path: emptyFile.path)) {
            try Corpus.load(emptyFile.path)
        }
        let emptyDirectory = root.appendingPathComponent("emptydir")
        try FileManager.default.createDirectory(at: emptyDirectory, withIntermediateDirectories: true)
        #expect(throws: CorpusError.empty(corpus: emptyDirectory.path, path: emptyDirectory.path)) {
            try Corpus.load(emptyDirectory.path)
        }

        let small = root.appendingPathComponent("small.txt")
        try Data(repeating: 65, count: 1000).write(to: small)
        let tooSmall = CorpusError.tooSmall(corpus: small.path, path: small.path, byteCount: 1000, minimumBytes: 163_840)
        #expect(throws: tooSmall) { try Corpus.load(small.path) }
        #expect(tooSmall.description.contains("at least 163840 bytes"))

        let named: [(CorpusError, String)] = [(builtIn, missing), (.pathNotFound(path: missing), missing),
                                              (tooSmall, small.path)]
        for (error, path) in named {
            #expect(!error.description.contains("\n"))
            #expect(error.description.contains(path))
        }
    }
}

@Suite("BatchSampler")
struct BatchSamplerTests {
    /// data[i] = i mod 251, so the byte after value x is (x + 1) mod 251 wherever it sits.
    private let data = (0..<10_000).map { UInt8($0 % 251) }

    @Test("same seed gives the same batches, another seed different ones")
    func deterministic() {
        var first = BatchSampler(data: data, sequenceLength: 16, batchSize: 4, seed: 7)
        var second = BatchSampler(data: data, sequenceLength: 16, batchSize: 4, seed: 7)
        var other = BatchSampler(data: data, sequenceLength: 16, batchSize: 4, seed: 8)
        var differs = false
        for _ in 0..<5 {
            let a = first.next(), b = second.next(), c = other.next()
            #expect(a.inputs == b.inputs && a.targets == b.targets)
            if a.inputs != c.inputs { differs = true }
        }
        #expect(differs)
    }

    @Test("targets are the inputs shifted by one, windows are contiguous text, shapes (B,T)")
    func targetsShifted() {
        let length = 32, batch = 8
        var sampler = BatchSampler(data: data, sequenceLength: length, batchSize: batch, seed: 3)
        for _ in 0..<20 {
            let (inputs, targets) = sampler.next()
            #expect(inputs.count == batch * length && targets.count == batch * length)
            for row in 0..<batch {
                for t in 0..<length {
                    let input = inputs[row * length + t], target = targets[row * length + t]
                    #expect(target == (input + 1) % 251)
                    if t + 1 < length { #expect(inputs[row * length + t + 1] == target) }
                }
            }
        }
    }

    @Test("windows reach both ends of the data: a 5-byte corpus with T = 4 has a single window")
    func edgeWindows() {
        var sampler = BatchSampler(data: [10, 11, 12, 13, 14], sequenceLength: 4, batchSize: 3, seed: 1)
        let (inputs, targets) = sampler.next()
        #expect(inputs == [10, 11, 12, 13, 10, 11, 12, 13, 10, 11, 12, 13])
        #expect(targets == [11, 12, 13, 14, 11, 12, 13, 14, 11, 12, 13, 14])
    }

    @Test("evaluation windows: T + 1 bytes at stride T, evenly spread when capped, deterministic")
    func evaluationWindows() {
        let bytes = (0..<100).map { UInt8($0) }
        // (100 − 1) / 10 = 9 windows, starts 0, 10, …, 80, each 11 bytes.
        let all = BatchSampler.evaluationWindows(data: bytes, sequenceLength: 10, maxWindows: 100)
        #expect(all.count == 9)
        #expect(all.map { $0.first! } == [0, 10, 20, 30, 40, 50, 60, 70, 80])
        #expect(all.allSatisfy { $0.count == 11 })
        #expect(all[8] == Array(80...90).map { UInt8($0) })
        // Capped at 3: windows k = ⌊j·9/3⌋ = 0, 3, 6.
        let capped = BatchSampler.evaluationWindows(data: bytes, sequenceLength: 10, maxWindows: 3)
        #expect(capped.map { $0.first! } == [0, 30, 60])
        let sampler = BatchSampler(data: bytes, sequenceLength: 10, batchSize: 1, seed: 0)
        #expect(sampler.evaluationWindows(sequenceLength: 10, maxWindows: 3) == capped)
        #expect(BatchSampler.evaluationWindows(data: [1, 2, 3], sequenceLength: 3, maxWindows: 5).isEmpty)
    }
}
