// Corpus: the byte corpora the reference model trains on, their deterministic
// train/validation split, and random training batches.
//
// Built-in corpora exist on every machine after `make deps` (libgsl-dev,
// fortunes): "gsl" (C headers) and "prose" (English fortunes); any file or
// directory works too (`--corpus PATH`), and corpora join with "+"
// ("gsl+prose": each part split on its own, the splits concatenated). Depends on Foundation (file reading)
// and LinAlg (the seeded RandomSource) only.

import Files
import Foundation
import LinAlg

/// Why a corpus could not be loaded; every message is one line naming the
/// path and what to do.
public enum CorpusError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// A built-in corpus's directory is absent (its Debian package is not installed).
    case missingDirectory(corpus: String, path: String)
    /// A user path that does not exist.
    case pathNotFound(path: String)
    /// A file or directory that exists but cannot be read.
    case unreadable(path: String, reason: String)
    /// Reading found no bytes at all.
    case empty(corpus: String, path: String)
    /// Fewer bytes than the train/validation split needs.
    case tooSmall(corpus: String, path: String, byteCount: Int, minimumBytes: Int)

    public var description: String {
        switch self {
        case .missingDirectory(let corpus, let path):
            return "corpus '\(corpus)': directory \(path) not found; run 'make deps' (installs libgsl-dev and fortunes)"
        case .pathNotFound(let path):
            return "corpus path \(path) does not exist; pass an existing file or directory, or 'gsl' / 'prose' (join corpora with '+', as gsl+prose)"
        case .unreadable(let path, let reason):
            return "corpus path \(path) cannot be read (\(reason)); check its permissions"
        case .empty(let corpus, let path):
            return "corpus '\(corpus)' at \(path) is empty (no bytes in any regular file); pass a file or directory with text"
        case .tooSmall(let corpus, let path, let byteCount, let minimumBytes):
            return "corpus '\(corpus)' at \(path) has \(byteCount) bytes; the train/validation split needs at least \(minimumBytes) bytes (\(Corpus.validationPeriod) chunks of \(minimumBytes / Corpus.validationPeriod)); use a larger corpus"
        }
    }

    public var errorDescription: String? { description }
}

/// A byte corpus and its deterministic train/validation split.
///
/// The split: `bytes` is cut into chunks of `chunkBytes` (16 KiB by default);
/// chunk number c (from 0) goes to validation when c % 10 == 9, to training
/// otherwise; each split is its chunks concatenated in order. So validation is
/// ~10 % of the bytes, drawn from across the whole corpus (every part of it,
/// e.g. every GSL sub-library, is represented in both), and the split depends
/// on nothing but the bytes and `chunkBytes`. A corpus needs at least
/// 10 × chunkBytes bytes, so validation holds at least one full chunk.
/// (The text jumps only where a validation chunk was taken out: one seam per
/// 9 training chunks, 144 KiB; ~0.2 % of 256-byte training windows straddle one.)
public struct Corpus: Sendable {
    /// Directory of the GSL headers (Debian package libgsl-dev).
    public static let gslDirectory = "/usr/include/gsl"
    /// Directory of the English fortunes (Debian package fortunes).
    public static let fortunesDirectory = "/usr/share/games/fortunes"
    /// Default chunk size of the train/validation split.
    public static let defaultChunkBytes = 16 * 1024
    /// One chunk in this many goes to validation (the last of each group).
    public static let validationPeriod = 10

    /// "gsl", "prose", or the user's path as given.
    public let name: String
    /// The files read, in the order their bytes appear in `bytes`.
    public let files: [String]
    /// The whole corpus.
    public let bytes: [UInt8]
    /// Chunks with index % 10 != 9, concatenated.
    public let train: [UInt8]
    /// Chunks with index % 10 == 9, concatenated.
    public let validation: [UInt8]
    /// Chunk size of the split.
    public let chunkBytes: Int
    /// The corpora a joined corpus ("gsl+prose") is made of, in order, with
    /// where each one's validation bytes lie in `validation`; one part, the
    /// corpus itself, otherwise.
    public let parts: [Part]

    /// One corpus of a joined corpus.
    public struct Part: Sendable, Equatable {
        public let name: String
        /// Its validation split's bytes within the joined `validation`.
        public let validationRange: Range<Int>
    }

