import Testing
import VTATestSupport
import VTA
import VTASimulator

/// Programs the reference would hang or abort on must end in a specific, descriptive error.
@Suite("Simulation errors")
struct SimulationErrorTests {
    static let config = HardwareConfig.standard

    /// Runs a program that must fail; returns the error.
    static func failure(_ h: Harness, _ insns: [Instruction], _ context: String) throws -> SimulationError? {
        switch try h.run(insns) {
        case .success(let report):
            Issue.record("\(context): ran without error (\(report.fetched) fetched)")
            return nil
        case .failure(let e):
            return e
        }
    }

    static func summary(_ blocked: [SimulationError.BlockedModule]) -> [String] {
        blocked.map { "\($0.module.rawValue)@\($0.instruction):\($0.queue.rawValue)" }
    }

    @Test("a pop with no matching push is a deadlock naming module, queue and instruction", arguments: SimulatorProfile.allCases)
    func deadlock(profile: SimulatorProfile) throws {
        let h = try Harness(config: Self.config, profile: profile)
        guard let e = try Self.failure(h, [gemmNop, .finish(.popPrev)], "compute pop") else { return }
        guard case .deadlock(let blocked1, let executed1) = e else { Issue.record("compute pop: \(e)"); return }
        #expect(Self.summary(blocked1) == ["compute@1:l2g"] && executed1 == 1, "\(e)")
        #expect(e.description.contains("instruction 1") && e.description.contains("compute") && e.description.contains("l2g"), "\(e)")

        // The store module waits on the compute module, and FINISH on the store module.
        let h2 = try Harness(config: Self.config, profile: profile)
        let storeWaits = Instruction.store(MemoryInstruction(deps: .popPrev, memoryType: .out))
        guard let e2 = try Self.failure(h2, [aluNop, storeWaits, .finish(.popNext)], "store pop") else { return }
        guard case .deadlock(let blocked, let executed) = e2 else { Issue.record("store pop: \(e2)"); return }
        #expect(Self.summary(blocked) == ["compute@2:s2g", "store@1:g2s"], "\(e2)")
        #expect(executed == 1)
        #expect(e2.description.contains("instruction 1") && e2.description.contains("store") && e2.description.contains("g2s"))

        // The load module waits on the compute module.
        let h3 = try Harness(config: Self.config, profile: profile)
        let loadWaits = Instruction.load(MemoryInstruction(deps: .popNext, memoryType: .inp))
        guard let e3 = try Self.failure(h3, [.finish([]), gemmNop, loadWaits], "load pop") else { return }
        guard case .deadlock(let blocked3, _) = e3 else { Issue.record("load pop: \(e3)"); return }
        #expect(Self.summary(blocked3) == ["load@2:g2l"], "\(e3)")
        #expect(e3.description.contains("instruction 2") && e3.description.contains("g2l"))
    }

    @Test("a program without FINISH is noFinish, naming the last instruction", arguments: SimulatorProfile.allCases)
    func noFinish(profile: SimulatorProfile) throws {
        let h = try Harness(config: Self.config, profile: profile)
        guard let e = try Self.failure(h, [gemmNop, aluNop], "no FINISH") else { return }
        #expect(e == .noFinish(executed: 2, lastExecuted: 1), "\(e)")
        #expect(e.description.contains("instruction 1"), "\(e)")
    }

    @Test("fsim: an instruction executing after the FINISH is finishNotLast; hardware ignores it")
    func finishNotLast() throws {
        let h = try Harness(config: Self.config, profile: .fsim)
        guard let e = try Self.failure(h, [.finish([]), storeNop], "FINISH then store") else { return }
        #expect(e == .finishNotLast(finish: 0, lastExecuted: 1), "\(e)")
        #expect(e.description.contains("instruction 1") && e.description.contains("instruction 0"), "\(e)")

        let hw = try Harness(config: Self.config, profile: .hardware)
        guard case .success(let report) = try hw.run([.finish([]), storeNop]) else {
            Issue.record("hardware profile refused FINISH followed by a store")
            return
        }
        #expect(report.fetched == 2)
    }

