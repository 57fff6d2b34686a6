/// Typed encoding and decoding. These run on hot paths (the runtime builds millions of
/// instructions, the simulator and verifier decode them), so they use the precomputed field
/// constants directly instead of going through names.
extension ISALayout {
    @inline(__always)
    private func put(_ f: FieldAccess, _ value: UInt64, _ w: inout InstructionWord, _ kind: StructKind) throws(ISAError) {
        guard value <= f.mask else { throw overflow(f, value, kind) }
        f.set(&w, value)
    }

    /// The error for a value that does not fit; looks the field's name up only on this cold path.
    private func overflow(_ f: FieldAccess, _ value: UInt64, _ kind: StructKind) -> ISAError {
        let l = layout(kind)
        let field = l.fields[l.access.firstIndex(of: f) ?? 0]
        return .fieldOverflow(structName: kind.rawValue, field: field.name, width: field.width,
                              value: Int64(truncatingIfNeeded: value), allowed: field.allowedRange)
    }

    @inline(__always)
    private func header(_ opcode: UInt8, _ deps: DependencyFlags) -> InstructionWord {
        InstructionWord(low: UInt64(opcode) | UInt64(deps.rawValue) << 3, high: 0)
    }

    /// Encodes an instruction.
    /// - Throws: `ISAError.fieldOverflow` naming the field, its width and the value, if any field
    ///   value does not fit this configuration's layout.
    public func encode(_ insn: Instruction) throws(ISAError) -> InstructionWord {
        typealias I = Index
        switch insn {
        case .load(let m), .store(let m):
            let isStore = if case .store = insn { true } else { false }
            var w = header(isStore ? 1 : 0, m.deps)
            let f = memory.access
            try put(f[I.memoryType], UInt64(m.memoryTypeBits), &w, .memory)
            try put(f[I.sramBase], UInt64(m.sramBase), &w, .memory)
            try put(f[I.dramBase], UInt64(m.dramBase), &w, .memory)
            try put(f[I.ySize], UInt64(m.ySize), &w, .memory)
            try put(f[I.xSize], UInt64(m.xSize), &w, .memory)
            try put(f[I.xStride], UInt64(m.xStride), &w, .memory)
            try put(f[I.yPad0], UInt64(m.yPad0), &w, .memory)
            try put(f[I.yPad1], UInt64(m.yPad1), &w, .memory)
            try put(f[I.xPad0], UInt64(m.xPad0), &w, .memory)
            try put(f[I.xPad1], UInt64(m.xPad1), &w, .memory)
            return w
        case .gemm(let g):
            var w = header(Opcode.gemm.rawValue, g.deps)
            let f = gemm.access
            try putLoop(g.resetReg, g.loop, f, &w, .gemm)
            try put(f[I.srcFactorOut], UInt64(g.loop.srcFactorOut), &w, .gemm)
            try put(f[I.srcFactorIn], UInt64(g.loop.srcFactorIn), &w, .gemm)
            try put(f[I.wgtFactorOut], UInt64(g.wgtFactorOut), &w, .gemm)
            try put(f[I.wgtFactorIn], UInt64(g.wgtFactorIn), &w, .gemm)
            return w
        case .alu(let a):
            var w = header(Opcode.alu.rawValue, a.deps)
            let f = alu.access
            try putLoop(a.resetReg, a.loop, f, &w, .alu)
            try put(f[I.srcFactorOut], UInt64(a.loop.srcFactorOut), &w, .alu)
            try put(f[I.srcFactorIn], UInt64(a.loop.srcFactorIn), &w, .alu)
            try put(f[I.aluOpcode], UInt64(a.aluOpcodeBits), &w, .alu)
            f[I.useImm].set(&w, a.useImm ? 1 : 0)
            f[I.imm].set(&w, UInt64(UInt16(bitPattern: a.imm)))
            return w
        case .finish(let deps):
            return header(Opcode.finish.rawValue, deps)
        case .undefined(let opcode, var word):
            word.low = (word.low & ~7) | UInt64(opcode & 7)
            return word
        }
    }

