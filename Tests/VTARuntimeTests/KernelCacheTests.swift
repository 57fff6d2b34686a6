import Testing
import VTATestSupport
import VTA
import VTARuntime
import VTASimulator

@Suite("Micro-op cache and kernel cache (spec §6.4–6.5)")
struct KernelCacheTests {
    // MARK: The in-batch wrap of §6.5

    /// ALU ADD `imm` over 5000 micro-ops: rows `base ..< base + 1000`, cycled five times (so no
    /// micro-op writes the row of either of the two before it).
    static func fivePassAdd(_ c: HardwareConfig, base: Int, imm: Int16) throws -> UopKernel {
        try UopKernel.alu(config: c, .add, immediate: imm) { r throws(RuntimeError) in
            for i in 0..<5000 { try r.push(dst: base + i % 1000, src: base + i % 1000) }
        }
    }

    struct WrapCase: Sendable, CustomTestStringConvertible {
        /// Kernels pushed in one batch: 0 = A (+1 on rows 0..999), 1 = B (+100 on rows 1000..1999).
        let order: [Int]
        let profile: SimulatorProfile
        var testDescription: String { order.map { $0 == 0 ? "A" : "B" }.joined() + " " + profile.rawValue }
    }

    static let wrapCases: [WrapCase] = SimulatorProfile.allCases.flatMap { p in
        [WrapCase(order: [0, 1], profile: p), WrapCase(order: [0, 1, 0], profile: p), WrapCase(order: [0, 1, 0, 1], profile: p)]
    }

    @Test("kernels that overflow the 8192-entry micro-op SRAM in one batch still run their own micro-ops",
          arguments: wrapCases)
    func inBatchWrap(wrap: WrapCase) throws {
        let c = Configs.standard
        #expect(c.uopBuffDepth == 8192)
        let device = try RecordingDevice(config: c, profile: wrap.profile)
        let runtime = Runtime(device: device)
        let queue = try runtime.makeCommandQueue()
        let zeros = try runtime.buffer([Int32](repeating: 0, count: 2000 * 16), label: "zeros")
        let out = try runtime.allocate(bytes: 2000 * 16, label: "out")
        let kernels = [try Self.fivePassAdd(c, base: 0, imm: 1), try Self.fivePassAdd(c, base: 1000, imm: 100)]
        // A final copy (SHR by 0) over all 2000 rows, so that the hardware profile's OUT buffer
        // holds the final accumulator values for the STORE.
        let copy = try UopKernel.alu(config: c, .shr, immediate: 0) { r throws(RuntimeError) in
            try r.loop(extent: 2000, dstFactor: 1, srcFactor: 1)
            try r.push(dst: 0, src: 0)
        }

        try queue.loadBuffer2D(zeros, elementOffset: 0, xSize: 2000, ySize: 1, xStride: 2000, sramIndex: 0, memory: .acc)
        for k in wrap.order { try queue.pushALU(kernels[k]) }
        try queue.pushALU(copy)
        try queue.depPush(from: .compute, to: .store)
        try queue.depPop(from: .compute, to: .store)
        try queue.storeBuffer2D(sramIndex: 0, out, elementOffset: 0, xSize: 2000, ySize: 1, xStride: 2000)
        try queue.synchronize()

        let runsOfA = wrap.order.filter { $0 == 0 }.count, runsOfB = wrap.order.count - runsOfA
        let expectA = Int32(5 * runsOfA), expectB = Int32(500 * runsOfB)   // upstream gave 0 and 505 for "AB"
        var badAcc = 0
        for row in 0..<2000 {
            for lane in 0..<16 where device.inner.accumulator(row: row, lane: lane) != (row < 1000 ? expectA : expectB) { badAcc += 1 }
        }
        #expect(badAcc == 0, "\(badAcc) accumulator lanes differ from \(expectA) / \(expectB)")
        let stored = try out.read(Int8.self, count: 2000 * 16)
        let expectedOut = (0..<(2000 * 16)).map { Int8(truncatingIfNeeded: $0 < 1000 * 16 ? expectA : expectB) }
        let badOut = zip(stored, expectedOut).filter { $0 != $1 }.count
        #expect(stored.count == expectedOut.count && badOut == 0,
                "\(badOut) stored values differ; rows 0 and 1000 hold \(stored[0]) and \(stored[1000 * 16])")

