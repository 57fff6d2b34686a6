import CVTASimKernels
import VTA

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Instruction semantics (spec §3) under the active profile.
extension Simulator {
    /// SRAM a LOAD writes.
    enum LoadTarget {
        case inp, wgt, acc, acc8, uop

        var name: String {
            switch self {
            case .inp: "INP"
            case .wgt: "WGT"
            case .acc, .acc8: "ACC"
            case .uop: "UOP"
            }
        }
    }

    /// Executes one instruction word, decoding only the view its opcode needs.
    @inline(__always)
    func execute(_ word: InstructionWord, index: Int, _ ctx: inout ExecutionContext) throws(SimulationError) {
        switch word.opcodeBits {
        case 0: try load(decoder.decodeMemory(word), index: index, &ctx)
        case 1: try store(decoder.decodeMemory(word), index: index, &ctx)
        case 2: try gemm(decoder.decodeGemm(word), index: index, &ctx)
        case 4: try alu(decoder.decodeAlu(word), index: index, &ctx)
        default: break  // FINISH, and opcodes 5-7 (no effect on the hardware; fsim rejected them)
        }
    }

    // MARK: LOAD

    private func load(_ m: MemoryInstruction, index: Int, _ ctx: inout ExecutionContext) throws(SimulationError) {
        guard let type = m.memoryType else { return }  // hardware: types 6/7 have no effect
        let target: LoadTarget
        let base: UInt64
        switch type {
        case .inp: target = .inp; base = ctx.bases.inp
        case .wgt: target = .wgt; base = ctx.bases.wgt
        case .acc: target = .acc; base = ctx.bases.acc
        case .acc8Bit: target = .acc8; base = ctx.bases.acc
        case .uop: target = .uop; base = ctx.bases.uop
        case .out: return  // hardware: routed to compute, no effect (fsim rejects it earlier)
        }
        let dramBytes = config.dramElementBytes(type)
        let counted = UInt64(m.xSize) * UInt64(m.ySize) * UInt64(target == .acc8 ? config.accElemBytes : dramBytes)

        if profile == .hardware {
            switch target {
            case .acc8:
                return  // the HLS compute module ignores ACC_8BIT loads
            case .uop:
                // 1-D: x_size micro-ops from dram_base; y_size, stride and pads are ignored.
                guard m.xSize > 0 else { return }
                let p = try dma(ctx, base, UInt64(m.dramBase), elementBytes: dramBytes, count: Int(m.xSize), index, "LOAD UOP")
                copyIn(.uop, at: Int(m.sramBase), from: p, count: Int(m.xSize))
                ctx.report.counters.uopLoadNbytes &+= UInt64(m.xSize) * UInt64(dramBytes)
                return
            case .wgt:
                // Pads ignored, rows packed back to back.
                guard m.xSize > 0 else { return }
                var idx = Int(m.sramBase)
                for y in 0..<Int(m.ySize) {
                    let row = UInt64(UInt32(truncatingIfNeeded: UInt64(m.dramBase) &+ UInt64(y) &* UInt64(m.xStride)))
                    let p = try dma(ctx, base, row, elementBytes: dramBytes, count: Int(m.xSize), index, "LOAD WGT")
                    copyIn(.wgt, at: idx, from: p, count: Int(m.xSize))
                    idx += Int(m.xSize)
                }
                ctx.report.counters.wgtLoadNbytes &+= counted
                return
            case .inp, .acc:
                break  // padded 2-D below; runs even with x_size == 0 (padding is still written)
            }
        } else {
            guard m.xSize > 0 else { return }  // fsim: nothing at all, not even padding
            let rowLen = Int(m.xPad0) + Int(m.xSize) + Int(m.xPad1)
            let rows = Int(m.yPad0) + Int(m.ySize) + Int(m.yPad1)
            let depth = config.sramDepth(type)
            if Int(m.sramBase) + rowLen * rows > depth {
                throw .sramOutOfRange(instruction: index, operation: "LOAD \(type.name)", memory: target.name,
                                      index: UInt64(Int(m.sramBase) + rowLen * rows - 1), depth: depth)
            }
        }

        // The padded 2-D load (spec §3.2).
        let rowLen = Int(m.xPad0) + Int(m.xSize) + Int(m.xPad1)
        var idx = Int(m.sramBase)
        zero(target, at: idx, count: Int(m.yPad0) * rowLen)
        idx += Int(m.yPad0) * rowLen
        for y in 0..<Int(m.ySize) {
            zero(target, at: idx, count: Int(m.xPad0))
            idx += Int(m.xPad0)
            if m.xSize > 0 {
                let element = UInt64(m.dramBase) &+ UInt64(y) &* UInt64(m.xStride)
                let row = wraps ? UInt64(UInt32(truncatingIfNeeded: element)) : element
                let p = try dma(ctx, base, row, elementBytes: dramBytes, count: Int(m.xSize), index, "LOAD \(type.name)")
                copyIn(target, at: idx, from: p, count: Int(m.xSize))
                idx += Int(m.xSize)
            }
            zero(target, at: idx, count: Int(m.xPad1))
            idx += Int(m.xPad1)
        }
        zero(target, at: idx, count: Int(m.yPad1) * rowLen)

        switch target {
        case .inp: ctx.report.counters.inpLoadNbytes &+= counted
        case .wgt: ctx.report.counters.wgtLoadNbytes &+= counted
        case .acc, .acc8: ctx.report.counters.accLoadNbytes &+= counted
        case .uop: ctx.report.counters.uopLoadNbytes &+= counted
        }
    }

