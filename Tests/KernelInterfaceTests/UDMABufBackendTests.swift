import Glibc
import Testing
import VTA
import VTAHardware

/// UDMABufBackend against fake sysfs/dev trees: the node is a plain file, so every ioctl fails
/// with ENOTTY and the backend must use the sysfs values and sync files, as with a module older
/// than v4.7.
@Suite struct UDMABufBackendTests {
    static let poolSize = 1 << 20

    /// `ROOT/sys/class/<cls>/<name>/...` and `ROOT/dev/<name>`.
    static func fakePool(_ dir: TempDir, cls: String = "u-dma-buf", name: String = "vta-dma",
                         physAddr: String = "0x1f000000", coherent: String? = "0", node: Bool = true) throws {
        let base = "sys/class/\(cls)/\(name)/"
        try dir.write(base + "phys_addr", physAddr + "\n")
        try dir.write(base + "size", "\(poolSize)\n")
        if let coherent { try dir.write(base + "dma_coherent", coherent + "\n") }
        try dir.write(base + "uevent", "MAJOR=240\nMINOR=0\nDEVNAME=\(name)\n")
        try dir.write(base + "sync_for_device", "0\n")
        try dir.write(base + "sync_for_cpu", "0\n")
        if node { try dir.makeFile("dev/\(name)", size: poolSize) }
    }

    /// The error's text, or nil when `body` did not throw.
    static func message(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch { return "\(error)" }
    }

    @Test(arguments: ["0x1f000000", "0x000000001f000000"])
    func readsSysfsAndMapsThePool(_ physAddr: String) throws {
        let dir = try TempDir()
        try Self.fakePool(dir, physAddr: physAddr)
        let backend = try UDMABufBackend(roots: .under(dir.path))
        #expect(backend.device.name == "vta-dma")
        #expect(backend.device.devicePath == dir.path + "/dev/vta-dma")
        #expect(backend.physicalAddress == 0x1F00_0000)
        #expect(backend.ioctlVersion == nil, "a plain file answers ENOTTY")
        #expect(!backend.isGrowable)
        #expect(backend.capacity == Self.poolSize)

        let region = try backend.allocateRegion(bytes: 4096, cacheable: true)
        defer { region.release() }
        #expect(region.physicalAddress == 0x1F00_0000)
        #expect(region.size == Self.poolSize, "the whole pool is one region")
        #expect(!region.isCoherent)
        #expect(region.label.contains("vta-dma"))
        #expect(backend.capacity == 0)

        // Stores through the mapping land in the node (MAP_SHARED).
        (region.cpuAddress + 8192).storeBytes(of: 0xA5A5_5A5A as UInt32, as: UInt32.self)
        (region.cpuAddress + Self.poolSize - 1).storeBytes(of: 0x7E as UInt8, as: UInt8.self)
        let fd = open(dir.path + "/dev/vta-dma", O_RDONLY)
        defer { close(fd) }
        var word: UInt32 = 0
        #expect(pread(fd, &word, 4, 8192) == 4)
        #expect(word == 0xA5A5_5A5A)
        var last: UInt8 = 0
        #expect(pread(fd, &last, 1, off_t(Self.poolSize - 1)) == 1)
        #expect(last == 0x7E)
    }

    @Test func syncFallsBackToTheSysfsFilesWithTheDocumentedEncoding() throws {
        let dir = try TempDir()
        try Self.fakePool(dir)
        let backend = try UDMABufBackend(roots: .under(dir.path))
        let region = try backend.allocateRegion(bytes: Self.poolSize, cacheable: true)
        defer { region.release() }
        // Bytes 100..<150 widen to 16-byte granules 96..<160: offset 96 in bits 63-32, size 64,
        // direction 1 (to device) in bits 3-2, command bit 0.
        try region.syncForDevice(offset: 100, length: 50)
        #expect(dir.read("sys/class/u-dma-buf/vta-dma/sync_for_device") == "0x6000000045\n")
        // A whole page from the start, direction 2 (from device).
        try region.syncForCPU(offset: 0, length: 4096)
        #expect(dir.read("sys/class/u-dma-buf/vta-dma/sync_for_cpu") == "0x1009\n")
        // The end of the pool is not overshot.
        try region.syncForCPU(offset: Self.poolSize - 3, length: 3)
        #expect(dir.read("sys/class/u-dma-buf/vta-dma/sync_for_cpu") == "0xffff000000019\n")
    }

    @Test func syncCommandEncoding() {
        #expect(UDMABufSyncCommand.commands(offset: 0, length: 0, poolSize: 4096, direction: .toDevice) == [])
        #expect(UDMABufSyncCommand.commands(offset: 4000, length: 200, poolSize: 4096, direction: .toDevice) == nil)
        #expect(UDMABufSyncCommand.commands(offset: 16, length: 1, poolSize: 4096, direction: .bidirectional) == [0x10_0000_0011])
        // More than the 28-bit size field in one go: split into pieces.
        let big = UDMABufSyncCommand.commands(offset: 0, length: 0x1_0000_0000, poolSize: 0x1_0000_0000, direction: .fromDevice)
        #expect(big == [0xFFFF_FFF9, 0xFFFF_FFF0_0000_0019])
    }

    @Test func coherentPoolNeedsNoSync() throws {
        let dir = try TempDir()
        try Self.fakePool(dir, coherent: "1")
        let backend = try UDMABufBackend(roots: .under(dir.path))
        let region = try backend.allocateRegion(bytes: 64, cacheable: true)
        defer { region.release() }
        #expect(region.isCoherent)
        try region.syncForDevice(offset: 0, length: 4096)
        try region.syncForCPU(offset: 0, length: 4096)
        #expect(dir.read("sys/class/u-dma-buf/vta-dma/sync_for_device") == "0\n", "no maintenance when coherent")
        #expect(dir.read("sys/class/u-dma-buf/vta-dma/sync_for_cpu") == "0\n")
    }

