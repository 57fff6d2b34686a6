import Testing
import VTATestSupport
import VTA
import VTARuntime
import VTASimulator

/// A DMA buffer at an address that is not a multiple of the element sizes (a test double: no
/// simulator hands these out). `@unchecked Sendable`: its only stored property is an immutable
/// pointer to memory it owns.
final class OddBuffer: DMABuffer, @unchecked Sendable {
    let storage = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 64)
    var hostAddress: UnsafeMutableRawPointer { storage }
    var deviceAddress: UInt64 { 0x10008 }
    var size: Int { 4096 }
    var alignment: Int { 8 }
    var isCoherent: Bool { true }
    var label: String { "odd" }
    func flush(offset: Int, length: Int) throws(DeviceError) {}
    func invalidate(offset: Int, length: Int) throws(DeviceError) {}
    deinit { storage.deallocate() }
}

@Suite("Misuse gives typed errors, never a crash")
struct MisuseTests {
    func isInvalidArgument(_ e: RuntimeError?) -> Bool { if case .invalidArgument? = e { true } else { false } }
    func isKernel(_ e: RuntimeError?) -> Bool { if case .kernel? = e { true } else { false } }

    @Test("DMA past the end of a buffer names the buffer")
    func bufferRange() throws {
        let runtime = try makeRuntime()
        let queue = try runtime.makeCommandQueue()
        let tiny = try runtime.allocate(bytes: 100, label: "tiny-input")
        // 7 INP elements of 16 bytes = 112 > 100.
        let e1 = runtimeError { try queue.loadBuffer2D(tiny, elementOffset: 0, xSize: 7, ySize: 1, xStride: 7, sramIndex: 0, memory: .inp) }
        guard case let .bufferRange(buffer, _, first, end, size)? = e1 else { Issue.record("got \(String(describing: e1))"); return }
        #expect(buffer == "tiny-input" && first == 0 && end == 112 && size == 100)
        #expect(e1?.description.contains("tiny-input") == true)
        // 2-D: rows 0, 4, 8 (stride 4) of 2 elements: last byte (8 + 2) * 16 = 160.
        let e2 = runtimeError { try queue.loadBuffer2D(tiny, elementOffset: 0, xSize: 2, ySize: 3, xStride: 4, sramIndex: 0, memory: .inp) }
        guard case let .bufferRange(_, _, _, end2, _)? = e2 else { Issue.record("got \(String(describing: e2))"); return }
        #expect(end2 == 160)
        // Element offsets count elements: offset 6 of 16-byte elements starts at byte 96.
        let e3 = runtimeError { try queue.loadBuffer2D(tiny, elementOffset: 6, xSize: 1, ySize: 1, xStride: 1, sramIndex: 0, memory: .inp) }
        guard case let .bufferRange(_, _, first3, end3, _)? = e3 else { Issue.record("got \(String(describing: e3))"); return }
        #expect(first3 == 96 && end3 == 112)
        // One ACC element is 64 bytes: 2 do not fit in 100.
        let e4 = runtimeError { try queue.loadBuffer2D(tiny, elementOffset: 0, xSize: 2, ySize: 1, xStride: 2, sramIndex: 0, memory: .acc) }
        guard case .bufferRange(buffer: "tiny-input", _, _, _, _)? = e4 else { Issue.record("got \(String(describing: e4))"); return }
        let e5 = runtimeError { try queue.storeBuffer2D(sramIndex: 0, tiny, elementOffset: 0, xSize: 7, ySize: 1, xStride: 7) }
        guard case .bufferRange(buffer: "tiny-input", _, _, _, _)? = e5 else { Issue.record("got \(String(describing: e5))"); return }
        // What fits is accepted: 6 elements = 96 bytes; nothing was queued by the failures.
        try queue.loadBuffer2D(tiny, elementOffset: 0, xSize: 6, ySize: 1, xStride: 6, sramIndex: 0, memory: .inp)
        #expect(queue.count == 1)
        #expect(runtimeError { try queue.loadBuffer2D(tiny, elementOffset: -1, xSize: 1, ySize: 1, xStride: 1, sramIndex: 0, memory: .inp) } != nil)
    }

