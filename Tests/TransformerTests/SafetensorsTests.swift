// Tests of safetensors checkpoints: round trip, the exact byte layout of a tiny
// file written out by hand, every read error on hand-built corrupt files,
// atomic writes, and (when Python has the packages) interoperability.

import Foundation
import Testing
@testable import Transformer

/// Whether `python3 -c "import <module>"` succeeds on this machine.
private func pythonCanImport(_ module: String) -> Bool {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import \(module)"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}

/// Runs a Python script with arguments and returns its standard output.
private func runPython(_ script: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "python3 exited with \(process.terminationStatus)")
    return String(decoding: output, as: UTF8.self)
}

@Suite("Safetensors")
struct SafetensorsTests {
    /// A file image: 8-byte little-endian header length, header (padded with
    /// spaces to the 8-byte boundary), data.
    private func image(header: String, data: [UInt8]) -> [UInt8] {
        var json = Array(header.utf8)
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        return withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) } + json + data
    }

    private func parse(_ bytes: [UInt8]) throws -> SafetensorsFile {
        try bytes.withUnsafeBytes { try SafetensorsFile.parse($0, path: "test.safetensors") }
    }

    private func floatBytes(_ values: [Float]) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
    }

    /// Tensors that exercise shapes (matrix, vector, scalar, empty) and values
    /// that a lossy path would change (−0, ±∞, NaN, subnormal, extremes).
    private var sample: SafetensorsFile {
        SafetensorsFile(
            tensors: [("embedding.weight", [2, 3], [1, -2.5, 0.1, -0.0, .greatestFiniteMagnitude, .leastNonzeroMagnitude]),
                      ("norm.scale", [4], [.infinity, -.infinity, .nan, 3.14159]),
                      ("scalar", [], [42]),
                      ("empty", [0, 5], []),
                      ("blocks.0.attention.query", [1, 2], [-1e-20, 7])],
            metadata: ["config": "{\"layers\": 2}", "seed": "42", "note": "ünïcode\nline\t\"quoted\" \\ \u{1}"])
    }

    @Test("round trip: names, order, shapes, bit-exact values and metadata survive write + read")
    func roundTrip() throws {
        let directory = try makeTemporaryDirectory("safetensors")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("model.safetensors")
        try sample.write(to: url)
        let loaded = try SafetensorsFile.read(from: url)
        #expect(loaded.tensors.map(\.name) == sample.tensors.map(\.name))
        #expect(loaded.tensors.map(\.shape) == sample.tensors.map(\.shape))
        for (read, written) in zip(loaded.tensors, sample.tensors) {
            #expect(read.values.map(\.bitPattern) == written.values.map(\.bitPattern), "\(read.name)")
        }
        #expect(loaded.metadata == sample.metadata)
        #expect(loaded.tensor(named: "scalar")?.values == [42])
        // The file's size is 8 + header + 4 bytes per value, and the header is 8-byte aligned.
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as! Int
        #expect(size == 8 + (try sample.headerBytes()).count + 4 * 13)   // 6 + 4 + 1 + 0 + 2 values
        #expect((8 + (try sample.headerBytes()).count) % 8 == 0)
    }

    @Test("a tiny file is byte for byte the hand-written layout")
    func byteLayout() throws {
        let file = SafetensorsFile(tensors: [("a", [2], [1.0, -2.0])], metadata: ["k": "v"])
        // 79 bytes of JSON, padded with one space to 80 so that 8 + 80 is a multiple of 8.
        let json = #"{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        #expect(json.utf8.count == 79)
        let expected: [UInt8] = [0x50, 0, 0, 0, 0, 0, 0, 0]            // 80, little-endian UInt64
            + Array(json.utf8) + [0x20]
            + [0x00, 0x00, 0x80, 0x3F]                                    // 1.0f  = 0x3F800000
            + [0x00, 0x00, 0x00, 0xC0]                                    // -2.0f = 0xC0000000
        #expect(try file.serialized() == expected)

        let directory = try makeTemporaryDirectory("safetensors-layout")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("tiny.safetensors")
        try file.write(to: url)
        #expect([UInt8](try Data(contentsOf: url)) == expected)
        // No metadata: the key is omitted. 54 bytes of JSON + 2 spaces = 56 (8 + 56 = 64).
        let bare = SafetensorsFile(tensors: [("a", [2], [1.0, -2.0])])
        #expect(try bare.headerBytes() == Array(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  "#.utf8))
    }

    @Test("F16 and BF16 tensors are read and converted exactly")
    func halfPrecisionRead() throws {
        // F16: 1.0 = 0x3C00, −2.0 = 0xC000, 0.5 = 0x3800, smallest subnormal 0x0001 = 2⁻²⁴, +∞ = 0x7C00, 65504 = 0x7BFF.
        // BF16: 1.0 = 0x3F80, −3.0 = 0xC040.
        let half: [UInt16] = [0x3C00, 0xC000, 0x3800, 0x0001, 0x7C00, 0x7BFF]
        let brain: [UInt16] = [0x3F80, 0xC040]
        let data = (half + brain).flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
        let header = #"{"h":{"dtype":"F16","shape":[2,3],"data_offsets":[0,12]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[12,16]}}"#
        let file = try parse(image(header: header, data: data))
        #expect(file.tensors.map(\.name) == ["h", "b"])   // data-offset order, not key order
        #expect(file.tensors[0].values == [1, -2, 0.5, 0x1p-24, .infinity, 65504])
        #expect(file.tensors[1].values == [1, -3])
        #expect(SafetensorsFile.floatFromHalf(0xFE00).isNaN)
        #expect(SafetensorsFile.floatFromHalf(0x8000).bitPattern == (-0.0 as Float).bitPattern)
        #expect(SafetensorsFile.floatFromHalf(0x0400) == 0x1p-14)   // smallest normal
    }

    @Test("every read error is named in one line")
    func readErrors() throws {
        let path = "test.safetensors"
        let eight = floatBytes([1, 2])
        let cases: [(String, [UInt8], SafetensorsError)] = [
            ("shorter than 8 bytes", [1, 2, 3, 4, 5], .fileTooShort(path: path, byteCount: 5)),
            ("header length > file", withUnsafeBytes(of: UInt64(1000).littleEndian) { Array($0) } + Array("{}".utf8),
             .headerLengthExceedsFile(path: path, headerLength: 1000, fileBytes: 10)),
            ("missing dtype", image(header: #"{"a":{"shape":[2],"data_offsets":[0,8]}}"#, data: eight),
             .missingField(path: path, tensor: "a", field: "dtype")),
            ("missing shape", image(header: #"{"a":{"dtype":"F32","data_offsets":[0,8]}}"#, data: eight),
             .missingField(path: path, tensor: "a", field: "shape")),
            ("missing data_offsets", image(header: #"{"a":{"dtype":"F32","shape":[2]}}"#, data: eight),
             .missingField(path: path, tensor: "a", field: "data_offsets")),
            ("negative dimension", image(header: #"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: eight),
             .invalidField(path: path, tensor: "a", field: "shape", reason: "is not an array of non-negative integers")),
            ("unsupported dtype", image(header: #"{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#, data: eight),
             .unsupportedDtype(path: path, tensor: "a", dtype: "I64")),
            ("end before begin", image(header: #"{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, data: eight),
             .offsetsOutOfRange(path: path, tensor: "a", begin: 8, end: 0, reason: "end before begin")),
            ("overlap", image(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                              data: floatBytes([1, 2, 3])),
             .offsetsOutOfRange(path: path, tensor: "b", begin: 4, end: 12, reason: "overlap the previous tensor, which ends at 8")),
            ("gap", image(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: eight),
             .offsetsOutOfRange(path: path, tensor: "a", begin: 4, end: 8, reason: "leave a gap: the previous tensor ends at 0")),
            ("size ≠ shape × 4", image(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: eight),
             .sizeMismatch(path: path, tensor: "a", shape: [3], dtype: "F32", expectedBytes: 12, actualBytes: 8)),
            ("truncated", image(header: #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: eight),
             .truncated(path: path, headerDataBytes: 16, fileDataBytes: 8)),
            ("trailing bytes", image(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: eight),
             .trailingBytes(path: path, headerDataBytes: 4, fileDataBytes: 8)),
            ("metadata not strings", image(header: #"{"__metadata__":{"seed":42}}"#, data: []),
             .invalidMetadata(path: path, reason: "value of 'seed' is not a string")),
            ("entry not an object", image(header: #"{"a":[1,2]}"#, data: []),
             .invalidField(path: path, tensor: "a", field: "entry", reason: "is not a JSON object")),
        ]
        for (label, bytes, expected) in cases {
            #expect(throws: expected, "\(label)") { try parse(bytes) }
            #expect(!expected.description.contains("\n") && expected.description.contains(path), "\(label)")
        }
        #expect(SafetensorsError.truncated(path: path, headerDataBytes: 16, fileDataBytes: 8).description
                == "test.safetensors: file is truncated: header says 16 data bytes, file has 8")

        // Not JSON, and JSON that is not an object: the reason comes from the parser, so match the case only.
        for header in ["hello, world", "[1, 2]", "{\"a\": "] {
            do {
                _ = try parse(image(header: header, data: []))
                Issue.record("header \(header) was accepted")
            } catch let error as SafetensorsError {
                guard case .headerNotJSON(let errorPath, _) = error else {
                    Issue.record("header \(header): \(error)"); continue
                }
                #expect(errorPath == path && !error.description.contains("\n"))
            }
        }

        // A file that does not exist.
        let missing = URL(fileURLWithPath: "/nonexistent-speclab/model.safetensors")
        #expect {
            try SafetensorsFile.read(from: missing)
        } throws: { error in
            guard case .readFailed(let errorPath, _)? = error as? SafetensorsError else { return false }
            return errorPath == missing.path
        }
    }

    @Test("writing rejects a wrong value count, a duplicate name and the reserved name")
    func writeErrors() throws {
        #expect(throws: SafetensorsError.invalidTensor(name: "w", reason: "shape [2, 2] holds 4 values, got 3")) {
            try SafetensorsFile(tensors: [("w", [2, 2], [1, 2, 3])]).headerBytes()
        }
        #expect(throws: SafetensorsError.invalidTensor(name: "w", reason: "the name appears twice")) {
            try SafetensorsFile(tensors: [("w", [1], [1]), ("w", [1], [2])]).headerBytes()
        }
        #expect(throws: SafetensorsError.invalidTensor(name: "__metadata__", reason: "the name is reserved for metadata")) {
            try SafetensorsFile(tensors: [("__metadata__", [1], [1])]).headerBytes()
        }
    }

    @Test("atomic write: overwriting leaves exactly the target file, no temporary; a failed write leaves nothing")
    func atomicWrite() throws {
        let directory = try makeTemporaryDirectory("safetensors-atomic")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("checkpoint.safetensors")
        try SafetensorsFile(tensors: [("a", [1], [1])]).write(to: url)
        try sample.write(to: url)   // replace
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["checkpoint.safetensors"])
        #expect(try SafetensorsFile.read(from: url).tensors.count == sample.tensors.count)

        // An invalid file is rejected before anything touches the disk; the old checkpoint stays.
        #expect(throws: SafetensorsError.self) {
            try SafetensorsFile(tensors: [("w", [2], [1])]).write(to: url)
        }
        #expect(try SafetensorsFile.read(from: url).tensors.count == sample.tensors.count)
        let missingDirectory = directory.appendingPathComponent("no/such/dir/x.safetensors")
        #expect(throws: SafetensorsError.self) { try sample.write(to: missingDirectory) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["checkpoint.safetensors"])
    }

    @Test("interop: Python's safetensors.numpy.load_file reads a SpecLab file",
          .enabled(if: pythonCanImport("safetensors.numpy"),
                   "python3 cannot import safetensors (not installed by default; `pip install safetensors numpy` to run this check)"))
    func pythonSafetensorsInterop() throws {
        let directory = try makeTemporaryDirectory("safetensors-python")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("model.safetensors")
        let file = SafetensorsFile(tensors: [("w", [2, 3], [1, 2, 3, 4, 5, 6.5]), ("b", [3], [-1, 0, 1])],
                                   metadata: ["seed": "7"])
        try file.write(to: url)
        let script = """
        import sys
        from safetensors import safe_open
        from safetensors.numpy import load_file
        t = load_file(sys.argv[1])
        for name in sorted(t): print(name, t[name].dtype, list(t[name].shape), repr(float(t[name].sum())))
        print("meta", safe_open(sys.argv[1], "np").metadata()["seed"])
        """
        let output = try runPython(script, [url.path])
        #expect(output == "b float32 [3] 0.0\nw float32 [2, 3] 21.5\nmeta 7\n")
    }

    @Test("interop: an independent reader (Python json + numpy.frombuffer) sees the same tensors",
          .enabled(if: pythonCanImport("numpy"), "python3 cannot import numpy; skipping the independent-reader check"))
    func pythonNumpyReader() throws {
        let directory = try makeTemporaryDirectory("safetensors-numpy")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("model.safetensors")
        let file = SafetensorsFile(tensors: [("w", [2, 3], [1, 2, 3, 4, 5, 6.5]), ("b", [3], [-1, 0, 1.25])],
                                   metadata: ["seed": "7"])
        try file.write(to: url)
        // The spec, implemented independently: <Q length, JSON header, float32 LE data at data_offsets.
        let script = """
        import sys, json, struct, numpy as np
        raw = open(sys.argv[1], "rb").read()
        (n,) = struct.unpack("<Q", raw[:8])
        header = json.loads(raw[8:8 + n].decode("utf-8"))
        data = raw[8 + n:]
        assert (8 + n) % 8 == 0
        for name in sorted(k for k in header if k != "__metadata__"):
            e = header[name]; b, end = e["data_offsets"]
            a = np.frombuffer(data[b:end], dtype="<f4").reshape(e["shape"])
            print(name, e["dtype"], list(a.shape), a.tolist())
        print("meta", header["__metadata__"])
        """
        let output = try runPython(script, [url.path])
        #expect(output == "b F32 [3] [-1.0, 0.0, 1.25]\nw F32 [2, 3] [[1.0, 2.0, 3.0], [4.0, 5.0, 6.5]]\nmeta {'seed': '7'}\n")
    }
}
