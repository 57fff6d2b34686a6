import Foundation
import Testing
import VTA
import VTASimulator
import VTATestSupport

typealias TestData = SharedTestData

/// A simulator with simulated DRAM, and helpers to lay out buffers and an instruction stream.
final class Harness {
    let config: HardwareConfig
    let profile: SimulatorProfile
    let memory: SimulatedMemory
    let sim: Simulator

    init(config: HardwareConfig, profile: SimulatorProfile) throws {
        self.config = config
        self.profile = profile
        memory = SimulatedMemory()
        sim = try Simulator(config: config, profile: profile, memory: memory)
    }

    /// Allocates a buffer holding `bytes` (zero-filled up to `size`); returns its physical address.
    @discardableResult
    func buffer(_ bytes: [UInt8], size: Int? = nil) throws -> UInt64 {
        let n = max(size ?? bytes.count, 1)
        let (phys, ptr) = try memory.allocate(bytes: n)
        ptr.initializeMemory(as: UInt8.self, repeating: 0, count: n)
        bytes.withUnsafeBytes { ptr.copyMemory(from: $0.baseAddress!, byteCount: min(bytes.count, n)) }
        return phys
    }

    func read(_ phys: UInt64, _ count: Int) throws -> [UInt8] {
        let p = try #require(memory.pointer(physical: phys, length: count), "no buffer at 0x\(String(phys, radix: 16))")
        return [UInt8](UnsafeRawBufferPointer(start: p, count: count))
    }

    /// Encodes the instructions little-endian into a new buffer; returns its address.
    func program(_ insns: [Instruction]) throws -> UInt64 {
        var bytes: [UInt8] = []
        for insn in insns { bytes += try config.isa.encode(insn).bytes }
        return try buffer(bytes)
    }

    /// Writes and runs a program, with the simulation error (if any) as the result.
    func run(_ insns: [Instruction]) throws -> Result<RunReport, SimulationError> {
        let addr = try program(insns)
        do { return .success(try sim.run(instructionsAt: addr, count: insns.count)) } catch { return .failure(error) }
    }
}

// Instruction shorthands.
func load(_ type: MemoryType, sram: Int = 0, dram: UInt64, bytesPerElement: Int, x: Int, y: Int = 1,
          deps: DependencyFlags = []) -> Instruction {
    .load(MemoryInstruction(deps: deps, memoryType: type, sramBase: UInt32(sram), dramBase: UInt32(dram / UInt64(bytesPerElement)),
                            ySize: UInt32(y), xSize: UInt32(x), xStride: UInt32(x)))
}

func store(sram: Int = 0, dram: UInt64, bytesPerElement: Int, x: Int, deps: DependencyFlags = []) -> Instruction {
    .store(MemoryInstruction(deps: deps, memoryType: .out, sramBase: UInt32(sram), dramBase: UInt32(dram / UInt64(bytesPerElement)),
                             ySize: 1, xSize: UInt32(x), xStride: UInt32(x)))
}

let gemmNop = Instruction.gemm(GemmInstruction(loop: LoopFields(uopBegin: 0, uopEnd: 0)))
let aluNop = Instruction.alu(AluInstruction(loop: LoopFields(uopBegin: 0, uopEnd: 0), aluOpcode: .add))
let storeNop = Instruction.store(MemoryInstruction(memoryType: .out))

/// Little-endian int32 <-> bytes.
func int32Bytes(_ values: [Int32]) -> [UInt8] {
    values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: UInt32(bitPattern: v) >> UInt32(8 * $0)) } }
}

/// Configurations for the property tests, including ones not in the shared data.
struct TestConfig: Sendable, CustomStringConvertible {
    let bitstream: String
    let logBatch, logBlock, uop, inp, wgt, acc: Int
    var description: String { bitstream }

    func make() throws -> HardwareConfig {
        let c = try HardwareConfig(logBatch: logBatch, logBlock: logBlock, logUopBuffSize: uop, logInpBuffSize: inp,
                                   logWgtBuffSize: wgt, logAccBuffSize: acc)
        #expect(c.bitstreamName == bitstream)
        return c
    }

    static let all: [TestConfig] = [
        TestConfig(bitstream: "1x16_i8w8a32_15_15_18_17", logBatch: 0, logBlock: 4, uop: 15, inp: 15, wgt: 18, acc: 17),
        TestConfig(bitstream: "2x32_i8w8a32_14_16_19_18", logBatch: 1, logBlock: 5, uop: 14, inp: 16, wgt: 19, acc: 18),
        TestConfig(bitstream: "2x16_i8w8a32_15_15_18_17", logBatch: 1, logBlock: 4, uop: 15, inp: 15, wgt: 18, acc: 17),
        TestConfig(bitstream: "1x8_i8w8a32_15_12_14_14", logBatch: 0, logBlock: 3, uop: 15, inp: 12, wgt: 14, acc: 14),
    ]
}
