import VTA
import VTARuntime

// TVM's VTA runtime API, the command queue (runtime.h, spec §6.1, 6.3, 6.7): one process-wide
// queue behind the handle VTATLSCommandHandle returns, built on VTARuntime's CommandQueue.

/// The process-wide command handle (created, with its device, on first use), or NULL (logged)
/// if the backend cannot be opened.
@_cdecl("VTATLSCommandHandle")
public func VTATLSCommandHandle() -> UnsafeMutableRawPointer? {
    cEntry("VTATLSCommandHandle", failure: nil) { () throws(CABIError) -> UnsafeMutableRawPointer? in
        try library.withQueue { _ throws(CABIError) in }
        return UnsafeMutableRawPointer(bitPattern: library.commandHandle)
    }
}

/// Destroys the command queue and its staging buffers; the next call that needs the queue
/// builds a new one (with debug flags 0). Buffers and recorded kernels stay valid.
@_cdecl("VTARuntimeShutdown")
public func VTARuntimeShutdown() {
    library.queueSlot.withLock { $0.queue = nil }
    library.debugFlags.store(0, ordering: .relaxed)
}

/// Sets the debug flags (VTA_DEBUG_DUMP_INSN 2, DUMP_UOP 4, SKIP_READ_BARRIER 8,
/// SKIP_WRITE_BARRIER 16, FORCE_SERIAL 32).
@_cdecl("VTASetDebugMode")
public func VTASetDebugMode(_ cmd: UnsafeMutableRawPointer?, _ debugFlag: Int32) {
    cEntry("VTASetDebugMode", failure: ()) { () throws(CABIError) in
        try library.checkCommand(cmd)
        let flags = CommandQueue.DebugFlags(rawValue: Int(debugFlag))
        try library.withQueue { q throws(CABIError) in
            q.debug = flags
            library.debugFlags.store(flags.rawValue, ordering: .relaxed)
        }
    }
}

/// Queues a 2-D load of `x_size` x `y_size` elements (row stride `x_stride`) from a buffer
/// handle at element `src_elem_offset` into SRAM `dst_sram_index` of `dst_memory_type`, with
/// zero padding.
@_cdecl("VTALoadBuffer2D")
public func VTALoadBuffer2D(_ cmd: UnsafeMutableRawPointer?, _ srcDramAddr: UnsafeMutableRawPointer?, _ srcElemOffset: UInt32,
                            _ xSize: UInt32, _ ySize: UInt32, _ xStride: UInt32,
                            _ xPadBefore: UInt32, _ yPadBefore: UInt32, _ xPadAfter: UInt32, _ yPadAfter: UInt32,
                            _ dstSramIndex: UInt32, _ dstMemoryType: UInt32) {
    cEntry("VTALoadBuffer2D", failure: ()) { () throws(CABIError) in
        try library.checkCommand(cmd)
        let memory = try memoryType(dstMemoryType, "dst_memory_type")
        try library.withQueue { q throws(CABIError) in
            let buffer = try library.tables.withLock { t throws(CABIError) in try t.buffer(handle: srcDramAddr, what: "src_dram_addr") }
            try checkElementOffset(srcElemOffset, buffer, memory, q.config, "src_elem_offset")
            do throws(RuntimeError) {
                try q.loadBuffer2D(buffer, elementOffset: Int(srcElemOffset), xSize: Int(clamping: xSize), ySize: Int(clamping: ySize),
                                   xStride: Int(clamping: xStride), xPadBefore: Int(clamping: xPadBefore), yPadBefore: Int(clamping: yPadBefore),
                                   xPadAfter: Int(clamping: xPadAfter), yPadAfter: Int(clamping: yPadAfter),
                                   sramIndex: Int(clamping: dstSramIndex), memory: memory)
            } catch {
                throw .runtime(error)
            }
        }
    }
}

/// Queues a 2-D store of `x_size` x `y_size` elements from SRAM `src_sram_index` (memory type
/// OUT) to a buffer handle at element `dst_elem_offset`, rows `x_stride` elements apart.
@_cdecl("VTAStoreBuffer2D")
public func VTAStoreBuffer2D(_ cmd: UnsafeMutableRawPointer?, _ srcSramIndex: UInt32, _ srcMemoryType: UInt32,
                             _ dstDramAddr: UnsafeMutableRawPointer?, _ dstElemOffset: UInt32,
                             _ xSize: UInt32, _ ySize: UInt32, _ xStride: UInt32) {
    cEntry("VTAStoreBuffer2D", failure: ()) { () throws(CABIError) in
        try library.checkCommand(cmd)
        let memory = try memoryType(srcMemoryType, "src_memory_type")
        try library.withQueue { q throws(CABIError) in
            let buffer = try library.tables.withLock { t throws(CABIError) in try t.buffer(handle: dstDramAddr, what: "dst_dram_addr") }
            try checkElementOffset(dstElemOffset, buffer, .out, q.config, "dst_elem_offset")
            do throws(RuntimeError) {
                try q.storeBuffer2D(sramIndex: Int(clamping: srcSramIndex), memory: memory, buffer, elementOffset: Int(dstElemOffset),
                                    xSize: Int(clamping: xSize), ySize: Int(clamping: ySize), xStride: Int(clamping: xStride))
            } catch {
                throw .runtime(error)
            }
        }
    }
}

