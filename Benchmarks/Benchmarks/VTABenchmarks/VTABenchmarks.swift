// swift-vta benchmarks. Every measured path has a baseline benchmark that does the same work
// in a simpler way, run in the same process; `make bench-swift` prints each pair's ratio.
// Absolute times depend on the machine and on what else runs on it; ratios much less so.
//
// Names are "<group> [<items> <unit>]: <variant>"; the variant of a group's baseline starts with
// "baseline". Keep names free of underscores: the JMH export turns spaces into underscores and
// scripts/bench-ratios.py turns them back.

import Benchmark
import VTA
import VTASimulator

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 3,
        maxDuration: .seconds(2),
        maxIterations: 100_000
    )
    isaBenchmarks()
    simulatorBenchmarks()
    runtimeBenchmarks()
}

// MARK: - ISA encode / decode

/// Instructions per measured iteration.
let isaBatch = 4096

/// The same instruction stream in every form the benchmarks need.
struct ISAData {
    let config: HardwareConfig
    let instructions: [Instruction]
    let words: [InstructionWord]
    /// Each instruction as the generic codec takes it: its struct view and (field name, value) pairs.
    let named: [(StructLayout, [(String, Int64)])]
}

/// Deterministic pseudo-random numbers (xorshift64).
struct XorShift {
    var state: UInt64
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
    mutating func below(_ n: UInt64) -> UInt64 { next() % n }
}

enum BenchmarkSetupError: Error, CustomStringConvertible {
    case failed(String)
    var description: String {
        switch self {
        case .failed(let s): return s
        }
    }
}

/// A mix of LOAD/STORE, GEMM, ALU and FINISH with every field drawn from its full range, built
/// through the generic codec and checked to round-trip through the typed one.
func makeISAData() throws -> ISAData {
    let config = HardwareConfig.standard
    let isa = config.isa
    var rng = XorShift(state: 0x9E37_79B9_7F4A_7C15)
    var instructions: [Instruction] = []
    var words: [InstructionWord] = []
    var named: [(StructLayout, [(String, Int64)])] = []
    for _ in 0..<isaBatch {
        let opcode: Int64 = [0, 0, 0, 1, 2, 2, 4, 4, 3][Int(rng.below(9))]
        let layout = isa.layout(Instruction.structKind(forOpcode: UInt8(opcode)))
        var values: [(String, Int64)] = []
        for field in layout.fields {
            let value: Int64
            let r = field.allowedRange
            switch field.name {
            case "opcode": value = opcode
            case "memory_type": value = opcode == 1 ? 4 : [0, 1, 2, 3, 5][Int(rng.below(5))]
            case "alu_opcode": value = Int64(rng.below(5))
            // FINISH carries only its dependency flags (the typed form has nothing else).
            case _ where opcode == 3 && !field.name.hasSuffix("_dep"): value = 0
            default: value = r.lowerBound + Int64(rng.below(UInt64(r.upperBound - r.lowerBound) + 1))
            }
            values.append((field.name, value))
        }
        let word = try layout.encode(values)
        let typed = isa.decode(word)
        guard try isa.encode(typed) == word else {
            throw BenchmarkSetupError.failed("typed codec does not round-trip \(word.hex)")
        }
        instructions.append(typed)
        words.append(word)
        named.append((layout, values))
    }
    return ISAData(config: config, instructions: instructions, words: words, named: named)
}

func isaBenchmarks() {
    let encode = "ISA encode [\(isaBatch) insns]"
    let decode = "ISA decode [\(isaBatch) insns]"

    Benchmark("\(encode): typed isa.encode(Instruction)") { (benchmark: Benchmark, data: ISAData) throws in
        let isa = data.config.isa
        var check: UInt64 = 0
        for _ in benchmark.scaledIterations {
            for insn in data.instructions {
                let w = try isa.encode(insn)
                check &+= w.low ^ w.high
            }
        }
        blackHole(check)
    } setup: {
        try makeISAData()
    }

    Benchmark("\(encode): baseline StructLayout.encode by field name") { (benchmark: Benchmark, data: ISAData) throws in
        var check: UInt64 = 0
        for _ in benchmark.scaledIterations {
            for (layout, values) in data.named {
                let w = try layout.encode(values)
                check &+= w.low ^ w.high
            }
        }
        blackHole(check)
    } setup: {
        try makeISAData()
    }

    Benchmark("\(decode): typed isa.decoder.decode(word)") { (benchmark: Benchmark, data: ISAData) in
        let decoder = data.config.isa.decoder
        for _ in benchmark.scaledIterations {
            for w in data.words {
                blackHole(decoder.decode(w))
            }
        }
    } setup: {
        try makeISAData()
    }

    Benchmark("\(decode): baseline StructLayout.decode(word)") { (benchmark: Benchmark, data: ISAData) in
        let isa = data.config.isa
        let memory = isa.memory, gemm = isa.gemm, alu = isa.alu
        for _ in benchmark.scaledIterations {
            for w in data.words {
                // The generic decoder also needs the opcode to pick the struct view.
                switch w.opcodeBits {
                case 0, 1: blackHole(memory.decode(w))
                case 4: blackHole(alu.decode(w))
                default: blackHole(gemm.decode(w))
                }
            }
        }
    } setup: {
        try makeISAData()
    }
}

// MARK: - Simulator perf workloads