    @Test("SRAM ranges are checked against each memory's depth")
    func sramRange() throws {
        let c = Configs.standard
        let runtime = try makeRuntime()
        let queue = try runtime.makeCommandQueue()
        let buf = try runtime.allocate(bytes: 1 << 16, label: "data")
        let e1 = runtimeError { try queue.loadBuffer2D(buf, elementOffset: 0, xSize: 2, ySize: 1, xStride: 2, sramIndex: c.inpBuffDepth - 1, memory: .inp) }
        guard case let .sramRange(memory, _, first, end, depth)? = e1 else { Issue.record("got \(String(describing: e1))"); return }
        #expect(memory == "INP" && first == 2047 && end == 2049 && depth == 2048)
        // Padding counts: 1 + 2 + 1 elements per row, 1 + 255 + 0 rows = 1024 elements > 1024 - 1.
        let e2 = runtimeError {
            try queue.loadBuffer2D(buf, elementOffset: 0, xSize: 2, ySize: 255, xStride: 0, xPadBefore: 1, yPadBefore: 1,
                                   xPadAfter: 1, sramIndex: 1, memory: .wgt)
        }
        guard case let .sramRange(memory2, _, _, end2, depth2)? = e2 else { Issue.record("got \(String(describing: e2))"); return }
        #expect(memory2 == "WGT" && end2 == 1025 && depth2 == 1024)
        let e3 = runtimeError { try queue.storeBuffer2D(sramIndex: 2040, buf, elementOffset: 0, xSize: 3, ySize: 3, xStride: 3) }
        guard case .sramRange(memory: "OUT", _, 2040, 2049, 2048)? = e3 else { Issue.record("got \(String(describing: e3))"); return }
        let e4 = runtimeError { try queue.loadBuffer2D(buf, elementOffset: 0, xSize: 1, ySize: 1, xStride: 1, sramIndex: -1, memory: .acc) }
        guard case .sramRange? = e4 else { Issue.record("got \(String(describing: e4))"); return }
        let e5 = runtimeError { try queue.loadBuffer2D(buf, elementOffset: 0, xSize: 8193, ySize: 1, xStride: 8193, sramIndex: 0, memory: .uop) }
        guard case .sramRange(memory: "UOP", _, _, _, 8192)? = e5 else { Issue.record("got \(String(describing: e5))"); return }
        #expect(queue.count == 0)
    }

    @Test("field limits: padding above 15, sizes above 65535, OUT loads, non-OUT stores")
    func fieldLimits() throws {
        let runtime = try makeRuntime()
        let queue = try runtime.makeCommandQueue()
        let buf = try runtime.allocate(bytes: 1 << 20, label: "data")
        #expect(isInvalidArgument(runtimeError { try queue.loadBuffer2D(buf, elementOffset: 0, xSize: 1, ySize: 1, xStride: 1, xPadBefore: 16, sramIndex: 0, memory: .inp) }))
        #expect(isInvalidArgument(runtimeError { try queue.loadBuffer2D(buf, elementOffset: 0, xSize: 1, ySize: 1, xStride: 1, yPadAfter: 16, sramIndex: 0, memory: .inp) }))
        #expect(isInvalidArgument(runtimeError { try queue.loadBuffer2D(buf, elementOffset: 0, xSize: 1, ySize: 1, xStride: 1, yPadBefore: -1, sramIndex: 0, memory: .inp) }))
        #expect(isInvalidArgument(runtimeError { try queue.loadBuffer2D(buf, elementOffset: 0, xSize: 65536, ySize: 1, xStride: 1, sramIndex: 0, memory: .inp) }))
        #expect(isInvalidArgument(runtimeError { try queue.loadBuffer2D(buf, elementOffset: 0, xSize: 1, ySize: 65536, xStride: 1, sramIndex: 0, memory: .inp) }))
        #expect(isInvalidArgument(runtimeError { try queue.loadBuffer2D(buf, elementOffset: 0, xSize: 1, ySize: 1, xStride: 65536, sramIndex: 0, memory: .inp) }))
        #expect(isInvalidArgument(runtimeError { try queue.storeBuffer2D(sramIndex: 0, buf, elementOffset: 0, xSize: 1, ySize: 1, xStride: 70000) }))
        #expect(isInvalidArgument(runtimeError { try queue.loadBuffer2D(buf, elementOffset: 0, xSize: 1, ySize: 1, xStride: 1, sramIndex: 0, memory: .out) }))
        #expect(isInvalidArgument(runtimeError { try queue.storeBuffer2D(sramIndex: 0, memory: .acc, buf, elementOffset: 0, xSize: 1, ySize: 1, xStride: 1) }))
        // Padding of exactly 15 and sizes of 65535 are the limits, and are accepted.
        try queue.loadBuffer2D(buf, elementOffset: 0, xSize: 1, ySize: 1, xStride: 65535, xPadBefore: 15, sramIndex: 0, memory: .inp)
        #expect(queue.count == 1)
        let e = runtimeError { try queue.loadBuffer2D(OddBuffer(), elementOffset: 0, xSize: 1, ySize: 1, xStride: 1, sramIndex: 0, memory: .inp) }
        guard case .misaligned(buffer: "odd", address: 0x10008, elementBytes: 16)? = e else { Issue.record("got \(String(describing: e))"); return }
        queue.reset()
    }

