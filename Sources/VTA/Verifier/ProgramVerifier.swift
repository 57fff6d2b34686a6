/// A range of device memory a program may touch.
public struct DRAMRegion: Sendable, Hashable {
    public let start: UInt64
    /// Exclusive.
    public let end: UInt64
    /// Whether STOREs may write it.
    public let writable: Bool
    public let label: String

    public init(start: UInt64, size: UInt64, writable: Bool, label: String) {
        self.start = start
        self.end = start &+ size
        self.writable = writable
        self.label = label
    }
}

/// Why the verifier refused a program: the instruction (if one is to blame) and the reason.
public struct VerificationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let instruction: Int?
    public let reason: String

    public var description: String {
        if let i = instruction { return "instruction \(i): \(reason)" }
        return reason
    }
}

/// What a verified program does, for accounting.
public struct VerificationSummary: Sendable, Equatable {
    public var instructions = 0
    public var load = 0, compute = 0, store = 0
    public var finishes = 0
}

/// Proves, before anything reaches a device, that an instruction stream is safe to run for a
/// client that owns `regions` (spec §2–4; docs/protocol.md):
///
/// - every opcode, memory type and ALU opcode is defined, and no module gets flags it does not
///   have;
/// - every LOAD and STORE row (including micro-op loads) lies inside one region, and STOREs only
///   write writable regions; no element address wraps past 2^32;
/// - LOAD/STORE SRAM ranges and the loop strides of GEMM/ALU stay within the SRAM depths, and
///   micro-op ranges within the micro-op SRAM (micro-op *contents* are data: the hardware wraps
///   their indices modulo the depth and the simulator traps, so neither reaches other memory);
/// - the token dataflow of the three modules completes with no deadlock and no token left over
///   (left-over tokens would leak into the next job on real hardware), and the last instruction,
///   which must be the last one to execute, is a FINISH.
///
/// It reads raw bits and runs in linear time.
public struct ProgramVerifier: Sendable {
    public let config: HardwareConfig
    /// Longest stream accepted.
    public var maxInstructions: Int = 1 << 21
    private let decoder: InstructionDecoder

    public init(config: HardwareConfig) {
        self.config = config
        self.decoder = config.isa.decoder
    }

