import ArgumentParser
import Foundation
import VTA
import VTAHardware

/// `--board --devmem --uio --irq --irq-fifo --dma ...`: how to reach a board, shared by every
/// command that takes `--backend fpga` and by `vtactl board`.
struct BoardOptionGroup: ParsableArguments {
    @Option(name: .long, help: "Board target: pynq, ultra96, zcu104 or de10nano (default: the configuration's TARGET).")
    var board: String?

    @Option(name: .long, help: "Map registers (and the DMA carve-out) from this file: /dev/mem on a board (root), or the file of vta-board-emu.")
    var devmem: String?

    @Option(name: .long, help: "Map registers from this UIO device (e.g. /dev/uio0); see `vtactl board info` for the right one.")
    var uio: String?

    @Flag(name: .long, help: "Wait for the UIO interrupt instead of polling (needs --uio and an interrupt in the overlay).")
    var irq = false

    @Option(name: .customLong("irq-fifo"), help: "Wait on this FIFO for completion interrupts (vta-board-emu --irq-fifo).")
    var irqFifo: String?

    @Option(name: .long, help: "DMA memory: auto, carve-out, udmabuf[:NAME] or zocl (default auto).")
    var dma: String = "auto"

    @Option(name: .customLong("dma-base"), help: "Carve-out physical base (hex; default: the target's).")
    var dmaBase: String?

    @Option(name: .customLong("dma-size"), help: "Carve-out size in MiB (default: the target's).")
    var dmaSizeMiB: Int?

    @Flag(name: .customLong("no-selftest"), help: "Skip the power-on self-test when opening the board.")
    var noSelfTest = false

    @Option(name: .long, help: "Board descriptor of the loaded bitstream (NAME.vta.json): refuse a configuration mismatch.")
    var descriptor: String?

    @Option(name: .long, help: "Bitstream to reload through the FPGA manager if recovery needs it (root).")
    var bitstream: String?

    @Option(name: .customLong("sysfs-root"), help: ArgumentHelp("Prefix of /sys, /dev and /run (fake trees in tests).", visibility: .hidden))
    var root: String?

    /// The system roots (a fake tree in tests).
    var roots: SystemRoots { root.map(SystemRoots.under) ?? .live }

    /// The target: --board, else the configuration's.
    func target(for config: HardwareConfig) throws -> TargetProfile {
        if let board {
            guard let t = TargetProfile.named(board), t.isBoard else {
                throw CLIError("unknown board '\(board)': use pynq, ultra96, zcu104 or de10nano")
            }
            return t
        }
        guard config.targetProfile.isBoard else {
            throw CLIError("the configuration's target \(config.targetProfile.name) is not a board: give --board pynq|ultra96|zcu104|de10nano")
        }
        return config.targetProfile
    }

    /// The options for `FPGADevice`.
    func boardOptions(config: HardwareConfig) throws -> BoardOptions {
        let target = try target(for: config)
        let registers: BoardOptions.Registers
        switch (devmem, uio) {
        case (let d?, nil): registers = .devMem(path: d)
        case (nil, let u?): registers = .uio(devnode: u)
        case (nil, nil):
            // Find the accelerator the way the daemon does: by name, compatible and address.
            let report = BoardDiscovery.discover(target: target, roots: roots)
            guard let devnode = report.acceptedUIO?.devnode else {
                throw CLIError("no VTA UIO device for \(target.name) found (give --uio /dev/uioN or --devmem PATH):\n" + report.text)
            }
            registers = .uio(devnode: devnode)
        default: throw CLIError("give either --uio or --devmem, not both")
        }
        let memory: BoardOptions.Memory
        let parts = dma.split(separator: ":", maxSplits: 1).map(String.init)
        switch parts.first ?? "auto" {
        case "auto": memory = .auto
        case "carve-out":
            var base: UInt64?
            if let dmaBase {
                guard let b = SysfsAttribute.parseHex(dmaBase) else { throw CLIError("--dma-base must be a hex address, not \(dmaBase)") }
                base = b
            }
            memory = .carveOut(path: nil, base: base, bytes: dmaSizeMiB.map { $0 << 20 })
        case "udmabuf", "u-dma-buf": memory = .udmabuf(name: parts.count > 1 ? parts[1] : nil)
        case "zocl": memory = .zocl
        default: throw CLIError("unknown --dma '\(dma)': use auto, carve-out, udmabuf[:NAME] or zocl")
        }
        if case .auto = memory, dmaBase != nil || dmaSizeMiB != nil {
            return try withCarveOut(config: config, target: target, registers: registers)
        }
        let completion: BoardOptions.Completion
        switch (irq, irqFifo) {
        case (true, nil): completion = .uioInterrupt
        case (false, let f?): completion = .fifo(path: f)
        case (false, nil): completion = .poll
        default: throw CLIError("give either --irq or --irq-fifo, not both")
        }
        var options = BoardOptions(config: config, board: target, registers: registers, memory: memory, completion: completion,
                                   roots: roots, selfTest: !noSelfTest)
        options.descriptorPath = descriptor
        options.bitstreamPath = bitstream
        return options
    }

    private func withCarveOut(config: HardwareConfig, target: TargetProfile, registers: BoardOptions.Registers) throws -> BoardOptions {
        var copy = self
        copy.dma = "carve-out"
        return try copy.boardOptions(config: config)
    }

    /// Opens the board.
    func open(config: HardwareConfig) throws -> FPGADevice {
        let options = try boardOptions(config: config)
        do { return try FPGADevice(options: options) } catch { throw CLIError(error.description) }
    }
}
