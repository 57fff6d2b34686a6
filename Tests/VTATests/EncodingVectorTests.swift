import Testing
import VTATestSupport
import VTA

/// The golden encoding vectors (conformance README §2), in both directions, for both configs.
@Suite("Encoding vectors")
struct EncodingVectorTests {
    /// Fields of a vector in file order, as integers.
    static func fields(_ v: JSONValue) -> [(String, Int64)]? {
        guard case .object(let members)? = v["fields"] else { return nil }
        var out: [(String, Int64)] = []
        for (k, value) in members {
            guard let i = value.intValue else { return nil }
            out.append((k, i))
        }
        return out
    }

    static func loadFile(_ file: String) throws -> (JSONValue, HardwareConfig) {
        let json = try TestData.json(file)
        let cfgJSON = try #require(json["config"], "\(file) has no config")
        return (json, try HardwareConfig(json: cfgJSON))
    }

    @Test("layout section equals the computed layout", arguments: TestData.encodingFiles)
    func layoutMatchesFile(file: String) throws {
        let (json, config) = try Self.loadFile(file)
        let layout = try #require(json["layout"]?.objectValue, "\(file) has no layout section")
        #expect(layout.count == 4, "\(file): expected the four struct layouts")
        let cfgKeys = try #require(json["config"]?.objectValue)
        func key(_ k: String) -> Int { Int(cfgKeys.first { $0.0 == k }?.1.intValue ?? -1) }
        let independent = RefLayout.layouts(RefDepths(
            logBatch: key("LOG_BATCH"), logBlock: key("LOG_BLOCK"), logUopBuffSize: key("LOG_UOP_BUFF_SIZE"),
            logInpBuffSize: key("LOG_INP_BUFF_SIZE"), logWgtBuffSize: key("LOG_WGT_BUFF_SIZE"),
            logAccBuffSize: key("LOG_ACC_BUFF_SIZE")))
        var compared = 0
        for (structName, entries) in layout {
            let kind = try #require(StructKind(rawValue: structName), "unknown struct \(structName) in \(file)")
            let fileFields: [RefField] = try (entries.arrayValue ?? []).map { e in
                RefField(name: try #require(e["field"]?.stringValue), offset: Int(try #require(e["bit_offset"]?.intValue)),
                         width: Int(try #require(e["width"]?.intValue)), signed: e["signed"] == .bool(true))
            }
            let mine = RefLayout.fromLibrary(config.isa.layout(kind))
            #expect(mine == fileFields, "\(file) \(structName): computed \(mine), file \(fileFields)")
            #expect(independent[structName] == fileFields, "independent model disagrees with \(file) \(structName)")
            compared += fileFields.count
        }
        // 15 memory + 16 GEMM + 17 ALU + 3 micro-op fields.
        #expect(compared == 51)
    }

    @Test("every instruction and micro-op vector decodes and encodes exactly", arguments: TestData.encodingFiles)
    func vectorsBothDirections(file: String) throws {
        let (json, config) = try Self.loadFile(file)
        let instructions = try #require(json["instructions"]?.arrayValue, "\(file): no instructions array")
        let uops = try #require(json["uops"]?.arrayValue, "\(file): no uops array")
        var checkedInsn = 0, checkedUop = 0
        for (i, v) in instructions.enumerated() {
            let structName = try #require(v["struct"]?.stringValue)
            let kind = try #require(StructKind(rawValue: structName), "vector \(i): struct \(structName)")
            let hex = try #require(v["hex"]?.stringValue)
            let want = try #require(Self.fields(v), "vector \(i): fields")
            let word = try #require(InstructionWord(hex: hex), "vector \(i): hex \(hex)")
            let layout = config.isa.layout(kind)
            // hex -> fields
            let decoded = layout.decode(word)
            #expect(decoded.map(\.0) == want.map(\.0), "\(file) #\(i): field names/order")
            #expect(decoded.map(\.1) == want.map(\.1), "\(file) #\(i) \(v["tag"]?.stringValue ?? ""): decode \(decoded) != \(want)")
            // fields -> hex
            let encoded = try layout.encode(want)
            #expect(encoded.hex == hex.lowercased(), "\(file) #\(i): encode gave \(encoded.hex), file has \(hex)")
            #expect(encoded == word)
            checkedInsn += 1
        }
        for (i, v) in uops.enumerated() {
            #expect(v["struct"]?.stringValue == "VTAUop")
            let hex = try #require(v["hex"]?.stringValue)
            let want = try #require(Self.fields(v))
            let bytes = try #require(Hex.decode(hex))
            let w = try #require(MicroOpBytes.word(bytes), "uop \(i): \(hex) is not 4 bytes")
            let decoded = config.isa.uop.decode(InstructionWord(uop: w))
            #expect(decoded.map(\.0) == want.map(\.0))
            #expect(decoded.map(\.1) == want.map(\.1), "\(file) uop #\(i): decode \(decoded) != \(want)")
            let encoded = try config.isa.uop.encode(want)
            #expect(encoded.high == 0 && encoded.low >> 32 == 0)
            #expect(Hex.encode(MicroOpBytes.bytes(UInt32(truncatingIfNeeded: encoded.low))) == hex.lowercased())
            // Typed micro-op codec against the same vector.
            let typed = config.isa.decode(uop: w)
            let dict = Dictionary(uniqueKeysWithValues: want)
            #expect(Int64(typed.dst) == dict["dst_idx"] && Int64(typed.src) == dict["src_idx"] && Int64(typed.wgt) == dict["wgt_idx"])
            #expect(try config.isa.encode(typed) == w)
            checkedUop += 1
        }
        #expect(checkedInsn == 363, "\(file): checked \(checkedInsn) instruction vectors")
        #expect(checkedUop == 110, "\(file): checked \(checkedUop) micro-op vectors")
    }

    /// C names and values of a typed instruction, for comparison with the vectors.
    static func typedFields(_ insn: Instruction) -> [String: Int64]? {
        var f: [String: Int64] = [:]
        let d = insn.deps
        f["pop_prev_dep"] = d.contains(.popPrev) ? 1 : 0
        f["pop_next_dep"] = d.contains(.popNext) ? 1 : 0
        f["push_prev_dep"] = d.contains(.pushPrev) ? 1 : 0
        f["push_next_dep"] = d.contains(.pushNext) ? 1 : 0
        func loop(_ l: LoopFields, _ reset: Bool) {
            f["reset_reg"] = reset ? 1 : 0
            f["uop_bgn"] = Int64(l.uopBegin); f["uop_end"] = Int64(l.uopEnd)
            f["iter_out"] = Int64(l.iterOut); f["iter_in"] = Int64(l.iterIn)
            f["dst_factor_out"] = Int64(l.dstFactorOut); f["dst_factor_in"] = Int64(l.dstFactorIn)
            f["src_factor_out"] = Int64(l.srcFactorOut); f["src_factor_in"] = Int64(l.srcFactorIn)
        }
        switch insn {
        case .load(let m), .store(let m):
            if case .load = insn { f["opcode"] = 0 } else { f["opcode"] = 1 }
            f["memory_type"] = Int64(m.memoryTypeBits); f["sram_base"] = Int64(m.sramBase); f["dram_base"] = Int64(m.dramBase)
            f["y_size"] = Int64(m.ySize); f["x_size"] = Int64(m.xSize); f["x_stride"] = Int64(m.xStride)
            f["y_pad_0"] = Int64(m.yPad0); f["y_pad_1"] = Int64(m.yPad1); f["x_pad_0"] = Int64(m.xPad0); f["x_pad_1"] = Int64(m.xPad1)
        case .gemm(let g):
            f["opcode"] = 2
            loop(g.loop, g.resetReg)
            f["wgt_factor_out"] = Int64(g.wgtFactorOut); f["wgt_factor_in"] = Int64(g.wgtFactorIn)
        case .alu(let a):
            f["opcode"] = 4
            loop(a.loop, a.resetReg)
            f["alu_opcode"] = Int64(a.aluOpcodeBits); f["use_imm"] = a.useImm ? 1 : 0; f["imm"] = Int64(a.imm)
        case .finish:
            f["opcode"] = 3
        case .undefined:
            return nil
        }
        return f
    }

    @Test("typed codec agrees with vectors whose struct follows the opcode", arguments: TestData.encodingFiles)
    func typedCodecOnVectors(file: String) throws {
        let (json, config) = try Self.loadFile(file)
        var typedChecked = 0, undefinedChecked = 0
        for (i, v) in (json["instructions"]?.arrayValue ?? []).enumerated() {
            let want = Dictionary(uniqueKeysWithValues: try #require(Self.fields(v)))
            let opcode = try #require(want["opcode"])
            let expectedStruct = switch opcode { case 0, 1: "VTAMemInsn"; case 4: "VTAAluInsn"; default: "VTAGemInsn" }
            #expect(Instruction.structKind(forOpcode: UInt8(opcode)).rawValue == expectedStruct)
            guard v["struct"]?.stringValue == expectedStruct else { continue }
            let hex = try #require(v["hex"]?.stringValue)
            let word = try #require(InstructionWord(hex: hex))
            let insn = config.isa.decode(word)
            if opcode >= 5 {
                #expect(insn == .undefined(opcode: UInt8(opcode), word: word), "\(file) #\(i)")
                undefinedChecked += 1
            } else {
                let got = try #require(Self.typedFields(insn), "\(file) #\(i): opcode \(opcode) decoded as undefined")
                for (name, value) in want {
                    if let g = got[name] {
                        #expect(g == value, "\(file) #\(i): typed \(name) = \(g), vector has \(value)")
                    } else {
                        // Only FINISH drops fields: it keeps nothing but its dependence flags (spec §2.7).
                        #expect(opcode == 3, "\(file) #\(i): typed decode lost \(name) = \(value)")
                    }
                }
                typedChecked += 1
            }
            // FINISH re-encodes as opcode and flags only (bits 0..6); everything else exactly.
            let expected = opcode == 3 ? InstructionWord(low: word.low & 0x7F, high: 0) : word
            #expect(try config.isa.encode(insn) == expected, "\(file) #\(i): typed encode")
        }
        // Both files: 229 vectors of opcodes 0-4 and 15 of opcodes 5-7 use their opcode's struct.
        #expect(typedChecked == 229, "\(file): \(typedChecked) typed vectors checked")
        #expect(undefinedChecked == 15, "\(file): \(undefinedChecked) undefined-opcode vectors checked")
    }

    @Test("derived_constants agree", arguments: TestData.encodingFiles)
    func derivedConstants(file: String) throws {
        let (json, config) = try Self.loadFile(file)
        let constants = try #require(json["derived_constants"]?.objectValue)
        let mine = Dictionary(config.derivedConstants, uniquingKeysWith: { a, _ in a })
        var compared = 0
        for (key, value) in constants {
            let want = try #require(value.intValue, "\(key) is not an integer")
            if key.hasPrefix("VTA_") {
                let got = try #require(mine[key], "derivedConstants lacks \(key)")
                #expect(Int64(got) == want, "\(file): \(key) = \(got), file has \(want)")
                compared += 1
            } else if key.hasPrefix("sizeof(") {
                let name = String(key.dropFirst(7).dropLast())
                let bits = StructKind(rawValue: name).map { config.isa.layout($0).sizeInBits } ?? 128
                #expect(Int64(bits / 8) == want, "\(file): \(key) = \(bits / 8), file has \(want)")
                compared += 1
            }
        }
        #expect(compared == constants.count && compared >= 25, "\(file): compared \(compared) of \(constants.count)")
    }
}
