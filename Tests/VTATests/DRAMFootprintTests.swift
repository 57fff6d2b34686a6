import Testing
import VTA

@Suite("DRAM footprint of a stream (what a board syncs, what the daemon copies)")
struct DRAMFootprintTests {
    func bytes(_ insns: [Instruction], _ c: HardwareConfig) throws -> [UInt8] {
        try insns.flatMap { try c.isa.encode($0).bytes }
    }

    @Test("LOAD spans (strided, padded, every memory type) are reads; STORE spans are writes; touching spans merge")
    func spans() throws {
        let c = HardwareConfig.standard
        let stream = try bytes([
            // 3 rows of 4 INP elements (16 B) with stride 10: first row at element 100.
            .load(MemoryInstruction(memoryType: .inp, sramBase: 0, dramBase: 100, ySize: 3, xSize: 4, xStride: 10, xPad0: 1)),
            // Padding does not read DRAM; the span is still rows only.
            .load(MemoryInstruction(memoryType: .uop, sramBase: 0, dramBase: 0x400, ySize: 1, xSize: 8, xStride: 8)),
            .load(MemoryInstruction(memoryType: .uop, sramBase: 8, dramBase: 0x408, ySize: 1, xSize: 8, xStride: 8)),  // touches the previous
            .load(MemoryInstruction(memoryType: .acc, sramBase: 0, dramBase: 0, ySize: 0, xSize: 4, xStride: 4)),  // empty: nothing
            .store(MemoryInstruction(memoryType: .out, sramBase: 0, dramBase: 0x2000, ySize: 2, xSize: 1, xStride: 3)),
            .finish([]),
        ], c)
        let f = stream.withUnsafeBytes { DRAMFootprint(stream: $0, config: c) }
        let inpStart = UInt64(100 * c.inpElemBytes)
        let inpEnd: UInt64 = inpStart + UInt64((2 * 10 + 4) * c.inpElemBytes)
        let uops: Range<UInt64> = 0x1000..<0x1040  // elements 0x400..<0x410, 4 bytes each
        let expectedReads: [Range<UInt64>] = [inpStart..<inpEnd, uops]
        #expect(f.reads == expectedReads)
        let outStart = UInt64(0x2000 * c.outElemBytes)
        let outEnd: UInt64 = outStart + UInt64(4 * c.outElemBytes)
        let expectedWrites: [Range<UInt64>] = [outStart..<outEnd]
        #expect(f.writes == expectedWrites)
    }

    @Test("DMA base registers are added per port")
    func bases() throws {
        let c = HardwareConfig.standard
        let stream = try bytes([.load(MemoryInstruction(memoryType: .wgt, sramBase: 0, dramBase: 1, ySize: 1, xSize: 1, xStride: 1)), .finish([])], c)
        let f = stream.withUnsafeBytes { DRAMFootprint(stream: $0, config: c, bases: DMABaseAddresses(wgt: 0x10_0000)) }
        let start = UInt64(0x10_0000 + c.wgtElemBytes)
        let end: UInt64 = start + UInt64(c.wgtElemBytes)
        let expected: [Range<UInt64>] = [start..<end]
        #expect(f.reads == expected)
        #expect(f.writes.isEmpty)
    }
}
