/// Where a field sits: which 64-bit half, the shift and the mask. Plain data, so hot paths that
/// read fields never touch reference-counted values.
public struct FieldAccess: Sendable, Hashable {
    /// Bit offset in the 128-bit word and width (fields are at most 32 bits wide and never
    /// straddle bit 64). Two bytes, so decode tables stay in registers and cache.
    public let offset: UInt8
    public let width: UInt8

    @inlinable public init(offset: Int, width: Int) {
        self.offset = UInt8(truncatingIfNeeded: offset)
        self.width = UInt8(truncatingIfNeeded: width)
    }

    @inlinable public var mask: UInt64 { width >= 64 ? ~0 : (1 << UInt64(width)) &- 1 }

    @inlinable @inline(__always)
    public func get(_ w: InstructionWord) -> UInt64 {
        ((offset >= 64 ? w.high : w.low) >> UInt64(offset & 63)) & mask
    }

    @inlinable @inline(__always)
    public func set(_ w: inout InstructionWord, _ value: UInt64) {
        let shift = UInt64(offset & 63)
        let v = (value & mask) << shift
        let clear = ~(mask << shift)
        if offset < 64 { w.low = (w.low & clear) | v } else { w.high = (w.high & clear) | v }
    }
}

/// One bit-field of an instruction or micro-op, with its extraction constants precomputed.
public struct BitField: Sendable, Hashable {
    /// The C struct member name (`opcode`, `pop_prev_dep`, ..., `imm`).
    public let name: String
    /// Offset of the least-significant bit within the whole word.
    public let offset: Int
    public let width: Int
    /// Only the ALU `imm` is signed (two's complement).
    public let isSigned: Bool
    /// Which 64-bit half holds the field (0 = low), and the shift within it.
    public let word: Int
    public let shift: UInt64
    public let mask: UInt64

    init(name: String, offset: Int, width: Int, isSigned: Bool) {
        self.name = name
        self.offset = offset
        self.width = width
        self.isSigned = isSigned
        self.word = offset / 64
        self.shift = UInt64(offset % 64)
        self.mask = width >= 64 ? ~0 : (1 << UInt64(width)) - 1
    }

    public var access: FieldAccess { FieldAccess(offset: offset, width: width) }

    /// Reads the raw (unsigned) field bits.
    public func get(_ w: InstructionWord) -> UInt64 { access.get(w) }

    /// Writes raw bits, which the caller has checked to fit.
    public func set(_ w: inout InstructionWord, _ value: UInt64) { access.set(&w, value) }

    /// The field's value as an integer (sign-extended for signed fields).
    public func value(in w: InstructionWord) -> Int64 {
        let raw = get(w)
        if isSigned && width < 64 && raw >> UInt64(width - 1) & 1 == 1 {
            return Int64(bitPattern: raw | ~mask)
        }
        return Int64(bitPattern: raw)
    }

    /// The range of values `encode` accepts for this field.
    public var allowedRange: ClosedRange<Int64> {
        if isSigned { return -(Int64(1) << (width - 1))...((Int64(1) << (width - 1)) - 1) }
        return 0...Int64(bitPattern: mask)
    }
}

/// The four instruction/micro-op views of the ISA, named as the C structs are.
public enum StructKind: String, Sendable, Hashable, CaseIterable {
    case memory = "VTAMemInsn"
    case gemm = "VTAGemInsn"
    case alu = "VTAAluInsn"
    case uop = "VTAUop"
}

/// The bit layout of one struct view, computed with the packing rule of spec §2.1.
public struct StructLayout: Sendable, Hashable {
    public let kind: StructKind
    public let fields: [BitField]
    /// The fields' positions, in the same order (for hot paths).
    public let access: [FieldAccess]
    /// Bits occupied after rounding up to whole storage units.
    public let sizeInBits: Int

    /// Lays out fields in declaration order; a field never straddles a `unit`-bit boundary.
    init(kind: StructKind, unit: Int, fields spec: [(String, Int, Bool)]) {
        var pos = 0
        var out: [BitField] = []
        out.reserveCapacity(spec.count)
        for (name, width, signed) in spec {
            if (pos % unit) + width > unit { pos = (pos + unit - 1) / unit * unit }
            out.append(BitField(name: name, offset: pos, width: width, isSigned: signed))
            pos += width
        }
        self.kind = kind
        self.fields = out
        self.access = out.map(\.access)
        self.sizeInBits = (pos + unit - 1) / unit * unit
    }

