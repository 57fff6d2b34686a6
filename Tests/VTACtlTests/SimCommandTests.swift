import Foundation
import Testing
import VTATestSupport
import VTA

@Suite("vtactl sim run / conformance")
struct SimCommandTests {
    /// Compares `sim run --json` output with a list of expected segments and counters.
    static func checkRun(_ out: JSONValue, expected: [JSONValue], profiler: JSONValue?, _ context: String) throws {
        let after = try #require(out["after"]?.arrayValue, "\(context): no \"after\" array")
        #expect(after.count == expected.count, "\(context): \(after.count) output segments")
        for e in expected {
            let name = try #require(e["name"]?.stringValue)
            let got = try #require(after.first { $0["name"]?.stringValue == name }, "\(context): no output \(name)")
            #expect(got["phys_addr"] == e["phys_addr"] && got["size"] == e["size"], "\(context): \(name) placement")
            #expect(got["hex"]?.stringValue == e["hex"]?.stringValue?.lowercased(), "\(context): \(name) bytes differ")
        }
        if let profiler {
            let counters = try #require(out["profiler"]?.objectValue, "\(context): no profiler object")
            #expect(counters.count == 7)
            for (k, v) in profiler.objectValue ?? [] { #expect(out["profiler"]?[k] == v, "\(context): counter \(k)") }
        }
    }

    @Test("sim run --json prints the outputs and counters of a program", arguments: [
        "programs/gemm_basic_3x4x5.json", "programs/conv3x3_small.json", "programs/alt_conv3x3.json",
    ])
    func simRun(program: String) throws {
        let golden = try TestData.json(program)
        let r = try VTACtl.run(["sim", "run", try TestData.url(program).path, "--json"])
        let out = try VTACtl.json(r, "sim run \(program)")
        try Self.checkRun(out, expected: try #require(golden["expected_after"]?.arrayValue), profiler: golden["expected_profiler"], program)
    }

    @Test("sim run --profile hardware follows hls_expected")
    func simRunHardware() throws {
        let program = "programs/alu_imm_shr_pos.json"
        let golden = try TestData.json(program)
        let hls = try #require(golden["hls_expected"]?.arrayValue, "\(program) has no hls_expected")
        #expect(hls.first?["hex"] != golden["expected_after"]?.arrayValue?.first?["hex"], "the models should differ here")
        let r = try VTACtl.run(["sim", "run", try TestData.url(program).path, "--json", "--profile", "hardware"])
        try Self.checkRun(try VTACtl.json(r, "sim run --profile hardware"), expected: hls, profiler: nil, program)
        // Without --profile the program's TARGET (sim) selects fsim.
        let fsim = try VTACtl.run(["sim", "run", try TestData.url(program).path, "--json"])
        try Self.checkRun(try VTACtl.json(fsim, "sim run"), expected: try #require(golden["expected_after"]?.arrayValue),
                          profiler: golden["expected_profiler"], program)
    }

    @Test("sim run of a missing or malformed program fails cleanly")
    func simRunErrors() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let missing = dir.url.appendingPathComponent("nothing.json").path
        VTACtl.expectCleanFailure(try VTACtl.run(["sim", "run", missing]), mentioning: [missing], "missing program")
        let bad = dir.url.appendingPathComponent("bad.json")
        try "{\"config\": {}}".write(to: bad, atomically: true, encoding: .utf8)
        VTACtl.expectCleanFailure(try VTACtl.run(["sim", "run", bad.path]), mentioning: ["bad.json", "TARGET"], "program without keys")
    }

    /// The last line must be "N passed, F failed"; returns (N, F).
    static func summary(_ r: CommandResult) throws -> (Int, Int) {
        let last = try #require(r.lines.last, "no output\n\(r)")
        let parts = last.split(separator: " ")
        guard parts.count == 4, parts[1] == "passed,", parts[3] == "failed", let p = Int(parts[0]), let f = Int(parts[2]) else {
            Issue.record("last line is not \"N passed, F failed\": \(last)")
            return (-1, -1)
        }
        return (p, f)
    }

    @Test("conformance ../shared/conformance passes everything", arguments: [[], ["--profile", "hardware"], ["--profile", "fsim"]])
    func conformance(extra: [String]) throws {
        _ = try TestData.url("README.md")
        let r = try VTACtl.run(["conformance", "../shared/conformance"] + extra, cwd: TestData.packageRoot)
        let (passed, failed) = try Self.summary(r)
        #expect(failed == 0, "\(r)")
        // 62 programs and 2 x (363 + 110) vectors at least.
        #expect(passed >= 62 + 2 * 473, "only \(passed) checks\n\(r)")
        #expect(r.status == 0, "\(r)")
        #expect(!r.stdout.contains("FAIL"))
    }

    @Test("a corrupted program copy makes conformance fail with 1 failure")
    func corruptedConformance() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let programs = dir.url.appendingPathComponent("programs")
        try FileManager.default.createDirectory(at: programs, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: try TestData.url("programs/gemm_basic_1x1x1.json"),
                                         to: programs.appendingPathComponent("gemm_basic_1x1x1.json"))
        // Flip one bit of the expected output of a second program.
        let json = try TestData.json("programs/store_stride_a.json")
        guard case .object(var members) = json, let i = members.firstIndex(where: { $0.0 == "expected_after" }),
              case .array(var segs) = members[i].1, case .object(var seg) = segs[0],
              let h = seg.firstIndex(where: { $0.0 == "hex" }), case .string(let hex) = seg[h].1
        else {
            Issue.record("unexpected layout of store_stride_a.json")
            return
        }
        var chars = Array(hex)
        let k = chars.count / 2
        chars[k] = chars[k] == "0" ? "1" : "0"
        seg[h].1 = .string(String(chars))
        segs[0] = .object(seg)
        members[i].1 = .array(segs)
        try JSONValue.object(members).serialized(pretty: true)
            .write(to: programs.appendingPathComponent("store_stride_a_corrupt.json"), atomically: true, encoding: .utf8)

        let r = try VTACtl.run(["conformance", dir.url.path])
        let (passed, failed) = try Self.summary(r)
        #expect(passed == 1 && failed == 1, "\(r)")
        #expect(r.lines.last?.hasSuffix(" 1 failed") == true)
        #expect(r.status != 0, "\(r)")
        #expect(r.stdout.contains("FAIL store_stride_a"), "\(r)")
    }
}
