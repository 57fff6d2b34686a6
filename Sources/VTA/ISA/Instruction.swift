/// One 128-bit VTA instruction as raw bits: two little-endian 64-bit words, low word first in memory.
public struct InstructionWord: Sendable, Hashable {
    public var low: UInt64
    public var high: UInt64

    @inlinable public init(low: UInt64 = 0, high: UInt64 = 0) {
        self.low = low
        self.high = high
    }

    /// Reads 16 bytes in memory order. Returns nil unless exactly 16 bytes are given.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == 16 else { return nil }
        var lo: UInt64 = 0, hi: UInt64 = 0
        for (i, b) in bytes.enumerated() {
            if i < 8 { lo |= UInt64(b) << UInt64(8 * i) } else { hi |= UInt64(b) << UInt64(8 * (i - 8)) }
        }
        low = lo
        high = hi
    }

    /// Reads 32 hex characters (memory byte order). Returns nil for anything else.
    public init?(hex: String) {
        guard let bytes = Hex.decode(hex), bytes.count == 16 else { return nil }
        self.init(bytes: bytes)
    }

    /// The 16 bytes in memory order.
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            out[i] = UInt8(truncatingIfNeeded: low >> UInt64(8 * i))
            out[i + 8] = UInt8(truncatingIfNeeded: high >> UInt64(8 * i))
        }
        return out
    }

    /// Lowercase hex of the bytes in memory order.
    public var hex: String { Hex.encode(bytes) }

    /// Bits 0..2.
    @inlinable public var opcodeBits: UInt8 { UInt8(truncatingIfNeeded: low & 7) }
}

/// The task-ISA opcodes (spec §2.2).
public enum Opcode: UInt8, Sendable, CaseIterable {
    case load = 0, store = 1, gemm = 2, finish = 3, alu = 4

    public var name: String {
        switch self {
        case .load: "LOAD"
        case .store: "STORE"
        case .gemm: "GEMM"
        case .finish: "FINISH"
        case .alu: "ALU"
        }
    }
}

/// The on-chip memories a LOAD/STORE names (spec §2.2).
public enum MemoryType: UInt8, Sendable, CaseIterable {
    case uop = 0, wgt = 1, inp = 2, acc = 3, out = 4, acc8Bit = 5

    public var name: String {
        switch self {
        case .uop: "UOP"
        case .wgt: "WGT"
        case .inp: "INP"
        case .acc: "ACC"
        case .out: "OUT"
        case .acc8Bit: "ACC_8BIT"
        }
    }
}

/// ALU operations (spec §2.2). MUL exists in fsim only.
public enum AluOpcode: UInt8, Sendable, CaseIterable {
    case min = 0, max = 1, add = 2, shr = 3, mul = 4

    public var name: String {
        switch self {
        case .min: "MIN"
        case .max: "MAX"
        case .add: "ADD"
        case .shr: "SHR"
        case .mul: "MUL"
        }
    }
}

/// The dependency-token flags of bits 3..6 (spec §2.3).
public struct DependencyFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue & 0xF }

    // Computed and inlinable so hot loops in other modules test a constant bit.
    @inlinable public static var popPrev: DependencyFlags { DependencyFlags(rawValue: 1) }
    @inlinable public static var popNext: DependencyFlags { DependencyFlags(rawValue: 2) }
    @inlinable public static var pushPrev: DependencyFlags { DependencyFlags(rawValue: 4) }
    @inlinable public static var pushNext: DependencyFlags { DependencyFlags(rawValue: 8) }

    /// C names of the set flags, in bit order.
    public var names: [String] {
        var out: [String] = []
        if contains(.popPrev) { out.append("pop_prev") }
        if contains(.popNext) { out.append("pop_next") }
        if contains(.pushPrev) { out.append("push_prev") }
        if contains(.pushNext) { out.append("push_next") }
        return out
    }
}