    /// The field with a C member name, if any.
    public func field(named name: String) -> BitField? { fields.first { $0.name == name } }

    public var fieldNames: [String] { fields.map(\.name) }

    /// Decodes every field, in declaration order. Accepts any bit pattern.
    public func decode(_ w: InstructionWord) -> [(String, Int64)] {
        fields.map { ($0.name, $0.value(in: w)) }
    }

    /// Encodes named field values; missing fields are zero.
    ///
    /// - Throws: `ISAError.unknownField` for a name the struct does not have, and
    ///   `ISAError.fieldOverflow` for a value that does not fit (no silent truncation).
    public func encode(_ values: [(String, Int64)]) throws(ISAError) -> InstructionWord {
        var w = InstructionWord()
        for (name, value) in values {
            guard let f = field(named: name) else {
                throw .unknownField(structName: kind.rawValue, field: name, known: fieldNames)
            }
            guard f.allowedRange.contains(value) else {
                throw .fieldOverflow(structName: kind.rawValue, field: name, width: f.width, value: value, allowed: f.allowedRange)
            }
            f.set(&w, UInt64(bitPattern: value))
        }
        return w
    }

    /// The layout as JSON (`[{field, bit_offset, width, signed}]`), the conformance files' form.
    public var json: JSONValue {
        .array(fields.map {
            .object([("field", .string($0.name)), ("bit_offset", .int(Int64($0.offset))),
                     ("width", .int(Int64($0.width))), ("signed", .bool($0.isSigned))])
        })
    }
}

/// Bit layouts of all four views for one configuration.
public struct ISALayout: Sendable, Hashable {
    public let memory: StructLayout
    public let gemm: StructLayout
    public let alu: StructLayout
    public let uop: StructLayout

    /// The decoder for this layout: plain data, cheap to copy into hot loops.
    public let decoder: InstructionDecoder


    /// Field indices shared by the typed encoders (declaration order of the C structs).
    @usableFromInline enum Index {
        static let opcode = 0, popPrev = 1, popNext = 2, pushPrev = 3, pushNext = 4
        // memory
        static let memoryType = 5, sramBase = 6, dramBase = 7, ySize = 8, xSize = 9, xStride = 10
        static let yPad0 = 11, yPad1 = 12, xPad0 = 13, xPad1 = 14
        // gemm / alu
        static let resetReg = 5, uopBgn = 6, uopEnd = 7, iterOut = 8, iterIn = 9
        static let dstFactorOut = 10, dstFactorIn = 11, srcFactorOut = 12, srcFactorIn = 13
        static let wgtFactorOut = 14, wgtFactorIn = 15
        static let aluOpcode = 14, useImm = 15, imm = 16
        // uop
        static let dst = 0, src = 1, wgt = 2
    }

    /// Computes the layouts from the log2 SRAM depths (uop, inp, wgt, acc).
    ///
    /// - Throws: `ConfigError.notEncodable` when an instruction needs more than 128 bits or a
    ///   micro-op more than 32 (spec §1.5).
    public init(logUopDepth lu: Int, logInpDepth li: Int, logWgtDepth lw: Int, logAccDepth la: Int) throws(ConfigError) {
        self.init(computing: lu, li, lw, la)
        if let error = encodabilityError { throw error }
    }

    /// Why this layout cannot be used (an instruction over 128 bits or a micro-op over 32), or nil.
    public var encodabilityError: ConfigError? {
        let lu = gemm.fields[6].width, la = uop.fields[0].width, lw = uop.fields[2].width
        let li = gemm.fields[12].width
        if gemm.sizeInBits > 128 || alu.sizeInBits > 128 {
            let which = gemm.sizeInBits > 128 ? gemm : alu
            return .notEncodable(
                keys: ["LOG_UOP_BUFF_SIZE", "LOG_INP_BUFF_SIZE", "LOG_WGT_BUFF_SIZE", "LOG_ACC_BUFF_SIZE"],
                reason: "the \(which.kind.rawValue) instruction would need \(which.sizeInBits) bits but VTA instructions are 128 bits "
                    + "(log2 depths uop=\(lu) inp=\(li) wgt=\(lw) acc=\(la); allowed when uop <= 13, "
                    + "2*acc + 2*inp + 2*wgt <= 64 and acc <= 11)")
        }
        if uop.sizeInBits > 32 {
            return .notEncodable(
                keys: ["LOG_INP_BUFF_SIZE", "LOG_WGT_BUFF_SIZE", "LOG_ACC_BUFF_SIZE"],
                reason: "a micro-op would need \(uop.sizeInBits) bits but VTA micro-ops are 32 bits "
                    + "(acc + max(acc, inp) + wgt = \(la) + \(max(la, li)) + \(lw) must be <= 32)")
        }
        return nil
    }