    @Test("dependencies only between neighbouring stages")
    func invalidDependencies() throws {
        let queue = try makeRuntime().makeCommandQueue()
        let e1 = runtimeError { try queue.depPush(from: .load, to: .store) }
        guard case .invalidDependency(from: .load, to: .store, _)? = e1 else { Issue.record("got \(String(describing: e1))"); return }
        let e2 = runtimeError { try queue.depPop(from: .store, to: .load) }
        guard case .invalidDependency(from: .store, to: .load, _)? = e2 else { Issue.record("got \(String(describing: e2))"); return }
        let e3 = runtimeError { try queue.depPush(from: .compute, to: .compute) }
        guard case .invalidDependency? = e3 else { Issue.record("got \(String(describing: e3))"); return }
        #expect(queue.count == 0)
        // The queue is still usable: an empty synchronize runs.
        try queue.synchronize()
    }

    @Test("kernels pushed as the wrong kind are refused")
    func wrongKernelKind() throws {
        let c = Configs.standard
        let queue = try makeRuntime().makeCommandQueue()
        let gemm = try UopKernel.gemm(config: c) { r throws(RuntimeError) in try r.push(dst: 0, src: 0, wgt: 0) }
        let alu = try UopKernel.alu(config: c, .add, immediate: 1) { r throws(RuntimeError) in try r.push(dst: 0, src: 0) }
        #expect(isKernel(runtimeError { try queue.pushALU(gemm) }))
        #expect(isKernel(runtimeError { try queue.pushGEMM(alu) }))
        #expect(queue.count == 0)
        #expect(queue.statistics.kernelLoads == 0)
    }

