// The hostile-input suite: every option of every command (read from the command's own --help) given
// values a careless or hostile user gives — negative, zero, huge, not a number, empty, a folder, a device,
// a missing path — on top of a valid invocation. Each run must end by itself within a time bound, with an
// exit status (never a signal: a Swift trap is SIGILL/SIGTRAP), at most a few lines on stderr when it
// fails, and no file changed outside its scratch folder.
//
// `make test` runs the quick set (three values per option of the analytic commands); `make fuzz`
// (SPECLAB_FUZZ=full) runs every value over every command, the reference-model ones included.

import Files
import Foundation
import Testing
import Transformer

struct HostileRun {
    var arguments: [String]
    var status: Int32
    var signalled: Bool
    var timedOut: Bool
    var stderr: String
    var seconds: Double
}

enum HostileInput {
    static var full: Bool { ProcessInfo.processInfo.environment["SPECLAB_FUZZ"] == "full" }

    /// Runs the executable in `directory` with stdout and stderr in files (no pipe to fill), killed after
    /// `limit` seconds.
    static func run(_ arguments: [String], in directory: URL, limit: Double) throws -> HostileRun {
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let outURL = directory.appendingPathComponent(".stdout"), errURL = directory.appendingPathComponent(".stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        defer { try? out.close(); try? err.close() }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        let start = Date()
        try process.run()
        var timedOut = false
        if done.wait(timeout: .now() + limit) == .timedOut {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
            done.wait()
        }
        let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        return HostileRun(arguments: arguments, status: process.terminationStatus,
                          signalled: process.terminationReason == .uncaughtSignal && !timedOut, timedOut: timedOut,
                          stderr: stderr, seconds: Date().timeIntervalSince(start))
    }

    /// The long options a command's --help lists (flags without a value excluded).
    static func options(of command: [String], in directory: URL) throws -> [String] {
        let help = try run(command + ["--help"], in: directory, limit: 30)
        let text = (try? String(contentsOf: directory.appendingPathComponent(".stdout"), encoding: .utf8)) ?? help.stderr
        var names: [String] = []
        for line in text.split(separator: "\n") {
            let trimmed = line.drop(while: { $0 == " " })
            guard trimmed.hasPrefix("--"), let space = trimmed.firstIndex(of: " ") else { continue }
            let name = String(trimmed[..<space])
            guard trimmed[space...].dropFirst().hasPrefix("<"), name != "--help" else { continue }
            if !names.contains(name) { names.append(name) }
        }
        return names
    }

    /// A fresh scratch folder (the caller removes it).
    static func scratch(_ prefix: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// `base` with `option`'s value (if any) replaced by `value`.
    static func replacing(_ option: String, with value: String, in base: [String]) -> [String] {
        var out: [String] = []
        var i = 0
        while i < base.count {
            if base[i] == option { i += 2; continue }
            out.append(base[i])
            i += 1
        }
        return out + [option, value]
    }

    /// Every file below `directory` with its size and modification date.
    static func snapshot(_ directory: URL) -> [String: String] {
        var out: [String: String] = [:]
        guard let walker = FileManager.default.enumerator(atPath: directory.path) else { return out }
        for case let path as String in walker {
            let attributes = (try? FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(path).path)) ?? [:]
            out[path] = "\(attributes[.size] ?? "-") \(attributes[.modificationDate] ?? "-")"
        }
        return out
    }
}

@Suite("Hostile input", .serialized, .enabled(if: CLI.available, "the speclab executable has not been built"))
struct HostileInputTests {
    /// Commands and a valid invocation of each ("OUT" is the case's own output folder).
    static let analytic: [([String], [String])] = [
        (["speedup"], ["--alpha", "0.8", "--gamma", "4", "--c", "0.05"]),
        (["optimal-gamma"], ["--alpha", "0.8", "--c", "0.05"]),
        (["predict"], ["--hardware", "h100-sxm", "--model", "llama-3.1-8b", "--method", "eagle3", "--draft-length", "4", "--alpha", "0.8"]),
        (["sweep"], ["--hardware", "h100-sxm", "--model", "llama-3.1-8b", "--method", "eagle3", "--draft-length", "4", "--alpha", "0.8",
                     "--vary", "batch=1,2", "--csv", "OUT/sweep.csv"]),
        (["crossover"], ["--hardware", "h100-sxm", "--model", "llama-3.1-8b", "--method", "eagle3", "--alpha", "0.8"]),
        (["acceptance"], ["--alpha", "0.8", "--draft-length", "4"]),
        (["convert"], ["--from", "tau", "--value", "3", "--draft-length", "4"]),
        (["recommend"], ["--hardware", "h100-sxm", "--model", "llama-3.1-8b", "--method", "eagle3", "--alpha", "0.8"]),
        (["tree-acceptance"], ["--alphas", "0.8,0.7"]),
        (["fit"], ["--measurements", "FIXTURES/fit-vllm-h100.csv", "--stack", "vllm", "--out", "OUT/stack.json"]),
    ]

