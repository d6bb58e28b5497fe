// speclab notebook run|check FILE…: executable markdown notebooks (logic in Experiments/Notebook.swift).

import Analytic
import ArgumentParser
import Experiments
import Foundation

struct NotebookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notebook",
        abstract: "Re-run or check the `speclab` command blocks of markdown notebooks (notebooks-md/).",
        discussion: """
        A command block is a fenced block with info string `sh speclab` holding one line \
        `$ speclab ARGS…`; the fenced `output` block after it holds the command's stdout. \
        `# no-check` after a command makes `check` skip it. Commands run in the \
        notebook's repository root (the directory with Package.swift above it).
        """,
        subcommands: [Run.self, Check.self])

    static func runner(for file: String) -> Notebook.Runner {
        let url = URL(fileURLWithPath: file)
        return Notebook.processRunner(executable: Notebook.currentExecutable(),
                                      directory: Notebook.repositoryRoot(for: url))
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-execute every `speclab` block and refresh its output block in place (atomic write).")
        @Argument(help: "Notebook files.") var files: [String]
        func run() throws {
            for file in files {
                let report = try Notebook.runFile(URL(fileURLWithPath: file), name: file, runner: NotebookCommand.runner(for: file))
                say("\(file): ran \(report.commands) blocks, \(report.changed) outputs changed")
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fail if any stored output differs from what its command prints now.")
        @Argument(help: "Notebook files.") var files: [String]
        func run() throws {
            var stale = false
            for file in files {
                let report = try Notebook.checkFile(URL(fileURLWithPath: file), name: file, runner: NotebookCommand.runner(for: file))
                if report.upToDate {
                    say("\(file): \(report.checked) blocks up to date" + (report.skipped > 0 ? " (\(report.skipped) marked no-check)" : ""))
                } else {
                    stale = true
                    for block in report.stale {
                        let lines = [Notebook.staleMessage(block, file: file)] + block.hint
                        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
                    }
                }
            }
            if stale { throw ExitCode.failure }
        }
    }
}
