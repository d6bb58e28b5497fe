// The `stack-crossvalidation` experiment kind: every serving-stack constant judged on data it was not
// fitted to (leave one source out, the Validation module's `StackCrossValidation`). The sources are the
// paper tables of the reproduction experiments and the serving-stack measurements kept beside this
// experiment.
//
// Outputs: cv.csv (one line per row: source, family, published, predicted out of sample, in sample with
// all sources, and with the presets), table.md (per source: rows, median and max |error|), constants.csv
// (each fold's constants and the all-source fit with standard errors), the scatter chart, and verdict
// lines for the targets and for the qualitative facts the sources state.

import Analytic
import Charts
import Files
import Foundation
import LinAlg
import Validation

extension StackCrossValidation {
    /// The experiment kind.
    static func run(_ cv: CrossValidationSpec, chart chartSpec: ChartSpec, experimentDirectory: URL, output: URL, plot: Bool,
                    notes: inout [String]) throws -> [String] {
        let outcome = try evaluate(cv, experimentDirectory: experimentDirectory) { message in
            if ProgressReporter.stderrIsTerminal { FileHandle.standardError.write(Data("\(message)\n".utf8)) }
        }
        guard !outcome.rows.isEmpty else { throw AnalyticError("the cross-validation sources have no rows to score") }
        let targetMedian = cv.targetMedian ?? 0.12, targetSource = cv.targetSourceMedian ?? 0.25
        var table = CSVTable(columns: ["source", "group", "setting", "family", "published", "predicted_cv", "error_cv",
                                       "predicted_in_sample", "error_in_sample", "predicted_presets", "error_presets"])
        for r in outcome.rows {
            table.rows.append([r.source, r.group, r.setting, r.family, CSVTable.cell(r.published), CSVTable.cell(r.outOfSample),
                               CSVTable.cell(r.error), CSVTable.cell(r.inSample), CSVTable.cell(r.inSample / r.published - 1),
                               CSVTable.cell(r.preset), CSVTable.cell(r.preset / r.published - 1)])
        }
        try table.write(to: output.appendingPathComponent("cv.csv"))

        var constantsTable = CSVTable(columns: ["family", "fit", "constant", "value", "standard_error", "unit"])
        for family in outcome.fits.keys.sorted() {
            for e in outcome.fits[family]!.estimates {
                constantsTable.rows.append([family, "all sources", e.constant.rawValue, CSVTable.cell(e.value),
                                            e.standardError.map(CSVTable.cell) ?? (e.boundNote ?? ""), e.constant.displayUnit])
            }
            for fold in outcome.folds where fold.family == family {
                for (c, v) in zip(outcome.constants[family]!, fold.values) {
                    constantsTable.rows.append([family, "without \(fold.source)", c.rawValue, CSVTable.cell(v), "", c.displayUnit])
                }
            }
        }
        try constantsTable.write(to: output.appendingPathComponent("constants.csv"))

        // Per-source statistics.
        var sourceNames: [String] = []
        for r in outcome.rows where !sourceNames.contains(r.source) { sourceNames.append(r.source) }
        var md = "# Leave-one-source-out cross-validation of the serving-stack constants\n\n"
        md += "Each source's rows predicted with constants fitted to the other sources only (error = predicted / published − 1).\n\n"
        md += "| source | family | rows | median \\|error\\| (CV) | max \\|error\\| (CV) | median in sample | median with presets |\n|---|---|---|---|---|---|---|\n"
        var worstSourceMedian = 0.0
        for name in sourceNames {
            let rs = outcome.rows.filter { $0.source == name }
            let cvErrors = rs.map { abs($0.error) }
            let m = Statistics.median(cvErrors)
            worstSourceMedian = max(worstSourceMedian, m)
            md += "| \(name) | \(Set(rs.map { $0.family }).sorted().joined(separator: ", ")) | \(rs.count) | \(ReproductionReport.percent(m)) | \(ReproductionReport.percent(cvErrors.max() ?? 0)) | \(ReproductionReport.percent(Statistics.median(rs.map { abs($0.inSample / $0.published - 1) }))) | \(ReproductionReport.percent(Statistics.median(rs.map { abs($0.preset / $0.published - 1) }))) |\n"
            notes.append("\(name): \(rs.count) rows, CV median |error| \(ReproductionReport.percent(m)), max \(ReproductionReport.percent(cvErrors.max() ?? 0))")
        }
        let allErrors = outcome.rows.map { abs($0.error) }
        let overall = Statistics.median(allErrors)
        let met = overall <= targetMedian && worstSourceMedian <= targetSource
        let verdict = "all sources: \(outcome.rows.count) rows, CV median |error| \(ReproductionReport.percent(overall)), worst source median \(ReproductionReport.percent(worstSourceMedian)); target (median ≤ \(ReproductionReport.percent(targetMedian)), every source ≤ \(ReproductionReport.percent(targetSource))) \(met ? "met" : "NOT met")"
        notes.insert(verdict, at: 0)
        md += "\n- \(verdict)\n"
        for fact in facts(outcome) { notes.append(fact); md += "- \(fact)\n" }
        md += "\n## Constants fitted to all sources (standard errors from the fit)\n\n| family | constant | value | ± |\n|---|---|---|---|\n"
        for family in outcome.fits.keys.sorted() {
            for e in outcome.fits[family]!.estimates {
                md += "| \(family) | \(e.constant.rawValue) | \(String(format: "%.4g", e.value)) \(e.constant.displayUnit) | \(e.standardError.map { String(format: "%.2g", $0) } ?? (e.boundNote ?? "n/a")) |\n"
                notes.append("\(family) \(e.constant.rawValue) = \(String(format: "%.4g", e.value)) \(e.constant.displayUnit) ± \(e.standardError.map { String(format: "%.2g", $0) } ?? (e.boundNote ?? "n/a")) (all sources)")
            }
        }
        try AtomicFile.write(md, to: output.appendingPathComponent("table.md"))

        var series: [ChartSeries] = []
        for name in sourceNames {
            series.append(ChartSeries(title: name, points: outcome.rows.filter { $0.source == name }.map { ChartPoint(x: $0.published, y: $0.outOfSample) },
                                      style: .points))
        }
        let values = outcome.rows.flatMap { [$0.published, $0.outOfSample] }
        let range = AxisRange(lower: max(0, ((values.min() ?? 1) * 0.9 * 4).rounded(.down) / 4),
                              upper: ((values.max() ?? 2) * 1.08 * 4).rounded(.up) / 4)
        let chart = Chart(title: chartSpec.title, subtitle: chartSpec.subtitle,
                          xLabel: "published speedup (×)", yLabel: "predicted speedup (×), constants fitted without the row's source",
                          series: series, referenceLines: [.diagonal(title: "predicted = published")],
                          xRange: range, yRange: range, keyPosition: .outsideRight, size: ChartSize(width: 1450, height: 720))
        return ["cv.csv", "constants.csv", "table.md"] + (try ExperimentContext.draw(chart, output: output, baseName: "chart", plot: plot))
    }