    /// The host pointer of one DMA row (`count` elements of `elementBytes` at element index
    /// `element` past the port's base register), or an error naming the instruction and range.
    @inline(__always)
    private func dma(_ ctx: ExecutionContext, _ base: UInt64, _ element: UInt64, elementBytes: Int, count: Int,
                     _ index: Int, _ op: @autoclosure () -> String) throws(SimulationError) -> UnsafeMutableRawPointer {
        let (offset, o1) = element.multipliedReportingOverflow(by: UInt64(elementBytes))
        let (start, o2) = base.addingReportingOverflow(offset)
        let length = count * elementBytes
        if !o1 && !o2, let p = ctx.view.pointer(physical: start, length: length) { return p }
        throw .dmaOutOfRange(instruction: index, operation: op(), start: start, end: start &+ UInt64(length))
    }

    // MARK: SRAM writes (indices wrap modulo the power-of-two depth; fsim checked bounds already)

    @inline(__always)
    private func chunks(_ start: Int, _ count: Int, depth: Int, _ body: (Int, Int, Int) -> Void) {
        var remaining = count
        var i = start & (depth - 1)
        var done = 0
        while remaining > 0 {
            let c = min(remaining, depth - i)
            body(i, c, done)
            remaining -= c
            done += c
            i = 0
        }
    }

    private func zero(_ t: LoadTarget, at start: Int, count: Int) {
        guard count > 0 else { return }
        switch t {
        case .inp:
            chunks(start, count, depth: config.inpBuffDepth) { i, c, _ in
                (inp16 + i * inpValues).update(repeating: 0, count: c * inpValues)
            }
        case .wgt:
            chunks(start, count, depth: config.wgtBuffDepth) { i, c, _ in
                (wgt16 + i * wgtValues).update(repeating: 0, count: c * wgtValues)
            }
        case .acc, .acc8:
            chunks(start, count, depth: config.accBuffDepth) { i, c, _ in
                (acc + i * accLanes).update(repeating: 0, count: c * accLanes)
            }
        case .uop:
            chunks(start, count, depth: config.uopBuffDepth) { i, c, _ in
                for p in [uopRaw, uopDst, uopSrc, uopWgt] { (p + i).update(repeating: 0, count: c) }
            }
        }
    }

    private func copyIn(_ t: LoadTarget, at start: Int, from src: UnsafeMutableRawPointer, count: Int) {
        switch t {
        case .inp:
            chunks(start, count, depth: config.inpBuffDepth) { i, c, done in
                vta_convert_inp(inp16 + i * inpValues, (src + done * inpValues).assumingMemoryBound(to: Int8.self), c * inpValues)
            }
        case .wgt:
            chunks(start, count, depth: config.wgtBuffDepth) { i, c, done in
                for e in 0..<c {
                    vta_convert_wgt(wgt16 + (i + e) * wgtValues, (src + (done + e) * wgtValues).assumingMemoryBound(to: Int8.self),
                                    UInt32(config.blockIn), UInt32(config.blockOut))
                }
            }
        case .acc:
            chunks(start, count, depth: config.accBuffDepth) { i, c, done in
                // DRAM is little-endian int32, as is every host VTA runs on.
                memcpy(acc + i * accLanes, src + done * accLanes * 4, c * accLanes * 4)
            }
        case .acc8:
            chunks(start, count, depth: config.accBuffDepth) { i, c, done in
                vta_convert_acc8(acc + i * accLanes, (src + done * accLanes).assumingMemoryBound(to: Int8.self), c * accLanes)
            }
        case .uop:
            let isa = decoder
            chunks(start, count, depth: config.uopBuffDepth) { i, c, done in
                for e in 0..<c {
                    let w = UInt32(littleEndian: (src + (done + e) * 4).loadUnaligned(as: UInt32.self))
                    let u = isa.decode(uop: w)
                    uopRaw[i + e] = w
                    uopDst[i + e] = u.dst
                    uopSrc[i + e] = u.src
                    uopWgt[i + e] = u.wgt
                }
            }
        }
    }