    /// A corpus from bytes already in memory; throws `tooSmall` below
    /// `minimumBytes(chunkBytes:)` and `empty` for no bytes.
    public init(name: String, bytes: [UInt8], files: [String] = [],
                chunkBytes: Int = Corpus.defaultChunkBytes) throws {
        precondition(chunkBytes > 0, "Corpus: chunkBytes \(chunkBytes) must be > 0")
        let location = files.count == 1 ? files[0] : (files.isEmpty ? "(memory)" : "\(files.count) files")
        guard !bytes.isEmpty else { throw CorpusError.empty(corpus: name, path: location) }
        let minimum = Corpus.minimumBytes(chunkBytes: chunkBytes)
        guard bytes.count >= minimum else {
            throw CorpusError.tooSmall(corpus: name, path: location, byteCount: bytes.count, minimumBytes: minimum)
        }
        self.name = name
        self.files = files
        self.bytes = bytes
        self.chunkBytes = chunkBytes
        (self.train, self.validation) = Corpus.split(bytes, chunkBytes: chunkBytes)
        self.parts = [Part(name: name, validationRange: 0..<validation.count)]
    }

    /// Corpora joined in order: bytes, training and validation splits are the
    /// parts' own, concatenated, so each part keeps exactly the split it has
    /// alone and its validation bytes can still be scored on their own.
    public init(joining parts: [Corpus]) {
        precondition(!parts.isEmpty, "Corpus(joining:): no parts")
        name = parts.map(\.name).joined(separator: "+")
        files = parts.flatMap(\.files)
        bytes = parts.flatMap(\.bytes)
        train = parts.flatMap(\.train)
        validation = parts.flatMap(\.validation)
        chunkBytes = parts[0].chunkBytes
        var start = 0, joined: [Part] = []
        for part in parts {
            joined.append(Part(name: part.name, validationRange: start..<(start + part.validation.count)))
            start += part.validation.count
        }
        self.parts = joined
    }

    /// The validation bytes of the part named `name` (the whole validation split for a single corpus).
    public func validation(of name: String) -> ArraySlice<UInt8>? {
        parts.first { $0.name == name }.map { validation[$0.validationRange] }
    }

    /// The smallest corpus the split accepts: 10 chunks.
    public static func minimumBytes(chunkBytes: Int = Corpus.defaultChunkBytes) -> Int {
        validationPeriod * chunkBytes
    }

    /// The split described on `Corpus`.
    public static func split(_ bytes: [UInt8], chunkBytes: Int) -> (train: [UInt8], validation: [UInt8]) {
        precondition(chunkBytes > 0, "Corpus.split: chunkBytes \(chunkBytes) must be > 0")
        var train: [UInt8] = [], validation: [UInt8] = []
        validation.reserveCapacity(bytes.count / validationPeriod + chunkBytes)
        train.reserveCapacity(bytes.count - bytes.count / validationPeriod + chunkBytes)
        var start = 0, chunkIndex = 0
        while start < bytes.count {
            let end = min(start + chunkBytes, bytes.count)
            if chunkIndex % validationPeriod == validationPeriod - 1 {
                validation.append(contentsOf: bytes[start..<end])
            } else {
                train.append(contentsOf: bytes[start..<end])
            }
            start = end
            chunkIndex += 1
        }
        return (train, validation)
    }

    /// Loads "gsl", "prose", or a file / directory path; several joined by "+"
    /// ("gsl+prose") load as one corpus (`init(joining:)`). A relative path
    /// that happens to be named `gsl` or `prose` must be written `./gsl`; a
    /// path whose name holds "+" is taken whole when it exists.
    public static func load(_ spec: String, chunkBytes: Int = Corpus.defaultChunkBytes) throws -> Corpus {
        let pieces = spec.split(separator: "+", omittingEmptySubsequences: false).map(String.init)
        if pieces.count > 1, fileKind((spec as NSString).expandingTildeInPath) == .missing {
            guard !pieces.contains(where: \.isEmpty) else { throw CorpusError.pathNotFound(path: spec) }
            return Corpus(joining: try pieces.map { try load($0, chunkBytes: chunkBytes) })
        }
        switch spec {
        case "gsl": return try gsl(chunkBytes: chunkBytes)
        case "prose": return try prose(chunkBytes: chunkBytes)
        default: return try path(spec, chunkBytes: chunkBytes)
        }
    }

