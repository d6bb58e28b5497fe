import Analytic
import Decoding
import Experiments
import Foundation
import Methods
import Requests
import Testing
import Transformer
import Validation

/// Every method of the registry, decoded on one small random target with a random drafter of its kind:
/// the loop's count of target forwards matches the forwards the target's weights ran, τ is the rounds'
/// tokens over them, and every method that says it is lossless reproduces plain greedy decoding.
@Suite("Method registry: every method decoded and accounted the same way")
struct MethodRegistryTests {
    static let config = ModelConfig(name: "registry-test", width: 32, layers: 2, heads: 4, kvHeads: 2, ffnHidden: 64,
                                    contextLength: 160, tiedEmbeddings: false)

    /// The target, and one folder per drafter kind with a randomly initialised drafter for it.
    static func fixture() throws -> (target: Network<Float>, root: URL) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("registry-\(UUID().uuidString)")
        let target = try Network<Float>(config: config)
        target.initialize(seed: 1)
        func folder(_ kind: String) -> URL { root.appendingPathComponent(kind) }
        let draft = try Network<Float>(config: config)
        draft.initialize(seed: 7)
        try Checkpoint.save(draft, to: folder("draft-model"))
        let blockwise = BlockwiseHeads(heads: 3, width: config.width)
        blockwise.initialize(seed: 2)
        try blockwise.save(to: folder("blockwise"), target: config, metadata: [:])
        let parallel = ParallelHeads(config: config, extraHeads: 3)
        parallel.initialize(copying: target)
        try parallel.save(to: folder("mtp-parallel"), metadata: [:])
        let sequential = SequentialModules(config: config, depth: 3)
        sequential.initialize(copying: target, seed: 3)
        try sequential.save(to: folder("mtp-sequential"), metadata: [:])
        let eagle = EagleWeights(config: config)
        eagle.initialize(copying: target, seed: 4)
        try eagle.save(to: folder("eagle"), metadata: [:])
        let eagle3 = Eagle3Weights(config: config)
        eagle3.initialize(copying: target, seed: 5)
        try eagle3.save(to: folder("eagle3"), metadata: [:])
        for (kind, conditioned) in [("medusa", false), ("hydra", true)] {
            let heads = MedusaHeads(config: config, heads: 3, conditioned: conditioned)
            heads.initialize(copying: target)
            try heads.save(to: folder(kind), metadata: [:])
        }
        let masked = MaskedMTP(config: config, masks: 3, rank: 2)
        masked.initialize(seed: 6)
        try masked.save(to: folder("masked-mtp"), metadata: [:])
        return (target, root)
    }

    static let prompts: [[Int32]] = ["static double gsl_sf_bessel_J0(", "#include <gsl/gsl_math.h>\n#inc",
                                     "  for (i = 0; i < n; i++) {\n   "].map { $0.utf8.map { Int32($0) } }

    @Test("τ is the rounds' tokens over the target's forwards, counted by its weights; lossless methods equal plain greedy")
    func everyMethod() throws {
        let (target, root) = try Self.fixture()
        defer { try? FileManager.default.removeItem(at: root) }
        let session = DecodeSession(model: InferenceModel(network: target), prompts: Self.prompts, maxTokens: 14)
        let plain = try session.measure(method: "ntp", drafter: nil, draftLength: 0, settings: .greedy, seed: 1, baseline: false)
        #expect(plain.outputs.map(\.count) == [14, 14, 14])
        for method in MethodRegistry.all {
            let drafter = method.drafter.kinds.first.map { root.appendingPathComponent($0) }
            let tree = TreeSpec(shape: MethodRegistry.defaultTreeShape(method: method.name), topK: 2, depth: 2, size: 4)
            for batch in method.singleSequence == nil ? [1, 2] : [1] {
                func decode() throws -> DecodeReport {
                    try session.measure(method: method.name, drafter: drafter, draftLength: 2, settings: .greedy, seed: 1,
                                        baseline: false, tree: tree, batch: batch)
                }
                // The oracle computes its greedy continuations once per session: not part of the count.
                if method.name == "oracle" { _ = try decode() }
                let before = target.inferenceForwards
                let report = try decode()
                let counted = target.inferenceForwards - before
                let s = report.stats
                // Beyond the loop's forwards: one prefill per group of prompts, one scoring forward per prompt.
                let groups = (Self.prompts.count + batch - 1) / batch
                #expect(counted == s.launchedTargetForwards + groups + Self.prompts.count,
                        "\(method.name), batch \(batch): the target ran \(counted) forwards, the loop counted \(s.launchedTargetForwards) + \(groups) prefills + \(Self.prompts.count) scorings")
                if batch == 1 {
                    let loopForwards = counted - 2 * Self.prompts.count
                    #expect(s.targetForwards == loopForwards, "\(method.name)")
                    #expect(abs(s.tau - Double(s.accepted + s.rounds) / Double(loopForwards)) < 1e-12, "\(method.name): τ \(s.tau)")
                } else {
                    // A batched forward counts once for every sequence in it.
                    #expect(s.targetForwards >= s.launchedTargetForwards && s.targetForwards <= batch * s.launchedTargetForwards,
                            "\(method.name), batch \(batch)")
                }
                #expect(report.outputs.map(\.count) == [14, 14, 14], "\(method.name)")
                // The oracle's drafts are right 80% of the time: the equality below is tested on accepted drafts.
                if method.name == "oracle" { #expect(s.accepted > 0) }
                if method.lossless.holds(temperature: 0) {
                    #expect(report.lossless, "\(method.name)")
                    #expect(report.outputs == plain.outputs, "\(method.name), batch \(batch): lossless, yet its output differs from plain greedy")
                } else {
                    #expect(!report.lossless && report.lossyReason != nil, "\(method.name)")
                }
            }
        }
    }

    @Test("MTJD drafts with the target: its beam's forwards are target forwards, so it yields one token per target forward")
    func mtjdAccounting() throws {
        let (target, root) = try Self.fixture()
        defer { try? FileManager.default.removeItem(at: root) }
        let session = DecodeSession(model: InferenceModel(network: target), prompts: Self.prompts, maxTokens: 14)
        for gamma in [2, 3] {
            let report = try session.measure(method: "mtjd", drafter: nil, draftLength: gamma, settings: .greedy, seed: 1,
                                             baseline: false)
            let s = report.stats
            // Each round: γ beam forwards (the catch-up and γ − 1 depths) and the verify, γ + 1 tokens kept.
            #expect(s.drafterForwards == 0)
            #expect(s.targetForwards == (gamma + 1) * s.rounds)
            #expect(abs(s.tau - 1) < 1e-12)
            #expect(abs(s.tokensPerRound - Double(gamma + 1)) < 1e-12)
        }
    }

    @Test("the registry is consistent: unique names, a builder or a reason for every engine gap, drafter kinds training makes")
    func registryShape() throws {
        var seen = Set<String>()
        for method in MethodRegistry.all {
            for name in [method.name] + method.aliases { #expect(seen.insert(name).inserted, "\(name) is named twice") }
            #expect(MethodRegistry.lookup(method.name)?.name == method.name)
            if case .none(let reason) = method.engine { #expect(reason.count > 20, "\(method.name): an engine gap needs its reason") }
        }
        #expect(Set(MethodRegistry.drafterKinds) == Set(DrafterTraining.kinds))
        #expect(MethodRegistry.lookup("mtp")?.name == "mtp-sequential")
        #expect(MethodRegistry.lookup("medusa")?.name == "medusa1")
        #expect(MethodRegistry.lookup("eagle9") == nil)
        #expect(throws: (any Error).self) { try MethodRegistry.workload(named: "eagle9") }
        // `decode` and `predict` take the same methods.
        #expect(MethodRegistry.modelled.map(\.name) == MethodRegistry.names)
    }

    /// `name` on Llama-3.1-8B / H100 at γ = 3, roofline-priced, with a draft model where it needs one;
    /// `configure` adds the acceptance and anything else.
    static func prediction(_ name: String, _ configure: (inout PredictRequest) -> Void) throws -> Prediction {
        var request = PredictRequest()
        request.hardware = "h100-sxm"; request.model = "llama-3.1-8b"; request.method = name
        request.draftLength = 3; request.kernels = "roofline"
        if try MethodRegistry.workload(named: name).drafter == .draftModel { request.draftModel = "llama-3.2-1b" }
        configure(&request)
        return try Predictor(try request.resolve()).predict()
    }

    /// The same at α = 0.7 (MTJD keeps its drafts: no acceptance).
    static func predict(_ name: String, beamWidth: Int = 4, tree: Int? = nil) throws -> Prediction {
        try prediction(name) { request in
            request.alpha = name == "mtjd" ? nil : 0.7; request.beamWidth = beamWidth; request.treeSize = tree
        }
    }

    @Test("every method the engine models predicts, with its verify rows and drafting structure")
    func engineWorkloads() throws {
        for method in MethodRegistry.modelled where method.drafts {
            let tree = [TreePolicy.chain, .layout].contains(method.tree) ? nil : 8
            let p = try Self.predict(method.name, tree: tree)
            #expect(p.speedup.isFinite && p.speedup > 0, "\(method.name)")
            #expect(p.cycleSeconds > p.targetStepSeconds, "\(method.name): a cycle verifies more than one token")
        }
        // Verify rows from the methods' papers: lookahead 1 + W·L + G(N − 1) — as Fu et al. run it, N = 5,
        // L = N − 1 = 4 levels, G = W = 3: 1 + 12 + 12 = 25; as the reference model runs it (N = 3, one
        // level): 1 + 3 + 6 = 10; N 4, L 2, G 7: 1 + 6 + 21 = 28; masked quadratic (γ + 1)²; a chain γ + 1.
        #expect(try Self.predict("lookahead").verifyTokensPerSequence == 25)
        #expect(try MethodRegistry.workload(named: "lookahead", EngineOptions(implementation: .referenceModel))
            .verifyRows(draftLength: 3, treeSize: nil) == 10)
        #expect(try Self.prediction("lookahead") { $0.alpha = 0.7; $0.lookaheadNgram = 4; $0.lookaheadLevels = 2; $0.lookaheadGuesses = 7 }
            .verifyTokensPerSequence == 28)
        for bad: (inout PredictRequest) -> Void in [{ $0.lookaheadLevels = 5 }, { $0.lookaheadNgram = 1 }, { $0.method = "pld" }] {
            #expect(throws: AnalyticError.self) {
                try Self.prediction("lookahead") { $0.alpha = 0.7; $0.lookaheadGuesses = 3; bad(&$0) }
            }
        }
        #expect(try Self.predict("masked-mtp").verifyTokensPerSequence == 16)
        #expect(try Self.predict("jacobi").verifyTokensPerSequence == 4)
        // Jacobi and lookahead draft nothing on the device: no drafting time.
        #expect(try Self.predict("jacobi").draftSecondsPerCycle == 0)
        // MTJD keeps its whole block (τ = γ + 1) but spends γ target forwards drafting it: at batch 1 no faster
        // than plain decoding.
        let mtjd = try Self.predict("mtjd")
        #expect(mtjd.tau == 4)
        #expect(mtjd.speedup < 1.02 && mtjd.speedup > 0.5, "MTJD \(mtjd.speedup)")
        // A wider beam costs more drafting (W rows per depth after the first).
        #expect(try Self.predict("mtad", beamWidth: 16).draftSecondsPerCycle > Self.predict("mtad", beamWidth: 1).draftSecondsPerCycle)
        // Hydra drafts one head per depth after the verify; Medusa's heads ride in the verify forward.
        #expect(try Self.predict("hydra", tree: 8).draftSecondsPerCycle > Self.predict("medusa1", tree: 8).draftSecondsPerCycle)
        // Masked MTP, linear mode: every round drafts when every draft is accepted (α = 1: τ = γ + 1, as the
        // quadratic mode); at α = 0 every other round is a recovery round, and each yields one token.
        func masked(_ name: String, alpha: Double) throws -> Prediction {
            try Self.prediction(name) { $0.alpha = alpha }
        }
        #expect(try masked("masked-mtp-linear", alpha: 1).tau == 4)
        #expect(try abs(masked("masked-mtp-linear", alpha: 0).tau - 1) < 1e-12)
        // Linear verifies 2γ + 1 rows instead of (γ + 1)², and drafts only after a fully accepted round.
        #expect(try masked("masked-mtp-linear", alpha: 1).verifyTokensPerSequence == 7)
        #expect(try masked("masked-mtp-linear", alpha: 0.6).tau < masked("masked-mtp", alpha: 0.6).tau)
        // Prefix beam search: W hypotheses each feed their τ-token block in one forward, with their own caches.
        func beam(_ width: Int) throws -> Prediction {
            try Self.prediction("prefix-beam") { $0.tau = 2.5; $0.beamWidth = width; $0.batch = 4 }
        }
        #expect(try beam(8).cycleSeconds > beam(1).cycleSeconds)
        #expect(try beam(8).memoryBytesPerDevice > beam(1).memoryBytesPerDevice)
        #expect(try beam(1).tau == 2.5)
    }

    @Test("threshold drafting end to end: decode's confidence histogram in an acceptance file prices fewer drafts at a higher θ")
    func thresholdEngine() throws {
        let (target, root) = try Self.fixture()
        defer { try? FileManager.default.removeItem(at: root) }
        let session = DecodeSession(model: InferenceModel(network: target), prompts: Self.prompts, maxTokens: 14)
        let calibration = try session.measure(method: "threshold", drafter: root.appendingPathComponent("mtp-sequential"),
                                              draftLength: 3, settings: .greedy, seed: 1, baseline: false)
        let histogram = try #require(calibration.confidenceHistogram)
        #expect(histogram.positions == 3)
        // The decode JSON carries it in the acceptance file's form.
        let object = try JSONSerialization.jsonObject(with: Data(calibration.json.utf8)) as? [String: Any]
        let written = try JSONSerialization.data(withJSONObject: try #require(object?["confidence_histogram"]))
        #expect(try JSONDecoder().decode(ConfidenceHistogram.self, from: written) == histogram)
        func predict(_ theta: Double, method: String = "mtp-sequential") throws -> Prediction {
            let file = root.appendingPathComponent("acceptance-\(theta).json")
            let histogramText = String(decoding: written, as: UTF8.self)
            try "{\"confidence_histogram\": \(histogramText), \"policy\": \"per-token\", \"threshold\": \(theta)}"
                .write(to: file, atomically: true, encoding: .utf8)
            return try Self.prediction(method) { $0.acceptanceFile = file.path }
        }
        let all = try predict(0), none = try predict(1)
        // θ = 0 drafts every position (the histogram's own τ); θ = 1 drafts nothing: τ = 1 and no drafting forward.
        let expected = try ThresholdModel.tokensPerForward(histogram, policy: .perToken, threshold: 0, verified: true)
        #expect(abs(all.tau - expected) < 1e-12)
        #expect(none.tau == 1)
        #expect(none.components.draftForwardSeconds < all.components.draftForwardSeconds)
        #expect(none.components.draftForwardSeconds <= all.components.draftForwardSeconds / 3 + 1e-12)
        #expect(none.verifyCost.seconds < all.verifyCost.seconds)
        // The threshold method itself: the parallel heads' workload with the same acceptance.
        #expect(try predict(0, method: "threshold").tau == all.tau)
    }

    @Test("every method's decode gets an engine prediction in the validation table (or the reason it has none)")
    func validationRows() throws {
        let (target, root) = try Self.fixture()
        defer { try? FileManager.default.removeItem(at: root) }
        let measured = DecodeSession(model: InferenceModel(network: target), prompts: Array(Self.prompts.prefix(2)), maxTokens: 12)
        let calibration = DecodeSession(model: InferenceModel(network: target), prompts: Array(Self.prompts.suffix(1)), maxTokens: 12)
        let hardware = try Hardware.preset(named: "h100-sxm")
        for method in MethodRegistry.all {
            let drafter = method.drafter.kinds.first.map { root.appendingPathComponent($0) }
            let tree = TreeSpec(shape: MethodRegistry.defaultTreeShape(method: method.name), topK: 2, depth: 2, size: 4)
            func decode(_ session: DecodeSession, baseline: Bool) throws -> DecodeReport {
                try session.measure(method: method.name, drafter: drafter, draftLength: 2, settings: .greedy, seed: 1,
                                    baseline: baseline, tree: tree)
            }
            let report = try decode(measured, baseline: true)
            let point = DecodeValidation.Point(
                method: method, measured: report.stats, calibration: try decode(calibration, baseline: false).stats,
                measuredSpeedup: report.decodeSpeedup, draftLength: 2, treeTopK: 2, beamWidth: 4, target: target.config,
                draftModel: method.drafter.kinds.contains("draft-model") ? Calibration.modelShape(target.config) : nil,
                contextTokens: 40)
            let row = DecodeValidation.row(point, hardware: hardware)
            #expect(row.note == nil, "\(method.name): \(row.note ?? "")")
            #expect(row.predictedSpeedup.map { $0.isFinite && $0 > 0 } == true, "\(method.name)")
            #expect(row.predictedSpeedupFromPredictedTau != nil, "\(method.name)")
            #expect(row.predictedTau == point.calibration?.tau)
            // Without a calibrated engine the row says so rather than leaving a blank.
            #expect(DecodeValidation.row(point, hardware: nil).note?.contains("predict") == true)
        }
    }
}
