import Analytic
import Foundation
import Testing
@testable import Experiments

/// A fake `speclab`: prints its arguments (and a counter for `bench`), records every call.
final class FakeSpeclab: @unchecked Sendable {
    var calls: [[String]] = []
    var benchRuns = 0
    var runner: Notebook.Runner {
        { arguments in
            self.calls.append(arguments)
            if arguments.first == "fail" { return .init(status: 2, stdout: "", stderr: "speclab: error: nope\n") }
            if arguments.first == "bench" { self.benchRuns += 1; return .init(status: 0, stdout: "took \(self.benchRuns) s\n") }
            return .init(status: 0, stdout: "args: " + arguments.joined(separator: "|") + "   \n\n")
        }
    }
}

@Suite("Notebooks")
struct NotebookTests {
    static let notebook = """
    # Title

    Prose.

    ```sh speclab
    $ speclab speedup --alpha 0.8 \\
        --gamma 5
    ```

    ```output
    args: speedup|--alpha|0.8|--gamma|5
    ```

    ```text
    ```sh speclab
    $ rm -rf /
    ```

    ```sh speclab
    $ speclab presets --label 'two words'
    ```

    ```output
    stale text
    ```

    ```sh speclab
    $ speclab bench  # no-check
    ```

    ```output
    took 99 s
    ```

    """

    @Test("parsing finds the command blocks, their arguments and output blocks; other fences are skipped")
    func parses() throws {
        let document = try Notebook.parse(Self.notebook, file: "nb.md")
        #expect(document.cells.count == 3)
        #expect(document.cells[0].command.arguments == ["speedup", "--alpha", "0.8", "--gamma", "5"])
        #expect(document.cells[0].command.line == 6)
        #expect(document.cells[1].command.arguments == ["presets", "--label", "two words"])
        #expect(document.cells[1].output?.text == "stale text")
        #expect(document.cells[2].command.noCheck)
        #expect(document.cells[2].command.display == "speclab bench")
        #expect(!document.cells[0].command.noCheck)
    }

