// Executable markdown notebooks (notebooks-md/NNN-slug.md).
//
// A notebook is plain markdown. A *command block* is a fenced block whose info
// string is `sh speclab`; it holds exactly one command, `$ speclab ARGS…`
// (continued over several lines with a trailing `\` if long). The fenced block
// right after it (blank lines allowed in between), with info string `output`,
// holds that command's standard output. `# no-check` at the end of the command
// marks output that cannot be compared (timings, dates): `notebook run` still
// refreshes it, `notebook check` skips it.
//
// Only `speclab` runs, never a shell: words are split with shell-like quoting
// but no expansion, and pipes, redirections, `;`, `&`, `$`, backticks and
// parentheses are refused. The core below (parse, refresh, check) works on
// strings with a command-runner closure, so it is tested without processes;
// `runFile`/`checkFile` add the file I/O (atomic replacement) and
// `processRunner` runs the real executable in the notebook's repository root.

import Analytic
import Charts
import Files
import Foundation

public enum Notebook {
    /// The info string of a command block and of its output block.
    public static let commandInfo = "sh speclab"
    public static let outputInfo = "output"

    /// One `$ speclab …` command of a notebook.
    public struct Command: Equatable, Sendable {
        /// 1-based line of the `$ speclab` line.
        public var line: Int
        /// The arguments after `speclab`, unquoted.
        public var arguments: [String]
        /// The command as written, joined onto one line, without its comment.
        public var display: String
        /// `# no-check`: run by `notebook run`, not compared by `notebook check`.
        public var noCheck: Bool
    }

    /// A fenced output block: the 0-based line indices of its fences and its text.
    public struct OutputBlock: Equatable, Sendable {
        public var openLine: Int
        public var closeLine: Int
        public var text: String
    }

    /// A command block and the output block that follows it, if any.
    public struct Cell: Equatable, Sendable {
        public var command: Command
        /// 0-based index of the command block's closing fence.
        public var commandCloseLine: Int
        public var output: OutputBlock?
    }

    /// A parsed notebook: its lines and cells in order.
    public struct Document: Sendable {
        public var lines: [String]
        public var endsWithNewline: Bool
        public var cells: [Cell]
    }

