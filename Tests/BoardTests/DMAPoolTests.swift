import Foundation
import Testing
import VTA
import VTAHardware

@Suite("DMA pool: alignment, address limits, device addresses, cache maintenance")
struct DMAPoolTests {
    func carveOut(_ dir: TemporaryDirectory, base: UInt64, bytes: Int = 1 << 20, cached: Bool = false) throws -> CarveOutBackend {
        let path = dir.path + "/mem"
        let fd = open(path, O_RDWR | O_CREAT, 0o600)
        #expect(fd >= 0)
        #expect(ftruncate(fd, off_t(base) + off_t(bytes)) == 0)
        close(fd)
        return CarveOutBackend(path: path, physicalBase: base, bytes: bytes, cached: cached)
    }

    @Test("buffers are aligned as asked, do not overlap, and merge back when freed")
    func alignmentAndReuse() throws {
        let dir = TemporaryDirectory()
        let pool = DMAPool(backend: try carveOut(dir, base: 0x1800_0000), target: .pynq)
        var buffers: [BoardBuffer] = []
        for (i, align) in [64, 4096, 256, 64, 1024].enumerated() {
            let b = try pool.allocate(bytes: 100 + i * 37, alignment: align, label: "b\(i)")
            #expect(b.deviceAddress % UInt64(align) == 0)
            buffers.append(b)
        }
        let ranges = buffers.map { $0.deviceAddress..<($0.deviceAddress + UInt64($0.size)) }.sorted { $0.lowerBound < $1.lowerBound }
        for (a, b) in zip(ranges, ranges.dropFirst()) { #expect(a.upperBound <= b.lowerBound) }
        for b in buffers { try pool.free(b) }
        let u = pool.usage
        #expect(u.usedBytes == 0 && u.largestFree == 1 << 20 && u.buffers == 0)
        // Bytes written through one buffer are what the region holds at its offset.
        let b = try pool.allocate(bytes: 64, alignment: 64, label: "x")
        b.hostAddress.storeBytes(of: 0xDEAD_BEEF as UInt32, as: UInt32.self)
        #expect(pool.cpuPointer(deviceAddress: b.deviceAddress, length: 4)?.load(as: UInt32.self) == 0xDEAD_BEEF)
        #expect(pool.cpuPointer(deviceAddress: b.deviceAddress + (1 << 20), length: 4) == nil)
    }

    @Test("memory outside the target's DMA window or address width is refused with both ranges named")
    func unreachable() throws {
        let dir = TemporaryDirectory()
        // Zynq-7000's ACP reaches 0x00000000-0x3FFFFFFF only.
        let pool = DMAPool(backend: try carveOut(dir, base: 0x4000_0000), target: .pynq)
        do {
            _ = try pool.allocate(bytes: 64, alignment: 64, label: "x")
            Issue.record("a region above the DMA window was accepted")
        } catch {
            #expect(error.description.contains("0x40000000") && error.description.contains("0x3fffffff"), "\(error)")
        }
    }

    @Test("de10nano hands VTA the physical address plus 0x80000000 (the ACP window)")
    func deviceAddressOffset() throws {
        let dir = TemporaryDirectory()
        let pool = DMAPool(backend: try carveOut(dir, base: 0x3800_0000), target: .de10nano)
        let b = try pool.allocate(bytes: 64, alignment: 64, label: "x")
        #expect(b.deviceAddress == 0xB800_0000)
        #expect(pool.cpuPointer(deviceAddress: 0xB800_0000, length: 64) == b.hostAddress)
    }

    @Test("a cached carve-out needs user-space cache maintenance, which only AArch64 has")
    func cachedCarveOut() throws {
        let dir = TemporaryDirectory()
        let pool = DMAPool(backend: try carveOut(dir, base: 0x1800_0000, cached: true), target: .pynq)
        #if arch(arm64)
        let b = try pool.allocate(bytes: 4096, alignment: 64, label: "x")
        #expect(!b.isCoherent)
        try b.flush()
        try b.invalidate()
        #else
        #expect(!CPUCache.isAvailable)
        do {
            _ = try pool.allocate(bytes: 64, alignment: 64, label: "x")
            Issue.record("a cached carve-out was accepted on a CPU without user-space cache maintenance")
        } catch {
            #expect(error.description.contains("AArch64"), "\(error)")
        }
        #endif
    }
}
