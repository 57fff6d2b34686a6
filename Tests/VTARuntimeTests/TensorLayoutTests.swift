import Testing
import VTATestSupport
import VTA
import VTARuntime

@Suite("TensorLayout packing")
struct TensorLayoutTests {
    static let configs = [Configs.standard, Configs.batch2, Configs.block32, Configs.alt]
    static let shapes: [(Int, Int)] = [(1, 1), (3, 17), (17, 33), (5, 65), (33, 1), (2, 32), (64, 48)]

    /// Zero-pads a row-major matrix to whole tiles, then tiles it with the spec's rule (§2.12, §8.1).
    static func specPack<T: BinaryInteger>(_ v: [T], rows: Int, cols: Int, tr: Int, tc: Int) -> [T] {
        let pr = (rows + tr - 1) / tr * tr, pc = (cols + tc - 1) / tc * tc
        var padded = [T](repeating: 0, count: pr * pc)
        for r in 0..<rows { for c in 0..<cols { padded[r * pc + c] = v[r * cols + c] } }
        return specTile(padded, rows: pr, cols: pc, tr: tr, tc: tc)
    }

    @Test("pack matches the spec's tiling with zero padding, and unpack inverts it",
          arguments: configs.map { Target(config: $0, profile: .fsim) })
    func packUnpack(target: Target) throws {
        let c = target.config
        let layout = TensorLayout(config: c)
        var rng = SplitMix64(seed: UInt64(c.batch * 100 + c.blockIn))
        for (rows, cols) in Self.shapes {
            // Non-zero values, so every zero in the packed data is padding.
            let i8 = (0..<(rows * cols)).map { _ in Int8(rng.int(1...127)) * (rng.int(0...1) == 0 ? 1 : -1) }
            let i32 = (0..<(rows * cols)).map { _ in Int32(rng.int(1...1_000_000)) }

            let inp = layout.packInput(i8, rows: rows, cols: cols)
            #expect(inp == Self.specPack(i8, rows: rows, cols: cols, tr: c.batch, tc: c.blockIn), "INP \(rows)x\(cols)")
            let wgt = layout.packWeights(i8, rows: rows, cols: cols)
            #expect(wgt == Self.specPack(i8, rows: rows, cols: cols, tr: c.blockOut, tc: c.blockIn), "WGT \(rows)x\(cols)")
            let acc = layout.packAccumulator(i32, rows: rows, cols: cols)
            #expect(acc == Self.specPack(i32, rows: rows, cols: cols, tr: c.batch, tc: c.blockOut), "ACC \(rows)x\(cols)")

            // Sizes are whole elements; padding is zero and nothing else is.
            let tilesR = (rows + c.batch - 1) / c.batch, tilesC = (cols + c.blockIn - 1) / c.blockIn
            #expect(inp.count == tilesR * tilesC * c.inpElemBytes)
            #expect(inp.filter { $0 != 0 }.count == rows * cols)
            #expect(acc.count % (c.accElemBytes / 4) == 0)
            #expect(acc.filter { $0 != 0 }.count == rows * cols)

            // Round trips.
            #expect(TensorLayout.unpack(inp, rows: rows, cols: cols, tileRows: c.batch, tileCols: c.blockIn) == i8)
            #expect(TensorLayout.unpack(wgt, rows: rows, cols: cols, tileRows: c.blockOut, tileCols: c.blockIn) == i8)
            #expect(TensorLayout.unpack(acc, rows: rows, cols: cols, tileRows: c.batch, tileCols: c.blockOut) == i32)
            let outTiles = Self.specPack(i8, rows: rows, cols: cols, tr: c.batch, tc: c.blockOut)
            #expect(layout.unpackOutput(outTiles, rows: rows, cols: cols) == i8)
        }
    }

    @Test("a hand-worked 3x3 matrix in 2x2 tiles")
    func handWorked() {
        // 1 2 3        tiles (row-major): [1 2; 4 5] [3 0; 6 0] [7 8; 0 0] [9 0; 0 0]
        // 4 5 6
        // 7 8 9
        let packed = TensorLayout.pack([1, 2, 3, 4, 5, 6, 7, 8, 9] as [Int32], rows: 3, cols: 3, tileRows: 2, tileCols: 2)
        #expect(packed == [1, 2, 4, 5, 3, 0, 6, 0, 7, 8, 0, 0, 9, 0, 0, 0])
        #expect(TensorLayout.unpack(packed, rows: 3, cols: 3, tileRows: 2, tileCols: 2) == [1, 2, 3, 4, 5, 6, 7, 8, 9])
        #expect(TensorLayout.tiles(17, 16) == 2 && TensorLayout.tiles(16, 16) == 1 && TensorLayout.tiles(1, 16) == 1)
    }

    @Test("packed data loads into SRAM and stores back unchanged through the simulator")
    func throughTheDevice() throws {
        // 5 x 40 int32 values in ACC tiles: LOAD ACC, copy with ALU SHR 0 (so the hardware
        // profile's OUT buffer holds them), STORE: the int8 result unpacks to the low bytes.
        for target in Target.standardBoth + Target.altBoth {
            let c = target.config
            let runtime = try makeRuntime(c, target.profile)
            let layout = TensorLayout(config: c)
            var rng = SplitMix64(seed: 12)
            let rows = 5, cols = 40
            let v = rng.int32s(rows * cols, in: -128...127)
            let packed = layout.packAccumulator(v, rows: rows, cols: cols)
            let elements = packed.count / (c.batch * c.blockOut)
            let acc = try runtime.buffer(packed, label: "acc")
            let out = try runtime.allocate(bytes: elements * c.outElemBytes, label: "out")
            let queue = try runtime.makeCommandQueue()
            try queue.loadBuffer2D(acc, elementOffset: 0, xSize: elements, ySize: 1, xStride: elements, sramIndex: 0, memory: .acc)
            let copy = try UopKernel.alu(config: c, .shr, immediate: 0) { r throws(RuntimeError) in
                try r.loop(extent: elements, dstFactor: 1, srcFactor: 1)
                try r.push(dst: 0, src: 0)
            }
            try queue.pushALU(copy)
            try queue.depPush(from: .compute, to: .store)
            try queue.depPop(from: .compute, to: .store)
            try queue.storeBuffer2D(sramIndex: 0, out, elementOffset: 0, xSize: elements, ySize: 1, xStride: elements)
            try queue.synchronize()
            let back = layout.unpackOutput(try out.read(Int8.self, count: elements * c.outElemBytes), rows: rows, cols: cols)
            #expect(back == v.map { Int8($0) }, "\(target.testDescription)")
        }
    }
}
