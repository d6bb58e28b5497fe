// Reading user-defined presets and acceptance files: JSON decoding whose
// errors name the offending field in one line.

import Files
import Foundation

public enum JSONFiles {
    /// Decodes `T` from a file, turning every failure into one line that names
    /// the file and, for a malformed document, the field at fault.
    public static func decode<T: Decodable>(_ type: T.Type, from path: String, what: String) throws -> T {
        try decode(type, from: try read(path, what: "\(what) file"), source: "\(what) file '\(path)'")
    }

    /// The bytes of a file the user named, checked first (`InputFile`); a problem is one `AnalyticError` line.
    public static func read(_ path: String, what: String) throws -> Data {
        do { return try InputFile.read(path, what: what) } catch let error as InputError {
            throw AnalyticError(error.description)
        }
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, source: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw AnalyticError("\(source): \(describe(error))")
        } catch let error as AnalyticError {
            throw AnalyticError("\(source): \(error.message)")
        }
    }

    static func path(_ codingPath: [CodingKey]) -> String {
        let parts = codingPath.map { key -> String in
            if let index = key.intValue { return "[\(index)]" }
            return key.stringValue
        }
        var text = ""
        for part in parts {
            if part.hasPrefix("[") || text.isEmpty { text += part } else { text += "." + part }
        }
        return text.isEmpty ? "(top level)" : text
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return "missing field '\(field)'"
        case .typeMismatch(let type, let context):
            return "field '\(path(context.codingPath))' has the wrong type (expected \(type))"
        case .valueNotFound(let type, let context):
            return "field '\(path(context.codingPath))' is null (expected \(type))"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return "not valid JSON (\(context.debugDescription))"
            }
            return "field '\(path(context.codingPath))': \(context.debugDescription)"
        @unknown default:
            return "malformed JSON"
        }
    }
}

/// A default for an optional field of a JSON file (`Defaulted`).
public protocol DefaultValue {
    associatedtype Value: Codable & Sendable & Equatable
    static var value: Value { get }
}

/// 0, false and "" as defaults.
public enum Zero: DefaultValue { public static var value: Double { 0 } }
public enum False: DefaultValue { public static var value: Bool { false } }
public enum EmptyText: DefaultValue { public static var value: String { "" } }

/// A field that takes its default when its key is missing from a JSON file. With synthesized Codable, a
/// struct gains an optional field by declaring it with this wrapper — no decoding code to write.
@propertyWrapper
public struct Defaulted<Default: DefaultValue>: Codable, Sendable, Equatable {
    public var wrappedValue: Default.Value

    public init(wrappedValue: Default.Value) { self.wrappedValue = wrappedValue }

    public init(from decoder: Decoder) throws {
        wrappedValue = try decoder.singleValueContainer().decode(Default.Value.self)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue)
    }
}

extension KeyedDecodingContainer {
    /// A missing key gives the field's default (synthesized decoding calls this for `Defaulted` fields).
    public func decode<D>(_ type: Defaulted<D>.Type, forKey key: Key) throws -> Defaulted<D> {
        try decodeIfPresent(type, forKey: key) ?? Defaulted(wrappedValue: D.value)
    }
}
