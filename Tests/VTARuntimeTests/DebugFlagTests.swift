import Testing
import VTATestSupport
import VTA
import VTARuntime
import VTASimulator

/// Collects what a queue sends to its debug sink.
final class SinkLog {
    var messages: [String] = []
    var lines: [String] { messages.flatMap { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) } }
}

@Suite("Debug flags (spec §6.8)")
struct DebugFlagTests {
    typealias SmallGEMM = InstructionStreamTests.SmallGEMM

    @Test("dumpInstructions sends a header and one disassembly line per instruction")
    func dumpInstructions() throws {
        let runtime = try makeRuntime()
        var options = CommandQueue.Options()
        options.debug = [.dumpInstructions]
        let queue = try runtime.makeCommandQueue(options: options)
        let log = SinkLog()
        queue.debugSink = { log.messages.append($0) }
        let program = try SmallGEMM.enqueue(queue, runtime: runtime, seed: 21)
        #expect(log.messages.isEmpty, "nothing is dumped before synchronisation")
        try queue.synchronize()
        #expect(try readInt8(program.out, count: 32) == program.expected)

        let lines = log.lines.filter { !$0.isEmpty }
        try #require(lines.count == 11, "got \(lines)")
        #expect(lines[0] == "There are 10 instructions")
        // The verified stream of §6.7, one line each, in order, with its flags.
        let expected: [(String, [String])] = [
            ("LOAD", ["INP"]), ("LOAD", ["WGT", "push_next"]), ("LOAD", ["UOP", "pop_prev"]), ("GEMM", ["reset"]),
            ("LOAD", ["UOP"]), ("GEMM", ["push_next"]), ("STORE", ["pop_prev", "push_prev"]),
            ("LOAD", ["INP", "push_next"]), ("LOAD", ["UOP", "pop_prev", "pop_next"]), ("FINISH", []),
        ]
        for (i, (kind, words)) in expected.enumerated() {
            let line = lines[i + 1]
            let tokens = line.split(separator: " ").map(String.init)
            #expect(tokens.first == String(i), "line \(i) starts with its index: \(line)")
            #expect(tokens.dropFirst().first == kind, "line \(i): \(line)")
            for w in words { #expect(line.contains(w), "line \(i) lacks \(w): \(line)") }
        }
        #expect(!lines[1].contains("push") && !lines[1].contains("pop"))

        // Without the flag nothing is sent.
        queue.debug = []
        log.messages = []
        _ = try SmallGEMM.enqueue(queue, runtime: runtime, seed: 22)
        try queue.synchronize()
        #expect(log.messages.isEmpty)
    }

    @Test("dumpMicroOps prints each kernel once, in the reference format")
    func dumpMicroOps() throws {
        let c = Configs.standard
        let runtime = try makeRuntime()
        let queue = try runtime.makeCommandQueue()
        queue.debug = [.dumpMicroOps]
        let log = SinkLog()
        queue.debugSink = { log.messages.append($0) }
        let k = try UopKernel.gemm(config: c) { r throws(RuntimeError) in
            try r.push(dst: 5, src: 6, wgt: 7)
            try r.push(dst: 12, src: 0, wgt: 1023)
            try r.push(dst: 2047, src: 2047, wgt: 0)
        }
        let one = try UopKernel.alu(config: c, .min, immediate: 3) { r throws(RuntimeError) in try r.push(dst: 9, src: 8) }
        try queue.pushGEMM(k)
        try queue.pushGEMM(k)
        try queue.pushALU(one)
        try queue.synchronize()
        try queue.pushGEMM(k)      // reloaded in the next batch, but not printed again
        try queue.synchronize()
        #expect(log.messages.count == 2)
        let first = log.messages.first?.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) ?? []
        #expect(Array(first.prefix(4)) == [
            "There are 3 uops",
            "[0000]\t acc=5, inp=6, wgt=7",
            "[0001]\t acc=12, inp=0, wgt=1023",
            "[0002]\t acc=2047, inp=2047, wgt=0",
        ])
        #expect(first.dropFirst(4).allSatisfy { $0.isEmpty })
        #expect(log.messages.last?.hasPrefix("There are 1 uops\n[0000]\t acc=9, inp=8, wgt=0") == true)
        #expect(queue.statistics.kernelLoads == 3)
    }

    @Test("forceSerial serialises the small GEMM program and keeps its result", arguments: SimulatorProfile.allCases)
    func forceSerial(profile: SimulatorProfile) throws {
        let device = try RecordingDevice(profile: profile)
        let runtime = Runtime(device: device)
        var options = CommandQueue.Options()
        options.debug = [.forceSerial]
        let queue = try runtime.makeCommandQueue(options: options)
        let program = try SmallGEMM.enqueue(queue, runtime: runtime, seed: 5)
        let report = try queue.synchronize()
        #expect(try readInt8(program.out, count: 32) == program.expected)
        #expect(report.leftoverTokens.isEmpty)

        // §6.7 FORCE_SERIAL: flags rewritten per adjacent pair (load->compute: push_next/pop_prev,
        // compute->store: push_next/pop_prev); a trailing store pushes to compute and a compute
        // no-op pops it; then a compute->load->compute round trip through no-ops before FINISH.
        let run = try #require(device.recorded.first)
        let stream = run.words.map { SpecInsn($0) }
        let kinds = stream.map { s -> String in
            s.kind == .load ? "LOAD-\(s["memory_type"])" : s.kind.rawValue
        }
        #expect(kinds == ["LOAD-2", "LOAD-1", "LOAD-0", "GEMM", "LOAD-0", "GEMM", "STORE", "LOAD-0", "LOAD-0", "LOAD-2", "LOAD-0", "FINISH"])
        func flags(_ s: SpecInsn) -> [String] { ["pop_prev", "pop_next", "push_prev", "push_next"].filter { s[$0] == 1 } }
        let expectedFlags: [[String]] = [
            [], ["push_next"], ["pop_prev"], [], [], ["push_next"], ["pop_prev", "push_prev"],
            ["pop_next"], ["push_prev"], ["pop_next", "push_next"], ["pop_prev"], [],
        ]
        #expect(stream.map(flags) == expectedFlags)
    }

    @Test("forceSerial keeps MatrixMultiply (double-buffered, tokens in both directions) correct",
          arguments: SimulatorProfile.allCases)
    func forceSerialMatrixMultiply(profile: SimulatorProfile) throws {
        let runtime = try makeRuntime(Configs.standard, profile)
        var options = CommandQueue.Options()
        options.debug = [.forceSerial]
        let mm = try MatrixMultiply(m: 20, k: 600, n: 40, shift: 4)
        var rng = SplitMix64(seed: 31)
        let a = rng.int8s(20 * 600), b = rng.int8s(40 * 600, in: -8...8), bias = rng.int32s(40, in: -5000...5000)
        let r = try mm.run(on: runtime, a: a, b: b, bias: bias, options: options)
        #expect(mismatches(r.c, independentMatmul(a: a, b: b, bias: bias, m: 20, k: 600, n: 40, shift: 4, clip: -128...127)) == 0)
    }
}
