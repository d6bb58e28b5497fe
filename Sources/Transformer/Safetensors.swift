// Safetensors: checkpoint files of the reference model in the safetensors
// layout (https://github.com/huggingface/safetensors), readable by the Python
// ecosystem. Depends on Foundation only (JSON, file I/O).
//
// Layout: 8-byte little-endian UInt64 N, then N bytes of UTF-8 JSON
//   {"__metadata__": {"key": "value", ...},
//    "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
// (padded with spaces so that 8 + N is a multiple of 8), then the data section:
// raw little-endian tensor bytes, offsets relative to its start, tensors laid
// out contiguously with no gaps.

import Files
import Foundation

/// Why a safetensors file could not be read or written; one line each,
/// naming the file and the problem.
public enum SafetensorsError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    case readFailed(path: String, reason: String)
    case fileTooShort(path: String, byteCount: Int)
    case headerLengthExceedsFile(path: String, headerLength: UInt64, fileBytes: Int)
    case headerNotJSON(path: String, reason: String)
    case missingField(path: String, tensor: String, field: String)
    case invalidField(path: String, tensor: String, field: String, reason: String)
    case unsupportedDtype(path: String, tensor: String, dtype: String)
    case offsetsOutOfRange(path: String, tensor: String, begin: Int, end: Int, reason: String)
    case sizeMismatch(path: String, tensor: String, shape: [Int], dtype: String, expectedBytes: Int, actualBytes: Int)
    case truncated(path: String, headerDataBytes: Int, fileDataBytes: Int)
    case trailingBytes(path: String, headerDataBytes: Int, fileDataBytes: Int)
    case invalidMetadata(path: String, reason: String)
    case invalidTensor(name: String, reason: String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .readFailed(let path, let reason):
            return "\(path): cannot read safetensors file (\(reason))"
        case .fileTooShort(let path, let count):
            return "\(path): file is \(count) bytes, shorter than the 8-byte header length; not a safetensors file"
        case .headerLengthExceedsFile(let path, let length, let fileBytes):
            return "\(path): header length \(length) is larger than the \(fileBytes - 8) bytes after the length field; not a safetensors file, or truncated"
        case .headerNotJSON(let path, let reason):
            return "\(path): header is not a JSON object (\(reason))"
        case .missingField(let path, let tensor, let field):
            return "\(path): tensor '\(tensor)' has no '\(field)' in the header"
        case .invalidField(let path, let tensor, let field, let reason):
            return "\(path): tensor '\(tensor)': '\(field)' \(reason)"
        case .unsupportedDtype(let path, let tensor, let dtype):
            return "\(path): tensor '\(tensor)' has dtype \(dtype); supported: \(SafetensorsFile.readableDtypes.joined(separator: ", "))"
        case .offsetsOutOfRange(let path, let tensor, let begin, let end, let reason):
            return "\(path): tensor '\(tensor)' data_offsets [\(begin), \(end)] \(reason)"
        case .sizeMismatch(let path, let tensor, let shape, let dtype, let expected, let actual):
            return "\(path): tensor '\(tensor)' shape \(shape) of \(dtype) needs \(expected) bytes, data_offsets give \(actual)"
        case .truncated(let path, let headerBytes, let fileBytes):
            return "\(path): file is truncated: header says \(headerBytes) data bytes, file has \(fileBytes)"
        case .trailingBytes(let path, let headerBytes, let fileBytes):
            return "\(path): header describes \(headerBytes) data bytes, file has \(fileBytes); the extra bytes belong to no tensor"
        case .invalidMetadata(let path, let reason):
            return "\(path): '__metadata__' \(reason); it must map strings to strings"
        case .invalidTensor(let name, let reason):
            return "safetensors: tensor '\(name)' cannot be written: \(reason)"
        case .writeFailed(let path, let reason):
            return "\(path): cannot write safetensors file (\(reason)); check the directory exists and is writable"
        }
    }

    public var errorDescription: String? { description }
}

/// A safetensors file in memory: named Float tensors in order, plus string
/// metadata. SpecLab writes F32 only; it reads F32, F16 and BF16 (converted to
/// Float). Tensors read back come in data-offset order, which is the order
/// they were written in.
///
/// Opening a SpecLab checkpoint from Python (documentation only, not a dependency):
///
///     from safetensors import safe_open                       # pip install safetensors numpy
///     from safetensors.numpy import load_file
///     tensors = load_file("model.safetensors")                # {name: float32 numpy array}
///     metadata = safe_open("model.safetensors", "np").metadata()   # {str: str}
public struct SafetensorsFile: Sendable {
    public typealias Tensor = (name: String, shape: [Int], values: [Float])

