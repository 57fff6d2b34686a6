// Runtime, verifier and daemon benchmarks, each against a baseline in the same process.

import Benchmark
import Foundation
import Synchronization
import VTA
import VTAClient
import VTARuntime
import VTASimulator

/// Registered from `benchmarks` in VTABenchmarks.swift.
func runtimeBenchmarks() {
    let batch = 1000
    // Instructions built per second through the public queue API (no device run): each round
    // queues a 2-D load, a cached GEMM kernel and a store, i.e. 3-4 instructions.
    Benchmark("runtime build [\(batch) rounds]: CommandQueue loads, GEMM, store") { (benchmark: Benchmark, q: QueueFixture) throws in
        for _ in benchmark.scaledIterations {
            for _ in 0..<batch {
                try q.queue.loadBuffer2D(q.input, elementOffset: 0, xSize: 4, ySize: 1, xStride: 4, sramIndex: 0, memory: .inp)
                try q.queue.pushGEMM(q.kernel)
                try q.queue.storeBuffer2D(sramIndex: 0, q.output, elementOffset: 0, xSize: 4, ySize: 1, xStride: 4)
            }
            blackHole(q.queue.count)
            q.queue.reset()
        }
    } setup: {
        try QueueFixture()
    }

    Benchmark("runtime build [\(batch) rounds]: baseline isa.encode of the same instructions") { (benchmark: Benchmark, q: QueueFixture) throws in
        let isa = q.queue.config.isa
        let load = Instruction.load(MemoryInstruction(memoryType: .inp, dramBase: 256, ySize: 1, xSize: 4, xStride: 4))
        let gemm = Instruction.gemm(GemmInstruction(loop: LoopFields(uopBegin: 0, uopEnd: 4)))
        let store = Instruction.store(MemoryInstruction(memoryType: .out, dramBase: 512, ySize: 1, xSize: 4, xStride: 4))
        var check: UInt64 = 0
        for _ in benchmark.scaledIterations {
            for _ in 0..<batch {
                check &+= try isa.encode(load).low ^ isa.encode(gemm).low ^ isa.encode(store).low
            }
        }
        blackHole(check)
    } setup: {
        try QueueFixture()
    }

    // Matmul end to end on the simulator (pack, queue, run, unpack) vs the CPU formula.
    let mm = "matmul 256x1024x1024"
    Benchmark("\(mm): VTARuntime on the simulator", configuration: .init(maxDuration: .seconds(5), maxIterations: 20)) { (benchmark: Benchmark, f: MatmulFixture) throws in
        for _ in benchmark.scaledIterations { blackHole(try f.mm.run(on: f.runtime, a: f.a, b: f.b, bias: f.bias).c) }
    } setup: {
        try MatmulFixture()
    }
    Benchmark("\(mm): baseline CPU reference", configuration: .init(maxDuration: .seconds(5), maxIterations: 5)) { (benchmark: Benchmark, f: MatmulFixture) in
        for _ in benchmark.scaledIterations { blackHole(f.mm.reference(a: f.a, b: f.b, bias: f.bias)) }
    } setup: {
        try MatmulFixture()
    }

    // The daemon's verifier vs plain decoding of the same stream.
    let n = 1 << 18
    Benchmark("verifier [\(n) insns]: ProgramVerifier.verify") { (benchmark: Benchmark, v: VerifierFixture) throws in
        for _ in benchmark.scaledIterations { blackHole(try v.verifier.verify(v.bytes, regions: v.regions)) }
    } setup: {
        try VerifierFixture(count: n)
    }
    Benchmark("verifier [\(n) insns]: baseline decode only") { (benchmark: Benchmark, v: VerifierFixture) in
        let decoder = v.verifier.config.isa.decoder
        for _ in benchmark.scaledIterations {
            for i in 0..<(v.bytes.count / 16) {
                let p = v.bytes.baseAddress! + 16 * i
                blackHole(decoder.decode(InstructionWord(low: p.loadUnaligned(as: UInt64.self), high: (p + 8).loadUnaligned(as: UInt64.self))))
            }
        }
    } setup: {
        try VerifierFixture(count: n)
    }

    daemonBenchmarks()
}

