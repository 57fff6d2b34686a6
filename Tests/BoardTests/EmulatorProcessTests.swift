import Foundation
import Glibc
import Testing
import VTA
import VTATestSupport

/// Runs a built executable to completion; returns status, stdout, stderr.
func runTool(_ name: String, _ arguments: [String], timeout: Duration = .seconds(300)) throws -> (status: Int32, out: String, err: String) {
    let r = try Subprocess.run(try SharedTestData.builtExecutable(name).path, arguments, timeout: timeout)
    if r.timedOut { Issue.record("\(name) \(arguments) did not finish in \(timeout)") }
    return (r.status ?? -1, r.stdout, r.stderr)
}

/// `vta-board-emu` as a separate process: started, waited for (`ready`), terminated.
private final class EmulatorProcess {
    let process = Process()
    let stdout = Pipe()
    let stderrPath: String

    init(_ arguments: [String], stderrPath: String) throws {
        self.stderrPath = stderrPath
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = try SharedTestData.builtExecutable("vta-board-emu")
        process.arguments = arguments
        process.standardOutput = stdout
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
        // The contract: one line `ready` once the registers are watched.
        let line = try #require(readLine(stdout.fileHandleForReading, timeout: 30), "vta-board-emu printed nothing: \(log)")
        #expect(line == "ready")
    }

    var log: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    func stop() -> Int32 {
        process.terminate()  // SIGTERM
        process.waitUntilExit()
        return process.terminationStatus
    }

    private func readLine(_ handle: FileHandle, timeout: TimeInterval) -> String? {
        var bytes: [UInt8] = []
        let fd = handle.fileDescriptor
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 100) > 0 else { continue }
            var b: UInt8 = 0
            guard Glibc.read(fd, &b, 1) == 1 else { return nil }
            if b == 0x0A { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(b)
        }
        return nil
    }
}

@Suite("vta-board-emu as a process, driven through vtactl --backend fpga")
struct EmulatorProcessTests {
    @Test("conformance programs: identical bytes on the emulated board and on the simulator's hardware profile",
          arguments: ["pynq", "de10nano"])
    func programsThroughTheCLI(board: String) throws {
        let dir = TemporaryDirectory("vta-emu")
        let devmem = dir.path + "/devmem"
        let emu = try EmulatorProcess(["--board", board, "--devmem", devmem, "--irq-fifo", dir.path + "/irq"], stderrPath: dir.path + "/emu.log")
        let programs = ["gemm_basic_3x4x5.json", "alu_imm_all.json", "conv3x3_small.json", "deps_pipelined_5.json", "load_acc_pad_direct_store.json"]
        for name in programs {
            let path = try SharedTestData.url("programs/" + name).path
            let fpga = try runTool("vtactl", ["run", path, "--backend", "fpga", "--board", board, "--devmem", devmem,
                                          "--irq-fifo", dir.path + "/irq", "--json", "--check"])
            #expect(fpga.status == 0, "\(name) on the board: \(fpga.err) \(emu.log)")
            let sim = try runTool("vtactl", ["run", path, "--backend", "sim", "--profile", "hardware", "--json"])
            #expect(sim.status == 0, "\(name) on the simulator: \(sim.err)")
            let a = try JSONValue.parse(fpga.out), b = try JSONValue.parse(sim.out)
            #expect(a["after"] == b["after"], "\(name): output buffers differ")
        }
        let info = try runTool("vtactl", ["board", "info", "--board", board, "--devmem", devmem])
        #expect(info.status == 0, "\(info.err)")
        #expect(info.out.contains(board == "de10nano" ? "chisel-vcr" : "xilinx-hls"))
        #expect(info.out.contains("self-test:  passed"))
        #expect(info.out.contains("carve-out"))
        let regs = try runTool("vtactl", ["board", "regs", "--board", board, "--devmem", devmem, "--json"])
        #expect(regs.status == 0, "\(regs.err)")
        let dump = try JSONValue.parse(regs.out)
        #expect((dump.arrayValue?.count ?? 0) >= 10)
        #expect(emu.stop() == 0, "vta-board-emu did not exit cleanly on SIGTERM: \(emu.log)")
    }

