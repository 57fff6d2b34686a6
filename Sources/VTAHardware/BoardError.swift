import Glibc
import VTA

/// Why opening or driving a board failed. Every case names the file, register or buffer involved
/// and, where there is one, what to do about it.
public enum BoardError: Error, Sendable, CustomStringConvertible, Equatable {
    /// A device node or file could not be opened or mapped.
    case open(path: String, operation: String, errno: Int32, hint: String)
    /// A sysfs attribute is missing or malformed.
    case sysfs(path: String, problem: String)
    /// A register access outside the mapped windows.
    case registerOutOfRange(address: UInt64, windows: String)
    /// The options do not describe a usable board.
    case invalidOptions(String)
    /// The device's memory cannot be used by this accelerator (address width, DMA window).
    case unreachableMemory(String)
    /// The board descriptor or self-test says the bitstream is not what the runtime expects.
    case mismatch(String)
    /// Recovery was needed and could not be done.
    case recoveryFailed(String)

    public var description: String {
        switch self {
        case let .open(path, operation, err, hint):
            let text = "\(operation) \(path) failed: \(String(cString: strerror(err))) (errno \(err))"
            return hint.isEmpty ? text : text + ". " + hint
        case let .sysfs(path, problem): return "\(path): \(problem)"
        case let .registerOutOfRange(address, windows):
            return "register 0x\(String(address, radix: 16)) is outside the mapped windows (\(windows))"
        case .invalidOptions(let why): return why
        case .unreachableMemory(let why): return why
        case .mismatch(let why): return why
        case .recoveryFailed(let why): return "recovery failed: \(why)"
        }
    }

    /// Advice for an `open` failure, by errno.
    static func openHint(_ path: String, _ err: Int32) -> String {
        switch err {
        case EACCES, EPERM:
            if path.hasSuffix("/dev/mem") { return "/dev/mem needs root (CAP_SYS_RAWIO); use the UIO device with the vta udev rules instead" }
            return "add the user to group vta and install kernel-interface/udev/60-vta.rules"
        case ENOENT: return "the device is not there: is the bitstream loaded and the overlay applied? (vtactl board info)"
        default: return ""
        }
    }
}

extension DeviceError {
    /// Wraps a board error for the `Device` protocol.
    static func board(_ e: BoardError) -> DeviceError { .unavailable(e.description) }
}