    @Test("check reports the stale block by line, skips no-check blocks, and does not run them")
    func detectsStale() throws {
        let fake = FakeSpeclab()
        let report = try Notebook.check(Self.notebook, file: "nb.md", runner: fake.runner)
        #expect(report.checked == 2 && report.skipped == 1)
        #expect(report.stale.count == 1)
        let stale = try #require(report.stale.first)
        #expect(stale.command.line == 20)
        #expect(Notebook.staleMessage(stale, file: "nb.md")
                == "nb.md:20: output of `speclab presets --label 'two words'` is stale; run 'speclab notebook run nb.md'")
        #expect(stale.hint.contains("  -stale text") && stale.hint.contains("  +args: presets|--label|two words"))
        #expect(fake.benchRuns == 0)
    }

    @Test("run rewrites the stale output, refreshes no-check output, and the result then checks clean")
    func refreshes() throws {
        let fake = FakeSpeclab()
        let report = try Notebook.refresh(Self.notebook, file: "nb.md", runner: fake.runner)
        #expect(report.commands == 3 && report.changed == 2)
        #expect(report.text.contains("```output\nargs: presets|--label|two words\n```"))
        #expect(report.text.contains("```output\ntook 1 s\n```"))
        #expect(!report.text.contains("stale text"))
        #expect(report.text.contains("```text\n```sh speclab\n$ rm -rf /\n```"))   // untouched
        #expect(report.text.hasSuffix("```\n"))
        let again = try Notebook.check(report.text, file: "nb.md", runner: FakeSpeclab().runner)
        #expect(again.upToDate && again.checked == 2)
        // Idempotent: a second run changes nothing.
        let second = try Notebook.refresh(report.text, file: "nb.md", runner: FakeSpeclab().runner)
        #expect(second.text.replacingOccurrences(of: "took 1 s", with: "X") == report.text.replacingOccurrences(of: "took 1 s", with: "X"))
    }

    @Test("a missing output block is stale for check and created by run")
    func createsOutput() throws {
        let text = "Intro\n```sh speclab\n$ speclab presets\n```\nAfter\n"
        let report = try Notebook.check(text, runner: FakeSpeclab().runner)
        #expect(report.stale.count == 1 && report.stale[0].stored == nil)
        let run = try Notebook.refresh(text, runner: FakeSpeclab().runner)
        #expect(run.text == "Intro\n```sh speclab\n$ speclab presets\n```\n\n```output\nargs: presets\n```\nAfter\n")
    }

    @Test("output containing a fence gets a longer fence")
    func longerFence() throws {
        let text = "```sh speclab\n$ speclab x\n```\n"
        let run = try Notebook.refresh(text) { _ in .init(status: 0, stdout: "```\ninner\n```\n") }
        #expect(run.text.contains("````output\n```\ninner\n```\n````"))
        #expect(try Notebook.check(run.text) { _ in .init(status: 0, stdout: "```\ninner\n```\n") }.upToDate)
    }

    @Test("non-speclab lines, shell syntax and nested notebooks are refused, naming the line", arguments: [
        ("```sh speclab\n$ ls -l\n```\n", "nb.md:2:"),
        ("```sh speclab\nspeclab presets\n```\n", "nb.md:2:"),
        ("x\n```sh speclab\n$ speclab presets | head\n```\n", "nb.md:3:"),
        ("```sh speclab\n$ speclab presets > out.txt\n```\n", "not allowed"),
        ("```sh speclab\n$ speclab predict --model \"$(whoami)\"\n```\n", "not allowed"),
        ("```sh speclab\n$ speclab presets; rm x\n```\n", "not allowed"),
        ("```sh speclab\n$ speclab notebook run x.md\n```\n", "notebook"),
        ("```sh speclab\n$ speclab presets\n$ speclab presets\n```\n", "one command"),
        ("```sh speclab\n$ speclab presets\n", "never closed"),
    ])
    func refuses(text: String, fragment: String) {
        let fake = FakeSpeclab()
        do {
            _ = try Notebook.refresh(text, file: "nb.md", runner: fake.runner)
            Issue.record("accepted: \(text)")
        } catch {
            #expect("\(error)".contains(fragment), "\(error)")
        }
        #expect(fake.calls.isEmpty)
    }

    @Test("a failing command is an error naming its line and stderr")
    func failingCommand() {
        let text = "a\n\n```sh speclab\n$ speclab fail now\n```\n"
        #expect(throws: AnalyticError("nb.md:4: `speclab fail now` exited with status 2: speclab: error: nope")) {
            try Notebook.refresh(text, file: "nb.md", runner: FakeSpeclab().runner)
        }
    }

    @Test("runFile writes atomically: the file is replaced, no temporary file is left")
    func atomicWrite() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("speclab-nb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("001-test.md")
        try Data(Self.notebook.utf8).write(to: file)
        let report = try Notebook.runFile(file, runner: FakeSpeclab().runner)
        #expect(report.changed == 2)
        let written = try String(contentsOf: file, encoding: .utf8)
        #expect(written == report.text)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["001-test.md"])
        #expect(try Notebook.checkFile(file, runner: FakeSpeclab().runner).upToDate)
        // A failing run leaves the file as it was.
        try Data("```sh speclab\n$ speclab fail\n```\n".utf8).write(to: file)
        #expect(throws: AnalyticError.self) { try Notebook.runFile(file, runner: FakeSpeclab().runner) }
        #expect(try String(contentsOf: file, encoding: .utf8) == "```sh speclab\n$ speclab fail\n```\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["001-test.md"])
    }

    @Test("the repository root is the nearest directory with Package.swift")
    func repositoryRoot() {
        let root = Repository.root
        #expect(Notebook.repositoryRoot(for: root.appendingPathComponent("notebooks-md/001-x.md")).path == root.standardizedFileURL.path)
    }
}

/// `make test` checks the quick notebooks here: `speclab notebook check` on each
/// committed notebook through the built executable must exit 0.
@Suite("Committed notebooks", .enabled(if: CLI.available, "the speclab executable has not been built"))
struct CommittedNotebookTests {
    static let root = Repository.root
    static let quick = ["notebooks-md/001-analytic-engine-tour.md", "notebooks-md/002-batch-effect.md", "notebooks-md/003-validation.md",
                         "notebooks-md/004-reproductions.md", "notebooks-md/005-serving-bridges.md"]

    @Test("the quick notebooks are up to date", arguments: quick)
    func upToDate(notebook: String) throws {
        let path = Self.root.appendingPathComponent(notebook).path
        #expect(FileManager.default.fileExists(atPath: path))
        let result = try CLI.run(["notebook", "check", path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("blocks up to date"), "\(result.stdout)")
    }
}
