// CSV tables written atomically.

import Charts
import Foundation

public struct CSVTable: Sendable {
    public var columns: [String]
    public var rows: [[String]]

    public init(columns: [String], rows: [[String]] = []) {
        self.columns = columns
        self.rows = rows
    }

    static func escape(_ field: String) -> String {
        if field.utf8.contains(where: { $0 == 44 || $0 == 34 || $0 == 10 }) {
            return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return field
    }

    public var text: String {
        var out = columns.map(Self.escape).joined(separator: ",") + "\n"
        out.reserveCapacity(rows.count * columns.count * 12)
        for row in rows {
            out += row.map(Self.escape).joined(separator: ",")
            out += "\n"
        }
        return out
    }

    public func write(to url: URL) throws {
        try AtomicFile.write(text, to: url)
    }

    /// Number formatting for CSV cells: Swift's shortest text that reads back
    /// to the same Double (no locale, much faster than String(format:)),
    /// integers without ".0", empty for non-finite values.
    public static func cell(_ value: Double) -> String {
        guard value.isFinite else { return "" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return value.description
    }
}
