import Foundation
import Testing
import VTATestSupport
import VTA

@Suite("JSONValue")
struct JSONValueTests {
    static let sample: JSONValue = .object([
        ("z_first", .int(1)),                 // member order is kept, not sorted
        ("a_second", .array([.null, .bool(true), .bool(false), .int(Int64.min), .int(Int64.max), .int(-7)])),
        ("nested", .object([("empty_obj", .object([])), ("empty_arr", .array([])), ("x", .double(0.5)), ("y", .double(-1.25e-3))])),
        ("text", .string("quote \" backslash \\ slash / newline \n tab \t cr \r bell \u{07} é 😀 日本")),
        ("", .string("")),
    ])

    @Test("serialize then parse gives the same value, compact and pretty")
    func roundTrip() throws {
        for pretty in [false, true] {
            let text = Self.sample.serialized(pretty: pretty)
            let back = try JSONValue.parse(text)
            #expect(back == Self.sample, "pretty=\(pretty): \(text)")
            #expect(try JSONValue.parse(bytes: Array(text.utf8)) == Self.sample)
            // The output is valid JSON for an independent parser too.
            let foundation = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
            let dict = try #require(foundation as? [String: Any])
            #expect(dict["text"] as? String == Self.sample["text"]?.stringValue)
            #expect(dict.count == 5)
        }
        #expect(Self.sample.serialized().hasPrefix("{\"z_first\": 1"))
        #expect(JSONValue.object([("a", .int(1)), ("b", .int(2))]) != JSONValue.object([("b", .int(2)), ("a", .int(1))]))
    }

    @Test("parsing keeps integers and non-integers apart")
    func numbers() throws {
        #expect(try JSONValue.parse("4") == .int(4))
        #expect(try JSONValue.parse("-42") == .int(-42))
        #expect(try JSONValue.parse("4.0") == .double(4.0))
        #expect(try JSONValue.parse("1e3") == .double(1000))
        #expect(try JSONValue.parse("-2.5E-1") == .double(-0.25))
        #expect(try JSONValue.parse("9223372036854775807") == .int(Int64.max))
        #expect(try JSONValue.parse(" \n\t[ 1 , {\"k\" : null} ] \r\n") == .array([.int(1), .object([("k", .null)])]))
        #expect(try JSONValue.parse("\"\\u00e9\\ud83d\\ude00\\n\"") == .string("é😀\n"))
        let obj = try JSONValue.parse("{\"a\": 1, \"b\": [true], \"a\": 2}")
        #expect(obj["a"] == .int(1))
        #expect(obj["b"]?.arrayValue == [.bool(true)])
        #expect(obj["missing"] == nil)
        #expect(JSONValue.int(3)["a"] == nil)
    }

    @Test("malformed JSON throws a JSONParseError", arguments: [
        "", "{", "}", "[1,]", "[1 2]", "{\"a\" 1}", "{\"a\":1,}", "{a:1}", "tru", "nul", "\"abc", "\"a\u{01}b\"",
        "\"bad \\q escape\"", "\"\\u12\"", "1 2", "-", "[", "{\"a\":[}]", "[\"x\"]]", "1.2.3e",
    ])
    func malformed(text: String) {
        do {
            let v = try JSONValue.parse(text)
            Issue.record("\(text.debugDescription) parsed as \(v)")
        } catch {
            #expect(error.description.hasPrefix("invalid JSON"), "\(error.description)")
        }
    }

    @Test("deep nesting is an error, not a crash")
    func deepNesting() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
        let ok = String(repeating: "[", count: 50) + String(repeating: "]", count: 50)
        #expect(throws: Never.self) { try JSONValue.parse(ok) }
    }

    @Test("the library parser reads the golden files like Foundation does")
    func goldenFilesAgreeWithFoundation() throws {
        for file in TestData.encodingFiles {
            let bytes = try TestData.bytes(file)
            let mine = try JSONValue.parse(bytes: bytes)
            let theirs = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
            let theirInsns = try #require(theirs["instructions"] as? [[String: Any]])
            let myInsns = try #require(mine["instructions"]?.arrayValue)
            #expect(myInsns.count == theirInsns.count && myInsns.count == 363)
            for (a, b) in zip(myInsns, theirInsns) {
                #expect(a["hex"]?.stringValue == b["hex"] as? String)
                let fields = try #require(b["fields"] as? [String: Any])
                for (k, v) in fields {
                    let want = (v as? NSNumber)?.int64Value ?? (v as? Int).map { Int64($0) }
                    #expect(want != nil && a["fields"]?[k]?.intValue == want, "\(k)")
                }
            }
        }
    }

    @Test("hex helpers")
    func hex() {
        #expect(Hex.encode([0x00, 0x0F, 0xA5, 0xFF]) == "000fa5ff")
        #expect(Hex.decode("000FA5ff") == [0x00, 0x0F, 0xA5, 0xFF])
        #expect(Hex.decode("0x01") == [1])
        #expect(Hex.decode("") == [])
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }
}

