// Serving-stack constants judged on data they were not fitted to. The sources are published tables
// (reproduction specs); each runtime family's free constants are fitted (`StackFit`, log-ratio least
// squares) to the rows of every source but one and that source is predicted with them, for every source
// in turn (leave one source out). Rows whose prediction does not depend on the family's constants
// (Theorem 3.8 with a published c, runtimes of no fitted family) are predicted as they are and scored
// beside the others. The `stack-crossvalidation` experiment kind (Experiments) writes the outcome out.

import Analytic
import Files
import Foundation

public struct CrossValidationSpec: Codable, Sendable {
    /// Reproduction sources: experiment directories (their config.json) or JSON files with a
    /// `reproduction` block, relative to this experiment's directory.
    public var sources: [String]
    /// Per runtime family, the constants fitted to the data (StackConstant names).
    public var families: [String: [String]]
    /// Targets: median |error| over every row, and the largest per-source median.
    public var targetMedian: Double?
    public var targetSourceMedian: Double?
}

public enum StackCrossValidation {
    public struct Source: Sendable {
        public var name: String
        public var spec: ReproductionSpec
        public var directory: URL
    }

    struct Item {
        var source: Int
        var row: ReproductionSpec.Row
        var preset: ReproductionRow
        /// Fitted family, nil where the prediction does not depend on fitted constants.
        var family: String?
    }

    public static func loadSources(_ spec: CrossValidationSpec, experimentDirectory: URL) throws -> [Source] {
        struct Wrapper: Decodable { var reproduction: ReproductionSpec? }
        return try spec.sources.map { relative in
            let url = (relative.hasPrefix("/") ? URL(fileURLWithPath: relative) : experimentDirectory.appendingPathComponent(relative)).standardizedFileURL
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
                throw AnalyticError("cross-validation source '\(relative)' does not exist (relative to \(experimentDirectory.path))")
            }
            let reproduction: ReproductionSpec, directory: URL
            if isDirectory.boolValue {
                reproduction = try Reproduction.loadSpec(experimentDirectory: url)
                directory = url
            } else {
                guard let found = try JSONFiles.decode(Wrapper.self, from: url.path, what: "cross-validation source").reproduction else {
                    throw AnalyticError("cross-validation source '\(relative)' has no \"reproduction\" block")
                }
                reproduction = found
                directory = url.deletingLastPathComponent()
            }
            guard (reproduction.calibration ?? []).isEmpty else {
                throw AnalyticError("cross-validation source '\(relative)' calibrates a constant itself; cross-validation fits every constant")
            }
            return Source(name: reproduction.table, spec: reproduction, directory: directory)
        }
    }

    /// Every family's stacks with the family's constants set to `values`.
    static func stacks(family: String, constants: [StackConstant], values: [Double]) -> [String: RuntimeOverhead] {
        var out: [String: RuntimeOverhead] = [:]
        for preset in RuntimeOverhead.presets where preset.family == family {
            out[preset.name] = preset.with(constants, values: values)
        }
        return out
    }

    public struct Outcome: Sendable {
        public struct Row: Sendable {
            public var source: String
            public var group: String
            public var setting: String
            public var family: String
            public var published: Double
            public var preset: Double
            public var outOfSample: Double
            public var inSample: Double
            public var error: Double { outOfSample / published - 1 }
        }
        public var rows: [Row]
        /// Per family: the all-source fit.
        public var fits: [String: StackFitResult]
        /// Per family and left-out source: the constants used for that source.
        public var folds: [(family: String, source: String, values: [Double])]
        public var constants: [String: [StackConstant]]
    }

    public static func evaluate(_ spec: CrossValidationSpec, experimentDirectory: URL,
                                progress: ((String) -> Void)? = nil) throws -> Outcome {
        let sources = try loadSources(spec, experimentDirectory: experimentDirectory)
        var constants: [String: [StackConstant]] = [:]
        for (family, names) in spec.families {
            guard RuntimeOverhead.presets.contains(where: { $0.family == family }) else {
                throw AnalyticError("family '\(family)' has no runtime preset; families: \(Set(RuntimeOverhead.presets.map(\.family)).sorted().joined(separator: ", "))")
            }
            constants[family] = try StackConstant.parseList(names.joined(separator: ","))
        }
        var items: [Item] = []
        for (index, source) in sources.enumerated() {
            let rows = try Reproduction.evaluate(source.spec, baseDirectory: source.directory)
            for (row, evaluated) in zip(source.spec.rows, rows) where evaluated.excluded == nil {
                let runtime = evaluated.fields["runtime"] ?? ""
                let family = RuntimeOverhead.presets.first { $0.name == runtime }?.family
                let depends = evaluated.fields["mode"] != "theorem-3.8, published c"
                items.append(Item(source: index, row: row, preset: evaluated,
                                  family: depends && family.map { constants[$0] != nil } == true ? family : nil))
            }
        }
        var outOfSample = items.map(\.preset.predicted)
        var inSample = items.map(\.preset.predicted)
        var fits: [String: StackFitResult] = [:]
        var folds: [(family: String, source: String, values: [Double])] = []
        for family in constants.keys.sorted() {
            let free = constants[family]!
            let members = items.indices.filter { items[$0].family == family }
            guard !members.isEmpty else { continue }
            progress?("fitting \(family): \(free.map(\.rawValue).joined(separator: ", ")) to \(members.count) rows")
            let observations = members.map { i -> FitObservation in
                let item = items[i], source = sources[item.source]
                return FitObservation(label: item.row.setting, source: source.name, measured: item.row.published) { values in
                    try Reproduction.evaluate(item.row, spec: source.spec, calibration: [], baseDirectory: source.directory,
                                              stacks: stacks(family: family, constants: free, values: values)).predicted
                }
            }
            let preset = RuntimeOverhead.presets.first { $0.family == family }!
            let start = preset.values(free)
            let all = try StackFit.fit(observations, constants: free, start: start)
            fits[family] = all
            for (slot, i) in members.enumerated() { inSample[i] = all.fitted[slot] }
            let cv = try StackFit.leaveOneSourceOut(observations, constants: free, start: start)
            var seen: Set<String> = []
            for (slot, i) in members.enumerated() {
                guard let predicted = cv[slot].predicted else {
                    throw AnalyticError("source '\(observations[slot].source)' is the only one of family \(family): nothing is left to fit its constants to")
                }
                outOfSample[i] = predicted
                if seen.insert(observations[slot].source).inserted {
                    folds.append((family, observations[slot].source, cv[slot].values ?? []))
                }
            }
        }
        let rows = items.indices.map { i in
            Outcome.Row(source: sources[items[i].source].name, group: items[i].preset.group, setting: items[i].row.setting,
                        family: items[i].family ?? "(not fitted)", published: items[i].row.published,
                        preset: items[i].preset.predicted, outOfSample: outOfSample[i], inSample: inSample[i])
        }
        return Outcome(rows: rows, fits: fits, folds: folds, constants: constants)
    }
}