    /// The reference-model commands (make fuzz): a tiny checkpoint trained once per run ("TINY").
    static let reference: [([String], [String])] = [
        (["decode"], ["--model", "TINY", "--samples", "1", "--max-tokens", "4", "--prompt-length", "8"]),
        (["generate"], ["--model", "TINY", "--max-tokens", "4"]),
        (["train"], ["--preset", "tiny", "--steps", "1", "--batch-size", "2", "--sequence-length", "16", "--out", "OUT/ckpt"]),
        (["train-drafter"], ["--target", "TINY", "--kind", "mtp-parallel", "--heads", "2", "--steps", "1", "--batch-size", "2",
                             "--sequence-length", "16", "--out", "OUT/drafter"]),
        (["model-shape"], ["--checkpoint", "TINY", "--out", "OUT/shape.json"]),
    ]

    static let quickValues = ["-1", "99999999999999999999", "abc", "/dev/zero"]
    static let fullValues = ["0", "-1", "99999999999999999999", "9223372036854775807", "nan", "inf", "-inf", "1e308", "",
                             "abc", "/dev/zero", "FIFO", "/nonexistent/x", ".", "OUT"]

    @Test("every option with hostile values: an exit status, never a trap or a hang; one clear line; no file outside the output changed")
    func hostileOptions() throws {
        let scratch = try HostileInput.scratch("hostile")
        defer { try? FileManager.default.removeItem(at: scratch) }
        // Files the runs must leave alone: the user's folder beside the outputs, and the fixtures.
        let keep = scratch.appendingPathComponent("mine")
        try FileManager.default.createDirectory(at: keep, withIntermediateDirectories: true)
        try "thesis\n".write(to: keep.appendingPathComponent("chapter.tex"), atomically: true, encoding: .utf8)
        let fixtures = Repository.root.appendingPathComponent("Tests/Fixtures")
        let before = HostileInput.snapshot(keep), fixturesBefore = HostileInput.snapshot(fixtures)

        // A named pipe nobody writes to: reading it would never end.
        let fifo = scratch.appendingPathComponent("fifo")
        #expect(mkfifo(fifo.path, 0o644) == 0)
        var commands = Self.analytic
        let values = HostileInput.full ? Self.fullValues : Self.quickValues
        let limit = HostileInput.full ? 120.0 : 30.0
        if HostileInput.full {
            let tiny = scratch.appendingPathComponent("tiny")
            let trained = try HostileInput.run(["train", "--preset", "tiny", "--steps", "2", "--out", tiny.path], in: scratch, limit: 300)
            #expect(trained.status == 0, "training the tiny target: \(trained.stderr)")
            commands += Self.reference.map { ($0.0, $0.1.map { $0 == "TINY" ? tiny.path : $0 }) }
        }
        var cases = 0, failures: [String] = []
        for (command, base) in commands {
            let options = try HostileInput.options(of: command, in: scratch)
            #expect(!options.isEmpty, "no options read from \(command) --help")
            for option in options {
                for value in values {
                    cases += 1
                    let out = scratch.appendingPathComponent("out-\(cases)")
                    let arguments = command + HostileInput.replacing(option, with: value, in: base).map {
                        $0.replacingOccurrences(of: "OUT", with: out.path).replacingOccurrences(of: "FIXTURES", with: fixtures.path)
                            .replacingOccurrences(of: "FIFO", with: fifo.path)
                    }
                    let run = try HostileInput.run(arguments, in: scratch, limit: limit)
                    let lines = run.stderr.split(separator: "\n").filter { !$0.isEmpty }
                    let label = arguments.joined(separator: " ")
                    if run.signalled { failures.append("trap (signal \(run.status)): \(label)") }
                    else if run.timedOut { failures.append("no end within \(Int(limit)) s: \(label)") }
                    else if run.status > 127 { failures.append("exit \(run.status): \(label)") }
                    else if run.status != 0, lines.count != 1 {
                        failures.append("\(lines.count) lines on stderr for exit \(run.status): \(label): \(run.stderr.prefix(300))")
                    } else if run.status != 0, !lines[0].hasPrefix("speclab: error: ") {
                        failures.append("not one error line: \(label): \(lines[0])")
                    }
                    try? FileManager.default.removeItem(at: out)
                }
            }
        }
        let report = failures.prefix(40).joined(separator: "\n")
        #expect(failures.isEmpty, "\(failures.count) of \(cases) cases failed:\n\(report)")
        #expect(HostileInput.snapshot(keep) == before, "a file outside the outputs changed")
        #expect(HostileInput.snapshot(fixtures) == fixturesBefore, "a fixture changed")
        #expect(cases >= (HostileInput.full ? 1000 : 400), "only \(cases) cases ran")
        // Reported in the README: the suite's size.
        print("hostile input: \(cases) cases, \(failures.count) failures (\(HostileInput.full ? "full" : "quick") set)")
    }
}

@Suite("Killed runs", .serialized, .enabled(if: CLI.available, "the speclab executable has not been built"))
struct KilledRunTests {
    /// Starts `arguments`, sends it `signal` (SIGKILL unless told) after `delay` seconds (if still running);
    /// returns its exit status.
    @discardableResult
    static func killed(_ arguments: [String], in directory: URL, after delay: Double, signal: Int32 = SIGKILL) throws -> Int32 {
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: delay)
        if process.isRunning { kill(process.processIdentifier, signal) }
        process.waitUntilExit()
        // A signal that lands before the handlers are installed (while the executable is still loading)
        // ends the process by the signal itself: 128 + its number, as a shell reports it.
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    /// Delays spread over a run of `seconds`, the same every time (a fixed low-discrepancy sequence).
    static func delays(over seconds: Double, count: Int) -> [Double] {
        (1...count).map { i in seconds * (Double(i) * 0.618_033_988_75).truncatingRemainder(dividingBy: 1) }
    }

