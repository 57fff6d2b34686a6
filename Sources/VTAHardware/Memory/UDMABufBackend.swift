import CVTAKernel
import Glibc
import Synchronization
import VTA

/// DMA memory from a u-dma-buf pool (ikwzm's out-of-tree module; spec: linux-board-interfaces
/// §2.1): one physically contiguous buffer reserved at boot or overlay time, mapped whole and
/// handed out as a single region that the sub-allocator carves up.
///
/// The node is opened without `O_SYNC`, so the CPU mapping is cached: u-dma-buf's uncached mode
/// maps Device memory on arm64, where `memcpy` faults. Caches are kept consistent through the
/// driver (the kernel DMA API also handles the Cortex-A9's outer L2, which user space cannot):
/// the `SET_SYNC_FOR_DEVICE`/`SET_SYNC_FOR_CPU` ioctls of u-dma-buf v4.7 and later, or the
/// sysfs `sync_for_device`/`sync_for_cpu` files on older modules (root only). When the pool is
/// `dma_coherent` no maintenance is done at all.
public final class UDMABufBackend: DMABackend {
    /// What sysfs says about the pool.
    public let device: UDMABufDevice
    /// The DMA address used for the region: `GET_DMA_ADDR` when the module has ioctls, else
    /// sysfs `phys_addr`.
    public let physicalAddress: UInt64
    /// Whether the module answers ioctls (`GET_DRV_INFO` succeeded), with its ioctl version.
    public let ioctlVersion: Int?
    /// The module's version string from `GET_DRV_INFO`, when available.
    public let driverVersion: String?
    /// No cache maintenance needed (sysfs `dma_coherent`, or the dma-coherent bit of `GET_DEV_INFO`).
    public let isCoherent: Bool
    private let handedOut = Mutex(false)

    public var kind: String { "u-dma-buf" }
    public var isGrowable: Bool { false }
    public var capacity: Int? { handedOut.withLock { $0 } ? 0 : device.size }

    public var summary: String {
        let cache = isCoherent ? "coherent" : (ioctlVersion != nil ? "cached, synced by ioctl" : "cached, synced through sysfs")
        let version = driverVersion.map { " (module \($0))" } ?? ""
        return "u-dma-buf \(device.name) at \(device.devicePath): \(KernelDMASupport.sizeText(device.size)) at "
            + "\(KernelDMASupport.hex(physicalAddress)), \(cache)\(version)"
    }

    public var exhaustionHint: String {
        "The u-dma-buf pool \(device.name) is a fixed \(KernelDMASupport.sizeText(device.size)); enlarge it with the "
            + "`size` property of its device-tree node (kernel-interface/devicetree) or the module parameter "
            + "udmabuf0=<bytes>, and make sure the CMA area is larger (cma= on the kernel command line)."
    }

    /// Finds the pool and checks that its node can be opened.
    /// - Parameters:
    ///   - name: the pool's device name; nil picks `vta-dma`, else the first pool listed.
    ///   - roots: where sysfs and `/dev` are (tests use fake trees).
    /// - Throws: `DeviceError.unavailable` naming the missing sysfs path or the node that could
    ///   not be opened, with errno and what to do.
    public init(name: String? = nil, roots: SystemRoots = .live) throws(DeviceError) {
        let device = try UDMABufDevice.find(name: name, roots: roots)
        let fd = try Self.openNode(device)
        defer { close(fd) }
        var info = vta_udmabuf_drv_info()
        if vta_ioctl_ptr(fd, VTA_UDMABUF_IOCTL_GET_DRV_INFO, &info) == 0 {
            // ENOTTY (a module before v4.7, or a plain file in tests) leaves the sysfs values in charge.
            ioctlVersion = Int(info.flags & 0xFF)
            driverVersion = withUnsafeBytes(of: info.version) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            var dmaAddress: UInt64 = 0
            physicalAddress = vta_ioctl_ptr(fd, VTA_UDMABUF_IOCTL_GET_DMA_ADDR, &dmaAddress) == 0
                ? dmaAddress : device.physicalAddress
            var dev = vta_udmabuf_dev_info()
            let coherentByIoctl = vta_ioctl_ptr(fd, VTA_UDMABUF_IOCTL_GET_DEV_INFO, &dev) == 0
                && dev.flags & VTA_UDMABUF_DEV_INFO_DMA_COHERENT != 0
            isCoherent = device.isCoherent || coherentByIoctl
        } else {
            ioctlVersion = nil
            driverVersion = nil
            physicalAddress = device.physicalAddress
            isCoherent = device.isCoherent
        }
        self.device = device
    }