    /// Lays the structs out without judging the result (see `encodabilityError`). Negative
    /// depths, which validation rejects, are treated as 0 so that computing never traps.
    init(computing luIn: Int, _ liIn: Int, _ lwIn: Int, _ laIn: Int) {
        let lu = max(0, luIn), li = max(0, liIn), lw = max(0, lwIn), la = max(0, laIn)
        let header: [(String, Int, Bool)] = [
            ("opcode", 3, false), ("pop_prev_dep", 1, false), ("pop_next_dep", 1, false),
            ("push_prev_dep", 1, false), ("push_next_dep", 1, false),
        ]
        memory = StructLayout(kind: .memory, unit: 64, fields: header + [
            ("memory_type", 3, false), ("sram_base", 16, false), ("dram_base", 32, false),
            ("y_size", 16, false), ("x_size", 16, false), ("x_stride", 16, false),
            ("y_pad_0", 4, false), ("y_pad_1", 4, false), ("x_pad_0", 4, false), ("x_pad_1", 4, false),
        ])
        let loop: [(String, Int, Bool)] = [
            ("reset_reg", 1, false), ("uop_bgn", lu, false), ("uop_end", lu + 1, false),
            ("iter_out", 14, false), ("iter_in", 14, false),
        ]
        gemm = StructLayout(kind: .gemm, unit: 64, fields: header + loop + [
            ("dst_factor_out", la, false), ("dst_factor_in", la, false),
            ("src_factor_out", li, false), ("src_factor_in", li, false),
            ("wgt_factor_out", lw, false), ("wgt_factor_in", lw, false),
        ])
        alu = StructLayout(kind: .alu, unit: 64, fields: header + loop + [
            ("dst_factor_out", la, false), ("dst_factor_in", la, false),
            ("src_factor_out", la, false), ("src_factor_in", la, false),
            ("alu_opcode", 3, false), ("use_imm", 1, false), ("imm", 16, true),
        ])
        uop = StructLayout(kind: .uop, unit: 32, fields: [
            ("dst_idx", la, false), ("src_idx", max(la, li), false), ("wgt_idx", lw, false),
        ])
        decoder = InstructionDecoder(gemm: gemm.access, alu: alu.access, uop: uop.access)
    }

    /// The layout of a struct view.
    public func layout(_ kind: StructKind) -> StructLayout {
        switch kind {
        case .memory: return memory
        case .gemm: return gemm
        case .alu: return alu
        case .uop: return uop
        }
    }

    public var json: JSONValue {
        .object(StructKind.allCases.map { ($0.rawValue, layout($0).json) })
    }
}

/// Decodes instructions and micro-ops of one configuration. Holds only field positions (no
/// arrays, no strings), so hot loops can keep it in registers: copying an `ISALayout` retains
/// several arrays, which costs more than decoding.
public struct InstructionDecoder: Sendable, Hashable {
    /// The loop-instruction fields; `extra0..2` are the GEMM weight factors, or the ALU opcode,
    /// use_imm and imm.
    @usableFromInline struct LoopAccess: Sendable, Hashable {
        @usableFromInline let reset, uopBgn, uopEnd, iterOut, iterIn, dstOut, dstIn, srcOut, srcIn: FieldAccess
        @usableFromInline let extra0, extra1, extra2: FieldAccess
        init(_ a: [FieldAccess]) {
            reset = a[5]; uopBgn = a[6]; uopEnd = a[7]; iterOut = a[8]; iterIn = a[9]
            dstOut = a[10]; dstIn = a[11]; srcOut = a[12]; srcIn = a[13]
            extra0 = a[14]; extra1 = a[15]; extra2 = a.count > 16 ? a[16] : a[15]
        }
    }

    @usableFromInline let gemm: LoopAccess
    @usableFromInline let alu: LoopAccess
    @usableFromInline let uopDst, uopSrc, uopWgt: FieldAccess

    init(gemm: [FieldAccess], alu: [FieldAccess], uop: [FieldAccess]) {
        self.gemm = LoopAccess(gemm)
        self.alu = LoopAccess(alu)
        uopDst = uop[0]
        uopSrc = uop[1]
        uopWgt = uop[2]
    }
}
