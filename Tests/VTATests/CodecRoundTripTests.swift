import Testing
import VTATestSupport
import VTA

/// The typed codec (`ISALayout.encode/decode`) on random values, for configurations in and out of
/// the shared files, checked against the independent packing model of spec §2.1.
@Suite("Typed codec")
struct CodecRoundTripTests {
    /// 0, all ones, or a uniformly random value of `width` bits.
    static func value(_ rng: inout SplitMix64, _ width: Int) -> UInt32 {
        switch rng.next() % 8 {
        case 0: return 0
        case 1: return UInt32(truncatingIfNeeded: (UInt64(1) << UInt64(width)) - 1)
        default: return rng.bits(width)
        }
    }

    static func randomLoop(_ rng: inout SplitMix64, _ d: RefDepths, srcWidth: Int) -> LoopFields {
        LoopFields(uopBegin: value(&rng, d.lu), uopEnd: value(&rng, d.lu + 1), iterOut: value(&rng, 14),
                   iterIn: value(&rng, 14), dstFactorOut: value(&rng, d.la), dstFactorIn: value(&rng, d.la),
                   srcFactorOut: value(&rng, srcWidth), srcFactorIn: value(&rng, srcWidth))
    }

    static func randomInstruction(_ rng: inout SplitMix64, _ d: RefDepths) -> Instruction {
        let deps = DependencyFlags(rawValue: UInt8(rng.bits(4)))
        switch rng.next() % 7 {
        case 0, 1:
            let m = MemoryInstruction(
                deps: deps, memoryTypeBits: UInt8(value(&rng, 3)), sramBase: value(&rng, 16), dramBase: value(&rng, 32),
                ySize: value(&rng, 16), xSize: value(&rng, 16), xStride: value(&rng, 16), yPad0: value(&rng, 4),
                yPad1: value(&rng, 4), xPad0: value(&rng, 4), xPad1: value(&rng, 4))
            return rng.next() % 2 == 0 ? .load(m) : .store(m)
        case 2, 3:
            return .gemm(GemmInstruction(deps: deps, resetReg: rng.next() % 2 == 0, loop: randomLoop(&rng, d, srcWidth: d.li),
                                         wgtFactorOut: value(&rng, d.lw), wgtFactorIn: value(&rng, d.lw)))
        case 4, 5:
            return .alu(AluInstruction(deps: deps, resetReg: rng.next() % 2 == 0, loop: randomLoop(&rng, d, srcWidth: d.la),
                                       aluOpcodeBits: UInt8(value(&rng, 3)), useImm: rng.next() % 2 == 0,
                                       imm: Int16(truncatingIfNeeded: rng.next())))
        default:
            if rng.next() % 2 == 0 { return .finish(deps) }
            let opcode = UInt8(5 + rng.next() % 3)
            let word = InstructionWord(low: rng.next() & ~7 | UInt64(opcode), high: rng.next())
            return .undefined(opcode: opcode, word: word)
        }
    }

    /// Bits covered by the fields of a struct.
    static func fieldMask(_ fields: [RefField]) -> InstructionWord {
        var w = InstructionWord()
        for f in fields {
            for b in f.offset..<(f.offset + f.width) {
                if b < 64 { w.low |= 1 << UInt64(b) } else { w.high |= 1 << UInt64(b - 64) }
            }
        }
        return w
    }