    @Test func oldModuleWithoutDmaCoherentIsNonCoherent() throws {
        let dir = try TempDir()
        try Self.fakePool(dir, coherent: nil)
        #expect(try !UDMABufBackend(roots: .under(dir.path)).isCoherent)
    }

    @Test func findsTheLegacyUdmabufClass() throws {
        let dir = try TempDir()
        try Self.fakePool(dir, cls: "udmabuf", name: "udmabuf0", physAddr: "0x3c000000")
        let backend = try UDMABufBackend(roots: .under(dir.path))
        #expect(backend.device.isLegacyClass)
        #expect(backend.device.name == "udmabuf0")
        #expect(backend.physicalAddress == 0x3C00_0000)
        let named = try UDMABufBackend(name: "udmabuf0", roots: .under(dir.path))
        #expect(named.device.sysfsPath == dir.path + "/sys/class/udmabuf/udmabuf0")
    }

    @Test func prefersVtaDmaOverOtherPools() throws {
        let dir = try TempDir()
        try Self.fakePool(dir, name: "aaa-first", physAddr: "0x10000000")
        try Self.fakePool(dir, name: "vta-dma", physAddr: "0x20000000")
        #expect(try UDMABufBackend(roots: .under(dir.path)).physicalAddress == 0x2000_0000)
        #expect(try UDMABufBackend(name: "aaa-first", roots: .under(dir.path)).physicalAddress == 0x1000_0000)
    }

    @Test func missingTreeNamesThePaths() throws {
        let dir = try TempDir()
        let none = Self.message { _ = try UDMABufBackend(roots: .under(dir.path)) }
        #expect(none?.contains(dir.path + "/sys/class/u-dma-buf") == true, "\(none ?? "no error")")
        #expect(none?.contains("udmabuf0=") == true)

        try Self.fakePool(dir)
        let named = Self.message { _ = try UDMABufBackend(name: "other", roots: .under(dir.path)) }
        #expect(named?.contains(dir.path + "/sys/class/u-dma-buf/other does not exist") == true, "\(named ?? "no error")")
        #expect(named?.contains("vta-dma") == true, "lists the pools that do exist")
    }

    @Test func missingAttributeOrNodeIsNamed() throws {
        let dir = try TempDir()
        try Self.fakePool(dir, node: false)
        let noNode = Self.message { _ = try UDMABufBackend(roots: .under(dir.path)) }
        #expect(noNode?.contains(dir.path + "/dev/vta-dma") == true, "\(noNode ?? "no error")")
        #expect(noNode?.contains("errno \(ENOENT)") == true)

        try dir.makeFile("dev/vta-dma", size: Self.poolSize)
        unlink(dir.path + "/sys/class/u-dma-buf/vta-dma/phys_addr")
        let noAddr = Self.message { _ = try UDMABufBackend(roots: .under(dir.path)) }
        #expect(noAddr?.contains(dir.path + "/sys/class/u-dma-buf/vta-dma/phys_addr does not exist") == true, "\(noAddr ?? "no error")")

        try dir.write("sys/class/u-dma-buf/vta-dma/phys_addr", "garbage\n")
        let badAddr = Self.message { _ = try UDMABufBackend(roots: .under(dir.path)) }
        #expect(badAddr?.contains("garbage") == true)
    }

    @Test func fixedPoolIsHandedOutOnceUntilReleased() throws {
        let dir = try TempDir()
        try Self.fakePool(dir)
        let backend = try UDMABufBackend(roots: .under(dir.path))
        let tooBig = Self.message { _ = try backend.allocateRegion(bytes: Self.poolSize + 1, cacheable: true) }
        #expect(tooBig?.contains("size") == true && tooBig?.contains("\(Self.poolSize + 1)") == true, "\(tooBig ?? "no error")")

        let first = try backend.allocateRegion(bytes: 16, cacheable: false)
        let second = Self.message { _ = try backend.allocateRegion(bytes: 16, cacheable: true) }
        #expect(second?.contains("already") == true, "\(second ?? "no error")")
        first.release()
        first.release()  // idempotent
        let again = try backend.allocateRegion(bytes: 16, cacheable: true)
        again.release()
    }

    @Test func syncChecksBoundsAndReportsUnwritableSysfs() throws {
        let dir = try TempDir()
        try Self.fakePool(dir)
        let backend = try UDMABufBackend(roots: .under(dir.path))
        let region = try backend.allocateRegion(bytes: 16, cacheable: true)
        defer { region.release() }
        let outside = Self.message { try region.syncForDevice(offset: Self.poolSize - 8, length: 16) }
        #expect(outside?.contains("outside buffer") == true, "\(outside ?? "no error")")
        unlink(dir.path + "/sys/class/u-dma-buf/vta-dma/sync_for_cpu")
        let missing = Self.message { try region.syncForCPU(offset: 0, length: 64) }
        #expect(missing?.contains(dir.path + "/sys/class/u-dma-buf/vta-dma/sync_for_cpu") == true, "\(missing ?? "no error")")
        #expect(missing?.contains("cache maintenance failed") == true)
    }

    @Test func availabilityDescribesPoolsOrTheirAbsence() throws {
        let dir = try TempDir()
        #expect(UDMABufBackend.describeAvailability(roots: .under(dir.path)).contains("none"))
        try Self.fakePool(dir)
        let text = UDMABufBackend.describeAvailability(roots: .under(dir.path))
        #expect(text.contains("vta-dma") && text.contains("1 MiB") && text.contains("0x1f000000"), "\(text)")
    }
}
