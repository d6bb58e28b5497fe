// The `train` experiment kind (config.json's "training" block).

import Analytic
import Charts
import Decoding
import Files
import Foundation
import LinAlg
import Methods
import Transformer
import Validation

extension TrainSpec: ExperimentKind {
    static let name = "train"
    var randomSeed: UInt64? { seed ?? 1 }
    static let reproducibility = Reproducibility.timed(what: "training time and throughput are timings of this machine; the weights are fixed by the seed at the configured thread count")
    static let block: String? = "training"

    func run(_ context: ExperimentContext) throws -> [String] {
        let t = self
        let output = context.output, plot = context.plot
        let config = try ModelConfig.preset(named: t.preset)
        let settings = TrainingSettings(steps: t.steps, batchSize: t.batchSize ?? 16,
                                        sequenceLength: t.sequenceLength ?? min(128, config.contextLength),
                                        learningRate: t.learningRate ?? 3e-3, seed: t.seed ?? 1)
        // Training runs in the work folder, checkpointing at every evaluation: a run stopped part-way
        // continues from its last evaluation when the experiment is run again (bit for bit, as
        // `train --resume`); the files move into the results when it has finished.
        let work = context.workDirectory
        let resumable = FileManager.default.fileExists(atPath: work.appendingPathComponent(TrainingStateFile.optimizerFile).path)
        let request = TrainingRequest(preset: t.preset, corpus: t.corpus, output: work, settings: settings,
                                      threads: t.threads ?? 1, plot: plot, resume: resumable)
        let lines: [String]
        do {
            lines = try (resumable ? TrainingRun.finished(request) : nil) ?? TrainingRun.run(request)
        } catch let error as ModelError where resumable {
            throw ModelError("experiment \(context.slug) cannot continue the stopped run kept in '\(work.path)' (\(error.description)); remove that folder to train from the start")
        }
        let produced = [Checkpoint.weightsFile, Checkpoint.configFile, "training.csv", "loss.dat", "loss.gp"]
            + (plot ? ["loss.png", "loss.svg"] : [])
        for name in produced {
            try FileManager.default.copyItem(at: work.appendingPathComponent(name), to: output.appendingPathComponent(name))
        }
        context.notes += lines.filter { !$0.hasPrefix("checkpoint") && !$0.hasPrefix("loss curve") }
        // A joined corpus: each part's validation text scored alone, as its own corpus would be.
        let parts = try Corpus.load(t.corpus).parts
        if parts.count > 1 {
            let objective = NextTokenObjective(network: try Checkpoint.load(from: work))
            for part in parts {
                let bits = try Trainer.validationBitsPerByte(objective: objective, config: config,
                                                             corpus: try Corpus.load(part.name), settings: settings)
                context.notes.append(String(format: "validation on %@ alone: %.4f bits per byte", part.name, bits))
            }
        }
        var sample: [UInt8] = []
        let prompt = Array((t.samplePrompt ?? "#include <gsl/").utf8)
        try TrainingRun.generate(model: output, prompt: prompt, maxTokens: t.sampleTokens ?? 100,
                                 settings: .greedy, seed: 1) { sample.append($0) }
        try AtomicFile.write(Data(sample), to: output.appendingPathComponent("sample.txt"))
        return ["model.safetensors", "config.json", "training.csv", "loss.dat", "loss.gp"]
            + (plot ? ["loss.png", "loss.svg"] : []) + ["sample.txt"]
    }
}