    @Test("a LOAD outside every allocation is dmaOutOfRange with the byte range", arguments: SimulatorProfile.allCases)
    func dmaOutOfRange(profile: SimulatorProfile) throws {
        let h = try Harness(config: Self.config, profile: profile)
        let inp = try h.buffer([UInt8](repeating: 1, count: 4096))
        let far: UInt64 = 0x0100_0000  // nothing is allocated up there
        let insns: [Instruction] = [
            load(.inp, dram: inp, bytesPerElement: 16, x: 4),
            load(.inp, sram: 4, dram: far, bytesPerElement: 16, x: 2, deps: .pushNext),
            .finish(.popPrev),
        ]
        guard let e = try Self.failure(h, insns, "far load") else { return }
        #expect(e == .dmaOutOfRange(instruction: 1, operation: "LOAD INP", start: far, end: far + 32), "\(e)")
        #expect(e.description.contains("instruction 1") && e.description.contains("1000000"), "\(e)")

        // A row that starts inside a buffer but runs past its end.
        let h2 = try Harness(config: Self.config, profile: profile)
        let acc = try h2.buffer([], size: 4096)
        let crossing = load(.acc, dram: acc + 4096 - 64, bytesPerElement: 64, x: 2)
        guard let e2 = try Self.failure(h2, [gemmNop, crossing, .finish([])], "crossing load") else { return }
        #expect(e2 == .dmaOutOfRange(instruction: 1, operation: "LOAD ACC", start: acc + 4096 - 64, end: acc + 4096 + 64), "\(e2)")

        // A STORE to nowhere.
        let h3 = try Harness(config: Self.config, profile: profile)
        let bad = store(dram: far, bytesPerElement: 16, x: 1, deps: [.popPrev, .pushPrev])
        guard let e3 = try Self.failure(h3, [.alu(AluInstruction(deps: .pushNext, loop: LoopFields(), aluOpcode: .add)), bad, .finish(.popNext)],
                                        "far store") else { return }
        #expect(e3 == .dmaOutOfRange(instruction: 1, operation: "STORE", start: far, end: far + 16), "\(e3)")
    }

    /// LOAD INP/WGT of ones, a micro-op (dst 2047, src 0, wgt 0), and a GEMM whose second outer
    /// iteration addresses ACC row 2048.
    static func overflowingGemm(_ h: Harness) throws -> [Instruction] {
        let inp = try h.buffer([UInt8](repeating: 1, count: 16))
        let wgt = try h.buffer([UInt8](repeating: 1, count: 256))
        let zeros = try h.buffer([], size: 4 * 64)
        let uop = try h.buffer(MicroOpBytes.bytes(try h.config.isa.encode(MicroOp(dst: 2047, src: 0, wgt: 0))))
        return [
            load(.inp, dram: inp, bytesPerElement: 16, x: 1),
            load(.wgt, dram: wgt, bytesPerElement: 256, x: 1, deps: .pushNext),
            load(.uop, dram: uop, bytesPerElement: 4, x: 1),
            load(.acc, sram: 0, dram: zeros, bytesPerElement: 64, x: 2),
            load(.acc, sram: 2046, dram: zeros, bytesPerElement: 64, x: 2),
            .gemm(GemmInstruction(deps: .popPrev, loop: LoopFields(uopBegin: 0, uopEnd: 1, iterOut: 2, iterIn: 1, dstFactorOut: 1))),
            .finish([]),
        ]
    }

    @Test("fsim: a GEMM ACC index past the depth is sramOutOfRange; hardware wraps to row 0")
    func sramOutOfRange() throws {
        let h = try Harness(config: Self.config, profile: .fsim)
        guard let e = try Self.failure(h, try Self.overflowingGemm(h), "ACC 2048") else { return }
        #expect(e == .sramOutOfRange(instruction: 5, operation: "GEMM", memory: "ACC", index: 2048, depth: 2048), "\(e)")
        #expect(e.description.contains("instruction 5") && e.description.contains("2048"), "\(e)")

        let hw = try Harness(config: Self.config, profile: .hardware)
        guard case .success(let report) = try hw.run(try Self.overflowingGemm(hw)) else {
            Issue.record("hardware profile did not wrap the ACC index")
            return
        }
        #expect(report.counters.gemmCounter == 2)
        // Dot product of sixteen 1*1 products, added to row 2047 and to row 2048 mod 2048 = 0.
        for lane in 0..<16 {
            #expect(hw.sim.accumulator(row: 2047, lane: lane) == 16)
            #expect(hw.sim.accumulator(row: 0, lane: lane) == 16)
            #expect(hw.sim.accumulator(row: 1, lane: lane) == 0)
        }
        #expect(hw.sim.accumulator(row: 2048, lane: 0) == nil)
        #expect(hw.sim.accumulator(row: 0, lane: 16) == nil)
    }

