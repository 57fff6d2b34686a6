/// Device-visible, physically contiguous memory that both the CPU and VTA's DMA engines reach.
///
/// Every backend (simulator, board, daemon client) implements this; the command queue and user
/// code see only this protocol.
public protocol DMABuffer: AnyObject, Sendable {
    /// Where the CPU reads and writes the buffer.
    var hostAddress: UnsafeMutableRawPointer { get }
    /// The address VTA uses (a physical address on a board, a model address in the simulator).
    var deviceAddress: UInt64 { get }
    /// Usable bytes.
    var size: Int { get }
    /// Alignment of `deviceAddress` in bytes.
    var alignment: Int { get }
    /// Whether CPU caches are coherent with the device for this buffer (no maintenance needed).
    var isCoherent: Bool { get }
    /// A name for error messages and status output.
    var label: String { get }

    /// Makes CPU writes in the range visible to the device (clean caches). No-op when coherent.
    func flush(offset: Int, length: Int) throws(DeviceError)
    /// Makes device writes in the range visible to the CPU (invalidate caches). No-op when coherent.
    func invalidate(offset: Int, length: Int) throws(DeviceError)
}

extension DMABuffer {
    /// Flushes the whole buffer.
    public func flush() throws(DeviceError) { try flush(offset: 0, length: size) }
    /// Invalidates the whole buffer.
    public func invalidate() throws(DeviceError) { try invalidate(offset: 0, length: size) }

    /// Copies bytes into the buffer at `offset` and flushes them.
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int = 0) throws(DeviceError) {
        guard offset >= 0, offset <= size, bytes.count <= size - offset else {
            throw .outOfBounds(buffer: label, offset: offset, length: bytes.count, size: size)
        }
        if let base = bytes.baseAddress, bytes.count > 0 {
            (hostAddress + offset).copyMemory(from: base, byteCount: bytes.count)
        }
        try flush(offset: offset, length: bytes.count)
    }

    /// Copies an array of plain values into the buffer at `offset` (bytes) and flushes.
    public func write<T: BitwiseCopyable>(_ values: [T], at offset: Int = 0) throws(DeviceError) {
        let result: Result<Void, DeviceError> = values.withUnsafeBytes { raw in
            do throws(DeviceError) { try write(raw, at: offset); return .success(()) } catch { return .failure(error) }
        }
        try result.get()
    }

    /// Invalidates and reads `count` values of `T` from byte `offset`.
    public func read<T: BitwiseCopyable>(_ type: T.Type, count: Int, at offset: Int = 0) throws(DeviceError) -> [T] {
        let bytes = count * MemoryLayout<T>.stride
        guard count >= 0, offset >= 0, offset <= size, bytes <= size - offset else {
            throw .outOfBounds(buffer: label, offset: offset, length: bytes, size: size)
        }
        try invalidate(offset: offset, length: bytes)
        return [T](unsafeUninitializedCapacity: count) { out, initialized in
            UnsafeMutableRawPointer(out.baseAddress!).copyMemory(from: hostAddress + offset, byteCount: bytes)
            initialized = count
        }
    }
}

/// An accelerator that runs VTA instruction streams: the simulator, a board, or the daemon.
///
/// Implementations serialise `run` internally; `allocate` and `free` may be called from any
/// thread. A run blocks the calling thread until the stream finishes or the timeout passes, so
/// async code should call it from a dedicated thread or executor, never the cooperative pool.
public protocol Device: AnyObject, Sendable {
    /// The hardware configuration the device implements.
    var config: HardwareConfig { get }
    /// A short description (`simulator (fsim)`, `pynq at /dev/uio0`, `vtad at /run/vta.sock`).
    var name: String { get }

    /// Allocates device-visible memory.
    /// - Throws: `DeviceError.allocationFailed` saying how much was asked and what is free.
    func allocate(bytes: Int, alignment: Int, label: String) throws(DeviceError) -> any DMABuffer
    /// Returns memory to the device. Using the buffer afterwards is a programming error.
    func free(_ buffer: any DMABuffer) throws(DeviceError)
    /// Runs `count` instructions at device address `address` and waits for FINISH.
    /// - Throws: `DeviceError.timeout` if FINISH is not seen in time, `DeviceError.runFailed`
    ///   for a program the device rejected or that could not complete.
    func run(instructionsAt address: UInt64, count: Int, timeout: Duration) throws(DeviceError) -> RunReport
}

extension Device {
    /// Allocates with the default alignment (one 4 KiB page, which every element size divides).
    public func allocate(bytes: Int, label: String = "buffer") throws(DeviceError) -> any DMABuffer {
        try allocate(bytes: bytes, alignment: 4096, label: label)
    }
}

/// Why a device operation failed. Every case says what and where.
public enum DeviceError: Error, Sendable, CustomStringConvertible {
    /// An allocation could not be satisfied.
    case allocationFailed(requested: Int, largestFree: Int?, poolSize: Int?, hint: String)
    /// A buffer that this device did not allocate, or that was already freed.
    case unknownBuffer(String)
    /// An access outside a buffer.
    case outOfBounds(buffer: String, offset: Int, length: Int, size: Int)
    /// The device rejected the program or could not complete it (deadlock, bad DMA, ...).
    case runFailed(String)
    /// FINISH was not observed in time. `detail` carries backend state (e.g. a register dump).
    case timeout(waited: Duration, detail: String)
    /// The device is not usable (unplugged, failed self-test, daemon gone...).
    case unavailable(String)
    /// Cache maintenance failed.
    case cacheMaintenance(String)

    public var description: String {
        switch self {
        case let .allocationFailed(requested, largest, pool, hint):
            var s = requested > 0 ? "cannot allocate \(requested) bytes of DMA memory" : "cannot allocate DMA memory"
            if let largest { s += "; largest free block \(largest) bytes" }
            if let pool { s += " of a \(pool)-byte pool" }
            return hint.isEmpty ? s : s + ". " + hint
        case .unknownBuffer(let b):
            return "buffer \(b) does not belong to this device (or was already freed)"
        case let .outOfBounds(buffer, offset, length, size):
            return "access of \(length) bytes at offset \(offset) is outside buffer \(buffer) (\(size) bytes)"
        case .runFailed(let why):
            return "run failed: \(why)"
        case let .timeout(waited, detail):
            return "timed out after \(waited) waiting for FINISH" + (detail.isEmpty ? "" : "; \(detail)")
        case .unavailable(let why):
            return "device unavailable: \(why)"
        case .cacheMaintenance(let why):
            return "cache maintenance failed: \(why)"
        }
    }
}
