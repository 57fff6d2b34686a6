import VTA
import VTASimulator

/// The outcome of a power-on self-test.
public struct SelfTestResult: Sendable, Hashable {
    public var passed: Bool
    public var detail: String
}

/// A small fixed program (micro-op, accumulator, input and weight loads, a GEMM, every ALU
/// operation with a vector and an immediate operand, a store, FINISH) whose output on the board
/// must equal the simulator's `hardware` profile byte for byte. A mismatch means the bitstream is
/// not the configuration the runtime believes (or is corrupted).
enum SelfTestProgram {
    struct Buffers {
        var uop: UInt64, acc: UInt64, inp: UInt64, wgt: UInt64, out: UInt64
    }

    /// Deterministic test data: (uop, acc, inp, wgt) bytes.
    static func data(_ c: HardwareConfig) throws(DeviceError) -> (uops: [UInt8], acc: [UInt8], inp: [UInt8], wgt: [UInt8]) {
        var seed: UInt64 = 0x5654_415F_5345_4C46  // "VTA_SELF"
        func next() -> UInt64 {
            seed &+= 0x9E37_79B9_7F4A_7C15
            var z = seed
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var uops: [UInt8] = []
        for u in [MicroOp(dst: 0, src: 0, wgt: 0), MicroOp(dst: 0, src: 1, wgt: 0)] {
            let w: UInt32
            do { w = try c.isa.encode(u) } catch { throw .runFailed("self-test micro-op: \(error)") }
            withUnsafeBytes(of: w.littleEndian) { uops.append(contentsOf: $0) }
        }
        // Accumulators: small signed values so the ALU results stay meaningful in 8 bits.
        var acc: [UInt8] = []
        let accLanes = 2 * c.accElemBytes / 4
        for _ in 0..<accLanes {
            let v = Int32(Int64(next() % 512) - 256)
            withUnsafeBytes(of: v.littleEndian) { acc.append(contentsOf: $0) }
        }
        let inp = (0..<c.inpElemBytes).map { _ in UInt8(truncatingIfNeeded: next()) }
        let wgt = (0..<c.wgtElemBytes).map { _ in UInt8(truncatingIfNeeded: next()) }
        return (uops, acc, inp, wgt)
    }

    /// The instruction stream for buffers at the given device addresses.
    static func instructions(_ c: HardwareConfig, _ b: Buffers) throws(DeviceError) -> [UInt8] {
        func element(_ address: UInt64, _ type: MemoryType) -> UInt32 {
            UInt32(truncatingIfNeeded: address / UInt64(c.dramElementBytes(type)))
        }
        var program: [Instruction] = [
            .load(MemoryInstruction(memoryType: .uop, sramBase: 0, dramBase: element(b.uop, .uop), ySize: 1, xSize: 2, xStride: 2)),
            .load(MemoryInstruction(memoryType: .acc, sramBase: 0, dramBase: element(b.acc, .acc), ySize: 1, xSize: 2, xStride: 2)),
            .load(MemoryInstruction(memoryType: .inp, sramBase: 0, dramBase: element(b.inp, .inp), ySize: 1, xSize: 1, xStride: 1)),
            .load(MemoryInstruction(deps: .pushNext, memoryType: .wgt, sramBase: 0, dramBase: element(b.wgt, .wgt), ySize: 1, xSize: 1, xStride: 1)),
            .gemm(GemmInstruction(deps: .popPrev, loop: LoopFields(uopBegin: 0, uopEnd: 1, iterOut: 1, iterIn: 1))),
        ]
        let ops = AluOpcode.allCases
        for (i, op) in ops.enumerated() {
            let imm: Int16 = op == .shr ? 1 : 3
            program.append(.alu(AluInstruction(loop: LoopFields(uopBegin: 1, uopEnd: 2, iterOut: 1, iterIn: 1), aluOpcode: op)))
            let last = i == ops.count - 1
            program.append(.alu(AluInstruction(deps: last ? .pushNext : [], loop: LoopFields(uopBegin: 1, uopEnd: 2, iterOut: 1, iterIn: 1),
                                               aluOpcode: op, useImm: true, imm: imm)))
        }
        program.append(.store(MemoryInstruction(deps: [.popPrev, .pushPrev], memoryType: .out, sramBase: 0,
                                                dramBase: element(b.out, .out), ySize: 1, xSize: 1, xStride: 1)))
        program.append(.finish(.popNext))
        var bytes: [UInt8] = []
        bytes.reserveCapacity(program.count * 16)
        for insn in program {
            do { bytes.append(contentsOf: try c.isa.encode(insn).bytes) } catch { throw .runFailed("self-test instruction: \(error)") }
        }
        return bytes
    }

    /// Runs the program on `device` and returns the OUT bytes.
    static func run(on device: any Device, run: (UInt64, Int) throws(DeviceError) -> Void) throws(DeviceError) -> [UInt8] {
        let c = device.config
        let d = try data(c)
        var held: [any DMABuffer] = []
        defer { for b in held { try? device.free(b) } }
        func make(_ bytes: [UInt8], _ size: Int, _ label: String) throws(DeviceError) -> any DMABuffer {
            let b = try device.allocate(bytes: size, alignment: 64, label: "self-test \(label)")
            held.append(b)
            b.hostAddress.initializeMemory(as: UInt8.self, repeating: 0, count: size)
            try b.write(bytes)
            return b
        }
        let uop = try make(d.uops, d.uops.count, "uop")
        let acc = try make(d.acc, d.acc.count, "acc")
        let inp = try make(d.inp, d.inp.count, "inp")
        let wgt = try make(d.wgt, d.wgt.count, "wgt")
        let out = try make([UInt8](repeating: 0xA5, count: c.outElemBytes), c.outElemBytes, "out")
        let stream = try instructions(c, Buffers(uop: uop.deviceAddress, acc: acc.deviceAddress, inp: inp.deviceAddress,
                                                 wgt: wgt.deviceAddress, out: out.deviceAddress))
        let insn = try make(stream, stream.count, "instructions")
        try run(insn.deviceAddress, stream.count / 16)
        return try out.read(UInt8.self, count: c.outElemBytes)
    }

    /// The expected OUT bytes, from the simulator's hardware profile.
    static func expected(_ c: HardwareConfig) throws(DeviceError) -> [UInt8] {
        let sim: SimulatorDevice
        do { sim = try SimulatorDevice(config: c, profile: .hardware) } catch { throw .runFailed("self-test reference: \(error)") }
        return try run(on: sim) { (address, count) throws(DeviceError) in
            _ = try sim.run(instructionsAt: address, count: count, timeout: .seconds(10))
        }
    }
}

extension FPGADevice {
    /// Runs the self-test with the lock held; marks the device unusable when it fails.
    func selfTestLocked(_ s: inout State) throws(DeviceError) {
        let expected = try SelfTestProgram.expected(config)
        let found: [UInt8]
        do {
            found = try SelfTestProgram.run(on: self) { (address, count) throws(DeviceError) in
                _ = try runLocked(&s, address: address, count: count, timeout: .seconds(2), recover: false)
            }
        } catch {
            let why = "self-test did not complete: \(error.description)"
            s.unusable = why
            s.stats.lastSelfTest = SelfTestResult(passed: false, detail: why)
            throw .unavailable(why + " (is the bitstream loaded, and does it implement \(config.bitstreamName)? A bitstream of another "
                + "configuration reads the self-test's instructions differently and hangs; check it with --descriptor NAME.vta.json; vtactl board info)")
        }
        guard found == expected else {
            let first = zip(found, expected).enumerated().first { $0.element.0 != $0.element.1 }
            let at = first.map { "byte \($0.offset): expected 0x\(String($0.element.1, radix: 16)), found 0x\(String($0.element.0, radix: 16))" } ?? "length differs"
            let why = "self-test output differs from the simulator (\(at)): the bitstream is not \(config.bitstreamName) or is corrupted; "
                + "check its descriptor and reprogram it (vtactl board program)"
            s.unusable = why
            s.stats.lastSelfTest = SelfTestResult(passed: false, detail: why)
            throw .unavailable(why)
        }
        s.stats.lastSelfTest = SelfTestResult(passed: true, detail: "\(expected.count) output bytes match the simulator (hardware profile)")
        // Leave the board as a freshly configured one: the next job must not see the test's data.
        try scrubLocked(&s)
    }
}

/// Clears the accelerator's on-chip memories: zeros into ACC, INP and WGT, a GEMM reset over every
/// accumulator row (which clears OUT), then zeros into UOP. The HLS design ignores ACC_8BIT loads, so programs
/// can observe what an earlier job left in ACC; after a scrub they see zeros, as on a freshly
/// configured board, and one client's data never reaches the next.
enum ScrubProgram {
    /// Elements moved per LOAD (x_size is 16 bits; the zero buffer bounds it too).
    static let chunk = 2048
    /// Accumulator rows per GEMM reset (within every encodable loop-extent field).
    static let rowsPerReset = 256

