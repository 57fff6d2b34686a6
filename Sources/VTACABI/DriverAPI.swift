import VTA

#if canImport(Glibc)
import Glibc
#endif

// TVM's VTA driver API (driver.h, spec §7.1) on the device libvta opened (BackendChoice).
// Physical addresses are 32-bit `vta_phy_addr_t` here; the `...64` entry points are what
// driver.h binds the same C names to when USE_VTA64 is defined.

/// Creates a device context. Returns NULL (and logs why) if the backend cannot be opened.
@_cdecl("VTADeviceAlloc")
public func VTADeviceAlloc() -> UnsafeMutableRawPointer? {
    cEntry("VTADeviceAlloc", failure: nil) { () throws(CABIError) -> UnsafeMutableRawPointer? in
        _ = try library.device()
        let token = newToken()
        library.tables.withLock { _ = $0.deviceHandles.insert(UInt(bitPattern: token)) }
        return token
    }
}

/// Releases a device context from `VTADeviceAlloc`. Unknown or already freed handles are
/// reported and ignored.
@_cdecl("VTADeviceFree")
public func VTADeviceFree(_ handle: UnsafeMutableRawPointer?) {
    cEntry("VTADeviceFree", failure: ()) { () throws(CABIError) in
        guard let handle else { throw .badHandle("handle is NULL") }
        let removed = library.tables.withLock { $0.deviceHandles.remove(UInt(bitPattern: handle)) != nil }
        guard removed else { throw .badHandle("handle \(hex(UInt(bitPattern: handle))) is not a live VTADeviceAlloc handle (never allocated, or freed)") }
        handle.deallocate()
    }
}

/// Runs `insn_count` instructions at physical byte address `insn_phy_addr` and waits for FINISH.
/// Returns 0 on success, 1 on timeout, 2 if the device rejected or could not complete the
/// program, -1 for invalid arguments (each failure is logged).
@_cdecl("VTADeviceRun")
public func VTADeviceRun(_ handle: UnsafeMutableRawPointer?, _ insnPhyAddr: UInt32, _ insnCount: UInt32, _ waitCycles: UInt32) -> Int32 {
    deviceRun("VTADeviceRun", handle, UInt64(insnPhyAddr), insnCount, waitCycles)
}

/// `VTADeviceRun` with a 64-bit physical address (driver.h under USE_VTA64).
@_cdecl("VTADeviceRun64")
public func VTADeviceRun64(_ handle: UnsafeMutableRawPointer?, _ insnPhyAddr: UInt64, _ insnCount: UInt32, _ waitCycles: UInt32) -> Int32 {
    deviceRun("VTADeviceRun", handle, insnPhyAddr, insnCount, waitCycles)
}

private func deviceRun(_ function: StaticString, _ handle: UnsafeMutableRawPointer?, _ address: UInt64, _ count: UInt32, _ waitCycles: UInt32) -> Int32 {
    let prepared = cEntry(function, failure: nil as (any Device)?) { () throws(CABIError) -> (any Device)? in
        guard let handle else { throw .badHandle("handle is NULL") }
        guard count > 0 else { throw .invalidArgument("insn_count is 0; a program needs at least a FINISH") }
        return try library.tables.withLock { t throws(CABIError) -> any Device in
            guard t.deviceHandles.contains(UInt(bitPattern: handle)) else {
                throw .badHandle("handle \(hex(UInt(bitPattern: handle))) is not a live VTADeviceAlloc handle (never allocated, or freed)")
            }
            guard t.allocation(deviceAddress: address, length: UInt64(count) * 16) != nil else {
                throw .invalidArgument("the \(count) instructions at physical address \(hex(address)) are not inside one buffer from VTAMemAlloc or VTABufferAlloc")
            }
            return try t.device()
        }
    }
    guard let device = prepared else { return -1 }
    // The run happens without any libvta lock: other threads keep allocating and running.
    do {
        _ = try device.run(instructionsAt: address, count: Int(count), timeout: WaitCycles.timeout(waitCycles))
        return 0
    } catch {
        if case .timeout = error {
            Diagnostics.report(function, "\(error.description) (wait_cycles \(waitCycles) = \(WaitCycles.timeout(waitCycles)))")
            return 1
        }
        Diagnostics.report(function, error.description)
        return 2
    }
}

