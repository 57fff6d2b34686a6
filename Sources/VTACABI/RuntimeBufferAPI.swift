import VTA
import VTARuntime

#if canImport(Glibc)
import Glibc
#endif

// TVM's VTA runtime API, buffers (runtime.h, spec §6.1-6.2): a buffer handle is an opaque record
// for a block of device memory, not the data pointer (VTABufferCPUPtr gives that).

/// Allocates a device buffer and returns its handle, or NULL (logged).
@_cdecl("VTABufferAlloc")
public func VTABufferAlloc(_ size: Int) -> UnsafeMutableRawPointer? {
    cEntry("VTABufferAlloc", failure: nil) { () throws(CABIError) -> UnsafeMutableRawPointer? in
        try allocate(size: size, handle: true).handle
    }
}

/// Frees a buffer from `VTABufferAlloc`. NULL, unknown and already freed handles are reported
/// and ignored.
@_cdecl("VTABufferFree")
public func VTABufferFree(_ buffer: UnsafeMutableRawPointer?) {
    cEntry("VTABufferFree", failure: ()) { () throws(CABIError) in
        let (device, dma) = try library.tables.withLock { t throws(CABIError) -> (any Device, any DMABuffer) in
            let dma = try t.buffer(handle: buffer, what: "buffer")
            let device = try t.device()
            let h = UInt(bitPattern: buffer)
            if let start = t.bufferHandles.removeValue(forKey: h) { t.allocations[start] = nil }
            return (device, dma)
        }
        buffer?.deallocate()
        do throws(DeviceError) { try device.free(dma) } catch { throw .device(error) }
    }
}

/// Copies `size` bytes between buffers and host memory. `kind_mask` bit 2 (value 2): `from` is
/// a buffer handle; bit 1 (value 1): `to` is a buffer handle; offsets are in bytes. Kind 0 does
/// nothing, as upstream.
@_cdecl("VTABufferCopy")
public func VTABufferCopy(_ from: UnsafeRawPointer?, _ fromOffset: Int, _ to: UnsafeMutableRawPointer?, _ toOffset: Int,
                          _ size: Int, _ kindMask: Int32) {
    cEntry("VTABufferCopy", failure: ()) { () throws(CABIError) in
        guard (0...3).contains(kindMask) else {
            throw .invalidArgument("kind_mask \(kindMask) is not 0..3 (VTA_MEMCPY_H2D 1, VTA_MEMCPY_D2H 2, VTA_MEMCPY_D2D 3)")
        }
        if kindMask == 0 { return }
        guard size >= 0, fromOffset >= 0, toOffset >= 0 else {
            throw .invalidArgument("size \(UInt(bitPattern: size)), from_offset \(UInt(bitPattern: fromOffset)) or to_offset \(UInt(bitPattern: toOffset)) is larger than any buffer")
        }
        let source = try endpoint(from, offset: fromOffset, size: size, isHandle: kindMask & 2 != 0, name: "from")
        let target = try endpoint(to, offset: toOffset, size: size, isHandle: kindMask & 1 != 0, name: "to")
        guard size > 0, let src = source.pointer, let dst = target.pointer else { return }
        do throws(DeviceError) {
            if let b = source.buffer { try b.invalidate(offset: fromOffset, length: size) }
            memmove(dst, src, size)
            // Upstream flushes only for kind 1; the device must see a device-to-device copy too.
            if let b = target.buffer { try b.flush(offset: toOffset, length: size) }
        } catch {
            throw .device(error)
        }
    }
}

