import VTA
import VTARuntime

/// A micro-op kernel as the C calls record it (spec §6.4): loops and micro-ops arrive one call at
/// a time, and the kernel's mode is only known at the first `VTAUopPush`, so the calls are kept
/// and replayed into `UopKernel`'s recorder (which enforces the loop and micro-op rules) when
/// `finit` returns.
struct KernelRecording {
    struct Loop {
        let extent: UInt32, dstFactor: UInt32, srcFactor: UInt32, wgtFactor: UInt32
    }

    struct Uop {
        let dst: UInt32, src: UInt32, wgt: UInt32
    }

    /// What the first `VTAUopPush` fixed; later pushes must agree.
    struct Mode: Equatable {
        let isALU: Bool
        let reset: Bool
        /// ALU only.
        let opcode: AluOpcode?
        let immediate: Int16?
    }

    var loops: [Loop] = []
    var openLoops = 0
    var uops: [Uop] = []
    var mode: Mode?
    /// The first rule a call broke; the kernel is then not built.
    var failure: String?

    mutating func beginLoop(extent: UInt32, dstFactor: UInt32, srcFactor: UInt32, wgtFactor: UInt32) {
        loops.append(Loop(extent: extent, dstFactor: dstFactor, srcFactor: srcFactor, wgtFactor: wgtFactor))
        openLoops += 1
    }

    mutating func endLoop() throws(CABIError) {
        guard openLoops > 0 else { throw fail("VTAUopLoopEnd without a matching VTAUopLoopBegin") }
        openLoops -= 1
    }

    mutating func push(mode rawMode: UInt32, resetOut: UInt32, dst: UInt32, src: UInt32, wgt: UInt32,
                       opcode: UInt32, useImm: UInt32, imm: Int32) throws(CABIError) {
        guard rawMode <= 1 else { throw fail("mode \(rawMode) is neither 0 (GEMM) nor 1 (ALU)") }
        let isALU = rawMode == 1
        var op: AluOpcode?
        var immediate: Int16?
        if isALU {
            guard let bits = UInt8(exactly: opcode), let o = AluOpcode(rawValue: bits) else {
                throw fail("ALU opcode \(opcode) is not one of 0 MIN, 1 MAX, 2 ADD, 3 SHR, 4 MUL")
            }
            op = o
            if useImm != 0 {
                guard let i = Int16(exactly: imm) else { throw fail("imm_val \(imm) does not fit the 16-bit ALU immediate") }
                immediate = i
            }
        }
        let m = Mode(isALU: isALU, reset: resetOut != 0, opcode: op, immediate: immediate)
        if let first = mode, first != m {
            throw fail("micro-op \(uops.count) has \(describe(m)), but the kernel's first micro-op fixed \(describe(first))")
        }
        mode = m
        uops.append(Uop(dst: dst, src: src, wgt: wgt))
    }

    private func describe(_ m: Mode) -> String {
        guard m.isALU, let op = m.opcode else { return "mode GEMM, reset_out \(m.reset ? 1 : 0)" }
        return "mode ALU, opcode \(op.name), " + (m.immediate.map { "immediate \($0)" } ?? "no immediate")
    }

    /// Records the failure (the first one wins) and returns it as the error to throw.
    private mutating func fail(_ message: String) -> CABIError {
        if failure == nil { failure = message }
        return .invalidArgument(message)
    }

    /// The kernel, in `config`'s micro-op encoding.
    func makeKernel(config: HardwareConfig) throws(CABIError) -> UopKernel {
        if let failure { throw .invalidArgument("the kernel was not recorded: \(failure)") }
        guard let mode else { throw .invalidArgument("finit recorded no micro-ops (call VTAUopPush at least once)") }
        let loops = self.loops, uops = self.uops
        // Indices are passed on in full: one that does not fit its field is an error, not truncated.
        func replay(_ r: inout UopKernel.Recorder, dropWeights: Bool) throws {
            for l in loops {
                try r.loop(extent: Int(clamping: l.extent), dstFactor: Int(clamping: l.dstFactor), srcFactor: Int(clamping: l.srcFactor),
                           wgtFactor: dropWeights ? 0 : Int(clamping: l.wgtFactor))
            }
            for u in uops { try r.push(dst: Int(clamping: u.dst), src: Int(clamping: u.src), wgt: Int(clamping: u.wgt)) }
        }
        do {
            if mode.isALU, let op = mode.opcode {
                // Upstream drops the weight factor of ALU loops (ALU micro-ops have no weights).
                return try UopKernel.alu(config: config, op, immediate: mode.immediate) { try replay(&$0, dropWeights: true) }
            }
            return try UopKernel.gemm(config: config, reset: mode.reset) { try replay(&$0, dropWeights: false) }
        } catch {
            throw .runtime(error)
        }
    }
}
