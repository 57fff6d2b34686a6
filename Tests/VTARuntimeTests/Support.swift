import Synchronization
import Testing
import VTATestSupport
import VTA
import VTARuntime
import VTASimulator

// Shared helpers for the runtime tests: configurations, seeded randomness, a recording test
// double of `Device`, and an instruction decoder written from spec §2.1–2.8 (independent of the
// library's codec), so expected streams are checked against the spec's bit layout.

// MARK: - Configurations

enum Configs {
    /// The stock `1x16_i8w8a32_15_15_18_17`.
    static let standard = HardwareConfig.standard
    /// The shared conformance data's alternate configuration: 2x32, LOG_UOP_BUFF_SIZE 14,
    /// INP 16, WGT 19, ACC 18 (LU = 12, LI = 10, LW = 9, LA = 10).
    static let alt: HardwareConfig = {
        guard let c = try? HardwareConfig(logBatch: 1, logBlock: 5, logUopBuffSize: 14, logInpBuffSize: 16,
                                          logWgtBuffSize: 19, logAccBuffSize: 18) else {
            fatalError("the 2x32_i8w8a32_14_16_19_18 configuration failed validation")
        }
        return c
    }()
    /// batch2 of spec §1.4 (2x16, stock buffer sizes).
    static let batch2: HardwareConfig = {
        guard let c = try? HardwareConfig(logBatch: 1) else { fatalError("batch2 configuration failed validation") }
        return c
    }()
    /// block32 of spec §1.4 (1x32, stock buffer sizes).
    static let block32: HardwareConfig = {
        guard let c = try? HardwareConfig(logBlock: 5) else { fatalError("block32 configuration failed validation") }
        return c
    }()
}

/// A named (configuration, profile) pair for parameterised tests.
struct Target: Sendable, CustomTestStringConvertible {
    let config: HardwareConfig
    let profile: SimulatorProfile
    var testDescription: String { "\(config.bitstreamName) \(profile.rawValue)" }

    static let standardBoth = [Target(config: Configs.standard, profile: .fsim), Target(config: Configs.standard, profile: .hardware)]
    static let altBoth = [Target(config: Configs.alt, profile: .fsim), Target(config: Configs.alt, profile: .hardware)]
}

func makeRuntime(_ config: HardwareConfig = Configs.standard, _ profile: SimulatorProfile = .fsim) throws -> Runtime {
    try Runtime.open(.simulator(profile: profile), config: config)
}

// MARK: - Randomness

/// Ranged draws on the shared SplitMix64 (VTATestSupport).
extension SplitMix64 {
    mutating func int8s(_ n: Int, in range: ClosedRange<Int>) -> [Int8] { (0..<n).map { _ in Int8(int(range)) } }
    mutating func int32s(_ n: Int, in range: ClosedRange<Int>) -> [Int32] { (0..<n).map { _ in Int32(int(range)) } }
}

// MARK: - Independent tiling (spec §2.12, §8.1 packing helper)

/// Tiles a row-major `rows` x `cols` matrix into `tr` x `tc` blocks: blocks in row-major order over
/// (block-row, block-column), each block row-major. Written from the spec, independently of
/// `TensorLayout`; rows and cols must be multiples of the tile shape.
func specTile<T>(_ v: [T], rows: Int, cols: Int, tr: Int, tc: Int) -> [T] {
    precondition(rows % tr == 0 && cols % tc == 0 && v.count == rows * cols)
    var out: [T] = []
    out.reserveCapacity(v.count)
    for br in 0..<(rows / tr) {
        for bc in 0..<(cols / tc) {
            for r in 0..<tr {
                for c in 0..<tc { out.append(v[(br * tr + r) * cols + bc * tc + c]) }
            }
        }
    }
    return out
}

/// The inverse of `specTile`.
func specUntile<T>(_ t: [T], rows: Int, cols: Int, tr: Int, tc: Int) -> [T] {
    precondition(rows % tr == 0 && cols % tc == 0 && t.count == rows * cols)
    var out = t
    var i = 0
    for br in 0..<(rows / tr) {
        for bc in 0..<(cols / tc) {
            for r in 0..<tr {
                for c in 0..<tc {
                    out[(br * tr + r) * cols + bc * tc + c] = t[i]
                    i += 1
                }
            }
        }
    }
    return out
}

