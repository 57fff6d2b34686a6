import VTA

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a `ProgramFile` on a fresh simulator, as the conformance procedure describes: replay the
/// allocations (same physical addresses), write the buffers and the instructions, run, compare.
public struct ProgramRunner {
    public let program: ProgramFile
    public let profile: SimulatorProfile

    /// The outcome of one run.
    public struct Outcome: Sendable {
        public var report: RunReport
        /// Contents of every buffer after the run, by name.
        public var buffers: [String: [UInt8]]
        /// What differs from the program's expectations (empty: pass).
        public var mismatches: [String]
    }

    /// Why a program could not be set up.
    public struct SetupError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public init(program: ProgramFile, profile: SimulatorProfile) {
        self.program = program
        self.profile = profile
    }

    /// Builds a simulator with the program's memory laid out, ready to run.
    public func prepare() throws -> Simulator {
        let sim = try Simulator(config: program.config, profile: profile)
        for seg in program.allocations {
            let (phys, ptr): (UInt64, UnsafeMutableRawPointer)
            do { (phys, ptr) = try sim.memory.allocate(bytes: max(1, seg.size)) } catch {
                throw SetupError(description: "allocating \(seg.name): \(error)")
            }
            guard phys == seg.physicalAddress else {
                throw SetupError(description: "allocation replay of \(seg.name) gave 0x\(String(phys, radix: 16)), the program expects 0x\(String(seg.physicalAddress, radix: 16))")
            }
            memset(ptr, 0, seg.size)
            if let bytes = seg.contents {
                bytes.withUnsafeBytes { ptr.copyMemory(from: $0.baseAddress!, byteCount: min(bytes.count, seg.size)) }
            }
        }
        let n = program.instructions.count
        guard let insn = sim.memory.pointer(physical: program.instructionAddress, length: n * 16) else {
            throw SetupError(description: "the \(n) instructions at 0x\(String(program.instructionAddress, radix: 16)) do not fit in an allocated buffer")
        }
        for (i, w) in program.instructions.enumerated() {
            (insn + 16 * i).storeBytes(of: w.low.littleEndian, as: UInt64.self)
            (insn + 16 * i + 8).storeBytes(of: w.high.littleEndian, as: UInt64.self)
        }
        return sim
    }

    /// Runs the program once and compares the outputs with the expectations for the profile.
    public func run() throws -> Outcome {
        let sim = try prepare()
        let report = try sim.run(instructionsAt: program.instructionAddress, count: program.instructions.count)
        return Self.check(program, sim, report, hardware: profile == .hardware)
    }

    /// Compares memory and counters after a run.
    static func check(_ program: ProgramFile, _ sim: Simulator, _ report: RunReport, hardware: Bool) -> Outcome {
        var buffers: [String: [UInt8]] = [:]
        var mismatches: [String] = []
        for seg in program.allocations where seg.role != .insn {
            guard let p = sim.memory.pointer(physical: seg.physicalAddress, length: seg.size) else { continue }
            let bytes = [UInt8](UnsafeRawBufferPointer(start: p, count: seg.size))
            buffers[seg.name] = bytes
            if seg.role != .output, let before = seg.contents, before != bytes {
                mismatches.append("\(seg.name) (\(seg.role.rawValue)) was modified by the run")
            }
        }
        for e in program.expectations(hardware: hardware) {
            guard let got = buffers[e.name] else { mismatches.append("\(e.name): no such buffer"); continue }
            if let want = e.bytes {
                if want != got {
                    let diff = zip(want, got).enumerated().filter { $0.element.0 != $0.element.1 }
                    let first = diff.first.map { "first at byte \($0.offset): expected \(hex2($0.element.0)), got \(hex2($0.element.1))" } ?? "sizes differ"
                    mismatches.append("\(e.name): \(diff.count) of \(want.count) bytes differ, \(first)")
                }
            } else if let digest = e.sha256 {
                let got256 = SHA256.hex(got)
                if got256 != digest.lowercased() { mismatches.append("\(e.name): SHA-256 \(got256), expected \(digest)") }
            }
        }
        if !hardware, let want = program.expectedProfiler, want != report.counters {
            let diffs = zip(ProfilerCounters.names, zip(want.values, report.counters.values))
                .filter { $0.1.0 != $0.1.1 }
                .map { "\($0.0) expected \($0.1.0), got \($0.1.1)" }
            mismatches.append("profiler: " + diffs.joined(separator: ", "))
        }
        return Outcome(report: report, buffers: buffers, mismatches: mismatches)
    }
}

private func hex2(_ b: UInt8) -> String {
    let s = String(b, radix: 16)
    return "0x" + (s.count == 1 ? "0" + s : s)
}

extension ProgramRunner {
    /// Compares a simulator's memory and the last report with a program's expectations.
    public static func checkOutputs(_ program: ProgramFile, _ sim: Simulator, _ report: RunReport, hardware: Bool) -> [String] {
        check(program, sim, report, hardware: hardware).mismatches
    }
}