    static func zeroBufferBytes(_ c: HardwareConfig) -> Int {
        chunk * max(c.inpElemBytes, c.wgtElemBytes, c.accElemBytes, HardwareConfig.uopElemBytes)
    }

    static func instructions(_ c: HardwareConfig, zeroAddress: UInt64) throws(DeviceError) -> [UInt8] {
        func element(_ type: MemoryType) -> UInt32 { UInt32(truncatingIfNeeded: zeroAddress / UInt64(c.dramElementBytes(type))) }
        func loads(_ type: MemoryType, depth: Int, lastDeps: DependencyFlags = []) -> [Instruction] {
            var out: [Instruction] = []
            var row = 0
            while row < depth {
                let n = min(chunk, depth - row)
                let last = row + n >= depth
                out.append(.load(MemoryInstruction(deps: last ? lastDeps : [], memoryType: type, sramBase: UInt32(row),
                                                   dramBase: element(type), ySize: 1, xSize: UInt32(n), xStride: UInt32(n))))
                row += n
            }
            return out
        }
        // A zero micro-op (dst 0, src 0, wgt 0) at UOP[0] drives the resets.
        var program: [Instruction] = [.load(MemoryInstruction(memoryType: .uop, sramBase: 0, dramBase: element(.uop), ySize: 1, xSize: 1, xStride: 1))]
        // Zeros into ACC, INP and WGT first: the HLS GEMM reset writes the low bits of the
        // un-reset result (ACC + INP x WGT) into OUT, which is then 0 as well.
        program += loads(.acc, depth: c.accBuffDepth)
        program += loads(.inp, depth: c.inpBuffDepth)
        program += loads(.wgt, depth: c.wgtBuffDepth, lastDeps: .pushNext)
        // Every accumulator row: rows = outer x inner, the destination advancing by one per
        // inner step and by `inner` per outer step (depths are powers of two).
        let inner = min(c.accBuffDepth, rowsPerReset)
        let outer = max(1, c.accBuffDepth / inner)
        program.append(.gemm(GemmInstruction(deps: .popPrev, resetReg: true,
                                             loop: LoopFields(uopBegin: 0, uopEnd: 1, iterOut: UInt32(outer), iterIn: UInt32(inner),
                                                              dstFactorOut: UInt32(inner), dstFactorIn: 1))))
        program += loads(.uop, depth: c.uopBuffDepth)
        program.append(.finish([]))
        var bytes: [UInt8] = []
        bytes.reserveCapacity(program.count * 16)
        for insn in program {
            do { bytes.append(contentsOf: try c.isa.encode(insn).bytes) } catch { throw .runFailed("scrub instruction: \(error)") }
        }
        return bytes
    }
}

extension FPGADevice {
    /// Clears the on-chip memories (see `ScrubProgram`), with the lock held.
    func scrubLocked(_ s: inout State) throws(DeviceError) {
        let zero = try pool.allocate(bytes: ScrubProgram.zeroBufferBytes(config), alignment: 4096, label: "scrub zeros")
        defer { try? pool.free(zero) }
        zero.hostAddress.initializeMemory(as: UInt8.self, repeating: 0, count: zero.size)
        try zero.flush()
        let stream = try ScrubProgram.instructions(config, zeroAddress: zero.deviceAddress)
        let insn = try pool.allocate(bytes: stream.count, alignment: 64, label: "scrub instructions")
        defer { try? pool.free(insn) }
        try insn.write(stream)
        _ = try runLocked(&s, address: insn.deviceAddress, count: stream.count / 16, timeout: .seconds(2), recover: false)
    }

    /// Clears the accelerator's on-chip memories so the next job sees zeros (as after
    /// configuration) and nothing of the previous job.
    public func scrub() throws(DeviceError) {
        let r: Result<Void, DeviceError> = state.withLock { s in
            do throws(DeviceError) { try scrubLocked(&s); return .success(()) } catch { return .failure(error) }
        }
        try r.get()
    }
}
