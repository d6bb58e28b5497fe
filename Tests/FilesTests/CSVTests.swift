// CSV tables: RFC 4180 quoting both ways, and bad files refused with one line.

import Files
import Foundation
import Testing

@Suite("CSV tables")
struct CSVReadTests {
    /// Fields with commas, quotes and an empty cell come back as written; a missing file is one clear error.
    @Test("a written table reads back field for field; a missing file is an error")
    func roundTrip() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("speclab-csv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let table = CSVTable(columns: ["title", "tau", "note"],
                             rows: [["blockwise heads (3, frozen)", "2.74", ""], ["say \"hi\", twice", "1", "x"]])
        let url = directory.appendingPathComponent("t.csv")
        try table.write(to: url)
        let back = try CSVTable.read(from: url)
        #expect(back.columns == table.columns && back.rows == table.rows)
        #expect(back.column("tau") == ["2.74", "1"] && back.column("missing") == nil)
        #expect(throws: InputError.self) { try CSVTable.read(from: directory.appendingPathComponent("none.csv")) }
        // Not text, and empty: one line each, naming the file.
        let binary = directory.appendingPathComponent("binary.csv"), empty = directory.appendingPathComponent("empty.csv")
        try Data([0xff, 0xfe, 0x00, 0x80]).write(to: binary)
        try Data().write(to: empty)
        for (url, reason) in [(binary, "it is not UTF-8 text"), (empty, "it is empty")] {
            let error = #expect(throws: InputError.self) { try CSVTable.read(from: url) }
            #expect(error?.description == "CSV file '\(url.path)': \(reason)")
        }
    }
}
