// JSON text written by hand where the key order must stay fixed (`predict --json`, `decode --json`).

import Foundation

/// Minimal JSON text helpers (stable key order, finite numbers only).
public enum JSONText {
    public static func number(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return String(format: "%.10g", value)
    }
    /// A JSON string literal (RFC 8259 §7): quote, backslash and control characters escaped; everything
    /// else as it is (UTF-8 when written).
    public static func string(_ text: String) -> String {
        var escaped = ""
        for ch in text.unicodeScalars {
            switch ch {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\t": escaped += "\\t"
            default:
                if ch.value < 0x20 { escaped += String(format: "\\u%04x", ch.value) } else { escaped.unicodeScalars.append(ch) }
            }
        }
        return "\"" + escaped + "\""
    }
    public static func numbers(_ values: [Double]) -> String {
        "[" + values.map(number).joined(separator: ", ") + "]"
    }
}
