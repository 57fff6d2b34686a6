import Foundation
import Testing
import VTA
import VTABoardEmulator
import VTAHardware
import VTAHardwareTestSupport
import VTARuntime
import VTATestSupport

/// A fake Pynq-Z2 tree (sysfs, /dev) whose UIO device file and u-dma-buf node are the emulated
/// board's register file and DMA memory: discovery, UIO maps, u-dma-buf and the emulator all in
/// one path, as on a board.
private final class DiscoveredPynq {
    let dir = TemporaryDirectory("vta-disc")
    let tree: FakeBoardTree
    let emulator: BoardEmulator
    var root: String { dir.path }
    var devmem: String { dir.path + "/devmem" }

    init(variants: Set<FakeBoardTree.Variant> = [], fault: BoardEmulator.Fault? = nil, faultAfter: Int = 0) throws {
        tree = try FakeBoardTree.pynqZ2(at: dir.path, variants: variants)
        emulator = try BoardEmulator(options: .init(config: .standard, target: .pynq, devmemPath: dir.path + "/devmem", fault: fault,
                                                    faultAfter: faultAfter, dmaBase: 0x1800_0000, dmaBytes: 64 << 20,
                                                    uioRegisterFile: dir.path + "/dev/uio0", dmaFile: dir.path + "/dev/vta-dma"))
        emulator.start()
    }
    deinit { emulator.stop() }

    func options() throws -> BoardOptions {
        let report = BoardDiscovery.discover(target: .pynq, roots: tree.roots)
        let devnode = try #require(report.acceptedUIO?.devnode, "discovery found no VTA: \(report.text)")
        var o = BoardOptions(config: .standard, board: .pynq, registers: .uio(devnode: devnode), memory: .auto, roots: tree.roots)
        o.resetPath = devmem  // the PL reset goes through "/dev/mem": the emulator's file
        return o
    }
}

@Suite("Discovered board: fake Pynq-Z2 tree + emulated board")
struct DiscoveredBoardTests {
    @Test("discovery finds the UIO device, .auto memory takes the u-dma-buf pool, and programs run bit-exactly")
    func endToEnd() throws {
        let board = try DiscoveredPynq()
        let device = try FPGADevice(options: try board.options())
        #expect(device.pool.backend.kind == "u-dma-buf")
        let program = try ProgramFile(json: try SharedTestData.json("programs/conv3x3_small.json"))
        let outcome = try ProgramExecution.run(program, on: device, hardwareExpectations: true)
        #expect(outcome.mismatches.isEmpty, "\(outcome.mismatches)")
        #expect(board.emulator.runs >= 3)
    }

    @Test("vtactl finds the board by itself and board info shows discovery, allocator and self-test")
    func cliWithoutUIO() throws {
        let board = try DiscoveredPynq()
        let path = try SharedTestData.url("programs/gemm_basic_3x4x5.json").path
        let run = try runTool("vtactl", ["run", path, "--backend", "fpga", "--board", "pynq", "--sysfs-root", board.root, "--check"])
        #expect(run.status == 0, "\(run.out)\(run.err)")
        let info = try runTool("vtactl", ["board", "info", "--board", "pynq", "--sysfs-root", board.root])
        #expect(info.status == 0, "\(info.err)")
        #expect(info.out.contains("u-dma-buf") && info.out.contains("uio0") && info.out.contains("self-test:  passed"), "\(info.out)")
    }

    @Test("a stale overlay is not taken, and the reason is shown")
    func staleOverlay() throws {
        let dir = TemporaryDirectory("vta-stale")
        _ = try FakeBoardTree.pynqZ2(at: dir.path, variants: [.staleOverlay])
        let info = try runTool("vtactl", ["board", "info", "--board", "pynq", "--sysfs-root", dir.path])
        #expect(info.status != 0)
        #expect((info.out + info.err).contains("0x80000000") && (info.out + info.err).contains("stale"), "\(info.out)\(info.err)")
    }