    /// What running one command produced.
    public struct CommandResult: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public init(status: Int32, stdout: String, stderr: String = "") {
            self.status = status; self.stdout = stdout; self.stderr = stderr
        }
    }

    /// Runs `speclab` with the given arguments.
    public typealias Runner = ([String]) throws -> CommandResult

    /// A block whose stored output differs from what the command prints now.
    public struct Stale: Sendable {
        public var command: Command
        public var stored: String?
        public var current: String
        /// A few `-stored` / `+current` lines around the first difference.
        public var hint: [String]
    }

    public struct CheckReport: Sendable {
        public var checked: Int
        public var skipped: Int
        public var stale: [Stale]
        public var upToDate: Bool { stale.isEmpty }
    }

    public struct RunReport: Sendable {
        public var commands: Int
        public var changed: Int
        public var text: String
    }

    // MARK: - Parsing

    /// Parses a notebook; `file` only names it in error messages.
    public static func parse(_ text: String, file: String = "notebook") throws -> Document {
        var lines = text.components(separatedBy: "\n")
        let endsWithNewline = text.hasSuffix("\n")
        if endsWithNewline { lines.removeLast() }
        var cells: [Cell] = []
        var index = 0
        while index < lines.count {
            guard let fence = openingFence(lines[index]) else { index += 1; continue }
            let close = try closingFence(of: fence, from: index, in: lines, file: file)
            if fence.info == commandInfo {
                let command = try parseCommand(lines: lines, from: index + 1, to: close, file: file)
                var next = close + 1
                while next < lines.count, lines[next].trimmingCharacters(in: .whitespaces).isEmpty { next += 1 }
                var output: OutputBlock?
                if next < lines.count, let outFence = openingFence(lines[next]), outFence.info == outputInfo {
                    let outClose = try closingFence(of: outFence, from: next, in: lines, file: file)
                    output = OutputBlock(openLine: next, closeLine: outClose,
                                         text: lines[(next + 1)..<outClose].joined(separator: "\n"))
                    index = outClose + 1
                } else {
                    index = close + 1
                }
                cells.append(Cell(command: command, commandCloseLine: close, output: output))
            } else {
                index = close + 1
            }
        }
        return Document(lines: lines, endsWithNewline: endsWithNewline, cells: cells)
    }

    struct Fence { var character: Character; var length: Int; var info: String }

    /// A fence line: up to three spaces, then three or more backticks or tildes, then the info string.
    static func openingFence(_ line: String) -> Fence? {
        let indent = line.prefix { $0 == " " }.count
        guard indent <= 3 else { return nil }
        let rest = line.dropFirst(indent)
        guard let character = rest.first, character == "`" || character == "~" else { return nil }
        let length = rest.prefix { $0 == character }.count
        guard length >= 3 else { return nil }
        let info = rest.dropFirst(length).trimmingCharacters(in: .whitespaces)
        if character == "`" && info.contains("`") { return nil }
        return Fence(character: character, length: length, info: info)
    }

    static func closingFence(of fence: Fence, from open: Int, in lines: [String], file: String) throws -> Int {
        for index in (open + 1)..<max(open + 1, lines.count) {
            if let candidate = openingFence(lines[index]), candidate.character == fence.character,
               candidate.length >= fence.length, candidate.info.isEmpty {
                return index
            }
        }
        throw AnalyticError("\(file):\(open + 1): fenced block is never closed")
    }

    /// The single `$ speclab …` command of a command block (lines `from..<to`).
    static func parseCommand(lines: [String], from start: Int, to end: Int, file: String) throws -> Command {
        var found: Command?
        var index = start
        while index < end {
            let line = lines[index]
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { index += 1; continue }
            let lineNumber = index + 1
            guard trimmed.hasPrefix("$ ") else {
                throw AnalyticError("\(file):\(lineNumber): a `\(commandInfo)` block holds only `$ speclab …` lines; got '\(trimmed)'")
            }
            guard found == nil else {
                throw AnalyticError("\(file):\(lineNumber): one command per `\(commandInfo)` block; start a new block for '\(trimmed)'")
            }
            // Join continuation lines (a trailing backslash).
            var joined = String(trimmed.dropFirst(2))
            while joined.hasSuffix("\\"), index + 1 < end {
                index += 1
                joined = String(joined.dropLast()).trimmingCharacters(in: .whitespaces) + " "
                    + lines[index].trimmingCharacters(in: .whitespaces)
            }
            if joined.hasSuffix("\\") {
                throw AnalyticError("\(file):\(lineNumber): the command ends with a continuation backslash")
            }
            let (words, comment) = try splitWords(joined, file: file, line: lineNumber)
            guard words.first == "speclab" else {
                throw AnalyticError("\(file):\(lineNumber): only `speclab` commands run in a notebook, not '\(words.first ?? "")'")
            }
            if words.count > 1, words[1] == "notebook" {
                throw AnalyticError("\(file):\(lineNumber): a notebook cannot run `speclab notebook`")
            }
            var display = joined
            if let hash = commentStart(joined) { display = String(joined[..<hash]).trimmingCharacters(in: .whitespaces) }
            found = Command(line: lineNumber, arguments: Array(words.dropFirst()), display: display,
                            noCheck: comment?.trimmingCharacters(in: .whitespaces) == "no-check")
            index += 1
        }
        guard let command = found else {
            throw AnalyticError("\(file):\(start): empty `\(commandInfo)` block; write '$ speclab ARGS…'")
        }
        return command
    }

    /// Shell-like word splitting without expansion: single and double quotes,
    /// backslash escapes, an unquoted `#` starting a word begins a comment.
    /// Anything a shell would interpret (`| & ; < > ( ) $` and backticks) is refused.
    static func splitWords(_ text: String, file: String, line: Int) throws -> (words: [String], comment: String?) {
        var words: [String] = []
        var current = ""
        var inWord = false
        var characters = Array(text)[...]
        func refuse(_ c: Character) -> AnalyticError {
            AnalyticError("\(file):\(line): '\(c)' is not allowed: notebooks run `speclab` directly, without a shell")
        }
        while let c = characters.popFirst() {
            switch c {
            case " ", "\t":
                if inWord { words.append(current); current = ""; inWord = false }
            case "#" where !inWord:
                return (words, String(characters))
            case "'":
                inWord = true
                guard let end = characters.firstIndex(of: "'") else {
                    throw AnalyticError("\(file):\(line): unterminated single quote")
                }
                current += String(characters[..<end])
                characters = characters[(end + 1)...]
            case "\"":
                inWord = true
                var closed = false
                while let d = characters.popFirst() {
                    if d == "\"" { closed = true; break }
                    if d == "$" || d == "`" { throw refuse(d) }
                    if d == "\\", let e = characters.first, "\"\\".contains(e) {
                        current.append(e); characters = characters.dropFirst(); continue
                    }
                    current.append(d)
                }
                if !closed { throw AnalyticError("\(file):\(line): unterminated double quote") }
            case "\\":
                inWord = true
                if let e = characters.popFirst() { current.append(e) }
            case "|", "&", ";", "<", ">", "(", ")", "$", "`", "*", "?":
                throw refuse(c)
            default:
                inWord = true
                current.append(c)
            }
        }
        if inWord { words.append(current) }
        return (words, nil)
    }

    /// The index of an unquoted comment `#` (at the start of a word), if any.
    static func commentStart(_ text: String) -> String.Index? {
        var quote: Character?
        var previous: Character = " "
        var escaped = false
        for index in text.indices {
            let c = text[index]
            defer { previous = c }
            if escaped { escaped = false; continue }
            if let q = quote { if c == q { quote = nil } else if c == "\\" && q == "\"" { escaped = true }; continue }
            if c == "\\" { escaped = true; continue }
            if c == "'" || c == "\"" { quote = c; continue }
            if c == "#" && (previous == " " || previous == "\t") { return index }
        }
        return nil
    }

    // MARK: - Running and comparing

    /// Normalises command output: trailing whitespace stripped from every line and from the end.
    public static func normalize(_ text: String) -> String {
        var lines = text.components(separatedBy: "\n").map { line in
            String(line.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
        }
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    /// Runs one command, failing with the notebook line on a non-zero exit.
    static func execute(_ command: Command, file: String, runner: Runner) throws -> String {
        let result: CommandResult
        do {
            result = try runner(command.arguments)
        } catch {
            throw AnalyticError("\(file):\(command.line): cannot run `\(command.display)`: \(error.localizedDescription)")
        }
        guard result.status == 0 else {
            let reason = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
                .replacingOccurrences(of: "\n", with: " ")
            throw AnalyticError("\(file):\(command.line): `\(command.display)` exited with status \(result.status)"
                                + (reason.isEmpty ? "" : ": \(reason)"))
        }
        return normalize(result.stdout)
    }

    /// Re-runs every command and returns the notebook with its output blocks refreshed
    /// (an output block is created after a command block that has none).
    public static func refresh(_ text: String, file: String = "notebook", runner: Runner) throws -> RunReport {
        let document = try parse(text, file: file)
        var out: [String] = []
        var copied = 0          // lines of the original already emitted
        var changed = 0
        for cell in document.cells {
            let current = try execute(cell.command, file: file, runner: runner)
            let body = current.isEmpty ? [] : current.components(separatedBy: "\n")
            let fence = String(repeating: "`", count: fenceLength(for: body))
            if let output = cell.output {
                if normalize(output.text) != current { changed += 1 }
                out += document.lines[copied..<output.openLine]
                let existing = openingFence(document.lines[output.openLine])
                let keep = existing.map { $0.character == "`" && $0.length >= fence.count } ?? false
                out.append(keep ? document.lines[output.openLine] : fence + outputInfo)
                out += body
                out.append(keep ? document.lines[output.closeLine] : fence)
                copied = output.closeLine + 1
            } else {
                changed += 1
                out += document.lines[copied...cell.commandCloseLine]
                out += ["", fence + outputInfo] + body + [fence]
                copied = cell.commandCloseLine + 1
            }
        }
        out += document.lines[copied...]
        let result = out.joined(separator: "\n") + (document.endsWithNewline ? "\n" : "")
        return RunReport(commands: document.cells.count, changed: changed, text: result)
    }

    /// A fence longer than any backtick run that starts an output line.
    static func fenceLength(for body: [String]) -> Int {
        let longest = body.map { line in line.drop { $0 == " " }.prefix { $0 == "`" }.count }.max() ?? 0
        return max(3, longest + 1)
    }

    /// Re-runs every checked command and reports the blocks whose stored output differs.
    public static func check(_ text: String, file: String = "notebook", runner: Runner) throws -> CheckReport {
        let document = try parse(text, file: file)
        var report = CheckReport(checked: 0, skipped: 0, stale: [])
        for cell in document.cells {
            if cell.command.noCheck { report.skipped += 1; continue }
            let current = try execute(cell.command, file: file, runner: runner)
            report.checked += 1
            let stored = cell.output.map { normalize($0.text) }
            if stored != current {
                report.stale.append(Stale(command: cell.command, stored: stored, current: current,
                                          hint: diffHint(stored: stored ?? "", current: current, missing: stored == nil)))
            }
        }
        return report
    }

    /// A short unified-style hint: the differing middle of the two texts, at most `limit` lines each side.
    static func diffHint(stored: String, current: String, missing: Bool, limit: Int = 4) -> [String] {
        if missing { return ["  (no `\(outputInfo)` block follows the command)"] }
        let old = stored.isEmpty ? [] : stored.components(separatedBy: "\n")
        let new = current.isEmpty ? [] : current.components(separatedBy: "\n")
        var head = 0
        while head < old.count, head < new.count, old[head] == new[head] { head += 1 }
        var tail = 0
        while tail < old.count - head, tail < new.count - head,
              old[old.count - 1 - tail] == new[new.count - 1 - tail] { tail += 1 }
        let removed = Array(old[head..<(old.count - tail)]), added = Array(new[head..<(new.count - tail)])
        var hint = ["  @@ output line \(head + 1) @@"]
        hint += removed.prefix(limit).map { "  -\($0)" }
        if removed.count > limit { hint.append("  -… (\(removed.count - limit) more)") }
        hint += added.prefix(limit).map { "  +\($0)" }
        if added.count > limit { hint.append("  +… (\(added.count - limit) more)") }
        return hint
    }

    /// The one-line message for a stale block.
    public static func staleMessage(_ stale: Stale, file: String) -> String {
        "\(file):\(stale.command.line): output of `\(stale.command.display)` is stale; run 'speclab notebook run \(file)'"
    }

    // MARK: - Files and processes

    /// Refreshes a notebook file in place (atomic replacement; untouched if nothing changed).
    public static func runFile(_ url: URL, name: String? = nil, runner: Runner) throws -> RunReport {
        let file = name ?? url.path
        let text = try read(url, file: file)
        let report = try refresh(text, file: file, runner: runner)
        if report.text != text { try AtomicFile.write(report.text, to: url) }
        return report
    }

    /// Checks a notebook file without modifying it.
    public static func checkFile(_ url: URL, name: String? = nil, runner: Runner) throws -> CheckReport {
        let file = name ?? url.path
        return try check(read(url, file: file), file: file, runner: runner)
    }

    static func read(_ url: URL, file: String) throws -> String {
        String(decoding: try JSONFiles.read(url.path, what: "notebook"), as: UTF8.self)
    }

    /// The nearest directory at or above the notebook that holds Package.swift
    /// (the notebook's own directory if there is none): commands run there.
    public static func repositoryRoot(for notebook: URL) -> URL {
        let start = notebook.standardizedFileURL.deletingLastPathComponent()
        var directory = start
        while true {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                return directory
            }
            let parent = directory.deletingLastPathComponent()
            if parent.path == directory.path { return start }
            directory = parent
        }
    }

    /// The running executable: /proc/self/exe where it exists, else argv[0]
    /// resolved against the working directory or PATH.
    public static func currentExecutable() -> URL {
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: target)
        }
        let argument = ProcessInfo.processInfo.arguments.first ?? "speclab"
        if argument.contains("/") {
            return URL(fileURLWithPath: argument).standardizedFileURL
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(argument)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return URL(fileURLWithPath: argument)
    }

    /// Runs `executable ARGS…` in `directory`, capturing stdout and stderr (no shell).
    public static func processRunner(executable: URL, directory: URL) -> Runner {
        { arguments in
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments
            process.currentDirectoryURL = directory
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            process.standardInput = FileHandle.nullDevice
            try process.run()
            // Drain stderr concurrently so neither pipe can fill up and block the child.
            nonisolated(unsafe) var errData = Data()
            let group = DispatchGroup()
            group.enter()
            DispatchQueue.global().async {
                errData = err.fileHandleForReading.readDataToEndOfFile()
                group.leave()
            }
            let outData = out.fileHandleForReading.readDataToEndOfFile()
            group.wait()
            process.waitUntilExit()
            return CommandResult(status: process.terminationStatus,
                                 stdout: String(decoding: outData, as: UTF8.self),
                                 stderr: String(decoding: errData, as: UTF8.self))
        }
    }
}