// MARK: - Buffers

extension Runtime {
    /// Allocates a buffer and fills it with `values`.
    func buffer<T: BitwiseCopyable>(_ values: [T], label: String, minBytes: Int = 1) throws -> any DMABuffer {
        let b = try allocate(bytes: max(minBytes, values.count * MemoryLayout<T>.stride, 1), label: label)
        try b.write(values)
        return b
    }
}

// MARK: - A recording test double of Device

/// Wraps a `SimulatorDevice`, records every instruction stream it is asked to run (read from
/// simulated DRAM at `run` time, i.e. exactly what the accelerator fetches), plus the micro-ops
/// each LOAD UOP of the stream points at, then forwards the run.
final class RecordingDevice: Device {
    struct Run: Sendable {
        var words: [InstructionWord]
        /// For each stream index holding a LOAD UOP with x_size > 0: the micro-op words at its dram_base.
        var uopLoads: [Int: [UInt32]]
    }

    let inner: SimulatorDevice
    private let runs = Mutex<[Run]>([])

    init(config: HardwareConfig = Configs.standard, profile: SimulatorProfile = .fsim) throws {
        inner = try SimulatorDevice(config: config, profile: profile)
    }

    var config: HardwareConfig { inner.config }
    var name: String { "recording " + inner.name }
    var recorded: [Run] { runs.withLock { $0 } }

    func allocate(bytes: Int, alignment: Int, label: String) throws(DeviceError) -> any DMABuffer {
        try inner.allocate(bytes: bytes, alignment: alignment, label: label)
    }

    func free(_ buffer: any DMABuffer) throws(DeviceError) { try inner.free(buffer) }

    func run(instructionsAt address: UInt64, count: Int, timeout: Duration) throws(DeviceError) -> RunReport {
        var run = Run(words: [], uopLoads: [:])
        if let p = inner.memory.pointer(physical: address, length: count * 16) {
            for i in 0..<count {
                var bytes = [UInt8](repeating: 0, count: 16)
                for b in 0..<16 { bytes[b] = p.load(fromByteOffset: i * 16 + b, as: UInt8.self) }
                guard let w = InstructionWord(bytes: bytes) else { continue }
                run.words.append(w)
                let d = SpecInsn(w)
                if d.kind == .load, d["memory_type"] == 0, d["x_size"] > 0 {
                    let n = Int(d["x_size"])
                    if let u = inner.memory.pointer(physical: UInt64(d["dram_base"]) * 4, length: n * 4) {
                        run.uopLoads[i] = (0..<n).map { UInt32(littleEndian: u.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) }
                    }
                }
            }
        }
        runs.withLock { $0.append(run) }
        return try inner.run(instructionsAt: address, count: count, timeout: timeout)
    }
}

// MARK: - Spec decoder (§2.1 packing rule, §2.3–2.8 field lists)

/// Field offsets generated with the packing algorithm of spec §2.1 for given LOG depths.
struct SpecLayout: Sendable {
    typealias Field = (name: String, offset: Int, width: Int)
    let memory: [Field]
    let gemm: [Field]
    let alu: [Field]
    let uop: [Field]

    static func pack(_ fields: [(String, Int)], unit: Int) -> [Field] {
        var pos = 0
        var out: [Field] = []
        for (name, w) in fields {
            if (pos % unit) + w > unit { pos = (pos + unit - 1) / unit * unit }
            out.append((name, pos, w))
            pos += w
        }
        return out
    }