    @Test("fsim: a LOAD past the end of its SRAM is sramOutOfRange")
    func loadPastSram() throws {
        let h = try Harness(config: Self.config, profile: .fsim)
        let inp = try h.buffer([], size: 64)
        let insns = [gemmNop, load(.inp, sram: 2047, dram: inp, bytesPerElement: 16, x: 2, deps: .pushNext), .finish(.popPrev)]
        guard let e = try Self.failure(h, insns, "INP 2048") else { return }
        guard case .sramOutOfRange(1, _, "INP", 2048, 2048) = e else { Issue.record("\(e)"); return }
        #expect(e.description.contains("instruction 1"))
    }

    @Test("fsim rejects what the reference aborts on; hardware runs it")
    func rejected() throws {
        let undefined = Instruction.undefined(opcode: 5, word: InstructionWord(low: 5, high: 0))
        // Only instructions that move data are checked: fsim returns early from an x_size == 0
        // LOAD/STORE before looking at its type or padding.
        func mem(_ type: UInt8, deps: DependencyFlags = [], yPad0: UInt32 = 0) -> MemoryInstruction {
            MemoryInstruction(deps: deps, memoryTypeBits: type, sramBase: 0, dramBase: 0x100, ySize: 1, xSize: 1, xStride: 1,
                              yPad0: yPad0, yPad1: 0, xPad0: 0, xPad1: 0)
        }
        let cases: [([Instruction], Int)] = [
            ([gemmNop, undefined, .finish([])], 1),
            ([gemmNop, gemmNop, .alu(AluInstruction(deps: [], resetReg: false, loop: LoopFields(), aluOpcodeBits: 6, useImm: true, imm: 0)),
              .finish([])], 2),
            ([.load(mem(7)), .finish([])], 0),
            ([gemmNop, .load(mem(MemoryType.out.rawValue)), .finish([])], 1),
            ([gemmNop, .store(mem(MemoryType.out.rawValue, yPad0: 1)), .finish([])], 1),
            ([gemmNop, .store(mem(MemoryType.acc.rawValue)), .finish([])], 1),
            ([gemmNop, .load(mem(MemoryType.inp.rawValue, deps: .pushPrev)), .finish([])], 1),
            ([gemmNop, aluNop, .store(mem(MemoryType.out.rawValue, deps: .pushNext)), .finish([])], 2),
        ]
        for (insns, index) in cases {
            let h = try Harness(config: Self.config, profile: .fsim)
            guard let e = try Self.failure(h, insns, "case at \(index)") else { continue }
            guard case .rejected(let i, _) = e else { Issue.record("expected rejected, got \(e)"); continue }
            #expect(i == index, "\(e)")
            #expect(e.description.contains("instruction \(index)"), "\(e)")
        }
        // The undefined opcode has no effect on the hardware.
        let hw = try Harness(config: Self.config, profile: .hardware)
        guard case .success = try hw.run([gemmNop, undefined, .finish([])]) else {
            Issue.record("hardware profile refused an undefined opcode")
            return
        }
    }

    @Test("an instruction stream outside allocated memory is instructionFetch", arguments: SimulatorProfile.allCases)
    func instructionFetch(profile: SimulatorProfile) throws {
        let h = try Harness(config: Self.config, profile: profile)
        do {
            _ = try h.sim.run(instructionsAt: 0x7000_0000, count: 3)
            Issue.record("ran instructions from unallocated memory")
        } catch {
            #expect(error == .instructionFetch(address: 0x7000_0000, count: 3))
            #expect(error.description.contains("70000000"), "\(error)")
        }
        // A stream that starts in a buffer but runs past its end.
        let addr = try h.program([.finish([])])
        do {
            _ = try h.sim.run(instructionsAt: addr, count: 257)
            Issue.record("ran past the end of the instruction buffer")
        } catch {
            #expect(error == .instructionFetch(address: addr, count: 257))
        }
        do {
            let report = try h.sim.run(instructionsAt: addr, count: 1)
            #expect(report.fetched == 1 && report.executed == 1)
        } catch {
            Issue.record("valid one-instruction program: \(error)")
        }
    }
}
