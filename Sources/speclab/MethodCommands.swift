// speclab methods: the decoding methods and their properties.

import ArgumentParser
import Experiments

struct MethodsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "methods",
        abstract: "List the decoding methods: drafter, verifier, tree, lossless or not, and what the engine models.")
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        if json { say(MethodListing.json()); return }
        for line in MethodListing.lines() { say(line) }
    }
}