    @inline(__always)
    private func putLoop(_ reset: Bool, _ l: LoopFields, _ f: [FieldAccess], _ w: inout InstructionWord, _ k: StructKind) throws(ISAError) {
        typealias I = Index
        f[I.resetReg].set(&w, reset ? 1 : 0)
        try put(f[I.uopBgn], UInt64(l.uopBegin), &w, k)
        try put(f[I.uopEnd], UInt64(l.uopEnd), &w, k)
        try put(f[I.iterOut], UInt64(l.iterOut), &w, k)
        try put(f[I.iterIn], UInt64(l.iterIn), &w, k)
        try put(f[I.dstFactorOut], UInt64(l.dstFactorOut), &w, k)
        try put(f[I.dstFactorIn], UInt64(l.dstFactorIn), &w, k)
    }

    /// Decodes any 128-bit pattern. Undefined opcodes decode as `.undefined`; reserved bits are
    /// ignored.
    public func decode(_ w: InstructionWord) -> Instruction { decoder.decode(w) }

    /// Encodes a micro-op to its 32-bit word.
    /// - Throws: `ISAError.fieldOverflow` if an index does not fit its field.
    public func encode(_ u: MicroOp) throws(ISAError) -> UInt32 {
        typealias I = Index
        var w = InstructionWord()
        try put(uop.access[I.dst], UInt64(u.dst), &w, .uop)
        try put(uop.access[I.src], UInt64(u.src), &w, .uop)
        try put(uop.access[I.wgt], UInt64(u.wgt), &w, .uop)
        return UInt32(truncatingIfNeeded: w.low)
    }

    /// Decodes a 32-bit micro-op word (any pattern).
    public func decode(uop word: UInt32) -> MicroOp { decoder.decode(uop: word) }
}

extension InstructionWord {
    /// A micro-op word as an `InstructionWord` (low 32 bits), for the generic field codec.
    public init(uop: UInt32) { self.init(low: UInt64(uop), high: 0) }
}

/// Little-endian micro-op bytes <-> words.
public enum MicroOpBytes {
    public static func bytes(_ word: UInt32) -> [UInt8] {
        [UInt8(truncatingIfNeeded: word), UInt8(truncatingIfNeeded: word >> 8),
         UInt8(truncatingIfNeeded: word >> 16), UInt8(truncatingIfNeeded: word >> 24)]
    }

    public static func word(_ bytes: [UInt8]) -> UInt32? {
        guard bytes.count == 4 else { return nil }
        return UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
    }
}

extension InstructionDecoder {
    /// Decodes a word known to be LOAD or STORE (memory layout, same for every configuration).
    @inlinable @inline(__always)
    public func decodeMemory(_ w: InstructionWord) -> MemoryInstruction {
        let lo = w.low, hi = w.high
        return MemoryInstruction(
            deps: DependencyFlags(rawValue: UInt8(truncatingIfNeeded: lo >> 3)),
            memoryTypeBits: UInt8(truncatingIfNeeded: (lo >> 7) & 7),
            sramBase: UInt32(truncatingIfNeeded: (lo >> 10) & 0xFFFF),
            dramBase: UInt32(truncatingIfNeeded: (lo >> 26) & 0xFFFF_FFFF),
            ySize: UInt32(truncatingIfNeeded: hi & 0xFFFF), xSize: UInt32(truncatingIfNeeded: (hi >> 16) & 0xFFFF),
            xStride: UInt32(truncatingIfNeeded: (hi >> 32) & 0xFFFF),
            yPad0: UInt32(truncatingIfNeeded: (hi >> 48) & 0xF), yPad1: UInt32(truncatingIfNeeded: (hi >> 52) & 0xF),
            xPad0: UInt32(truncatingIfNeeded: (hi >> 56) & 0xF), xPad1: UInt32(truncatingIfNeeded: (hi >> 60) & 0xF))
    }

    /// The ALU opcode bits of a word known to be ALU.
    @inlinable @inline(__always)
    public func aluOpcodeBits(_ w: InstructionWord) -> UInt8 { UInt8(truncatingIfNeeded: alu.extra0.get(w)) }

    /// Decodes a word known to be GEMM.
    @inlinable @inline(__always)
    public func decodeGemm(_ w: InstructionWord) -> GemmInstruction {
        GemmInstruction(
            deps: DependencyFlags(rawValue: UInt8(truncatingIfNeeded: w.low >> 3)), resetReg: gemm.reset.get(w) != 0,
            loop: loop(gemm, w),
            wgtFactorOut: UInt32(truncatingIfNeeded: gemm.extra0.get(w)), wgtFactorIn: UInt32(truncatingIfNeeded: gemm.extra1.get(w)))
    }

