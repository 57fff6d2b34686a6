import VTA
import VTARuntime

// TVM's VTA runtime API, micro-op kernels (runtime.h, spec §6.4-6.6). A call site owns a slot
// (`*uop_handle`, NULL at first); the first VTAPushGEMMOp/VTAPushALUOp through it stores a token
// there, and each (slot, signature) records its kernel once, through `finit`, and reuses it.

/// Declares a loop level of the kernel being recorded (inside `finit` only, before its first
/// micro-op, at most two).
@_cdecl("VTAUopLoopBegin")
public func VTAUopLoopBegin(_ extent: UInt32, _ dstFactor: UInt32, _ srcFactor: UInt32, _ wgtFactor: UInt32) {
    recording("VTAUopLoopBegin") { r throws(CABIError) in
        r.beginLoop(extent: extent, dstFactor: dstFactor, srcFactor: srcFactor, wgtFactor: wgtFactor)
    }
}

/// Closes a loop level (bookkeeping only, as upstream).
@_cdecl("VTAUopLoopEnd")
public func VTAUopLoopEnd() {
    recording("VTAUopLoopEnd") { r throws(CABIError) in try r.endLoop() }
}

/// Appends a micro-op to the kernel being recorded. `mode` 0 = GEMM, 1 = ALU; the first call
/// fixes the mode, `reset_out` and (ALU) `opcode`, `use_imm`, `imm_val` for the whole kernel.
@_cdecl("VTAUopPush")
public func VTAUopPush(_ mode: UInt32, _ resetOut: UInt32, _ dstIndex: UInt32, _ srcIndex: UInt32, _ wgtIndex: UInt32,
                       _ opcode: UInt32, _ useImm: UInt32, _ immVal: Int32) {
    recording("VTAUopPush") { r throws(CABIError) in
        try r.push(mode: mode, resetOut: resetOut, dst: dstIndex, src: srcIndex, wgt: wgtIndex, opcode: opcode, useImm: useImm, imm: immVal)
    }
}

/// Applies a recording call to this thread's kernel, or reports that there is none.
private func recording(_ function: StaticString, _ body: (inout KernelRecording) throws(CABIError) -> Void) {
    cEntry(function, failure: ()) { () throws(CABIError) in
        let me = currentThread()
        try library.tables.withLock { t throws(CABIError) in
            guard var r = t.recordings[me] else {
                throw .invalidArgument("called outside a kernel recording; only the finit callback of VTAPushGEMMOp or VTAPushALUOp may call it")
            }
            defer { t.recordings[me] = r }
            try body(&r)
        }
    }
}

/// The kernel callback type of `VTAPushGEMMOp` / `VTAPushALUOp`.
public typealias VTAKernelInit = @convention(c) (UnsafeMutableRawPointer?) -> Int32

/// Records (once per call site and signature) and queues a GEMM kernel. Returns 0, or -1 (logged).
@_cdecl("VTAPushGEMMOp")
public func VTAPushGEMMOp(_ uopHandle: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, _ finit: VTAKernelInit?,
                          _ signature: UnsafeMutableRawPointer?, _ nbytes: Int32) -> Int32 {
    cEntry("VTAPushGEMMOp", failure: -1) { () throws(CABIError) -> Int32 in
        try pushKernel(uopHandle, finit, signature, nbytes, alu: false)
        return 0
    }
}

/// Records (once per call site and signature) and queues an ALU kernel. Returns 0, or -1 (logged).
@_cdecl("VTAPushALUOp")
public func VTAPushALUOp(_ uopHandle: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, _ finit: VTAKernelInit?,
                         _ signature: UnsafeMutableRawPointer?, _ nbytes: Int32) -> Int32 {
    cEntry("VTAPushALUOp", failure: -1) { () throws(CABIError) -> Int32 in
        try pushKernel(uopHandle, finit, signature, nbytes, alu: true)
        return 0
    }
}

private func pushKernel(_ uopHandle: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, _ finit: VTAKernelInit?,
                        _ signature: UnsafeMutableRawPointer?, _ nbytes: Int32, alu: Bool) throws(CABIError) {
    guard let uopHandle else { throw .badHandle("uop_handle is NULL; pass the address of a void* slot that starts as NULL") }
    guard let finit else { throw .badHandle("finit is NULL") }
    // Upstream's key: 0 without a signature, else the 32-bit signature plus one.
    let key: Int64
    switch nbytes {
    case 0: key = 0
    case 4:
        guard let signature else { throw .badHandle("signature is NULL but nbytes is 4") }
        key = Int64(signature.loadUnaligned(as: Int32.self)) + 1
    default:
        throw .invalidArgument("nbytes \(nbytes): the signature must be 0 or 4 bytes")
    }
    let me = currentThread()
    let (slot, cached) = try library.tables.withLock { t throws(CABIError) -> (UInt, UopKernel?) in
        let slot: UInt
        if let existing = uopHandle.pointee {
            slot = UInt(bitPattern: existing)
            guard t.kernelSlots[slot] != nil else {
                throw .badHandle("*uop_handle \(hex(slot)) was not filled in by libvta; a call site's slot must start as NULL")
            }
        } else {
            let token = newToken()
            uopHandle.pointee = token
            slot = UInt(bitPattern: token)
            t.kernelSlots[slot] = [:]
        }
        if let k = t.kernelSlots[slot]?[key] { return (slot, k) }
        guard t.recordings[me] == nil else {
            throw .invalidArgument("called from inside another kernel's finit; kernels are recorded one at a time per thread")
        }
        t.recordings[me] = KernelRecording()
        return (slot, nil)
    }
    let kernel: UopKernel
    if let cached {
        kernel = cached
    } else {
        // No libvta lock is held here: finit calls VTAUopLoopBegin/VTAUopPush/VTAUopLoopEnd.
        let status = finit(signature)
        let recorded = library.tables.withLock { $0.recordings.removeValue(forKey: me) }
        guard status == 0 else { throw .invalidArgument("finit returned \(status) (it must return 0); the kernel was not recorded") }
        guard let recorded else { throw .invalidArgument("the kernel recording disappeared while finit ran") }
        kernel = try recorded.makeKernel(config: try library.device().config)
        library.tables.withLock { t in
            if t.kernelSlots[slot]?[key] == nil { t.kernelSlots[slot]?[key] = kernel }
        }
    }
    try library.withQueue { q throws(CABIError) in
        do throws(RuntimeError) {
            if alu { try q.pushALU(kernel) } else { try q.pushGEMM(kernel) }
        } catch {
            throw .runtime(error)
        }
    }
}
