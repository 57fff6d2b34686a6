import Testing
import VTATestSupport
import VTA
import VTARuntime
import VTASimulator

/// The verified instruction streams of spec §6.7, observed twice: through `queuedInstructions`
/// before synchronisation, and as the accelerator fetches them (a recording `Device` reads the
/// stream from simulated DRAM when `run` is called), decoded with the spec's bit layout.
@Suite("Instruction streams (spec §6.7)")
struct InstructionStreamTests {
    /// Spec §7.2: with a fresh simulator the queue's micro-op staging buffer (32 MiB) is the
    /// first allocation (physical 0x1000), the instruction buffer the second (0x0200_1000), and
    /// user buffers follow from 0x0400_1000.
    static let uopStagingPhys: Int64 = 0x1000
    static let firstUserPhys: Int64 = 0x0400_1000

    @Test("empty synchronize runs STORE no-op, LOAD INP no-op, LOAD UOP no-op, FINISH", arguments: SimulatorProfile.allCases)
    func emptySynchronize(profile: SimulatorProfile) throws {
        let device = try RecordingDevice(profile: profile)
        let queue = try CommandQueue(device: device)
        #expect(queue.queuedInstructions.isEmpty)
        let report = try queue.synchronize()
        let runs = device.recorded
        try #require(runs.count == 1)
        expectStream(runs[0].words.map { SpecInsn($0) }, [
            Expect.store(Expect.uop, ["push_prev"]),
            Expect.load(Expect.inp, ["push_next"]),
            Expect.load(Expect.uop, ["pop_prev", "pop_next"]),
            Expect.finish,
        ])
        // Exact words: every field other than opcode, flags and memory type is zero (§6.3).
        #expect(runs[0].words == [
            InstructionWord(low: 0x1 | 0x20, high: 0),             // STORE, push_prev (bit 5)
            InstructionWord(low: 0x40 | (2 << 7), high: 0),         // LOAD, push_next (bit 6), INP
            InstructionWord(low: 0x08 | 0x10, high: 0),             // LOAD UOP, pop_prev | pop_next
            InstructionWord(low: 0x3, high: 0),                     // FINISH
        ])
        #expect(report.fetched == 4)
        #expect(report.leftoverTokens.isEmpty)
        #expect(queue.count == 0)
        #expect(queue.statistics.synchronizations == 1)
    }

    /// The small GEMM program of §6.7, as queue calls. Returns the expected results as well.
    struct SmallGEMM {
        let inp: [Int8]   // 2 INP elements of [1][16]
        let wgt: [Int8]   // 1 WGT element of [16][16]
        let out: any DMABuffer

        /// Host reference: OUT[i][c] = int8(sum_k inp[i][k] * wgt[c][k]).
        var expected: [Int8] {
            var r = [Int8]()
            for i in 0..<2 {
                for c in 0..<16 {
                    var s: Int32 = 0
                    for k in 0..<16 { s &+= Int32(inp[i * 16 + k]) * Int32(wgt[c * 16 + k]) }
                    r.append(Int8(truncatingIfNeeded: s))
                }
            }
            return r
        }

        static func enqueue(_ queue: CommandQueue, runtime: Runtime, seed: UInt64) throws -> SmallGEMM {
            var rng = SplitMix64(seed: seed)
            let inp = rng.int8s(32), wgt = rng.int8s(256)
            let inpBuf = try runtime.buffer(inp, label: "inp")
            let wgtBuf = try runtime.buffer(wgt, label: "wgt")
            let outBuf = try runtime.allocate(bytes: 32, label: "out")
            let c = runtime.config
            try queue.loadBuffer2D(inpBuf, elementOffset: 0, xSize: 2, ySize: 1, xStride: 2, sramIndex: 0, memory: .inp)
            try queue.loadBuffer2D(wgtBuf, elementOffset: 0, xSize: 1, ySize: 1, xStride: 1, sramIndex: 0, memory: .wgt)
            try queue.depPush(from: .load, to: .compute)
            try queue.depPop(from: .load, to: .compute)
            let reset = try UopKernel.gemm(config: c, reset: true) { r throws(RuntimeError) in
                try r.loop(extent: 2, dstFactor: 1, srcFactor: 0)
                try r.push(dst: 0, src: 0, wgt: 0)
            }
            let gemm = try UopKernel.gemm(config: c) { r throws(RuntimeError) in
                try r.loop(extent: 2, dstFactor: 1, srcFactor: 1)
                try r.push(dst: 0, src: 0, wgt: 0)
            }
            try queue.pushGEMM(reset)
            try queue.pushGEMM(gemm)
            try queue.depPush(from: .compute, to: .store)
            try queue.depPop(from: .compute, to: .store)
            try queue.storeBuffer2D(sramIndex: 0, outBuf, elementOffset: 0, xSize: 2, ySize: 1, xStride: 2)
            return SmallGEMM(inp: inp, wgt: wgt, out: outBuf)
        }
    }

    /// The 10 instructions of §6.7, with the addresses of §7.2 and §2.12 (dram_base = phys / element bytes).
    static var smallGEMMStream: [SpecInsn] {
        let inpDram = firstUserPhys / 16, wgtDram = (firstUserPhys + 0x1000) / 256, outDram = (firstUserPhys + 0x2000) / 16
        let uopDram = uopStagingPhys / 4
        return [
            Expect.load(Expect.inp, [], ["dram_base": inpDram, "y_size": 1, "x_size": 2, "x_stride": 2]),
            Expect.load(Expect.wgt, ["push_next"], ["dram_base": wgtDram, "y_size": 1, "x_size": 1, "x_stride": 1]),
            Expect.load(Expect.uop, ["pop_prev"], ["sram_base": 0, "dram_base": uopDram, "y_size": 1, "x_size": 1, "x_stride": 1]),
            Expect.gemm([], ["reset": 1, "uop_bgn": 0, "uop_end": 1, "iter_out": 2, "iter_in": 1, "dst_factor_out": 1]),
            Expect.load(Expect.uop, [], ["sram_base": 1, "dram_base": uopDram + 1, "y_size": 1, "x_size": 1, "x_stride": 1]),
            Expect.gemm(["push_next"], ["uop_bgn": 1, "uop_end": 2, "iter_out": 2, "iter_in": 1,
                                        "dst_factor_out": 1, "src_factor_out": 1]),
            Expect.store(Expect.out, ["pop_prev", "push_prev"], ["dram_base": outDram, "y_size": 1, "x_size": 2, "x_stride": 2]),
            Expect.load(Expect.inp, ["push_next"]),
            Expect.load(Expect.uop, ["pop_prev", "pop_next"]),
            Expect.finish,
        ]
    }

    @Test("small GEMM program gives the verified 10-instruction stream and the right output", arguments: SimulatorProfile.allCases)
    func smallGEMMProgram(profile: SimulatorProfile) throws {
        let device = try RecordingDevice(profile: profile)
        let runtime = Runtime(device: device)
        let queue = try runtime.makeCommandQueue()
        let program = try SmallGEMM.enqueue(queue, runtime: runtime, seed: 7)

        // Before synchronising: the first 7 instructions; the store's push_prev is only merged
        // in by the synchronisation's store->compute push.
        var before = Array(Self.smallGEMMStream.prefix(7))
        before[6].fields["push_prev"] = nil
        expectStream(queue.queuedInstructions.map { SpecInsn($0) }, before)

        let report = try queue.synchronize()
        let runs = device.recorded
        try #require(runs.count == 1)
        expectStream(runs[0].words.map { SpecInsn($0) }, Self.smallGEMMStream)
        // Both LOAD UOPs fetch the single micro-op (dst 0, src 0, wgt 0) of their kernel.
        #expect(runs[0].uopLoads == [2: [0], 4: [0]])
        #expect(report.leftoverTokens.isEmpty)
        #expect(try readInt8(program.out, count: 32) == program.expected)
    }

    @Test("token helper sequence gives the verified 8-instruction stream", arguments: SimulatorProfile.allCases)
    func tokenHelperSequence(profile: SimulatorProfile) throws {
        let device = try RecordingDevice(profile: profile)
        let queue = try CommandQueue(device: device)
        try queue.depPush(from: .compute, to: .load)
        try queue.depPop(from: .compute, to: .load)
        try queue.depPush(from: .load, to: .compute)
        try queue.depPop(from: .load, to: .compute)
        // Queued so far: compute no-op {push_prev}; load no-op {pop_next}; load no-op {push_next}.
        expectStream(queue.queuedInstructions.map { SpecInsn($0) }, [
            Expect.load(Expect.uop, ["push_prev"]),
            Expect.load(Expect.inp, ["pop_next"]),
            Expect.load(Expect.inp, ["push_next"]),
        ])
        let report = try queue.synchronize()
        let runs = device.recorded
        try #require(runs.count == 1)
        expectStream(runs[0].words.map { SpecInsn($0) }, [
            Expect.load(Expect.uop, ["push_prev"]),
            Expect.load(Expect.inp, ["pop_next"]),
            Expect.load(Expect.inp, ["push_next"]),
            Expect.store(Expect.uop, ["push_prev"]),
            Expect.load(Expect.inp, ["push_next"]),
            Expect.load(Expect.uop, ["pop_prev", "pop_next"]),
            Expect.load(Expect.uop, ["pop_prev"]),
            Expect.finish,
        ])
        #expect(report.leftoverTokens.isEmpty)
    }

    @Test("a push is merged into the last instruction of its stage only when the flag is free")
    func pushMerging() throws {
        let runtime = try makeRuntime()
        let queue = try runtime.makeCommandQueue()
        let buf = try runtime.allocate(bytes: 4096, label: "data")
        try queue.loadBuffer2D(buf, elementOffset: 0, xSize: 1, ySize: 1, xStride: 1, sramIndex: 0, memory: .inp)
        try queue.depPush(from: .load, to: .compute)   // merged into the LOAD INP
        try queue.depPush(from: .load, to: .compute)   // flag taken: a load no-op carries it
        try queue.depPush(from: .compute, to: .load)   // no compute instruction yet: compute no-op
        let q = queue.queuedInstructions.map { SpecInsn($0) }
        try #require(q.count == 3)
        #expect(q[0].kind == .load && q[0]["memory_type"] == Expect.inp && q[0]["push_next"] == 1 && q[0]["x_size"] == 1)
        #expect(q[1] == Expect.load(Expect.inp, ["push_next"]))
        #expect(q[2] == Expect.load(Expect.uop, ["push_prev"]))
        // §6.3: a store no-op created to carry pending pops can absorb a later push.
        try queue.depPop(from: .compute, to: .store)
        try queue.depPush(from: .store, to: .compute)
        #expect(queue.queuedInstructions.map { SpecInsn($0) }.last == Expect.store(Expect.uop, ["pop_prev", "push_prev"]))
        try queue.depPush(from: .compute, to: .store)   // after it: a compute no-op {push_next} feeds it...
        try queue.depPop(from: .store, to: .compute)    // ...and its push is consumed
        // Balance the tokens so the run is legal, then run it.
        try queue.depPop(from: .load, to: .compute)
        try queue.depPop(from: .load, to: .compute)
        try queue.depPop(from: .compute, to: .load)
        let report = try queue.synchronize()
        #expect(report.leftoverTokens.isEmpty)
    }

    @Test("GEMM/ALU loop fields follow spec §6.6")
    func loopFieldMapping() throws {
        let c = Configs.standard
        let runtime = try makeRuntime()
        let queue = try runtime.makeCommandQueue()
        let g0 = try UopKernel.gemm(config: c) { r throws(RuntimeError) in try r.push(dst: 1, src: 2, wgt: 3) }
        let g1 = try UopKernel.gemm(config: c) { r throws(RuntimeError) in
            try r.loop(extent: 3, dstFactor: 4, srcFactor: 5, wgtFactor: 6)
            try r.push(dst: 0, src: 0, wgt: 0)
        }
        let g2 = try UopKernel.gemm(config: c) { r throws(RuntimeError) in
            try r.loop(extent: 3, dstFactor: 4, srcFactor: 5, wgtFactor: 6)
            try r.loop(extent: 7, dstFactor: 8, srcFactor: 9, wgtFactor: 10)
            try r.push(dst: 0, src: 0, wgt: 0)
            try r.push(dst: 1, src: 0, wgt: 0)
        }
        let a1 = try UopKernel.alu(config: c, .shr, immediate: -3) { r throws(RuntimeError) in
            try r.loop(extent: 8, dstFactor: 1, srcFactor: 1)
            try r.push(dst: 0, src: 0)
        }
        let a2 = try UopKernel.alu(config: c, .add) { r throws(RuntimeError) in
            try r.loop(extent: 2, dstFactor: 3, srcFactor: 4)
            try r.loop(extent: 5, dstFactor: 6, srcFactor: 7)
            try r.push(dst: 0, src: 9)
        }
        try queue.pushGEMM(g0)
        try queue.pushGEMM(g1)
        try queue.pushGEMM(g2)
        try queue.pushALU(a1)
        try queue.pushALU(a2)
        let computes = queue.queuedInstructions.map { SpecInsn($0) }.filter { $0.kind != .load }
        expectStream(computes, [
            Expect.gemm([], ["uop_bgn": 0, "uop_end": 1, "iter_out": 1, "iter_in": 1]),
            Expect.gemm([], ["uop_bgn": 1, "uop_end": 2, "iter_out": 3, "iter_in": 1, "dst_factor_out": 4,
                             "src_factor_out": 5, "wgt_factor_out": 6]),
            Expect.gemm([], ["uop_bgn": 2, "uop_end": 4, "iter_out": 3, "iter_in": 7, "dst_factor_out": 4, "src_factor_out": 5,
                             "wgt_factor_out": 6, "dst_factor_in": 8, "src_factor_in": 9, "wgt_factor_in": 10]),
            // One ALU loop goes to the inner loop (§6.6); SHR = 3, immediate kept signed.
            Expect.alu([], ["uop_bgn": 4, "uop_end": 5, "iter_out": 1, "iter_in": 8, "dst_factor_in": 1, "src_factor_in": 1,
                            "alu_opcode": 3, "use_imm": 1, "imm": -3]),
            Expect.alu([], ["uop_bgn": 5, "uop_end": 6, "iter_out": 2, "iter_in": 5, "dst_factor_out": 3, "src_factor_out": 4,
                            "dst_factor_in": 6, "src_factor_in": 7, "alu_opcode": 2]),
        ])
        queue.reset()
    }

    @Test("LOAD UOP fetches exactly the kernel's micro-ops, encoded per spec §2.8")
    func stagedMicroOps() throws {
        let device = try RecordingDevice()
        let queue = try CommandQueue(device: device)
        let c = Configs.standard
        let gemm = try UopKernel.gemm(config: c) { r throws(RuntimeError) in try r.push(dst: 5, src: 6, wgt: 7) }
        let alu = try UopKernel.alu(config: c, .max, immediate: 1) { r throws(RuntimeError) in
            for i in 0..<4 { try r.push(dst: 100 + i, src: 200 + 2 * i) }
        }
        try queue.pushGEMM(gemm)
        try queue.pushALU(alu)
        try queue.synchronize()
        let run = try #require(device.recorded.first)
        // §2.10: micro-op dst=5, src=6, wgt=7 is the bytes 05 30 c0 01.
        #expect(run.uopLoads[0] == [0x01C0_3005])
        let layout = SpecLayout.standard
        #expect(run.uopLoads[2] == (0..<4).map { layout.encode(uop: 100 + $0, 200 + 2 * $0, 0) })
        #expect(run.uopLoads[2]?.map { layout.decode(uop: $0).dst } == [100, 101, 102, 103])
    }

    @Test("instruction streams on the 2x32 configuration use its field layout", arguments: SimulatorProfile.allCases)
    func altConfigStream(profile: SimulatorProfile) throws {
        let c = Configs.alt
        let device = try RecordingDevice(config: c, profile: profile)
        let runtime = Runtime(device: device)
        let queue = try runtime.makeCommandQueue()
        var rng = SplitMix64(seed: 99)
        let accVals = rng.int32s(3 * 64, in: -1000...1000)   // 3 ACC elements of [2][32]
        let acc = try runtime.buffer(accVals, label: "acc")
        let out = try runtime.allocate(bytes: 3 * c.outElemBytes, label: "out")
        try queue.loadBuffer2D(acc, elementOffset: 0, xSize: 3, ySize: 1, xStride: 3, sramIndex: 10, memory: .acc)
        let k = try UopKernel.alu(config: c, .add, immediate: -7) { r throws(RuntimeError) in
            try r.loop(extent: 3, dstFactor: 1, srcFactor: 1)
            try r.push(dst: 10, src: 10)
        }
        try queue.pushALU(k)
        try queue.depPush(from: .compute, to: .store)
        try queue.depPop(from: .compute, to: .store)
        try queue.storeBuffer2D(sramIndex: 10, out, elementOffset: 0, xSize: 3, ySize: 1, xStride: 3)
        try queue.synchronize()
        let run = try #require(device.recorded.first)
        let layout = SpecLayout(lu: 12, li: 10, lw: 9, la: 10)
        let decoded = run.words.map { SpecInsn($0, layout: layout) }
        try #require(decoded.count == 7)
        #expect(decoded[0] == Expect.load(Expect.acc, [], ["sram_base": 10, "dram_base": Self.firstUserPhys / 256,
                                                           "y_size": 1, "x_size": 3, "x_stride": 3]))
        #expect(decoded[1] == Expect.load(Expect.uop, [], ["dram_base": Self.uopStagingPhys / 4, "y_size": 1, "x_size": 1, "x_stride": 1]))
        #expect(decoded[2] == Expect.alu(["push_next"], ["uop_bgn": 0, "uop_end": 1, "iter_out": 1, "iter_in": 3, "dst_factor_in": 1,
                                                         "src_factor_in": 1, "alu_opcode": 2, "use_imm": 1, "imm": -7]))
        #expect(decoded[3] == Expect.store(Expect.out, ["pop_prev", "push_prev"],
                                           ["sram_base": 10, "dram_base": (Self.firstUserPhys + 0x1000) / 64,
                                            "y_size": 1, "x_size": 3, "x_stride": 3]))
        #expect(run.uopLoads[1] == [layout.encode(uop: 10, 10, 0)])
        let expected = accVals.map { Int8(truncatingIfNeeded: $0 - 7) }
        #expect(try readInt8(out, count: 3 * 64) == expected)
    }
}
