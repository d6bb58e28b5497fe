// `speclab fit`: a serving stack's free constants fitted to a user's own measurements.
//
// The measurements file is CSV with the columns hardware, model, method, draft_length, tree_size, batch,
// context, tau and one measured column, tpot_ms (time per output token of one sequence, decode phase)
// or speedup (over plain decoding at the same batch); plain-decoding rows have method ntp and empty
// draft_length, tree_size and tau. Optional columns: devices, draft_model, tree_topk, draft_kv_budget,
// draft_devices, kernels. Every row is predicted with the stack's profile and the free constants set,
// the constants are fitted (Validation.StackFit), and each row is also predicted by a fit to the other
// rows (leave one out): that column, not the in-sample one, says how far the fitted stack can be trusted.

import Analytic
import Files
import Foundation
import LinAlg
import Requests

public struct StackMeasurement: Sendable {
    public enum Quantity: String, Sendable { case tpotMilliseconds = "tpot_ms", speedup }
    /// Line in the file (the header is line 1).
    public var line: Int
    public var request: PredictRequest
    public var quantity: Quantity
    public var measured: Double

    public var label: String {
        let method = request.method ?? "ntp"
        var text = "\(request.hardware ?? "") \(request.model ?? "") \(method)"
        if method != "ntp" { text += " K=\(request.draftLength ?? 0)" }
        if let tree = request.treeSize { text += " tree \(tree)" }
        text += " batch \(request.batch ?? 1) ctx \(request.context ?? 0)"
        return text
    }

    /// The engine's value of this row's quantity with `stack` as the runtime.
    public func predict(stack: RuntimeOverhead, base: PredictionConfig) throws -> Double {
        var config = base
        config.overhead = stack
        config.hardware.overhead = stack
        let p = try Predictor(config).predict()
        switch quantity {
        case .speedup: return p.speedup
        case .tpotMilliseconds: return 1e3 * p.cycleSeconds / p.tau
        }
    }
}

public enum StackFitRun {
    static let required = ["hardware", "model", "method", "draft_length", "tree_size", "batch", "context", "tau"]
    static let optional = ["devices", "draft_model", "tree_topk", "draft_kv_budget", "draft_devices", "kernels"]

