import CVTAKernel
import Glibc
import Synchronization
import VTA

/// One zocl buffer object mapped into this process.
final class ZoclRegion: DMARegion {
    // The mapping is fixed for the region's life; the pointer itself is never mutated.
    nonisolated(unsafe) let cpuAddress: UnsafeMutableRawPointer
    let physicalAddress: UInt64
    let size: Int
    let isCoherent: Bool
    let label: String
    private let drm: DRMFile
    private let handle: UInt32
    private let released = Mutex(false)

    init(drm: DRMFile, handle: UInt32, base: UnsafeMutableRawPointer, physicalAddress: UInt64, size: Int,
         isCoherent: Bool) {
        self.drm = drm
        self.handle = handle
        self.cpuAddress = base
        self.physicalAddress = physicalAddress
        self.size = size
        self.isCoherent = isCoherent
        self.label = "zocl BO \(handle)"
    }

    deinit { release() }

    func syncForDevice(offset: Int, length: Int) throws(DeviceError) {
        try sync(offset: offset, length: length, direction: UInt32(VTA_ZOCL_SYNC_BO_TO_DEVICE))
    }

    func syncForCPU(offset: Int, length: Int) throws(DeviceError) {
        try sync(offset: offset, length: length, direction: UInt32(VTA_ZOCL_SYNC_BO_FROM_DEVICE))
    }

    func release() {
        let wasReleased = released.withLock { r -> Bool in
            defer { r = true }
            return r
        }
        guard !wasReleased else { return }
        munmap(cpuAddress, size)
        drm.closeHandle(handle)
    }

    private func sync(offset: Int, length: Int, direction: UInt32) throws(DeviceError) {
        guard offset >= 0, length >= 0, offset <= size, length <= size - offset else {
            throw .outOfBounds(buffer: label, offset: offset, length: length, size: size)
        }
        if isCoherent || length == 0 { return }
        guard !released.withLock({ $0 }) else { throw .unavailable("\(label) was released") }
        // zocl may not verify that SYNC_BO did anything (one XRT branch made it a no-op); the call
        // is still required for cacheable BOs.
        var request = vta_zocl_sync_bo(handle: handle, dir: direction, offset: UInt64(offset), size: UInt64(length))
        let r = vta_ioctl_ptr(drm.fd, VTA_ZOCL_IOCTL_SYNC_BO, &request)
        guard r == 0 else {
            let what = direction == UInt32(VTA_ZOCL_SYNC_BO_TO_DEVICE) ? "to device" : "from device"
            throw .cacheMaintenance("zocl SYNC_BO (\(what)) of \(label) bytes \(offset)..<\(offset + length) on "
                + "\(drm.path) failed: \(KernelDMASupport.errnoText(-r))")
        }
    }
}
