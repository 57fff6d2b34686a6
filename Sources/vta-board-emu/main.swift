import ArgumentParser
import Foundation
import VTA
import VTABoardEmulator
import VTAHardware

/// `vta-board-emu`: an emulated VTA board behind a file, for desktops and tests.
struct BoardEmu: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vta-board-emu",
        abstract: "Emulate a VTA board: registers and DMA memory in a file standing in for /dev/mem.",
        discussion: """
            Creates FILE (sparse, 4 GiB) or reuses it, puts the target's register windows at their
            physical addresses and a DMA carve-out at the target's carve-out address, prints one line
            `ready` on standard output once it watches the registers, and runs the simulator's
            hardware profile on every launch until SIGTERM. Point the driver at the same file:
              vtactl run PROGRAM --backend fpga --board pynq --devmem FILE
            PL resets written to the board's reset registers in FILE (Zynq-7000 SLCR, ZynqMP GPIO)
            abort a hung run. Faults: hang (one run never finishes until a PL reset), late (runs
            finish after --late-ms), dead (the board stops responding mid-run, for good).
            """,
        version: "0.1.0")

    @Option(help: "Board target: pynq, ultra96, zcu104 or de10nano.")
    var board: String

    @Option(help: "File standing in for /dev/mem (created if missing).")
    var devmem: String

    @Option(help: "VTA configuration file (TVM's vta_config.json format); default: the stock configuration.")
    var config: String?

    @Option(name: .customLong("irq-fifo"), help: "FIFO that receives a 4-byte interrupt count at every completion.")
    var irqFifo: String?

    @Option(help: "Inject a fault: hang, late or dead.")
    var fault: String?

    @Option(name: .customLong("fault-after"), help: "Good runs before the fault applies (default 0).")
    var faultAfter: Int = 0

    @Option(name: .customLong("late-ms"), help: "Delay of the late fault in milliseconds (default 1500).")
    var lateMilliseconds: Int = 1500

    @Option(name: .customLong("dma-base"), help: "DMA carve-out physical base (hex); default: the target's.")
    var dmaBase: String?

    @Option(name: .customLong("dma-size"), help: "DMA carve-out size in MiB; default: the target's (128, ZynqMP 256).")
    var dmaSizeMiB: Int?

    @Flag(help: "Do not log runs and faults on standard error.")
    var quiet = false

    func validate() throws {
        guard let t = TargetProfile.named(board), t.isBoard else {
            throw ValidationError("unknown board '\(board)': use pynq, ultra96, zcu104 or de10nano")
        }
        if let fault, BoardEmulator.Fault(rawValue: fault) == nil {
            throw ValidationError("unknown fault '\(fault)': use hang, late or dead")
        }
        if faultAfter < 0 { throw ValidationError("--fault-after must be >= 0") }
        if lateMilliseconds < 0 { throw ValidationError("--late-ms must be >= 0") }
        if let s = dmaSizeMiB, s <= 0 || s > 1024 { throw ValidationError("--dma-size must be 1...1024 MiB") }
        if let b = dmaBase, SysfsAttribute.parseHex(b) == nil { throw ValidationError("--dma-base must be a hex address") }
    }

    func run() throws {
        let target = TargetProfile.named(board)!
        var hardware = HardwareConfig.standard
        if let path = config {
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read configuration file \(path)") }
            do { hardware = try HardwareConfig(json: try JSONValue.parse(bytes: [UInt8](data))) } catch {
                throw ValidationError("\(path): \(error)")
            }
        }
        let quiet = self.quiet
        let options = BoardEmulator.Options(
            config: hardware, target: target, devmemPath: devmem, irqFifo: irqFifo,
            fault: fault.flatMap(BoardEmulator.Fault.init(rawValue:)), faultAfter: faultAfter,
            lateBy: .milliseconds(lateMilliseconds), dmaBase: dmaBase.flatMap(SysfsAttribute.parseHex),
            dmaBytes: dmaSizeMiB.map { $0 << 20 })
        // Block the termination signals before any thread exists, then wait for them here.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        let emulator: BoardEmulator
        do {
            emulator = try BoardEmulator(options: options) { line in
                if !quiet { FileHandle.standardError.write(Data(("vta-board-emu: " + line + "\n").utf8)) }
            }
        } catch {
            FileHandle.standardError.write(Data(("vta-board-emu: \(error)\n").utf8))
            throw ExitCode(1)
        }
        emulator.start()
        // One line on stdout, written unbuffered, so a parent reading the pipe sees it at once.
        _ = "ready\n".withCString { write(STDOUT_FILENO, $0, 6) }
        var received: Int32 = 0
        sigwait(&signals, &received)
        emulator.stop()
        if !quiet {
            FileHandle.standardError.write(Data("vta-board-emu: stopped after \(emulator.runs) runs, \(emulator.resetCount) resets\n".utf8))
        }
    }
}

BoardEmu.main()
