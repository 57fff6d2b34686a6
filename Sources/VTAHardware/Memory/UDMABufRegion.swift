import CVTAKernel
import Glibc
import Synchronization
import VTA

/// The whole u-dma-buf pool mapped into this process. Sync calls go to the driver: ioctls when
/// the module has them, else the sysfs files (spec: linux-board-interfaces §2.1).
final class UDMABufRegion: DMARegion {
    // The mapping is fixed for the region's life; the pointer itself is never mutated.
    nonisolated(unsafe) let cpuAddress: UnsafeMutableRawPointer
    let physicalAddress: UInt64
    let size: Int
    let isCoherent: Bool
    let label: String
    private let backend: UDMABufBackend
    private let fd: Int32
    private struct State {
        var useIoctls: Bool
        var released = false
    }
    private let state: Mutex<State>

    init(backend: UDMABufBackend, fd: Int32, base: UnsafeMutableRawPointer, useIoctls: Bool) {
        self.backend = backend
        self.fd = fd
        self.cpuAddress = base
        self.physicalAddress = backend.physicalAddress
        self.size = backend.device.size
        self.isCoherent = backend.isCoherent
        self.label = "u-dma-buf \(backend.device.name)"
        self.state = Mutex(State(useIoctls: useIoctls))
    }

    deinit { release() }

    func syncForDevice(offset: Int, length: Int) throws(DeviceError) {
        try sync(offset: offset, length: length, forDevice: true)
    }

    func syncForCPU(offset: Int, length: Int) throws(DeviceError) {
        try sync(offset: offset, length: length, forDevice: false)
    }

    func release() {
        let wasReleased = state.withLock { s -> Bool in
            defer { s.released = true }
            return s.released
        }
        guard !wasReleased else { return }
        munmap(cpuAddress, size)
        close(fd)
        backend.regionReleased()
    }

    private func sync(offset: Int, length: Int, forDevice: Bool) throws(DeviceError) {
        guard offset >= 0, length >= 0, offset <= size, length <= size - offset else {
            throw .outOfBounds(buffer: label, offset: offset, length: length, size: size)
        }
        if isCoherent || length == 0 { return }
        let what = forDevice ? "sync for device" : "sync for CPU"
        guard let commands = UDMABufSyncCommand.commands(offset: offset, length: length, poolSize: size,
                                                         direction: forDevice ? .toDevice : .fromDevice) else {
            throw .cacheMaintenance("\(what) of \(label) bytes \(offset)..<\(offset + length): the offset does not fit "
                + "u-dma-buf's 32-bit sync offset field")
        }
        let (useIoctls, released) = state.withLock { ($0.useIoctls, $0.released) }
        guard !released else { throw .unavailable("\(label) was released") }
        if useIoctls {
            let request = forDevice ? VTA_UDMABUF_IOCTL_SET_SYNC_FOR_DEVICE : VTA_UDMABUF_IOCTL_SET_SYNC_FOR_CPU
            for var command in commands {
                let r = vta_ioctl_ptr(fd, request, &command)
                if r == -ENOTTY {
                    state.withLock { $0.useIoctls = false }
                    break
                }
                if r != 0 {
                    throw .cacheMaintenance("\(what) ioctl on \(backend.device.devicePath) (bytes \(offset)..<\(offset + length)) "
                        + "failed: \(KernelDMASupport.errnoText(-r))")
                }
            }
            if state.withLock({ $0.useIoctls }) { return }
        }
        let path = backend.device.sysfsPath + (forDevice ? "/sync_for_device" : "/sync_for_cpu")
        for command in commands {
            let e = KernelDMASupport.writeAttribute(path, KernelDMASupport.hex(command) + "\n")
            if e != 0 {
                var message = "\(what) of \(label) (bytes \(offset)..<\(offset + length)): cannot write \(path): "
                    + KernelDMASupport.errnoText(e)
                if e == EACCES || e == EPERM {
                    message += "; the sysfs sync files are writable by root only and this u-dma-buf module has no sync "
                        + "ioctls (they need u-dma-buf v4.7 or newer): upgrade the module or run as root"
                }
                throw .cacheMaintenance(message)
            }
        }
    }
}
