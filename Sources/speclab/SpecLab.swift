// speclab: the command-line face of SpecLab. Argument parsing and printing
// only; every computation lives in Analytic and Experiments.

import Analytic
import ArgumentParser
import Experiments
import Files
import Foundation

@main
struct SpecLab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "speclab",
        abstract: "Analytic model of speculative decoding and multi-token prediction.",
        discussion: """
        Examples:
          speclab presets
          speclab speedup --alpha 0.8 --gamma 5 --c 0.05
          speclab predict --hardware h100-sxm --model llama-3.1-8b \\
            --method eagle3 --draft-length 6 --context 2048 --alpha 0.8
          speclab sweep --hardware h100-sxm --model llama-3.1-8b \\
            --method sd --draft-model llama-3.2-1b --alpha 0.7 \\
            --vary batch=1:256:x2 --vary draft-length=1,2,4,8 \\
            --csv out.csv --plot out.png
          speclab crossover --hardware h100-sxm --model llama-3.1-8b \\
            --method eagle3 --alpha 0.8 --context 128
          speclab experiment run-suite default
        """,
        subcommands: [Speedup.self, OptimalGamma.self, Predict.self, SweepCommand.self, Crossover.self, Presets.self,
                      AcceptanceCommand.self, Convert.self, ExperimentCommand.self, Bench.self,
                      Train.self, Generate.self, BenchModel.self, Decode.self, TrainDrafter.self, Calibrate.self, ModelShapeCommand.self, Validate.self,
                      NotebookCommand.self, ImportVLLMMetrics.self, Recommend.self, TreeAcceptanceCommand.self, Fit.self,
                      MethodsCommand.self])

    /// Runs the command; any error becomes one line on stderr and a non-zero exit.
    static func main() {
        // Ctrl-C leaves no partial file: what is being written is removed first.
        Interrupts.install()
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            // --help and --version print their text and exit 0.
            if exitCode(for: error) == .success { exit(withError: error) }
            let text = message(for: error).replacingOccurrences(of: "\n", with: " ")
            fail("\(text) (see 'speclab help' or add --help)", code: exitCode(for: error).rawValue)
        }
        do {
            try command.run()
        } catch let error as AnalyticError {
            fail(error.message)
        } catch let error as CleanExit {
            exit(withError: error)
        } catch let error as ValidationError {
            fail(error.message, code: ExitCode.validationFailure.rawValue)
        } catch let error as ExitCode {
            exit(withError: error)
        } catch let error as NSError where OutputError.describe(error) != nil {
            // Foundation's file errors: the path and the reason, without domain and code.
            fail(OutputError.describe(error) ?? "")
        } catch let error as LocalizedError {
            fail(error.errorDescription ?? "\(error)")
        } catch {
            // Help requests and argument errors raised while running (e.g. `--help` on a group).
            if exitCode(for: error) == .success { exit(withError: error) }
            let text = message(for: error).replacingOccurrences(of: "\n", with: " ")
            fail(text.isEmpty ? "\(error)" : text, code: exitCode(for: error).rawValue)
        }
    }

    static func fail(_ message: String, code: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data("speclab: error: \(message)\n".utf8))
        Foundation.exit(code)
    }
}

/// Prints a line to stdout.
func say(_ text: String) { print(text) }

func format(_ value: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", value) }

func milliseconds(_ seconds: Double) -> String { String(format: "%.3f ms", seconds * 1e3) }

func parseList(_ text: String, name: String) throws -> [Double] {
    try text.split(separator: ",").map { part in
        guard let value = Double(part.trimmingCharacters(in: .whitespaces)), value.isFinite else {
            throw AnalyticError("\(name): '\(part)' is not a number (give a comma-separated list, e.g. 0.8,0.7,0.6)")
        }
        return value
    }
}
