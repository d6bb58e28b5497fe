import Foundation
import Testing

/// Package.swift declares, for every target, exactly the project modules its sources import.
@Suite("Package graph")
struct PackageGraphTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// target name → declared dependencies (project targets and products by name), from Package.swift's text.
    static func declared() throws -> [String: Set<String>] {
        let text = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: #"\.(?:target|executableTarget|testTarget|systemLibrary)\(name: "(\w+)"(?:, dependencies: \[([^\]]*)\])?"#)
        var out: [String: Set<String>] = [:]
        for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            let name = String(text[Range(match.range(at: 1), in: text)!])
            let list = match.range(at: 2).location == NSNotFound ? "" : String(text[Range(match.range(at: 2), in: text)!])
            let names = try NSRegularExpression(pattern: #""(\w+)""#).matches(in: list, range: NSRange(list.startIndex..., in: list))
                .map { String(list[Range($0.range(at: 1), in: list)!]) }
            out[name] = Set(names)
        }
        return out
    }

    /// The project modules (and ArgumentParser) the Swift files under `folder` import.
    static func imports(_ folder: URL, modules: Set<String>) -> Set<String> {
        var found = Set<String>()
        let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        for file in files where file.pathExtension == "swift" {
            let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ")
                guard let index = words.firstIndex(of: "import"), index + 1 < words.count else { continue }
                guard words[..<index].allSatisfy({ $0 == "@testable" }) else { continue }
                let module = String(words[index + 1])
                if modules.contains(module) { found.insert(module) }
            }
        }
        return found
    }

    @Test("every target's dependencies are the project modules it imports")
    func dependenciesMatchImports() throws {
        let targets = try Self.declared()
        #expect(targets.count >= 18)
        let modules = Set(targets.keys).union(["ArgumentParser"])
        for (name, dependencies) in targets {
            let sources = Self.root.appendingPathComponent(name.hasSuffix("Tests") ? "Tests" : "Sources").appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: sources.path) else { continue }
            let imported = Self.imports(sources, modules: modules)
            #expect(imported == dependencies, "\(name): imports \(imported.sorted()), declares \(dependencies.sorted())")
        }
    }
}
