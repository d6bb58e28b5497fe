import Analytic
import Foundation
import Testing
@testable import Transformer
@testable import Validation

@Suite("Calibration")
struct CalibrationTests {
    @Test("the reference model's analytic shape counts exactly the parameters the network allocates", arguments: ModelConfig.presets)
    func shapeMatchesNetwork(config: ModelConfig) throws {
        let network = try Network<Float>(config: config)
        #expect(Calibration.modelShape(config).totalParameters == Double(network.parameterCount))
    }

    @Test("a model file written from a preset loads back through the engine's --model-file path")
    func modelFileRoundTrip() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("shape-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        let shape = Calibration.modelShape(.small)
        try Calibration.write(shape, to: url)
        let loaded = try ModelShape.load(fromFile: url.path)
        #expect(loaded.totalParameters == shape.totalParameters)
        #expect(loaded.weightType == .fp32)
    }

    @Test("a written hardware preset loads back through the engine's --hardware-file path")
    func hardwareFileRoundTrip() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hw-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        var hardware = try Hardware.preset(named: "rtx-4090")
        hardware.name = "copy"
        try Calibration.write(hardware, to: url)
        #expect(try Hardware.load(fromFile: url.path) == hardware)
    }
}

@Suite("Partial overlap of memory and compute")
struct OverlapFitTests {
    @Test("the product fit recovers memory time, compute per row and overlap penalty from exact times", arguments: [0.0, 0.35, 0.9])
    func recovers(beta: Double) {
        let ks = [1, 2, 4, 8, 16, 32], m = 0.010, c = 0.0012
        let times = ks.map { k -> Double in
            let compute = Double(k) * c
            return max(m, compute) + beta * min(m, compute)
        }
        let fit = Calibration.fitProduct(ks: ks, seconds: times)
        #expect(abs(fit.overlapPenalty - beta) <= 0.005)
        #expect(abs(fit.memorySeconds - m) <= 1e-3 * m && abs(fit.computeSecondsPerRow - c) <= 1e-3 * c)
        #expect(fit.rmsLogError < 1e-6)
    }

    @Test("the roofline charges max + penalty · min per operation group")
    func roofline() throws {
        var hardware = Hardware(name: "cpu", memoryBytes: 1e10, memoryBytesPerSecond: 1e10, flopsPerSecond16: 1e10,
                                flopsPerSecond8: nil, interconnectBytesPerSecond: 1e10, bandwidthEfficiency: 1,
                                computeEfficiency: 1, gemmTileRows: 1, overhead: .ideal, source: "test")
        let workload = ForwardWorkload(name: "dense", denseParameters: 1e6, attentionLayers: 0, kvValuesPerTokenPerLayer: 0,
                                       attentionFlopsPerQueryPerContextToken: 0, layers: 1, hidden: 64, bytesPerWeight: 4)
        // 4 MB at 10 GB/s = 0.4 ms of memory; 2 MFLOP per row at 10 GFLOP/s = 0.2 ms per row.
        func seconds(_ rows: Double) -> Double {
            Roofline.stepCost(workload, tokensPerSequence: rows, batch: 1, contextTokens: 0,
                              context: ExecutionContext(hardware: hardware, weightType: .fp32)).seconds
        }
        #expect(abs(seconds(1) - 0.4e-3) < 1e-12)
        hardware.cpu = CPUEffects(overlapPenalty: 0.5)
        #expect(abs(seconds(1) - (0.4e-3 + 0.5 * 0.2e-3)) < 1e-12)
        #expect(abs(seconds(4) - (0.8e-3 + 0.5 * 0.4e-3)) < 1e-12)
        // The overlap is its own named term: the terms add up to the step's time.
        let cost = Roofline.stepCost(workload, tokensPerSequence: 4, batch: 1, contextTokens: 0,
                                     context: ExecutionContext(hardware: hardware, weightType: .fp32))
        #expect(abs(cost.overlapSeconds - 0.5 * 0.4e-3) < 1e-12)
        #expect(abs(cost.memoryBoundSeconds + cost.computeBoundSeconds + cost.overheadSeconds + cost.communicationSeconds
                    + cost.overlapSeconds - cost.seconds) < 1e-15)
        hardware.cpu?.overlapPenalty = 1.5
        #expect(throws: AnalyticError.self) { try hardware.validate() }
    }

    /// Above the switch the blocked kernel's efficiency and penalty apply to the weight products:
    /// at 8 rows, 16 MFLOP at 10 GFLOP/s × 0.8 = 2 ms of compute, memory 0.4 ms, so 2 + 0.25 · 0.4 ms;
    /// at 4 rows (not above the switch) the hardware's own: 0.8 ms compute + 0.5 · 0.4 ms.
    @Test("products over more rows than the switch use the blocked kernel's efficiency and penalty; a file keeps it")
    func blockedKernel() throws {
        var hardware = Hardware(name: "cpu", memoryBytes: 1e10, memoryBytesPerSecond: 1e10, flopsPerSecond16: 1e10,
                                flopsPerSecond8: nil, interconnectBytesPerSecond: 1e10, bandwidthEfficiency: 1,
                                computeEfficiency: 1, gemmTileRows: 1, overhead: .ideal, source: "test")
        hardware.cpu = CPUEffects(overlapPenalty: 0.5,
                                  blockedKernel: BlockedKernel(rowsAbove: 4, computeEfficiency: 0.8, overlapPenalty: 0.25))
        let workload = ForwardWorkload(name: "dense", denseParameters: 1e6, attentionLayers: 0, kvValuesPerTokenPerLayer: 0,
                                       attentionFlopsPerQueryPerContextToken: 0, layers: 1, hidden: 64, bytesPerWeight: 4)
        func seconds(_ rows: Double) -> Double {
            Roofline.stepCost(workload, tokensPerSequence: rows, batch: 1, contextTokens: 0,
                              context: ExecutionContext(hardware: hardware, weightType: .fp32)).seconds
        }
        #expect(abs(seconds(4) - (0.8e-3 + 0.5 * 0.4e-3)) < 1e-12)
        #expect(abs(seconds(8) - (2e-3 + 0.25 * 0.4e-3)) < 1e-12)
        // Rows split over a batch count the same: 2 sequences × 4 tokens are 8 rows per weight.
        let batched = Roofline.stepCost(workload, tokensPerSequence: 4, batch: 2, contextTokens: 0,
                                        context: ExecutionContext(hardware: hardware, weightType: .fp32)).seconds
        #expect(abs(batched - seconds(8)) < 1e-12)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("blocked-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try Calibration.write(hardware, to: url)
        #expect(try Hardware.load(fromFile: url.path) == hardware)
        hardware.cpu?.blockedKernel?.computeEfficiency = 1.2
        #expect(throws: AnalyticError.self) { try hardware.validate() }
    }
}