    /// A scratch folder with a tiny checkpoint trained by `train` (ten saves per run: an evaluation point,
    /// and a save, every second step), the command, and how long it took.
    static func trainedCheckpoint() throws -> (scratch: URL, checkpoint: URL, train: [String], seconds: Double) {
        let scratch = try HostileInput.scratch("killed")
        let checkpoint = scratch.appendingPathComponent("ckpt")
        let train = ["train", "--preset", "tiny", "--steps", "20", "--batch-size", "2", "--sequence-length", "16",
                     "--no-plot", "--out", checkpoint.path]
        let start = Date()
        let first = try HostileInput.run(train, in: scratch, limit: 300)
        #expect(first.status == 0, "\(first.stderr)")
        return (scratch, checkpoint, train, Date().timeIntervalSince(start))
    }

    @Test("SIGKILL at spread-out points of a training run that saves into a checkpoint: the folder always loads")
    func killedTraining() throws {
        let (scratch, checkpoint, train, seconds) = try Self.trainedCheckpoint()
        defer { try? FileManager.default.removeItem(at: scratch) }
        for delay in Self.delays(over: seconds, count: HostileInput.full ? 40 : 8) {
            try Self.killed(train, in: scratch, after: delay)
            let loaded = try Checkpoint.load(from: checkpoint)
            #expect(loaded.config.name == "tiny")
        }
    }

    @Test("Ctrl-C (SIGINT) at spread-out points of a training run: exit 130, no partial or temporary file left, the checkpoint loads, and --resume ends with the uninterrupted run's weights")
    func interrupted() throws {
        let (scratch, checkpoint, train, seconds) = try Self.trainedCheckpoint()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let uninterrupted = try #require(try Checkpoint.contentId(at: checkpoint))
        var interrupted = 0, resumed = 0
        for delay in Self.delays(over: seconds, count: HostileInput.full ? 20 : 6) {
            let status = try Self.killed(train, in: scratch, after: delay, signal: SIGINT)
            #expect(status == 0 || status == 130, "exit \(status) after SIGINT at \(delay) s")
            if status == 130 { interrupted += 1 }
            let hidden = try FileManager.default.contentsOfDirectory(atPath: checkpoint.path).filter { $0.contains(".tmp") }
            #expect(hidden.isEmpty, "left behind: \(hidden)")
            #expect(try Checkpoint.load(from: checkpoint).config.name == "tiny")
            guard status == 130 else { continue }
            // Continued from the last evaluation it saved: the same weights as the run never stopped; or, where
            // nothing of this run was saved yet or it stopped between two of its saves, one line saying so.
            let resume = try HostileInput.run(train + ["--resume"], in: scratch, limit: 300)
            if resume.status == 0 {
                resumed += 1
                #expect(try Checkpoint.contentId(at: checkpoint) == uninterrupted, "resumed after SIGINT at \(delay) s")
            } else {
                #expect(resume.stderr.contains("nothing to resume") || resume.stderr.contains("--resume:"), "\(resume.stderr)")
                #expect(resume.stderr.split(separator: "\n").count == 1, "\(resume.stderr)")
            }
        }
        #expect(interrupted >= 1, "no interrupt landed while the run was working")
        #expect(resumed >= 1, "no interrupted run could be resumed")
    }