    // MARK: STORE

    private func store(_ m: MemoryInstruction, index: Int, _ ctx: inout ExecutionContext) throws(SimulationError) {
        guard m.xSize > 0 else { return }
        let x = Int(m.xSize), ySize = Int(m.ySize)
        let outBytes = config.outElemBytes
        let depth = config.accBuffDepth
        if !hasOutBuffer, Int(m.sramBase) + x * ySize > depth {
            throw .sramOutOfRange(instruction: index, operation: "STORE", memory: "ACC",
                                  index: UInt64(Int(m.sramBase) + x * ySize - 1), depth: depth)
        }
        for y in 0..<ySize {
            let element = UInt64(m.dramBase) &+ UInt64(y) &* UInt64(m.xStride)
            let row = wraps ? UInt64(UInt32(truncatingIfNeeded: element)) : element
            let p = try dma(ctx, ctx.bases.out, row, elementBytes: outBytes, count: x, index, "STORE")
            let first = Int(m.sramBase) + y * x
            if hasOutBuffer {
                chunks(first, x, depth: depth) { i, c, done in
                    memcpy(p + done * accLanes, out + i * accLanes, c * accLanes)
                }
            } else {
                vta_narrow_acc(p.assumingMemoryBound(to: Int8.self), acc + first * accLanes, x * accLanes)
            }
        }
        ctx.report.counters.outStoreNbytes &+= UInt64(x) * UInt64(ySize) * UInt64(outBytes)
    }

    // MARK: GEMM and ALU

    private func kernelLoop(_ l: LoopFields, wgtOut: UInt32 = 0, wgtIn: UInt32 = 0) -> vta_loop {
        vta_loop(uop_bgn: l.uopBegin, uop_end: l.uopEnd, iter_out: l.iterOut, iter_in: l.iterIn,
                 dst_out: l.dstFactorOut, dst_in: l.dstFactorIn, src_out: l.srcFactorOut, src_in: l.srcFactorIn,
                 wgt_out: wgtOut, wgt_in: wgtIn, base_dst: 0, base_src: 0, base_wgt: 0)
    }

    private func fault(_ f: vta_fault, index: Int, op: String) -> SimulationError {
        if f.kind == Int32(VTA_FAULT_TIMEOUT) { return .timeout(instruction: index, executed: index) }
        let (name, depth): (String, Int) = switch f.kind {
        case Int32(VTA_FAULT_UOP): ("UOP", config.uopBuffDepth)
        case Int32(VTA_FAULT_INP): ("INP", config.inpBuffDepth)
        case Int32(VTA_FAULT_WGT): ("WGT", config.wgtBuffDepth)
        case Int32(VTA_FAULT_SRC): ("ACC (source)", config.accBuffDepth)
        default: ("ACC", config.accBuffDepth)
        }
        return .sramOutOfRange(instruction: index, operation: op, memory: name, index: UInt64(f.index), depth: depth)
    }

    private func gemm(_ g: GemmInstruction, index: Int, _ ctx: inout ExecutionContext) throws(SimulationError) {
        var state = kernel
        state.deadline_ns = ctx.deadline
        var loop = kernelLoop(g.loop, wgtOut: g.wgtFactorOut, wgtIn: g.wgtFactorIn)
        var f = vta_fault()
        if vta_gemm(&state, &loop, g.resetReg ? 1 : 0, wraps ? 1 : 0, &f) != 0 {
            throw fault(f, index: index, op: "GEMM")
        }
        if !g.resetReg {
            let n = UInt64(g.loop.iterations)
            ctx.report.counters.gemmCounter &+= n
            ctx.report.macs &+= n &* UInt64(config.batch * config.blockIn * config.blockOut)
        }
    }

    private func alu(_ a: AluInstruction, index: Int, _ ctx: inout ExecutionContext) throws(SimulationError) {
        var state = kernel
        state.deadline_ns = ctx.deadline
        var loop = kernelLoop(a.loop)
        var f = vta_fault()
        let shrMode = profile == .hardware ? Int32(VTA_SHR_HW5) : Int32(VTA_SHR_FSIM)
        if vta_alu(&state, &loop, Int32(a.aluOpcodeBits), a.useImm ? 1 : 0, Int32(a.imm), shrMode,
                   profile == .hardware ? 1 : 0, wraps ? 1 : 0, &f) != 0 {
            throw fault(f, index: index, op: "ALU")
        }
        let n = UInt64(a.loop.iterations)
        ctx.report.counters.aluCounter &+= n
        ctx.report.aluLaneOps &+= n &* UInt64(accLanes)
    }
}
