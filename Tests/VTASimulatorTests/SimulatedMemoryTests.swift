import Testing
import VTATestSupport
import VTA
import VTASimulator

/// The reference's physical-address model (conformance README §3.1, spec §7.2).
@Suite("SimulatedMemory")
struct SimulatedMemoryTests {
    @Test("allocations take consecutive pages from 0x1000; freed blocks are reused smallest-first, whole")
    func addressModel() throws {
        let m = SimulatedMemory()
        let a = try m.allocate(bytes: 4096)          // 1 page
        let b = try m.allocate(bytes: 3 * 4096)      // 3 pages
        let c = try m.allocate(bytes: 4097)          // 2 pages
        let d = try m.allocate(bytes: 1)             // 1 page
        #expect([a.physical, b.physical, c.physical, d.physical] == [0x1000, 0x2000, 0x5000, 0x7000])
        #expect(m.pageTableSize == 7 && m.liveBytes == 7 * 4096)

        try m.free(physical: b.physical)
        try m.free(physical: c.physical)
        #expect(m.liveBytes == 2 * 4096 && m.pageTableSize == 7)
        #expect(m.pointer(physical: b.physical, length: 1) == nil, "a freed block is not addressable")

        // Two pages: the 2-page block is the smallest that fits (not the 3-page one freed first).
        let e = try m.allocate(bytes: 2 * 4096)
        #expect(e.physical == 0x5000 && e.pointer == c.pointer)
        // Four pages: no free block is big enough, so new pages are appended.
        let f = try m.allocate(bytes: 4 * 4096)
        #expect(f.physical == 0x8000 && m.pageTableSize == 11)
        // One page: the 3-page block is reused whole at its old address.
        let g = try m.allocate(bytes: 100)
        #expect(g.physical == 0x2000 && g.pointer == b.pointer)
        #expect(m.pointer(physical: 0x2000 + 2 * 4096, length: 4096) != nil, "the reused block keeps all 3 pages")
        #expect(m.pageTableSize == 11)
        // Nothing free: new pages at the end of the table.
        let h = try m.allocate(bytes: 4096)
        #expect(h.physical == 0xC000 && m.pageTableSize == 12)
        #expect(m.liveBytes == (1 + 3 + 2 + 1 + 4 + 1) * 4096)
    }

    @Test("among equally small free blocks the one freed first is reused (multimap lower_bound)")
    func tieBreak() throws {
        let m = SimulatedMemory()
        let x = try m.allocate(bytes: 4096)
        let y = try m.allocate(bytes: 4096)
        let z = try m.allocate(bytes: 4096)
        try m.free(physical: y.physical)
        try m.free(physical: z.physical)
        try m.free(physical: x.physical)
        // Free list keyed by page count, equal keys in insertion order: y, z, x.
        #expect(try m.allocate(bytes: 10).physical == y.physical)
        #expect(try m.allocate(bytes: 10).physical == z.physical)
        #expect(try m.allocate(bytes: 10).physical == x.physical)
        #expect(try m.allocate(bytes: 10).physical == 0x4000)
    }

    @Test("double free, unknown addresses and bad sizes are errors")
    func errors() throws {
        let m = SimulatedMemory()
        let a = try m.allocate(bytes: 3 * 4096)
        try m.free(physical: a.physical)
        #expect(throws: SimulatedMemoryError.unknownAddress(a.physical)) { try m.free(physical: a.physical) }
        let b = try m.allocate(bytes: 10)
        #expect(b.physical == a.physical)
        for bad: UInt64 in [0, 0x0FFF, 0x1234, b.physical + 4096, 0x10_0000, 0xFFFF_F000] {
            #expect(throws: SimulatedMemoryError.unknownAddress(bad)) { try m.free(physical: bad) }
        }
        #expect(throws: SimulatedMemoryError.invalidSize(0)) { try m.allocate(bytes: 0) }
        #expect(throws: SimulatedMemoryError.invalidSize(-5)) { try m.allocate(bytes: -5) }
        let e = SimulatedMemoryError.unknownAddress(0x1234)
        #expect(e.description.contains("0x1234"))
    }

    @Test("pointers cover exactly one live block")
    func pointers() throws {
        let m = SimulatedMemory()
        let a = try m.allocate(bytes: 2 * 4096)
        let b = try m.allocate(bytes: 4096)
        a.pointer.storeBytes(of: 0xAB, toByteOffset: 4096 + 7, as: UInt8.self)
        let p = try #require(m.pointer(physical: a.physical + 4096 + 7, length: 1))
        #expect(p.load(as: UInt8.self) == 0xAB)
        #expect(m.pointer(physical: a.physical, length: 2 * 4096) == a.pointer)
        #expect(m.pointer(physical: a.physical + 1, length: 2 * 4096) == nil, "crosses into the next block")
        #expect(m.pointer(physical: b.physical, length: 4097) == nil, "runs past the page table")
        #expect(m.pointer(physical: 0x800, length: 1) == nil)
        #expect(m.pointer(physical: b.physical, length: 4096) == b.pointer)
    }
}