    @Test("random instructions and micro-ops round-trip and land on the spec's bits", arguments: NamedConfig.all)
    func randomRoundTrip(named: NamedConfig) throws {
        let config = try named.config()
        let d = named.depths
        let ref = RefLayout.layouts(d)
        // The library's layouts equal the spec's packing rule for this configuration too.
        for kind in StructKind.allCases {
            #expect(RefLayout.fromLibrary(config.isa.layout(kind)) == ref[kind.rawValue], "\(named): \(kind.rawValue) layout")
        }
        var rng = SplitMix64(seed: 0x5EED_0000 &+ UInt64(d.lu * 1000 + d.li * 100 + d.lw * 10 + d.la))
        var kinds: [String: Int] = [:]
        for n in 0..<4000 {
            let insn = Self.randomInstruction(&rng, d)
            let word = try config.isa.encode(insn)
            #expect(config.isa.decode(word) == insn, "\(named) #\(n): \(insn) -> \(word.hex) -> \(config.isa.decode(word))")
            guard let fields = EncodingVectorTests.typedFields(insn) else {
                // Undefined opcodes keep every bit.
                if case .undefined(_, let w) = insn { #expect(word == w) }
                kinds["undefined", default: 0] += 1
                continue
            }
            let structName = Instruction.structKind(forOpcode: word.opcodeBits).rawValue
            kinds[structName + "/\(word.opcodeBits)", default: 0] += 1
            let layout = try #require(ref[structName])
            for f in layout {
                let got = RefLayout.extract(f, low: word.low, high: word.high)
                #expect(got == (fields[f.name] ?? 0), "\(named) #\(n): bits of \(f.name) hold \(got), expected \(fields[f.name] ?? 0)")
            }
            let mask = Self.fieldMask(layout)
            #expect(word.low & ~mask.low == 0 && word.high & ~mask.high == 0, "\(named) #\(n): reserved bits set in \(word.hex)")
        }
        // Every kind of instruction was generated (LOAD, STORE, GEMM, FINISH, ALU, undefined).
        #expect(kinds.count == 6 && kinds.values.allSatisfy { $0 > 100 }, "\(kinds)")

        for n in 0..<2000 {
            let u = MicroOp(dst: Self.value(&rng, d.la), src: Self.value(&rng, max(d.la, d.li)), wgt: Self.value(&rng, d.lw))
            let w = try config.isa.encode(u)
            #expect(config.isa.decode(uop: w) == u, "\(named) uop #\(n)")
            let f = try #require(ref["VTAUop"])
            #expect(RefLayout.extract(f[0], low: UInt64(w), high: 0) == Int64(u.dst))
            #expect(RefLayout.extract(f[1], low: UInt64(w), high: 0) == Int64(u.src))
            #expect(RefLayout.extract(f[2], low: UInt64(w), high: 0) == Int64(u.wgt))
        }
    }

    /// Instructions with one field set one past its maximum, with that field's name and width.
    static func overflowCases(_ d: RefDepths) -> [(Instruction, String, Int)] {
        func mem(_ edit: (inout MemoryInstruction) -> Void) -> Instruction {
            var m = MemoryInstruction(memoryType: .inp)
            edit(&m)
            return .load(m)
        }
        func gemm(_ edit: (inout GemmInstruction) -> Void) -> Instruction {
            var g = GemmInstruction(loop: LoopFields())
            edit(&g)
            return .gemm(g)
        }
        func alu(_ edit: (inout AluInstruction) -> Void) -> Instruction {
            var a = AluInstruction(loop: LoopFields(), aluOpcode: .add)
            edit(&a)
            return .alu(a)
        }
        let p = { (w: Int) -> UInt32 in UInt32(1) << UInt32(w) }
        return [
            (mem { $0.memoryTypeBits = 8 }, "memory_type", 3),
            (mem { $0.sramBase = p(16) }, "sram_base", 16),
            (mem { $0.ySize = p(16) }, "y_size", 16),
            (mem { $0.xSize = p(16) }, "x_size", 16),
            (mem { $0.xStride = p(16) }, "x_stride", 16),
            (mem { $0.yPad0 = 16 }, "y_pad_0", 4),
            (mem { $0.yPad1 = 16 }, "y_pad_1", 4),
            (mem { $0.xPad0 = 16 }, "x_pad_0", 4),
            (mem { $0.xPad1 = 16 }, "x_pad_1", 4),
            (gemm { $0.loop.uopBegin = p(d.lu) }, "uop_bgn", d.lu),
            (gemm { $0.loop.uopEnd = p(d.lu + 1) }, "uop_end", d.lu + 1),
            (gemm { $0.loop.iterOut = p(14) }, "iter_out", 14),
            (gemm { $0.loop.iterIn = p(14) }, "iter_in", 14),
            (gemm { $0.loop.dstFactorOut = p(d.la) }, "dst_factor_out", d.la),
            (gemm { $0.loop.dstFactorIn = p(d.la) }, "dst_factor_in", d.la),
            (gemm { $0.loop.srcFactorOut = p(d.li) }, "src_factor_out", d.li),
            (gemm { $0.loop.srcFactorIn = p(d.li) }, "src_factor_in", d.li),
            (gemm { $0.wgtFactorOut = p(d.lw) }, "wgt_factor_out", d.lw),
            (gemm { $0.wgtFactorIn = p(d.lw) }, "wgt_factor_in", d.lw),
            (alu { $0.loop.uopEnd = p(d.lu + 1) }, "uop_end", d.lu + 1),
            (alu { $0.loop.iterIn = p(14) }, "iter_in", 14),
            (alu { $0.loop.dstFactorIn = p(d.la) }, "dst_factor_in", d.la),
            (alu { $0.loop.srcFactorOut = p(d.la) }, "src_factor_out", d.la),
            (alu { $0.loop.srcFactorIn = p(d.la) }, "src_factor_in", d.la),
            (alu { $0.aluOpcodeBits = 8 }, "alu_opcode", 3),
        ]
    }

    static func checkOverflow(_ error: ISAError, field: String, width: Int, context: String) {
        guard case .fieldOverflow(_, let f, let w, let v, let allowed) = error else {
            Issue.record("\(context): expected fieldOverflow, got \(error)")
            return
        }
        #expect(f == field, "\(context): error names \(f)")
        #expect(w == width, "\(context): error gives width \(w)")
        #expect(v == Int64(1) << Int64(width), "\(context): error gives value \(v)")
        #expect(allowed == 0...((Int64(1) << Int64(width)) - 1), "\(context): allowed \(allowed)")
        #expect(error.description.contains(field) && error.description.contains("\(width)-bit"), "\(context): \(error.description)")
    }

    @Test("a value one past a field's maximum throws fieldOverflow naming the field", arguments: NamedConfig.all)
    func overflow(named: NamedConfig) throws {
        let config = try named.config()
        let d = named.depths
        let cases = Self.overflowCases(d)
        #expect(cases.count == 25)
        for (insn, field, width) in cases {
            do {
                let w = try config.isa.encode(insn)
                Issue.record("\(named): \(field) = 2^\(width) encoded as \(w.hex) instead of throwing")
            } catch {
                Self.checkOverflow(error, field: field, width: width, context: "\(named) \(field)")
            }
        }
        // The largest value of each width still encodes.
        let maxGemm = GemmInstruction(
            loop: LoopFields(uopBegin: (1 << d.lu) - 1, uopEnd: (1 << (d.lu + 1)) - 1, iterOut: 16383, iterIn: 16383,
                             dstFactorOut: (1 << d.la) - 1, dstFactorIn: (1 << d.la) - 1,
                             srcFactorOut: (1 << d.li) - 1, srcFactorIn: (1 << d.li) - 1),
            wgtFactorOut: (1 << d.lw) - 1, wgtFactorIn: (1 << d.lw) - 1)
        #expect(config.isa.decode(try config.isa.encode(.gemm(maxGemm))) == .gemm(maxGemm))

        let uopCases: [(MicroOp, String, Int)] = [
            (MicroOp(dst: 1 << d.la, src: 0), "dst_idx", d.la),
            (MicroOp(dst: 0, src: 1 << max(d.la, d.li)), "src_idx", max(d.la, d.li)),
            (MicroOp(dst: 0, src: 0, wgt: 1 << d.lw), "wgt_idx", d.lw),
        ]
        for (u, field, width) in uopCases {
            do {
                let w = try config.isa.encode(u)
                Issue.record("\(named): micro-op \(field) = 2^\(width) encoded as \(w)")
            } catch {
                Self.checkOverflow(error, field: field, width: width, context: "\(named) uop \(field)")
            }
        }
    }

    @Test("named-field encoder rejects out-of-range, negative and unknown fields")
    func namedFieldEncoder() throws {
        let isa = HardwareConfig.standard.isa
        #expect(throws: Never.self) { try isa.alu.encode([("imm", -32768)]) }
        #expect(throws: Never.self) { try isa.alu.encode([("imm", 32767)]) }
        #expect(try isa.alu.encode([("imm", -3)]).high >> 48 == 0xFFFD)
        for (name, value) in [("imm", Int64(32768)), ("imm", -32769)] {
            do { _ = try isa.alu.encode([(name, value)]); Issue.record("imm = \(value) encoded") } catch {
                guard case .fieldOverflow(_, "imm", 16, value, -32768...32767) = error else {
                    Issue.record("imm = \(value): \(error)")
                    continue
                }
            }
        }
        for (name, value) in [("dram_base", Int64(1) << 32), ("sram_base", -1), ("opcode", 8)] {
            do { _ = try isa.memory.encode([(name, value)]); Issue.record("\(name) = \(value) encoded") } catch {
                guard case .fieldOverflow(_, let f, _, let v, _) = error, f == name, v == value else {
                    Issue.record("\(name) = \(value): \(error)")
                    continue
                }
                #expect(error.description.contains(name))
            }
        }
        do { _ = try isa.gemm.encode([("imm", 1)]); Issue.record("GEMM accepted an imm field") } catch {
            guard case .unknownField("VTAGemInsn", "imm", _) = error else { Issue.record("\(error)"); return }
        }
    }

    @Test("arbitrary 128-bit patterns decode without trapping; opcodes 5-7 are undefined")
    func randomPatterns() throws {
        var rng = SplitMix64(seed: 0xDEC0DE)
        var undefined = 0
        var seenOpcodes = Set<UInt8>()
        for named in NamedConfig.all {
            let config = try named.config()
            let ref = RefLayout.layouts(named.depths)
            for _ in 0..<3000 {
                let word = InstructionWord(low: rng.next(), high: rng.next())
                let opcode = UInt8(word.low & 7)
                seenOpcodes.insert(opcode)
                let insn = config.isa.decode(word)
                let again = try config.isa.encode(insn)
                switch opcode {
                case 5, 6, 7:
                    #expect(insn == .undefined(opcode: opcode, word: word))
                    #expect(insn.opcode == nil)
                    #expect(again == word)
                    undefined += 1
                case 3:
                    #expect(insn == .finish(DependencyFlags(rawValue: UInt8((word.low >> 3) & 0xF))))
                    #expect(again == InstructionWord(low: word.low & 0x7F, high: 0))
                default:
                    let structName = Instruction.structKind(forOpcode: opcode).rawValue
                    let fields = try #require(EncodingVectorTests.typedFields(insn), "opcode \(opcode) decoded as undefined")
                    for f in try #require(ref[structName]) {
                        #expect(fields[f.name] == RefLayout.extract(f, low: word.low, high: word.high), "\(named) \(f.name) of \(word.hex)")
                    }
                    // Re-encoding keeps every field bit and clears only reserved bits.
                    let mask = Self.fieldMask(ref[structName]!)
                    #expect(again == InstructionWord(low: word.low & mask.low, high: word.high & mask.high), "\(named) \(word.hex)")
                }
                let u = UInt32(truncatingIfNeeded: rng.next())
                let uop = config.isa.decode(uop: u)
                let uf = ref["VTAUop"]!
                #expect(Int64(uop.dst) == RefLayout.extract(uf[0], low: UInt64(u), high: 0))
                #expect(Int64(uop.src) == RefLayout.extract(uf[1], low: UInt64(u), high: 0))
                #expect(Int64(uop.wgt) == RefLayout.extract(uf[2], low: UInt64(u), high: 0))
            }
        }
        #expect(seenOpcodes.count == 8)
        #expect(undefined > 5000)
    }

