import ArgumentParser
import VTA
import VTAHardware

/// `vtactl board program BITSTREAM [--overlay DTBO] [--board NAME]`: loads a bitstream through the
/// Linux FPGA manager and applies the design's device-tree overlay. Root only.
struct BoardProgramCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "program",
        abstract: "Load a bitstream into the FPGA and apply its device-tree overlay (root only).",
        discussion: """
            BITSTREAM is a Xilinx .bit (its header is checked against --board, stripped and \
            byte-swapped), a .bin/.bit.bin, or an Intel .rbf. It is staged in /lib/firmware/vta and \
            loaded through /sys/class/fpga_manager/fpga0 (linux-xlnx 'flags' and 'firmware' \
            attributes); the command fails unless the manager then reads 'operating'.

            A bare design name (no '/') that is not a file in the current directory is looked up as \
            /lib/firmware/vta/NAME.bit, .bit.bin, .bin or .rbf, with /lib/firmware/vta/NAME.dtbo as \
            the overlay when it exists: this is how vta-program@NAME.service calls it.

            A board descriptor NAME.vta.json beside the bitstream is checked (SHA-256, target) and \
            supplies the board when --board is not given. An overlay named 'vta' that is already \
            applied is removed before programming, so no driver holds the old design's devices. \
            The overlay goes through configfs (/sys/kernel/config/device-tree/overlays/vta) and must \
            read 'applied'. Everything is done under the lock /run/lock/vta-fpga.lock.

            Stop vtad first: reprogramming under a running daemon invalidates its mappings.
            """)

    @Argument(help: "The bitstream (.bit, .bin, .bit.bin, .rbf) or a design name staged in /lib/firmware/vta.")
    var bitstream: String

    @Option(name: .long, help: ArgumentHelp("Device-tree overlay (.dtbo) to apply after programming.", valueName: "DTBO"))
    var overlay: String?

    @Option(name: .long, help: ArgumentHelp("Board target whose FPGA part the bitstream must match "
        + "(pynq, ultra96, zcu104, de10nano); default: the descriptor's target.", valueName: "NAME"))
    var board: String?

    @Option(name: .long, help: .hidden)
    var root: String?

    @Option(name: .long, help: "Seconds to wait for the FPGA manager, the overlay and the lock.")
    var timeout: Int = 10

    func validate() throws {
        guard (1...3600).contains(timeout) else { throw ValidationError("--timeout must be 1 to 3600 seconds") }
    }

    func run() throws {
        let roots = root.map(SystemRoots.under) ?? .live
        let request = BoardProgramRequest(bitstream: bitstream, overlay: overlay, board: board,
                                          timeout: .seconds(timeout))
        do {
            let result = try BoardProgrammer(roots: roots).program(request)
            for line in result.lines { print(line) }
        } catch {
            throw CLIError(error.description)
        }
    }
}