/// Allocates `size` bytes of device memory and returns its CPU address, or NULL (logged).
/// `cached` is accepted for compatibility; the simulator's and the daemon's memory is coherent.
@_cdecl("VTAMemAlloc")
public func VTAMemAlloc(_ size: Int, _ cached: Int32) -> UnsafeMutableRawPointer? {
    cEntry("VTAMemAlloc", failure: nil) { () throws(CABIError) -> UnsafeMutableRawPointer? in
        try allocate(size: size, handle: false).pointer
    }
}

/// Allocates device memory and records it (with a new buffer handle if `handle`).
func allocate(size: Int, handle: Bool) throws(CABIError) -> (pointer: UnsafeMutableRawPointer, handle: UnsafeMutableRawPointer?) {
    // `size` is the C size_t reinterpreted: values above Int.max arrive negative.
    guard size > 0 else {
        throw .invalidArgument(size == 0 ? "size is 0" : "size \(UInt(bitPattern: size)) is larger than any device memory")
    }
    let device = try library.device()
    let buffer: any DMABuffer
    do { buffer = try device.allocate(bytes: size, label: handle ? "VTABufferAlloc(\(size))" : "VTAMemAlloc(\(size))") } catch {
        throw .device(error)
    }
    let token = handle ? newToken() : nil
    library.tables.withLock { t in
        let a = Allocation(buffer: buffer, handle: token.map { UInt(bitPattern: $0) })
        t.allocations[a.start] = a
        if let token { t.bufferHandles[UInt(bitPattern: token)] = a.start }
    }
    return (buffer.hostAddress, token)
}

/// Frees memory from `VTAMemAlloc`. NULL, unknown and already freed pointers are reported and
/// ignored, as is memory that belongs to a `VTABufferAlloc` handle.
@_cdecl("VTAMemFree")
public func VTAMemFree(_ buf: UnsafeMutableRawPointer?) {
    cEntry("VTAMemFree", failure: ()) { () throws(CABIError) in
        let (device, buffer) = try library.tables.withLock { t throws(CABIError) -> (any Device, any DMABuffer) in
            let (a, offset) = try t.allocation(containing: buf, what: "buf")
            guard offset == 0 else { throw .badHandle("buf \(hex(UInt(bitPattern: buf))) points \(offset) bytes into an allocation, not at its start") }
            if let h = a.handle { throw .badHandle("buf belongs to the VTABufferAlloc handle \(hex(h)); free it with VTABufferFree") }
            let device = try t.device()
            t.allocations[a.start] = nil
            return (device, a.buffer)
        }
        do throws(DeviceError) { try device.free(buffer) } catch { throw .device(error) }
    }
}

/// The physical address of a pointer into device memory, or 0 (logged) if it is not one or the
/// address does not fit 32 bits.
@_cdecl("VTAMemGetPhyAddr")
public func VTAMemGetPhyAddr(_ buf: UnsafeMutableRawPointer?) -> UInt32 {
    cEntry("VTAMemGetPhyAddr", failure: 0) { () throws(CABIError) -> UInt32 in
        let address = try physicalAddress(buf)
        guard let narrow = UInt32(exactly: address) else {
            throw .invalidArgument("the physical address \(hex(address)) does not fit the 32-bit vta_phy_addr_t; compile with -DUSE_VTA64")
        }
        return narrow
    }
}

/// `VTAMemGetPhyAddr` returning a 64-bit address (driver.h under USE_VTA64).
@_cdecl("VTAMemGetPhyAddr64")
public func VTAMemGetPhyAddr64(_ buf: UnsafeMutableRawPointer?) -> UInt64 {
    cEntry("VTAMemGetPhyAddr", failure: 0) { () throws(CABIError) -> UInt64 in try physicalAddress(buf) }
}

private func physicalAddress(_ buf: UnsafeMutableRawPointer?) throws(CABIError) -> UInt64 {
    try library.tables.withLock { t throws(CABIError) -> UInt64 in
        let (a, offset) = try t.allocation(containing: buf, what: "buf")
        return a.buffer.deviceAddress + UInt64(offset)
    }
}

/// Copies `size` bytes from host memory into device memory (`dst` must lie in an allocation).
@_cdecl("VTAMemCopyFromHost")
public func VTAMemCopyFromHost(_ dst: UnsafeMutableRawPointer?, _ src: UnsafeRawPointer?, _ size: Int) {
    cEntry("VTAMemCopyFromHost", failure: ()) { () throws(CABIError) in
        try checkedCopy(device: dst.map { UnsafeRawPointer($0) }, deviceName: "dst", host: src, hostName: "src", size: size)
        if size > 0, let dst, let src { memmove(dst, src, size) }
    }
}