/// A LOAD or STORE instruction (`VTAMemInsn`).
public struct MemoryInstruction: Sendable, Hashable {
    public var deps: DependencyFlags
    /// Raw memory type bits; see `MemoryType` for the defined values.
    public var memoryTypeBits: UInt8
    public var sramBase: UInt32
    /// DRAM address in elements of the memory type (spec §2.12).
    public var dramBase: UInt32
    public var ySize: UInt32
    public var xSize: UInt32
    public var xStride: UInt32
    public var yPad0: UInt32
    public var yPad1: UInt32
    public var xPad0: UInt32
    public var xPad1: UInt32

    public init(
        deps: DependencyFlags = [], memoryType: MemoryType, sramBase: UInt32 = 0, dramBase: UInt32 = 0,
        ySize: UInt32 = 0, xSize: UInt32 = 0, xStride: UInt32 = 0,
        yPad0: UInt32 = 0, yPad1: UInt32 = 0, xPad0: UInt32 = 0, xPad1: UInt32 = 0
    ) {
        self.init(deps: deps, memoryTypeBits: memoryType.rawValue, sramBase: sramBase, dramBase: dramBase,
                  ySize: ySize, xSize: xSize, xStride: xStride, yPad0: yPad0, yPad1: yPad1, xPad0: xPad0, xPad1: xPad1)
    }

    public init(
        deps: DependencyFlags, memoryTypeBits: UInt8, sramBase: UInt32, dramBase: UInt32,
        ySize: UInt32, xSize: UInt32, xStride: UInt32, yPad0: UInt32, yPad1: UInt32, xPad0: UInt32, xPad1: UInt32
    ) {
        self.deps = deps
        self.memoryTypeBits = memoryTypeBits
        self.sramBase = sramBase
        self.dramBase = dramBase
        self.ySize = ySize
        self.xSize = xSize
        self.xStride = xStride
        self.yPad0 = yPad0
        self.yPad1 = yPad1
        self.xPad0 = xPad0
        self.xPad1 = xPad1
    }

    /// The memory type, or nil for the undefined values 6 and 7.
    public var memoryType: MemoryType? { MemoryType(rawValue: memoryTypeBits) }
}

/// The micro-op loop fields shared by GEMM and ALU.
public struct LoopFields: Sendable, Hashable {
    public var uopBegin: UInt32
    /// Exclusive end of the micro-op range.
    public var uopEnd: UInt32
    public var iterOut: UInt32
    public var iterIn: UInt32
    public var dstFactorOut: UInt32
    public var dstFactorIn: UInt32
    public var srcFactorOut: UInt32
    public var srcFactorIn: UInt32

    public init(uopBegin: UInt32 = 0, uopEnd: UInt32 = 0, iterOut: UInt32 = 1, iterIn: UInt32 = 1,
                dstFactorOut: UInt32 = 0, dstFactorIn: UInt32 = 0, srcFactorOut: UInt32 = 0, srcFactorIn: UInt32 = 0) {
        self.uopBegin = uopBegin
        self.uopEnd = uopEnd
        self.iterOut = iterOut
        self.iterIn = iterIn
        self.dstFactorOut = dstFactorOut
        self.dstFactorIn = dstFactorIn
        self.srcFactorOut = srcFactorOut
        self.srcFactorIn = srcFactorIn
    }

    /// Micro-op executions of the loop nest.
    public var iterations: Int {
        uopEnd > uopBegin ? Int(iterOut) * Int(iterIn) * Int(uopEnd - uopBegin) : 0
    }
}

/// A GEMM instruction (`VTAGemInsn`).
public struct GemmInstruction: Sendable, Hashable {
    public var deps: DependencyFlags
    public var resetReg: Bool
    public var loop: LoopFields
    public var wgtFactorOut: UInt32
    public var wgtFactorIn: UInt32

    public init(deps: DependencyFlags = [], resetReg: Bool = false, loop: LoopFields,
                wgtFactorOut: UInt32 = 0, wgtFactorIn: UInt32 = 0) {
        self.deps = deps
        self.resetReg = resetReg
        self.loop = loop
        self.wgtFactorOut = wgtFactorOut
        self.wgtFactorIn = wgtFactorIn
    }
}

