import Testing
@testable import Analytic
@Test func zzExplore() throws {
    let h = try Hardware.preset(named: "h100-sxm")
    let c = PredictionConfig(hardware: h, model: try ModelShape.preset(named: "llama-3.1-8b"), method: .sd,
            draftModel: try ModelShape.preset(named: "llama-3.2-1b"), draftLength: 4, contextTokens: 128, acceptance: .iid(alpha: 0.7))
    let s7 = try Predictor(c)
    var line = ""
    var prevLose = false
    for b in 150...520 {
        let r = try s7.bestDraftLength(batch: b)
        let lose = r.prediction.speedup < 1
        if lose != prevLose { line += "\n b\(b): \(lose ? "LOSE" : "pay") γ\(r.draftLength) \(r.prediction.speedup)" }
        prevLose = lose
    }
    print(line)
    // eagle3 fine-grained
    var e = c; e.method = .eagle3; e.draftModel = nil; e.contextTokens = 256; e.acceptance = .iid(alpha: 0.8)
    let p = try Predictor(e)
    print((1...40).map { b in String(format: "%d:%.4f", b, try! p.predict(batch: b).speedup) }.joined(separator: " "))
}