@Suite("SHA256")
struct SHA256Tests {
    // FIPS 180-2 appendix B test vectors.
    @Test("standard digests")
    func vectors() {
        #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hex(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // Lengths around the padding boundary (digests from Python's hashlib, bytes 0, 1, 2, ...).
        let boundary: [(Int, String)] = [
            (55, "463eb28e72f82e0a96c0a4cc53690c571281131f672aa229e0d45ae59b598b59"),
            (56, "da2ae4d6b36748f2a318f23e7ab1dfdf45acdc9d049bd80e59de82a60895f562"),
            (57, "2fe741af801cc238602ac0ec6a7b0c3a8a87c7fc7d7f02a3fe03d1c12eac4d8f"),
            (63, "29af2686fd53374a36b0846694cc342177e428d1647515f078784d69cdb9e488"),
            (64, "fdeab9acf3710362bd2658cdc9a29e8f9c757fcf9811603a8c447cd1d9151108"),
            (65, "4bfd2c8b6f1eec7a2afeb48b934ee4b2694182027e6d0fc075074f2fabb31781"),
            (119, "da18797ed7c3a777f0847f429724a2d8cd5138e6ed2895c3fa1a6d39d18f7ec6"),
            (120, "f52b23db1fbb6ded89ef42a23ce0c8922c45f25c50b568a93bf1c075420bbb7c"),
        ]
        for (n, digest) in boundary { #expect(SHA256.hex((0..<n).map { UInt8($0) }) == digest, "length \(n)") }
        million.withUnsafeBytes { #expect(SHA256.hex($0) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") }
    }

    @Test("incremental updates of any chunk size give the one-shot digest")
    func incremental() {
        var rng = SplitMix64(seed: 256)
        let data = (0..<1000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let oneShot = SHA256.hex(data)
        // Lengths around the 55/56/64-byte padding boundaries.
        for n in [0, 1, 55, 56, 63, 64, 65, 119, 120, 128] {
            var bytewise = SHA256()
            for b in data[0..<n] { bytewise.update([b]) }
            #expect(Hex.encode(bytewise.finalize()) == SHA256.hex(Array(data[0..<n])), "length \(n)")
        }
        for chunk in [1, 3, 63, 64, 65, 200] {
            var s = SHA256()
            var i = 0
            while i < data.count { s.update(data[i..<min(i + chunk, data.count)]); i += chunk }
            #expect(Hex.encode(s.finalize()) == oneShot, "chunk \(chunk)")
        }
    }
}

@Suite("Disassembler")
struct DisassemblerTests {
    @Test("one line per instruction, with the opcode name", arguments: ["programs/random_mixed_0.json", "programs/alt_random_mixed.json", "programs/edge_zero_sizes.json"])
    func listing(file: String) throws {
        let json = try TestData.json(file)
        let config = try HardwareConfig(json: try #require(json["config"]))
        let hexes = try #require(json["instructions"]?.arrayValue).compactMap(\.stringValue)
        let words = try hexes.map { try #require(InstructionWord(hex: $0)) }
        let ops = try #require(json["instructions_decoded"]?.arrayValue).compactMap { $0["op"]?.stringValue }
        #expect(words.count == ops.count && words.count > 10)
        let lines = Disassembler(config: config).listing(words).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == words.count)
        for (i, (line, op)) in zip(lines, ops).enumerated() {
            #expect(line.contains(op), "line \(i) \(line) lacks \(op)")
            #expect(line.trimmingCharacters(in: .whitespaces).hasPrefix("\(i) "), "line \(i): \(line)")
        }
    }

    @Test("every kind of instruction and a micro-op")
    func kinds() throws {
        let d = Disassembler(config: .standard)
        let isa = HardwareConfig.standard.isa
        let cases: [(Instruction, [String])] = [
            (.load(MemoryInstruction(memoryType: .inp, sramBase: 0x10, dramBase: 0x100, ySize: 2, xSize: 3, xStride: 4, yPad0: 1)),
             ["LOAD", "INP", "y=2", "x=3", "stride=4"]),
            (.store(MemoryInstruction(deps: [.popPrev], memoryType: .out, ySize: 1, xSize: 8, xStride: 8)), ["STORE", "OUT", "pop_prev"]),
            (.gemm(GemmInstruction(resetReg: true, loop: LoopFields(uopBegin: 0, uopEnd: 1))), ["GEMM", "reset"]),
            (.alu(AluInstruction(loop: LoopFields(uopBegin: 1, uopEnd: 2), aluOpcode: .shr, useImm: true, imm: -3)), ["ALU", "SHR", "-3"]),
            (.finish([.popNext]), ["FINISH", "pop_next"]),
            (.undefined(opcode: 6, word: InstructionWord(low: 6, high: 0)), ["6"]),
        ]
        for (insn, needles) in cases {
            let line = d.line(try isa.encode(insn), index: 7)
            for n in needles { #expect(line.contains(n), "\(line) lacks \(n)") }
            #expect(!line.contains("\n"))
        }
        #expect(d.describe(uop: try isa.encode(MicroOp(dst: 5, src: 6, wgt: 7))) == "dst=5 src=6 wgt=7")
    }
}