    @Test("a hang on a UIO board: PL reset, rediscovery, self-test, and the next job is correct")
    func hangRecoveryWithRediscovery() throws {
        let board = try DiscoveredPynq(fault: .hang, faultAfter: 2)
        let device = try FPGADevice(options: try board.options())
        let program = try ProgramFile(json: try SharedTestData.json("programs/alu_imm_all.json"))
        #expect(throws: RuntimeError.self) { _ = try ProgramExecution.run(program, on: device, hardwareExpectations: true, timeout: .milliseconds(300)) }
        #expect(board.emulator.resetCount == 1)
        #expect(device.unusableReason == nil)
        let outcome = try ProgramExecution.run(program, on: device, hardwareExpectations: true)
        #expect(outcome.mismatches.isEmpty)
    }

    @Test("the descriptor handshake refuses a bitstream built for another configuration, key by key")
    func descriptorMismatch() throws {
        let board = try DiscoveredPynq()
        let dir = board.dir.path
        // The loaded bitstream is a 2x16 design; the runtime expects the stock 1x16 one.
        guard case .object(let members) = HardwareConfig.standard.json else { Issue.record("config JSON is not an object"); return }
        let other = try HardwareConfig(json: .object(members.map { $0.0 == "LOG_BATCH" ? ($0.0, .int(1)) : $0 }))
        #expect(other.batch == 2)
        let bitstream = dir + "/vta.bit.bin"
        try Data([1, 2, 3, 4]).write(to: URL(fileURLWithPath: bitstream))
        try BoardDescriptor(config: try other.retargeted("pynq"), bitstream: "vta.bit.bin", bitstreamSHA256: SHA256.hex([1, 2, 3, 4]))
            .write(to: dir + "/vta.vta.json")
        var options = try board.options()
        options.descriptorPath = dir + "/vta.vta.json"
        do {
            _ = try FPGADevice(options: options)
            Issue.record("a mismatching bitstream was accepted")
        } catch {
            #expect(error.description.contains("LOG_BATCH: expected 0, found 1"), "\(error)")
        }
        // The matching descriptor opens.
        try BoardDescriptor(config: try HardwareConfig.standard.retargeted("pynq"), bitstream: "vta.bit.bin", bitstreamSHA256: SHA256.hex([1, 2, 3, 4]))
            .write(to: dir + "/good.vta.json")
        options.descriptorPath = dir + "/good.vta.json"
        _ = try FPGADevice(options: options)
    }
}

@Suite("Recovery by reloading the bitstream")
struct ReloadRecoveryTests {
    @Test("a board without a PL reset (de10nano) recovers a hang by reloading its bitstream through the FPGA manager")
    func reloadRecovery() throws {
        let dir = TemporaryDirectory("vta-reload")
        let tree = try FakeBoardTree.pynqZ2(at: dir.path)  // for its FPGA manager, lock and firmware directories
        let kernel = try FakeKernel(tree: tree)
        defer { kernel.stop() }
        let manager = tree.fpgaManagerPath("fpga0")
        let emulator = try BoardEmulator(options: .init(config: .standard, target: .de10nano, devmemPath: dir.path + "/devmem",
                                                        fault: .hang, faultAfter: 2, fpgaManagerDir: manager))
        emulator.start()
        defer { emulator.stop() }
        let bitstream = dir.path + "/vta.rbf"
        try Data(repeating: 0x5A, count: 4096).write(to: URL(fileURLWithPath: bitstream))
        var options = BoardOptions(config: .standard, board: .de10nano, registers: .devMem(path: dir.path + "/devmem"),
                                   memory: .carveOut(path: nil, base: nil, bytes: nil), roots: tree.roots)
        options.bitstreamPath = bitstream
        let device = try FPGADevice(options: options)
        let program = try ProgramFile(json: try SharedTestData.json("programs/gemm_basic_3x4x5.json"))
        do {
            _ = try ProgramExecution.run(program, on: device, hardwareExpectations: true, timeout: .milliseconds(300))
            Issue.record("the hung job returned")
        } catch {
            let text = "\(error)"
            #expect(text.contains("has no PL reset") && text.contains("reloaded through the FPGA manager") && text.contains("usable again"), "\(text)")
        }
        #expect(kernel.loadedImages.withLock { $0.keys.contains { $0.hasSuffix("vta.rbf") } })
        #expect(emulator.resetCount == 1)
        let outcome = try ProgramExecution.run(program, on: device, hardwareExpectations: true)
        #expect(outcome.mismatches.isEmpty)
    }
}