    /// Every `*.h` regular file directly in `directory`, sorted by file name
    /// (byte order), each preceded by a line `/* file: NAME */` and ending in a
    /// newline. /usr/include/gsl with GSL 2.7.1: 266 headers, ~1.2 MB of C.
    public static func gsl(directory: String = Corpus.gslDirectory,
                           chunkBytes: Int = Corpus.defaultChunkBytes) throws -> Corpus {
        let names = try regularFileNames(in: directory, corpus: "gsl").filter { $0.hasSuffix(".h") }
        var bytes: [UInt8] = [], files: [String] = []
        for name in names {
            let path = directory + "/" + name
            bytes.append(contentsOf: Array("/* file: \(name) */\n".utf8))
            let content = try readFile(path)
            bytes.append(contentsOf: content)
            if content.last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
            files.append(path)
        }
        return try Corpus(name: "gsl", bytes: bytes, files: files, chunkBytes: chunkBytes, emptyPath: directory)
    }

    /// The English fortune files directly in `directory` (Debian `fortunes`,
    /// /usr/share/games/fortunes): regular files only, so neither the `off/`
    /// (offensive) subdirectory nor the `.u8` symlinks are read; `.dat` index
    /// files are skipped. Sorted by name. The `%` separator lines are kept
    /// verbatim: every fortune ends with a line "%" (one is appended to a file
    /// whose last line is not "%"), so the model sees the document boundary.
    public static func prose(directory: String = Corpus.fortunesDirectory,
                             chunkBytes: Int = Corpus.defaultChunkBytes) throws -> Corpus {
        let names = try regularFileNames(in: directory, corpus: "prose").filter { !$0.hasSuffix(".dat") }
        var bytes: [UInt8] = [], files: [String] = []
        let separator = Array("%\n".utf8)
        for name in names {
            let path = directory + "/" + name
            var content = try readFile(path)
            if content.isEmpty { continue }
            if content.last != UInt8(ascii: "\n") { content.append(UInt8(ascii: "\n")) }
            let endsWithSeparator = content.count == 2 ? content == separator
                : content.count > 2 && content.suffix(3).elementsEqual(Array("\n%\n".utf8))
            if !endsWithSeparator { content.append(contentsOf: separator) }
            bytes.append(contentsOf: content)
            files.append(path)
        }
        return try Corpus(name: "prose", bytes: bytes, files: files, chunkBytes: chunkBytes, emptyPath: directory)
    }

    /// A user's file, or every regular file under a directory (recursively,
    /// sorted by relative path in byte order, concatenated as they are).
    /// Symbolic links are not followed, and hidden entries (names starting
    /// with ".", e.g. `.git`) are skipped.
    public static func path(_ path: String, chunkBytes: Int = Corpus.defaultChunkBytes) throws -> Corpus {
        let expanded = (path as NSString).expandingTildeInPath
        switch fileKind(expanded) {
        case .missing:
            throw CorpusError.pathNotFound(path: path)
        case .regular:
            return try Corpus(name: path, bytes: readFile(expanded), files: [expanded],
                              chunkBytes: chunkBytes, emptyPath: path)
        case .directory:
            var relativePaths: [String] = []
            try collectRegularFiles(root: expanded, relative: "", into: &relativePaths)
            relativePaths.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            var bytes: [UInt8] = [], files: [String] = []
            for relative in relativePaths {
                let full = expanded + "/" + relative
                bytes.append(contentsOf: try readFile(full))
                files.append(full)
            }
            return try Corpus(name: path, bytes: bytes, files: files, chunkBytes: chunkBytes, emptyPath: path)
        case .other:
            throw CorpusError.unreadable(path: path, reason: "not a regular file or directory")
        }
    }

    // MARK: - File system helpers

    /// As the public init, but `empty` / `tooSmall` name `emptyPath`.
    private init(name: String, bytes: [UInt8], files: [String], chunkBytes: Int, emptyPath: String) throws {
        do {
            try self.init(name: name, bytes: bytes, files: files, chunkBytes: chunkBytes)
        } catch CorpusError.empty(let corpus, _) {
            throw CorpusError.empty(corpus: corpus, path: emptyPath)
        } catch CorpusError.tooSmall(let corpus, _, let count, let minimum) {
            throw CorpusError.tooSmall(corpus: corpus, path: emptyPath, byteCount: count, minimumBytes: minimum)
        }
    }

    private enum FileKind { case missing, regular, directory, other }

