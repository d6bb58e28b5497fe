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