    @Test("vtactl matmul through the emulated board equals --backend sim --profile hardware, byte for byte")
    func matmulIdenticalBytes() throws {
        let dir = TemporaryDirectory("vta-mm")
        let devmem = dir.path + "/devmem"
        let emu = try EmulatorProcess(["--board", "pynq", "--devmem", devmem], stderrPath: dir.path + "/emu.log")
        for (file, shape) in [("a", "64,256"), ("b", "48,256")] {
            let r = try runTool("vtactl", ["npy", "random", "--shape", shape, "--dtype", "int8", "--seed", file == "a" ? "1" : "2", "--out", dir.path + "/\(file).npy"])
            #expect(r.status == 0, "\(r.err)")
        }
        let common = ["matmul", "--a", dir.path + "/a.npy", "--b", dir.path + "/b.npy", "--shift", "6", "--check"]
        let fpga = try runTool("vtactl", common + ["--out", dir.path + "/fpga.npy", "--backend", "fpga", "--board", "pynq", "--devmem", devmem])
        #expect(fpga.status == 0, "\(fpga.out) \(fpga.err) \(emu.log)")
        let sim = try runTool("vtactl", common + ["--out", dir.path + "/sim.npy", "--backend", "sim", "--profile", "hardware"])
        #expect(sim.status == 0, "\(sim.err)")
        let a = FileManager.default.contents(atPath: dir.path + "/fpga.npy"), b = FileManager.default.contents(atPath: dir.path + "/sim.npy")
        #expect(a != nil && a == b)
        #expect(emu.stop() == 0)
    }

    @Test("vtactl board descriptor writes a descriptor; --descriptor accepts it, and refuses another configuration key by key")
    func descriptorThroughCLI() throws {
        let dir = TemporaryDirectory("vta-desc")
        let devmem = dir.path + "/devmem"
        let emu = try EmulatorProcess(["--board", "pynq", "--devmem", devmem], stderrPath: dir.path + "/emu.log")
        for name in ["good", "other"] {
            try Data("bitstream \(name)".utf8).write(to: URL(fileURLWithPath: dir.path + "/\(name).bit.bin"))
        }
        let good = try runTool("vtactl", ["board", "descriptor", "--bitstream", dir.path + "/good.bit.bin", "--target", "pynq"])
        #expect(good.status == 0, "\(good.err)")
        let goodPath = good.out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(FileManager.default.fileExists(atPath: goodPath))
        // A descriptor for a 2x16 design (LOG_BATCH 1).
        guard case .object(let members) = try HardwareConfig.standard.retargeted("pynq").json else { Issue.record("no JSON object"); return }
        let otherConfig = JSONValue.object(members.map { $0.0 == "LOG_BATCH" ? ($0.0, .int(1)) : $0 })
        try otherConfig.serialized().write(toFile: dir.path + "/other.json", atomically: true, encoding: .utf8)
        let other = try runTool("vtactl", ["board", "descriptor", "--bitstream", dir.path + "/other.bit.bin", "--config", dir.path + "/other.json"])
        #expect(other.status == 0, "\(other.err)")
        let otherPath = other.out.trimmingCharacters(in: .whitespacesAndNewlines)

        let ok = try runTool("vtactl", ["board", "info", "--board", "pynq", "--devmem", devmem, "--descriptor", goodPath])
        #expect(ok.status == 0 && ok.out.contains("descriptor:"), "\(ok.out)\(ok.err)")
        let refused = try runTool("vtactl", ["board", "info", "--board", "pynq", "--devmem", devmem, "--descriptor", otherPath])
        #expect(refused.status != 0 && refused.err.contains("LOG_BATCH: expected 0, found 1"), "\(refused.err)")
        #expect(emu.stop() == 0)
    }

    @Test("bad arguments are refused with one clear line")
    func badArguments() throws {
        let r = try runTool("vta-board-emu", ["--board", "sim", "--devmem", "/tmp/x"])
        #expect(r.status != 0 && r.err.contains("unknown board"))
        let f = try runTool("vta-board-emu", ["--board", "pynq", "--devmem", "/tmp/x", "--fault", "melt"])
        #expect(f.status != 0 && f.err.contains("unknown fault"))
        let v = try runTool("vtactl", ["run", "/nonexistent.json", "--backend", "fpga", "--board", "pynq"])
        #expect(v.status != 0)
        // A devmem file nobody sized (no emulator on it) is an error, not a SIGBUS.
        let dir = TemporaryDirectory("vta-bad")
        _ = FileManager.default.createFile(atPath: dir.path + "/empty", contents: Data())
        let empty = try runTool("vtactl", ["board", "regs", "--board", "pynq", "--devmem", dir.path + "/empty"])
        #expect(empty.status == 1 && empty.err.contains("too small"), "\(empty.status) \(empty.err)")
        let noRegs = try runTool("vtactl", ["board", "info", "--board", "pynq"])
        #expect(noRegs.status != 0 && noRegs.err.contains("--uio"), "\(noRegs.err)")
        let missing = try runTool("vtactl", ["board", "info", "--board", "pynq", "--uio", "/dev/uio99"])
        #expect(missing.status != 0 && missing.err.contains("uio99"), "\(missing.err)")
    }
}
