import VTA

/// A fixed physical range mapped through a file: a `reserved-memory` carve-out through
/// `/dev/mem` (root; `no-map` memory is mapped uncached, so no cache maintenance), or a region of
/// any file at the same offsets (the emulated board). Both go through `RegisterWindow.map`: the
/// same open/mmap code as the registers.
public final class CarveOutBackend: DMABackend, @unchecked Sendable {
    public let path: String
    public let physicalBase: UInt64
    public let bytes: Int
    public var kind: String { "carve-out" }
    public var summary: String { "carve-out \(path) @ 0x\(String(physicalBase, radix: 16)), \(bytes >> 20) MiB" }
    public var isGrowable: Bool { false }
    public var exhaustionHint: String {
        "the carve-out is fixed: enlarge the reserved-memory node in the base device tree (and --dma-size), or use u-dma-buf/zocl"
    }
    public var capacity: Int? { handedOut ? 0 : bytes }
    private var handedOut = false
    /// Map without `O_SYNC`: on `/dev/mem`, linear-mapped RAM is then cached and every run needs
    /// user-space cache maintenance (AArch64 only). Faster CPU access; `no-map` memory stays
    /// uncached whatever is asked.
    public let cached: Bool

    public init(path: String, physicalBase: UInt64, bytes: Int, cached: Bool = false) {
        self.path = path
        self.physicalBase = physicalBase
        self.bytes = bytes
        self.cached = cached
    }

    public func allocateRegion(bytes requested: Int, cacheable: Bool) throws(DeviceError) -> any DMARegion {
        guard !handedOut else {
            throw .allocationFailed(requested: requested, largestFree: 0, poolSize: bytes, hint: exhaustionHint)
        }
        guard requested <= bytes else {
            throw .allocationFailed(requested: requested, largestFree: bytes, poolSize: bytes, hint: exhaustionHint)
        }
        let window: RegisterWindow
        do {
            window = try RegisterWindow.map(path: path, fileOffset: physicalBase, length: bytes, physicalBase: physicalBase,
                                            sync: !cached, label: "carve-out \(path) @ 0x\(String(physicalBase, radix: 16))")
        } catch { throw .board(error) }
        if cached && !CPUCache.isAvailable {
            throw .cacheMaintenance("a cached carve-out needs user-space cache maintenance, which this CPU lacks (only AArch64 has it); map it uncached")
        }
        handedOut = true
        return CarveOutRegion(window: window, cached: cached)
    }
}

/// The mapped carve-out: uncached (no maintenance), or cached with user-space maintenance by line.
final class CarveOutRegion: DMARegion, @unchecked Sendable {
    let window: RegisterWindow
    let cached: Bool
    init(window: RegisterWindow, cached: Bool) {
        self.window = window
        self.cached = cached
    }
    var cpuAddress: UnsafeMutableRawPointer { window.cpuAddress }
    var physicalAddress: UInt64 { window.physicalBase }
    var size: Int { window.length }
    var isCoherent: Bool { !cached }
    var label: String { window.label }
    func syncForDevice(offset: Int, length: Int) throws(DeviceError) {
        guard cached, let r = clamp(offset, length) else { return }
        try CPUCache.clean(cpuAddress + r.lowerBound, bytes: r.count, label: label)
    }
    func syncForCPU(offset: Int, length: Int) throws(DeviceError) {
        guard cached, let r = clamp(offset, length) else { return }
        try CPUCache.cleanAndInvalidate(cpuAddress + r.lowerBound, bytes: r.count, label: label)
    }
    private func clamp(_ offset: Int, _ length: Int) -> Range<Int>? {
        let lo = max(0, offset), hi = min(size, offset + max(0, length))
        return lo < hi ? lo..<hi : nil
    }
    func release() {}
}