/// An ALU instruction (`VTAAluInsn`).
public struct AluInstruction: Sendable, Hashable {
    public var deps: DependencyFlags
    public var resetReg: Bool
    public var loop: LoopFields
    /// Raw ALU opcode bits; see `AluOpcode` for the defined values.
    public var aluOpcodeBits: UInt8
    public var useImm: Bool
    public var imm: Int16

    public init(deps: DependencyFlags = [], resetReg: Bool = false, loop: LoopFields, aluOpcode: AluOpcode,
                useImm: Bool = false, imm: Int16 = 0) {
        self.init(deps: deps, resetReg: resetReg, loop: loop, aluOpcodeBits: aluOpcode.rawValue, useImm: useImm, imm: imm)
    }

    public init(deps: DependencyFlags, resetReg: Bool, loop: LoopFields, aluOpcodeBits: UInt8, useImm: Bool, imm: Int16) {
        self.deps = deps
        self.resetReg = resetReg
        self.loop = loop
        self.aluOpcodeBits = aluOpcodeBits
        self.useImm = useImm
        self.imm = imm
    }

    public var aluOpcode: AluOpcode? { AluOpcode(rawValue: aluOpcodeBits) }
}

/// A decoded VTA instruction.
public enum Instruction: Sendable, Hashable {
    case load(MemoryInstruction)
    case store(MemoryInstruction)
    case gemm(GemmInstruction)
    case alu(AluInstruction)
    /// FINISH: only its dependency flags have meaning.
    case finish(DependencyFlags)
    /// Opcodes 5–7: kept as raw bits so nothing is lost.
    case undefined(opcode: UInt8, word: InstructionWord)

    public var deps: DependencyFlags {
        switch self {
        case .load(let m), .store(let m): m.deps
        case .gemm(let g): g.deps
        case .alu(let a): a.deps
        case .finish(let d): d
        case .undefined(_, let w): DependencyFlags(rawValue: UInt8(truncatingIfNeeded: w.low >> 3))
        }
    }

    public var opcode: Opcode? {
        switch self {
        case .load: .load
        case .store: .store
        case .gemm: .gemm
        case .alu: .alu
        case .finish: .finish
        case .undefined: nil
        }
    }

    /// The struct view the TVM headers use for this instruction (FINISH uses the GEMM view).
    public static func structKind(forOpcode opcode: UInt8) -> StructKind {
        switch opcode {
        case 0, 1: .memory
        case 4: .alu
        default: .gemm
        }
    }
}

/// A 32-bit micro-op (spec §2.8).
public struct MicroOp: Sendable, Hashable {
    /// Accumulator index (GEMM and ALU destination).
    public var dst: UInt32
    /// Input index (GEMM) or accumulator source index (ALU).
    public var src: UInt32
    /// Weight index (GEMM only).
    public var wgt: UInt32

    @inlinable public init(dst: UInt32, src: UInt32, wgt: UInt32 = 0) {
        self.dst = dst
        self.src = src
        self.wgt = wgt
    }
}

/// Why an instruction or micro-op could not be encoded or decoded.
public enum ISAError: Error, Sendable, Equatable, CustomStringConvertible {
    case fieldOverflow(structName: String, field: String, width: Int, value: Int64, allowed: ClosedRange<Int64>)
    case unknownField(structName: String, field: String, known: [String])
    case unknownStruct(String)
    case badLength(expected: Int, found: Int)
    case badHex(String)

    public var description: String {
        switch self {
        case let .fieldOverflow(s, f, w, v, r):
            return "\(s).\(f) = \(v) does not fit its \(w)-bit field (allowed \(r.lowerBound)...\(r.upperBound))"
        case let .unknownField(s, f, known):
            return "\(s) has no field \"\(f)\"; its fields are \(known.joined(separator: ", "))"
        case let .unknownStruct(s):
            return "unknown struct \"\(s)\"; expected one of \(StructKind.allCases.map(\.rawValue).joined(separator: ", "))"
        case let .badLength(e, f):
            return "expected \(e) hex characters, found \(f)"
        case let .badHex(s):
            return "\"\(s)\" is not hexadecimal"
        }
    }
}
