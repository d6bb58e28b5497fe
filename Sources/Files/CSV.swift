// CSV tables written atomically (RFC 4180 quoting), and read back through the same input checks as any
// file the user names.

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

    /// Reads a table this type wrote (RFC 4180 quoting: fields with commas, quotes or newlines in quotes,
    /// quotes doubled).
    public static func read(from url: URL) throws -> CSVTable {
        guard let text = String(data: try InputFile.read(url.path, what: "CSV file"), encoding: .utf8) else {
            throw InputError("CSV file", url.path, "it is not UTF-8 text")
        }
        var records: [[String]] = [], record: [String] = [], field = "", quoted = false
        var characters = Array(text)[...]
        while let c = characters.popFirst() {
            if quoted {
                if c == "\"" {
                    if characters.first == "\"" { field.append("\""); characters.removeFirst() } else { quoted = false }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                record.append(field); field = ""
            } else if c == "\n" || c == "\r\n" {   // "\r\n" is one Character in Swift
                record.append(field); field = ""
                records.append(record); record = []
            } else {
                field.append(c)
            }
        }
        if !field.isEmpty || !record.isEmpty { record.append(field); records.append(record) }
        guard let header = records.first else { throw InputError("CSV file", url.path, "it is empty") }
        return CSVTable(columns: header, rows: Array(records.dropFirst()))
    }

    /// The values of a named column, or nil if the table has none.
    public func column(_ name: String) -> [String]? {
        guard let i = columns.firstIndex(of: name) else { return nil }
        return rows.map { i < $0.count ? $0[i] : "" }
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
