import Foundation
import LinAlg
import Testing
@testable import Transformer

private let gslAvailable = FileManager.default.fileExists(atPath: Corpus.gslDirectory)

@Suite("Training", .enabled(if: gslAvailable, "the GSL headers are missing: run 'make deps'"))
struct TrainingTests {
    /// The byte unigram entropy of the GSL headers is about 5 bits per byte: a
    /// model that has learned nothing beyond byte frequencies sits there. The tiny
    /// model on a fixed seed reaches well below it within 300 steps (measured
    /// 3.2 bits per byte at the time of writing); the bound leaves a margin for
    /// BLAS differences between machines.
    @Test("the tiny model trains on the GSL headers to below 3.5 bits per byte in 300 steps")
    func tinyTrains() throws {
        OpenBLAS.setThreads(1)
        let corpus = try Corpus.load("gsl")
        let network = try Network<Float>(config: .tiny)
        network.initialize(seed: 1)
        let objective = NextTokenObjective(network: network)
        let settings = TrainingSettings(steps: 300, batchSize: 8, sequenceLength: 64, learningRate: 1e-2, seed: 1,
                                        evaluationInterval: 300, evaluationWindows: 32)
        let before = try Trainer.validationBitsPerByte(objective: objective, config: .tiny, corpus: corpus, settings: settings)
        let report = try Trainer.train(objective: objective, config: .tiny, corpus: corpus, settings: settings)
        #expect(before > 7.5)   // an untrained model is near uniform: log2(256) = 8 bits per byte
        #expect(report.finalValidationBitsPerByte < 3.5, "validation \(report.finalValidationBitsPerByte) bits per byte")
        #expect(report.points.count == 300)
    }

    @Test("training is deterministic for a seed at a fixed thread count")
    func deterministic() throws {
        OpenBLAS.setThreads(1)
        let corpus = try Corpus.load("gsl")
        func run() throws -> [Float] {
            let network = try Network<Float>(config: .tiny)
            network.initialize(seed: 3)
            let settings = TrainingSettings(steps: 5, batchSize: 2, sequenceLength: 32, seed: 4, evaluationInterval: 5,
                                            evaluationWindows: 2)
            _ = try Trainer.train(objective: NextTokenObjective(network: network), config: .tiny, corpus: corpus,
                                  settings: settings)
            return Array(network.parameters)
        }
        #expect(try run() == run())
    }

    @Test("a run stopped at an evaluation and resumed from its saved state ends with the weights of a run never stopped")
    func resumedBitForBit() throws {
        OpenBLAS.setThreads(1)
        let corpus = try Corpus.load("gsl")
        let settings = TrainingSettings(steps: 8, batchSize: 2, sequenceLength: 32, seed: 4, evaluationInterval: 3,
                                        evaluationWindows: 2)
        struct Stop: Error {}
        func fresh() throws -> Network<Float> {
            let network = try Network<Float>(config: .tiny)
            network.initialize(seed: 3)
            return network
        }
        let straight = try fresh()
        _ = try Trainer.train(objective: NextTokenObjective(network: straight), config: .tiny, corpus: corpus, settings: settings)

        // Stopped at the evaluation after step 6: its weights and state, as a checkpoint would keep them.
        let stopped = try fresh()
        var saved: (weights: [Float], state: TrainingResume)?
        #expect(throws: Stop.self) {
            try Trainer.train(objective: NextTokenObjective(network: stopped), config: .tiny, corpus: corpus, settings: settings,
                              onCheckpoint: { state in
                                  guard state.step == 6 else { return }
                                  saved = (Array(stopped.parameters), state)
                                  throw Stop()
                              })
        }
        let state = try #require(saved)
        #expect(state.state.points.map(\.step) == Array(1...6))
        let resumed = try fresh()
        _ = resumed.parameters.initialize(from: state.weights)
        let report = try Trainer.train(objective: NextTokenObjective(network: resumed), config: .tiny, corpus: corpus,
                                       settings: settings, resume: state.state)
        #expect(Array(resumed.parameters) == Array(straight.parameters))
        #expect(report.points.map(\.step) == Array(1...8))

