import Foundation
import Testing
import VTA
import VTATestSupport

// Shared helpers for the VTA core tests: locating the shared conformance data, a seeded random
// generator, and an independent model of the packing rule of spec §2.1.

typealias TestData = SharedTestData

extension SharedTestData {
    static let encodingFiles = ["encodings.json", "encodings-2x32_i8w8a32_14_16_19_18.json"]
}

extension RandomNumberGenerator {
    /// A uniformly random value of `width` bits (width <= 32).
    mutating func bits(_ width: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: next() & ((UInt64(1) << UInt64(width)) - 1))
    }
}

/// One field as the spec's packing rule (§2.1) places it; written here independently of the
/// library so that the library's layouts can be checked against it.
struct RefField: Equatable, CustomStringConvertible {
    let name: String
    let offset: Int
    let width: Int
    let signed: Bool
    var description: String { "\(name)@\(offset)/\(width)\(signed ? "s" : "")" }
}

/// Log2 SRAM depths from the JSON keys (spec §1.3 formulas).
struct RefDepths: Equatable {
    let lu, li, lw, la: Int
    init(logBatch: Int = 0, logBlock: Int = 4, logInpWidth: Int = 3, logWgtWidth: Int = 3, logAccWidth: Int = 5,
         logUopBuffSize: Int = 15, logInpBuffSize: Int = 15, logWgtBuffSize: Int = 18, logAccBuffSize: Int = 17) {
        lu = logUopBuffSize - 5 + 3
        li = logInpBuffSize - logBatch - logBlock - logInpWidth + 3
        lw = logWgtBuffSize - logBlock - logBlock - logWgtWidth + 3
        la = logAccBuffSize - logBatch - logBlock - logAccWidth + 3
    }
}

enum RefLayout {
    /// Spec §2.1: declaration order, a field never straddles a `unit`-bit boundary.
    static func pack(_ spec: [(String, Int, Bool)], unit: Int) -> [RefField] {
        var pos = 0
        var out: [RefField] = []
        for (name, width, signed) in spec {
            if pos % unit + width > unit { pos = (pos + unit - 1) / unit * unit }
            out.append(RefField(name: name, offset: pos, width: width, signed: signed))
            pos += width
        }
        return out
    }

    static let header: [(String, Int, Bool)] = [
        ("opcode", 3, false), ("pop_prev_dep", 1, false), ("pop_next_dep", 1, false),
        ("push_prev_dep", 1, false), ("push_next_dep", 1, false),
    ]

    /// Field lists of the four C structs (spec §2.4–2.8), by struct name.
    static func layouts(_ d: RefDepths) -> [String: [RefField]] {
        let loop: [(String, Int, Bool)] = [
            ("reset_reg", 1, false), ("uop_bgn", d.lu, false), ("uop_end", d.lu + 1, false),
            ("iter_out", 14, false), ("iter_in", 14, false),
        ]
        return [
            "VTAMemInsn": pack(header + [
                ("memory_type", 3, false), ("sram_base", 16, false), ("dram_base", 32, false),
                ("y_size", 16, false), ("x_size", 16, false), ("x_stride", 16, false),
                ("y_pad_0", 4, false), ("y_pad_1", 4, false), ("x_pad_0", 4, false), ("x_pad_1", 4, false),
            ], unit: 64),
            "VTAGemInsn": pack(header + loop + [
                ("dst_factor_out", d.la, false), ("dst_factor_in", d.la, false),
                ("src_factor_out", d.li, false), ("src_factor_in", d.li, false),
                ("wgt_factor_out", d.lw, false), ("wgt_factor_in", d.lw, false),
            ], unit: 64),
            "VTAAluInsn": pack(header + loop + [
                ("dst_factor_out", d.la, false), ("dst_factor_in", d.la, false),
                ("src_factor_out", d.la, false), ("src_factor_in", d.la, false),
                ("alu_opcode", 3, false), ("use_imm", 1, false), ("imm", 16, true),
            ], unit: 64),
            "VTAUop": pack([("dst_idx", d.la, false), ("src_idx", max(d.la, d.li), false), ("wgt_idx", d.lw, false)], unit: 32),
        ]
    }