    /// Verifies `count` instructions starting at `stream` (16 little-endian bytes each).
    public func verify(_ stream: UnsafeRawBufferPointer, regions: [DRAMRegion],
                       bases: DMABaseAddresses = .zero) throws(VerificationError) -> VerificationSummary {
        guard stream.count % 16 == 0 else {
            throw VerificationError(instruction: nil, reason: "the stream is \(stream.count) bytes, not a whole number of 16-byte instructions")
        }
        let count = stream.count / 16
        guard count > 0 else { throw VerificationError(instruction: nil, reason: "the stream is empty; it must end with FINISH") }
        guard count <= maxInstructions else {
            throw VerificationError(instruction: nil, reason: "\(count) instructions exceed the limit of \(maxInstructions)")
        }
        let sorted = regions.sorted { $0.start < $1.start }
        var summary = VerificationSummary()
        summary.instructions = count
        // Module of each instruction: 0 load, 1 compute, 2 store (routing of spec §4.1).
        var modules = [UInt8](repeating: 0, count: count)
        var deps = [UInt8](repeating: 0, count: count)
        let base = stream.baseAddress!
        for i in 0..<count {
            let w = InstructionWord(low: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 16 * i, as: UInt64.self)),
                                    high: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 16 * i + 8, as: UInt64.self)))
            let module = try check(w, index: i, regions: sorted, bases: bases)
            modules[i] = module
            deps[i] = UInt8(truncatingIfNeeded: (w.low >> 3) & 0xF)
            switch module {
            case 0: summary.load += 1
            case 1: summary.compute += 1
            default: summary.store += 1
            }
            if w.opcodeBits == Opcode.finish.rawValue { summary.finishes += 1 }
        }
        let lastOpcode = UInt8(truncatingIfNeeded: base.loadUnaligned(fromByteOffset: 16 * (count - 1), as: UInt64.self) & 7)
        guard lastOpcode == Opcode.finish.rawValue else {
            throw VerificationError(instruction: count - 1, reason: "the stream must end with FINISH")
        }
        try checkTokens(modules: modules, deps: deps)
        return summary
    }

    /// Verifies an array of words (convenience for tools and tests).
    public func verify(_ words: [InstructionWord], regions: [DRAMRegion], bases: DMABaseAddresses = .zero) throws(VerificationError) -> VerificationSummary {
        var bytes = [UInt8](repeating: 0, count: words.count * 16)
        for (i, w) in words.enumerated() {
            for b in 0..<8 {
                bytes[16 * i + b] = UInt8(truncatingIfNeeded: w.low >> UInt64(8 * b))
                bytes[16 * i + 8 + b] = UInt8(truncatingIfNeeded: w.high >> UInt64(8 * b))
            }
        }
        let result: Result<VerificationSummary, VerificationError> = bytes.withUnsafeBytes { raw in
            do throws(VerificationError) { return .success(try verify(raw, regions: regions, bases: bases)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    // MARK: - One instruction

    private func reject(_ i: Int, _ reason: String) -> VerificationError { VerificationError(instruction: i, reason: reason) }

    /// Checks one instruction; returns its module.
    @inline(__always)
    private func check(_ w: InstructionWord, index i: Int, regions: [DRAMRegion], bases: DMABaseAddresses) throws(VerificationError) -> UInt8 {
        let d = DependencyFlags(rawValue: UInt8(truncatingIfNeeded: w.low >> 3))
        switch w.opcodeBits {
        case 0, 1:
            let m = decoder.decodeMemory(w)
            let isStore = w.opcodeBits == 1
            guard let type = m.memoryType else { throw reject(i, "memory type \(m.memoryTypeBits) is undefined") }
            if isStore {
                if !d.isDisjoint(with: [.popNext, .pushNext]) { throw reject(i, "STORE carries pop_next/push_next, which the store module does not have") }
                if m.xSize == 0 { return 2 }
                guard type == .out else { throw reject(i, "STORE must use memory type OUT (4), not \(type.name)") }
                guard m.yPad0 | m.yPad1 | m.xPad0 | m.xPad1 == 0 else { throw reject(i, "STORE cannot pad") }
                let end = Int(m.sramBase) + Int(m.xSize) * Int(m.ySize)
                guard end <= config.accBuffDepth else {
                    throw reject(i, "STORE reads OUT entries \(m.sramBase)..<\(end), beyond the depth \(config.accBuffDepth)")
                }
                try checkRows(m, elementBytes: config.outElemBytes, base: bases.out, write: true, index: i, regions: regions)
                return 2
            }
            guard type != .out else { throw reject(i, "LOAD cannot target OUT") }
            let loadModule = type == .inp || type == .wgt
            if loadModule && !d.isDisjoint(with: [.popPrev, .pushPrev]) {
                throw reject(i, "a \(type.name) LOAD runs on the load module, which has no pop_prev/push_prev")
            }
            // Padding is written even when x_size is 0 on the hardware, so SRAM bounds always apply.
            let rowLength = Int(m.xPad0) + Int(m.xSize) + Int(m.xPad1)
            let end = Int(m.sramBase) + rowLength * (Int(m.yPad0) + Int(m.ySize) + Int(m.yPad1))
            let depth = config.sramDepth(type)
            guard end <= depth else {
                throw reject(i, "LOAD \(type.name) writes SRAM entries \(m.sramBase)..<\(end), beyond the depth \(depth)")
            }
            let base: UInt64 = switch type {
            case .inp: bases.inp
            case .wgt: bases.wgt
            case .uop: bases.uop
            default: bases.acc
            }
            try checkRows(m, elementBytes: config.dramElementBytes(type), base: base, write: false, index: i, regions: regions)
            return loadModule ? 0 : 1
        case 2:
            let g = decoder.decodeGemm(w)
            try checkLoop(g.loop, wgtOut: g.wgtFactorOut, wgtIn: g.wgtFactorIn, srcDepth: config.inpBuffDepth, gemm: true, index: i)
            return 1
        case 3:
            return 1
        case 4:
            let op = decoder.aluOpcodeBits(w)
            guard op <= AluOpcode.mul.rawValue else { throw reject(i, "ALU opcode \(op) is undefined") }
            let a = decoder.decodeAlu(w)
            try checkLoop(a.loop, wgtOut: 0, wgtIn: 0, srcDepth: config.accBuffDepth, gemm: false, index: i)
            return 1
        default:
            throw reject(i, "opcode \(w.opcodeBits) is undefined")
        }
    }

    private func checkLoop(_ l: LoopFields, wgtOut: UInt32, wgtIn: UInt32, srcDepth: Int, gemm: Bool, index i: Int) throws(VerificationError) {
        guard l.iterations > 0 else { return }
        guard Int(l.uopEnd) <= config.uopBuffDepth else {
            throw reject(i, "micro-op range \(l.uopBegin)..<\(l.uopEnd) is beyond the micro-op SRAM (\(config.uopBuffDepth))")
        }
        func span(_ out: UInt32, _ inner: UInt32) -> Int { Int(l.iterOut - 1) * Int(out) + Int(l.iterIn - 1) * Int(inner) }
        let name = gemm ? "GEMM" : "ALU"
        if span(l.dstFactorOut, l.dstFactorIn) >= config.accBuffDepth {
            throw reject(i, "\(name) loops step the accumulator index past the depth \(config.accBuffDepth)")
        }
        if span(l.srcFactorOut, l.srcFactorIn) >= srcDepth {
            throw reject(i, "\(name) loops step the source index past the depth \(srcDepth)")
        }
        if gemm && span(wgtOut, wgtIn) >= config.wgtBuffDepth {
            throw reject(i, "GEMM loops step the weight index past the depth \(config.wgtBuffDepth)")
        }
    }

    /// Every DRAM row of a transfer must lie inside one region (writable for stores).
    @inline(__always)
    private func checkRows(_ m: MemoryInstruction, elementBytes e: Int, base: UInt64, write: Bool, index i: Int, regions: [DRAMRegion]) throws(VerificationError) {
        guard m.xSize > 0, m.ySize > 0 else { return }
        let e64 = UInt64(e)
        let lastElement = UInt64(m.dramBase) + UInt64(m.ySize - 1) * UInt64(m.xStride) + UInt64(m.xSize)
        guard lastElement <= 1 << 32 else {
            throw reject(i, "the DRAM element index wraps past 2^32 (dram_base \(m.dramBase), \(m.ySize) rows of stride \(m.xStride))")
        }
        let first = base &+ UInt64(m.dramBase) * e64
        let spanEnd = base &+ lastElement * e64
        // Common case: the whole span is inside one region.
        if let r = region(containing: first, end: spanEnd, in: regions) {
            if write && !r.writable { throw reject(i, "STORE writes \(r.label), which is read-only") }
            return
        }
        for y in 0..<UInt64(m.ySize) {
            let start = base &+ (UInt64(m.dramBase) + y * UInt64(m.xStride)) * e64
            let end = start &+ UInt64(m.xSize) * e64
            guard let r = region(containing: start, end: end, in: regions) else {
                throw reject(i, "\(write ? "STORE" : "LOAD") row \(y) touches 0x\(String(start, radix: 16))..<0x\(String(end, radix: 16)), outside every buffer the client owns")
            }
            if write && !r.writable { throw reject(i, "STORE writes \(r.label), which is read-only") }
        }
    }

    @inline(__always)
    private func region(containing start: UInt64, end: UInt64, in regions: [DRAMRegion]) -> DRAMRegion? {
        // Binary search for the last region starting at or before `start`.
        var lo = 0, hi = regions.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if regions[mid].start <= start { lo = mid + 1 } else { hi = mid }
        }
        guard lo > 0 else { return nil }
        let r = regions[lo - 1]
        return end <= r.end && start < r.end ? r : nil
    }

    // MARK: - Tokens

    /// Runs the token protocol abstractly (fsim's order: every module until it blocks, repeat).
    private func checkTokens(modules: [UInt8], deps: [UInt8]) throws(VerificationError) {
        var queues: [[Int32]] = [[], [], []]
        for (i, m) in modules.enumerated() { queues[Int(m)].append(Int32(i)) }
        var heads = [0, 0, 0]
        var l2g = 0, g2l = 0, g2s = 0, s2g = 0
        var last = -1
        var progress = true
        while progress {
            progress = false
            for m in [1, 0, 2] {
                while heads[m] < queues[m].count {
                    let i = Int(queues[m][heads[m]])
                    let d = DependencyFlags(rawValue: deps[i])
                    // Each module sees only its own flags (spec §4.2).
                    let blocked: Bool = switch m {
                    case 0: d.contains(.popNext) && g2l == 0
                    case 1: (d.contains(.popPrev) && l2g == 0) || (d.contains(.popNext) && s2g == 0)
                    default: d.contains(.popPrev) && g2s == 0
                    }
                    if blocked { break }
                    switch m {
                    case 0:
                        if d.contains(.popNext) { g2l -= 1 }
                        if d.contains(.pushNext) { l2g += 1 }
                    case 1:
                        if d.contains(.popPrev) { l2g -= 1 }
                        if d.contains(.popNext) { s2g -= 1 }
                        if d.contains(.pushPrev) { g2l += 1 }
                        if d.contains(.pushNext) { g2s += 1 }
                    default:
                        if d.contains(.popPrev) { g2s -= 1 }
                        if d.contains(.pushPrev) { s2g += 1 }
                    }
                    heads[m] += 1
                    last = i
                    progress = true
                }
            }
        }
        for (m, name) in [(0, "load"), (1, "compute"), (2, "store")] where heads[m] < queues[m].count {
            let i = Int(queues[m][heads[m]])
            throw VerificationError(instruction: i, reason: "deadlock: the \(name) module waits for a token that is never pushed")
        }
        if last != modules.count - 1 {
            throw VerificationError(instruction: last, reason: "instruction \(last) can run after the final FINISH; make FINISH wait for it with tokens")
        }
        let leftovers = [("l2g", l2g), ("g2l", g2l), ("g2s", g2s), ("s2g", s2g)].filter { $0.1 != 0 }
        if !leftovers.isEmpty {
            throw VerificationError(instruction: nil, reason: "tokens left over at the end: "
                + leftovers.map { "\($0.1) in \($0.0)" }.joined(separator: ", ") + " (they would leak into the next job)")
        }
    }
}