    /// The qualitative facts of the serving sources, read off the out-of-sample predictions.
    static func facts(_ outcome: Outcome) -> [String] {
        var out: [String] = []
        // Best draft length per group with K-indexed settings (the vLLM EAGLE rows).
        var groups: [String] = []
        for r in outcome.rows where r.setting.contains("K=") && !groups.contains(r.group) { groups.append(r.group) }
        for group in groups {
            let rs = outcome.rows.filter { $0.group == group }
            guard rs.count >= 3 else { continue }
            func k(_ r: Outcome.Row) -> String { String(r.setting.split(separator: "=").last ?? "") }
            let published = rs.max { $0.published < $1.published }!, predicted = rs.max { $0.outOfSample < $1.outOfSample }!
            out.append("\(group): best K published \(k(published)), predicted \(k(predicted)) (out of sample) — \(k(published) == k(predicted) ? "matches" : "DIFFERS")")
        }
        // Monotone trends along batch / concurrency within a group.
        var trendGroups: [String] = []
        for r in outcome.rows where (r.setting.contains("batch ") || r.setting.contains("concurrency ")) && !trendGroups.contains(r.group) { trendGroups.append(r.group) }
        for group in trendGroups {
            let rs = outcome.rows.filter { $0.group == group }
            guard rs.count >= 2 else { continue }
            func direction(_ values: [Double]) -> String {
                let steps = zip(values, values.dropFirst()).map { $1 - $0 }
                if steps.allSatisfy({ $0 > 0 }) { return "rising" }
                if steps.allSatisfy({ $0 < 0 }) { return "falling" }
                return "not monotone"
            }
            let published = direction(rs.map(\.published)), predicted = direction(rs.map(\.outOfSample))
            out.append("\(group): published speedup \(published) with batch, predicted \(predicted) (out of sample, \(rs.map { String(format: "%.2f", $0.outOfSample) }.joined(separator: " → "))) — \(published == predicted ? "matches" : "DIFFERS")")
        }
        return out
    }
}

extension CrossValidationSpec: ExperimentKind {
    static let name = "stack-crossvalidation"
    static let block: String? = "crossValidation"

    func run(_ context: ExperimentContext) throws -> [String] {
        try StackCrossValidation.run(self, chart: context.chart, experimentDirectory: context.experimentDirectory,
                                     output: context.output, plot: context.plot, notes: &context.notes)
    }
}
