/// Why loading a bitstream or a device-tree overlay failed. Each message says what was wrong,
/// which file or attribute, and what to do.
public enum BoardLifecycleError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidBitstream(path: String, reason: String)
    case partMismatch(path: String, bitstreamPart: String, board: String, boardPart: String)
    case unknownBoard(name: String, known: [String])
    case boardMismatch(descriptor: String, descriptorTarget: String, board: String)
    case descriptor(BoardDescriptorError)
    case noFPGAManager(classDirectory: String)
    case noFirmwareAttribute(manager: String)
    case notPermitted(path: String, uid: UInt32, action: String)
    case lockBusy(path: String, waited: Duration)
    case lockFailed(path: String, reason: String)
    case stagingFailed(path: String, reason: String)
    case writeFailed(path: String, reason: String)
    case programmingFailed(manager: String, state: String, status: String, detail: String)
    case configfsNotMounted(path: String)
    case noOverlaySupport(path: String)
    case invalidOverlay(path: String, reason: String)
    case invalidOverlayName(String)
    case overlayExists(name: String, path: String)
    case overlayNotApplied(name: String, path: String, status: String)
    case overlayRemovalFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidBitstream(let path, let reason):
            return "bitstream \(path): \(reason)"
        case .partMismatch(let path, let bitstreamPart, let board, let boardPart):
            return "bitstream \(path) was built for \(bitstreamPart) (\(FPGAPart.device(bitstreamPart))), but board "
                + "\(board) has \(boardPart) (\(FPGAPart.device(boardPart))): refusing to load it; "
                + "use a bitstream built for this board or pass the right --board"
        case .unknownBoard(let name, let known):
            return "unknown board \"\(name)\"; known boards: \(known.joined(separator: ", "))"
        case .boardMismatch(let descriptor, let descriptorTarget, let board):
            return "board descriptor \(descriptor) is for target \(descriptorTarget), but --board is \(board)"
        case .descriptor(let error):
            return error.description
        case .noFPGAManager(let dir):
            return "no FPGA manager in \(dir): this kernel has no FPGA manager driver for the board "
                + "(zynq/zynqmp/socfpga fpga manager not loaded?)"
        case .noFirmwareAttribute(let manager):
            return "FPGA manager \(manager) has no 'firmware' attribute (a mainline kernel): load the bitstream "
                + "with a device-tree overlay that sets firmware-name on the FPGA region instead"
        case .notPermitted(let path, let uid, let action):
            return "not permitted to write \(path) (running as uid \(uid)): \(action) needs root; run it with sudo "
                + "or through vta-program@.service"
        case .lockBusy(let path, let waited):
            return "another process holds \(path) (a bitstream load or reconfiguration in progress?); "
                + "gave up after \(waited)"
        case .lockFailed(let path, let reason):
            return "cannot take the FPGA lock \(path): \(reason)"
        case .stagingFailed(let path, let reason):
            return "cannot stage the bitstream as \(path): \(reason)"
        case .writeFailed(let path, let reason):
            return "writing \(path) failed: \(reason)"
        case .programmingFailed(let manager, let state, let status, let detail):
            let statusText = status.isEmpty ? "" : ", status \"\(status)\""
            return "FPGA manager \(manager) did not reach 'operating': state \"\(state)\"\(statusText)\(detail.isEmpty ? "" : "; \(detail)")"
                + "; check that the bitstream is for this part and see dmesg"
        case .configfsNotMounted(let path):
            return "configfs is not mounted at \(path): mount it with `mount -t configfs none \(path)`"
        case .noOverlaySupport(let path):
            return "configfs at \(path) has no device-tree/overlays directory: the kernel lacks overlay support in "
                + "configfs (linux-xlnx CONFIG_OF_CONFIGFS, or load the dtbocfg module)"
        case .invalidOverlay(let path, let reason):
            return "overlay \(path): \(reason)"
        case .invalidOverlayName(let name):
            return "invalid overlay name \"\(name)\": use letters, digits, '-', '_' or '.'"
        case .overlayExists(let name, let path):
            return "an overlay named \(name) is already applied (\(path)): remove it first"
        case .overlayNotApplied(let name, let path, let status):
            return "overlay \(name) was not applied: \(path)/status reads \"\(status)\"; check that its target "
                + "labels exist in the base device tree (__symbols__) and see dmesg"
        case .overlayRemovalFailed(let path, let reason):
            return "cannot remove overlay \(path): \(reason)"
        }
    }
}
