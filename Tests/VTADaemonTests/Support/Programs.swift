import Testing
import VTA
import VTAClient
import VTAProtocol
import VTARuntime
import VTATestSupport

// Programs the tests send through the daemon: a tiny ALU job built with the command queue,
// a GEMM busy loop of chosen length, and raw instruction streams for the verifier tests.

/// Ranged draws on the shared SplitMix64 (VTATestSupport).
extension SplitMix64 {
    mutating func int32s(_ n: Int, in range: ClosedRange<Int32>) -> [Int32] { (0..<n).map { _ in Int32.random(in: range, using: &self) } }
}

/// One daemon client with a small command queue, running `y = int8(x + imm)` over `rows` ACC
/// rows per job (LOAD ACC, ALU ADD imm, STORE): a complete job of a handful of instructions.
/// Optionally a GEMM busy loop (on a scratch row) makes the job take as long as wanted.
final class TinyALUClient {
    let device: RemoteDevice
    let config: HardwareConfig
    let queue: CommandQueue
    let input: any DMABuffer
    let output: any DMABuffer
    let rows: Int
    private var kernels: [Int16: UopKernel] = [:]
    private var busyKernels: [Int: UopKernel] = [:]
    /// int32 values per job (= int8 results per job).
    var lanes: Int { rows * config.batch * config.blockOut }

    init(socketPath: String, rows: Int = 2) throws {
        device = try RemoteDevice(socketPath: socketPath)
        config = device.config
        var o = CommandQueue.Options()
        o.instructionCapacity = 64
        o.uopStagingCapacity = 64
        queue = try CommandQueue(device: device, options: o)
        self.rows = rows
        input = try device.allocate(bytes: rows * config.accElemBytes, label: "x")
        output = try device.allocate(bytes: rows * config.outElemBytes, label: "y")
    }

    deinit {
        try? device.free(input)
        try? device.free(output)
    }

    /// Iterations of one busy kernel: outer x inner GEMM micro-op executions.
    static let busyInner = 16383

    /// Runs one job; `busyOuter` (at most 16383) > 0 adds busyOuter x 16383 GEMM micro-ops on the
    /// scratch row.
    func run(_ x: [Int32], add imm: Int16, busyOuter: Int = 0, timeout: Duration = .seconds(60)) throws -> (out: [Int8], report: RunReport) {
        precondition(x.count == lanes)
        try input.write(x)
        // A value the job can never produce, so a job that stored nothing is caught.
        try output.write([Int8](repeating: -128, count: lanes))
        try queue.loadBuffer2D(input, elementOffset: 0, xSize: rows, ySize: 1, xStride: rows, sramIndex: 0, memory: .acc)
        if busyOuter > 0 {
            let busy = try busyKernel(busyOuter)
            try queue.pushGEMM(busy)
        }
        try queue.pushALU(try kernel(imm))
        try queue.depPush(from: .compute, to: .store)
        try queue.depPop(from: .compute, to: .store)
        try queue.storeBuffer2D(sramIndex: 0, output, elementOffset: 0, xSize: rows, ySize: 1, xStride: rows)
        let report = try queue.synchronize(timeout: timeout)
        return (try output.read(Int8.self, count: lanes), report)
    }

    /// Expected result of `run` (values stay within int8 in the tests).
    static func expected(_ x: [Int32], add imm: Int16) -> [Int8] { x.map { Int8(clamping: $0 + Int32(imm)) } }

    /// Input of job `job` of client `client`: small values, different for every (client, job).
    func input(client: Int, job: Int) -> [Int32] {
        (0..<lanes).map { i in Int32((client * 31 + job * 17 + i * 7) % 101 - 50) }
    }

    private func kernel(_ imm: Int16) throws -> UopKernel {
        if let k = kernels[imm] { return k }
        let k = try UopKernel.alu(config: config, .add, immediate: imm) { r in
            try r.loop(extent: rows, dstFactor: 1, srcFactor: 1)
            try r.push(dst: 0, src: 0)
        }
        kernels[imm] = k
        return k
    }

    private func busyKernel(_ outer: Int) throws -> UopKernel {
        if let k = busyKernels[outer] { return k }
        let scratch = rows
        let k = try UopKernel.gemm(config: config) { r in
            try r.loop(extent: outer, dstFactor: 0, srcFactor: 0, wgtFactor: 0)
            try r.loop(extent: Self.busyInner, dstFactor: 0, srcFactor: 0, wgtFactor: 0)
            try r.push(dst: scratch, src: 0, wgt: 0)
        }
        busyKernels[outer] = k
        return k
    }
}

/// A client that writes raw instruction words into its own buffer and submits them, for the
/// verifier tests. Owns an instruction buffer and a data buffer of one page each.
final class RawStreamClient {
    let device: RemoteDevice
    let config: HardwareConfig
    let insn: any DMABuffer
    let data: any DMABuffer

    init(socketPath: String) throws {
        device = try RemoteDevice(socketPath: socketPath)
        config = device.config
        insn = try device.allocate(bytes: 4096, label: "insn")
        data = try device.allocate(bytes: 4096, label: "data")
    }

    deinit {
        try? device.free(insn)
        try? device.free(data)
    }

    func encode(_ program: [Instruction]) throws -> [InstructionWord] { try program.map { try config.isa.encode($0) } }

    /// Writes `words` at the start of the instruction buffer and runs them (`count` defaults
    /// to the number of words; `address` to the instruction buffer).
    @discardableResult
    func submit(_ words: [InstructionWord], count: Int? = nil, address: UInt64? = nil) throws -> RunReport {
        var bytes: [UInt8] = []
        for w in words { bytes += w.bytes }
        try insn.write(bytes)
        return try device.run(instructionsAt: address ?? insn.deviceAddress, count: count ?? words.count, timeout: .seconds(30))
    }

    @discardableResult
    func submit(_ program: [Instruction]) throws -> RunReport { try submit(try encode(program)) }

    /// Element index of a device address for a memory type (dram_base).
    func element(_ address: UInt64, _ type: MemoryType) -> UInt32 { UInt32(address / UInt64(config.dramElementBytes(type))) }

    /// STORE of one OUT element to `address` (pushes a token to compute), then FINISH waiting
    /// for it: a complete, well-formed program whose only question is the address.
    func storeProgram(to address: UInt64, elements: UInt32 = 1) -> [Instruction] {
        [.store(MemoryInstruction(deps: .pushPrev, memoryType: .out, sramBase: 0, dramBase: element(address, .out),
                                  ySize: 1, xSize: elements, xStride: elements)),
         .finish(.popNext)]
    }

    /// LOAD of one INP element from `address` (pushes a token to compute), then FINISH.
    func loadProgram(from address: UInt64) -> [Instruction] {
        [.load(MemoryInstruction(deps: .pushNext, memoryType: .inp, sramBase: 0, dramBase: element(address, .inp),
                                 ySize: 1, xSize: 1, xStride: 1)),
         .finish(.popPrev)]
    }
}

/// Expects `body` to throw an error whose description contains every needle.
func expectFailure(_ what: String, mentioning needles: [String], sourceLocation: SourceLocation = #_sourceLocation,
                   _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("\(what): succeeded, expected a failure mentioning \(needles)", sourceLocation: sourceLocation)
    } catch {
        let text = "\(error)"
        for n in needles {
            #expect(text.contains(n), "\(what): the error does not mention \"\(n)\": \(text)", sourceLocation: sourceLocation)
        }
    }
}
