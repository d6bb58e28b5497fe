// Acceptance numbers from a file (`--acceptance-file`): a measured histogram,
// per-position rates or vLLM counters, as JSON or CSV.
//
// JSON, one of:
//   {"accepted_length_counts": [c0, c1, ..., cγ]}      cycles that accepted j drafts
//   {"alphas": [α1, ..., αγ]}                           conditional per position (EAGLE n-α)
//   {"per_position": [A1, ..., Aγ]}                     unconditional P(a ≥ k) (vLLM per-position rate)
//   {"num_drafts": N, "num_accepted_tokens_per_pos": [n1, ..., nγ]}   vLLM v1 counters
//   {"alpha": α} or {"tau": τ}
//   {"confidence_histogram": {...}, "policy": "per-token" | "cumulative", "threshold": θ, "verified": true}
//       threshold drafting (ThresholdModel): the histogram as `speclab decode --json` writes it from a
//       run at --draft-threshold 0; "verified": false for drafts emitted unchecked
// CSV: lines `accepted,count` (a header line is allowed).

import Foundation

public enum AcceptanceFile {
    public static func load(path: String) throws -> AcceptanceModel {
        let data = try JSONFiles.read(path, what: "acceptance file")
        let model = path.lowercased().hasSuffix(".csv")
            ? try parseCSV(String(decoding: data, as: UTF8.self), source: "acceptance file '\(path)'")
            : try parseJSON(data, source: "acceptance file '\(path)'")
        do { try model.validate() } catch let error as AnalyticError {
            throw AnalyticError("acceptance file '\(path)': \(error.message)")
        }
        return model
    }

    struct JSONForm: Decodable {
        var accepted_length_counts: [Double]?
        var alphas: [Double]?
        var per_position: [Double]?
        var num_drafts: Double?
        var num_accepted_tokens_per_pos: [Double]?
        var alpha: Double?
        var tau: Double?
        var confidence_histogram: ConfidenceHistogram?
        var policy: String?
        var threshold: Double?
        var verified: Bool?
    }

    public static func parseJSON(_ data: Data, source: String) throws -> AcceptanceModel {
        let form = try JSONFiles.decode(JSONForm.self, from: data, source: source)
        // One acceptance description per file: with two, which one holds would be a silent choice.
        let given = [("accepted_length_counts", form.accepted_length_counts != nil), ("alphas", form.alphas != nil),
                     ("per_position", form.per_position != nil),
                     ("num_accepted_tokens_per_pos", form.num_accepted_tokens_per_pos != nil),
                     ("alpha", form.alpha != nil), ("tau", form.tau != nil),
                     ("confidence_histogram", form.confidence_histogram != nil)].filter(\.1).map(\.0)
        guard given.count <= 1 else {
            throw AnalyticError("\(source): gives \(given.joined(separator: " and ")); keep one acceptance description per file")
        }
        if let counts = form.accepted_length_counts { return .empirical(counts: counts) }
        if let alphas = form.alphas { return .perPosition(alphas: alphas) }
        if let perPosition = form.per_position {
            let distribution = try MetricConventions.distribution(unconditional: perPosition)
            return .empirical(counts: distribution.probabilities)
        }
        if let perPos = form.num_accepted_tokens_per_pos {
            guard let drafts = form.num_drafts else {
                throw AnalyticError("\(source): missing field 'num_drafts' (needed with num_accepted_tokens_per_pos)")
            }
            let distribution = try MetricConventions.distribution(vllmDrafts: drafts, acceptedPerPosition: perPos)
            return .empirical(counts: distribution.probabilities)
        }
        if let alpha = form.alpha { return .iid(alpha: alpha) }
        if let tau = form.tau { return .meanAcceptedLength(tau: tau) }
        if let histogram = form.confidence_histogram {
            guard let threshold = form.threshold else {
                throw AnalyticError("\(source): a confidence_histogram needs 'threshold' (θ in [0, 1]) and 'policy' (\(ThresholdPolicy.allCases.map(\.rawValue).joined(separator: " or ")))")
            }
            guard let policy = ThresholdPolicy(rawValue: form.policy ?? "per-token") else {
                throw AnalyticError("\(source): unknown policy '\(form.policy ?? "")'; give \(ThresholdPolicy.allCases.map(\.rawValue).joined(separator: " or "))")
            }
            return .threshold(ThresholdAcceptance(histogram: histogram, policy: policy, threshold: threshold,
                                                  verified: form.verified ?? true))
        }
        throw AnalyticError("\(source): no acceptance field; give one of accepted_length_counts, alphas, per_position, num_drafts + num_accepted_tokens_per_pos, alpha, tau, confidence_histogram")
    }

    public static func parseCSV(_ text: String, source: String) throws -> AcceptanceModel {
        var counts: [Int: Double] = [:]
        for (number, rawLine) in text.split(whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count >= 2 else { throw AnalyticError("\(source): line \(number + 1) needs two columns: accepted,count") }
            guard let accepted = Int(fields[0]), let count = Double(fields[1]) else {
                if number == 0 { continue }  // header
                throw AnalyticError("\(source): line \(number + 1) is not 'accepted,count' numbers: '\(line)'")
            }
            guard accepted >= 0 else { throw AnalyticError("\(source): line \(number + 1): accepted length must be >= 0") }
            counts[accepted, default: 0] += count
        }
        guard let maxLength = counts.keys.max() else { throw AnalyticError("\(source): no data lines") }
        return .empirical(counts: (0...maxLength).map { counts[$0] ?? 0 })
    }
}
