import Testing
import VTA
import VTABoardEmulator

@Suite("On the emulated board (C, VTA_BACKEND=fpga)")
struct LibVTABoardTests {
    @Test("driver and runtime programs run on FPGADevice through the board's registers and DMA memory", arguments: ["pynq", "de10nano"])
    func driverAndRuntime(board: String) throws {
        let workspace = try CWorkspace()
        defer { workspace.remove() }
        let driver = try workspace.compile("driver_test.c")
        let runtime = try workspace.compile("runtime_test.c")
        let devmem = workspace.dir + "/devmem"
        let emulator = try BoardEmulator(options: .init(config: .standard, target: TargetProfile.named(board)!, devmemPath: devmem,
                                                        irqFifo: workspace.dir + "/irq"))
        emulator.start()
        defer { emulator.stop() }
        let env = ["VTA_BACKEND": "fpga", "VTA_BOARD": board, "VTA_DEVMEM": devmem, "VTA_IRQ_FIFO": workspace.dir + "/irq"]
        let before = emulator.runs
        let d = try workspace.execute(driver, ["gemm", "alu", "blocked"], environment: env)
        expectDriverTestPassed(d, names: Array(driverTestNames.dropLast()))  // all but the threads case
        let r = try workspace.execute(runtime, [], environment: env)
        #expect(r.status == 0 && r.stdout.contains("PASS runtime blocked gemm"), "\(r)")
        #expect(r.libvtaErrors.isEmpty, "\(r.libvtaErrors)")
        // The work really went through the emulated board's registers.
        #expect(emulator.runs - before >= 22)
    }
}