    /// Reads a field straight from the 128 bits (little-endian: bit N is bit N%8 of byte N/8).
    static func extract(_ f: RefField, low: UInt64, high: UInt64) -> Int64 {
        var raw: UInt64 = 0
        for b in 0..<f.width {
            let bit = f.offset + b
            let v = bit < 64 ? (low >> UInt64(bit)) & 1 : (high >> UInt64(bit - 64)) & 1
            raw |= v << UInt64(b)
        }
        if f.signed, (raw >> UInt64(f.width - 1)) & 1 == 1 { return Int64(bitPattern: raw) - (Int64(1) << Int64(f.width)) }
        return Int64(bitPattern: raw)
    }

    /// The library's layout of one struct in the same form.
    static func fromLibrary(_ layout: StructLayout) -> [RefField] {
        layout.fields.map { RefField(name: $0.name, offset: $0.offset, width: $0.width, signed: $0.isSigned) }
    }
}

/// A config built from keys, recording the failure (with the keys) if validation refuses it.
func makeConfig(_ label: String, logBatch: Int = 0, logBlock: Int = 4, logUopBuffSize: Int = 15, logInpBuffSize: Int = 15,
                logWgtBuffSize: Int = 18, logAccBuffSize: Int = 17, target: String = "sim") throws -> HardwareConfig {
    do {
        return try HardwareConfig(target: target, logBatch: logBatch, logBlock: logBlock, logUopBuffSize: logUopBuffSize,
                                  logInpBuffSize: logInpBuffSize, logWgtBuffSize: logWgtBuffSize, logAccBuffSize: logAccBuffSize)
    } catch {
        throw MissingTestData(description: "config \(label) was refused: \(error)")
    }
}

/// Configurations used by the round-trip tests, with the spec-derived depths for each.
struct NamedConfig: Sendable, CustomStringConvertible {
    let name: String
    let logBatch, logBlock, logUop, logInp, logWgt, logAcc: Int
    var description: String { name }
    var depths: RefDepths {
        RefDepths(logBatch: logBatch, logBlock: logBlock, logUopBuffSize: logUop, logInpBuffSize: logInp,
                  logWgtBuffSize: logWgt, logAccBuffSize: logAcc)
    }
    func config() throws -> HardwareConfig {
        try makeConfig(name, logBatch: logBatch, logBlock: logBlock, logUopBuffSize: logUop, logInpBuffSize: logInp,
                       logWgtBuffSize: logWgt, logAccBuffSize: logAcc)
    }

    static let all: [NamedConfig] = [
        NamedConfig(name: "default", logBatch: 0, logBlock: 4, logUop: 15, logInp: 15, logWgt: 18, logAcc: 17),
        NamedConfig(name: "alt 2x32_14_16_19_18", logBatch: 1, logBlock: 5, logUop: 14, logInp: 16, logWgt: 19, logAcc: 18),
        NamedConfig(name: "batch2 block32", logBatch: 1, logBlock: 5, logUop: 15, logInp: 15, logWgt: 18, logAcc: 17),
        NamedConfig(name: "block8 small buffers", logBatch: 0, logBlock: 3, logUop: 15, logInp: 12, logWgt: 14, logAcc: 14),
        NamedConfig(name: "uop buffer 2^13", logBatch: 0, logBlock: 4, logUop: 13, logInp: 15, logWgt: 18, logAcc: 17),
        NamedConfig(name: "block32", logBatch: 0, logBlock: 5, logUop: 15, logInp: 15, logWgt: 18, logAcc: 17),
        NamedConfig(name: "batch2", logBatch: 1, logBlock: 4, logUop: 15, logInp: 15, logWgt: 18, logAcc: 17),
    ]
}
