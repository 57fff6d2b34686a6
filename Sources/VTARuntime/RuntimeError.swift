import VTA

/// Why a runtime call was refused. Every case names what was wrong (which buffer, which field,
/// which stage) so the caller can fix the call.
public enum RuntimeError: Error, Sendable, CustomStringConvertible {
    /// A device operation failed.
    case device(DeviceError)
    /// An instruction field did not fit this configuration.
    case encoding(ISAError)
    /// An argument is out of range.
    case invalidArgument(String)
    /// A DMA transfer would leave its buffer.
    case bufferRange(buffer: String, operation: String, firstByte: Int, endByte: Int, size: Int)
    /// An SRAM range would leave its memory.
    case sramRange(memory: String, operation: String, first: Int, end: Int, depth: Int)
    /// A buffer's device address is not a multiple of the element size.
    case misaligned(buffer: String, address: UInt64, elementBytes: Int)
    /// A dependency call that VTA cannot express.
    case invalidDependency(from: Stage, to: Stage, reason: String)
    /// A micro-op kernel broke a recording rule.
    case kernel(String)
    /// The queue is unusable because an earlier synchronisation failed; call `reset()`.
    case queueFailed(previous: String)
    /// The synchronisation did not finish in time.
    case timeout(String)
    /// A backend was asked for that this build or machine cannot provide.
    case backendUnavailable(String)

    public var description: String {
        switch self {
        case .device(let e): return e.description
        case .encoding(let e): return "instruction encoding: \(e.description)"
        case .invalidArgument(let s): return s
        case let .bufferRange(b, op, first, end, size):
            return "\(op) reads or writes bytes \(first)..<\(end) of buffer \(b), which has \(size) bytes"
        case let .sramRange(m, op, first, end, depth):
            return "\(op) uses \(m) SRAM entries \(first)..<\(end), but \(m) holds \(depth)"
        case let .misaligned(b, a, e):
            return "buffer \(b) at 0x\(String(a, radix: 16)) is not aligned to the \(e)-byte element size"
        case let .invalidDependency(f, t, r):
            return "dependency \(f) -> \(t): \(r)"
        case .kernel(let s): return "micro-op kernel: \(s)"
        case .queueFailed(let p): return "the command queue failed earlier (\(p)); call reset() before queueing more work"
        case .timeout(let s): return s
        case .backendUnavailable(let s): return s
        }
    }
}

/// VTA's pipeline stages as the runtime's dependency calls name them (queue ids 1, 2, 3).
public enum Stage: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case load = 1, compute = 2, store = 3
    public var description: String {
        switch self {
        case .load: "load"
        case .compute: "compute"
        case .store: "store"
        }
    }
}