/// The conformance data: $VTA_CONFORMANCE_DIR, else ../shared/conformance beside the repository
/// (found from this file's path, so the working directory does not matter).
func conformanceDirectory() -> String? {
    var candidates: [String] = []
    if let env = getenv("VTA_CONFORMANCE_DIR") { candidates.append(String(cString: env)) }
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    // <repo>/Benchmarks/Benchmarks/VTABenchmarks/VTABenchmarks.swift -> <repo>/..
    if parts.count > 5 {
        parts.removeLast(5)
        candidates.append(parts.joined(separator: "/") + "/shared/conformance")
    }
    candidates += ["../shared/conformance", "../../shared/conformance"]
    return candidates.first { access($0 + "/perf", F_OK) == 0 }
}

/// Reads a whole file.
func readFile(_ path: String) throws -> [UInt8] {
    guard let f = fopen(path, "rb") else { throw BenchmarkSetupError.failed("cannot open \(path)") }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = fread(&chunk, 1, chunk.count, f)
        if n <= 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return bytes
}

/// Names of the perf workloads, found when the benchmarks are registered.
func perfWorkloads() -> [(name: String, path: String)] {
    guard let dir = conformanceDirectory(), let d = opendir(dir + "/perf") else {
        let message = "VTABenchmarks: no conformance perf directory found; set VTA_CONFORMANCE_DIR. Simulator benchmarks skipped.\n"
        _ = message.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
        return []
    }
    defer { closedir(d) }
    var names: [String] = []
    while let e = readdir(d) {
        let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name.hasPrefix("perf") && name.hasSuffix(".json") { names.append(name) }
    }
    return names.sorted().map { (String($0.dropLast(5)), dir + "/perf/" + $0) }
}

/// A workload prepared on a simulator, with the arithmetic it performs.
final class SimWorkload {
    let program: ProgramFile
    let sim: Simulator
    let macs: UInt64
    let aluLaneOps: UInt64

    init(path: String) throws {
        let json = try JSONValue.parse(bytes: try readFile(path))
        program = try ProgramFile(json: json)
        sim = try ProgramRunner(program: program, profile: .fsim).prepare()
        // One run to learn the work it does and to check it computes the right thing.
        let report = try sim.run(instructionsAt: program.instructionAddress, count: program.instructions.count)
        let mismatches = ProgramRunner.checkOutputs(program, sim, report, hardware: false)
        guard mismatches.isEmpty else {
            throw BenchmarkSetupError.failed("\(program.name): \(mismatches.joined(separator: "; "))")
        }
        macs = report.macs
        aluLaneOps = report.aluLaneOps
    }

    func run() throws -> RunReport {
        try sim.run(instructionsAt: program.instructionAddress, count: program.instructions.count)
    }
}

/// The naive baseline: the same arithmetic as a workload in plain scalar Swift, with no decoding,
/// scheduling or DMA. An int8 GEMM (K = N = 256) with at least the workload's multiply-accumulates,
/// then ALU passes (ADD, SHR, MAX, MIN by immediates) over an ACC-sized int32 array with at least
/// its lane operations.
final class ScalarBaseline {
    static let k = 256, n = 256
    let rows: Int
    let aluPasses: Int
    var a: [Int8]
    var b: [Int8]
    var c: [Int32]
    var lanes: [Int32]

    init(macs: UInt64, aluLaneOps: UInt64) {
        rows = Int((macs + UInt64(Self.k * Self.n) - 1) / UInt64(Self.k * Self.n))
        let laneCount = 2048 * 16
        lanes = (0..<laneCount).map { Int32(truncatingIfNeeded: $0 &* 2_654_435_761) }
        aluPasses = Int((aluLaneOps + UInt64(laneCount) - 1) / UInt64(laneCount))
        var rng = XorShift(state: 12345)
        a = (0..<(rows * Self.k)).map { _ in Int8(truncatingIfNeeded: rng.next()) }
        b = (0..<(Self.n * Self.k)).map { _ in Int8(truncatingIfNeeded: rng.next()) }
        c = [Int32](repeating: 0, count: rows * Self.n)
    }

    func run() {
        let k = Self.k, n = Self.n
        let a = self.a, b = self.b
        // Take the result arrays out of the object so the loops work on plain locals (no copy).
        var c: [Int32] = [], lanes: [Int32] = []
        swap(&c, &self.c)
        swap(&lanes, &self.lanes)
        for r in 0..<rows {
            for col in 0..<n {
                var sum: Int32 = 0
                for i in 0..<k {
                    sum &+= Int32(a[r * k + i]) &* Int32(b[col * k + i])
                }
                c[r * n + col] &+= sum
            }
        }
        for p in 0..<aluPasses {
            switch p & 3 {
            case 0: for i in lanes.indices { lanes[i] &+= 3 }
            case 1: for i in lanes.indices { lanes[i] >>= 1 }
            case 2: for i in lanes.indices { lanes[i] = max(lanes[i], -1000) }
            default: for i in lanes.indices { lanes[i] = min(lanes[i], 1000) }
            }
        }
        swap(&c, &self.c)
        swap(&lanes, &self.lanes)
    }
}

func simulatorBenchmarks() {
    for (name, path) in perfWorkloads() {
        // No underscores in names (see the top of the file).
        let group = "Simulator \(name.replacingOccurrences(of: "_", with: "-")) [1 run]"

        Benchmark("\(group): VTASimulator fsim profile") { (benchmark: Benchmark, w: SimWorkload) throws in
            for _ in benchmark.scaledIterations {
                blackHole(try w.run())
            }
        } setup: {
            try SimWorkload(path: path)
        }

        Benchmark("\(group): baseline scalar Swift, same MACs and ALU lane ops") { (benchmark: Benchmark, s: ScalarBaseline) in
            for _ in benchmark.scaledIterations {
                s.run()
            }
            blackHole(s.c)
            blackHole(s.lanes)
        } setup: {
            let w = try SimWorkload(path: path)
            return ScalarBaseline(macs: w.macs, aluLaneOps: w.aluLaneOps)
        }
    }
}
