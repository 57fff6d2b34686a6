import VTA

/// One physically contiguous piece of memory obtained from the kernel: a u-dma-buf pool, a zocl
/// buffer object, a reserved-memory carve-out, or a region of a file standing in for `/dev/mem`.
///
/// The sub-allocator (`DMAPool`) carves buffers out of regions; a region never moves and stays
/// mapped until `release()`.
public protocol DMARegion: AnyObject, Sendable {
    /// Where the CPU sees the region.
    var cpuAddress: UnsafeMutableRawPointer { get }
    /// CPU physical address of the first byte (what sysfs, `INFO_BO` or the device tree report).
    /// The address handed to VTA may differ (see `TargetProfile.physicalAddressOffset`).
    var physicalAddress: UInt64 { get }
    /// Bytes in the region.
    var size: Int { get }
    /// True when no cache maintenance is needed: a coherent port, or an uncached CPU mapping.
    var isCoherent: Bool { get }
    /// For messages: `u-dma-buf udmabuf0`, `zocl BO 7`, `carve-out at 0x1c000000`.
    var label: String { get }

    /// Makes CPU writes in `[offset, offset+length)` visible to the device (clean).
    func syncForDevice(offset: Int, length: Int) throws(DeviceError)
    /// Makes device writes in `[offset, offset+length)` visible to the CPU (invalidate).
    func syncForCPU(offset: Int, length: Int) throws(DeviceError)
    /// Unmaps and returns the region to the kernel. The region is unusable afterwards.
    func release()
}

/// A source of contiguous DMA memory (spec: linux-board-interfaces §2.7).
///
/// Fixed pools (u-dma-buf, carve-outs, files) hand out one region, once; allocating backends
/// (zocl) hand out a new region per call until the kernel's CMA runs out.
public protocol DMABackend: Sendable {
    /// Short name: `u-dma-buf`, `zocl`, `carve-out`, `file`.
    var kind: String { get }
    /// One line for `vtactl board info`: what it is and where.
    var summary: String { get }
    /// Whether `allocateRegion` may be called more than once.
    var isGrowable: Bool { get }
    /// What to change when memory runs out (e.g. "increase udmabuf0= or the DT size property").
    var exhaustionHint: String { get }
    /// Bytes the backend can still provide, when it knows (a fixed pool not yet handed out).
    var capacity: Int? { get }
    /// Obtains a contiguous region of at least `bytes` bytes.
    /// - Parameter cacheable: prefer a cached CPU mapping (then the region needs sync calls).
    func allocateRegion(bytes: Int, cacheable: Bool) throws(DeviceError) -> any DMARegion
}