final class QueueFixture: @unchecked Sendable {
    let runtime: Runtime
    let queue: CommandQueue
    let input: any DMABuffer
    let output: any DMABuffer
    let kernel: UopKernel

    init() throws {
        runtime = try Runtime.open(.simulator())
        var options = CommandQueue.Options()
        options.instructionCapacity = 1 << 16
        queue = try runtime.makeCommandQueue(options: options)
        input = try runtime.allocate(bytes: 4096)
        output = try runtime.allocate(bytes: 4096)
        let config = runtime.config
        kernel = try UopKernel.gemm(config: config) { k in
            for i in 0..<4 { try k.push(dst: i, src: i, wgt: i) }
        }
    }
}

final class MatmulFixture: @unchecked Sendable {
    let runtime: Runtime
    let mm: MatrixMultiply
    let a: [Int8], b: [Int8], bias: [Int32]

    init() throws {
        runtime = try Runtime.open(.simulator())
        mm = try MatrixMultiply(m: 256, k: 1024, n: 1024, shift: 10)
        var rng = XorShift(state: 42)
        a = (0..<(256 * 1024)).map { _ in Int8(truncatingIfNeeded: rng.next()) }
        b = (0..<(1024 * 1024)).map { _ in Int8(truncatingIfNeeded: rng.next()) }
        bias = (0..<1024).map { _ in Int32(truncatingIfNeeded: rng.next() % 2000) - 1000 }
    }
}

/// A long, valid stream: repeated blocks of load -> GEMM -> store with balanced tokens, FINISH.
final class VerifierFixture: @unchecked Sendable {
    let verifier: ProgramVerifier
    let bytes: UnsafeRawBufferPointer
    let regions: [DRAMRegion]

    init(count: Int) throws {
        let config = HardwareConfig.standard
        verifier = ProgramVerifier(config: config)
        let isa = config.isa
        let base: UInt64 = 0x10_0000
        regions = [DRAMRegion(start: base, size: 1 << 20, writable: true, label: "data")]
        var words: [InstructionWord] = []
        let inp = UInt32(base / UInt64(config.inpElemBytes)), out = UInt32((base + 0x8_0000) / UInt64(config.outElemBytes))
        // Each store hands a token back to compute; the next GEMM (and finally FINISH) takes it,
        // so the FINISH is the last instruction to run and no token is left over.
        var first = true
        while words.count + 8 < count {
            words.append(try isa.encode(.load(MemoryInstruction(deps: .pushNext, memoryType: .inp, dramBase: inp, ySize: 1, xSize: 1, xStride: 1))))
            let gemmDeps: DependencyFlags = first ? [.popPrev, .pushNext] : [.popPrev, .popNext, .pushNext]
            words.append(try isa.encode(.gemm(GemmInstruction(deps: gemmDeps, loop: LoopFields(uopBegin: 0, uopEnd: 1)))))
            words.append(try isa.encode(.store(MemoryInstruction(deps: [.popPrev, .pushPrev], memoryType: .out, dramBase: out, ySize: 1, xSize: 1, xStride: 1))))
            first = false
        }
        words.append(try isa.encode(.finish(.popNext)))
        _ = try verifier.verify(words, regions: regions)
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: words.count * 16, alignment: 16)
        for (i, w) in words.enumerated() {
            raw.storeBytes(of: w.low.littleEndian, toByteOffset: 16 * i, as: UInt64.self)
            raw.storeBytes(of: w.high.littleEndian, toByteOffset: 16 * i + 8, as: UInt64.self)
        }
        bytes = UnsafeRawBufferPointer(raw)
    }
}

// MARK: - Daemon

/// A vtad subprocess on a temporary socket ($VTAD, else ../.build/release/vtad, which
/// `make bench-swift` builds first).
final class DaemonFixture: @unchecked Sendable {
    let process = Process()
    let socket: String
    let dir: String