    /// Maps the whole pool. `cacheable` is not a choice here: the mapping is always cached (see
    /// the type's documentation), and `isCoherent` says whether sync calls do anything.
    /// - Throws: `allocationFailed` when `bytes` exceeds the pool or it is already handed out;
    ///   `unavailable` when the node cannot be opened or mapped.
    public func allocateRegion(bytes: Int, cacheable: Bool) throws(DeviceError) -> any DMARegion {
        guard bytes >= 0, bytes <= device.size else {
            throw .allocationFailed(requested: bytes, largestFree: capacity, poolSize: device.size, hint: exhaustionHint)
        }
        let taken = handedOut.withLock { taken -> Bool in
            defer { taken = true }
            return taken
        }
        guard !taken else {
            throw .allocationFailed(requested: bytes, largestFree: 0, poolSize: device.size,
                                    hint: "The u-dma-buf pool \(device.name) is already mapped as one region. " + exhaustionHint)
        }
        do throws(DeviceError) {
            let fd = try Self.openNode(device)
            guard let base = mmap(nil, device.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), base != MAP_FAILED else {
                let e = errno
                close(fd)
                throw DeviceError.unavailable("mmap of \(device.devicePath) (\(device.size) bytes) failed: "
                    + KernelDMASupport.errnoText(e))
            }
            return UDMABufRegion(backend: self, fd: fd, base: base, useIoctls: ioctlVersion != nil)
        } catch {
            handedOut.withLock { $0 = false }
            throw error
        }
    }

    /// Called by the region when it is released: the pool can be mapped again.
    func regionReleased() { handedOut.withLock { $0 = false } }

    private static func openNode(_ device: UDMABufDevice) throws(DeviceError) -> Int32 {
        // No O_SYNC: a cached mapping (see the type's documentation).
        let fd = open(device.devicePath, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            var message = "u-dma-buf pool \(device.name): cannot open \(device.devicePath): \(KernelDMASupport.errnoText(e))"
            if e == EACCES || e == EPERM {
                message += "; install kernel-interface/udev/60-vta.rules (group vta) and run in group vta"
            } else if e == ENOENT {
                message += "; sysfs lists the pool (\(device.sysfsPath)) but its node is missing"
            }
            throw .unavailable(message)
        }
        return fd
    }

    /// One line per pool for `vtactl board info`, or why there is none.
    public static func describeAvailability(roots: SystemRoots = .live) -> String {
        let pools = UDMABufDevice.all(roots: roots)
        if pools.isEmpty {
            let dirs = UDMABufDevice.classDirectories(roots: roots)
            return "u-dma-buf: none (\(dirs[0]) and \(dirs[1]) list no pool; load the u-dma-buf module and apply a VTA overlay)"
        }
        return pools.map { p in
            "u-dma-buf: \(p.name) at \(p.devicePath), \(KernelDMASupport.sizeText(p.size)) at "
                + "\(KernelDMASupport.hex(p.physicalAddress))\(p.isCoherent ? ", coherent" : "")"
                + (p.isLegacyClass ? " (legacy udmabuf module)" : "")
                + (HostFiles.exists(p.devicePath) ? "" : " [node \(p.devicePath) missing]")
        }.joined(separator: "\n")
    }
}
