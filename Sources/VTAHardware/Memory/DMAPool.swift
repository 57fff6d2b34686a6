import Synchronization
import VTA

/// Sub-allocates device buffers from a few large kernel regions (spec §2.7): the kernel hands
/// out fixed pools or large BOs; VTA wants many small, element-aligned buffers.
///
/// First fit over a sorted free list per region, with neighbours merged on free. Every buffer's
/// device address is checked against the target's DMA window and address width.
public final class DMAPool: Sendable {
    public let backend: any DMABackend
    public let target: TargetProfile
    /// Smallest region asked from a growable backend.
    public let regionBytes: Int
    /// Allocation granularity (a cache line; VTA's staging uses 64).
    static let granule = 64

    struct Region {
        let region: any DMARegion
        var free: [Range<Int>]
        var used: Int
    }
    struct State {
        var regions: [Region] = []
        var live: [ObjectIdentifier: (region: Int, range: Range<Int>)] = [:]
    }
    private let state = Mutex(State())

    public init(backend: any DMABackend, target: TargetProfile, regionBytes: Int = 16 << 20) {
        self.backend = backend
        self.target = target
        self.regionBytes = regionBytes
    }

    deinit { state.withLock { s in for r in s.regions { r.region.release() } } }

    /// Usage for status output.
    public struct Usage: Sendable {
        public var regions: Int
        public var poolBytes: Int
        public var usedBytes: Int
        public var largestFree: Int
        public var buffers: Int
    }

    public var usage: Usage {
        state.withLock { s in
            Usage(regions: s.regions.count, poolBytes: s.regions.reduce(0) { $0 + $1.region.size },
                  usedBytes: s.regions.reduce(0) { $0 + $1.used },
                  largestFree: s.regions.flatMap { $0.free.map(\.count) }.max() ?? 0, buffers: s.live.count)
        }
    }

    /// Allocates a buffer of `bytes` whose device address is a multiple of `alignment`.
    public func allocate(bytes: Int, alignment: Int, label: String) throws(DeviceError) -> BoardBuffer {
        guard bytes > 0, bytes <= 1 << 31 else {
            throw .allocationFailed(requested: bytes, largestFree: nil, poolSize: nil, hint: "a buffer must have 1 byte to 2 GiB")
        }
        guard alignment > 0, alignment & (alignment - 1) == 0, alignment <= 1 << 20 else {
            throw .allocationFailed(requested: bytes, largestFree: nil, poolSize: nil, hint: "alignment \(alignment) is not a power of two up to 1 MiB")
        }
        let align = max(alignment, Self.granule)
        let size = (bytes + Self.granule - 1) / Self.granule * Self.granule
        if let b = place(size: size, bytes: bytes, align: align, label: label) { return b }
        // Nothing fits: grow (allocating backends) or explain.
        if backend.isGrowable || state.withLock({ $0.regions.isEmpty }) {
            let want = backend.isGrowable ? max(regionBytes, size + align) : (backend.capacity ?? size + align)
            let region = try backend.allocateRegion(bytes: want, cacheable: true)
            try check(region)
            state.withLock { $0.regions.append(Region(region: region, free: [0..<region.size], used: 0)) }
            if let b = place(size: size, bytes: bytes, align: align, label: label) { return b }
        }
        let u = usage
        throw .allocationFailed(requested: bytes, largestFree: u.largestFree, poolSize: u.poolBytes,
                                hint: "\(u.usedBytes) bytes in \(u.buffers) buffers are in use; \(backend.exhaustionHint)")
    }

    /// Refuses a region the accelerator cannot address.
    private func check(_ region: any DMARegion) throws(DeviceError) {
        let first = region.physicalAddress
        let last = first + UInt64(region.size) - 1
        let device = first &+ target.physicalAddressOffset
        let limit: UInt64 = target.physicalAddressBits >= 64 ? .max : (1 << UInt64(target.physicalAddressBits)) - 1
        guard target.dmaWindow.contains(first), target.dmaWindow.contains(last), device <= limit, device + UInt64(region.size) - 1 <= limit else {
            region.release()
            throw .board(.unreachableMemory(
                "\(region.label) (0x\(String(first, radix: 16))-0x\(String(last, radix: 16))) is outside what \(target.name)'s DMA ports reach "
                + "(0x\(String(target.dmaWindow.lowerBound, radix: 16))-0x\(String(target.dmaWindow.upperBound, radix: 16)), "
                + "\(target.physicalAddressBits)-bit addresses); place the buffer pool below that limit"))
        }
    }

    private func place(size: Int, bytes: Int, align: Int, label: String) -> BoardBuffer? {
        let offset = target.physicalAddressOffset
        let placed: (Int, any DMARegion, Int)? = state.withLock { s in
            for ri in s.regions.indices {
                let base = s.regions[ri].region.physicalAddress &+ offset
                for (fi, r) in s.regions[ri].free.enumerated() {
                    let device = base + UInt64(r.lowerBound)
                    let pad = Int((UInt64(align) - device % UInt64(align)) % UInt64(align))
                    guard r.count >= pad + size else { continue }
                    let start = r.lowerBound + pad
                    var pieces: [Range<Int>] = []
                    if pad > 0 { pieces.append(r.lowerBound..<start) }
                    if start + size < r.upperBound { pieces.append((start + size)..<r.upperBound) }
                    s.regions[ri].free.replaceSubrange(fi...fi, with: pieces)
                    s.regions[ri].used += size
                    return (ri, s.regions[ri].region, start)
                }
            }
            return nil
        }
        guard let (ri, region, start) = placed else { return nil }
        let buffer = BoardBuffer(region: region, offset: start, size: bytes, alignment: align,
                                 deviceAddress: region.physicalAddress &+ offset + UInt64(start), label: label)
        state.withLock { $0.live[ObjectIdentifier(buffer)] = (ri, start..<(start + size)) }
        return buffer
    }

