import VTA

/// Runs a `ProgramFile` (conformance/job format) on any `Device`: allocates its buffers on the
/// device, relocates the instructions to the device's addresses, runs, reads the buffers back.
public enum ProgramExecution {
    public struct Outcome: Sendable {
        public var report: RunReport
        /// Every buffer's bytes after the run, by name.
        public var buffers: [String: [UInt8]]
        /// Differences from the program's expectations (empty: pass).
        public var mismatches: [String]
    }

    public static func run(_ program: ProgramFile, on device: any Device, hardwareExpectations: Bool,
                           timeout: Duration = .seconds(30)) throws(RuntimeError) -> Outcome {
        guard device.config.sameHardware(as: program.config) else {
            let diff = program.config.differences(from: device.config, includeTarget: false)
                .map { "\($0.key): program \($0.mine), device \($0.theirs)" }.joined(separator: "; ")
            throw .invalidArgument("the program was built for another configuration (\(diff))")
        }
        var allocated: [(ProgramFile.Segment, any DMABuffer)] = []
        defer { for (_, b) in allocated { try? device.free(b) } }
        var addresses: [String: UInt64] = [:]
        do {
            for seg in program.allocations where seg.role != .insn {
                let b = try device.allocate(bytes: max(1, seg.size), label: seg.name)
                allocated.append((seg, b))
                addresses[seg.name] = b.deviceAddress
                b.hostAddress.initializeMemory(as: UInt8.self, repeating: 0, count: seg.size)
                if let bytes = seg.contents { try b.write(bytes) } else { try b.flush() }
            }
        } catch {
            throw .device(error)
        }
        let words: [InstructionWord]
        do { words = try program.relocatedInstructions(to: addresses) } catch { throw .invalidArgument(error.description) }
        let insn: any DMABuffer
        do {
            insn = try device.allocate(bytes: words.count * 16, label: "instructions")
            var bytes = [UInt8]()
            bytes.reserveCapacity(words.count * 16)
            for w in words { bytes += w.bytes }
            try insn.write(bytes)
        } catch {
            throw .device(error)
        }
        defer { try? device.free(insn) }
        let report: RunReport
        do { report = try device.run(instructionsAt: insn.deviceAddress, count: words.count, timeout: timeout) } catch { throw .device(error) }

        var buffers: [String: [UInt8]] = [:]
        var mismatches: [String] = []
        for (seg, b) in allocated {
            let bytes: [UInt8]
            do { bytes = try b.read(UInt8.self, count: seg.size) } catch { throw .device(error) }
            buffers[seg.name] = bytes
            if seg.role != .output, let before = seg.contents, before != bytes { mismatches.append("\(seg.name) (\(seg.role.rawValue)) was modified") }
        }
        for e in program.expectations(hardware: hardwareExpectations) {
            guard let got = buffers[e.name] else { mismatches.append("\(e.name): no such buffer"); continue }
            if let want = e.bytes, want != got {
                mismatches.append("\(e.name): \(zip(want, got).filter { $0 != $1 }.count) of \(want.count) bytes differ")
            } else if let digest = e.sha256, SHA256.hex(got) != digest.lowercased() {
                mismatches.append("\(e.name): SHA-256 differs")
            }
        }
        if !hardwareExpectations, let want = program.expectedProfiler, want != report.counters {
            mismatches.append("profiler counters differ")
        }
        return Outcome(report: report, buffers: buffers, mismatches: mismatches)
    }
}
