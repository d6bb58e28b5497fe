// Continuing an interrupted training run exactly where it stopped. At every evaluation the run saves,
// beside its checkpoint, what the next step needs besides the weights: the AdamW moments and step count
// of every trained parameter set (optimizer.safetensors) and the points so far (training.csv). A resumed
// run loads them, draws and drops the batches of the steps already taken, and continues; with the same
// settings and thread count its weights are bit for bit those of a run that was never stopped.
//
// The optimizer file names the checkpoint it belongs to by its content id (the Checkpoint's FNV-1a over
// the weights) and carries the run's settings and thread count: a resume with other settings, or from a
// checkpoint written after the optimizer state (a run stopped between the two writes), is refused with
// one line instead of continuing from mismatched state.

import Files
import Foundation

/// What a run needs to continue after `step` steps.
public struct TrainingResume: Sendable {
    /// Steps taken.
    public var step: Int
    /// One optimizer per trained parameter set, as after `step` steps.
    public var optimizers: [AdamW]
    /// The points of the steps taken (the loss curve so far).
    public var points: [TrainingPoint]

    public init(step: Int, optimizers: [AdamW], points: [TrainingPoint]) {
        self.step = step; self.optimizers = optimizers; self.points = points
    }

    /// Refuses a state that cannot continue `objective` under `settings`.
    func check(against objective: TrainingObjective, settings: TrainingSettings) throws {
        guard step < settings.steps else {
            throw ModelError("the run already took its \(settings.steps) steps (\(step) done); nothing to resume — give more --steps to a new run")
        }
        let counts = objective.trainables.map(\.parameters.count)
        guard optimizers.map(\.parameterCount) == counts else {
            throw ModelError("the saved optimizer state is for parameter sets of \(optimizers.map(\.parameterCount)) values, the model has \(counts); it belongs to another model")
        }
        guard points.count == step, points.last?.step ?? 0 == step else {
            throw ModelError("the saved training log has \(points.count) steps, the optimizer \(step); the run was stopped while saving — start it again without --resume")
        }
    }
}

/// The files of a resumable run, beside its checkpoint.
public enum TrainingStateFile {
    public static let optimizerFile = "optimizer.safetensors"
    public static let logFile = "training.csv"
    static let logColumns = ["step", "train_loss_nats", "train_bits_per_byte", "validation_bits_per_byte",
                             "learning_rate", "gradient_norm", "tokens_per_second"]

    /// The loss curve as a table: one row per step.
    public static func log(_ points: [TrainingPoint]) -> CSVTable {
        var table = CSVTable(columns: logColumns)
        for p in points {
            table.rows.append([String(p.step), CSVTable.cell(p.trainLoss), CSVTable.cell(p.trainLoss / Foundation.log(2.0)),
                               p.validationBitsPerByte.map(CSVTable.cell) ?? "", CSVTable.cell(p.learningRate),
                               CSVTable.cell(p.gradientNorm), CSVTable.cell(p.tokensPerSecond)])
        }
        return table
    }

    /// Writes the log, then the optimizer state bound to the checkpoint of content id `contentId`.
    public static func save(_ resume: TrainingResume, settings: TrainingSettings, corpus: String, threads: Int,
                            contentId: String, to directory: URL) throws {
        try log(resume.points).write(to: directory.appendingPathComponent(logFile))
        var tensors: [SafetensorsFile.Tensor] = []
        for (index, optimizer) in resume.optimizers.enumerated() {
            tensors.append((name: "m.\(index)", shape: [optimizer.parameterCount], values: optimizer.firstMoment))
            tensors.append((name: "v.\(index)", shape: [optimizer.parameterCount], values: optimizer.secondMoment))
        }
        let counts = resume.optimizers.map { String($0.stepCount) }.joined(separator: ",")
        let file = SafetensorsFile(tensors: tensors, metadata: [
            Checkpoint.contentIdKey: contentId, "step": String(resume.step), "optimizer_steps": counts,
            "settings": try settingsText(settings), "corpus": corpus, "threads": String(threads),
            "format": "speclab-training-v1",
        ])
        try file.write(to: directory.appendingPathComponent(optimizerFile))
    }

    /// The state saved in `directory` for the checkpoint of content id `contentId`, checked against the
    /// settings and thread count of the run that is to continue it.
    public static func load(from directory: URL, settings: TrainingSettings, corpus: String, threads: Int,
                            contentId: String) throws -> TrainingResume {
        let url = directory.appendingPathComponent(optimizerFile)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ModelError("--resume: '\(directory.path)' has no \(optimizerFile) (the run was not saved by a resumable train, or stopped before its first evaluation); run without --resume")
        }
        let file = try SafetensorsFile.read(from: url)
        let meta = file.metadata
        guard meta[Checkpoint.contentIdKey] == contentId else {
            throw ModelError("--resume: \(optimizerFile) belongs to other weights than the checkpoint in '\(directory.path)' (the run was stopped while saving); run without --resume")
        }
        guard meta["settings"] == (try settingsText(settings)) else {
            throw ModelError("--resume: the run in '\(directory.path)' was started with other settings (\(meta["settings"] ?? "none")); resume with the same --steps, --batch-size, --sequence-length, --learning-rate and --seed")
        }
        guard meta["corpus"] == corpus else {
            throw ModelError("--resume: the run in '\(directory.path)' trained on corpus '\(meta["corpus"] ?? "?")', not '\(corpus)'; give the same --corpus")
        }
        guard meta["threads"] == String(threads) else {
            throw ModelError("--resume: the run was started with --threads \(meta["threads"] ?? "?"), not \(threads); BLAS sums in another order with another count, so give the same --threads")
        }
        guard let step = meta["step"].flatMap(Int.init) else { throw ModelError("--resume: \(optimizerFile) names no step") }
        let counts = (meta["optimizer_steps"] ?? "").split(separator: ",").compactMap { Int($0) }
        var optimizers: [AdamW] = []
        for (index, count) in counts.enumerated() {
            guard let m = file.tensor(named: "m.\(index)"), let v = file.tensor(named: "v.\(index)"), m.values.count == v.values.count else {
                throw ModelError("--resume: \(optimizerFile) lacks the moments of parameter set \(index)")
            }
            optimizers.append(AdamW(config: AdamWConfig(learningRate: settings.learningRate, weightDecay: settings.weightDecay),
                                    firstMoment: m.values, secondMoment: v.values, stepCount: count))
        }
        let points = try readLog(directory.appendingPathComponent(logFile)).filter { $0.step <= step }
        return TrainingResume(step: step, optimizers: optimizers, points: points)
    }

    /// The points of a log this type wrote.
    static func readLog(_ url: URL) throws -> [TrainingPoint] {
        let table = try CSVTable.read(from: url)
        guard table.columns == logColumns else {
            throw ModelError("--resume: '\(url.path)' is not a training log (columns \(table.columns.joined(separator: ",")))")
        }
        return try table.rows.map { row in
            func number(_ i: Int) throws -> Double {
                guard i < row.count, let value = Double(row[i]) else {
                    throw ModelError("--resume: '\(url.path)': '\(i < row.count ? row[i] : "")' in column \(logColumns[i]) is not a number")
                }
                return value
            }
            return TrainingPoint(step: Int(try number(0)), trainLoss: try number(1),
                                 validationBitsPerByte: row.count > 3 && !row[3].isEmpty ? try number(3) : nil,
                                 learningRate: try number(4), gradientNorm: try number(5), tokensPerSecond: try number(6))
        }
    }

    static func settingsText(_ settings: TrainingSettings) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(settings), as: UTF8.self)
    }
}