    init() throws {
        dir = "/tmp/vta-bench-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        socket = dir + "/vtad.sock"
        let path = ProcessInfo.processInfo.environment["VTAD"] ?? "../.build/release/vtad"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw BenchmarkSetupError.failed("vtad not found at \(path); run `make release` or set VTAD")
        }
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--socket", socket, "--log-level", "error"]
        // The daemon must not hold the benchmark's output pipes (the runner waits for them to
        // close), and must die with this process: deinit does not run at exit.
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        DaemonFixture.children.withLock { $0.append(process.processIdentifier) }
        DaemonFixture.installExitHandler
        for _ in 0..<200 {
            if (try? RemoteDevice(socketPath: socket)) != nil { return }
            usleep(10_000)
        }
        throw BenchmarkSetupError.failed("vtad did not start listening on \(socket)")
    }

    deinit {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: dir)
    }

    static let children = Mutex<[Int32]>([])
    /// Kills every daemon still running when the benchmark process exits.
    static let installExitHandler: Void = {
        atexit {
            for pid in DaemonFixture.children.withLock({ $0 }) { kill(pid, SIGTERM) }
        }
    }()
}

/// One client with a tiny job ready: an ALU add over one row, stored (a full round trip with a
/// few instructions).
final class TinyJob: @unchecked Sendable {
    let device: any Device
    let queue: CommandQueue
    let buffer: any DMABuffer
    let kernel: UopKernel

    init(device: any Device) throws {
        self.device = device
        let runtime = Runtime(device: device)
        var options = CommandQueue.Options()
        options.instructionCapacity = 256
        options.uopStagingCapacity = 64
        queue = try runtime.makeCommandQueue(options: options)
        buffer = try runtime.allocate(bytes: 4096)
        kernel = try UopKernel.alu(config: runtime.config, .add, immediate: 1) { k in try k.push(dst: 0, src: 0) }
    }

    func run() throws {
        try queue.loadBuffer2D(buffer, elementOffset: 0, xSize: 1, ySize: 1, xStride: 1, sramIndex: 0, memory: .acc)
        try queue.pushALU(kernel)
        try queue.depPush(from: .compute, to: .store)
        try queue.depPop(from: .compute, to: .store)
        try queue.storeBuffer2D(sramIndex: 0, buffer, elementOffset: 16, xSize: 1, ySize: 1, xStride: 1)
        try queue.synchronize()
    }
}

final class ClientsFixture: @unchecked Sendable {
    let daemon: DaemonFixture
    let jobs: [TinyJob]
    init(clients: Int) throws {
        let d = try DaemonFixture()
        daemon = d
        jobs = try (0..<clients).map { _ in try TinyJob(device: RemoteDevice(socketPath: d.socket)) }
    }
}

func daemonBenchmarks() {
    // Round trip of one tiny job; the benchmark's percentiles are the p50/p99 latencies.
    Benchmark("daemon tiny job round trip: through vtad", configuration: .init(metrics: [.wallClock, .throughput], maxDuration: .seconds(3))) { (benchmark: Benchmark, f: ClientsFixture) throws in
        for _ in benchmark.scaledIterations { try f.jobs[0].run() }
    } setup: {
        try ClientsFixture(clients: 1)
    }
    Benchmark("daemon tiny job round trip: baseline in-process simulator", configuration: .init(metrics: [.wallClock, .throughput], maxDuration: .seconds(3))) { (benchmark: Benchmark, job: TinyJob) throws in
        for _ in benchmark.scaledIterations { try job.run() }
    } setup: {
        try TinyJob(device: SimulatorDevice(config: .standard))
    }
    // Jobs per second with 1, 8 and 32 clients, each on its own thread, 50 jobs per client.
    for clients in [1, 8, 32] {
        Benchmark("daemon throughput [\(clients * 50) jobs]: \(clients) clients", configuration: .init(metrics: [.wallClock, .throughput], maxDuration: .seconds(5), maxIterations: 50)) { (benchmark: Benchmark, f: ClientsFixture) in
            for _ in benchmark.scaledIterations {
                let group = DispatchGroup()
                for job in f.jobs {
                    group.enter()
                    Thread.detachNewThread {
                        for _ in 0..<50 { try? job.run() }
                        group.leave()
                    }
                }
                group.wait()
            }
        } setup: {
            try ClientsFixture(clients: clients)
        }
    }
}