    init(lu: Int = 13, li: Int = 11, lw: Int = 10, la: Int = 11) {
        let header = [("opcode", 3), ("pop_prev", 1), ("pop_next", 1), ("push_prev", 1), ("push_next", 1)]
        memory = Self.pack(header + [("memory_type", 3), ("sram_base", 16), ("dram_base", 32), ("y_size", 16),
                                     ("x_size", 16), ("x_stride", 16), ("y_pad_0", 4), ("y_pad_1", 4),
                                     ("x_pad_0", 4), ("x_pad_1", 4)], unit: 64)
        let loop = [("reset", 1), ("uop_bgn", lu), ("uop_end", lu + 1), ("iter_out", 14), ("iter_in", 14)]
        gemm = Self.pack(header + loop + [("dst_factor_out", la), ("dst_factor_in", la), ("src_factor_out", li),
                                          ("src_factor_in", li), ("wgt_factor_out", lw), ("wgt_factor_in", lw)], unit: 64)
        alu = Self.pack(header + loop + [("dst_factor_out", la), ("dst_factor_in", la), ("src_factor_out", la),
                                         ("src_factor_in", la), ("alu_opcode", 3), ("use_imm", 1), ("imm", 16)], unit: 64)
        uop = Self.pack([("dst", la), ("src", max(la, li)), ("wgt", lw)], unit: 32)
    }

    init(_ c: HardwareConfig) {
        self.init(lu: c.logUopBuffDepth, li: c.logInpBuffDepth, lw: c.logWgtBuffDepth, la: c.logAccBuffDepth)
    }

    static let standard = SpecLayout()

    static func get(_ w: InstructionWord, _ offset: Int, _ width: Int) -> UInt64 {
        let word = offset < 64 ? w.low : w.high
        let mask: UInt64 = width >= 64 ? ~0 : (1 << UInt64(width)) - 1
        return (word >> UInt64(offset % 64)) & mask
    }

    func decode(uop: UInt32) -> (dst: Int, src: Int, wgt: Int) {
        func f(_ i: Int) -> Int { Int((uop >> UInt32(self.uop[i].offset)) & ((1 << UInt32(self.uop[i].width)) - 1)) }
        return (f(0), f(1), f(2))
    }

    func encode(uop dst: Int, _ src: Int, _ wgt: Int) -> UInt32 {
        UInt32(dst) << UInt32(uop[0].offset) | UInt32(src) << UInt32(uop[1].offset) | UInt32(wgt) << UInt32(uop[2].offset)
    }
}

/// One instruction decoded with `SpecLayout`: its kind and every field (FINISH keeps only its
/// header, per §2.7). Subscripting an absent field gives 0.
struct SpecInsn: Equatable, CustomStringConvertible {
    enum Kind: String { case load = "LOAD", store = "STORE", gemm = "GEMM", finish = "FINISH", alu = "ALU", undefined = "UNDEF" }
    var kind: Kind
    var fields: [String: Int64]

    subscript(_ name: String) -> Int64 { fields[name] ?? 0 }

    init(kind: Kind, _ fields: [String: Int64]) {
        self.kind = kind
        self.fields = fields.filter { $0.value != 0 }
    }

    init(_ w: InstructionWord, layout: SpecLayout = .standard) {
        let op = SpecLayout.get(w, 0, 3)
        let fieldList: [SpecLayout.Field]
        switch op {
        case 0: kind = .load; fieldList = layout.memory
        case 1: kind = .store; fieldList = layout.memory
        case 2: kind = .gemm; fieldList = layout.gemm
        case 3: kind = .finish; fieldList = Array(layout.gemm.prefix(5))
        case 4: kind = .alu; fieldList = layout.alu
        default: kind = .undefined; fieldList = []
        }
        var f: [String: Int64] = [:]
        for (name, offset, width) in fieldList where name != "opcode" {
            var v = Int64(SpecLayout.get(w, offset, width))
            if name == "imm" && v >= 1 << 15 { v -= 1 << 16 }
            if v != 0 { f[name] = v }
        }
        fields = f
    }