    /// The kind of `path` itself (lstat: a symbolic link is `.other`).
    private static func fileKind(_ path: String) -> FileKind {
        var info = stat()
        guard lstat(path, &info) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        default: return .other
        }
    }

    /// Names of the regular files directly inside a built-in corpus directory,
    /// sorted in byte order.
    private static func regularFileNames(in directory: String, corpus: String) throws -> [String] {
        guard fileKind(directory) == .directory else {
            throw CorpusError.missingDirectory(corpus: corpus, path: directory)
        }
        return try directoryEntries(directory)
            .filter { fileKind(directory + "/" + $0) == .regular }
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    private static func directoryEntries(_ directory: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw CorpusError.unreadable(path: directory, reason: error.localizedDescription)
        }
    }

    private static func collectRegularFiles(root: String, relative: String, into result: inout [String]) throws {
        let directory = relative.isEmpty ? root : root + "/" + relative
        for name in try directoryEntries(directory) where !name.hasPrefix(".") {
            let child = relative.isEmpty ? name : relative + "/" + name
            switch fileKind(root + "/" + child) {
            case .regular: result.append(child)
            case .directory: try collectRegularFiles(root: root, relative: child, into: &result)
            case .missing, .other: continue
            }
        }
    }

    private static func readFile(_ path: String) throws -> [UInt8] {
        do {
            return [UInt8](try InputFile.read(path, what: "corpus file"))
        } catch let error as InputError {
            throw CorpusError.unreadable(path: path, reason: error.description)
        } catch {
            throw CorpusError.unreadable(path: path, reason: error.localizedDescription)
        }
    }
}

/// Random training windows from a byte sequence, deterministic for a seed.
///
/// Each row of a batch is a window starting at a uniform random offset i in
/// 0...(count − T − 1): inputs = bytes[i..<i+T], targets = bytes[i+1...i+T].
/// Draws come from LinAlg's `RandomSource` (GSL mt19937). The generator is a
/// reference type: a copy of a sampler shares its stream with the original.
public struct BatchSampler {
    public let data: [UInt8]
    public let sequenceLength: Int
    public let batchSize: Int
    public let seed: UInt64
    private let random: RandomSource

    public init(data: [UInt8], sequenceLength: Int, batchSize: Int, seed: UInt64) {
        precondition(sequenceLength >= 1, "BatchSampler: sequenceLength \(sequenceLength) must be ≥ 1")
        precondition(batchSize >= 1, "BatchSampler: batchSize \(batchSize) must be ≥ 1")
        precondition(data.count > sequenceLength,
                     "BatchSampler: \(data.count) bytes cannot hold a window of \(sequenceLength) + 1")
        self.data = data
        self.sequenceLength = sequenceLength
        self.batchSize = batchSize
        self.seed = seed
        self.random = RandomSource(seed: seed)
    }

    /// The next batch: inputs (B,T) and targets (B,T), row-major, byte values
    /// as Int32 token ids; targets[b, t] = inputs[b, t + 1] for t < T − 1.
    public mutating func next() -> (inputs: [Int32], targets: [Int32]) {
        let length = sequenceLength
        let startCount = data.count - length   // valid starts 0..<startCount
        var inputs = [Int32](repeating: 0, count: batchSize * length)
        var targets = [Int32](repeating: 0, count: batchSize * length)
        data.withUnsafeBufferPointer { bytes in
            for row in 0..<batchSize {
                let start = random.uniformInt(below: startCount)
                for t in 0..<length {
                    inputs[row * length + t] = Int32(bytes[start + t])
                    targets[row * length + t] = Int32(bytes[start + t + 1])
                }
            }
        }
        return (inputs, targets)
    }

    /// `evaluationWindows` over this sampler's data.
    public func evaluationWindows(sequenceLength: Int, maxWindows: Int) -> [[UInt8]] {
        BatchSampler.evaluationWindows(data: data, sequenceLength: sequenceLength, maxWindows: maxWindows)
    }

    /// Deterministic evaluation windows of `sequenceLength + 1` bytes:
    /// window k starts at k·T, so inputs w[0..<T] and targets w[1...T] of
    /// different windows never overlap (every byte after the first is
    /// predicted at most once). When more than `maxWindows` fit, windows are
    /// taken evenly spread over the data (k_j = ⌊j·available/maxWindows⌋), so
    /// a capped evaluation still sees all of it, not only its beginning.
    public static func evaluationWindows(data: [UInt8], sequenceLength: Int, maxWindows: Int) -> [[UInt8]] {
        precondition(sequenceLength >= 1, "evaluationWindows: sequenceLength \(sequenceLength) must be ≥ 1")
        precondition(maxWindows >= 0, "evaluationWindows: maxWindows \(maxWindows) is negative")
        guard data.count > sequenceLength else { return [] }
        let available = (data.count - 1) / sequenceLength
        let count = min(available, maxWindows)
        return (0..<count).map { j in
            let k = count == available ? j : j * available / count
            let start = k * sequenceLength
            return Array(data[start...(start + sequenceLength)])
        }
    }
}