    /// Returns a buffer's bytes to its region.
    public func free(_ buffer: any DMABuffer) throws(DeviceError) {
        let ok: Bool = state.withLock { s in
            guard let (ri, range) = s.live.removeValue(forKey: ObjectIdentifier(buffer)) else { return false }
            var free = s.regions[ri].free
            let i = free.firstIndex { $0.lowerBound > range.lowerBound } ?? free.endIndex
            free.insert(range, at: i)
            // Merge with the neighbours.
            if i + 1 < free.count, free[i].upperBound == free[i + 1].lowerBound {
                free[i] = free[i].lowerBound..<free[i + 1].upperBound
                free.remove(at: i + 1)
            }
            if i > 0, free[i - 1].upperBound == free[i].lowerBound {
                free[i - 1] = free[i - 1].lowerBound..<free[i].upperBound
                free.remove(at: i)
            }
            s.regions[ri].free = free
            s.regions[ri].used -= range.count
            return true
        }
        if !ok { throw .unknownBuffer(buffer.label) }
    }

    /// The CPU address of `length` bytes at a device address inside one region.
    public func cpuPointer(deviceAddress: UInt64, length: Int) -> UnsafeMutableRawPointer? {
        let offset = target.physicalAddressOffset
        return state.withLock { s -> UnsafeMutableRawPointer? in
            for r in s.regions {
                let base = r.region.physicalAddress &+ offset
                if deviceAddress >= base, deviceAddress - base + UInt64(max(length, 0)) <= UInt64(r.region.size) {
                    return r.region.cpuAddress + Int(deviceAddress - base)
                }
            }
            return nil
        }
    }

    /// Whether any region needs cache maintenance (false for coherent ports and uncached
    /// mappings, where a run's footprint need not even be computed).
    public var needsMaintenance: Bool { state.withLock { $0.regions.contains { !$0.region.isCoherent } } }

    /// Makes CPU writes in the given device-address ranges visible to the device (before a run).
    public func syncForDevice(_ ranges: [Range<UInt64>]) throws(DeviceError) {
        try sync(ranges) { (region, offset, length) throws(DeviceError) in try region.syncForDevice(offset: offset, length: length) }
    }

    /// Makes device writes in the given device-address ranges visible to the CPU (after a run).
    /// Only what the device wrote is invalidated: other threads' CPU writes elsewhere in the
    /// pool are never discarded.
    public func syncForCPU(_ ranges: [Range<UInt64>]) throws(DeviceError) {
        try sync(ranges) { (region, offset, length) throws(DeviceError) in try region.syncForCPU(offset: offset, length: length) }
    }

    private func sync(_ ranges: [Range<UInt64>], _ body: (any DMARegion, Int, Int) throws(DeviceError) -> Void) throws(DeviceError) {
        let regions = state.withLock { $0.regions.map(\.region) }.filter { !$0.isCoherent }
        guard !regions.isEmpty else { return }
        let offset = target.physicalAddressOffset
        for r in ranges {
            for region in regions {
                let base = region.physicalAddress &+ offset
                let lo = max(r.lowerBound, base), hi = min(r.upperBound, base + UInt64(region.size))
                if lo < hi { try body(region, Int(lo - base), Int(hi - lo)) }
            }
        }
    }
}

/// A buffer carved from a DMA region.
public final class BoardBuffer: DMABuffer, @unchecked Sendable {
    public let region: any DMARegion
    public let offset: Int
    public let size: Int
    public let alignment: Int
    public let deviceAddress: UInt64
    public let label: String
    public var hostAddress: UnsafeMutableRawPointer { region.cpuAddress + offset }
    public var isCoherent: Bool { region.isCoherent }

    init(region: any DMARegion, offset: Int, size: Int, alignment: Int, deviceAddress: UInt64, label: String) {
        self.region = region
        self.offset = offset
        self.size = size
        self.alignment = alignment
        self.deviceAddress = deviceAddress
        self.label = label
    }

    public func flush(offset: Int, length: Int) throws(DeviceError) {
        guard offset >= 0, length >= 0, offset <= size, length <= size - offset else {
            throw .outOfBounds(buffer: label, offset: offset, length: length, size: size)
        }
        if !isCoherent { try region.syncForDevice(offset: self.offset + offset, length: length) }
    }

    public func invalidate(offset: Int, length: Int) throws(DeviceError) {
        guard offset >= 0, length >= 0, offset <= size, length <= size - offset else {
            throw .outOfBounds(buffer: label, offset: offset, length: length, size: size)
        }
        if !isCoherent { try region.syncForCPU(offset: self.offset + offset, length: length) }
    }
}