        // A state that cannot continue this run is refused before any step.
        var finished = state.state
        finished.step = 8
        #expect(throws: ModelError.self) {
            try Trainer.train(objective: NextTokenObjective(network: resumed), config: .tiny, corpus: corpus,
                              settings: settings, resume: finished)
        }
    }

    @Test("a checkpoint round-trips every tensor exactly, and a damaged one is refused by name")
    func checkpointRoundTrip() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let network = try Network<Float>(config: .tiny)
        network.initialize(seed: 5)
        try Checkpoint.save(network, to: directory, metadata: ["corpus": "gsl"])
        let loaded = try Checkpoint.load(from: directory)
        #expect(Array(loaded.parameters) == Array(network.parameters))
        #expect(loaded.config == network.config)
        #expect(try Checkpoint.info(at: directory).metadata["corpus"] == "gsl")
        // Truncate the weights: the error names the file's problem.
        let weights = directory.appendingPathComponent(Checkpoint.weightsFile)
        let data = try Data(contentsOf: weights)
        try data.prefix(data.count - 100).write(to: weights)
        #expect(throws: ModelError.self) { try Checkpoint.load(from: directory) }
        // A missing directory says how to make one.
        do { _ = try Checkpoint.load(from: directory.appendingPathComponent("nothing")) } catch let error as ModelError {
            #expect(error.message.contains("speclab train"))
        }
    }

    @Test("a save killed between the weights and the config leaves the last complete save loadable")
    func interruptedSaveRecovered() throws {
        let fm = FileManager.default
        let directory = fm.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)")
        let spare = fm.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)")
        defer { try? fm.removeItem(at: directory); try? fm.removeItem(at: spare) }
        let first = try Network<Float>(config: .tiny), second = try Network<Float>(config: .tiny)
        first.initialize(seed: 5)
        second.initialize(seed: 6)
        try Checkpoint.save(first, to: directory, metadata: ["step": "100"])
        try "drafter bytes".write(to: directory.appendingPathComponent("medusa.safetensors"), atomically: true, encoding: .utf8)
        let firstId = try #require(try Checkpoint.contentId(at: directory))
        try Checkpoint.save(second, to: spare, metadata: ["step": "200"])
        #expect(try Checkpoint.contentId(at: spare) != firstId)
        // What a kill after the weights' rename and before the config's leaves: the new weights, the old
        // config, and the old weights kept aside.
        try fm.linkItem(at: directory.appendingPathComponent(Checkpoint.weightsFile),
                        to: directory.appendingPathComponent(".model.safetensors.previous"))
        try fm.removeItem(at: directory.appendingPathComponent(Checkpoint.weightsFile))
        try fm.copyItem(at: spare.appendingPathComponent(Checkpoint.weightsFile), to: directory.appendingPathComponent(Checkpoint.weightsFile))
        let loaded = try Checkpoint.load(from: directory)
        #expect(Array(loaded.parameters) == Array(first.parameters))
        #expect(try Checkpoint.info(at: directory).metadata["step"] == "100")
        // The weights of the complete save are back in place; the drafter beside them was not touched.
        let reloaded = try Checkpoint.load(from: directory)
        #expect(Array(reloaded.parameters) == Array(first.parameters))
        #expect(!fm.fileExists(atPath: directory.appendingPathComponent(".model.safetensors.previous").path))
        #expect((try? String(contentsOf: directory.appendingPathComponent("medusa.safetensors"), encoding: .utf8)) == "drafter bytes")
        // Weights and config of different saves, with nothing kept aside, are refused by name.
        try fm.removeItem(at: directory.appendingPathComponent(Checkpoint.weightsFile))
        try fm.copyItem(at: spare.appendingPathComponent(Checkpoint.weightsFile), to: directory.appendingPathComponent(Checkpoint.weightsFile))
        do {
            _ = try Checkpoint.load(from: directory)
            Issue.record("a config was loaded with another save's weights")
        } catch let error as ModelError {
            #expect(error.message.contains("content id"))
        }
    }

    @Test("a diverging run stops with the step named")
    func divergenceIsReported() throws {
        let corpus = try Corpus.load("gsl")
        let network = try Network<Float>(config: .tiny)
        network.initialize(seed: 6)
        network.parameters[0] = .nan   // poisons the first forward
        let settings = TrainingSettings(steps: 3, batchSize: 2, sequenceLength: 16, seed: 1, evaluationInterval: 3)
        do {
            _ = try Trainer.train(objective: NextTokenObjective(network: network), config: .tiny, corpus: corpus,
                                  settings: settings)
            Issue.record("expected a divergence error")
        } catch let error as ModelError {
            #expect(error.message.contains("step"))
        }
    }
}