    @Test("the example encodings of spec §2.10")
    func specExamples() throws {
        let isa = HardwareConfig.standard.isa
        let load = MemoryInstruction(deps: [.popNext, .pushNext], memoryType: .inp, sramBase: 0x0123, dramBase: 0x89AB_CDEF,
                                     ySize: 4, xSize: 5, xStride: 16, yPad0: 1, yPad1: 2, xPad0: 3, xPad1: 15)
        let store = MemoryInstruction(deps: [.popPrev, .pushPrev], memoryType: .out, sramBase: 7, dramBase: 0x1000,
                                      ySize: 1, xSize: 8, xStride: 8)
        let gemm = GemmInstruction(deps: [.popPrev, .pushNext], loop: LoopFields(
            uopBegin: 0x10, uopEnd: 0x20, iterOut: 3, iterIn: 5, dstFactorOut: 1, dstFactorIn: 2, srcFactorOut: 3, srcFactorIn: 4),
            wgtFactorOut: 5, wgtFactorIn: 6)
        let alu = AluInstruction(deps: [.pushNext], loop: LoopFields(uopBegin: 1, uopEnd: 2, iterOut: 1, iterIn: 8, dstFactorIn: 1, srcFactorIn: 1),
                                 aluOpcode: .shr, useImm: true, imm: -3)
        let examples: [(Instruction, String)] = [
            (.load(load), "508d04bc37af260204000500100021f3"),
            (.store(store), "291e0000400000000100080008000000"),
            (.gemm(gemm), "4a10000418000a000110c00008508001"),
            (.alu(alu), "44014000080010000008000002b0fdff"),
            (.finish(.popNext), "13000000000000000000000000000000"),
        ]
        for (insn, hex) in examples {
            #expect(try isa.encode(insn).hex == hex, "\(insn)")
            #expect(isa.decode(try #require(InstructionWord(hex: hex))) == insn)
        }
        let uop = try isa.encode(MicroOp(dst: 5, src: 6, wgt: 7))
        #expect(MicroOpBytes.bytes(uop) == [0x05, 0x30, 0xC0, 0x01])
        #expect(MicroOpBytes.word([0x05, 0x30, 0xC0, 0x01]) == uop)
        #expect(MicroOpBytes.word([0x05, 0x30, 0xC0]) == nil)
    }

    @Test("instruction words read and write 16 little-endian bytes")
    func wordBytes() throws {
        let bytes: [UInt8] = (0..<16).map { UInt8($0 * 16 + 1) }
        let w = try #require(InstructionWord(bytes: bytes))
        #expect(w.low == 0x7161_5141_3121_1101 && w.high == 0xF1E1_D1C1_B1A1_9181)
        #expect(w.bytes == bytes)
        #expect(w.hex == "01112131415161718191a1b1c1d1e1f1")
        #expect(InstructionWord(hex: w.hex) == w)
        #expect(InstructionWord(hex: "0x" + w.hex.uppercased()) == w)
        #expect(InstructionWord(bytes: bytes.dropLast()) == nil)
        #expect(InstructionWord(hex: String(w.hex.dropLast())) == nil)
        #expect(InstructionWord(hex: String(repeating: "g", count: 32)) == nil)
    }
}
