import Testing
@testable import Analytic

@Suite("Tree acceptance")
struct TreeAcceptanceTests {
    @Test("a chain (one rank per depth) gives the i.i.d. formula 1 + a + a² + a³")
    func chain() throws {
        let q = try RankAcceptance([[0.7], [0.7], [0.7]])
        let taus = try q.bestTreeTaus(maxNodes: 3, width: 1)
        #expect(abs(taus[2] - (1 + 0.7 + 0.49 + 0.343)) < 1e-12)
        #expect(abs(taus[2] - Acceptance.iidTau(alpha: 0.7, draftLength: 3)) < 1e-12)
    }

    @Test("best trees of each size, by hand")
    func bestTrees() throws {
        // Node values: [0] 0.6, [1] 0.3, [0,0] 0.3, [0,1] 0.12, [1,0] 0.15, [1,1] 0.06.
        let q = try RankAcceptance([[0.6, 0.3], [0.5, 0.2]])
        let taus = try q.bestTreeTaus(maxNodes: 7, width: 2)
        let expected = [1.6, 1.9, 2.2, 2.35, 2.47, 2.53, 2.53]
        for (got, want) in zip(taus, expected) { #expect(abs(got - want) < 1e-12, "\(taus)") }
        // Width 1 keeps only top-1 candidates: the chain [0], [0,0].
        #expect(abs(try q.bestTreeTaus(maxNodes: 2, width: 1)[1] - 1.9) < 1e-12)
    }

    @Test("a static tree sums its node values; a path without its parent is refused")
    func staticTree() throws {
        let q = try RankAcceptance([[0.6, 0.3], [0.5, 0.2]])
        #expect(abs(try q.tau(staticTree: [[0], [1], [0, 0]]) - 2.2) < 1e-12)
        #expect(throws: AnalyticError.self) { try q.tau(staticTree: [[0], [1, 1]]) }
        #expect(RankAcceptance.eagle1Tree.count == 25)
    }

    @Test("ranks at one depth are disjoint events: their probabilities may not sum above 1")
    func disjointRanks() {
        #expect(throws: AnalyticError.self) { try RankAcceptance([[0.7, 0.4]]) }
    }

    @Test("geometric rank model: top-1 α, the rest split (1 − α)(1 − ρ)ρ^(r−1)")
    func geometric() throws {
        let q = try RankAcceptance.geometric(topOne: [0.8], ranks: 3, decay: 0.5)
        #expect(abs(q.q[0][0] - 0.8) < 1e-12 && abs(q.q[0][1] - 0.1) < 1e-12 && abs(q.q[0][2] - 0.05) < 1e-12)
    }
}