    /// Decodes a word known to be ALU.
    @inlinable @inline(__always)
    public func decodeAlu(_ w: InstructionWord) -> AluInstruction {
        AluInstruction(
            deps: DependencyFlags(rawValue: UInt8(truncatingIfNeeded: w.low >> 3)), resetReg: alu.reset.get(w) != 0,
            loop: loop(alu, w), aluOpcodeBits: UInt8(truncatingIfNeeded: alu.extra0.get(w)),
            useImm: alu.extra1.get(w) != 0, imm: Int16(truncatingIfNeeded: alu.extra2.get(w)))
    }

    /// Decodes any 128-bit pattern. Undefined opcodes decode as `.undefined`; reserved bits are
    /// ignored.
    @inlinable
    public func decode(_ w: InstructionWord) -> Instruction {
        let deps = DependencyFlags(rawValue: UInt8(truncatingIfNeeded: w.low >> 3))
        switch w.opcodeBits {
        case 0, 1:
            // Memory instructions have one layout for every configuration (spec §2.4).
            let lo = w.low, hi = w.high
            let m = MemoryInstruction(
                deps: deps, memoryTypeBits: UInt8(truncatingIfNeeded: (lo >> 7) & 7),
                sramBase: UInt32(truncatingIfNeeded: (lo >> 10) & 0xFFFF),
                dramBase: UInt32(truncatingIfNeeded: (lo >> 26) & 0xFFFF_FFFF),
                ySize: UInt32(truncatingIfNeeded: hi & 0xFFFF), xSize: UInt32(truncatingIfNeeded: (hi >> 16) & 0xFFFF),
                xStride: UInt32(truncatingIfNeeded: (hi >> 32) & 0xFFFF),
                yPad0: UInt32(truncatingIfNeeded: (hi >> 48) & 0xF), yPad1: UInt32(truncatingIfNeeded: (hi >> 52) & 0xF),
                xPad0: UInt32(truncatingIfNeeded: (hi >> 56) & 0xF), xPad1: UInt32(truncatingIfNeeded: (hi >> 60) & 0xF))
            return w.opcodeBits == 0 ? .load(m) : .store(m)
        case 2:
            let f = gemm
            return .gemm(GemmInstruction(
                deps: deps, resetReg: f.reset.get(w) != 0, loop: loop(f, w),
                wgtFactorOut: UInt32(truncatingIfNeeded: f.extra0.get(w)), wgtFactorIn: UInt32(truncatingIfNeeded: f.extra1.get(w))))
        case 3:
            return .finish(deps)
        case 4:
            let f = alu
            return .alu(AluInstruction(
                deps: deps, resetReg: f.reset.get(w) != 0, loop: loop(f, w),
                aluOpcodeBits: UInt8(truncatingIfNeeded: f.extra0.get(w)), useImm: f.extra1.get(w) != 0,
                imm: Int16(truncatingIfNeeded: f.extra2.get(w))))
        default:
            return .undefined(opcode: w.opcodeBits, word: w)
        }
    }

    @inlinable @inline(__always)
    func loop(_ f: LoopAccess, _ w: InstructionWord) -> LoopFields {
        LoopFields(
            uopBegin: UInt32(truncatingIfNeeded: f.uopBgn.get(w)), uopEnd: UInt32(truncatingIfNeeded: f.uopEnd.get(w)),
            iterOut: UInt32(truncatingIfNeeded: f.iterOut.get(w)), iterIn: UInt32(truncatingIfNeeded: f.iterIn.get(w)),
            dstFactorOut: UInt32(truncatingIfNeeded: f.dstOut.get(w)), dstFactorIn: UInt32(truncatingIfNeeded: f.dstIn.get(w)),
            srcFactorOut: UInt32(truncatingIfNeeded: f.srcOut.get(w)), srcFactorIn: UInt32(truncatingIfNeeded: f.srcIn.get(w)))
    }

    /// Decodes a 32-bit micro-op word (any pattern).
    @inlinable @inline(__always)
    public func decode(uop word: UInt32) -> MicroOp {
        let w = InstructionWord(low: UInt64(word))
        return MicroOp(dst: UInt32(truncatingIfNeeded: uopDst.get(w)), src: UInt32(truncatingIfNeeded: uopSrc.get(w)),
                       wgt: UInt32(truncatingIfNeeded: uopWgt.get(w)))
    }
}
