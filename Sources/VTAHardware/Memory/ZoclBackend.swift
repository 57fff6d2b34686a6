import CLibDRM
import CVTAKernel
import Glibc
import VTA

/// DMA memory from Xilinx XRT's `zocl` DRM driver (PYNQ 2.7+, Kria; spec: linux-board-interfaces
/// §2.2): one GEM buffer object per region, allocated from CMA, so the backend grows until CMA
/// runs out.
///
/// Per region: `CREATE_BO` (with the CACHEABLE flag when a cached mapping is wanted), `INFO_BO` for
/// the physical address, `MAP_BO` + `mmap` on the DRM fd, `SYNC_BO` for cache maintenance of
/// cacheable BOs, and `munmap` + `GEM_CLOSE` on release. Non-cacheable BOs are mapped uncached by
/// zocl and need no sync.
public final class ZoclBackend: DMABackend {
    /// The render node in use, e.g. `/dev/dri/renderD129`.
    public let renderNodePath: String
    let drm: DRMFile
    private let procRoot: String

    public var kind: String { "zocl" }
    public var isGrowable: Bool { true }
    /// Unknown: BOs come from the shared CMA area, which other drivers use too.
    public var capacity: Int? { nil }

    public var summary: String {
        var s = "zocl at \(renderNodePath): buffer objects from CMA"
        if let cma = KernelDMASupport.cmaInfo(proc: procRoot) {
            s += " (\(KernelDMASupport.sizeText(cma.free)) of \(KernelDMASupport.sizeText(cma.total)) free)"
        }
        return s
    }

    public var exhaustionHint: String {
        var s = "zocl allocates from the kernel's CMA area"
        if let cma = KernelDMASupport.cmaInfo(proc: procRoot) {
            s += " (CmaTotal \(KernelDMASupport.sizeText(cma.total)), CmaFree \(KernelDMASupport.sizeText(cma.free)))"
        }
        return s + "; enlarge it with cma=<size> on the kernel command line or the CMA size of the device tree's "
            + "linux,cma reserved-memory node."
    }

    /// Finds and opens the zocl render node.
    /// - Parameters:
    ///   - roots: where sysfs, `/dev` and `/proc` are; the live system uses libdrm's device list.
    ///   - renderNode: a node to use instead of searching (`/dev/dri/renderD128` or `dri/renderD128`).
    /// - Throws: `DeviceError.unavailable` listing the DRM devices that were found (if any) and
    ///   saying that zocl (XRT) is needed.
    public init(roots: SystemRoots = .live, renderNode: String? = nil) throws(DeviceError) {
        let (fd, path) = try ZoclDevice.open(roots: roots, renderNode: renderNode)
        drm = DRMFile(fd: fd, path: path)
        renderNodePath = path
        procRoot = roots.proc
    }

    /// Creates, inspects and maps one buffer object of at least `bytes` (rounded up to pages).
    /// - Throws: `allocationFailed` when zocl has no memory left (with the CMA figures), else
    ///   `unavailable` naming the ioctl that failed and errno.
    public func allocateRegion(bytes: Int, cacheable: Bool) throws(DeviceError) -> any DMARegion {
        guard bytes > 0, let size = KernelDMASupport.roundUp(bytes, to: KernelDMASupport.pageSize) else {
            throw .allocationFailed(requested: bytes, largestFree: nil, poolSize: nil,
                                    hint: "a zocl buffer needs a positive size that fits the address space")
        }
        var create = vta_zocl_create_bo(size: UInt64(size), handle: 0, flags: cacheable ? VTA_ZOCL_BO_FLAGS_CACHEABLE : 0)
        let r = vta_ioctl_ptr(drm.fd, VTA_ZOCL_IOCTL_CREATE_BO, &create)
        if r == -ENOMEM {
            throw .allocationFailed(requested: bytes, largestFree: KernelDMASupport.cmaInfo(proc: procRoot)?.free,
                                    poolSize: KernelDMASupport.cmaInfo(proc: procRoot)?.total, hint: exhaustionHint)
        }
        guard r == 0 else { throw fail("CREATE_BO of \(size) bytes", r) }
        let handle = create.handle
        do throws(DeviceError) {
            var info = vta_zocl_info_bo(handle: handle, flags: 0, size: 0, paddr: 0)
            let ri = vta_ioctl_ptr(drm.fd, VTA_ZOCL_IOCTL_INFO_BO, &info)
            guard ri == 0 else { throw fail("INFO_BO of BO \(handle)", ri) }
            var map = vta_zocl_map_bo(handle: handle, pad: 0, offset: 0)
            let rm = vta_ioctl_ptr(drm.fd, VTA_ZOCL_IOCTL_MAP_BO, &map)
            guard rm == 0 else { throw fail("MAP_BO of BO \(handle)", rm) }
            let what = "mmap of BO \(handle) (\(size) bytes at offset \(KernelDMASupport.hex(map.offset)))"
            guard map.offset <= UInt64(Int64.max) else { throw fail(what, -EOVERFLOW) }
            guard let base = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, drm.fd, off_t(map.offset)),
                  base != MAP_FAILED else {
                throw fail(what, -errno)
            }
            return ZoclRegion(drm: drm, handle: handle, base: base, physicalAddress: info.paddr, size: size,
                              isCoherent: !cacheable)
        } catch {
            drm.closeHandle(handle)
            throw error
        }
    }

    private func fail(_ what: String, _ negativeErrno: Int32) -> DeviceError {
        .unavailable("zocl \(what) on \(renderNodePath) failed: \(KernelDMASupport.errnoText(-negativeErrno))")
    }

    /// One line for `vtactl board info`: the zocl node, or which DRM devices exist instead.
    public static func describeAvailability(roots: SystemRoots = .live) -> String {
        do throws(DeviceError) {
            let backend = try ZoclBackend(roots: roots)
            return backend.summary
        } catch {
            return "zocl: none (\(error))"
        }
    }
}

/// The DRM fd, shared by the backend and every region so it stays open while any BO is mapped.
final class DRMFile: Sendable {
    let fd: Int32
    let path: String

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// `DRM_IOCTL_GEM_CLOSE`; errors are ignored (the handle dies with the fd anyway).
    func closeHandle(_ handle: UInt32) {
        var request = vta_drm_gem_close(handle: handle, pad: 0)
        _ = vta_ioctl_ptr(fd, VTA_DRM_IOCTL_GEM_CLOSE, &request)
    }
}
