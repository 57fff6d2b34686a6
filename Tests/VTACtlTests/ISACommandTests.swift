import Foundation
import Testing
import VTATestSupport
import VTA

@Suite("vtactl decode / encode / disasm")
struct ISACommandTests {
    static let encodingFiles = ["encodings.json", "encodings-2x32_i8w8a32_14_16_19_18.json"]

    /// The struct the TVM headers use for an opcode.
    static func structForOpcode(_ opcode: Int64) -> String {
        switch opcode {
        case 0, 1: "VTAMemInsn"
        case 4: "VTAAluInsn"
        default: "VTAGemInsn"
        }
    }

    /// Instruction vectors whose struct follows the opcode rule.
    static func opcodeRuleVectors(_ file: String) throws -> [JSONValue] {
        let all = try #require(try TestData.json(file)["instructions"]?.arrayValue, "\(file): no instructions")
        #expect(all.count == 363)
        return all.filter { v in
            guard let op = v["fields"]?["opcode"]?.intValue else { return false }
            return v["struct"]?.stringValue == structForOpcode(op)
        }
    }

    @Test("decode prints {struct, fields} equal to the golden vectors", arguments: encodingFiles)
    func decode(file: String) throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let config = try TestData.configFile(from: file, in: dir.url)
        let vectors = try Self.opcodeRuleVectors(file)
        #expect(vectors.count >= 150, "only \(vectors.count) vectors follow the opcode rule")
        let hexes = vectors.compactMap { $0["hex"]?.stringValue }
        let json = try VTACtl.json(try VTACtl.run(["decode", "--config", config.path] + hexes), "decode \(file)")
        let items = try #require(json.arrayValue, "decode output is not an array")
        #expect(items.count == vectors.count)
        for (i, (item, v)) in zip(items, vectors).enumerated() {
            let want = JSONValue.object([("struct", try #require(v["struct"])), ("fields", try #require(v["fields"]))])
            #expect(item == want, "\(file) vector \(i) (\(hexes[i])): got \(item.serialized())")
        }

        // Micro-ops.
        let uops = try #require(try TestData.json(file)["uops"]?.arrayValue)
        #expect(uops.count == 110)
        let uopHex = uops.compactMap { $0["hex"]?.stringValue }
        let decoded = try VTACtl.json(try VTACtl.run(["decode", "--uop", "--config", config.path] + uopHex), "decode --uop \(file)")
        let uopItems = try #require(decoded.arrayValue)
        #expect(uopItems.count == 110)
        for (i, (item, v)) in zip(uopItems, uops).enumerated() {
            let want = JSONValue.object([("struct", .string("VTAUop")), ("fields", try #require(v["fields"]))])
            #expect(item == want, "\(file) uop \(i): got \(item.serialized())")
        }
    }

    @Test("encode reads {struct, fields} JSON on stdin and prints the hex", arguments: encodingFiles)
    func encode(file: String) throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let config = try TestData.configFile(from: file, in: dir.url)
        let golden = try TestData.json(file)
        for section in ["instructions", "uops"] {
            let vectors = try #require(golden[section]?.arrayValue)
            let input = JSONValue.array(try vectors.map { v in
                .object([("struct", try #require(v["struct"])), ("fields", try #require(v["fields"]))])
            })
            let r = try VTACtl.run(["encode", "--config", config.path], stdin: input.serialized(pretty: true))
            #expect(r.status == 0, "\(r)")
            let lines = r.lines.map(String.init)
            let want = vectors.compactMap { $0["hex"]?.stringValue?.lowercased() }
            #expect(lines.count == vectors.count && want.count == vectors.count, "\(file) \(section): \(lines.count) lines")
            for (i, (got, hex)) in zip(lines, want).enumerated() { #expect(got == hex, "\(file) \(section) \(i)") }
        }

        // decode | encode gives back the words.
        let sample = try Self.opcodeRuleVectors(file).prefix(40).compactMap { $0["hex"]?.stringValue }
        let decoded = try VTACtl.run(["decode", "--config", config.path] + sample)
        #expect(decoded.status == 0)
        let again = try VTACtl.run(["encode", "--config", config.path], stdin: decoded.stdout)
        #expect(again.lines.map(String.init) == sample.map { $0.lowercased() }, "\(again)")
    }

    @Test("encode of a value that does not fit fails and names the field")
    func encodeOverflow() throws {
        let cases: [(String, [String])] = [
            ("[{\"struct\": \"VTAMemInsn\", \"fields\": {\"opcode\": 0, \"sram_base\": 65536}}]", ["sram_base"]),
            ("[{\"struct\": \"VTAAluInsn\", \"fields\": {\"opcode\": 4, \"imm\": -32769}}]", ["imm"]),
            ("[{\"struct\": \"VTAGemInsn\", \"fields\": {\"opcode\": 2, \"uop_bgn\": 8192}}]", ["uop_bgn", "13"]),
            ("[{\"struct\": \"VTAUop\", \"fields\": {\"dst_idx\": 2048}}]", ["dst_idx"]),
            ("[{\"struct\": \"VTAGemInsn\", \"fields\": {\"imm\": 1}}]", ["imm"]),
            ("[{\"struct\": \"VTAFooInsn\", \"fields\": {}}]", ["VTAFooInsn"]),
            ("[{\"struct\": \"VTAMemInsn\", \"fields\": {\"x_size\": 1.5}}]", ["x_size"]),
            ("{\"struct\": ", ["JSON"]),
        ]
        for (input, needles) in cases {
            let r = try VTACtl.run(["encode", "--target", "sim"], stdin: input)
            VTACtl.expectCleanFailure(r, mentioning: needles, "encode \(input)")
            #expect(r.stdout.isEmpty, "\(input): printed \(r.stdout)")
        }
    }

    @Test("decode rejects words of the wrong length or non-hex")
    func decodeBadWords() throws {
        let word31 = String(repeating: "a", count: 31)
        VTACtl.expectCleanFailure(try VTACtl.run(["decode", word31]), mentioning: [word31], "31 characters")
        VTACtl.expectCleanFailure(try VTACtl.run(["decode", String(repeating: "a", count: 34)]), mentioning: ["34"], "34 characters")
        VTACtl.expectCleanFailure(try VTACtl.run(["decode", String(repeating: "z", count: 32)]), mentioning: ["hex"], "not hex")
        VTACtl.expectCleanFailure(try VTACtl.run(["decode", "--uop", "0123456"]), mentioning: ["0123456"], "7-char micro-op")
        let ok = try VTACtl.run(["decode", "13000000000000000000000000000000"])
        #expect(ok.status == 0 && ok.stdout.contains("VTAGemInsn"), "\(ok)")
    }

    @Test("disasm prints one line per 16-byte instruction", arguments: ["programs/random_mixed_2.json", "programs/alt_random_mixed.json"])
    func disasm(program: String) throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let json = try TestData.json(program)
        let config = try TestData.configFile(from: program, in: dir.url)
        let hexes = try #require(json["instructions"]?.arrayValue).compactMap(\.stringValue)
        let ops = try #require(json["instructions_decoded"]?.arrayValue).compactMap { $0["op"]?.stringValue }
        #expect(hexes.count == ops.count && hexes.count > 10)
        let bytes = try hexes.flatMap { try #require(Hex.decode($0)) }
        #expect(bytes.count == 16 * hexes.count)
        let stream = dir.url.appendingPathComponent("stream.bin")
        try Data(bytes).write(to: stream)
        let r = try VTACtl.run(["disasm", "--config", config.path, stream.path])
        #expect(r.status == 0, "\(r)")
        let lines = r.lines
        #expect(lines.count == hexes.count, "\(lines.count) lines for \(hexes.count) instructions")
        for (i, (line, op)) in zip(lines, ops).enumerated() { #expect(line.contains(op), "line \(i): \(line) lacks \(op)") }

        // The same words given as hex.
        let viaHex = try VTACtl.run(["disasm", "--config", config.path, "--hex"] + hexes)
        #expect(viaHex.stdout == r.stdout)

        // A stream whose size is not a multiple of 16 bytes.
        let ragged = dir.url.appendingPathComponent("ragged.bin")
        try Data(bytes.prefix(16 * 3 + 5)).write(to: ragged)
        VTACtl.expectCleanFailure(try VTACtl.run(["disasm", "--config", config.path, ragged.path]), mentioning: ["53"], "53-byte stream")
        let missing = dir.url.appendingPathComponent("none.bin").path
        VTACtl.expectCleanFailure(try VTACtl.run(["disasm", missing]), mentioning: [missing], "missing stream")
    }
}