    @Test("micro-op recorder rules")
    func recorderRules() throws {
        let c = Configs.standard
        #expect(isKernel(runtimeError {
            _ = try UopKernel.gemm(config: c) { r throws(RuntimeError) in
                try r.loop(extent: 2, dstFactor: 1, srcFactor: 0)
                try r.loop(extent: 2, dstFactor: 1, srcFactor: 0)
                try r.loop(extent: 2, dstFactor: 1, srcFactor: 0)
                try r.push(dst: 0, src: 0, wgt: 0)
            }
        }), "three loops")
        #expect(isKernel(runtimeError {
            _ = try UopKernel.alu(config: c, .add, immediate: 1) { r throws(RuntimeError) in
                try r.push(dst: 0, src: 0)
                try r.loop(extent: 2, dstFactor: 1, srcFactor: 1)
            }
        }), "loop after push")
        #expect(isKernel(runtimeError {
            _ = try UopKernel.alu(config: c, .add, immediate: 1) { r throws(RuntimeError) in
                try r.push(dst: 3, src: 0)
                try r.push(dst: 3, src: 1)
            }
        }), "same dst as the previous micro-op")
        #expect(isKernel(runtimeError {
            _ = try UopKernel.gemm(config: c) { r throws(RuntimeError) in
                try r.push(dst: 3, src: 0, wgt: 0)
                try r.push(dst: 4, src: 0, wgt: 0)
                try r.push(dst: 3, src: 0, wgt: 0)
            }
        }), "same dst as two micro-ops before")
        #expect(isKernel(runtimeError { _ = try UopKernel.gemm(config: c) { _ throws(RuntimeError) in } }), "zero micro-ops")
        #expect(isKernel(runtimeError {
            _ = try UopKernel.alu(config: c, .max) { r throws(RuntimeError) in
                try r.loop(extent: 2, dstFactor: 1, srcFactor: 1, wgtFactor: 1)
                try r.push(dst: 0, src: 0)
            }
        }), "ALU loop with a weight factor")
        #expect(isKernel(runtimeError {
            _ = try UopKernel.alu(config: c, .max) { r throws(RuntimeError) in
                try r.loop(extent: 16384, dstFactor: 1, srcFactor: 1)
                try r.push(dst: 0, src: 0)
            }
        }), "loop extent beyond the 14-bit iteration field")
        #expect(isKernel(runtimeError {
            _ = try UopKernel.alu(config: c, .max) { r throws(RuntimeError) in
                for i in 0...c.uopBuffDepth { try r.push(dst: i % 4, src: 0) }
            }
        }), "more micro-ops than the micro-op SRAM holds")
        #expect(runtimeError {
            _ = try UopKernel.gemm(config: c) { r throws(RuntimeError) in try r.push(dst: 1 << 11, src: 0, wgt: 0) }
        } != nil, "dst beyond the 11-bit field")
        // Legal: the same dst three micro-ops apart, and two loops.
        let ok = try UopKernel.gemm(config: c) { r throws(RuntimeError) in
            try r.loop(extent: 2, dstFactor: 1, srcFactor: 0)
            try r.loop(extent: 2, dstFactor: 1, srcFactor: 0)
            for d in [3, 4, 5, 3] { try r.push(dst: d, src: 0, wgt: 0) }
        }
        #expect(ok.uops.map(\.dst) == [3, 4, 5, 3])
        #expect(ok.loops.count == 2)
    }

    @Test("a deadlocking pop fails synchronize; the queue refuses work until reset()", arguments: SimulatorProfile.allCases)
    func failedSynchronize(profile: SimulatorProfile) throws {
        let c = Configs.standard
        let runtime = try makeRuntime(c, profile)
        let queue = try runtime.makeCommandQueue()
        let rows = try runtime.buffer([Int32](repeating: 3, count: 16), label: "rows")
        let out = try runtime.allocate(bytes: 16, label: "out")
        let add = try UopKernel.alu(config: c, .add, immediate: 4) { r throws(RuntimeError) in try r.push(dst: 0, src: 0) }
        // A pop with no matching push: the ALU waits for a load->compute token nobody sends.
        try queue.depPop(from: .load, to: .compute)
        try queue.pushALU(add)
        let e = runtimeError { try queue.synchronize() }
        guard case .device(.runFailed(let why))? = e else { Issue.record("expected .device(.runFailed), got \(String(describing: e))"); return }
        #expect(why.lowercased().contains("deadlock"), "message: \(why)")
        #expect(queue.statistics.synchronizations == 0)

        for (name, call) in [
            ("loadBuffer2D", { try queue.loadBuffer2D(rows, elementOffset: 0, xSize: 1, ySize: 1, xStride: 1, sramIndex: 0, memory: .acc) }),
            ("pushALU", { try queue.pushALU(add) }),
            ("depPush", { try queue.depPush(from: .compute, to: .store) }),
            ("depPop", { try queue.depPop(from: .compute, to: .store) }),
            ("storeBuffer2D", { try queue.storeBuffer2D(sramIndex: 0, out, elementOffset: 0, xSize: 1, ySize: 1, xStride: 1) }),
            ("synchronize", { try queue.synchronize() }),
        ] as [(String, () throws -> Void)] {
            let f = runtimeError(call)
            guard case .queueFailed(let previous)? = f else { Issue.record("\(name): expected .queueFailed, got \(String(describing: f))"); continue }
            #expect(previous.lowercased().contains("deadlock"))
        }

        queue.reset()
        try queue.loadBuffer2D(rows, elementOffset: 0, xSize: 1, ySize: 1, xStride: 1, sramIndex: 0, memory: .acc)
        try queue.pushALU(add)
        try queue.depPush(from: .compute, to: .store)
        try queue.depPop(from: .compute, to: .store)
        try queue.storeBuffer2D(sramIndex: 0, out, elementOffset: 0, xSize: 1, ySize: 1, xStride: 1)
        let report = try queue.synchronize()
        #expect(report.leftoverTokens.isEmpty)
        #expect(try out.read(Int8.self, count: 16) == [Int8](repeating: 7, count: 16))
    }

    @Test("freeing a buffer twice or on another device is DeviceError.unknownBuffer")
    func badFree() throws {
        let runtime = try makeRuntime()
        let other = try makeRuntime()
        let b = try runtime.allocate(bytes: 64, label: "twice")
        try runtime.free(b)
        let e = runtimeError { try runtime.free(b) }
        guard case .device(.unknownBuffer(let label))? = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(label == "twice")
        // Directly on the device protocol.
        do {
            try runtime.device.free(b)
            Issue.record("second free succeeded")
        } catch {
            guard case .unknownBuffer = error else { Issue.record("got \(error)"); return }
        }
        let foreign = try other.allocate(bytes: 64, label: "foreign")
        let e2 = runtimeError { try runtime.free(foreign) }
        guard case .device(.unknownBuffer("foreign"))? = e2 else { Issue.record("got \(String(describing: e2))"); return }
        try other.free(foreign)   // still fine on its own device
    }

    @Test("MatrixMultiply rejects bad shapes, shifts, clips and operand sizes")
    func matrixMultiplyArguments() throws {
        for (m, k, n) in [(0, 1, 1), (1, 0, 1), (1, 1, 0), (-1, 4, 4)] {
            #expect(isInvalidArgument(runtimeError { _ = try MatrixMultiply(m: m, k: k, n: n) }), "M=\(m) K=\(k) N=\(n)")
        }
        #expect(isInvalidArgument(runtimeError { _ = try MatrixMultiply(m: 1, k: 1, n: 1, shift: 32) }))
        #expect(isInvalidArgument(runtimeError { _ = try MatrixMultiply(m: 1, k: 1, n: 1, shift: -1) }))
        #expect(isInvalidArgument(runtimeError { _ = try MatrixMultiply(m: 1, k: 1, n: 1, clip: -129...0) }))
        #expect(isInvalidArgument(runtimeError { _ = try MatrixMultiply(m: 1, k: 1, n: 1, clip: 0...128) }))
        _ = try MatrixMultiply(m: 1, k: 1, n: 1, shift: 31, clip: -128...127)
        let mm = try MatrixMultiply(m: 2, k: 3, n: 4)
        let runtime = try makeRuntime()
        let a = [Int8](repeating: 1, count: 6), b = [Int8](repeating: 1, count: 12)
        #expect(isInvalidArgument(runtimeError { _ = try mm.run(on: runtime, a: Array(a.dropLast()), b: b, bias: nil) }))
        #expect(isInvalidArgument(runtimeError { _ = try mm.run(on: runtime, a: a, b: b + [1], bias: nil) }))
        #expect(isInvalidArgument(runtimeError { _ = try mm.run(on: runtime, a: a, b: b, bias: [1, 2, 3]) }))
        #expect(try mm.run(on: runtime, a: a, b: b, bias: [1, 2, 3, 4]).c == [4, 5, 6, 7, 4, 5, 6, 7])
    }

    @Test("a kernel recorded for another configuration is refused, not run with misread micro-ops")
    func kernelFromAnotherConfiguration() throws {
        // Micro-op (dst 5, src 7) of the 2x32 configuration has 10-bit fields; read with the stock
        // 11-bit layout it would address accumulator row 1029 and source row 3.
        let foreign = try UopKernel.alu(config: Configs.alt, .add, immediate: 1) { r throws(RuntimeError) in try r.push(dst: 5, src: 7) }
        let queue = try makeRuntime(Configs.standard).makeCommandQueue()
        #expect(isKernel(runtimeError { try queue.pushALU(foreign) }))
        #expect(queue.count == 0)
        #expect(queue.statistics.kernelLoads == 0)
        // The same kernel on a queue of its own configuration is fine.
        let own = try makeRuntime(Configs.alt).makeCommandQueue()
        try own.pushALU(foreign)
        #expect(own.statistics.kernelLoads == 1)
        own.reset()
    }

    @Test("a kernel larger than the micro-op staging buffer is refused")
    func kernelLargerThanStaging() throws {
        var o = CommandQueue.Options()
        o.uopStagingCapacity = 4
        let queue = try makeRuntime().makeCommandQueue(options: o)
        let k = try UopKernel.alu(config: Configs.standard, .add, immediate: 1) { r throws(RuntimeError) in
            for i in 0..<8 { try r.push(dst: i, src: i) }
        }
        #expect(runtimeError { try queue.pushALU(k) } != nil)
        #expect(queue.statistics.kernelLoads == 0)
        // Kernels that fit still work, across automatic synchronisations when staging fills.
        let small = try UopKernel.alu(config: Configs.standard, .add, immediate: 1) { r throws(RuntimeError) in
            for i in 0..<3 { try r.push(dst: i, src: i) }
        }
        let other = try UopKernel.alu(config: Configs.standard, .add, immediate: 2) { r throws(RuntimeError) in
            for i in 0..<3 { try r.push(dst: i, src: i) }
        }
        try queue.pushALU(small)
        try queue.pushALU(other)
        #expect(queue.statistics.automaticSynchronizations == 1)
        try queue.synchronize()
    }

    @Test("MatrixMultiply with a small instruction queue: a typed error or a correct result, never a deadlock")
    func matrixMultiplySmallQueue() throws {
        var rng = SplitMix64(seed: 8)
        let a = rng.int8s(40 * 300), b = rng.int8s(40 * 300, in: -8...8)
        let mm = try MatrixMultiply(m: 40, k: 300, n: 40, shift: 6)
        let expected = independentMatmul(a: a, b: b, bias: nil, m: 40, k: 300, n: 40, shift: 6, clip: -128...127)
        for capacity in [16, 20, 24, 28, 32, 40, 48, 64] {
            var o = CommandQueue.Options()
            o.instructionCapacity = capacity
            let runtime = try makeRuntime()
            do {
                let r = try mm.run(on: runtime, a: a, b: b, bias: nil, options: o)
                #expect(mismatches(r.c, expected) == 0, "capacity \(capacity)")
                #expect(capacity >= 24, "capacity \(capacity) cannot hold one block (an ACC load, 2 chunks of loads and a GEMM, 3 ALU ops, a store) plus synchronisation")
            } catch {
                guard case .invalidArgument = error else { Issue.record("capacity \(capacity): \(error)"); continue }
                #expect(capacity < 48, "capacity \(capacity) should be enough: \(error)")
            }
        }
    }

    @Test("MatrixMultiply splits batches between blocks, not inside one, when the queue is small")
    func matrixMultiplyBlocksPerBatch() throws {
        var rng = SplitMix64(seed: 10)
        let (m, k, n) = (256, 1024, 128)
        let a = rng.int8s(m * k), b = rng.int8s(n * k, in: -4...4), bias = rng.int32s(n, in: -3000...3000)
        let mm = try MatrixMultiply(m: m, k: k, n: n, shift: 8)
        let expected = independentMatmul(a: a, b: b, bias: bias, m: m, k: k, n: n, shift: 8, clip: -128...127)
        // Capacities around the size of one or two blocks (4 K chunks and 3 ALU ops each).
        for capacity in stride(from: 40, through: 72, by: 2) {
            var o = CommandQueue.Options()
            o.instructionCapacity = capacity
            let r = try mm.run(on: makeRuntime(Configs.standard, .fsim), a: a, b: b, bias: bias, options: o)
            #expect(r.synchronizations > 1, "capacity \(capacity)")
            #expect(mismatches(r.c, expected) == 0, "capacity \(capacity)")
        }
    }

    @Test("a configuration the simulator cannot run is .backendUnavailable")
    func unsupportedBackend() throws {
        let fourBit = try HardwareConfig(logInpWidth: 2, logInpBuffSize: 14)   // int4 inputs
        let e = runtimeError { _ = try Runtime.open(.simulator(profile: .fsim), config: fourBit) }
        guard case .backendUnavailable? = e else { Issue.record("got \(String(describing: e))"); return }
    }

    @Test("queue options are validated")
    func queueOptions() throws {
        var o = CommandQueue.Options()
        o.instructionCapacity = 8
        #expect(isInvalidArgument(runtimeError { _ = try makeRuntime().makeCommandQueue(options: o) }))
    }
}
