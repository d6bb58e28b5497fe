// The registry of decoding methods: every method's descriptor, in the order
// `speclab methods` lists them. Adding a method is its file in Catalog/ and
// one line here.

import Analytic
import Decoding
import Foundation
import Transformer

public enum MethodRegistry {
    public static let all: [MethodDescriptor] = [
        .ntp, .sd, .pld, .blockwise, .mtpParallel, .mtpSequential, .eagle1, .eagle2, .eagle3, .maskedMTP, .maskedMTPLinear, .hydra,
        .medusa1, .medusa2, .lookahead, .jacobi, .threshold, .mtad, .mtjd, .prefixBeam, .oracle,
    ]

    /// Method names, in registry order.
    public static var names: [String] { all.map(\.name) }

    /// The method answering to `name` (its name or an alias), or nil.
    public static func lookup(_ name: String) -> MethodDescriptor? {
        all.first { $0.name == name } ?? all.first { $0.aliases.contains(name) }
    }

    /// The one line for a name no method answers to.
    public static func unknown(_ name: String) -> String {
        "unknown --method '\(name)'; available: \(names.joined(separator: ", ")) (speclab methods lists them)"
    }

    /// The method, or the one line naming the available ones.
    public static func method(named name: String) throws -> MethodDescriptor {
        guard let method = lookup(name) else { throw ModelError(unknown(name)) }
        return method
    }

    /// The engine's workload of the method `name` (for predict, sweeps and reproductions), or one line
    /// saying why it has none.
    public static func workload(named name: String, _ options: EngineOptions = EngineOptions()) throws -> DraftMethod {
        guard let method = lookup(name) else { throw AnalyticError(unknown(name)) }
        switch method.engine {
        case .workload(let make): return make(options)
        case .none(let reason): throw AnalyticError("--method \(method.name) has no engine workload: \(reason)")
        }
    }

    /// The tree shape a method drafts when --tree is not given: the dynamic tree for a method that drafts
    /// either (EAGLE-3), EAGLE's 25-node tree otherwise.
    public static func defaultTreeShape(method name: String) -> String {
        lookup(name)?.tree == .staticOrDynamic ? "dynamic" : "eagle25"
    }

    /// The methods the engine prices.
    public static var modelled: [MethodDescriptor] { all.filter { $0.engine.workload() != nil } }

    /// Every `train-drafter --kind` some method reads.
    public static var drafterKinds: [String] {
        var kinds: [String] = []
        for method in all { for kind in method.drafter.kinds where !kinds.contains(kind) { kinds.append(kind) } }
        return kinds
    }

    /// The methods a drafter of `kind` serves.
    public static func methods(drafterKind kind: String) -> [MethodDescriptor] {
        all.filter { $0.drafter.kinds.contains(kind) }
    }
}