    @Test("a train experiment killed part-way continues from its last evaluation when run again: the same weights as a run never stopped, and no work folder left")
    func killedTrainExperiment() throws {
        let scratch = try HostileInput.scratch("killed-train")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let experiments = scratch.appendingPathComponent("experiments"), slug = "900-train-tiny"
        try FileManager.default.createDirectory(at: experiments.appendingPathComponent(slug), withIntermediateDirectories: true)
        try Data("""
        {"kind": "train", "title": "tiny", "training": {"preset": "tiny", "corpus": "gsl", "steps": 20, "batchSize": 2,
         "sequenceLength": 16, "seed": 1, "threads": 1, "sampleTokens": 4}, "chart": {"title": "unused"}}
        """.utf8).write(to: experiments.appendingPathComponent(slug).appendingPathComponent("config.json"))
        func run(_ results: String) -> [String] {
            ["experiment", "run", slug, "--experiments-dir", experiments.path, "--results-dir", scratch.appendingPathComponent(results).path, "--no-plot"]
        }
        let start = Date()
        let whole = try HostileInput.run(run("whole"), in: scratch, limit: 300)
        #expect(whole.status == 0, "\(whole.stderr)")
        let seconds = Date().timeIntervalSince(start)
        let uninterrupted = try #require(try Checkpoint.contentId(at: scratch.appendingPathComponent("whole/\(slug)")))
        var continued = 0
        for (index, delay) in Self.delays(over: seconds, count: HostileInput.full ? 10 : 4).enumerated() {
            let results = "stopped-\(index)"
            try Self.killed(run(results), in: scratch, after: delay)
            let work = scratch.appendingPathComponent("\(results)/.work-\(slug)")
            let kept = FileManager.default.fileExists(atPath: work.appendingPathComponent(TrainingStateFile.optimizerFile).path)
            let again = try HostileInput.run(run(results), in: scratch, limit: 300)
            // Killed while saving, the kept state may not match its checkpoint: then one line naming the folder.
            guard again.status == 0 else {
                #expect(again.stderr.contains(".work-\(slug)") && again.stderr.split(separator: "\n").count == 1, "\(again.stderr)")
                continue
            }
            let provenance = try String(contentsOf: scratch.appendingPathComponent("\(results)/\(slug)/run.json"), encoding: .utf8)
            if kept {
                continued += 1
                // It continued, not started over.
                #expect(provenance.contains("resumed at step") || provenance.contains("finished by an earlier run"), "\(provenance)")
            }
            #expect(try Checkpoint.contentId(at: scratch.appendingPathComponent("\(results)/\(slug)")) == uninterrupted,
                    "rerun after a kill at \(delay) s")
            #expect(!FileManager.default.fileExists(atPath: work.path), "the work folder outlived the finished run")
        }
        #expect(continued >= 1, "no kill landed after the first evaluation")
    }

    @Test("SIGKILL at spread-out points of an experiment rerun: its previous results are still there (or put back)")
    func killedExperiment() throws {
        let scratch = try HostileInput.scratch("killed")
        let experiments = scratch.appendingPathComponent("experiments"), results = scratch.appendingPathComponent("results")
        try FileManager.default.createDirectory(at: experiments, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let slug = "001-speedup-vs-draft-length"
        try FileManager.default.createSymbolicLink(at: experiments.appendingPathComponent(slug),
                                                   withDestinationURL: Repository.root.appendingPathComponent("experiments/\(slug)"))
        let run = ["experiment", "run", slug, "--experiments-dir", experiments.path, "--results-dir", results.path]
        let start = Date()
        let first = try HostileInput.run(run, in: scratch, limit: 300)
        #expect(first.status == 0, "\(first.stderr)")
        let seconds = Date().timeIntervalSince(start)
        let final = results.appendingPathComponent(slug)
        for delay in Self.delays(over: seconds, count: HostileInput.full ? 40 : 8) {
            try Self.killed(run, in: scratch, after: delay)
            // What the next run does first. A gnuplot the killed run had started may still be drawing into
            // the staging folder for a moment; the next run comes after it.
            try ArtifactDirectory.recover(final)
            if try FileManager.default.contentsOfDirectory(atPath: results.path).count > 1 {
                Thread.sleep(forTimeInterval: 2)
                try ArtifactDirectory.recover(final)
            }
            let provenance = try Data(contentsOf: final.appendingPathComponent("run.json"))
            #expect((try JSONSerialization.jsonObject(with: provenance) as? [String: Any])?["experiment"] as? String == slug)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: results.path).filter { $0 != slug }
            #expect(leftovers.isEmpty, "left beside the results: \(leftovers)")
        }
    }
}