    /// The same view built from the library's decoded `Instruction` (for `queuedInstructions`).
    init(_ i: Instruction) {
        var f: [String: Int64] = [:]
        let k: Kind
        let d = i.deps
        f["pop_prev"] = d.contains(.popPrev) ? 1 : 0
        f["pop_next"] = d.contains(.popNext) ? 1 : 0
        f["push_prev"] = d.contains(.pushPrev) ? 1 : 0
        f["push_next"] = d.contains(.pushNext) ? 1 : 0
        func loop(_ l: LoopFields, _ reset: Bool) {
            f["reset"] = reset ? 1 : 0
            f["uop_bgn"] = Int64(l.uopBegin); f["uop_end"] = Int64(l.uopEnd)
            f["iter_out"] = Int64(l.iterOut); f["iter_in"] = Int64(l.iterIn)
            f["dst_factor_out"] = Int64(l.dstFactorOut); f["dst_factor_in"] = Int64(l.dstFactorIn)
            f["src_factor_out"] = Int64(l.srcFactorOut); f["src_factor_in"] = Int64(l.srcFactorIn)
        }
        switch i {
        case .load(let m), .store(let m):
            k = if case .load = i { .load } else { .store }
            f["memory_type"] = Int64(m.memoryTypeBits); f["sram_base"] = Int64(m.sramBase); f["dram_base"] = Int64(m.dramBase)
            f["y_size"] = Int64(m.ySize); f["x_size"] = Int64(m.xSize); f["x_stride"] = Int64(m.xStride)
            f["y_pad_0"] = Int64(m.yPad0); f["y_pad_1"] = Int64(m.yPad1); f["x_pad_0"] = Int64(m.xPad0); f["x_pad_1"] = Int64(m.xPad1)
        case .gemm(let g):
            k = .gemm
            loop(g.loop, g.resetReg)
            f["wgt_factor_out"] = Int64(g.wgtFactorOut); f["wgt_factor_in"] = Int64(g.wgtFactorIn)
        case .alu(let a):
            k = .alu
            loop(a.loop, a.resetReg)
            f["alu_opcode"] = Int64(a.aluOpcodeBits); f["use_imm"] = a.useImm ? 1 : 0; f["imm"] = Int64(a.imm)
        case .finish:
            k = .finish
        case .undefined:
            k = .undefined
        }
        self.init(kind: k, f)
    }

    var description: String {
        kind.rawValue + " " + fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}

/// Builders for expected instructions, spelled with the spec's field names.
enum Expect {
    static func deps(_ names: [String]) -> [String: Int64] {
        Dictionary(uniqueKeysWithValues: names.map { ($0, Int64(1)) })
    }

    static func load(_ type: Int64, _ deps: [String] = [], _ f: [String: Int64] = [:]) -> SpecInsn {
        SpecInsn(kind: .load, Self.deps(deps).merging(f) { $1 }.merging(["memory_type": type]) { $1 })
    }

    static func store(_ type: Int64, _ deps: [String] = [], _ f: [String: Int64] = [:]) -> SpecInsn {
        SpecInsn(kind: .store, Self.deps(deps).merging(f) { $1 }.merging(["memory_type": type]) { $1 })
    }

    static func gemm(_ deps: [String] = [], _ f: [String: Int64]) -> SpecInsn {
        SpecInsn(kind: .gemm, Self.deps(deps).merging(f) { $1 })
    }

    static func alu(_ deps: [String] = [], _ f: [String: Int64]) -> SpecInsn {
        SpecInsn(kind: .alu, Self.deps(deps).merging(f) { $1 })
    }

    static let finish = SpecInsn(kind: .finish, [:])

    // Memory type values (spec §2.2).
    static let uop: Int64 = 0, wgt: Int64 = 1, inp: Int64 = 2, acc: Int64 = 3, out: Int64 = 4
}

/// Compares two streams instruction by instruction, reporting each difference with its index.
func expectStream(_ actual: [SpecInsn], _ expected: [SpecInsn], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "stream has \(actual.count) instructions, expected \(expected.count)",
            sourceLocation: sourceLocation)
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        #expect(a == e, "instruction \(i): got \(a), expected \(e)", sourceLocation: sourceLocation)
    }
}

// MARK: - ACC/OUT helpers

/// Reads int8 OUT data back from a buffer.
func readInt8(_ b: any DMABuffer, count: Int) throws -> [Int8] { try b.read(Int8.self, count: count) }

// MARK: - Errors

/// The `RuntimeError` a call throws, or nil if it succeeds (or throws something else).
func runtimeError(_ body: () throws -> Void) -> RuntimeError? {
    do {
        try body()
        return nil
    } catch let e as RuntimeError {
        return e
    } catch {
        Issue.record("expected a RuntimeError, got \(type(of: error)): \(error)")
        return nil
    }
}

/// How many positions differ (plus the length difference), so large mismatches report a count
/// rather than two whole arrays.
func mismatches<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
    zip(a, b).filter { $0 != $1 }.count + abs(a.count - b.count)
}