private func memoryType(_ raw: UInt32, _ name: String) throws(CABIError) -> MemoryType {
    guard let bits = UInt8(exactly: raw), let m = MemoryType(rawValue: bits) else {
        throw .invalidArgument("\(name) \(raw) is not a memory type (0 UOP, 1 WGT, 2 INP, 3 ACC, 4 OUT, 5 ACC_8BIT)")
    }
    return m
}

/// An element offset that starts past the buffer's end is refused here, before the queue's own
/// range check multiplies it (which must not overflow on 32-bit hosts).
private func checkElementOffset(_ offset: UInt32, _ buffer: any DMABuffer, _ memory: MemoryType, _ config: HardwareConfig, _ name: String) throws(CABIError) {
    let bytes = UInt64(offset) * UInt64(config.dramElementBytes(memory))
    guard bytes <= UInt64(buffer.size) else {
        throw .invalidArgument("\(name) \(offset) is element \(offset) of \(config.dramElementBytes(memory)) bytes, past the end of the \(buffer.size)-byte buffer")
    }
}

/// Pushes a dependency token from stage `from_qid` to its neighbour `to_qid` (1 load,
/// 2 compute, 3 store). Returns 0, or -1 (logged) for an invalid pair.
@_cdecl("VTADepPush")
public func VTADepPush(_ cmd: UnsafeMutableRawPointer?, _ fromQid: Int32, _ toQid: Int32) -> Int32 {
    dependency("VTADepPush", cmd, fromQid, toQid) { q, from, to throws(RuntimeError) in try q.depPush(from: from, to: to) }
}

/// Makes the next instruction of stage `to_qid` wait for a token from `from_qid`. Returns 0, or
/// -1 (logged).
@_cdecl("VTADepPop")
public func VTADepPop(_ cmd: UnsafeMutableRawPointer?, _ fromQid: Int32, _ toQid: Int32) -> Int32 {
    dependency("VTADepPop", cmd, fromQid, toQid) { q, from, to throws(RuntimeError) in try q.depPop(from: from, to: to) }
}

private func dependency(_ function: StaticString, _ cmd: UnsafeMutableRawPointer?, _ fromQid: Int32, _ toQid: Int32,
                        _ body: (CommandQueue, Stage, Stage) throws(RuntimeError) -> Void) -> Int32 {
    cEntry(function, failure: -1) { () throws(CABIError) -> Int32 in
        try library.checkCommand(cmd)
        guard let from = Stage(rawValue: Int(fromQid)) else { throw .invalidArgument("from_qid \(fromQid) is not a queue id (1 load, 2 compute, 3 store)") }
        guard let to = Stage(rawValue: Int(toQid)) else { throw .invalidArgument("to_qid \(toQid) is not a queue id (1 load, 2 compute, 3 store)") }
        try library.withQueue { q throws(CABIError) in
            do throws(RuntimeError) { try body(q, from, to) } catch { throw .runtime(error) }
        }
        return 0
    }
}

/// Finishes the queued program (token round trip and FINISH), runs it and waits up to the time
/// `wait_cycles` stands for (see WaitCycles). A failure is logged and the queued work dropped,
/// so the next batch starts clean.
@_cdecl("VTASynchronize")
public func VTASynchronize(_ cmd: UnsafeMutableRawPointer?, _ waitCycles: UInt32) {
    cEntry("VTASynchronize", failure: ()) { () throws(CABIError) in
        try library.checkCommand(cmd)
        try library.withQueue { q throws(CABIError) in
            do throws(RuntimeError) {
                try q.synchronize(timeout: WaitCycles.timeout(waitCycles))
            } catch {
                q.reset()
                if case .timeout = error {
                    throw .timedOut("\(error.description) (wait_cycles \(waitCycles) = \(WaitCycles.timeout(waitCycles)))")
                }
                throw .runtime(error)
            }
        }
    }
}