/// Copies `size` bytes from device memory (`src` must lie in an allocation) to host memory.
@_cdecl("VTAMemCopyToHost")
public func VTAMemCopyToHost(_ dst: UnsafeMutableRawPointer?, _ src: UnsafeRawPointer?, _ size: Int) {
    cEntry("VTAMemCopyToHost", failure: ()) { () throws(CABIError) in
        try checkedCopy(device: src, deviceName: "src", host: dst.map { UnsafeRawPointer($0) }, hostName: "dst", size: size)
        if size > 0, let dst, let src { memmove(dst, src, size) }
    }
}

private func checkedCopy(device: UnsafeRawPointer?, deviceName: String, host: UnsafeRawPointer?, hostName: String, size: Int) throws(CABIError) {
    guard size >= 0 else { throw .invalidArgument("size \(UInt(bitPattern: size)) is larger than any device memory") }
    if size == 0 { return }
    guard host != nil else { throw .badHandle("\(hostName) is NULL") }
    try library.tables.withLock { t throws(CABIError) in
        let (a, offset) = try t.allocation(containing: device, what: deviceName)
        guard a.fits(offset: offset, length: UInt(size)) else {
            throw .invalidArgument("\(size) bytes at offset \(offset) run past the end of the \(a.buffer.size)-byte allocation \(deviceName) points into")
        }
    }
}

/// Writes CPU caches back for a range of device memory (a no-op on coherent memory).
@_cdecl("VTAFlushCache")
public func VTAFlushCache(_ virAddr: UnsafeMutableRawPointer?, _ phyAddr: UInt32, _ size: Int32) {
    cacheMaintenance("VTAFlushCache", virAddr, UInt64(phyAddr), size, flush: true)
}

/// `VTAFlushCache` with a 64-bit physical address (driver.h under USE_VTA64).
@_cdecl("VTAFlushCache64")
public func VTAFlushCache64(_ virAddr: UnsafeMutableRawPointer?, _ phyAddr: UInt64, _ size: Int32) {
    cacheMaintenance("VTAFlushCache", virAddr, phyAddr, size, flush: true)
}

/// Discards CPU cache lines for a range of device memory (a no-op on coherent memory).
@_cdecl("VTAInvalidateCache")
public func VTAInvalidateCache(_ virAddr: UnsafeMutableRawPointer?, _ phyAddr: UInt32, _ size: Int32) {
    cacheMaintenance("VTAInvalidateCache", virAddr, UInt64(phyAddr), size, flush: false)
}

/// `VTAInvalidateCache` with a 64-bit physical address (driver.h under USE_VTA64).
@_cdecl("VTAInvalidateCache64")
public func VTAInvalidateCache64(_ virAddr: UnsafeMutableRawPointer?, _ phyAddr: UInt64, _ size: Int32) {
    cacheMaintenance("VTAInvalidateCache", virAddr, phyAddr, size, flush: false)
}

private func cacheMaintenance(_ function: StaticString, _ vir: UnsafeMutableRawPointer?, _ phy: UInt64, _ size: Int32, flush: Bool) {
    cEntry(function, failure: ()) { () throws(CABIError) in
        guard size >= 0 else { throw .invalidArgument("size \(size) is negative") }
        let (a, offset) = try library.tables.withLock { t throws(CABIError) in try t.allocation(containing: vir, what: "vir_addr") }
        let expected = a.buffer.deviceAddress + UInt64(offset)
        guard phy == expected else {
            throw .invalidArgument("phy_addr \(hex(phy)) is not the physical address of vir_addr (\(hex(expected)))")
        }
        guard a.fits(offset: offset, length: UInt(size)) else {
            throw .invalidArgument("\(size) bytes at offset \(offset) run past the end of the \(a.buffer.size)-byte allocation")
        }
        do throws(DeviceError) {
            if flush { try a.buffer.flush(offset: offset, length: Int(size)) } else { try a.buffer.invalidate(offset: offset, length: Int(size)) }
        } catch {
            throw .device(error)
        }
    }
}

/// Programs a bitstream. The simulator needs none and the daemon owns its board's bitstream, so
/// this only checks its argument (as upstream's simulator driver, it does nothing).
@_cdecl("VTAProgram")
public func VTAProgram(_ bitstream: UnsafePointer<CChar>?) {
    cEntry("VTAProgram", failure: ()) { () throws(CABIError) in
        guard bitstream != nil else { throw .badHandle("bitstream is NULL") }
        _ = try library.device()
    }
}
