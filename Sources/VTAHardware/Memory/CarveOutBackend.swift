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

    public init(path: String, physicalBase: UInt64, bytes: Int) {
        self.path = path
        self.physicalBase = physicalBase
        self.bytes = bytes
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
                                            sync: true, label: "carve-out \(path) @ 0x\(String(physicalBase, radix: 16))")
        } catch { throw .board(error) }
        handedOut = true
        return CarveOutRegion(window: window)
    }
}

/// The mapped carve-out. Uncached (or a file), so syncs only order memory.
final class CarveOutRegion: DMARegion, @unchecked Sendable {
    let window: RegisterWindow
    init(window: RegisterWindow) { self.window = window }
    var cpuAddress: UnsafeMutableRawPointer { window.cpuAddress }
    var physicalAddress: UInt64 { window.physicalBase }
    var size: Int { window.length }
    var isCoherent: Bool { true }
    var label: String { window.label }
    func syncForDevice(offset: Int, length: Int) throws(DeviceError) {}
    func syncForCPU(offset: Int, length: Int) throws(DeviceError) {}
    func release() {}
}
