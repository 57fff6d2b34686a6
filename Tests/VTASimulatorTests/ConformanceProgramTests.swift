import Testing
import VTATestSupport
import VTA
import VTASimulator

/// The 62 golden programs and 5 perf workloads of the shared conformance data.
@Suite("Conformance programs")
struct ConformanceProgramTests {
    @Test("all 62 programs pass", arguments: [SimulatorProfile.fsim, .hardware])
    func programs(profile: SimulatorProfile) throws {
        let files = try TestData.files(in: "programs")
        #expect(files.count == 62, "found \(files.count) programs")
        var passed = 0
        for url in files {
            let json = try TestData.json(url)
            #expect(json["format"]?.stringValue == "vta-conformance-program/1")
            let result = ConformanceSuite.checkProgram(json, fileName: url.lastPathComponent, profile: profile)
            #expect(result.passed, "\(url.lastPathComponent) under \(profile): \(result.failure ?? "")")
            if result.passed { passed += 1 }
        }
        #expect(passed == 62)
    }

    @Test("the hardware profile is checked against hls_expected where the models differ")
    func hardwareExpectationsAreDistinct() throws {
        var differing = 0
        for url in try TestData.files(in: "programs") {
            let program = try ProgramFile(json: try TestData.json(url))
            let hw = program.expectations(hardware: true)
            if program.hardwareMatchesFsim {
                #expect(program.hardwareExpected == nil)
                continue
            }
            // README §6: when HLS did not match, hls_expected holds its outputs.
            let hlsBytes = hw.map { $0.bytes ?? [] }
            let fsimBytes = program.expected.map { $0.bytes ?? [] }
            if hlsBytes != fsimBytes { differing += 1 }
            #expect(program.hardwareExpected != nil, "\(url.lastPathComponent): no hls_expected")
        }
        // 37 of 62 programs match; of the other 25 most differ in their output bytes (the rest
        // differ only in what HLS asserts at the end).
        #expect(differing >= 15, "only \(differing) programs have distinct hardware expectations")
    }

    @Test("the 5 perf workloads match their digests under fsim")
    func perf() throws {
        let files = try TestData.files(in: "perf")
        #expect(files.count == 5, "found \(files.count) perf workloads")
        for url in files {
            let json = try TestData.json(url)
            let program = try ProgramFile(json: json)
            #expect(!program.expected.isEmpty && program.expected.allSatisfy { $0.sha256 != nil }, "\(url.lastPathComponent) has no digests")
            let result = ConformanceSuite.checkProgram(json, fileName: url.lastPathComponent, profile: .fsim)
            #expect(result.passed, "\(url.lastPathComponent): \(result.failure ?? "")")
        }
    }

    @Test("a corrupted expectation is reported as a failure")
    func corruptedProgramFails() throws {
        let json = try TestData.json("programs/gemm_basic_3x4x5.json")
        guard case .object(var members) = json else { Issue.record("not an object"); return }
        let i = try #require(members.firstIndex { $0.0 == "expected_after" })
        var segments = try #require(members[i].1.arrayValue)
        guard case .object(var seg) = segments[0] else { Issue.record("bad segment"); return }
        let h = try #require(seg.firstIndex { $0.0 == "hex" })
        var hex = Array(try #require(seg[h].1.stringValue))
        hex[0] = hex[0] == "0" ? "1" : "0"
        seg[h].1 = .string(String(hex))
        segments[0] = .object(seg)
        members[i].1 = .array(segments)
        let bad = ConformanceSuite.checkProgram(.object(members), fileName: "corrupt", profile: .fsim)
        #expect(!bad.passed)
        #expect(bad.failure?.contains("byte 0") == true, "\(bad.failure ?? "")")
        #expect(ConformanceSuite.checkProgram(json, fileName: "intact", profile: .fsim).passed)
    }

    @Test("running perf_b twice gives identical outputs and counters")
    func determinism() throws {
        let json = try TestData.json("perf/perf_b_conv_56x56x64_3x3.json")
        let program = try ProgramFile(json: json)
        let runner = ProgramRunner(program: program, profile: .fsim)
        let first = try runner.run()
        let second = try runner.run()
        #expect(first.mismatches.isEmpty, "\(first.mismatches)")
        #expect(first.buffers == second.buffers)
        #expect(first.report.counters == second.report.counters)
        // The same simulator run again (SRAM state carried over) also gives the same outputs.
        let sim = try runner.prepare()
        let r1 = try sim.run(instructionsAt: program.instructionAddress, count: program.instructions.count)
        let out = try #require(program.allocations.first { $0.role == .output })
        let p = try #require(sim.memory.pointer(physical: out.physicalAddress, length: out.size))
        let a = [UInt8](UnsafeRawBufferPointer(start: p, count: out.size))
        let r2 = try sim.run(instructionsAt: program.instructionAddress, count: program.instructions.count)
        let b = [UInt8](UnsafeRawBufferPointer(start: p, count: out.size))
        #expect(a == b && a == first.buffers[out.name])
        #expect(r1.counters == r2.counters && r1.counters == program.expectedProfiler)
    }
}