    /// Reads a measurements file; every bad row or field is one error naming its line and column.
    public static func readMeasurements(path: String) throws -> [StackMeasurement] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw AnalyticError("measurements file '\(path)' does not exist: give a CSV with columns \(required.joined(separator: ",")),tpot_ms|speedup")
        }
        let table: CSVTable
        do { table = try CSVTable.read(from: URL(fileURLWithPath: path)) } catch {
            throw AnalyticError("measurements file '\(path)' is not readable CSV: \(error)")
        }
        let columns = table.columns.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let missing = required.filter { !columns.contains($0) }
        guard missing.isEmpty else {
            throw AnalyticError("\(path): missing column(s) \(missing.joined(separator: ", ")); the header needs \(required.joined(separator: ",")) and tpot_ms or speedup")
        }
        let measuredColumns = columns.filter { $0 == "tpot_ms" || $0 == "speedup" }
        guard measuredColumns.count == 1, let quantity = StackMeasurement.Quantity(rawValue: measuredColumns[0]) else {
            throw AnalyticError("\(path): give exactly one measured column, tpot_ms or speedup (found \(measuredColumns.isEmpty ? "none" : measuredColumns.joined(separator: " and ")))")
        }
        let unknown = columns.filter { !required.contains($0) && !optional.contains($0) && $0 != quantity.rawValue }
        guard unknown.isEmpty else {
            throw AnalyticError("\(path): unknown column(s) \(unknown.joined(separator: ", ")); optional columns are \(optional.joined(separator: ", "))")
        }
        guard !table.rows.isEmpty else { throw AnalyticError("\(path): no measurement rows under the header") }
        var out: [StackMeasurement] = []
        for (index, row) in table.rows.enumerated() {
            let line = index + 2
            guard row.count == columns.count else {
                throw AnalyticError("\(path) line \(line): \(row.count) fields, the header has \(columns.count)")
            }
            var cells: [String: String] = [:]
            for (c, v) in zip(columns, row) { cells[c] = v.trimmingCharacters(in: .whitespaces) }
            func text(_ c: String) throws -> String {
                guard let v = cells[c], !v.isEmpty else { throw AnalyticError("\(path) line \(line): \(c) is empty") }
                return v
            }
            func integer(_ c: String, optional: Bool = false) throws -> Int? {
                guard let v = cells[c], !v.isEmpty else {
                    if optional { return nil }
                    throw AnalyticError("\(path) line \(line): \(c) is empty")
                }
                guard let n = Int(v), n >= 0 else { throw AnalyticError("\(path) line \(line): \(c) '\(v)' is not a whole number >= 0") }
                return n
            }
            func number(_ c: String, optional: Bool = false) throws -> Double? {
                guard let v = cells[c], !v.isEmpty else {
                    if optional { return nil }
                    throw AnalyticError("\(path) line \(line): \(c) is empty")
                }
                guard let x = Double(v), x.isFinite, x > 0 else { throw AnalyticError("\(path) line \(line): \(c) '\(v)' is not a positive number") }
                return x
            }
            var request = PredictRequest()
            request.hardware = try text("hardware")
            request.model = try text("model")
            let method = try text("method")
            request.method = method
            request.batch = try integer("batch")
            request.context = try integer("context")
            request.devices = try integer("devices", optional: true)
            request.draftModel = cells["draft_model"].flatMap { $0.isEmpty ? nil : $0 }
            request.treeTopK = try integer("tree_topk", optional: true)
            request.draftKVBudget = try integer("draft_kv_budget", optional: true)
            request.draftDevices = try integer("draft_devices", optional: true)
            request.kernels = cells["kernels"].flatMap { $0.isEmpty ? nil : $0 }
            if method == "ntp" {
                for c in ["draft_length", "tree_size", "tau"] where !(cells[c] ?? "").isEmpty {
                    throw AnalyticError("\(path) line \(line): \(c) must be empty for plain decoding (method ntp)")
                }
            } else {
                request.draftLength = try integer("draft_length")
                request.treeSize = try integer("tree_size", optional: true)
                request.tau = try number("tau")
            }
            let measured = try number(quantity.rawValue)!
            if quantity == .speedup, method == "ntp" {
                throw AnalyticError("\(path) line \(line): a plain-decoding row has speedup 1 by definition; measure tpot_ms for it, or leave it out")
            }
            out.append(StackMeasurement(line: line, request: request, quantity: quantity, measured: measured))
        }
        return out
    }

    /// The constants `fit` frees when the user names none: those the rows can tell apart, at most one
    /// fewer than the rows (so every row has a leave-one-out prediction).
    public static func defaultConstants(for rows: [StackMeasurement]) -> [StackConstant] {
        let speculative = rows.filter { ($0.request.method ?? "ntp") != "ntp" }
        let plain = rows.count - speculative.count
        var out: [StackConstant] = [.perForwardSeconds]
        if Set(speculative.compactMap(\.request.draftLength)).count >= 2 || (plain > 0 && !speculative.isEmpty) {
            out.append(.perDraftStepSeconds)
        }
        if Set(rows.compactMap(\.request.batch)).count >= 2 { out.append(.schedulerSecondsPerSequence) }
        if plain > 0, Set(speculative.compactMap(\.request.draftLength)).count >= 2 { out.append(.perCycleSeconds) }
        if Set(rows.compactMap(\.request.context)).count >= 2, !speculative.isEmpty { out.append(.extendAttentionRereadFraction) }
        return Array(out.prefix(max(1, rows.count - 1)))
    }

    public struct Result: Sendable {
        public var stack: RuntimeOverhead
        public var fit: StackFitResult
        public var rows: [StackMeasurement]
        public var leaveOneOut: [Double?]
    }

    /// Fits `constants` of `stack` to `rows`.
    public static func run(rows: [StackMeasurement], stack: RuntimeOverhead, constants: [StackConstant],
                           name: String, source: String) throws -> Result {
        var observations: [FitObservation] = []
        for row in rows {
            let config: PredictionConfig
            do { config = try row.request.resolve() } catch let error as AnalyticError {
                throw AnalyticError("line \(row.line): \(error.message)")
            }
            let measurement = row
            observations.append(FitObservation(label: "line \(row.line)", source: "line \(row.line)", measured: row.measured) { values in
                try measurement.predict(stack: stack.with(constants, values: values), base: config)
            })
            do { _ = try row.predict(stack: stack, base: config) } catch let error as AnalyticError {
                throw AnalyticError("line \(row.line): \(error.message)")
            }
        }
        let start = stack.values(constants)
        let fit = try StackFit.fit(observations, constants: constants, start: start)
        let loo = try StackFit.leaveOneOut(observations, constants: constants, start: start)
        var fitted = stack.with(constants, values: fit.values)
        fitted.name = name
        fitted.source = source
        return Result(stack: fitted, fit: fit, rows: rows, leaveOneOut: loo)
    }

    /// The report `fit` prints.
    public static func report(_ result: Result, baseStack: String) -> [String] {
        var lines: [String] = []
        let unit = result.rows.first?.quantity == .speedup ? "speedup ×" : "TPOT ms"
        lines.append("fitted \(result.fit.estimates.count) constant(s) of stack \(baseStack) to \(result.rows.count) rows (\(unit)):")
        for e in result.fit.estimates {
            let value = String(format: "%.4g", e.value) + (e.constant.displayUnit.isEmpty ? "" : " " + e.constant.displayUnit)
            let error: String
            if e.atBound {
                error = e.value <= e.constant.bounds.lowerBound
                    ? "at its bound \(String(format: "%g", e.value)) (the data want it lower)"
                    : "at its bound \(String(format: "%g", e.value)) (the data want it higher: beyond a physical fixed cost)"
            }
            else if let se = e.standardError { error = "± " + String(format: "%.2g", se) + (e.constant.displayUnit.isEmpty ? "" : " " + e.constant.displayUnit) }
            else { error = "± n/a (as many rows as constants)" }
            lines.append("  " + e.constant.rawValue.padding(toLength: 32, withPad: " ", startingAt: 0) + value + "  " + error)
        }
        lines.append("")
        lines.append("line  measured    fitted   error   leave-one-out   error  setting")
        var inSample: [Double] = [], outOfSample: [Double] = []
        for (i, row) in result.rows.enumerated() {
            let fitted = result.fit.fitted[i]
            let e = fitted / row.measured - 1
            inSample.append(abs(e))
            var loo = "          n/a       n/a"
            if let p = result.leaveOneOut[i] {
                let le = p / row.measured - 1
                outOfSample.append(abs(le))
                loo = String(format: "%13.3f  %+6.1f%%", p, 100 * le)
            }
            lines.append(String(format: "%4d  %8.3f  %8.3f  %+5.1f%%", row.line, row.measured, fitted, 100 * e) + loo + "  " + row.label)
        }
        lines.append("")
        lines.append(String(format: "in-sample median |error| %.1f%%", 100 * Statistics.median(inSample)))
        if outOfSample.isEmpty {
            lines.append("leave-one-out: not available (as many rows as constants); add rows or free fewer constants (--free)")
        } else {
            lines.append(String(format: "leave-one-out median |error| %.1f%%, max %.1f%% over %d rows: expect errors of this size on settings like these",
                                100 * Statistics.median(outOfSample), 100 * (outOfSample.max() ?? 0), outOfSample.count))
        }
        return lines
    }
}