    /// The tensors, in file order.
    public var tensors: [Tensor]
    /// The `__metadata__` map (written with keys sorted, omitted when empty).
    public var metadata: [String: String]

    /// Dtypes `read` accepts.
    public static let readableDtypes = ["F32", "F16", "BF16"]

    public init(tensors: [Tensor] = [], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The first tensor called `name`, if any.
    public func tensor(named name: String) -> Tensor? {
        tensors.first { $0.name == name }
    }

    // MARK: - Writing

    /// The complete header block: the JSON, padded with spaces so that
    /// 8 + its length is a multiple of 8 (the reference writer's alignment).
    /// Throws `invalidTensor` for a duplicate or reserved name, a negative
    /// dimension, or a value count that does not match the shape.
    public func headerBytes() throws -> [UInt8] {
        var seen = Set<String>()
        var json = "{"
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                .map { "\(JSONText.string($0)):\(JSONText.string(metadata[$0]!))" }
            entries.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for tensor in tensors {
            guard tensor.name != "__metadata__" else {
                throw SafetensorsError.invalidTensor(name: tensor.name, reason: "the name is reserved for metadata")
            }
            guard seen.insert(tensor.name).inserted else {
                throw SafetensorsError.invalidTensor(name: tensor.name, reason: "the name appears twice")
            }
            guard tensor.shape.allSatisfy({ $0 >= 0 }) else {
                throw SafetensorsError.invalidTensor(name: tensor.name, reason: "shape \(tensor.shape) has a negative dimension")
            }
            let elements = tensor.shape.reduce(1, *)
            guard elements == tensor.values.count else {
                throw SafetensorsError.invalidTensor(
                    name: tensor.name, reason: "shape \(tensor.shape) holds \(elements) values, got \(tensor.values.count)")
            }
            let end = offset + 4 * elements
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            entries.append("\(JSONText.string(tensor.name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        json += entries.joined(separator: ",") + "}"
        var bytes = Array(json.utf8)
        while (8 + bytes.count) % 8 != 0 { bytes.append(UInt8(ascii: " ")) }
        return bytes
    }

    /// The whole file as bytes (small files, tests; `write` streams instead).
    public func serialized() throws -> [UInt8] {
        let header = try headerBytes()
        var bytes = Self.littleEndianBytes(UInt64(header.count)) + header
        for tensor in tensors {
            for value in tensor.values { bytes += Self.littleEndianBytes(value.bitPattern) }
        }
        return bytes
    }

    /// Writes the file atomically: a temporary file in the same directory is
    /// written, fsync'ed and renamed over `url`, so a reader (or a crash) sees
    /// either the old file or the complete new one, never a partial one.
    public func write(to url: URL) throws {
        let header = try headerBytes()
        let path = url.path
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/.\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        defer { Interrupts.finished(URL(fileURLWithPath: temporary)) }
        let descriptor = Interrupts.writing(URL(fileURLWithPath: temporary)) { open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644) }
        guard descriptor >= 0 else {
            throw SafetensorsError.writeFailed(path: path, reason: "create \(temporary): \(Self.errnoText())")
        }
        var closed = false
        do {
            try Self.writeAll(descriptor, Self.littleEndianBytes(UInt64(header.count)), path: path)
            try Self.writeAll(descriptor, header, path: path)
            for tensor in tensors {
                try Self.writeFloats(descriptor, tensor.values, path: path)
            }
            guard fsync(descriptor) == 0 else {
                throw SafetensorsError.writeFailed(path: path, reason: "fsync: \(Self.errnoText())")
            }
            closed = true
            guard close(descriptor) == 0 else {
                throw SafetensorsError.writeFailed(path: path, reason: "close: \(Self.errnoText())")
            }
            guard rename(temporary, path) == 0 else {
                throw SafetensorsError.writeFailed(path: path, reason: "rename: \(Self.errnoText())")
            }
        } catch {
            if !closed { close(descriptor) }
            unlink(temporary)
            throw error
        }
        // Make the rename itself durable (best effort: not every file system allows it).
        let directoryDescriptor = open(directory, O_RDONLY)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    // MARK: - Reading

    /// Reads and validates a safetensors file; every problem is a one-line
    /// `SafetensorsError` naming the file.
    public static func read(from url: URL) throws -> SafetensorsFile {
        let data: Data
        do {
            // Weights up to 64 GB: far beyond any model this machine can hold.
            data = try InputFile.read(url.path, what: "safetensors file", limitBytes: 1 << 36)
        } catch let error as InputError {
            throw SafetensorsError.readFailed(path: url.path, reason: error.description)
        } catch {
            throw SafetensorsError.readFailed(path: url.path, reason: error.localizedDescription)
        }
        return try data.withUnsafeBytes { try parse($0, path: url.path) }
    }

    /// Parses a complete file image; `path` only names it in errors.
    public static func parse(_ file: UnsafeRawBufferPointer, path: String) throws -> SafetensorsFile {
        guard file.count >= 8 else { throw SafetensorsError.fileTooShort(path: path, byteCount: file.count) }
        let headerLength = UInt64(littleEndian: file.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(file.count - 8) else {
            throw SafetensorsError.headerLengthExceedsFile(path: path, headerLength: headerLength, fileBytes: file.count)
        }
        let headerEnd = 8 + Int(headerLength)
        let header = Data(file[8..<headerEnd])
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: header)
        } catch {
            throw SafetensorsError.headerNotJSON(path: path, reason: Self.jsonErrorText(error))
        }
        guard case .object(let entries) = root else {
            throw SafetensorsError.headerNotJSON(path: path, reason: "the top level is not an object")
        }

        var metadata: [String: String] = [:]
        if let metadataValue = entries["__metadata__"] {
            guard case .object(let pairs) = metadataValue else {
                throw SafetensorsError.invalidMetadata(path: path, reason: "is not a JSON object")
            }
            for (key, value) in pairs {
                guard case .string(let text) = value else {
                    throw SafetensorsError.invalidMetadata(path: path, reason: "value of '\(key)' is not a string")
                }
                metadata[key] = text
            }
        }

        struct Entry { let name: String; let dtype: String; let shape: [Int]; let begin: Int; let end: Int }
        var parsed: [Entry] = []
        for name in entries.keys.sorted() where name != "__metadata__" {
            guard case .object(let fields) = entries[name]! else {
                throw SafetensorsError.invalidField(path: path, tensor: name, field: "entry", reason: "is not a JSON object")
            }
            for field in ["dtype", "shape", "data_offsets"] where fields[field] == nil {
                throw SafetensorsError.missingField(path: path, tensor: name, field: field)
            }
            guard case .string(let dtype) = fields["dtype"]! else {
                throw SafetensorsError.invalidField(path: path, tensor: name, field: "dtype", reason: "is not a string")
            }
            guard let shape = fields["shape"]!.nonNegativeIntegers else {
                throw SafetensorsError.invalidField(path: path, tensor: name, field: "shape",
                                                    reason: "is not an array of non-negative integers")
            }
            guard let offsets = fields["data_offsets"]!.nonNegativeIntegers, offsets.count == 2 else {
                throw SafetensorsError.invalidField(path: path, tensor: name, field: "data_offsets",
                                                    reason: "is not an array of two non-negative integers")
            }
            guard let elementBytes = bytesPerElement(dtype) else {
                throw SafetensorsError.unsupportedDtype(path: path, tensor: name, dtype: dtype)
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin <= end else {
                throw SafetensorsError.offsetsOutOfRange(path: path, tensor: name, begin: begin, end: end,
                                                         reason: "end before begin")
            }
            var expected: Int? = elementBytes
            for dimension in shape {
                expected = expected.flatMap { value in
                    let (product, overflow) = value.multipliedReportingOverflow(by: dimension)
                    return overflow ? nil : product
                }
            }
            guard let expectedBytes = expected, expectedBytes == end - begin else {
                throw SafetensorsError.sizeMismatch(path: path, tensor: name, shape: shape, dtype: dtype,
                                                    expectedBytes: expected ?? Int.max, actualBytes: end - begin)
            }
            parsed.append(Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end))
        }

        // The tensors must tile the data section from byte 0, with no gap or overlap.
        parsed.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var covered = 0
        for entry in parsed {
            guard entry.begin == covered else {
                let reason = entry.begin < covered
                    ? "overlap the previous tensor, which ends at \(covered)"
                    : "leave a gap: the previous tensor ends at \(covered)"
                throw SafetensorsError.offsetsOutOfRange(path: path, tensor: entry.name,
                                                         begin: entry.begin, end: entry.end, reason: reason)
            }
            covered = entry.end
        }
        let dataBytes = file.count - headerEnd
        guard covered <= dataBytes else {
            throw SafetensorsError.truncated(path: path, headerDataBytes: covered, fileDataBytes: dataBytes)
        }
        guard covered == dataBytes else {
            throw SafetensorsError.trailingBytes(path: path, headerDataBytes: covered, fileDataBytes: dataBytes)
        }

        let dataSection = UnsafeRawBufferPointer(rebasing: file[headerEnd...])
        let tensors: [Tensor] = parsed.map { entry in
            let bytes = UnsafeRawBufferPointer(rebasing: dataSection[entry.begin..<entry.end])
            return (entry.name, entry.shape, decode(bytes, dtype: entry.dtype))
        }
        return SafetensorsFile(tensors: tensors, metadata: metadata)
    }

    // MARK: - Element conversion

    static func bytesPerElement(_ dtype: String) -> Int? {
        switch dtype {
        case "F32": return 4
        case "F16", "BF16": return 2
        default: return nil
        }
    }

    private static func decode(_ bytes: UnsafeRawBufferPointer, dtype: String) -> [Float] {
        switch dtype {
        case "F32":
            return (0..<(bytes.count / 4)).map {
                Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
            }
        case "F16":
            return (0..<(bytes.count / 2)).map {
                floatFromHalf(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)))
            }
        case "BF16":
            return (0..<(bytes.count / 2)).map {
                let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))
                return Float(bitPattern: UInt32(bits) << 16)   // bfloat16 is the top half of a float32
            }
        default:
            preconditionFailure("Safetensors.decode: dtype \(dtype) was validated as readable")
        }
    }

    /// IEEE 754 binary16 to Float, exact (every half is a float): normals,
    /// subnormals (m·2⁻²⁴), ±0, ±∞ and NaN (payload kept).
    static func floatFromHalf(_ half: UInt16) -> Float {
        let sign: Float = half & 0x8000 != 0 ? -1 : 1
        let exponent = UInt32((half >> 10) & 0x1F)
        let mantissa = UInt32(half & 0x3FF)
        let signBit = UInt32(half & 0x8000) << 16
        switch exponent {
        case 0: return sign * Float(mantissa) * 0x1p-24
        case 31: return Float(bitPattern: signBit | 0x7F80_0000 | (mantissa << 13))
        default: return Float(bitPattern: signBit | ((exponent + 112) << 23) | (mantissa << 13))  // 112 = 127 − 15
        }
    }

    // MARK: - Helpers

    static func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    private static func writeFloats(_ descriptor: Int32, _ values: [Float], path: String) throws {
        if 1.littleEndian == 1 {
            try values.withUnsafeBytes { try writeAll(descriptor, $0, path: path) }
        } else {
            try writeAll(descriptor, values.flatMap { littleEndianBytes($0.bitPattern) }, path: path)
        }
    }

    private static func writeAll(_ descriptor: Int32, _ bytes: [UInt8], path: String) throws {
        try bytes.withUnsafeBytes { try writeAll(descriptor, $0, path: path) }
    }

    private static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        guard var cursor = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = Foundation.write(descriptor, cursor, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw SafetensorsError.writeFailed(path: path, reason: "write: \(errnoText())")
            }
            cursor += written
            remaining -= written
        }
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }

    private static func jsonErrorText(_ error: Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return (underlying ?? context.debugDescription).replacingOccurrences(of: "\n", with: " ")
        }
        return "\(error)".replacingOccurrences(of: "\n", with: " ")
    }
}

/// A parsed JSON value, enough to validate a safetensors header.
private enum JSONValue: Decodable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    /// The array's elements when all are integers ≥ 0.
    var nonNegativeIntegers: [Int]? {
        guard case .array(let elements) = self else { return nil }
        var result: [Int] = []
        for element in elements {
            guard case .integer(let value) = element, value >= 0 else { return nil }
            result.append(value)
        }
        return result
    }
}