/// One side of a copy: a host pointer, or a buffer handle translated to its memory. A NULL host
/// pointer is accepted for an empty copy (handles are always checked).
private func endpoint(_ p: UnsafeRawPointer?, offset: Int, size: Int, isHandle: Bool, name: String) throws(CABIError)
    -> (pointer: UnsafeMutableRawPointer?, buffer: (any DMABuffer)?)
{
    guard isHandle else {
        guard let p else {
            if size == 0 { return (nil, nil) }
            throw .badHandle("\(name) is NULL")
        }
        return (UnsafeMutableRawPointer(mutating: p) + offset, nil)
    }
    let b = try library.tables.withLock { t throws(CABIError) in try t.buffer(handle: p, what: name) }
    guard offset <= b.size, size <= b.size - offset else {
        throw .invalidArgument("\(size) bytes at offset \(offset) run past the end of the \(b.size)-byte buffer \(name)")
    }
    return (b.hostAddress + offset, b)
}

/// The CPU address of a buffer handle; any other pointer is returned unchanged (upstream).
@_cdecl("VTABufferCPUPtr")
public func VTABufferCPUPtr(_ cmd: UnsafeMutableRawPointer?, _ buffer: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    cEntry("VTABufferCPUPtr", failure: nil) { () throws(CABIError) -> UnsafeMutableRawPointer? in
        try library.checkCommand(cmd)
        guard let buffer else { throw .badHandle("buffer is NULL") }
        return library.tables.withLock { t in
            t.bufferHandles[UInt(bitPattern: buffer)].flatMap { t.allocations[$0]?.buffer.hostAddress } ?? buffer
        }
    }
}

/// Makes device writes to elements `[start, start + extent)` of `elem_bits`-bit elements visible
/// to the CPU (invalidate), unless VTA_DEBUG_SKIP_WRITE_BARRIER is set.
@_cdecl("VTAWriteBarrier")
public func VTAWriteBarrier(_ cmd: UnsafeMutableRawPointer?, _ buffer: UnsafeMutableRawPointer?, _ elemBits: UInt32, _ start: UInt32, _ extent: UInt32) {
    barrier("VTAWriteBarrier", cmd, buffer, elemBits, start, extent, skip: .skipWriteBarrier) { b, o, l throws(DeviceError) in
        try b.invalidate(offset: o, length: l)
    }
}

/// Makes CPU writes to the elements visible to the device (flush), unless
/// VTA_DEBUG_SKIP_READ_BARRIER is set.
@_cdecl("VTAReadBarrier")
public func VTAReadBarrier(_ cmd: UnsafeMutableRawPointer?, _ buffer: UnsafeMutableRawPointer?, _ elemBits: UInt32, _ start: UInt32, _ extent: UInt32) {
    barrier("VTAReadBarrier", cmd, buffer, elemBits, start, extent, skip: .skipReadBarrier) { b, o, l throws(DeviceError) in
        try b.flush(offset: o, length: l)
    }
}

private func barrier(_ function: StaticString, _ cmd: UnsafeMutableRawPointer?, _ buffer: UnsafeMutableRawPointer?,
                     _ elemBits: UInt32, _ start: UInt32, _ extent: UInt32, skip: CommandQueue.DebugFlags,
                     _ maintain: (any DMABuffer, Int, Int) throws(DeviceError) -> Void) {
    cEntry(function, failure: ()) { () throws(CABIError) in
        try library.checkCommand(cmd)
        let b = try library.tables.withLock { t throws(CABIError) in try t.buffer(handle: buffer, what: "buffer") }
        let elementBytes = (UInt64(elemBits) + 7) / 8
        let first = elementBytes * UInt64(start), end = elementBytes * (UInt64(start) + UInt64(extent))
        guard end <= UInt64(b.size) else {
            throw .invalidArgument("elements \(start)..<\(UInt64(start) + UInt64(extent)) of \(elemBits) bits are bytes \(first)..<\(end), past the end of the \(b.size)-byte buffer")
        }
        if CommandQueue.DebugFlags(rawValue: library.debugFlags.load(ordering: .relaxed)).contains(skip) { return }
        do throws(DeviceError) { try maintain(b, Int(first), Int(end - first)) } catch { throw .device(error) }
    }
}
