// Progress on stderr for long work: steps, rate and ETA, redrawn in place,
// only when stderr is a terminal.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class ProgressReporter: @unchecked Sendable {
    let label: String
    let total: Int
    let enabled: Bool
    let start = Date()
    var lastDraw = Date.distantPast

    public init(label: String, total: Int, enabled: Bool = ProgressReporter.stderrIsTerminal) {
        self.label = label
        self.total = total
        self.enabled = enabled && total > 0
    }

    public static var stderrIsTerminal: Bool { isatty(2) == 1 }

    public func update(_ done: Int, detail: String = "") {
        guard enabled else { return }
        let now = Date()
        guard done == total || now.timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = now
        let elapsed = max(now.timeIntervalSince(start), 1e-9)
        let rate = Double(done) / elapsed
        let remaining = rate > 0 ? Double(total - done) / rate : 0
        let width = 30
        let filled = Int(Double(width) * Double(done) / Double(total))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = String(format: "\r%@ [%@] %3.0f%% %d/%d  %@/s  ETA %@  %@ ", label, bar,
                          100 * Double(done) / Double(total), done, total, Self.compact(rate), Self.duration(remaining),
                          detail)
        FileHandle.standardError.write(Data(line.utf8))
    }

    public func finish() {
        guard enabled else { return }
        update(total)
        FileHandle.standardError.write(Data("\n".utf8))
    }

    static func compact(_ value: Double) -> String {
        if value >= 1e6 { return String(format: "%.1fM", value / 1e6) }
        if value >= 1e3 { return String(format: "%.1fk", value / 1e3) }
        return String(format: "%.1f", value)
    }

    static func duration(_ seconds: Double) -> String {
        if seconds < 60 { return String(format: "%.0fs", seconds) }
        return String(format: "%dm%02ds", Int(seconds) / 60, Int(seconds) % 60)
    }
}
