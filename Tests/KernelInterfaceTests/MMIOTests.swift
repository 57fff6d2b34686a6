import CVTAKernel
import Glibc
import Testing

/// vta_mmio.h: the accessors on a real shared mapping, and the instructions the barriers and
/// cache operations compile to on the board architectures.
@Suite struct MMIOTests {
    /// A tiny program that calls every function of the header, so each one is emitted.
    static let probe = """
        #include "vta_mmio.h"
        uint32_t r32(const volatile void *b) { return vta_mmio_read32(b, 4); }
        void w32(volatile void *b, uint32_t v) { vta_mmio_write32(b, 8, v); }
        uint64_t r64(const volatile void *b) { return vta_mmio_read64(b, 16); }
        void w64(volatile void *b, uint64_t v) { vta_mmio_write64(b, 24, v); }
        void wmb(void) { vta_io_wmb(); }
        void rmb(void) { vta_io_rmb(); }
        void mb(void) { vta_io_mb(); }
        size_t line(void) { return vta_dcache_line_size(); }
        int clean(const void *p, size_t n) { return vta_dcache_clean_range(p, n); }
        int clean_inval(const void *p, size_t n) { return vta_dcache_clean_invalidate_range(p, n); }
        """

    /// Assembly for a target, with runs of blanks and tabs folded to one space.
    static func assembly(target: String) throws -> String {
        let dir = try TempDir("vta-kit-asm")
        try dir.write("probe.c", probe)
        let out = dir.path + "/probe.s"
        let r = try Tool.run(try Tool.clang(), ["--target=\(target)", "-ffreestanding", "-O2", "-S", "-std=c11", "-Wall",
                                                "-Wextra", "-Werror", "-I", Repo.shimInclude, dir.path + "/probe.c", "-o", out])
        #expect(r.status == 0, "vta_mmio.h does not compile for \(target): \(r.stderr)")
        let text = dir.read("probe.s") ?? ""
        return text.split(separator: "\n").map { line in
            line.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ").lowercased()
        }.joined(separator: "\n")
    }

    @Test func aarch64UsesOuterShareableBarriersAndCacheMaintenance() throws {
        let asm = try Self.assembly(target: "aarch64-linux-gnu")
        for instruction in ["dmb oshst", "dmb oshld", "dsb sy", "dc cvac", "dc civac", "mrs x8, ctr_el0"] {
            #expect(asm.contains(instruction), "aarch64 assembly lacks \(instruction)")
        }
        // Inner-shareable fences (what C11/Swift atomics emit) would not order device accesses.
        #expect(!asm.contains("dmb ish"))
    }

    @Test func armv7UsesOuterShareableBarriersAndNoCacheMaintenance() throws {
        let asm = try Self.assembly(target: "armv7a-linux-gnueabihf")
        for instruction in ["dmb osh", "dsb st", "dsb sy"] {
            #expect(asm.contains(instruction), "armv7 assembly lacks \(instruction)")
        }
        // ARMv7 cache maintenance is privileged: the shim must not emit any (mcr p15).
        #expect(!asm.contains("mcr"))
    }

    @Test func hostReportsNoUserSpaceCacheMaintenance() throws {
        #if arch(x86_64)
        var byte: UInt8 = 0
        #expect(vta_dcache_line_size() == 0)
        #expect(vta_dcache_clean_range(&byte, 1) == -1)
        #expect(vta_dcache_clean_invalidate_range(&byte, 1) == -1)
        #elseif arch(arm64)
        var bytes = [UInt8](repeating: 1, count: 256)
        let line = vta_dcache_line_size()
        #expect(line >= 16 && line <= 2048 && line & (line - 1) == 0)
        #expect(vta_dcache_clean_range(&bytes, bytes.count) == 0)
        #expect(vta_dcache_clean_invalidate_range(&bytes, bytes.count) == 0)
        #expect(bytes.allSatisfy { $0 == 1 })
        #endif
        vta_io_wmb()
        vta_io_rmb()
        vta_io_mb()
    }

    @Test func accessorsRoundTripThroughASharedMapping() throws {
        let fd = vta_memfd_create("vta-mmio-test")
        try #require(fd >= 0)
        defer { close(fd) }
        let size = 4096
        try #require(ftruncate(fd, off_t(size)) == 0)
        let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        let base = try #require(mapped == MAP_FAILED ? nil : mapped)
        defer { munmap(base, size) }

        vta_mmio_write32(base, 0x18, 0xDEAD_BEEF)
        vta_mmio_write64(base, 0x20, 0x0123_4567_89AB_CDEF)
        #expect(vta_mmio_read32(base, 0x18) == 0xDEAD_BEEF)
        #expect(vta_mmio_read64(base, 0x20) == 0x0123_4567_89AB_CDEF)
        #expect(vta_mmio_read32(base, 0x1C) == 0, "a 32-bit store must not touch the next word")

        // The stores reached the shared memory: another path to the file sees them (little-endian).
        var seen = [UInt8](repeating: 0, count: 16)
        #expect(pread(fd, &seen, 16, 0x18) == 16)
        #expect(seen == [0xEF, 0xBE, 0xAD, 0xDE, 0, 0, 0, 0, 0xEF, 0xCD, 0xAB, 0x89, 0x67, 0x45, 0x23, 0x01])

        // And a store through the file is seen by the next volatile load.
        var word: [UInt8] = [0x78, 0x56, 0x34, 0x12]
        #expect(pwrite(fd, &word, 4, 0x40) == 4)
        #expect(vta_mmio_read32(base, 0x40) == 0x1234_5678)
    }
}