        // Every kernel is loaded at SRAM 0 (each 5000-entry kernel wraps the 8192-entry SRAM), from
        // its own append-only staging offset, and each LOAD UOP fetches that kernel's micro-ops.
        let run = try #require(device.recorded.first)
        let uopLoads = run.words.enumerated().map { ($0.offset, SpecInsn($0.element)) }
            .filter { $0.1.kind == .load && $0.1["memory_type"] == Expect.uop && $0.1["x_size"] > 0 }
        try #require(uopLoads.count == wrap.order.count + 1)
        let base = uopLoads[0].1["dram_base"]
        for (n, (index, insn)) in uopLoads.enumerated() {
            let isCopy = n == wrap.order.count
            #expect(insn["sram_base"] == (isCopy ? 5000 : 0))
            #expect(insn["x_size"] == (isCopy ? 1 : 5000))
            #expect(insn["dram_base"] == base + Int64(5000 * n))
            let fetched = run.uopLoads[index] ?? []
            let rowBase = isCopy ? 0 : (wrap.order[n] == 0 ? 0 : 1000)
            let expectedDst = isCopy ? [0] : (0..<5000).map { rowBase + $0 % 1000 }
            let fetchedDst = fetched.map { SpecLayout.standard.decode(uop: $0).dst }
            #expect(mismatches(fetchedDst, expectedDst) == 0, "LOAD UOP \(n) fetched micro-ops for rows \(fetchedDst.first ?? -1)..., expected \(expectedDst.first ?? -1)...")
        }
        #expect(queue.statistics.kernelLoads == wrap.order.count + 1)
        #expect(queue.statistics.uopsLoaded == 5000 * wrap.order.count + 1)
    }

    @Test("placement and eviction follow spec §6.5 step by step", arguments: SimulatorProfile.allCases)
    func placementAndEviction(profile: SimulatorProfile) throws {
        let c = Configs.standard
        let device = try RecordingDevice(config: c, profile: profile)
        let runtime = Runtime(device: device)
        let queue = try runtime.makeCommandQueue()
        func cycling(_ n: Int, base: Int, imm: Int16) throws -> UopKernel {
            try UopKernel.alu(config: c, .add, immediate: imm) { r throws(RuntimeError) in
                for i in 0..<n { try r.push(dst: base + i % 1000, src: base + i % 1000) }
            }
        }
        let k1 = try cycling(5000, base: 0, imm: 1)      // 5 passes over rows 0..999
        let k2 = try cycling(3000, base: 1000, imm: 10)  // 3 passes over rows 1000..1999
        let k3 = try cycling(1000, base: 0, imm: 100)    // 1 pass over rows 0..999
        let zeros = try runtime.buffer([Int32](repeating: 0, count: 2000 * 16), label: "zeros")
        try queue.loadBuffer2D(zeros, elementOffset: 0, xSize: 2000, ySize: 1, xStride: 2000, sramIndex: 0, memory: .acc)
        for k in [k1, k2, k3, k2, k1, k2] { try queue.pushALU(k) }

        // Hand-traced from §6.5 (capacity 8192):
        // K1 -> [0, 5000); K2 -> [5000, 8000); K3 does not fit: wrap, [0, 1000), evicts K1 only;
        // K2 is still resident (no load); K1 -> [1000, 6000), evicts K2; K2 does not fit: wrap,
        // [0, 3000), evicts K3 and K1. Staging offsets are append-only: 0, 5000, 8000, 9000, 14000.
        let q = queue.queuedInstructions.map { SpecInsn($0) }
        let loads = q.filter { $0.kind == .load && $0["memory_type"] == Expect.uop }
        #expect(loads.map { [$0["sram_base"], $0["x_size"]] } == [[0, 5000], [5000, 3000], [0, 1000], [1000, 5000], [0, 3000]])
        let stagingBase = loads.first?["dram_base"] ?? 0
        #expect(loads.map { $0["dram_base"] - stagingBase } == [0, 5000, 8000, 9000, 14000])
        let alus = q.filter { $0.kind == .alu }
        #expect(alus.map { [$0["uop_bgn"], $0["uop_end"]] } == [[0, 5000], [5000, 8000], [0, 1000], [5000, 8000], [1000, 6000], [0, 3000]])
        #expect(queue.statistics.kernelLoads == 5)

        try queue.synchronize()
        // Rows 0..999: K1 twice (5 + 5) and K3 once (100); rows 1000..1999: K2 three times (3 x 3 x 10).
        var bad = 0
        for row in 0..<2000 {
            for lane in 0..<16 where device.inner.accumulator(row: row, lane: lane) != (row < 1000 ? 110 : 90) { bad += 1 }
        }
        #expect(bad == 0)
    }

    // MARK: Residency within and across batches

    @Test("a repeated kernel is loaded once per batch and reloaded after synchronize")
    func loadedOncePerBatch() throws {
        let c = Configs.standard
        let runtime = try makeRuntime()
        let queue = try runtime.makeCommandQueue()
        let rows = try runtime.buffer([Int32](repeating: 10, count: 4 * 16), label: "rows")
        let out = try runtime.allocate(bytes: 4 * 16, label: "out")
        let addOne = try UopKernel.alu(config: c, .add, immediate: 1) { r throws(RuntimeError) in
            for i in 0..<4 { try r.push(dst: i, src: i) }
        }
        try queue.loadBuffer2D(rows, elementOffset: 0, xSize: 4, ySize: 1, xStride: 4, sramIndex: 0, memory: .acc)
        for _ in 0..<3 { try queue.pushALU(addOne) }
        #expect(queue.statistics.kernelLoads == 1)
        #expect(queue.statistics.uopsLoaded == 4)
        let q = queue.queuedInstructions.map { SpecInsn($0) }
        #expect(q.filter { $0.kind == .load && $0["memory_type"] == Expect.uop }.count == 1)
        let alus = q.filter { $0.kind == .alu }
        #expect(alus.count == 3)
        #expect(alus.allSatisfy { $0["uop_bgn"] == 0 && $0["uop_end"] == 4 })
        try queue.depPush(from: .compute, to: .store)
        try queue.depPop(from: .compute, to: .store)
        try queue.storeBuffer2D(sramIndex: 0, out, elementOffset: 0, xSize: 4, ySize: 1, xStride: 4)
        try queue.synchronize()
        #expect(try out.read(Int8.self, count: 64) == [Int8](repeating: 13, count: 64))

        // Next batch: the micro-op cache was emptied, so the kernel is loaded again.
        try queue.pushALU(addOne)
        #expect(queue.statistics.kernelLoads == 2)
        #expect(queue.statistics.uopsLoaded == 8)
        let q2 = queue.queuedInstructions.map { SpecInsn($0) }
        #expect(q2.count == 2)
        #expect(q2.first.map { $0.kind == .load && $0["memory_type"] == Expect.uop && $0["x_size"] == 4 && $0["sram_base"] == 0 } == true)
        try queue.depPush(from: .compute, to: .store)
        try queue.depPop(from: .compute, to: .store)
        try queue.storeBuffer2D(sramIndex: 0, out, elementOffset: 0, xSize: 4, ySize: 1, xStride: 4)
        try queue.synchronize()
        #expect(try out.read(Int8.self, count: 64) == [Int8](repeating: 14, count: 64))
    }

    @Test("kernels are cached by identity: equal contents in two objects load twice")
    func identityNotContents() throws {
        let c = Configs.standard
        let queue = try makeRuntime().makeCommandQueue()
        func make() throws -> UopKernel {
            try UopKernel.alu(config: c, .max, immediate: 0) { r throws(RuntimeError) in try r.push(dst: 0, src: 0) }
        }
        let k1 = try make(), k2 = try make()
        try queue.pushALU(k1)
        try queue.pushALU(k2)
        try queue.pushALU(k1)
        #expect(queue.statistics.kernelLoads == 2)
        let alus = queue.queuedInstructions.map { SpecInsn($0) }.filter { $0.kind == .alu }
        #expect(alus.map { $0["uop_bgn"] } == [0, 1, 0])
        queue.reset()
    }

    @Test("KernelCache returns the same instance for a key and records each key once")
    func kernelCache() throws {
        let c = Configs.standard
        let cache = KernelCache()
        var builds = 0
        func build(_ dst: Int) -> () throws(RuntimeError) -> UopKernel {
            { () throws(RuntimeError) in
                builds += 1
                return try UopKernel.gemm(config: c) { r throws(RuntimeError) in try r.push(dst: dst, src: 0, wgt: 0) }
            }
        }
        let a1 = try cache.kernel("a", build: build(1))
        let a2 = try cache.kernel("a", build: build(2))
        let b = try cache.kernel(7, build: build(3))
        #expect(a1 === a2)
        #expect(a1 !== b)
        #expect(builds == 2)
        #expect(cache.count == 2)
        #expect(a2.uops == [MicroOp(dst: 1, src: 0, wgt: 0)])
        // A failing build is not cached.
        let failure = runtimeError { _ = try cache.kernel("bad") { () throws(RuntimeError) in throw RuntimeError.kernel("boom") } }
        #expect(failure != nil)
        #expect(cache.count == 2)
        let bad2 = try cache.kernel("bad", build: build(4))
        #expect(bad2.uops.first?.dst == 4)
        #expect(cache.count == 3)
    }
}
