// `speclab methods`: the method registry as text and JSON.

import Analytic
import Files
import Foundation
import Methods

public enum MethodListing {
    /// One JSON object per method, in registry order.
    public static func json() -> String {
        let entries = MethodRegistry.all.map { m -> String in
            var fields: [(String, String)] = [
                ("name", JSONText.string(m.name)),
                ("aliases", "[" + m.aliases.map(JSONText.string).joined(separator: ", ") + "]"),
                ("title", JSONText.string(m.title)),
                ("summary", JSONText.string(m.summary)),
                ("source", JSONText.string(m.source)),
                ("drafter_kinds", "[" + m.drafter.kinds.map(JSONText.string).joined(separator: ", ") + "]"),
                ("verifier_sampled", JSONText.string(m.verifier.rawValue)),
                ("tree", JSONText.string(m.tree.rawValue)),
                ("lossless", JSONText.string(m.lossless.label)),
                ("lossless_reason", JSONText.string(m.lossless.reason)),
                ("batches", m.singleSequence == nil ? "true" : "false"),
            ]
            switch m.engine {
            case .workload(let make):
                let w = make(EngineOptions())
                fields.append(("engine_workload", "{" + [
                    ("name", JSONText.string(w.name)),
                    ("drafter", w.drafter.map { JSONText.string($0.rawValue) } ?? "null"),
                    ("schedule", w.drafter == nil ? "null" : JSONText.string(w.schedule.rawValue)),
                    ("verify_heads", w.heads.map { JSONText.string($0.rawValue) } ?? "null"),
                    ("verify_rows", JSONText.string(rowsText(w))),
                    ("host_search", String(w.hostSearch)),
                    ("verified", String(w.verified)),
                ].map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"))
            case .none(let reason):
                fields.append(("engine_workload", "null"))
                fields.append(("engine_gap", JSONText.string(reason)))
            }
            return "  {" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
        }
        return "[\n" + entries.joined(separator: ",\n") + "\n]"
    }

    /// A table, then each method's summary and its engine gap where it has one.
    public static func lines() -> [String] {
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(1, width - text.count)) }
        var out = [pad("method", 22) + pad("drafter (train-drafter --kind)", 32) + pad("verifier at T > 0", 44)
                   + pad("tree", 24) + pad("lossless", 24) + "engine"]
        for m in MethodRegistry.all {
            let drafter = m.drafter.kinds.isEmpty ? "-" : m.drafter.kinds.joined(separator: " or ")
            let engine = m.engine.workload().map { "yes (\(rowsText($0)))" } ?? "no"
            out.append(pad(m.name + (m.aliases.isEmpty ? "" : " (\(m.aliases.joined(separator: ", ")))"), 22)
                       + pad(drafter, 32) + pad(m.verifier.rawValue, 44) + pad(m.tree.rawValue, 24)
                       + pad(m.lossless.label, 24) + engine)
        }
        out.append("")
        for m in MethodRegistry.all {
            out.append("\(m.name) — \(m.title): \(m.summary). \(m.source). \(m.lossless.label.capitalized): \(m.lossless.reason).")
            if case .none(let reason) = m.engine { out.append("    not modelled by the engine: \(reason)") }
        }
        return out
    }

    /// The verify forward's rows per sequence, in words.
    static func rowsText(_ w: DraftMethod) -> String {
        switch w.rows {
        case .chain: return w == .ntp ? "1 row" : "γ + 1 rows"
        case .tree(let dynamic): return dynamic ? "dynamic tree of --tree-size" : "static tree of --tree-size"
        case .lookahead(let shape): return "1 + γ·\(shape.levels) + G·\(shape.ngram - 1) rows (\(shape.description))"
        case .maskedQuadratic: return "(γ + 1)² rows"
        case .maskedLinear: return "2γ + 1 rows, γ + 1 after a rejection"
        case .beamSearch: return "W hypotheses × τ rows"
        }
    }
}
